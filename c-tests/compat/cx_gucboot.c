/*
 * cx_gucboot.c -- string settings whose C variables start out pointing at
 * string literals, as many extensions write them.  Defining them must not
 * free the literal (PostgreSQL never frees a value it did not allocate);
 * later assignments replace only values the settings code allocated.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxb_main(Datum main_arg);

static char *cxb_greeting = "literal greeting";
static char *cxb_target = "literal target";

void
cxb_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxb worker: greeting=%s target=%s", cxb_greeting, cxb_target);
	SetConfigOption("cxb.greeting", "set by the worker", PGC_SIGHUP, PGC_S_FILE);
	SetConfigOption("cxb.greeting", "set again", PGC_SIGHUP, PGC_S_FILE);
	elog(LOG, "cxb worker after SetConfigOption: greeting=%s", cxb_greeting);
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("cxb.greeting", "Greeting.", NULL, &cxb_greeting,
							   "boot greeting", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("cxb.target", "Target.", NULL, &cxb_target,
							   "boot target", PGC_SIGHUP, 0, NULL, NULL, NULL);
	elog(LOG, "cxb _PG_init: greeting=%s target=%s", cxb_greeting, cxb_target);

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_gucboot");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxb_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxb worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxb");
	RegisterBackgroundWorker(&worker);
}
