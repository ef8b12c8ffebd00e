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

#include "cx_worker.h"

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
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_nodb", "cxn_main", "cxn worker", "cxn");
}
