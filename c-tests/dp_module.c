/*
 * dp_module.c -- dynamic shared memory, tables of contents and message
 * queues as a module uses them, run the same way under bgworkerd and under
 * a real PostgreSQL server (tests/dataplane.rs, tests/dataplane_postgresql.rs
 * compare the "dp:" lines). A static worker runs the scenario named by the
 * environment variable DP_SCENARIO:
 *
 *   api       the dsm/shm_toc/shm_mq calls, their NULL returns and their
 *             ERRORs (bad handles, bad sizes, pins, keys, a full TOC, the
 *             segment limit), resource owners, on-detach callbacks, one
 *             queue looping back to this worker (messages larger than the
 *             ring, sent and received without blocking)
 *   error     a child streams messages and raises ERROR half-way: the
 *             registrant gets SHM_MQ_DETACHED
 *   never     the child's entry point does not exist: wait_for_attach
 *             returns SHM_MQ_DETACHED through the worker handle
 *   recv      the child blocks in shm_mq_receive until SIGTERM ends it
 *   send      the child blocks in shm_mq_send (a full queue) until SIGTERM
 *   keep      the child holds the segment's last reference when SIGTERM's
 *             default handler (PostgreSQL's bgworker_die) ends it
 *   hold      the child pins the segment and sleeps (for crash cycles)
 *   full      a segment larger than /dev/shm can hold, then a small one
 *   corrupt   (bgworkerd only: its queue header's layout) a queue whose
 *             header a hostile process overwrote: ERRORs, no stray read
 *
 * Each step logs a "dp:" line whose text is the same under both.
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
#include "storage/proc.h"
#include "storage/procsignal.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_MODULE_MAGIC;

#define DP_MAGIC 0x79fb2447
#define QSIZE 1024

void		_PG_init(void);
PGDLLEXPORT void dp_main(Datum arg);
PGDLLEXPORT void dp_child(Datum arg);

/* Run `stmt`; log the ERROR it raises as "dp: NAME: ERROR: message". */
#define EXPECT_ERROR(name, stmt) \
	do { \
		MemoryContext cx_ = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			stmt; \
			elog(LOG, "dp: %s: no error", name); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *e_; \
			/* What error recovery releases (PostgreSQL raises some of \
			 * these errors holding its DSM control lock). */ \
			LWLockReleaseAll(); \
			MemoryContextSwitchTo(cx_); \
			e_ = CopyErrorData(); \
			FlushErrorState(); \
			elog(LOG, "dp: %s: ERROR: %s", name, e_->message); \
			FreeErrorData(e_); \
		} \
		PG_END_TRY(); \
	} while (0)

static void
callback(dsm_segment *seg, Datum arg)
{
	(void) seg;
	elog(LOG, "dp: on_dsm_detach callback %d", (int) DatumGetInt32(arg));
}

