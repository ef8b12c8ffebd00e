/*
 * cx_shmem.c -- shared memory in a background-worker module, written the
 * way PostgreSQL 15 extensions do it (compare pg_stat_statements and
 * src/test/modules/worker_spi): a shmem_request_hook asking for space and
 * a named LWLock tranche, a shmem_startup_hook creating the shared struct
 * under AddinShmemInitLock, and workers updating it under the LWLock and
 * a spinlock. Only PostgreSQL's own headers are used, so the same source
 * builds and loads in a PostgreSQL 15 server.
 *
 * The environment chooses which workers _PG_init registers:
 *   CX_SHMEM_CONFIG=counter (default): CX_SHMEM_WORKERS counter workers
 *       (default 4) doing CX_SHMEM_LOOPS increments each (default 20000),
 *       and a sleeper that restarts after a crash
 *   CX_SHMEM_CONFIG=holder: a worker that ends with an ERROR while holding
 *       the LWLock, and a waiter blocked on it
 *   CX_SHMEM_CONFIG=probe: workers checking PostgreSQL's error reports
 *   CX_SHMEM_STARTUP_ERROR=1: the startup hook raises ERROR;
 *       =after_crash: only when it runs again after a crash cycle
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cx_shmem_main(Datum main_arg);

#define CX_TABLE_SIZE (1024 * 1024)
/* lwlock.c's MAX_SIMUL_LWLOCKS (200 in PostgreSQL 15) is not in the headers. */
#define CX_MAX_SIMUL_LWLOCKS 200
#define CX_LOCAL_LOCKS (CX_MAX_SIMUL_LWLOCKS + 1)

typedef struct CxShared
{
	LWLock	   *lock;			/* first lock of the "cx_shmem" tranche */
	uint64		counter;		/* protected by lock */
	int			finished;		/* protected by lock */
	slock_t		mutex;
	uint64		spin_counter;	/* protected by mutex */
	volatile int holder_pid;	/* set by the holder while it has the lock */
	volatile int spin_holder;	/* set by the holder while it has mutex */
} CxShared;

typedef struct CxLate
{
	int			creator;
} CxLate;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static CxShared *cx = NULL;
static unsigned char *cx_table = NULL;
static int	startup_runs = 0;

static int
env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v ? atoi(v) : dflt;
}

static void
cx_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CxShared)));
	RequestAddinShmemSpace(CX_TABLE_SIZE);
	RequestNamedLWLockTranche("cx_shmem", 2);
}

static void
cx_shmem_startup(void)
{
	bool		found;
	bool		table_found;
	bool		zeroed = true;
	const char *fail = getenv("CX_SHMEM_STARTUP_ERROR");

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	startup_runs++;
	if (fail && (strcmp(fail, "1") == 0 ||
				 (strcmp(fail, "after_crash") == 0 && startup_runs > 1)))
		ereport(ERROR,
				(errmsg("cx_shmem startup hook fails on purpose (run %d)",
						startup_runs)));

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cx = ShmemInitStruct("cx_shmem", sizeof(CxShared), &found);
	for (size_t i = 0; i < sizeof(CxShared); i++)
		if (((unsigned char *) cx)[i] != 0)
			zeroed = false;
	if (!found)
	{
		memset(cx, 0, sizeof(CxShared));
		cx->lock = &(GetNamedLWLockTranche("cx_shmem"))[0].lock;
		SpinLockInit(&cx->mutex);
	}
	cx_table = ShmemInitStruct("cx_shmem table", CX_TABLE_SIZE, &table_found);
	if (!table_found)
		memset(cx_table, 0xab, CX_TABLE_SIZE);
	LWLockRelease(AddinShmemInitLock);

	elog(LOG, "cx_shmem startup: run=%d found=%d zeroed=%d counter=" UINT64_FORMAT " under_postmaster=%d valid=%d",
		 startup_runs, (int) found, (int) zeroed, cx->counter,
		 (int) IsUnderPostmaster, (int) ShmemAddrIsValid(cx));
	/* The layout modules compile in: fixed locks carry their index as
	 * tranche id, named tranches come after them. */
	elog(LOG, "cx_shmem layout: lwlock=%zu padded=%zu index_tranche=%d addin_tranche=%d named_tranche=%d named_offset=%ld first_user_defined=%d",
		 sizeof(LWLock), sizeof(LWLockPadded), (int) ShmemIndexLock->tranche,
		 (int) AddinShmemInitLock->tranche, (int) cx->lock->tranche,
		 (long) ((char *) cx->lock - (char *) MainLWLockArray) / (long) sizeof(LWLockPadded),
		 (int) LWTRANCHE_FIRST_USER_DEFINED);
}

/* What a worker does first in real modules: find the struct by name. */
static void
cx_attach(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cx = ShmemInitStruct("cx_shmem", sizeof(CxShared), &found);
	LWLockRelease(AddinShmemInitLock);
	if (!found)
		elog(ERROR, "cx_shmem struct missing in a worker");
}

