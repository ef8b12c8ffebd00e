/*
 * dsa_module.c -- dynamic shared areas (utils/dsa.h) as a module uses
 * them, run the same way under bgworkerd and under a real PostgreSQL
 * server (tests/dsa.rs, tests/dsa_postgresql.rs compare the "dsa:" lines).
 *
 * A static worker (the leader) checks the calls and their ERRORs, then
 * creates an area, allocates a board in it and starts NWORKERS dynamic
 * workers with the area's handle in bgw_main_arg and the board's
 * dsa_pointer in bgw_extra. Each worker attaches, allocates, writes,
 * checks and frees concurrently with the others (small blocks and blocks
 * larger than a segment), publishes one block for the leader, and
 * detaches; the leader checks what they left and what they counted.
 *
 * Every line logged is the same under both: no address, size of an
 * implementation's own structures or segment count is printed.
 */
#include "postgres.h"

#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/dsa.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_MODULE_MAGIC;

#define NWORKERS 3
#define ROUNDS 400
#define LIVE 8
#define RESULT_SIZE 10000
#define LARGE_SIZE (3 * 1024 * 1024)

void		_PG_init(void);
PGDLLEXPORT void dsa_leader(Datum arg);
PGDLLEXPORT void dsa_worker(Datum arg);

typedef struct Board
{
	int			tranche_id;
	pg_atomic_uint32 started;
	uint32		checked[NWORKERS];	/* blocks found intact */
	uint32		bad[NWORKERS];		/* blocks found damaged */
	uint32		large[NWORKERS];	/* blocks larger than a segment */
	dsa_pointer result[NWORKERS];
} Board;

/* Run `stmt`; log the ERROR it raises with its DETAIL. `release`: what
 * error recovery does, releasing LWLocks (PostgreSQL raises some of these
 * holding its area lock); the bad-input scenario leaves that out, to show
 * that no lock is left taken. */
#define EXPECT_ERROR(name, stmt) EXPECT_ERROR_R(name, stmt, true)
#define EXPECT_ERROR_R(name, stmt, release) \
	do { \
		MemoryContext cx_ = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			stmt; \
			elog(LOG, "dsa: %s: no error", name); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *e_; \
			if (release) \
				LWLockReleaseAll(); \
			MemoryContextSwitchTo(cx_); \
			e_ = CopyErrorData(); \
			FlushErrorState(); \
			elog(LOG, "dsa: %s: ERROR: %s%s%s", name, e_->message, \
				 e_->detail ? " DETAIL: " : "", e_->detail ? e_->detail : ""); \
			FreeErrorData(e_); \
		} \
		PG_END_TRY(); \
	} while (0)

static void
fill(char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char) (seed + i * 7);
}

static bool
intact(const char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char) (seed + i * 7))
			return false;
	return true;
}

/* Release and delete CurrentResourceOwner, as a transaction's end does. */
static void
release_owner(void)
{
	ResourceOwner owner = CurrentResourceOwner;

	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, false, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, false, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, false, true);
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
}

