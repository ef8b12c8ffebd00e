/*
 * cx_register.c -- ERRORs raised by the bgworker.h functions themselves,
 * as module code meets them: RegisterDynamicBackgroundWorker with an
 * invalid definition raises PostgreSQL's ERROR, which the module's PG_TRY
 * catches (message and SQLSTATE as PostgreSQL's), and which, uncaught,
 * ends the worker through its outermost handler with status 1.
 *
 * One static worker, type "cxr", never restarted:
 *   1. an invalid dynamic registration inside PG_TRY: caught and logged;
 *   2. a valid one after it: the worker goes on normally;
 *   3. the same invalid registration outside PG_TRY: the worker ends.
 * The valid dynamic worker (type "cxr child") logs one line and returns.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/elog.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxr_main(Datum main_arg);
PGDLLEXPORT void cxr_child(Datum main_arg);

static void
cxr_exit_callback(int code, Datum arg)
{
	(void) arg;
	elog(LOG, "cxr exit callback: code %d", code);
}

static void
cxr_define(BackgroundWorker *w, const char *name, const char *type,
		   const char *function, int restart)
{
	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = restart;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "cx_register");
	snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(w->bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(w->bgw_type, BGW_MAXLEN, "%s", type);
}

void
cxr_child(Datum main_arg)
{
	elog(LOG, "cxr child ran with arg %d", DatumGetInt32(main_arg));
}

void
cxr_main(Datum main_arg)
{
	BackgroundWorker bad;
	BackgroundWorker good;
	BackgroundWorkerHandle *handle = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		ok;

	(void) main_arg;
	on_proc_exit(cxr_exit_callback, (Datum) 0);
	BackgroundWorkerUnblockSignals();

	cxr_define(&bad, "cxr bad", "cxr bad", "cxr_child", -7);
	PG_TRY();
	{
		RegisterDynamicBackgroundWorker(&bad, &handle);
		elog(LOG, "cxr not reached");
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "cxr caught: \"%s\" sqlstate %s elevel %d",
			 edata->message, unpack_sql_state(edata->sqlerrcode), edata->elevel);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	cxr_define(&good, "cxr child", "cxr child", "cxr_child", BGW_NEVER_RESTART);
	good.bgw_main_arg = Int32GetDatum(7);
	ok = RegisterDynamicBackgroundWorker(&good, &handle);
	elog(LOG, "cxr valid registration after the caught ERROR: %d", (int) ok);

	RegisterDynamicBackgroundWorker(&bad, &handle);
	elog(LOG, "cxr not reached either");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	cxr_define(&worker, "cxr main", "cxr", "cxr_main", BGW_NEVER_RESTART);
	RegisterBackgroundWorker(&worker);
}
