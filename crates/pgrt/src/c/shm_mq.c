/*
 * shm_mq.c -- storage/shm_mq.h: a single-reader, single-writer queue of
 * messages in shared memory, with PostgreSQL 15's protocol and wake-ups.
 *
 * The ring: two 64-bit counters, bytes written and bytes read, only ever
 * increase; a message is its length (a Size) followed by its bytes, each
 * padded to MAXALIGN, so every message starts aligned and the length word
 * never wraps. Counters are published lazily, as PostgreSQL does: the
 * sender flushes what it wrote once more than a quarter of the ring is
 * pending, when it must wait, on force_flush and on detach; the receiver
 * gives back consumed space on the same quarter rule or before waiting.
 * Each side sets the other's latch when it publishes, and waits on its own
 * latch (WaitLatch, ResetLatch, CHECK_FOR_INTERRUPTS: die() ends a blocked
 * worker). A counterparty that never attaches, or whose worker is gone, is
 * noticed through its BackgroundWorkerHandle (SHM_MQ_DETACHED).
 *
 * Hostile contents: the ring's size and place are read once, at attach,
 * and checked against the segment's mapping; every later read of the
 * counters is checked against that size and a queue whose counters are
 * impossible is an ERROR. No offset computed from shared memory can leave
 * the ring.
 *
 * The header is 50 bytes, so shm_mq_minimum_size is PostgreSQL's 64.
 */
#include "pgcompat.h"

#include <string.h>

#define MAXIMUM_ALIGNOF 8
#define MAXALIGN(len) (((Size) (len) + (MAXIMUM_ALIGNOF - 1)) & ~((Size) (MAXIMUM_ALIGNOF - 1)))
#define MAXALIGN_DOWN(len) (((Size) (len)) & ~((Size) (MAXIMUM_ALIGNOF - 1)))
#define PROC_LATCH_OFFSET 36
#define MQ_MAGIC 0x6d71626bU
#define ERRCODE_INVALID_PARAMETER_VALUE MAKE_SQLSTATE('2','2','0','2','3')

#define WL_LATCH_SET (1 << 0)
#define WL_EXIT_ON_PM_DEATH (1 << 5)
#define PG_WAIT_IPC 0x08000000U

typedef struct dsm_segment dsm_segment;
typedef struct BackgroundWorkerHandle BackgroundWorkerHandle;
typedef void PGPROC;

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

typedef struct shm_mq
{
	uint32_t	mq_magic;
	uint32_t	mq_unused;
	PGPROC	   *mq_receiver;
	PGPROC	   *mq_sender;
	uint64_t	mq_bytes_read;
	uint64_t	mq_bytes_written;
	Size		mq_ring_size;
	bool		mq_detached;
	uint8_t		mq_ring_offset;
	char		mq_ring[];
} shm_mq;

_Static_assert(offsetof(shm_mq, mq_ring) == 50, "shm_mq_minimum_size is 64");

typedef struct shm_mq_handle
{
	shm_mq	   *mqh_queue;
	dsm_segment *mqh_segment;
	BackgroundWorkerHandle *mqh_handle;
	char	   *mqh_ring;		/* checked at attach */
	Size		mqh_ring_size;	/* checked at attach */
	char	   *mqh_buffer;
	Size		mqh_buflen;
	Size		mqh_consume_pending;
	Size		mqh_send_pending;
	Size		mqh_partial_bytes;
	Size		mqh_expected_bytes;
	bool		mqh_length_word_complete;
	bool		mqh_counterparty_attached;
	MemoryContext mqh_context;
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

/* PostgreSQL 15's WAIT_EVENT_MQ_* (PG_WAIT_IPC class). */
#define WAIT_EVENT_MQ_INTERNAL (PG_WAIT_IPC + 25)
#define WAIT_EVENT_MQ_RECEIVE (PG_WAIT_IPC + 28)
#define WAIT_EVENT_MQ_SEND (PG_WAIT_IPC + 29)

#define CHECK_INTERRUPTS() do { if (InterruptPending) bgw_c_ProcessInterrupts(); } while (0)

static void
set_proc_latch(PGPROC *proc)
{
	if (proc != NULL)
		bgw_c_SetLatch((char *) proc + PROC_LATCH_OFFSET);
}

static void
wait_my_latch(uint32_t wait_event)
{
	(void) bgw_c_WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, wait_event);
	bgw_c_ResetLatch(MyLatch);
	CHECK_INTERRUPTS();
}

