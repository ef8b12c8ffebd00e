/*
 * cvb_module.c -- condition variables and barriers between three workers
 * (a leader and two it starts), run the same way under bgworkerd and under
 * a real PostgreSQL server (tests/condvar_postgresql.rs compares the
 * "cvb:" lines, which only the leader prints):
 * - a static barrier of three: one participant elected per phase, phases
 *   counted;
 * - a condition variable signalled once (the leader sleeps on it until a
 *   worker sets a flag), and one broadcast to both workers sleeping on it;
 * - a timed sleep that times out, and what cancelling a sleep reports;
 * - a dynamic barrier in one process: attach, arrive and detach except
 *   last, detach.
 * With cvb.sleep_in_startup on (bgworkerd only; PostgreSQL's postmaster
 * would dereference its NULL MyProc), shmem_startup_hook prepares to sleep,
 * which needs a worker's process entry: an ERROR that stops start-up.
 * With cvb.quit_prepared on (bgworkerd only), the leader's only job: a
 * worker prepares to sleep and leaves with _exit(1), without its clean-up,
 * still on the variable's wait list, which only a crash cycle repairs (as
 * PostgreSQL treats any worker that skips its clean-up); without one, the
 * leader's own signal would go to the departed worker.
 */
#include "postgres.h"

#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/barrier.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/proclist.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cvb_leader(Datum arg);
PGDLLEXPORT void cvb_worker(Datum arg);
PGDLLEXPORT void cvb_quitter(Datum arg);

typedef struct CvbShared
{
	Barrier		party;
	ConditionVariable cv;
	ConditionVariable cv_all;
	pg_atomic_uint32 flag;
	pg_atomic_uint32 flag_all;
	pg_atomic_uint32 woken;
	ConditionVariable cv_more;
	pg_atomic_uint32 flag_more;
	pg_atomic_uint32 ready_more;
	pg_atomic_uint32 elected[4];
} CvbShared;

static CvbShared *cvb;
static bool sleep_in_startup = false;
static bool quit_prepared = false;
static shmem_request_hook_type prev_request = NULL;
static shmem_startup_hook_type prev_startup = NULL;

static void
cvb_request(void)
{
	if (prev_request)
		prev_request();
	RequestAddinShmemSpace(sizeof(CvbShared));
}