static void
cx_counter(int index)
{
	int			loops = env_int("CX_SHMEM_LOOPS", 20000);
	int			nworkers = env_int("CX_SHMEM_WORKERS", 4);
	uint64		last_seen = 0;
	bool		found;
	bool		last;
	bool		table_ok = true;
	uint64		counter;
	uint64		spin_counter;
	CxLate	   *late;

	/* A struct created after fork, by whichever worker comes first. */
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	late = ShmemInitStruct("cx_shmem late", sizeof(CxLate), &found);
	if (!found)
		late->creator = MyProcPid;
	LWLockRelease(AddinShmemInitLock);
	elog(LOG, "cx_shmem attach: worker=%d found=%d creator=%d",
		 index, (int) found, late->creator);

	for (int i = 0; i < loops; i++)
	{
		volatile uint64 v;

		LWLockAcquire(cx->lock, LW_EXCLUSIVE);
		if (!LWLockHeldByMeInMode(cx->lock, LW_EXCLUSIVE))
			elog(ERROR, "cx_shmem lock not held after LWLockAcquire");
		/* A read-modify-write slow enough to lose updates without a lock. */
		v = cx->counter;
		for (int j = 0; j < 20; j++)
			v = v + 0;
		cx->counter = v + 1;
		LWLockRelease(cx->lock);

		SpinLockAcquire(&cx->mutex);
		v = cx->spin_counter;
		for (int j = 0; j < 20; j++)
			v = v + 0;
		cx->spin_counter = v + 1;
		SpinLockRelease(&cx->mutex);

		if (i % 256 == 0)
		{
			LWLockAcquire(cx->lock, LW_SHARED);
			if (cx->counter < last_seen)
				elog(ERROR, "cx_shmem counter went backwards");
			last_seen = cx->counter;
			LWLockRelease(cx->lock);
		}
		CHECK_FOR_INTERRUPTS();
	}

	for (int i = 0; i < CX_TABLE_SIZE; i += 4096)
		if (cx_table[i] != 0xab)
			table_ok = false;
	if (cx_table[CX_TABLE_SIZE - 1] != 0xab)
		table_ok = false;

	LWLockAcquire(cx->lock, LW_EXCLUSIVE);
	last = (++cx->finished == nworkers);
	counter = cx->counter;
	LWLockRelease(cx->lock);
	SpinLockAcquire(&cx->mutex);
	spin_counter = cx->spin_counter;
	SpinLockRelease(&cx->mutex);

	elog(LOG, "cx_shmem done: worker=%d held=%d", index, (int) LWLockHeldByMe(cx->lock));
	if (last)
		elog(LOG, "cx_shmem total: counter=" UINT64_FORMAT " spin=" UINT64_FORMAT " expected=" UINT64_FORMAT " table_ok=%d",
			 counter, spin_counter, (uint64) loops * nworkers, (int) table_ok);
}