static PGPROC *
load_proc(PGPROC **p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static bool
is_detached(shm_mq *mq)
{
	return __atomic_load_n(&mq->mq_detached, __ATOMIC_SEQ_CST);
}

static void
mark_detached(shm_mq *mq)
{
	__atomic_store_n(&mq->mq_detached, true, __ATOMIC_SEQ_CST);
}

shm_mq *
bgw_c_shm_mq_create(void *address, Size size)
{
	shm_mq	   *mq = address;
	Size		data_offset = MAXALIGN(offsetof(shm_mq, mq_ring));

	if (address == NULL || ((uintptr_t) address % MAXIMUM_ALIGNOF) != 0)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue address %p is not aligned", address));
	size = MAXALIGN_DOWN(size);
	if (size < shm_mq_minimum_size)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					bgw_c_errmsg_internal("shared memory queue of %zu bytes is smaller than shm_mq_minimum_size (%zu bytes)",
										  size, shm_mq_minimum_size));
	mq->mq_magic = MQ_MAGIC;
	mq->mq_unused = 0;
	mq->mq_receiver = NULL;
	mq->mq_sender = NULL;
	mq->mq_bytes_read = 0;
	mq->mq_bytes_written = 0;
	mq->mq_ring_size = size - data_offset;
	mq->mq_detached = false;
	mq->mq_ring_offset = data_offset - offsetof(shm_mq, mq_ring);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return mq;
}

static void
set_party(shm_mq *mq, PGPROC **mine, PGPROC **theirs, PGPROC *proc, const char *what)
{
	PGPROC	   *expected = NULL;
	PGPROC	   *other;

	if (!__atomic_compare_exchange_n(mine, &expected, proc, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue already has a %s", what));
	other = load_proc(theirs);
	set_proc_latch(other);
}

void
bgw_c_shm_mq_set_receiver(shm_mq *mq, PGPROC *proc)
{
	set_party(mq, &mq->mq_receiver, &mq->mq_sender, proc, "receiver");
}

void
bgw_c_shm_mq_set_sender(shm_mq *mq, PGPROC *proc)
{
	set_party(mq, &mq->mq_sender, &mq->mq_receiver, proc, "sender");
}

PGPROC *
bgw_c_shm_mq_get_receiver(shm_mq *mq)
{
	return load_proc(&mq->mq_receiver);
}

PGPROC *
bgw_c_shm_mq_get_sender(shm_mq *mq)
{
	return load_proc(&mq->mq_sender);
}

static void shm_mq_detach_internal(shm_mq *mq);

static void
detach_callback(dsm_segment *seg, Datum arg)
{
	shm_mq_detach_internal((shm_mq *) arg);
}

shm_mq_handle *
bgw_c_shm_mq_attach(shm_mq *mq, dsm_segment *seg, BackgroundWorkerHandle *handle)
{
	shm_mq_handle *mqh;
	Size		ring_size = mq->mq_ring_size;
	uint8_t		ring_offset = mq->mq_ring_offset;
	char	   *ring = mq->mq_ring + ring_offset;

	if (MyProc == NULL || (load_proc(&mq->mq_receiver) != MyProc && load_proc(&mq->mq_sender) != MyProc))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue is attached by a process that is neither its sender nor its receiver"));
	if (mq->mq_magic != MQ_MAGIC || ring_size == 0 || ring_size % MAXIMUM_ALIGNOF != 0 ||
		(Size) (ring - (char *) mq) % MAXIMUM_ALIGNOF != 0)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue at %p is corrupt", (void *) mq));
	if (seg != NULL)
	{
		char	   *base = bgw_c_dsm_segment_address(seg);
		Size		len = bgw_c_dsm_segment_map_length(seg);

		if ((char *) mq < base || ring < base || ring_size > len ||
			(Size) (ring - base) > len - ring_size)
			bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue at %p is corrupt: its ring of %zu bytes does not lie inside its segment",
													 (void *) mq, ring_size));
	}
	mqh = bgw_c_MemoryContextAlloc(CurrentMemoryContext, sizeof(shm_mq_handle));
	memset(mqh, 0, sizeof(*mqh));
	mqh->mqh_queue = mq;
	mqh->mqh_segment = seg;
	mqh->mqh_handle = handle;
	mqh->mqh_ring = ring;
	mqh->mqh_ring_size = ring_size;
	mqh->mqh_context = CurrentMemoryContext;
	if (seg != NULL)
		bgw_c_on_dsm_detach(seg, detach_callback, (Datum) mq);
	return mqh;
}