static void
cvb_startup(void)
{
	bool		found;

	if (prev_startup)
		prev_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cvb = ShmemInitStruct("cvb", sizeof(CvbShared), &found);
	if (!found)
	{
		BarrierInit(&cvb->party, 3);
		ConditionVariableInit(&cvb->cv);
		ConditionVariableInit(&cvb->cv_all);
		pg_atomic_init_u32(&cvb->flag, 0);
		pg_atomic_init_u32(&cvb->flag_all, 0);
		pg_atomic_init_u32(&cvb->woken, 0);
		ConditionVariableInit(&cvb->cv_more);
		pg_atomic_init_u32(&cvb->flag_more, 0);
		pg_atomic_init_u32(&cvb->ready_more, 0);
		for (int i = 0; i < 4; i++)
			pg_atomic_init_u32(&cvb->elected[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
	/* bad use (bgworkerd only): the supervisor has no process entry */
	if (sleep_in_startup)
		ConditionVariablePrepareToSleep(&cvb->cv);
}

static void
attach(void)
{
	bool		found;

	cvb = ShmemInitStruct("cvb", sizeof(CvbShared), &found);
}

/* Three phases of the static barrier, counting who was elected. */
static void
phases(void)
{
	for (int p = 1; p <= 3; p++)
		if (BarrierArriveAndWait(&cvb->party, 0))
			pg_atomic_fetch_add_u32(&cvb->elected[p], 1);
	/* once more, so that the counts are final for everyone */
	(void) BarrierArriveAndWait(&cvb->party, 0);
}

void
cvb_worker(Datum arg)
{
	BackgroundWorkerUnblockSignals();
	attach();
	phases();

	if (DatumGetInt32(arg) == 0)
	{
		pg_usleep(50000L);
		pg_atomic_write_u32(&cvb->flag, 1);
		ConditionVariableSignal(&cvb->cv);
	}

	ConditionVariablePrepareToSleep(&cvb->cv_all);
	while (pg_atomic_read_u32(&cvb->flag_all) == 0)
		ConditionVariableSleep(&cvb->cv_all, 0);
	ConditionVariableCancelSleep();
	pg_atomic_fetch_add_u32(&cvb->woken, 1);
	(void) BarrierArriveAndWait(&cvb->party, 0);

	/* both on cv_more's list before the leader broadcasts */
	ConditionVariablePrepareToSleep(&cvb->cv_more);
	pg_atomic_fetch_add_u32(&cvb->ready_more, 1);
	while (pg_atomic_read_u32(&cvb->flag_more) == 0)
		ConditionVariableSleep(&cvb->cv_more, 0);
	ConditionVariableCancelSleep();
	(void) BarrierArriveAndWait(&cvb->party, 0);
	proc_exit(0);
}

/* Prepared to sleep, then gone without proc_exit's clean-up. */
void
cvb_quitter(Datum arg)
{
	(void) arg;
	BackgroundWorkerUnblockSignals();
	attach();
	ConditionVariablePrepareToSleep(&cvb->cv);
	_exit(1);
}

static void
leader_after_quitter(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	pid_t		pid;
	bool		timed_out;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cvb_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cvb_quitter");
	snprintf(w.bgw_name, BGW_MAXLEN, "cvb quitter");
	snprintf(w.bgw_type, BGW_MAXLEN, "cvb quitter");
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		elog(ERROR, "cvb: the quitter could not be registered");
	while (GetBackgroundWorkerPid(h, &pid) != BGWH_STOPPED)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	ConditionVariablePrepareToSleep(&cvb->cv);
	ConditionVariableSignal(&cvb->cv);
	timed_out = ConditionVariableTimedSleep(&cvb->cv, 2000, 0);
	elog(LOG, "cvb: after the quitter, own signal ends the sleep, timed out %d", (int) timed_out);
	proc_exit(0);
}

void
cvb_leader(Datum arg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	Barrier		dyn;
	ConditionVariable other;
	bool		timed_out;
	bool		r;
	int			phase;
	TimestampTz start;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	attach();
	if (quit_prepared)
		leader_after_quitter();
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cvb_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cvb_worker");
	for (int i = 0; i < 2; i++)
	{
		snprintf(w.bgw_name, BGW_MAXLEN, "cvb worker %d", i);
		snprintf(w.bgw_type, BGW_MAXLEN, "cvb worker");
		w.bgw_main_arg = Int32GetDatum(i);
		if (!RegisterDynamicBackgroundWorker(&w, &h))
			elog(ERROR, "cvb: worker %d could not be registered", i);
	}

	phases();
	for (int p = 1; p <= 3; p++)
		elog(LOG, "cvb: phase %d elected %u", p, pg_atomic_read_u32(&cvb->elected[p]));
	elog(LOG, "cvb: static barrier phase %d participants %d", BarrierPhase(&cvb->party),
		 BarrierParticipants(&cvb->party));

	/* signalled once */
	ConditionVariablePrepareToSleep(&cvb->cv);
	while (pg_atomic_read_u32(&cvb->flag) == 0)
		ConditionVariableSleep(&cvb->cv, 0);
#if PG_VERSION_NUM >= 170000
	elog(LOG, "cvb: cancel after the condition held reports a signal %d",
		 (int) ConditionVariableCancelSleep());
#else
	ConditionVariableCancelSleep();
#endif
	elog(LOG, "cvb: woken with flag %u", pg_atomic_read_u32(&cvb->flag));

	/* a broadcast to both workers */
	pg_usleep(50000L);
	pg_atomic_write_u32(&cvb->flag_all, 1);
	ConditionVariableBroadcast(&cvb->cv_all);
	(void) BarrierArriveAndWait(&cvb->party, 0);
	elog(LOG, "cvb: broadcast woke %u, barrier phase %d", pg_atomic_read_u32(&cvb->woken),
		 BarrierPhase(&cvb->party));

	/*
	 * A broadcast (two sleepers: this process becomes the sentinel) made
	 * with a sleep prepared on another variable cancels that sleep first,
	 * whose list is then empty.
	 */
	ConditionVariableInit(&other);
	ConditionVariablePrepareToSleep(&other);
	while (pg_atomic_read_u32(&cvb->ready_more) < 2)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	pg_atomic_write_u32(&cvb->flag_more, 1);
	ConditionVariableBroadcast(&cvb->cv_more);
#if PG_VERSION_NUM >= 170000
	elog(LOG, "cvb: broadcast with another sleep prepared, then cancel reports %d",
		 (int) ConditionVariableCancelSleep());
#else
	ConditionVariableCancelSleep();
#endif
	elog(LOG, "cvb: broadcast with another sleep prepared leaves that list empty %d",
		 (int) proclist_is_empty(&other.wakeup));
	(void) BarrierArriveAndWait(&cvb->party, 0);
	elog(LOG, "cvb: broadcast woke both sleepers, barrier phase %d", BarrierPhase(&cvb->party));

	/* nobody signals: a timed sleep times out */
	ConditionVariablePrepareToSleep(&cvb->cv);
	start = GetCurrentTimestamp();
	timed_out = ConditionVariableTimedSleep(&cvb->cv, 100, 0);
	elog(LOG, "cvb: timed sleep timed out %d after 100 ms or more %d", (int) timed_out,
		 (int) TimestampDifferenceExceeds(start, GetCurrentTimestamp(), 99));
	/* a latch set by someone else is no signal: the sleep goes on */
	SetLatch(MyLatch);
	start = GetCurrentTimestamp();
	timed_out = ConditionVariableTimedSleep(&cvb->cv, 200, 0);
	elog(LOG, "cvb: with the latch set, timed out %d after 200 ms or more %d", (int) timed_out,
		 (int) TimestampDifferenceExceeds(start, GetCurrentTimestamp(), 199));
#if PG_VERSION_NUM >= 170000
	elog(LOG, "cvb: cancel without a signal reports %d", (int) ConditionVariableCancelSleep());
	elog(LOG, "cvb: cancel with nothing prepared reports %d", (int) ConditionVariableCancelSleep());
#else
	ConditionVariableCancelSleep();
#endif
	/* a sleep not prepared on this variable prepares one and returns */
	timed_out = ConditionVariableTimedSleep(&cvb->cv, 100, 0);
	elog(LOG, "cvb: first timed sleep returns at once, timed out %d", (int) timed_out);
	ConditionVariableSignal(&cvb->cv);
	timed_out = ConditionVariableTimedSleep(&cvb->cv, 10000, 0);
	elog(LOG, "cvb: own signal ends the sleep, timed out %d", (int) timed_out);
	ConditionVariableCancelSleep();

	/* a dynamic barrier (one call a statement: argument order is open) */
	BarrierInit(&dyn, 0);
	phase = BarrierAttach(&dyn);
	elog(LOG, "cvb: dynamic attach phase %d participants %d", phase, BarrierParticipants(&dyn));
	r = BarrierArriveAndDetachExceptLast(&dyn);
	elog(LOG, "cvb: arrive and detach except last %d phase %d participants %d", (int) r,
		 BarrierPhase(&dyn), BarrierParticipants(&dyn));
	r = BarrierArriveAndWait(&dyn, 0);
	elog(LOG, "cvb: arrive and wait alone elected %d phase %d", (int) r, BarrierPhase(&dyn));
	r = BarrierDetach(&dyn);
	elog(LOG, "cvb: detach last %d participants %d", (int) r, BarrierParticipants(&dyn));
	phase = BarrierAttach(&dyn);
	r = BarrierArriveAndDetach(&dyn);
	elog(LOG, "cvb: attach phase %d, arrive and detach last %d phase %d", phase, (int) r,
		 dyn.phase);
	elog(LOG, "cvb: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomBoolVariable("cvb.sleep_in_startup", "Prepare to sleep in shmem_startup_hook.",
							 NULL, &sleep_in_startup, false, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("cvb.quit_prepared", "A worker leaves prepared to sleep.",
							 NULL, &quit_prepared, false, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	prev_request = shmem_request_hook;
	shmem_request_hook = cvb_request;
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = cvb_startup;

	cx_register_worker("cvb_module", "cvb_leader", "cvb leader", "cvb leader");
}