static void
api(void)
{
	dsm_segment *seg,
			   *seg2;
	dsm_handle	h;
	shm_toc    *toc;
	shm_toc_estimator e;
	ResourceOwner owner;
	volatile int n;
	dsm_segment **many;

	elog(LOG, "dp: attach 0: %s", dsm_attach(0) ? "mapped" : "NULL");
	EXPECT_ERROR("create 0 bytes", dsm_create(0, 0));
	EXPECT_ERROR("create SIZE_MAX bytes", dsm_create(SIZE_MAX, 0));
	elog(LOG, "dp: attach never created: %s", dsm_attach(12345) ? "mapped" : "NULL");

	seg = dsm_create(10000, 0);
	h = dsm_segment_handle(seg);
	elog(LOG, "dp: created: handle %s, length %zu, address %s, found %s",
		 h != 0 ? "set" : "0", dsm_segment_map_length(seg),
		 dsm_segment_address(seg) ? "set" : "NULL",
		 dsm_find_mapping(h) == seg ? "same" : "other");
	memset(dsm_segment_address(seg), 0xab, 10000);
	EXPECT_ERROR("attach twice", dsm_attach(h));
	EXPECT_ERROR("unpin not pinned", dsm_unpin_segment(h));
	dsm_pin_segment(seg);
	EXPECT_ERROR("pin twice", dsm_pin_segment(seg));
	on_dsm_detach(seg, callback, Int32GetDatum(1));
	on_dsm_detach(seg, callback, Int32GetDatum(2));
	on_dsm_detach(seg, callback, Int32GetDatum(3));
	cancel_on_dsm_detach(seg, callback, Int32GetDatum(2));
	dsm_detach(seg);
	seg = dsm_attach(h);
	elog(LOG, "dp: pinned, attached again: %s, contents %s", seg ? "mapped" : "NULL",
		 seg && ((unsigned char *) dsm_segment_address(seg))[9999] == 0xab ? "kept" : "lost");
	dsm_unpin_segment(h);
	dsm_detach(seg);
	elog(LOG, "dp: unpinned and detached, attach: %s", dsm_attach(h) ? "mapped" : "NULL");
	EXPECT_ERROR("unpin unknown", dsm_unpin_segment(h));

	/* Resource owners: a mapping goes with its owner. */
	owner = ResourceOwnerCreate(NULL, "dp owner");
	CurrentResourceOwner = owner;
	seg = dsm_create(4096, 0);
	seg2 = dsm_create(4096, 0);
	dsm_pin_mapping(seg2);
	h = dsm_segment_handle(seg);
	on_dsm_detach(seg, callback, Int32GetDatum(4));
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, false, true);
	elog(LOG, "dp: owner released: owned %s, pinned mapping %s",
		 dsm_find_mapping(h) ? "mapped" : "gone",
		 dsm_find_mapping(dsm_segment_handle(seg2)) == seg2 ? "mapped" : "gone");
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
	dsm_detach(seg2);

	/* A table of contents. */
	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, 100);
	shm_toc_estimate_chunk(&e, QSIZE);
	shm_toc_estimate_keys(&e, 2);
	elog(LOG, "dp: toc estimate %zu", shm_toc_estimate(&e));
	seg = dsm_create(shm_toc_estimate(&e), 0);
	toc = shm_toc_create(DP_MAGIC, dsm_segment_address(seg), shm_toc_estimate(&e));
	elog(LOG, "dp: toc free %zu", shm_toc_freespace(toc));
	{
		char	   *a = shm_toc_allocate(toc, 100);
		shm_mq	   *mq = shm_mq_create(shm_toc_allocate(toc, QSIZE), QSIZE);
		shm_mq_handle *out,
				   *in;
		Size		len;
		void	   *data;
		char	   *big = palloc(5000);
		shm_mq_result r;
		volatile int would_block = 0;

		strcpy(a, "chunk");
		shm_toc_insert(toc, 1, a);
		shm_toc_insert(toc, 2, mq);
		elog(LOG, "dp: toc free %zu, attach %s, lookup 1 \"%s\", lookup 3 %s",
			 shm_toc_freespace(toc),
			 shm_toc_attach(DP_MAGIC, dsm_segment_address(seg)) == toc ? "same" : "other",
			 (char *) shm_toc_lookup(toc, 1, false),
			 shm_toc_lookup(toc, 3, true) ? "found" : "NULL");
		elog(LOG, "dp: toc attach wrong magic: %s",
			 shm_toc_attach(DP_MAGIC + 1, dsm_segment_address(seg)) ? "found" : "NULL");
		EXPECT_ERROR("toc full", shm_toc_allocate(toc, 100000));

		/* One queue, both ends here. */
		shm_mq_set_receiver(mq, MyProc);
		shm_mq_set_sender(mq, MyProc);
		elog(LOG, "dp: queue receiver is me: %s, sender is me: %s, BackendPidGetProc(me): %s, BackendPidGetProc(0): %s",
			 shm_mq_get_receiver(mq) == MyProc ? "yes" : "no",
			 shm_mq_get_sender(mq) == MyProc ? "yes" : "no",
			 BackendPidGetProc(MyProcPid) == MyProc ? "MyProc" : "other",
			 BackendPidGetProc(0) ? "found" : "NULL");
		out = shm_mq_attach(mq, seg, NULL);
		in = shm_mq_attach(mq, seg, NULL);
		elog(LOG, "dp: get_queue same: %s, wait_for_attach %d",
			 shm_mq_get_queue(out) == mq ? "yes" : "no", (int) shm_mq_wait_for_attach(out));
		r = shm_mq_receive(in, &len, &data, true);
		elog(LOG, "dp: receive from empty queue: %d", (int) r);
		r = shm_mq_send(out, 6, "hello", false, true);
		r = shm_mq_receive(in, &len, &data, true);
		elog(LOG, "dp: receive: %d, %zu bytes \"%s\"", (int) r, len, (char *) data);
		{
			shm_mq_iovec iov[3] = {{"ab", 2}, {"cdefghijk", 9}, {"l", 2}};

			r = shm_mq_sendv(out, iov, 3, false, true);
			r = shm_mq_receive(in, &len, &data, true);
			elog(LOG, "dp: sendv receive: %d, %zu bytes \"%s\"", (int) r, len, (char *) data);
		}
		/* Larger than the ring: alternate until it is through. */
		for (int i = 0; i < 5000; i++)
			big[i] = (char) ('a' + i % 26);
		for (;;)
		{
			r = shm_mq_send(out, 5000, big, true, true);
			if (r == SHM_MQ_SUCCESS)
				break;
			would_block++;
			r = shm_mq_receive(in, &len, &data, true);
			if (r == SHM_MQ_SUCCESS)
				elog(LOG, "dp: unexpected message");
		}
		r = shm_mq_receive(in, &len, &data, true);
		elog(LOG, "dp: large message: %d, %zu bytes, %s, sender blocked: %s", (int) r, len,
			 r == SHM_MQ_SUCCESS && memcmp(data, big, 5000) == 0 ? "intact" : "corrupt",
			 would_block > 0 ? "yes" : "no");
		EXPECT_ERROR("message too large", shm_mq_send(out, MaxAllocSize + 1, big, true, true));
		shm_mq_detach(out);
		r = shm_mq_receive(in, &len, &data, true);
		elog(LOG, "dp: receive after the sender detached: %d", (int) r);
		shm_mq_detach(in);
	}
	dsm_detach(seg);

	/* The segment limit. */
	many = palloc(sizeof(dsm_segment *) * 100000);
	for (n = 0; n < 100000; n++)
	{
		many[n] = dsm_create(64, DSM_CREATE_NULL_IF_MAXSEGMENTS);
		if (many[n] == NULL)
			break;
	}
	elog(LOG, "dp: segments before the limit: %d", n);
	EXPECT_ERROR("one more", dsm_create(64, 0));
	while (n > 0)
		dsm_detach(many[--n]);
	seg = dsm_create(64, 0);
	elog(LOG, "dp: after detaching them all, create: %s", seg ? "ok" : "NULL");
	dsm_detach(seg);
}

