/*
 * pgp_module.c -- ProcGlobal (storage/proc.h), the header of the shared
 * process array, as a worker walks it: its own entry at its process
 * number, no transaction id or status flags, the group-clearing heads
 * empty, ProcSendSignal and ProcWaitForSignal on its own latch (and
 * ProcSendSignal's ERROR for a number outside the array), the
 * server alive, a live sibling's pid found and (17, 18) gone once stopped;
 * PostgreSQL 15 leaves the pid in the free entry, bgworkerd clears it in
 * every major (tests/procglobal_postgresql.rs checks that). Run under
 * the real PostgreSQL servers and under bgworkerd
 * (tests/procglobal_postgresql.rs compares the "pgp:" lines).
 *
 * With pgp.quitter on (bgworkerd only: PostgreSQL treats a worker that
 * skips its clean-up as a crash), a sibling that leaves with _exit(1),
 * without proc_exit, once the leader sets its latch through its entry,
 * must be gone from the array too.
 *
 * Waits poll GetBackgroundWorkerPid, so that no notification is involved.
 */
#include "postgres.h"

#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void pgp_leader(Datum arg);
PGDLLEXPORT void pgp_sleeper(Datum arg);
PGDLLEXPORT void pgp_quitter(Datum arg);

static bool quitter = false;

#if PG_VERSION_NUM >= 170000
#define PGP_INVALID_PROCNO ((uint32) INVALID_PROC_NUMBER)
#define PGP_MY_NUMBER (MyProc->vxid.procNumber)
#else
#define PGP_INVALID_PROCNO ((uint32) INVALID_PGPROCNO)
#define PGP_MY_NUMBER (MyProc->pgprocno)
#endif

static const char *
yes(bool b)
{
	return b ? "yes" : "no";
}

/* The entry of the array with process id `pid`, or NULL. */
static PGPROC *
entry_of(pid_t pid)
{
	for (uint32 i = 0; i < ProcGlobal->allProcCount; i++)
		if (ProcGlobal->allProcs[i].pid == pid)
			return &ProcGlobal->allProcs[i];
	return NULL;
}

static bool
in_array(pid_t pid)
{
	return entry_of(pid) != NULL;
}

/*
 * The entry of a sibling that has just started: a new process fills its
 * entry itself as it starts (InitProcess in PostgreSQL), which may be a
 * moment after its pid is known. NULL if it does not appear within 10 s.
 */
static PGPROC *
await_entry(pid_t pid)
{
	for (int i = 0; i < 10000; i++)
	{
		PGPROC	   *proc = entry_of(pid);

		if (proc != NULL)
			return proc;
		pg_usleep(1000L);
	}
	return NULL;
}

/* Start a sibling running `fn`; its pid once it runs (ERROR after 20 s). */
static pid_t
start_sibling(const char *fn, BackgroundWorkerHandle **h)
{
	BackgroundWorker w;
	pid_t		pid = 0;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "pgp_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", fn);
	snprintf(w.bgw_name, BGW_MAXLEN, "pgp %s", fn);
	snprintf(w.bgw_type, BGW_MAXLEN, "pgp %s", fn);
	if (!RegisterDynamicBackgroundWorker(&w, h))
		elog(ERROR, "pgp: %s could not be registered", fn);
	for (int i = 0; i < 20000; i++)
	{
		if (GetBackgroundWorkerPid(*h, &pid) == BGWH_STARTED && pid != 0)
			return pid;
		pg_usleep(1000L);
	}
	elog(ERROR, "pgp: %s did not start", fn);
	return 0;
}

static void
await_stopped(BackgroundWorkerHandle *h)
{
	pid_t		pid;

	for (int i = 0; i < 20000; i++)
	{
		if (GetBackgroundWorkerPid(h, &pid) == BGWH_STOPPED)
			return;
		pg_usleep(1000L);
	}
	elog(ERROR, "pgp: a sibling did not stop");
}

