/*
 * cx_worker.c -- a background worker written the way PostgreSQL extensions
 * write them (compare src/test/modules/worker_spi), using only PostgreSQL's
 * own headers: signal handlers, a WaitLatch loop, ereport and PG_TRY,
 * palloc/psprintf/StringInfo, exit callbacks and the process title.
 *
 * bgw_main_arg selects a behaviour, so one library serves several tests:
 *   0  loop: log a tick per latch wake-up, reload on SIGHUP, end on SIGTERM
 *   1  raise an ERROR caught by PG_TRY, then one nobody catches
 *   2  ereport(FATAL)
 *   3  ereport(PANIC)
 *   4  log at several levels, then return from the entry point (exit 0)
 *
 * Modes 0, 1, 2 and 4 are registered at load; mode 3 only when the
 * setting cx.with_panic is on.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/ps_status.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cx_main(Datum main_arg);

static bool cx_with_panic = false;

static void
cx_exit_callback(int code, Datum arg)
{
	elog(LOG, "cx exit callback: code %d, arg %d", code, DatumGetInt32(arg));
}

static void
cx_context_callback(void *arg)
{
	errcontext("cx step \"%s\"", (const char *) arg);
}

static void
cx_reset_callback(void *arg)
{
	elog(LOG, "cx reset callback: %s", (const char *) arg);
}

/* Memory contexts as extensions use them; the inline GetMemoryChunkContext
 * reads the chunk header's layout. */
static void
cx_memory(void)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "cx context",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt;
	MemoryContextCallback *cb;
	StringInfoData big;
	char	   *p;

	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = cx_reset_callback;
	cb->arg = (void *) "cx context";
	MemoryContextRegisterResetCallback(cxt, cb);

	oldcxt = MemoryContextSwitchTo(cxt);
	initStringInfo(&big);
	for (int i = 0; i < 3000; i++)
		appendStringInfo(&big, "%04d", i);
	p = palloc0(16);
	p = repalloc(p, 100000);
	p[99999] = 'x';
	MemoryContextSwitchTo(oldcxt);
	elog(LOG, "cx memory: len=%d tail=%s chunk_context=%s parent_is_top=%d valid=%d",
		 big.len, big.data + big.len - 4, GetMemoryChunkContext(p)->name,
		 cxt->parent == TopMemoryContext, MemoryContextIsValid(cxt));
	MemoryContextReset(cxt);
	elog(LOG, "cx memory after reset: is_reset=%d", (int) cxt->isReset);
	MemoryContextDelete(cxt);
}

static void
cx_loop(void)
{
	int			ticks = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	set_ps_display("idle");
	elog(LOG, "cx loop started: pid %d, MyProcPid %d, latch owner %d, is_set %d",
		 (int) getpid(), MyProcPid, MyProc->procLatch.owner_pid,
		 (int) MyLatch->is_set);
	for (;;)
	{
		int			rc;

		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					   60 * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			elog(LOG, "cx got SIGHUP");
		}
		if (rc & WL_LATCH_SET)
			elog(LOG, "cx tick %d", ++ticks);
	}
}

static void
cx_errors(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorContextCallback errcallback;
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s-%d", "built", 42);
	appendStringInfoString(&buf, "+more");
	appendStringInfoChar(&buf, '!');

	PG_TRY();
	{
		errno = ENOENT;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", "/nonexistent"),
				 errdetail("Detail %s.", buf.data),
				 errhint("A hint.")));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "cx caught: \"%s\" sqlstate %s elevel %d",
			 edata->message, unpack_sql_state(edata->sqlerrcode), edata->elevel);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	errcallback.callback = cx_context_callback;
	errcallback.arg = (void *) "final";
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	ereport(ERROR, (errmsg("cx uncaught error %s", psprintf("%d/%d", 1, 2))));
}

void
cx_main(Datum main_arg)
{
	int			mode = DatumGetInt32(main_arg);

	on_proc_exit(cx_exit_callback, Int32GetDatum(mode));
	switch (mode)
	{
		case 0:
			cx_loop();
			break;
		case 1:
			cx_errors();
			break;
		case 2:
			ereport(FATAL, (errmsg("cx fatal on purpose")));
			break;
		case 3:
			ereport(PANIC, (errmsg("cx panic on purpose")));
			break;
		case 4:
			/* Below log_min_messages (warning by default): not logged. */
			elog(DEBUG1, "cx debug1 message");
			ereport(NOTICE, (errmsg("cx notice")));
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("cx warning with %d lines\nsecond line", 2),
					 errhint("A hint\nthat goes on.")));
			cx_memory();
			{
				TimestampTz now = GetCurrentTimestamp();
				long		secs;
				int			usecs;

				TimestampDifference(now, now + 2500000, &secs, &usecs);
				elog(LOG, "cx timestamps: diff=%ld.%06d ms=%ld exceeds=%d/%d",
					 secs, usecs, TimestampDifferenceMilliseconds(now, now + 1500),
					 TimestampDifferenceExceeds(now, now + 2000, 2),
					 TimestampDifferenceExceeds(now, now + 1999, 2));
				pgstat_report_wait_start(PG_WAIT_EXTENSION);
				elog(LOG, "cx wait event in MyProc: %d",
					 MyProc->wait_event_info == PG_WAIT_EXTENSION);
				pgstat_report_wait_end();
			}
			ereport(LOG, (errmsg_plural("cx %d apple", "cx %d apples", 1, 1)));
			ereport(LOG, (errmsg_plural("cx %d apple", "cx %d apples", 3, 3),
						  errdetail_internal("internal detail %s", "text")));
			elog(LOG, "cx recovery in progress: %d", (int) RecoveryInProgress());
			elog(LOG, "cx returning: max_worker_processes=%d", max_worker_processes);
			return;
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	int			modes[] = {0, 1, 2, 4, 3};
	int			nmodes = lengthof(modes) - 1;

	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomBoolVariable("cx.with_panic", "Also register the PANIC worker.",
							 NULL, &cx_with_panic, false, PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	if (cx_with_panic)
		nmodes++;
	for (int i = 0; i < nmodes; i++)
	{
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_worker");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "cx_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "cx mode %d", modes[i]);
		snprintf(worker.bgw_type, BGW_MAXLEN, "cx");
		worker.bgw_main_arg = Int32GetDatum(modes[i]);
		RegisterBackgroundWorker(&worker);
	}
}