void
bgw_c_shm_mq_set_handle(shm_mq_handle *mqh, BackgroundWorkerHandle *handle)
{
	if (mqh->mqh_handle != NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue handle already has a background worker handle"));
	mqh->mqh_handle = handle;
}

shm_mq *
bgw_c_shm_mq_get_queue(shm_mq_handle *mqh)
{
	return mqh->mqh_queue;
}

/* The counters, checked: never more used than the ring holds. */
static uint64_t
load_counter(uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

static void
corrupt(shm_mq_handle *mqh, uint64_t written, uint64_t read)
{
	bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory queue at %p is corrupt: %llu bytes written, %llu read, in a ring of %zu bytes",
											 (void *) mqh->mqh_queue, (unsigned long long) written,
											 (unsigned long long) read, mqh->mqh_ring_size));
}

static void
inc_bytes_written(shm_mq *mq, Size n)
{
	/* The ring bytes are written before the counter that publishes them. */
	__atomic_fetch_add(&mq->mq_bytes_written, n, __ATOMIC_RELEASE);
}

static void
inc_bytes_read(shm_mq_handle *mqh, Size n)
{
	shm_mq	   *mq = mqh->mqh_queue;

	/* Our reads of the ring are done before the space is given back. */
	__atomic_fetch_add(&mq->mq_bytes_read, n, __ATOMIC_RELEASE);
	set_proc_latch(load_proc(&mq->mq_sender));
}

/*
 * Is the other side gone for good: the queue marked detached, or its
 * worker (if we have its handle) neither started nor starting?
 */
static bool
counterparty_gone(shm_mq *mq, BackgroundWorkerHandle *handle)
{
	int			pid;

	if (is_detached(mq))
		return true;
	if (handle != NULL)
	{
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status != BGWH_STARTED && status != BGWH_NOT_YET_STARTED)
		{
			mark_detached(mq);
			return true;
		}
	}
	return false;
}

/* Wait until *ptr is set; false if the queue is detached or the worker
 * behind `handle` is gone first. */
static bool
wait_internal(shm_mq *mq, PGPROC **ptr, BackgroundWorkerHandle *handle)
{
	for (;;)
	{
		int			pid;
		bool		set = load_proc(ptr) != NULL;

		if (is_detached(mq))
			return false;
		if (set)
			return true;
		if (handle != NULL)
		{
			BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

			if (status != BGWH_STARTED && status != BGWH_NOT_YET_STARTED)
				return false;
		}
		wait_my_latch(WAIT_EVENT_MQ_INTERNAL);
	}
}

static shm_mq_result
send_bytes(shm_mq_handle *mqh, Size nbytes, const void *data, bool nowait, Size *bytes_written)
{
	shm_mq	   *mq = mqh->mqh_queue;
	Size		ringsize = mqh->mqh_ring_size;
	Size		sent = 0;

	while (sent < nbytes)
	{
		uint64_t	rb = load_counter(&mq->mq_bytes_read);
		uint64_t	written = load_counter(&mq->mq_bytes_written);
		uint64_t	wb = written + mqh->mqh_send_pending;
		Size		available;

		if (wb < rb || wb - rb > ringsize)
			corrupt(mqh, written, rb);
		available = ringsize - (wb - rb);
		if (available > nbytes - sent)
			available = nbytes - sent;
		if (is_detached(mq))
		{
			*bytes_written = sent;
			return SHM_MQ_DETACHED;
		}
		if (available == 0 && !mqh->mqh_counterparty_attached)
		{
			/* Full before the receiver is known to be there: wait for it. */
			if (nowait)
			{
				if (counterparty_gone(mq, mqh->mqh_handle))
				{
					*bytes_written = sent;
					return SHM_MQ_DETACHED;
				}
				if (load_proc(&mq->mq_receiver) == NULL)
				{
					*bytes_written = sent;
					return SHM_MQ_WOULD_BLOCK;
				}
			}
			else if (!wait_internal(mq, &mq->mq_receiver, mqh->mqh_handle))
			{
				mark_detached(mq);
				*bytes_written = sent;
				return SHM_MQ_DETACHED;
			}
			mqh->mqh_counterparty_attached = true;
		}
		else if (available == 0)
		{
			/* Full: publish what is pending, wake the receiver, wait. */
			inc_bytes_written(mq, mqh->mqh_send_pending);
			mqh->mqh_send_pending = 0;
			set_proc_latch(load_proc(&mq->mq_receiver));
			if (nowait)
			{
				*bytes_written = sent;
				return SHM_MQ_WOULD_BLOCK;
			}
			wait_my_latch(WAIT_EVENT_MQ_SEND);
		}
		else
		{
			Size		offset = wb % ringsize;
			Size		sendnow = ringsize - offset;

			if (sendnow > available)
				sendnow = available;
			/* The read of bytes_read above comes before our writes. */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			memcpy(mqh->mqh_ring + offset, (const char *) data + sent, sendnow);
			sent += sendnow;
			/* Only the last piece of a message is ever unaligned. */
			mqh->mqh_send_pending += MAXALIGN(sendnow);
		}
	}
	*bytes_written = sent;
	return SHM_MQ_SUCCESS;
}