/* A process number outside the array: PostgreSQL's ERROR, caught. */
static void
send_out_of_range(int procno)
{
	MemoryContext mcxt = CurrentMemoryContext;

	PG_TRY();
	{
		ProcSendSignal(procno);
		elog(LOG, "pgp: ProcSendSignal(%s) returned", procno < 0 ? "-1" : "allProcCount");
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(mcxt);
		e = CopyErrorData();
		FlushErrorState();
		elog(LOG, "pgp: ProcSendSignal(%s): ERROR \"%s\"", procno < 0 ? "-1" : "allProcCount",
			 e->message);
		FreeErrorData(e);
	}
	PG_END_TRY();
}

void
pgp_leader(Datum arg)
{
	BackgroundWorkerHandle *h;
	pid_t		pid;
	int			me;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "pgp: ProcGlobal set %s", yes(ProcGlobal != NULL));
	me = (int) (MyProc - ProcGlobal->allProcs);
	elog(LOG, "pgp: own entry in the array %s, at its process number %s, with its pid %s",
		 yes(me >= 0 && (uint32) me < ProcGlobal->allProcCount),
		 yes(me == (int) PGP_MY_NUMBER), yes(ProcGlobal->allProcs[me].pid == MyProcPid));
	elog(LOG, "pgp: no transaction id %s, no status flags %s, subtransaction cache empty %s",
		 yes(ProcGlobal->xids[me] == InvalidTransactionId),
		 yes(ProcGlobal->statusFlags[me] == 0),
		 yes(ProcGlobal->subxidStates[me].count == 0 && !ProcGlobal->subxidStates[me].overflowed));
	elog(LOG, "pgp: group heads empty %s",
		 yes(pg_atomic_read_u32(&ProcGlobal->procArrayGroupFirst) == PGP_INVALID_PROCNO &&
			 pg_atomic_read_u32(&ProcGlobal->clogGroupFirst) == PGP_INVALID_PROCNO));

	ResetLatch(MyLatch);
	ProcSendSignal(PGP_MY_NUMBER);
	elog(LOG, "pgp: own latch set by ProcSendSignal %s", yes(MyLatch->is_set));
	ProcWaitForSignal(0);
	elog(LOG, "pgp: ProcWaitForSignal returned, latch reset %s, server alive %s",
		 yes(!MyLatch->is_set), yes(PostmasterIsAliveInternal()));
	send_out_of_range((int) ProcGlobal->allProcCount);
	send_out_of_range(-1);

	pid = start_sibling("pgp_sleeper", &h);
	elog(LOG, "pgp: live sibling found %s", yes(await_entry(pid) != NULL));
	TerminateBackgroundWorker(h);
	await_stopped(h);
	/*
	 * PostgreSQL 15 leaves a stopped process's pid in its free entry (so
	 * the line is compared from 17 on); bgworkerd clears it in every major.
	 */
	if (PG_VERSION_NUM >= 170000 || quitter)
		elog(LOG, "pgp: stopped sibling gone %s", yes(!in_array(pid)));

	if (quitter)
	{
		PGPROC	   *proc;

		pid = start_sibling("pgp_quitter", &h);
		/* it leaves once its latch is set, through its entry */
		proc = await_entry(pid);
		if (proc == NULL)
			elog(ERROR, "pgp: the quitter has no entry");
		SetLatch(&proc->procLatch);
		await_stopped(h);
		elog(LOG, "pgp: sibling that skipped its clean-up gone %s", yes(!in_array(pid)));
	}
	elog(LOG, "pgp: done");
	proc_exit(0);
}

void
pgp_sleeper(Datum arg)
{
	(void) arg;
	BackgroundWorkerUnblockSignals();
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L, 0);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
pgp_quitter(Datum arg)
{
	(void) arg;
	BackgroundWorkerUnblockSignals();
	/* The first wait returns at once: a new process's latch starts set. */
	ResetLatch(MyLatch);
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 60000L, 0);
	_exit(1);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomBoolVariable("pgp.quitter", "Also start a sibling that skips its clean-up.",
							 NULL, &quitter, false, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	cx_register_worker("pgp_module", "pgp_leader", "pgp leader", "pgp leader");
}
