/*
 * mj_module.c
 *		One module source, built unchanged against PostgreSQL 15's, 17's and
 *		18's real server headers, that prints what its major sees: the size
 *		of BackgroundWorker and every field of MyBgworkerEntry (read with the
 *		module's own layout), a GUC with a time unit (whose flag values moved
 *		in 17), the chunk's memory context, its backend type, and a dynamic
 *		registration from a worker. Every definition it registers ends where
 *		an unreadable page begins, so reading past the major's layout would
 *		crash it.
 *
 * _PG_init (when preloaded) registers the static worker "mj static" with
 * bgw_library_name $MJ_LIB (default "mj_module"), bgw_main_arg 0.
 * bgw_main_arg selects what a worker does:
 *   0  log what it sees, then register "mj dynamic" (arg 1, library
 *      $MJ_DYNLIB or its own) and log its start and stop
 *      (terminating it once it runs)
 *   1  log what it sees, handle a pending reload with the main-loop
 *      interrupt function (18: ProcessMainLoopInterrupts), then wait on
 *      its latch until SIGTERM (die)
 */
#include "postgres.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
#include "utils/memutils.h"
#include "utils/ps_status.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM >= 170000
/* 17's and 18's port.h leave strlcpy to libc (they were configured for a
 * libc that has it); declare it as such a libc would. */
extern size_t strlcpy(char *dst, const char *src, size_t siz);
#define MJ_IS_BGW AmBackgroundWorkerProcess()
#else
#define MJ_IS_BGW IsBackgroundWorker
#endif
/* PostgreSQL 18 renamed HandleMainLoopInterrupts. */
#if PG_VERSION_NUM >= 180000
#define MJ_MAIN_LOOP_INTERRUPTS() ProcessMainLoopInterrupts()
#else
#define MJ_MAIN_LOOP_INTERRUPTS() HandleMainLoopInterrupts()
#endif

void		_PG_init(void);
PGDLLEXPORT void mj_main(Datum main_arg);

static int	mj_nap = 0;

/*
 * A BackgroundWorker that ends exactly where an unreadable page begins: a
 * runtime that read one byte past this major's layout would crash the
 * process. NULL if the pages cannot be had.
 */
static BackgroundWorker *
mj_guarded_worker(void)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	size_t		before = ((sizeof(BackgroundWorker) + page - 1) / page) * page;
	char	   *m = mmap(NULL, before + page, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED || mprotect(m + before, page, PROT_NONE) != 0)
		return NULL;
	memset(m, 0, before);
	return (BackgroundWorker *) (m + before - sizeof(BackgroundWorker));
}

static void
mj_report(int mode)
{
	BackgroundWorker *w = MyBgworkerEntry;
	char	   *p = palloc(16);
	char		buf[8];

	strlcpy(buf, "mj-ps-title", sizeof(buf));
	set_ps_display(buf);
	elog(LOG, "mj %d: sizeof(BackgroundWorker)=%d name=\"%s\" type=\"%s\" library=\"%s\" "
		 "function=\"%s\" arg=%d extra=\"%s\" notify=%d",
		 PG_VERSION_NUM / 10000, (int) sizeof(BackgroundWorker), w->bgw_name, w->bgw_type,
		 w->bgw_library_name, w->bgw_function_name, mode, w->bgw_extra,
		 (int) w->bgw_notify_pid);
	elog(LOG, "mj %d: nap=%d ms, is_bgworker=%d, chunk_context_is_current=%d, ps=\"%s\"",
		 PG_VERSION_NUM / 10000, mj_nap, (int) MJ_IS_BGW,
		 (int) (GetMemoryChunkContext(p) == CurrentMemoryContext), buf);
	pfree(p);
}

void
mj_main(Datum main_arg)
{
	int			mode = DatumGetInt32(main_arg);
	BackgroundWorker *dyn;
	BackgroundWorkerHandle *handle;
	pid_t		pid;
	const char *lib = getenv("MJ_DYNLIB");

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* The registrant may terminate a dynamic worker at once: its report
	 * comes first (die's FATAL waits for RESUME_INTERRUPTS). */
	HOLD_INTERRUPTS();
	mj_report(mode);
	if (mode == 0)
		RESUME_INTERRUPTS();
	else
	{
		/* A pending reload, as SIGHUP's handler leaves it: the main-loop
		 * interrupt function re-reads the configuration. */
		ConfigReloadPending = true;
		MJ_MAIN_LOOP_INTERRUPTS();
		elog(LOG, "mj %d: main loop interrupts handled, reload pending %d, nap=%d ms",
			 PG_VERSION_NUM / 10000, (int) ConfigReloadPending, mj_nap);
		RESUME_INTERRUPTS();
		for (;;)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1000L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}

	dyn = mj_guarded_worker();
	if (dyn == NULL)
		elog(ERROR, "mj: no guarded pages");
	snprintf(dyn->bgw_name, BGW_MAXLEN, "mj dynamic");
	dyn->bgw_flags = BGWORKER_SHMEM_ACCESS;
	dyn->bgw_start_time = BgWorkerStart_RecoveryFinished;
	dyn->bgw_restart_time = BGW_NEVER_RESTART;
	strcpy(dyn->bgw_library_name, lib ? lib : MyBgworkerEntry->bgw_library_name);
	snprintf(dyn->bgw_function_name, BGW_MAXLEN, "mj_main");
	dyn->bgw_main_arg = Int32GetDatum(1);
	snprintf(dyn->bgw_extra, BGW_EXTRALEN, "extra of the dynamic one");
	dyn->bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(dyn, &handle))
	{
		elog(LOG, "mj: dynamic registration failed");
		return;
	}
	elog(LOG, "mj: dynamic bgw_type defaulted to \"%s\"", dyn->bgw_type);
	if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
	{
		elog(LOG, "mj: dynamic started");
		/* A library of another major must get as far as its load (which
		 * fails): terminating it at once could beat the load. */
		if (lib == NULL)
			TerminateBackgroundWorker(handle);
	}
	else
		elog(LOG, "mj: dynamic did not start");
	if (WaitForBackgroundWorkerShutdown(handle) == BGWH_STOPPED)
		elog(LOG, "mj: dynamic stopped");
}

void
_PG_init(void)
{
	BackgroundWorker *w;
	const char *lib = getenv("MJ_LIB");

	DefineCustomIntVariable("mj.nap", "A time setting (milliseconds).", NULL, &mj_nap,
							0, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	w = mj_guarded_worker();
	if (w == NULL)
		elog(ERROR, "mj: no guarded pages");
	snprintf(w->bgw_name, BGW_MAXLEN, "mj static");
	snprintf(w->bgw_type, BGW_MAXLEN, "mj type");
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	strcpy(w->bgw_library_name, lib ? lib : "mj_module");
	snprintf(w->bgw_function_name, BGW_MAXLEN, "mj_main");
	w->bgw_main_arg = Int32GetDatum(0);
	snprintf(w->bgw_extra, BGW_EXTRALEN, "extra of the static one");
	RegisterBackgroundWorker(w);
}
