/*
 * cx_latch.c -- one worker wakes another through its latch, the way
 * extensions hand work between processes: the waiter publishes
 * &MyProc->procLatch in a struct in add-in shared memory, the setter calls
 * SetLatch on it. Also: a wait that times out, and a wait that the
 * waiter's own signal handler ends.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxl_main(Datum main_arg);

typedef struct CxlShared
{
	Latch	   *waiter_latch;	/* set by the waiter, used by the setter */
	pg_atomic_uint32 wakeups;	/* how many times the setter set it */
} CxlShared;

static CxlShared *cxl;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
cxl_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CxlShared)));
}

static void
cxl_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cxl = ShmemInitStruct("cx_latch", sizeof(CxlShared), &found);
	if (!found)
	{
		cxl->waiter_latch = NULL;
		pg_atomic_init_u32(&cxl->wakeups, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
cxl_waiter(void)
{
	int			rc;

	/* The latch starts out set: the first wait returns at once. */
	rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
				   10L, PG_WAIT_EXTENSION);
	elog(LOG, "cxl first wait: latch=%d timeout=%d", (rc & WL_LATCH_SET) != 0,
		 (rc & WL_TIMEOUT) != 0);
	ResetLatch(MyLatch);
	rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
				   50L, PG_WAIT_EXTENSION);
	elog(LOG, "cxl second wait: latch=%d timeout=%d", (rc & WL_LATCH_SET) != 0,
		 (rc & WL_TIMEOUT) != 0);

	/* Now let the setter in. */
	pg_write_barrier();
	cxl->waiter_latch = &MyProc->procLatch;
	for (int round = 1; round <= 3; round++)
	{
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
					   PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		elog(LOG, "cxl woken by the other worker: round %d, latch=%d", round,
			 (rc & WL_LATCH_SET) != 0);
	}
	cxl->waiter_latch = NULL;
}

static void
cxl_setter(void)
{
	uint32		seen = 0;

	while (seen < 3)
	{
		Latch	   *latch = cxl->waiter_latch;

		if (latch != NULL && !latch->is_set)
		{
			seen++;
			SetLatch(latch);
		}
		pg_usleep(20000L);
	}
	elog(LOG, "cxl setter done");
}

void
cxl_main(Datum main_arg)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (DatumGetInt32(main_arg) == 0)
		cxl_waiter();
	else
		cxl_setter();
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cxl_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cxl_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_latch");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxl_main");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxl");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxl waiter");
	worker.bgw_main_arg = Int32GetDatum(0);
	RegisterBackgroundWorker(&worker);
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxl setter");
	worker.bgw_main_arg = Int32GetDatum(1);
	RegisterBackgroundWorker(&worker);
}