shm_mq_result
bgw_c_shm_mq_sendv(shm_mq_handle *mqh, shm_mq_iovec *iov, int iovcnt, bool nowait, bool force_flush)
{
	shm_mq	   *mq = mqh->mqh_queue;
	shm_mq_result res;
	Size		nbytes = 0;
	Size		bytes_written;
	Size		offset;
	int			which_iov = 0;
	PGPROC	   *receiver;

	for (int i = 0; i < iovcnt; i++)
		nbytes += iov[i].len;
	if (nbytes > MaxAllocSize)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					bgw_c_errmsg_internal("cannot send a message of size %zu via shared memory queue", nbytes));

	/* The length word, or what is left of it. */
	while (!mqh->mqh_length_word_complete)
	{
		res = send_bytes(mqh, sizeof(Size) - mqh->mqh_partial_bytes,
						 (char *) &nbytes + mqh->mqh_partial_bytes, nowait, &bytes_written);
		if (res == SHM_MQ_DETACHED)
		{
			mqh->mqh_partial_bytes = 0;
			return res;
		}
		mqh->mqh_partial_bytes += bytes_written;
		if (mqh->mqh_partial_bytes >= sizeof(Size))
		{
			mqh->mqh_partial_bytes = 0;
			mqh->mqh_length_word_complete = true;
		}
		if (res != SHM_MQ_SUCCESS)
			return res;
	}

	/* The data: every piece but the last must be MAXALIGN'd, so unaligned
	 * tails of an iovec are joined with the next one's head. */
	offset = mqh->mqh_partial_bytes;
	while (mqh->mqh_partial_bytes < nbytes)
	{
		Size		chunk;

		if (offset >= iov[which_iov].len)
		{
			offset -= iov[which_iov].len;
			if (++which_iov >= iovcnt)
				break;
			continue;
		}
		if (which_iov + 1 < iovcnt && offset + MAXIMUM_ALIGNOF > iov[which_iov].len)
		{
			char		tmp[MAXIMUM_ALIGNOF];
			int			j = 0;

			while (j < MAXIMUM_ALIGNOF && which_iov < iovcnt)
			{
				if (offset < iov[which_iov].len)
					tmp[j++] = iov[which_iov].data[offset++];
				else
				{
					offset -= iov[which_iov].len;
					which_iov++;
				}
			}
			res = send_bytes(mqh, j, tmp, nowait, &bytes_written);
			if (res == SHM_MQ_DETACHED)
			{
				mqh->mqh_partial_bytes = 0;
				mqh->mqh_length_word_complete = false;
				return res;
			}
			mqh->mqh_partial_bytes += bytes_written;
			if (res != SHM_MQ_SUCCESS)
				return res;
			continue;
		}
		chunk = iov[which_iov].len - offset;
		if (which_iov + 1 < iovcnt)
			chunk = MAXALIGN_DOWN(chunk);
		res = send_bytes(mqh, chunk, &iov[which_iov].data[offset], nowait, &bytes_written);
		if (res == SHM_MQ_DETACHED)
		{
			mqh->mqh_partial_bytes = 0;
			mqh->mqh_length_word_complete = false;
			return res;
		}
		mqh->mqh_partial_bytes += bytes_written;
		offset += bytes_written;
		if (res != SHM_MQ_SUCCESS)
			return res;
	}
	mqh->mqh_partial_bytes = 0;
	mqh->mqh_length_word_complete = false;

	if (is_detached(mq))
		return SHM_MQ_DETACHED;
	receiver = load_proc(&mq->mq_receiver);
	if (receiver != NULL)
		mqh->mqh_counterparty_attached = true;
	if (force_flush || mqh->mqh_send_pending > (mqh->mqh_ring_size >> 2))
	{
		inc_bytes_written(mq, mqh->mqh_send_pending);
		mqh->mqh_send_pending = 0;
		set_proc_latch(receiver);
	}
	return SHM_MQ_SUCCESS;
}

