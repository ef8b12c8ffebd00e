/*
 * shm_mq.c -- storage/shm_mq.h over the core's message ring
 * (crates/core/src/c/mq_ring.c, which plain C hosts use too through
 * include/bgworker_mq.h): PostgreSQL 15's protocol and wake-ups, with the
 * ring's operations table filled in the PostgreSQL way.
 *
 * Each side sets the other's latch when it publishes, and waits on its own
 * latch (WaitLatch, ResetLatch, CHECK_FOR_INTERRUPTS: die() ends a blocked
 * worker). A counterparty that never attaches, or whose worker is gone, is
 * noticed through its BackgroundWorkerHandle (SHM_MQ_DETACHED). The ring
 * reports failures by value; here they become PostgreSQL's ERROR with the
 * ring's SQLSTATE and text. Handles and reassembly buffers live in memory
 * contexts (the handle's in CurrentMemoryContext at attach).
 */
#include "pgcompat.h"

#include <string.h>

#include "mq_ring.h"

#define PROC_LATCH_OFFSET 36

#define WL_LATCH_SET (1 << 0)
#define WL_EXIT_ON_PM_DEATH (1 << 5)

typedef struct dsm_segment dsm_segment;
typedef struct BackgroundWorkerHandle BackgroundWorkerHandle;
typedef void PGPROC;
typedef bgw_ring shm_mq;

typedef enum
{
	SHM_MQ_SUCCESS,
	SHM_MQ_WOULD_BLOCK,
	SHM_MQ_DETACHED
} shm_mq_result;

typedef enum
{
	BGWH_STARTED,
	BGWH_NOT_YET_STARTED,
	BGWH_STOPPED,
	BGWH_POSTMASTER_DIED
} BgwHandleStatus;

typedef struct
{
	const char *data;
	Size		len;
} shm_mq_iovec;

_Static_assert(sizeof(shm_mq_iovec) == sizeof(bgw_ring_iovec), "iovec layouts agree");
_Static_assert(offsetof(shm_mq_iovec, len) == offsetof(bgw_ring_iovec, len), "iovec layouts agree");

typedef struct shm_mq_handle
{
	bgw_ring_handle ring;
	dsm_segment *segment;
} shm_mq_handle;

extern void *MyProc;
extern void *MyLatch;
extern const Size shm_mq_minimum_size;

extern void bgw_c_SetLatch(void *latch);
extern void bgw_c_ResetLatch(void *latch);
extern int	bgw_c_WaitLatch(void *latch, int wakeEvents, long timeout, uint32_t wait_event_info);
extern void *bgw_c_MemoryContextAlloc(MemoryContext context, Size size);
extern void bgw_c_pfree(void *pointer);
extern void bgw_c_on_dsm_detach(dsm_segment *seg, void (*function) (dsm_segment *, Datum), Datum arg);
extern void bgw_c_cancel_on_dsm_detach(dsm_segment *seg, void (*function) (dsm_segment *, Datum), Datum arg);
extern void *bgw_c_dsm_segment_address(dsm_segment *seg);
extern Size bgw_c_dsm_segment_map_length(dsm_segment *seg);
extern BgwHandleStatus GetBackgroundWorkerPid(BackgroundWorkerHandle *handle, int *pidp);

#define CHECK_INTERRUPTS() do { if (InterruptPending) bgw_c_ProcessInterrupts(); } while (0)

/* The ring's operations, PostgreSQL's way. */

static void
latch_wake(bgw_ring *mq, void *party)
{
	/* A host process's token (odd) has no latch. */
	if (((uintptr_t) party & 1) == 0)
		bgw_c_SetLatch((char *) party + PROC_LATCH_OFFSET);
}

static void
latch_wait(bgw_ring_handle *h, uint32_t wait_event)
{
	(void) bgw_c_WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, wait_event);
	bgw_c_ResetLatch(MyLatch);
	CHECK_INTERRUPTS();
}

static bool
handle_worker_gone(void *worker)
{
	int			pid;
	BgwHandleStatus status = GetBackgroundWorkerPid(worker, &pid);

	return status != BGWH_STARTED && status != BGWH_NOT_YET_STARTED;
}

static void *
context_alloc(void *ctx, size_t size)
{
	return bgw_c_MemoryContextAlloc(ctx, size);
}

static void
context_free(void *ctx, void *p)
{
	bgw_c_pfree(p);
}

static const bgw_ring_ops latch_ops = {
	.wake = latch_wake,
	.wait = latch_wait,
	.worker_gone = handle_worker_gone,
	.alloc = context_alloc,
	.free = context_free,
};