/*
 * bgworkerd's shm_mq header (crates/pgrt/src/c/shm_mq.c): bytes read at
 * offset 24, bytes written at 32, ring size at 40.
 */
static void
corrupt(void)
{
	dsm_segment *seg = dsm_create(QSIZE, 0);
	char	   *base = dsm_segment_address(seg);
	shm_mq	   *mq;
	shm_mq_handle *out,
			   *in;
	Size		len;
	void	   *data;

	mq = shm_mq_create(base, QSIZE);
	shm_mq_set_receiver(mq, MyProc);
	shm_mq_set_sender(mq, MyProc);
	*(uint64 *) (base + 40) = (uint64) 1 << 40;
	EXPECT_ERROR("ring larger than the segment", shm_mq_attach(mq, seg, NULL));
	*(uint64 *) (base + 40) = QSIZE - 56;
	out = shm_mq_attach(mq, seg, NULL);
	in = shm_mq_attach(mq, seg, NULL);
	shm_mq_send(out, 5, "abcd", false, true);
	/* Written far beyond the ring: more than the ring can hold. */
	*(uint64 *) (base + 32) = (uint64) 1 << 50;
	EXPECT_ERROR("bytes written beyond the ring", shm_mq_receive(in, &len, &data, true));
	EXPECT_ERROR("sender sees the same", shm_mq_send(out, 5, "abcd", true, true));
	/* A length word larger than any message. */
	*(uint64 *) (base + 24) = 0;
	*(uint64 *) (base + 32) = 16;
	*(uint64 *) (base + 56) = (uint64) 1 << 40;
	EXPECT_ERROR("huge length word", shm_mq_receive(in, &len, &data, true));
	dsm_detach(seg);

	/* (bgworkerd's, too: there is no transaction here, and the
	 * transaction contexts are plain contexts that live with the process.) */
	{
		char	   *p = MemoryContextAlloc(TopTransactionContext, 10);
		char	   *q = MemoryContextAlloc(CurTransactionContext, 10);

		elog(LOG, "dp: transaction contexts: %s, %s, same: %s",
			 TopTransactionContext->name, GetMemoryChunkContext(q)->name,
			 GetMemoryChunkContext(p) == GetMemoryChunkContext(q) ? "yes" : "no");
		pfree(p);
		pfree(q);
	}
}