/* The calls one process can check alone. */
static void
api(int tranche)
{
	dsa_area   *volatile area;
	volatile dsa_handle h;
	volatile dsa_pointer dp,
				dp2,
				big;
	char	   *p;
	volatile bool zero = true;

	EXPECT_ERROR("attach never created", dsa_attach(12345));

	area = dsa_create(tranche);
	h = dsa_get_handle(area);
#if PG_VERSION_NUM >= 170000
	elog(LOG, "dsa: total size after create: %zu", dsa_get_total_size(area));
#endif
	elog(LOG, "dsa: created: handle %s, get_address(Invalid) %s", h != 0 ? "set" : "0",
		 dsa_get_address(area, InvalidDsaPointer) ? "set" : "NULL");
	EXPECT_ERROR("attach twice", dsa_attach(h));
	dsa_pin(area);
	EXPECT_ERROR("pin twice", dsa_pin(area));
	dsa_unpin(area);
	EXPECT_ERROR("unpin not pinned", dsa_unpin(area));

	EXPECT_ERROR("allocate 1 GB", dsa_allocate(area, MaxAllocSize + 1));
	EXPECT_ERROR("allocate SIZE_MAX huge",
				 dsa_allocate_extended(area, SIZE_MAX, DSA_ALLOC_HUGE));

	dp = dsa_allocate(area, 100);
	p = dsa_get_address(area, dp);
	memset(p, 0xee, 100);
	dsa_free(area, dp);
	dp = dsa_allocate0(area, 100);
	p = dsa_get_address(area, dp);
	for (int i = 0; i < 100; i++)
		zero &= p[i] == 0;
	dp2 = dsa_allocate_extended(area, 64, DSA_ALLOC_ZERO | DSA_ALLOC_NO_OOM);
	elog(LOG, "dsa: allocate0: valid %s, zeroed %s; another: %s, distinct %s",
		 DsaPointerIsValid(dp) ? "yes" : "no", zero ? "yes" : "no",
		 DsaPointerIsValid(dp2) ? "valid" : "invalid", dp != dp2 ? "yes" : "no");

	/* Larger than the first segment: a segment of its own. */
	big = dsa_allocate(area, LARGE_SIZE);
	fill(dsa_get_address(area, big), LARGE_SIZE, 5);
	elog(LOG, "dsa: %d bytes: valid %s, intact %s, first block %s",
		 LARGE_SIZE, DsaPointerIsValid(big) ? "yes" : "no",
		 intact(dsa_get_address(area, big), LARGE_SIZE, 5) ? "yes" : "no",
		 ((char *) dsa_get_address(area, dp))[99] == 0 ? "untouched" : "overwritten");
	dsa_free(area, big);
	dsa_free(area, dp);
	dsa_free(area, dp2);
	dsa_detach(area);
	EXPECT_ERROR("attach after the last detach", dsa_attach(h));

	/* The size limit: one 600 kB block fits in 1 MB, a second does not,
	 * until the first is freed. */
	area = dsa_create(tranche);
	dsa_set_size_limit(area, 1024 * 1024);
	dp = dsa_allocate(area, 600 * 1024);
	elog(LOG, "dsa: limit 1 MB, 600 kB: %s", DsaPointerIsValid(dp) ? "valid" : "invalid");
	EXPECT_ERROR("600 kB more", dsa_allocate(area, 600 * 1024));
	dp2 = dsa_allocate_extended(area, 600 * 1024, DSA_ALLOC_NO_OOM);
	elog(LOG, "dsa: 600 kB more with DSA_ALLOC_NO_OOM: %s",
		 DsaPointerIsValid(dp2) ? "valid" : "invalid");
	dsa_free(area, dp);
	dp = dsa_allocate(area, 600 * 1024);
	elog(LOG, "dsa: freed, 600 kB again: %s", DsaPointerIsValid(dp) ? "valid" : "invalid");
	EXPECT_ERROR("2 MB under the limit", dsa_allocate(area, 2 * 1024 * 1024));
	dsa_set_size_limit(area, (size_t) -1);
	dp2 = dsa_allocate(area, 2 * 1024 * 1024);
	elog(LOG, "dsa: limit lifted, 2 MB: %s", DsaPointerIsValid(dp2) ? "valid" : "invalid");
	dsa_trim(area);
	elog(LOG, "dsa: trimmed, 2 MB block %s", dsa_get_address(area, dp2) != NULL ? "kept" : "lost");
	dsa_detach(area);
#if PG_VERSION_NUM >= 170000
	/* A maximum segment size bounds the segments' growth; a larger block
	 * still gets a segment of its own. */
	area = dsa_create_ext(tranche, 256 * 1024, 1024 * 1024);
	elog(LOG, "dsa: create_ext 256 kB..1 MB: total %zu", dsa_get_total_size(area));
	dp = dsa_allocate(area, 2 * 1024 * 1024);
	fill(dsa_get_address(area, dp), 2 * 1024 * 1024, 6);
	elog(LOG, "dsa: 2 MB, beyond the maximum segment size: %s",
		 intact(dsa_get_address(area, dp), 2 * 1024 * 1024, 6) ? "intact" : "damaged");
	dp = dsa_allocate(area, 512 * 1024);
	elog(LOG, "dsa: 512 kB: %s", DsaPointerIsValid(dp) ? "valid" : "invalid");
	dsa_detach(area);
#endif

	/* A pinned area outlives every mapping; unpinned, it goes with the
	 * last detach. */
	area = dsa_create(tranche);
	h = dsa_get_handle(area);
	dsa_pin(area);
	dp = dsa_allocate(area, 32);
	strcpy(dsa_get_address(area, dp), "kept");
	dsa_detach(area);
	area = dsa_attach(h);
	elog(LOG, "dsa: pinned, attached again: \"%s\"", (char *) dsa_get_address(area, dp));
	dsa_unpin(area);
	dsa_detach(area);
	EXPECT_ERROR("unpinned and detached, attach", dsa_attach(h));

	/* A resource owner releases the area's mappings, and with them its
	 * reference; dsa_pin_mapping keeps them. */
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "dsa owner");
	area = dsa_create(tranche);
	h = dsa_get_handle(area);
	release_owner();
	EXPECT_ERROR("owner released, attach", dsa_attach(h));
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "dsa owner 2");
	area = dsa_create(tranche);
	dsa_pin_mapping(area);
	dp = dsa_allocate(area, LARGE_SIZE);
	release_owner();
	fill(dsa_get_address(area, dp), LARGE_SIZE, 9);
	elog(LOG, "dsa: pinned mapping, owner released: large block %s",
		 intact(dsa_get_address(area, dp), LARGE_SIZE, 9) ? "intact" : "damaged");
	dsa_detach(area);

	/* In place, in a segment of the caller's. */
	{
		dsm_segment *seg = dsm_create(256 * 1024, 0);
		void	   *place = dsm_segment_address(seg);

		area = dsa_create_in_place(place, 256 * 1024, tranche, seg);
		dp = dsa_allocate(area, 1000);
		fill(dsa_get_address(area, dp), 1000, 3);
		dp2 = dsa_allocate(area, 2 * 1024 * 1024);
		fill(dsa_get_address(area, dp2), 2 * 1024 * 1024, 4);
		elog(LOG, "dsa: in place: 1000 bytes %s, 2 MB %s",
			 intact(dsa_get_address(area, dp), 1000, 3) ? "intact" : "damaged",
			 intact(dsa_get_address(area, dp2), 2 * 1024 * 1024, 4) ? "intact" : "damaged");
		dsa_detach(area);
		dsm_detach(seg);
	}
}