static void
cx_sleeper(void)
{
	LWLockAcquire(cx->lock, LW_SHARED);
	elog(LOG, "cx_shmem sleeper: pid=%d counter=" UINT64_FORMAT " finished=%d",
		 MyProcPid, cx->counter, cx->finished);
	LWLockRelease(cx->lock);
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 60 * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
cx_holder(void)
{
	/* Hold the spinlock long enough for the waiter's s_lock to sleep. */
	SpinLockAcquire(&cx->mutex);
	cx->spin_holder = MyProcPid;
	pg_usleep(300 * 1000L);
	SpinLockRelease(&cx->mutex);

	LWLockAcquire(cx->lock, LW_EXCLUSIVE);
	cx->holder_pid = MyProcPid;
	elog(LOG, "cx_shmem holder: locked pid=%d", MyProcPid);
	pg_usleep(env_int("CX_SHMEM_HOLD_MS", 2000) * 1000L);
	elog(ERROR, "cx_shmem holder exits holding the lock");
}

static void
cx_waiter(void)
{
	bool		immediate;
	int			delays;

	while (cx->spin_holder == 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	/* S_LOCK returns s_lock's number of sleeps when the TAS failed. */
	delays = S_LOCK(&cx->mutex);
	S_UNLOCK(&cx->mutex);
	elog(LOG, "cx_shmem waiter: spinlock delays=%d", delays);

	while (cx->holder_pid == 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	elog(LOG, "cx_shmem waiter: waiting pid=%d holder=%d", MyProcPid, cx->holder_pid);
	immediate = LWLockAcquire(cx->lock, LW_EXCLUSIVE);
	elog(LOG, "cx_shmem waiter: acquired immediate=%d", (int) immediate);
	LWLockRelease(cx->lock);
}

/* Run one failing call under PG_TRY and log what was caught. */
#define CX_CATCH(what, call) \
	do { \
		MemoryContext oldcxt_ = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			call; \
			elog(LOG, "cx_shmem probe %s: no error", what); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *edata_; \
			MemoryContextSwitchTo(oldcxt_); \
			edata_ = CopyErrorData(); \
			FlushErrorState(); \
			elog(LOG, "cx_shmem probe %s: caught \"%s\" elevel=%d sqlstate=%s", \
				 what, edata_->message, edata_->elevel, \
				 unpack_sql_state(edata_->sqlerrcode)); \
			FreeErrorData(edata_); \
		} \
		PG_END_TRY(); \
	} while (0)

static void
cx_probe(void)
{
	bool		found;
	LWLock	   *locks;
	int			tranche;
	bool		held;
	bool		conditional;

	CX_CATCH("unknown tranche", (void) GetNamedLWLockTranche("cx_shmem no such tranche"));
	CX_CATCH("mul_size", (void) mul_size(SIZE_MAX / 2, 3));
	CX_CATCH("add_size", (void) add_size(SIZE_MAX, 1));
	elog(LOG, "cx_shmem probe sizes: add=%zu mul=%zu",
		 add_size(40, 2), mul_size(6, 7));
	CX_CATCH("add_size half", elog(LOG, "cx_shmem probe add_size half: result=%zu",
								   add_size(SIZE_MAX / 2, 1)));
	CX_CATCH("size mismatch", (void) ShmemInitStruct("cx_shmem", sizeof(CxShared) + 8, &found));
	CX_CATCH("release unheld", LWLockRelease(cx->lock));

	/* PostgreSQL's limit on locks held at once. */
	locks = palloc(sizeof(LWLock) * CX_LOCAL_LOCKS);
	tranche = LWLockNewTrancheId();
	LWLockRegisterTranche(tranche, "cx_shmem local");
	for (int i = 0; i < CX_LOCAL_LOCKS; i++)
		LWLockInitialize(&locks[i], tranche);
	CX_CATCH("too many", {
		for (int i = 0; i < CX_LOCAL_LOCKS; i++)
			LWLockAcquire(&locks[i], i % 2 ? LW_SHARED : LW_EXCLUSIVE);
	});
	elog(LOG, "cx_shmem probe held: first=%d last=%d", (int) LWLockHeldByMe(&locks[0]),
		 (int) LWLockHeldByMe(&locks[CX_MAX_SIMUL_LWLOCKS - 1]));
	LWLockReleaseAll();
	held = LWLockHeldByMe(&locks[0]);
	conditional = LWLockConditionalAcquire(&locks[0], LW_EXCLUSIVE);
	elog(LOG, "cx_shmem probe after release all: first=%d conditional=%d tranche=%d first_user_defined=%d",
		 (int) held, (int) conditional, tranche, (int) LWTRANCHE_FIRST_USER_DEFINED);
	LWLockRelease(&locks[0]);

	elog(LOG, "cx_shmem probe: requesting space outside the hook");
	RequestAddinShmemSpace(100);
	elog(LOG, "cx_shmem probe: still running after RequestAddinShmemSpace");
}

static void
cx_probe_tranche(void)
{
	elog(LOG, "cx_shmem probe: requesting a tranche outside the hook");
	RequestNamedLWLockTranche("cx_shmem late tranche", 1);
	elog(LOG, "cx_shmem probe: still running after RequestNamedLWLockTranche");
}

void
cx_shmem_main(Datum main_arg)
{
	int			arg = DatumGetInt32(main_arg);
	int			mode = arg / 100;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	cx_attach();
	switch (mode)
	{
		case 0:
			cx_counter(arg % 100);
			break;
		case 1:
			cx_sleeper();
			break;
		case 2:
			cx_holder();
			break;
		case 3:
			cx_waiter();
			break;
		case 4:
			cx_probe();
			break;
		case 5:
			cx_probe_tranche();
			break;
	}
}

static void
cx_register(const char *name, int arg, int restart)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = restart;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_shmem");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cx_shmem_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "cx_shmem");
	worker.bgw_main_arg = Int32GetDatum(arg);
	RegisterBackgroundWorker(&worker);
}

void
_PG_init(void)
{
	const char *config = getenv("CX_SHMEM_CONFIG");

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cx_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cx_shmem_startup;

	if (config == NULL || strcmp(config, "counter") == 0)
	{
		int			n = env_int("CX_SHMEM_WORKERS", 4);
		char		name[BGW_MAXLEN];

		for (int i = 0; i < n; i++)
		{
			snprintf(name, sizeof(name), "cx_shmem counter %d", i);
			cx_register(name, i, BGW_NEVER_RESTART);
		}
		cx_register("cx_shmem sleeper", 100, 1);
	}
	else if (strcmp(config, "holder") == 0)
	{
		cx_register("cx_shmem holder", 200, BGW_NEVER_RESTART);
		cx_register("cx_shmem waiter", 300, BGW_NEVER_RESTART);
	}
	else if (strcmp(config, "probe") == 0)
	{
		cx_register("cx_shmem probe", 400, BGW_NEVER_RESTART);
		cx_register("cx_shmem probe tranche", 500, BGW_NEVER_RESTART);
	}
}
