/*
 * cx_nodb.c -- the database part of a typical worker (compare
 * src/test/modules/worker_spi): it works without a database until it
 * reaches SPI, which under bgworkerd ends it with a FATAL saying why.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/snapmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxn_main(Datum main_arg);

void
cxn_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxn before the database part");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_execute("SELECT 1", true, 1);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	elog(LOG, "cxn not reached");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_nodb");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxn_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxn worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxn");
	RegisterBackgroundWorker(&worker);
}