/*
 * Bad input (bgworkerd only: PostgreSQL asserts or reads garbage here):
 * each is an ERROR, leaves no lock taken, and the area works afterwards.
 */
static void
bad(int tranche)
{
	dsa_area   *volatile area = dsa_create(tranche);
	dsm_segment *seg = dsm_create(4096, 0);
	volatile dsa_pointer dp = dsa_allocate(area, 100);
	char		place[100];
	dsm_handle	h = dsm_segment_handle(seg);

	/* Pinned, so that it outlives this process's mapping. */
	dsm_pin_segment(seg);
	dsm_detach(seg);
	EXPECT_ERROR_R("attach a segment that is no area", dsa_attach(h), false);
	dsm_unpin_segment(h);
	memset(dsa_get_address(area, dp), 0, 100);
	EXPECT_ERROR_R("free inside a block", dsa_free(area, dp + 32), false);
	dsa_free(area, dp);
	EXPECT_ERROR_R("free twice", dsa_free(area, dp), false);
	EXPECT_ERROR_R("address in a segment never made",
				   dsa_get_address(area, ((dsa_pointer) 7 << 40) | 64), false);
	EXPECT_ERROR_R("address beyond the segments",
				   dsa_get_address(area, ((dsa_pointer) 5000 << 40) | 64), false);
	EXPECT_ERROR_R("in place in 100 bytes",
				   dsa_create_in_place(place, sizeof(place), tranche, NULL), false);
	/* The area's lock is free again (this process taking it while it
	 * held it would never return). */
	dp = dsa_allocate(area, 5000);
	fill(dsa_get_address(area, dp), 5000, 2);
	elog(LOG, "dsa: bad: then 5000 bytes %s",
		 intact(dsa_get_address(area, dp), 5000, 2) ? "intact" : "damaged");
	dsa_dump(area);
	dsa_detach(area);
}

static BackgroundWorkerHandle *
start_worker(int i, dsa_handle h, dsa_pointer board)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dsa_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dsa_worker");
	snprintf(w.bgw_name, BGW_MAXLEN, "dsa worker %d", i);
	snprintf(w.bgw_type, BGW_MAXLEN, "dsa worker");
	w.bgw_main_arg = UInt32GetDatum(h);
	memcpy(w.bgw_extra, &board, sizeof(board));
	memcpy(w.bgw_extra + sizeof(board), &i, sizeof(i));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		elog(ERROR, "dsa: could not register a worker");
	return handle;
}