static BackgroundWorkerHandle *
start_child(const char *function, dsm_segment *seg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dp_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(w.bgw_name, BGW_MAXLEN, "dp child");
	snprintf(w.bgw_type, BGW_MAXLEN, "dp child");
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		elog(ERROR, "dp: could not register a child");
	return handle;
}

/* A segment with two queues ([0] registrant to child, [1] child to
 * registrant) and the scenario's letter after them. */
static dsm_segment *
queues(shm_mq **to_child, shm_mq **from_child, char scenario)
{
	dsm_segment *seg = dsm_create(2 * QSIZE + MAXIMUM_ALIGNOF, 0);
	char	   *base = dsm_segment_address(seg);

	*to_child = shm_mq_create(base, QSIZE);
	*from_child = shm_mq_create(base + QSIZE, QSIZE);
	shm_mq_set_sender(*to_child, MyProc);
	shm_mq_set_receiver(*from_child, MyProc);
	/* What the child is to do, after the queues. */
	base[2 * QSIZE] = scenario;
	return seg;
}

static void
with_child(const char *scenario)
{
	shm_mq	   *to_child,
			   *from_child;
	dsm_segment *seg = queues(&to_child, &from_child, scenario[0]);
	const char *fn = strcmp(scenario, "never") == 0 ? "dp_no_such_function" : "dp_child";
	BackgroundWorkerHandle *handle = start_child(fn, seg);
	shm_mq_handle *out = shm_mq_attach(to_child, seg, handle);
	shm_mq_handle *in = shm_mq_attach(from_child, seg, handle);
	shm_mq_result r;
	Size		len;
	void	   *data;
	int			got = 0;
	pid_t		pid;

	if (strcmp(scenario, "never") == 0)
	{
		r = shm_mq_wait_for_attach(in);
		elog(LOG, "dp: never: wait_for_attach %d", (int) r);
		r = shm_mq_receive(in, &len, &data, false);
		elog(LOG, "dp: never: receive %d", (int) r);
		r = shm_mq_send(out, 3, "xy", false, true);
		elog(LOG, "dp: never: send %d", (int) r);
	}
	else if (strcmp(scenario, "error") == 0)
	{
		while ((r = shm_mq_receive(in, &len, &data, false)) == SHM_MQ_SUCCESS)
			got++;
		elog(LOG, "dp: error: received %d messages, then %d", got, (int) r);
	}
	else
	{
		/* recv, send, hold: wait for the child's end, however it comes. */
		r = shm_mq_wait_for_attach(in);
		elog(LOG, "dp: %s: child attached: %d", scenario, (int) r);
		if (strcmp(scenario, "keep") == 0)
		{
			/* The child holds the only reference; SIGTERM's default
			 * handler ends it, and its exit releases the segment. */
			dsm_handle	h = dsm_segment_handle(seg);

			shm_mq_detach(out);
			shm_mq_detach(in);
			dsm_detach(seg);
			elog(LOG, "dp: keep: registrant detached");
			elog(LOG, "dp: keep: child status %d",
				 (int) WaitForBackgroundWorkerShutdown(handle));
			seg = dsm_attach(h);
			elog(LOG, "dp: keep: attach after the child's exit: %s", seg ? "mapped" : "NULL");
			if (seg)
				dsm_detach(seg);
			return;
		}
		if (strcmp(scenario, "send") == 0)
		{
			/* Read nothing; once the child is gone the queue says so. */
			WaitForBackgroundWorkerShutdown(handle);
			r = shm_mq_send(out, 3, "xy", false, true);
			elog(LOG, "dp: send: child gone, send %d", (int) r);
		}
		else
		{
			r = shm_mq_receive(in, &len, &data, false);
			elog(LOG, "dp: %s: receive %d", scenario, (int) r);
		}
	}
	elog(LOG, "dp: %s: child status %d", scenario,
		 (int) WaitForBackgroundWorkerShutdown(handle));
	(void) GetBackgroundWorkerPid(handle, &pid);
	dsm_detach(seg);
}