shm_mq_result
bgw_c_shm_mq_send(shm_mq_handle *mqh, Size nbytes, const void *data, bool nowait, bool force_flush)
{
	shm_mq_iovec iov;

	iov.data = data;
	iov.len = nbytes;
	return bgw_c_shm_mq_sendv(mqh, &iov, 1, nowait, force_flush);
}

/*
 * Make at least `needed` bytes readable (or everything up to the end of
 * the ring): *nbytesp and *datap describe the contiguous bytes available.
 */
static shm_mq_result
receive_bytes(shm_mq_handle *mqh, Size needed, bool nowait, Size *nbytesp, void **datap)
{
	shm_mq	   *mq = mqh->mqh_queue;
	Size		ringsize = mqh->mqh_ring_size;

	for (;;)
	{
		uint64_t	written = load_counter(&mq->mq_bytes_written);
		uint64_t	shared_read = load_counter(&mq->mq_bytes_read);
		uint64_t	read = shared_read + mqh->mqh_consume_pending;
		uint64_t	used;
		Size		offset;

		if (written < read || written - read > ringsize)
			corrupt(mqh, written, shared_read);
		used = written - read;
		offset = read % ringsize;
		if (used >= needed || offset + used >= ringsize)
		{
			*nbytesp = used < ringsize - offset ? used : ringsize - offset;
			*datap = mqh->mqh_ring + offset;
			return SHM_MQ_SUCCESS;
		}
		/* The sender may have detached after writing the last of it. */
		if (is_detached(mq))
		{
			if (written != load_counter(&mq->mq_bytes_written))
				continue;
			return SHM_MQ_DETACHED;
		}
		if (mqh->mqh_consume_pending > 0)
		{
			inc_bytes_read(mqh, mqh->mqh_consume_pending);
			mqh->mqh_consume_pending = 0;
		}
		if (nowait)
			return SHM_MQ_WOULD_BLOCK;
		wait_my_latch(WAIT_EVENT_MQ_RECEIVE);
	}
}

