/*
 * lv_module.c -- LWLockAcquireOrWait and a lock's variable
 * (LWLockWaitForVar, LWLockUpdateVar, LWLockReleaseClearVar) between two
 * workers, run the same way under bgworkerd and under a real PostgreSQL
 * server (tests/lwlock_var_postgresql.rs compares the "lv:" lines).
 *
 * The leader holds the lock exclusively and moves the variable while the
 * other worker waits for it; steps are handed over through an atomic in
 * shared memory, and the leader pauses before each change so that the
 * waiter is asleep by then (were it not, every result printed would still
 * be the same but the last: a lock released before LWLockAcquireOrWait
 * is taken, not waited for).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void lv_leader(Datum arg);
PGDLLEXPORT void lv_waiter(Datum arg);

#if PG_VERSION_NUM >= 160000
typedef pg_atomic_uint64 lv_var;
#define VAR_READ(v) pg_atomic_read_u64(v)
#else
typedef uint64 lv_var;
#define VAR_READ(v) (*(volatile uint64 *) (v))
#endif

typedef struct LvShared
{
	pg_atomic_uint32 step;
	lv_var		var;
} LvShared;

static LvShared *lv;
static LWLock *lock;
static shmem_request_hook_type prev_request = NULL;
static shmem_startup_hook_type prev_startup = NULL;

static void
lv_request(void)
{
	if (prev_request)
		prev_request();
	RequestAddinShmemSpace(sizeof(LvShared));
	RequestNamedLWLockTranche("lv", 1);
}

static void
lv_startup(void)
{
	bool		found;

	if (prev_startup)
		prev_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	lv = ShmemInitStruct("lv", sizeof(LvShared), &found);
	if (!found)
	{
		pg_atomic_init_u32(&lv->step, 0);
#if PG_VERSION_NUM >= 160000
		pg_atomic_init_u64(&lv->var, 0);
#else
		lv->var = 0;
#endif
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
attach(void)
{
	bool		found;

	lv = ShmemInitStruct("lv", sizeof(LvShared), &found);
	lock = &GetNamedLWLockTranche("lv")[0].lock;
}

/* Wait (up to 60 s) for the other worker to reach step `n`. */
static void
await_step(uint32 n)
{
	for (int i = 0; i < 60000; i++)
	{
		if (pg_atomic_read_u32(&lv->step) >= n)
			return;
		pg_usleep(1000L);
	}
	elog(ERROR, "lv: step %u not reached", n);
}

static void
set_step(uint32 n)
{
	pg_atomic_write_u32(&lv->step, n);
}

void
lv_leader(Datum arg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;

	(void) arg;
	attach();
	LWLockAcquire(lock, LW_EXCLUSIVE);
	LWLockUpdateVar(lock, &lv->var, 1);

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "lv_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "lv_waiter");
	snprintf(w.bgw_name, BGW_MAXLEN, "lv waiter");
	snprintf(w.bgw_type, BGW_MAXLEN, "lv waiter");
	/* (No bgw_notify_pid: the steps tell when the waiter runs.) */
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		elog(ERROR, "lv: the waiter could not be registered");

	await_step(1);
	pg_usleep(300000L);
	LWLockUpdateVar(lock, &lv->var, 5);

	await_step(2);
	pg_usleep(300000L);
	LWLockReleaseClearVar(lock, &lv->var, 0);

	await_step(3);
	LWLockAcquire(lock, LW_EXCLUSIVE);
	set_step(4);
	await_step(5);
	pg_usleep(300000L);
	LWLockRelease(lock);

	await_step(6);
	elog(LOG, "lv: done");
	proc_exit(0);
}

void
lv_waiter(Datum arg)
{
	uint64		nv = 0;
	bool		r;

	(void) arg;
	attach();
	/* The leader holds the lock with the variable at 1. */
	r = LWLockWaitForVar(lock, &lv->var, 7, &nv);
	elog(LOG, "lv: variable differs at once: %d new %llu", (int) r, (unsigned long long) nv);

	set_step(1);
	nv = 0;
	r = LWLockWaitForVar(lock, &lv->var, 1, &nv);
	elog(LOG, "lv: waited for an update: %d new %llu", (int) r, (unsigned long long) nv);

	set_step(2);
	nv = 0;
	r = LWLockWaitForVar(lock, &lv->var, 5, &nv);
	elog(LOG, "lv: waited for the release: %d new %llu variable %llu", (int) r,
		 (unsigned long long) nv, (unsigned long long) VAR_READ(&lv->var));

	r = LWLockWaitForVar(lock, &lv->var, 0, &nv);
	elog(LOG, "lv: lock free at once: %d", (int) r);
	r = LWLockAcquireOrWait(lock, LW_EXCLUSIVE);
	elog(LOG, "lv: free lock taken: %d held %d", (int) r, (int) LWLockHeldByMe(lock));
	if (r)
		LWLockRelease(lock);
	r = LWLockAcquireOrWait(lock, LW_SHARED);
	elog(LOG, "lv: free lock taken shared: %d held %d", (int) r,
		 (int) LWLockHeldByMeInMode(lock, LW_SHARED));
	if (r)
		LWLockRelease(lock);

	set_step(3);
	await_step(4);
	set_step(5);
	r = LWLockAcquireOrWait(lock, LW_EXCLUSIVE);
	elog(LOG, "lv: waited for a held lock: %d held %d", (int) r, (int) LWLockHeldByMe(lock));
	if (r)
		LWLockRelease(lock);
	set_step(6);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_request = shmem_request_hook;
	shmem_request_hook = lv_request;
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = lv_startup;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "lv_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "lv_leader");
	snprintf(w.bgw_name, BGW_MAXLEN, "lv leader");
	snprintf(w.bgw_type, BGW_MAXLEN, "lv leader");
	RegisterBackgroundWorker(&w);
}