void
dp_child(Datum arg)
{
	dsm_segment *seg;
	shm_mq	   *to_child,
			   *from_child;
	shm_mq_handle *in,
			   *out;
	char		scenario;
	Size		len;
	void	   *data;
	char		msg[100];

	/* Signals stay blocked until the scenario is known. */
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "dp child");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		elog(ERROR, "dp: child could not map the segment");
	to_child = (shm_mq *) dsm_segment_address(seg);
	from_child = (shm_mq *) ((char *) dsm_segment_address(seg) + QSIZE);
	scenario = ((char *) dsm_segment_address(seg))[2 * QSIZE];
	/* "keep" leaves SIGTERM to the default handler, which exits from the
	 * handler itself (PostgreSQL's bgworker_die). */
	if (scenario != 'k')
		pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	shm_mq_set_receiver(to_child, MyProc);
	shm_mq_set_sender(from_child, MyProc);
	in = shm_mq_attach(to_child, seg, NULL);
	out = shm_mq_attach(from_child, seg, NULL);
	memset(msg, 'm', sizeof(msg));
	switch (scenario)
	{
		case 'e':
			for (int i = 0; i < 50; i++)
				shm_mq_send(out, sizeof(msg), msg, false, true);
			elog(ERROR, "dp: child fails half-way");
			break;
		case 'r':
			elog(LOG, "dp: child blocks in receive");
			shm_mq_receive(in, &len, &data, false);
			break;
		case 's':
			elog(LOG, "dp: child blocks in send");
			for (;;)
				shm_mq_send(out, sizeof(msg), msg, false, true);
			break;
		case 'k':
			elog(LOG, "dp: child keeps the segment");
			for (;;)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
			}
		case 'h':
			/* Pinned: it outlives every process, until a crash cycle,
			 * a shutdown or the next bgworkerd removes it. */
			dsm_pin_segment(seg);
			elog(LOG, "dp: child holds the segment");
			for (;;)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
	}
	elog(LOG, "dp: child returns");
}

void
dp_main(Datum arg)
{
	const char *scenario = getenv("DP_SCENARIO");

	(void) arg;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (scenario == NULL)
		elog(FATAL, "DP_SCENARIO is not set");
	/* Startup and shutdown notices arrive as SIGUSR1 (bgw_notify_pid). */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	if (strcmp(scenario, "api") == 0)
		api();
	else if (strcmp(scenario, "corrupt") == 0)
		corrupt();
	else if (strcmp(scenario, "full") == 0)
	{
		dsm_segment *seg;

		EXPECT_ERROR("create 1 MB", dsm_create(1024 * 1024, 0));
		seg = dsm_create(4096, 0);
		elog(LOG, "dp: then 4 kB: %s", seg ? "ok" : "NULL");
		dsm_detach(seg);
	}
	else
		with_child(scenario);
	elog(LOG, "dp: done");
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dp_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dp_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "dp main");
	snprintf(w.bgw_type, BGW_MAXLEN, "dp main");
	RegisterBackgroundWorker(&w);
}