static void
with_workers(int tranche)
{
	dsa_area   *area = dsa_create(tranche);
	dsa_pointer bp = dsa_allocate0(area, sizeof(Board));
	Board	   *board = dsa_get_address(area, bp);
	BackgroundWorkerHandle *handles[NWORKERS];

	board->tranche_id = tranche;
	pg_atomic_init_u32(&board->started, 0);
	for (int i = 0; i < NWORKERS; i++)
		handles[i] = start_worker(i, dsa_get_handle(area), bp);
	for (int i = 0; i < NWORKERS; i++)
		(void) WaitForBackgroundWorkerShutdown(handles[i]);
	for (int i = 0; i < NWORKERS; i++)
	{
		dsa_pointer r = board->result[i];

		elog(LOG, "dsa: worker %d: %u blocks checked, %u damaged, %u larger than a segment, result %s",
			 i, board->checked[i], board->bad[i], board->large[i],
			 !DsaPointerIsValid(r) ? "missing" :
			 intact(dsa_get_address(area, r), RESULT_SIZE, 100 + i) ? "intact" : "damaged");
		if (DsaPointerIsValid(r))
			dsa_free(area, r);
	}
	dsa_free(area, bp);
	/* Everything freed: the same sizes fit again. */
	bp = dsa_allocate(area, LARGE_SIZE);
	fill(dsa_get_address(area, bp), LARGE_SIZE, 1);
	elog(LOG, "dsa: after the workers, %d bytes: %s", LARGE_SIZE,
		 intact(dsa_get_address(area, bp), LARGE_SIZE, 1) ? "intact" : "damaged");
	dsa_detach(area);
}

void
dsa_worker(Datum arg)
{
	dsa_pointer bp;
	int			me;
	dsa_area   *volatile area;
	Board	   *board;
	dsa_pointer live[LIVE] = {0};
	size_t		sizes[LIVE] = {0};
	int			seeds[LIVE] = {0};

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	memcpy(&bp, MyBgworkerEntry->bgw_extra, sizeof(bp));
	memcpy(&me, MyBgworkerEntry->bgw_extra + sizeof(bp), sizeof(me));
	area = dsa_attach(DatumGetUInt32(arg));
	board = dsa_get_address(area, bp);
	pg_atomic_fetch_add_u32(&board->started, 1);
	/* Wait for the others, so that all of them allocate at once. */
	while (pg_atomic_read_u32(&board->started) < NWORKERS)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	for (int r = 0; r < ROUNDS; r++)
	{
		int			k = r % LIVE;

		if (DsaPointerIsValid(live[k]))
		{
			if (intact(dsa_get_address(area, live[k]), sizes[k], seeds[k]))
				board->checked[me]++;
			else
				board->bad[me]++;
			dsa_free(area, live[k]);
		}
		sizes[k] = (r % 97 == 13) ? LARGE_SIZE : 1 + (size_t) ((r * 7919 + me * 104729) % 20000);
		seeds[k] = me * 1000 + r;
		live[k] = dsa_allocate(area, sizes[k]);
		if (sizes[k] == LARGE_SIZE)
			board->large[me]++;
		fill(dsa_get_address(area, live[k]), sizes[k], seeds[k]);
	}
	for (int k = 0; k < LIVE; k++)
	{
		if (intact(dsa_get_address(area, live[k]), sizes[k], seeds[k]))
			board->checked[me]++;
		else
			board->bad[me]++;
		dsa_free(area, live[k]);
	}
	board->result[me] = dsa_allocate(area, RESULT_SIZE);
	fill(dsa_get_address(area, board->result[me]), RESULT_SIZE, 100 + me);
	dsa_detach(area);
}

void
dsa_leader(Datum arg)
{
	int			tranche;

	(void) arg;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* Startup and shutdown notices arrive as SIGUSR1 (bgw_notify_pid). */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	tranche = LWLockNewTrancheId();
	LWLockRegisterTranche(tranche, "dsa_module");
	if (getenv("DSA_SCENARIO") && strcmp(getenv("DSA_SCENARIO"), "bad") == 0)
		bad(tranche);
	else
	{
		api(tranche);
		with_workers(tranche);
	}
	elog(LOG, "dsa: done");
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dsa_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dsa_leader");
	snprintf(w.bgw_name, BGW_MAXLEN, "dsa leader");
	snprintf(w.bgw_type, BGW_MAXLEN, "dsa leader");
	RegisterBackgroundWorker(&w);
}