static Size
next_power_of_2(Size n)
{
	Size		p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

shm_mq_result
bgw_c_shm_mq_receive(shm_mq_handle *mqh, Size *nbytesp, void **datap, bool nowait)
{
	shm_mq	   *mq = mqh->mqh_queue;
	shm_mq_result res;
	Size		rb = 0;
	Size		nbytes;
	void	   *rawdata;

	if (!mqh->mqh_counterparty_attached)
	{
		if (nowait)
		{
			/* Gone first, then "never attached": a sender that attached
			 * and left quickly is not mistaken for one not yet there. */
			bool		gone = counterparty_gone(mq, mqh->mqh_handle);

			if (load_proc(&mq->mq_sender) == NULL)
				return gone ? SHM_MQ_DETACHED : SHM_MQ_WOULD_BLOCK;
		}
		else if (!wait_internal(mq, &mq->mq_sender, mqh->mqh_handle) &&
				 load_proc(&mq->mq_sender) == NULL)
		{
			mark_detached(mq);
			return SHM_MQ_DETACHED;
		}
		mqh->mqh_counterparty_attached = true;
	}

	if (mqh->mqh_consume_pending > mqh->mqh_ring_size / 4)
	{
		inc_bytes_read(mqh, mqh->mqh_consume_pending);
		mqh->mqh_consume_pending = 0;
	}

	if (!mqh->mqh_length_word_complete)
	{
		Size		needed;

		res = receive_bytes(mqh, sizeof(Size), nowait, &rb, &rawdata);
		if (res != SHM_MQ_SUCCESS)
			return res;
		/* Messages start aligned and the ring is a multiple of 8: the
		 * whole length word is there. */
		memcpy(&nbytes, rawdata, sizeof(Size));
		if (nbytes > MaxAllocSize)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						bgw_c_errmsg_internal("invalid message size %zu in shared memory queue", nbytes));
		needed = MAXALIGN(sizeof(Size)) + MAXALIGN(nbytes);
		if (rb >= needed)
		{
			/* The whole message, in place: no copy. */
			mqh->mqh_consume_pending += needed;
			*nbytesp = nbytes;
			*datap = (char *) rawdata + MAXALIGN(sizeof(Size));
			return SHM_MQ_SUCCESS;
		}
		mqh->mqh_expected_bytes = nbytes;
		mqh->mqh_length_word_complete = true;
		mqh->mqh_consume_pending += MAXALIGN(sizeof(Size));
		rb = 0;
	}
	nbytes = mqh->mqh_expected_bytes;

	if (mqh->mqh_partial_bytes == 0)
	{
		res = receive_bytes(mqh, nbytes, nowait, &rb, &rawdata);
		if (res != SHM_MQ_SUCCESS)
			return res;
		if (rb >= nbytes)
		{
			mqh->mqh_length_word_complete = false;
			mqh->mqh_consume_pending += MAXALIGN(nbytes);
			*nbytesp = nbytes;
			*datap = rawdata;
			return SHM_MQ_SUCCESS;
		}
		/* It wraps, or is larger than the ring: copy it together. */
		if (mqh->mqh_buflen < nbytes)
		{
			Size		newlen = next_power_of_2(nbytes);

			if (newlen > MaxAllocSize)
				newlen = MaxAllocSize;
			if (mqh->mqh_buffer != NULL)
			{
				bgw_c_pfree(mqh->mqh_buffer);
				mqh->mqh_buffer = NULL;
				mqh->mqh_buflen = 0;
			}
			mqh->mqh_buffer = bgw_c_MemoryContextAlloc(mqh->mqh_context, newlen);
			mqh->mqh_buflen = newlen;
		}
	}
	else
	{
		res = receive_bytes(mqh, nbytes - mqh->mqh_partial_bytes, nowait, &rb, &rawdata);
		if (res != SHM_MQ_SUCCESS)
			return res;
	}

	for (;;)
	{
		Size		still_needed = nbytes - mqh->mqh_partial_bytes;

		if (rb > still_needed)
			rb = still_needed;
		if (rb > 0)
		{
			memcpy(mqh->mqh_buffer + mqh->mqh_partial_bytes, rawdata, rb);
			mqh->mqh_partial_bytes += rb;
		}
		mqh->mqh_consume_pending += MAXALIGN(rb);
		if (mqh->mqh_partial_bytes >= nbytes)
			break;
		res = receive_bytes(mqh, nbytes - mqh->mqh_partial_bytes, nowait, &rb, &rawdata);
		if (res != SHM_MQ_SUCCESS)
			return res;
	}
	*nbytesp = nbytes;
	*datap = mqh->mqh_buffer;
	mqh->mqh_length_word_complete = false;
	mqh->mqh_partial_bytes = 0;
	return SHM_MQ_SUCCESS;
}

shm_mq_result
bgw_c_shm_mq_wait_for_attach(shm_mq_handle *mqh)
{
	shm_mq	   *mq = mqh->mqh_queue;
	PGPROC	  **victim;

	if (load_proc(&mq->mq_receiver) == MyProc)
		victim = &mq->mq_sender;
	else
		victim = &mq->mq_receiver;
	return wait_internal(mq, victim, mqh->mqh_handle) ? SHM_MQ_SUCCESS : SHM_MQ_DETACHED;
}

/* Mark the queue detached and wake the other side. */
static void
shm_mq_detach_internal(shm_mq *mq)
{
	PGPROC	   *victim;

	mark_detached(mq);
	if (load_proc(&mq->mq_sender) == MyProc)
		victim = load_proc(&mq->mq_receiver);
	else
		victim = load_proc(&mq->mq_sender);
	set_proc_latch(victim);
}

void
bgw_c_shm_mq_detach(shm_mq_handle *mqh)
{
	/* What was written but not yet published reaches the receiver. */
	if (mqh->mqh_send_pending > 0)
	{
		inc_bytes_written(mqh->mqh_queue, mqh->mqh_send_pending);
		mqh->mqh_send_pending = 0;
	}
	shm_mq_detach_internal(mqh->mqh_queue);
	if (mqh->mqh_segment != NULL)
		bgw_c_cancel_on_dsm_detach(mqh->mqh_segment, detach_callback, (Datum) mqh->mqh_queue);
	if (mqh->mqh_buffer != NULL)
		bgw_c_pfree(mqh->mqh_buffer);
	bgw_c_pfree(mqh);
}