/* The ring's last failure, as PostgreSQL's ERROR. */
BGW_NORETURN static void
raise_ring_error(void)
{
	const char *s = bgw_ring_error_sqlstate();

	bgw_ereport(ERROR, bgw_c_errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])),
				bgw_c_errmsg_internal("%s", bgw_ring_error_message()));
	__builtin_unreachable();
}

static shm_mq_result
result(bgw_ring_result r)
{
	if (r == BGW_RING_ERROR)
		raise_ring_error();
	return (shm_mq_result) r;
}

shm_mq *
bgw_c_shm_mq_create(void *address, Size size)
{
	shm_mq	   *mq = bgw_ring_create(address, size);

	if (mq == NULL)
		raise_ring_error();
	return mq;
}

void
bgw_c_shm_mq_set_receiver(shm_mq *mq, PGPROC *proc)
{
	if (bgw_ring_set_party(mq, false, proc, &latch_ops) != 0)
		raise_ring_error();
}

void
bgw_c_shm_mq_set_sender(shm_mq *mq, PGPROC *proc)
{
	if (bgw_ring_set_party(mq, true, proc, &latch_ops) != 0)
		raise_ring_error();
}

PGPROC *
bgw_c_shm_mq_get_receiver(shm_mq *mq)
{
	return bgw_ring_get_party(mq, false);
}

PGPROC *
bgw_c_shm_mq_get_sender(shm_mq *mq)
{
	return bgw_ring_get_party(mq, true);
}

static void
detach_callback(dsm_segment *seg, Datum arg)
{
	bgw_ring_mark_detached((shm_mq *) arg, MyProc, &latch_ops);
}

shm_mq_handle *
bgw_c_shm_mq_attach(shm_mq *mq, dsm_segment *seg, BackgroundWorkerHandle *handle)
{
	shm_mq_handle *mqh;
	bgw_ring_handle probe;
	const char *base = NULL;
	Size		len = 0;

	if (seg != NULL)
	{
		base = bgw_c_dsm_segment_address(seg);
		len = bgw_c_dsm_segment_map_length(seg);
	}
	/* Checked before anything is allocated, as before. */
	if (bgw_ring_attach(&probe, mq, MyProc, base, len, handle, &latch_ops,
						CurrentMemoryContext) != 0)
		raise_ring_error();
	mqh = bgw_c_MemoryContextAlloc(CurrentMemoryContext, sizeof(shm_mq_handle));
	mqh->ring = probe;
	mqh->segment = seg;
	if (seg != NULL)
		bgw_c_on_dsm_detach(seg, detach_callback, (Datum) mq);
	return mqh;
}

void
bgw_c_shm_mq_set_handle(shm_mq_handle *mqh, BackgroundWorkerHandle *handle)
{
	if (bgw_ring_set_worker(&mqh->ring, handle) != 0)
		raise_ring_error();
}

shm_mq *
bgw_c_shm_mq_get_queue(shm_mq_handle *mqh)
{
	return mqh->ring.queue;
}

shm_mq_result
bgw_c_shm_mq_sendv(shm_mq_handle *mqh, shm_mq_iovec *iov, int iovcnt, bool nowait, bool force_flush)
{
	return result(bgw_ring_sendv(&mqh->ring, (const bgw_ring_iovec *) iov, iovcnt, nowait, force_flush));
}

shm_mq_result
bgw_c_shm_mq_send(shm_mq_handle *mqh, Size nbytes, const void *data, bool nowait, bool force_flush)
{
	shm_mq_iovec iov;

	iov.data = data;
	iov.len = nbytes;
	return bgw_c_shm_mq_sendv(mqh, &iov, 1, nowait, force_flush);
}

shm_mq_result
bgw_c_shm_mq_receive(shm_mq_handle *mqh, Size *nbytesp, void **datap, bool nowait)
{
	return result(bgw_ring_receive(&mqh->ring, nbytesp, datap, nowait));
}

shm_mq_result
bgw_c_shm_mq_wait_for_attach(shm_mq_handle *mqh)
{
	return result(bgw_ring_wait_for_attach(&mqh->ring));
}

void
bgw_c_shm_mq_detach(shm_mq_handle *mqh)
{
	bgw_ring_detach(&mqh->ring);
	if (mqh->segment != NULL)
		bgw_c_cancel_on_dsm_detach(mqh->segment, detach_callback, (Datum) mqh->ring.queue);
	bgw_c_pfree(mqh);
}
