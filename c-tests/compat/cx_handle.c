/*
 * cx_handle.c -- a worker that registers dynamic workers and pfree()s
 * their handles, as PostgreSQL modules may (PostgreSQL pallocs them), then
 * keeps allocating and freeing in its memory contexts.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/procsignal.h"
#include "utils/memutils.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxh_main(Datum main_arg);
PGDLLEXPORT void cxh_child(Datum main_arg);

void
cxh_child(Datum main_arg)
{
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxh child %d ran", DatumGetInt32(main_arg));
}

static BackgroundWorkerHandle *
cxh_start(int n)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_handle");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxh_child");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxh child %d", n);
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxh child");
	worker.bgw_main_arg = Int32GetDatum(n);
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		elog(ERROR, "cxh could not register child %d", n);
	return handle;
}

void
cxh_main(Datum main_arg)
{
	BackgroundWorkerHandle *handle;
	pid_t		pid;
	int			i;
	MemoryContext cxt;
	BgwHandleStatus status;

	(void) main_arg;

	/* Startup and shutdown notices arrive as SIGUSR1 (bgw_notify_pid). */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();
	handle = cxh_start(1);
	/* The child may already have stopped again: either is an answer. */
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	elog(LOG, "cxh child 1 startup answered: %s",
		 status == BGWH_STARTED || status == BGWH_STOPPED ? "yes" : "no");
	elog(LOG, "cxh child 1 shutdown: %d", (int) WaitForBackgroundWorkerShutdown(handle));
	pfree(handle);

	/* A handle freed at once, from another context. */
	cxt = AllocSetContextCreate(TopMemoryContext, "cxh", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	handle = cxh_start(2);
	pfree(handle);
	for (i = 0; i < 1000; i++)
	{
		char	   *p = palloc(16 + i);

		memset(p, 'x', 16 + i);
		if (i % 2)
			pfree(p);
	}
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextDelete(cxt);
	elog(LOG, "cxh main done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_handle", "cxh_main", "cxh main", "cxh");
}
