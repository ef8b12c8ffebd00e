/*
 * mq_ring.c -- a single-reader, single-writer queue of messages in shared
 * memory, with PostgreSQL 15's shm_mq protocol (see mq_ring.h for who
 * waits how).
 *
 * The ring: two 64-bit counters, bytes written and bytes read, only ever
 * increase; a message is its length (a size_t) followed by its bytes, each
 * padded to 8, so every message starts aligned and the length word never
 * wraps. Counters are published lazily, as PostgreSQL does: the sender
 * flushes what it wrote once more than a quarter of the ring is pending,
 * when it must wait, on force_flush and on detach; the receiver gives back
 * consumed space on the same quarter rule or before waiting. Each side
 * wakes the other when it publishes and waits through ops->wait. A
 * counterparty that never attaches, or whose worker is gone, is noticed
 * through its BackgroundWorkerHandle (BGW_RING_DETACHED).
 *
 * Hostile contents: the ring's size and place are read once, at attach,
 * and checked against the segment's mapping; every later read of the
 * counters is checked against that size and a queue whose counters are
 * impossible is an error. No offset computed from shared memory can leave
 * the ring.
 */
#include "mq_ring.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define ALIGNOF 8
#define ALIGN(len) (((size_t) (len) + (ALIGNOF - 1)) & ~((size_t) (ALIGNOF - 1)))
#define ALIGN_DOWN(len) (((size_t) (len)) & ~((size_t) (ALIGNOF - 1)))
#define MQ_MAGIC 0x6d71626bU

_Static_assert(offsetof(bgw_ring, mq_ring) == 50, "shm_mq_minimum_size is 64");

/* The calling thread's last error: PostgreSQL's SQLSTATE and text. */
static __thread char err_sqlstate[6];
static __thread char err_message[512];

HIDDEN const char *
bgw_ring_error_message(void)
{
	return err_message;
}

HIDDEN const char *
bgw_ring_error_sqlstate(void)
{
	return err_sqlstate;
}

__attribute__((format(printf, 2, 3)))
static void
fail(const char *sqlstate, const char *fmt,...)
{
	va_list		ap;

	memcpy(err_sqlstate, sqlstate, 6);
	va_start(ap, fmt);
	vsnprintf(err_message, sizeof(err_message), fmt, ap);
	va_end(ap);
}

#define SQLSTATE_INTERNAL "XX000"
#define SQLSTATE_INVALID_PARAMETER "22023"
#define SQLSTATE_PROGRAM_LIMIT "54000"
#define SQLSTATE_OUT_OF_MEMORY "53200"

static void *
load_party(void **p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static bool
is_detached(bgw_ring *mq)
{
	return __atomic_load_n(&mq->mq_detached, __ATOMIC_SEQ_CST);
}

static void
set_detached(bgw_ring *mq)
{
	__atomic_store_n(&mq->mq_detached, true, __ATOMIC_SEQ_CST);
}

static void
wake(const bgw_ring_ops *ops, bgw_ring *mq, void *party)
{
	if (party != NULL)
		ops->wake(mq, party);
}

HIDDEN bgw_ring *
bgw_ring_create(void *address, size_t size)
{
	bgw_ring   *mq = address;
	size_t		data_offset = ALIGN(offsetof(bgw_ring, mq_ring));

	if (address == NULL || ((uintptr_t) address % ALIGNOF) != 0)
	{
		fail(SQLSTATE_INTERNAL, "shared memory queue address %p is not aligned", address);
		return NULL;
	}
	size = ALIGN_DOWN(size);
	if (size < BGW_RING_MINIMUM_SIZE)
	{
		fail(SQLSTATE_INVALID_PARAMETER,
			 "shared memory queue of %zu bytes is smaller than shm_mq_minimum_size (%zu bytes)",
			 size, BGW_RING_MINIMUM_SIZE);
		return NULL;
	}
	mq->mq_magic = MQ_MAGIC;
	mq->mq_wake = 0;
	mq->mq_receiver = NULL;
	mq->mq_sender = NULL;
	mq->mq_bytes_read = 0;
	mq->mq_bytes_written = 0;
	mq->mq_ring_size = size - data_offset;
	mq->mq_detached = false;
	mq->mq_ring_offset = data_offset - offsetof(bgw_ring, mq_ring);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return mq;
}

HIDDEN int
bgw_ring_set_party(bgw_ring *mq, bool sender, void *party, const bgw_ring_ops *ops)
{
	void	  **mine = sender ? &mq->mq_sender : &mq->mq_receiver;
	void	  **theirs = sender ? &mq->mq_receiver : &mq->mq_sender;
	void	   *expected = NULL;

	if (!__atomic_compare_exchange_n(mine, &expected, party, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
	{
		fail(SQLSTATE_INTERNAL, "shared memory queue already has a %s", sender ? "sender" : "receiver");
		return -1;
	}
	wake(ops, mq, load_party(theirs));
	return 0;
}

HIDDEN void *
bgw_ring_get_party(bgw_ring *mq, bool sender)
{
	return load_party(sender ? &mq->mq_sender : &mq->mq_receiver);
}

/* Is a queue with this header's ring size and offset laid out, with its
 * ring inside [seg_base, +seg_len) (when seg_base is given)? 0, or -1 with
 * the error set. */
static int
check_layout(bgw_ring *mq, size_t ring_size, uint8_t ring_offset,
			 const char *seg_base, size_t seg_len)
{
	char	   *ring = mq->mq_ring + ring_offset;

	if (mq->mq_magic != MQ_MAGIC || ring_size == 0 || ring_size % ALIGNOF != 0 ||
		(size_t) (ring - (char *) mq) % ALIGNOF != 0)
	{
		fail(SQLSTATE_INTERNAL, "shared memory queue at %p is corrupt", (void *) mq);
		return -1;
	}
	if (seg_base != NULL)
	{
		if ((char *) mq < seg_base || ring < seg_base || ring_size > seg_len ||
			(size_t) (ring - seg_base) > seg_len - ring_size)
		{
			fail(SQLSTATE_INTERNAL, "shared memory queue at %p is corrupt: its ring of %zu bytes does not lie inside its segment",
				 (void *) mq, ring_size);
			return -1;
		}
	}
	return 0;
}

/* check_layout of the queue at mq as it is now (before a role is taken). */
HIDDEN int
bgw_ring_check(bgw_ring *mq, const char *seg_base, size_t seg_len)
{
	return check_layout(mq, mq->mq_ring_size, mq->mq_ring_offset, seg_base, seg_len);
}

HIDDEN int
bgw_ring_attach(bgw_ring_handle *h, bgw_ring *mq, void *me, const char *seg_base,
				size_t seg_len, void *worker, const bgw_ring_ops *ops, void *ctx)
{
	/* Read once: what the checks saw is what the handle keeps. */
	size_t		ring_size = mq->mq_ring_size;
	uint8_t		ring_offset = mq->mq_ring_offset;
	char	   *ring = mq->mq_ring + ring_offset;

	if (me == NULL || (load_party(&mq->mq_receiver) != me && load_party(&mq->mq_sender) != me))
	{
		fail(SQLSTATE_INTERNAL, "shared memory queue is attached by a process that is neither its sender nor its receiver");
		return -1;
	}
	if (check_layout(mq, ring_size, ring_offset, seg_base, seg_len) != 0)
		return -1;
	memset(h, 0, sizeof(*h));
	h->queue = mq;
	h->ops = ops;
	h->ctx = ctx;
	h->me = me;
	h->worker = worker;
	h->ring = ring;
	h->ring_size = ring_size;
	h->wake_seen = __atomic_load_n(&mq->mq_wake, __ATOMIC_SEQ_CST);
	return 0;
}

HIDDEN int
bgw_ring_set_worker(bgw_ring_handle *h, void *worker)
{
	if (h->worker != NULL)
	{
		fail(SQLSTATE_INTERNAL, "shared memory queue handle already has a background worker handle");
		return -1;
	}
	h->worker = worker;
	return 0;
}

/* The counters, checked: never more used than the ring holds. */
static uint64_t
load_counter(uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

static bgw_ring_result
corrupt(bgw_ring_handle *h, uint64_t written, uint64_t read)
{
	fail(SQLSTATE_INTERNAL, "shared memory queue at %p is corrupt: %llu bytes written, %llu read, in a ring of %zu bytes",
		 (void *) h->queue, (unsigned long long) written,
		 (unsigned long long) read, h->ring_size);
	return BGW_RING_ERROR;
}

static void
inc_bytes_written(bgw_ring *mq, size_t n)
{
	/* The ring bytes are written before the counter that publishes them. */
	__atomic_fetch_add(&mq->mq_bytes_written, n, __ATOMIC_RELEASE);
}

static void
inc_bytes_read(bgw_ring_handle *h, size_t n)
{
	bgw_ring   *mq = h->queue;

	/* Our reads of the ring are done before the space is given back. */
	__atomic_fetch_add(&mq->mq_bytes_read, n, __ATOMIC_RELEASE);
	wake(h->ops, mq, load_party(&mq->mq_sender));
}

static bool
worker_gone(bgw_ring_handle *h)
{
	return h->worker != NULL && h->ops->worker_gone(h->worker);
}

/*
 * Is the other side gone for good: the queue marked detached, or its
 * worker (if we have its handle) neither started nor starting?
 */
static bool
counterparty_gone(bgw_ring_handle *h)
{
	if (is_detached(h->queue))
		return true;
	if (worker_gone(h))
	{
		set_detached(h->queue);
		return true;
	}
	return false;
}

/* Wait until *ptr is set; false if the queue is detached or the worker
 * behind the handle is gone first. */
static bool
wait_internal(bgw_ring_handle *h, void **ptr)
{
	for (;;)
	{
		bool		set = load_party(ptr) != NULL;

		if (is_detached(h->queue))
			return false;
		if (set)
			return true;
		if (worker_gone(h))
			return false;
		h->ops->wait(h, BGW_RING_WAIT_INTERNAL);
	}
}

static bgw_ring_result
send_bytes(bgw_ring_handle *h, size_t nbytes, const void *data, bool nowait, size_t *bytes_written)
{
	bgw_ring   *mq = h->queue;
	size_t		ringsize = h->ring_size;
	size_t		sent = 0;

	while (sent < nbytes)
	{
		uint64_t	rb = load_counter(&mq->mq_bytes_read);
		uint64_t	written = load_counter(&mq->mq_bytes_written);
		uint64_t	wb = written + h->send_pending;
		size_t		available;

		if (wb < rb || wb - rb > ringsize)
			return corrupt(h, written, rb);
		available = ringsize - (wb - rb);
		if (available > nbytes - sent)
			available = nbytes - sent;
		if (is_detached(mq))
		{
			*bytes_written = sent;
			return BGW_RING_DETACHED;
		}
		if (available == 0 && !h->counterparty_attached)
		{
			/* Full before the receiver is known to be there: wait for it. */
			if (nowait)
			{
				if (counterparty_gone(h))
				{
					*bytes_written = sent;
					return BGW_RING_DETACHED;
				}
				if (load_party(&mq->mq_receiver) == NULL)
				{
					*bytes_written = sent;
					return BGW_RING_WOULD_BLOCK;
				}
			}
			else if (!wait_internal(h, &mq->mq_receiver))
			{
				set_detached(mq);
				*bytes_written = sent;
				return BGW_RING_DETACHED;
			}
			h->counterparty_attached = true;
		}
		else if (available == 0)
		{
			/* Full: publish what is pending, wake the receiver, wait. */
			inc_bytes_written(mq, h->send_pending);
			h->send_pending = 0;
			wake(h->ops, mq, load_party(&mq->mq_receiver));
			if (nowait)
			{
				*bytes_written = sent;
				return BGW_RING_WOULD_BLOCK;
			}
			h->ops->wait(h, BGW_RING_WAIT_SEND);
		}
		else
		{
			size_t		offset = wb % ringsize;
			size_t		sendnow = ringsize - offset;

			if (sendnow > available)
				sendnow = available;
			/* The read of bytes_read above comes before our writes. */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			memcpy(h->ring + offset, (const char *) data + sent, sendnow);
			sent += sendnow;
			/* Only the last piece of a message is ever unaligned. */
			h->send_pending += ALIGN(sendnow);
		}
	}
	*bytes_written = sent;
	return BGW_RING_SUCCESS;
}

/* A send that did not complete: forget the partial message's state. */
static bgw_ring_result
send_failed(bgw_ring_handle *h, bgw_ring_result res)
{
	h->partial_bytes = 0;
	h->length_word_complete = false;
	return res;
}

HIDDEN bgw_ring_result
bgw_ring_sendv(bgw_ring_handle *h, const bgw_ring_iovec *iov, int iovcnt, bool nowait, bool force_flush)
{
	bgw_ring   *mq = h->queue;
	bgw_ring_result res;
	size_t		nbytes = 0;
	size_t		bytes_written;
	size_t		offset;
	int			which_iov = 0;
	void	   *receiver;

	for (int i = 0; i < iovcnt; i++)
		nbytes += iov[i].len;
	if (nbytes > BGW_RING_MAX_MESSAGE)
	{
		fail(SQLSTATE_PROGRAM_LIMIT, "cannot send a message of size %zu via shared memory queue", nbytes);
		return BGW_RING_ERROR;
	}

	/* The length word, or what is left of it. */
	while (!h->length_word_complete)
	{
		res = send_bytes(h, sizeof(size_t) - h->partial_bytes,
						 (char *) &nbytes + h->partial_bytes, nowait, &bytes_written);
		if (res == BGW_RING_DETACHED || res == BGW_RING_ERROR)
		{
			h->partial_bytes = 0;
			return res;
		}
		h->partial_bytes += bytes_written;
		if (h->partial_bytes >= sizeof(size_t))
		{
			h->partial_bytes = 0;
			h->length_word_complete = true;
		}
		if (res != BGW_RING_SUCCESS)
			return res;
	}

	/* The data: every piece but the last must be aligned, so unaligned
	 * tails of an iovec are joined with the next one's head. */
	offset = h->partial_bytes;
	while (h->partial_bytes < nbytes)
	{
		size_t		chunk;

		if (offset >= iov[which_iov].len)
		{
			offset -= iov[which_iov].len;
			if (++which_iov >= iovcnt)
				break;
			continue;
		}
		if (which_iov + 1 < iovcnt && offset + ALIGNOF > iov[which_iov].len)
		{
			char		tmp[ALIGNOF];
			int			j = 0;

			while (j < ALIGNOF && which_iov < iovcnt)
			{
				if (offset < iov[which_iov].len)
					tmp[j++] = iov[which_iov].data[offset++];
				else
				{
					offset -= iov[which_iov].len;
					which_iov++;
				}
			}
			res = send_bytes(h, j, tmp, nowait, &bytes_written);
			if (res == BGW_RING_DETACHED || res == BGW_RING_ERROR)
				return send_failed(h, res);
			h->partial_bytes += bytes_written;
			if (res != BGW_RING_SUCCESS)
				return res;
			continue;
		}
		chunk = iov[which_iov].len - offset;
		if (which_iov + 1 < iovcnt)
			chunk = ALIGN_DOWN(chunk);
		res = send_bytes(h, chunk, &iov[which_iov].data[offset], nowait, &bytes_written);
		if (res == BGW_RING_DETACHED || res == BGW_RING_ERROR)
			return send_failed(h, res);
		h->partial_bytes += bytes_written;
		offset += bytes_written;
		if (res != BGW_RING_SUCCESS)
			return res;
	}
	h->partial_bytes = 0;
	h->length_word_complete = false;

	if (is_detached(mq))
		return BGW_RING_DETACHED;
	receiver = load_party(&mq->mq_receiver);
	if (receiver != NULL)
		h->counterparty_attached = true;
	if (force_flush || h->send_pending > (h->ring_size >> 2))
	{
		inc_bytes_written(mq, h->send_pending);
		h->send_pending = 0;
		wake(h->ops, mq, receiver);
	}
	return BGW_RING_SUCCESS;
}

/*
 * Make at least `needed` bytes readable (or everything up to the end of
 * the ring): *nbytesp and *datap describe the contiguous bytes available.
 */
static bgw_ring_result
receive_bytes(bgw_ring_handle *h, size_t needed, bool nowait, size_t *nbytesp, void **datap)
{
	bgw_ring   *mq = h->queue;
	size_t		ringsize = h->ring_size;

	for (;;)
	{
		uint64_t	written = load_counter(&mq->mq_bytes_written);
		uint64_t	shared_read = load_counter(&mq->mq_bytes_read);
		uint64_t	read = shared_read + h->consume_pending;
		uint64_t	used;
		size_t		offset;

		if (written < read || written - read > ringsize)
			return corrupt(h, written, shared_read);
		used = written - read;
		offset = read % ringsize;
		if (used >= needed || offset + used >= ringsize)
		{
			*nbytesp = used < ringsize - offset ? used : ringsize - offset;
			*datap = h->ring + offset;
			return BGW_RING_SUCCESS;
		}
		/* The sender may have detached after writing the last of it. */
		if (is_detached(mq))
		{
			if (written != load_counter(&mq->mq_bytes_written))
				continue;
			return BGW_RING_DETACHED;
		}
		if (h->consume_pending > 0)
		{
			inc_bytes_read(h, h->consume_pending);
			h->consume_pending = 0;
		}
		if (nowait)
			return BGW_RING_WOULD_BLOCK;
		h->ops->wait(h, BGW_RING_WAIT_RECEIVE);
	}
}

static size_t
next_power_of_2(size_t n)
{
	size_t		p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

HIDDEN bgw_ring_result
bgw_ring_receive(bgw_ring_handle *h, size_t *nbytesp, void **datap, bool nowait)
{
	bgw_ring   *mq = h->queue;
	bgw_ring_result res;
	size_t		rb = 0;
	size_t		nbytes;
	void	   *rawdata;

	if (!h->counterparty_attached)
	{
		if (nowait)
		{
			/* Gone first, then "never attached": a sender that attached
			 * and left quickly is not mistaken for one not yet there. */
			bool		gone = counterparty_gone(h);

			if (load_party(&mq->mq_sender) == NULL)
				return gone ? BGW_RING_DETACHED : BGW_RING_WOULD_BLOCK;
		}
		else if (!wait_internal(h, &mq->mq_sender) &&
				 load_party(&mq->mq_sender) == NULL)
		{
			set_detached(mq);
			return BGW_RING_DETACHED;
		}
		h->counterparty_attached = true;
	}

	if (h->consume_pending > h->ring_size / 4)
	{
		inc_bytes_read(h, h->consume_pending);
		h->consume_pending = 0;
	}

	if (!h->length_word_complete)
	{
		size_t		needed;

		res = receive_bytes(h, sizeof(size_t), nowait, &rb, &rawdata);
		if (res != BGW_RING_SUCCESS)
			return res;
		/* Messages start aligned and the ring is a multiple of 8: the
		 * whole length word is there. */
		memcpy(&nbytes, rawdata, sizeof(size_t));
		if (nbytes > BGW_RING_MAX_MESSAGE)
		{
			fail(SQLSTATE_PROGRAM_LIMIT, "invalid message size %zu in shared memory queue", nbytes);
			return BGW_RING_ERROR;
		}
		needed = ALIGN(sizeof(size_t)) + ALIGN(nbytes);
		if (rb >= needed)
		{
			/* The whole message, in place: no copy. */
			h->consume_pending += needed;
			*nbytesp = nbytes;
			*datap = (char *) rawdata + ALIGN(sizeof(size_t));
			return BGW_RING_SUCCESS;
		}
		h->expected_bytes = nbytes;
		h->length_word_complete = true;
		h->consume_pending += ALIGN(sizeof(size_t));
		rb = 0;
	}
	nbytes = h->expected_bytes;

	if (h->partial_bytes == 0)
	{
		res = receive_bytes(h, nbytes, nowait, &rb, &rawdata);
		if (res != BGW_RING_SUCCESS)
			return res;
		if (rb >= nbytes)
		{
			h->length_word_complete = false;
			h->consume_pending += ALIGN(nbytes);
			*nbytesp = nbytes;
			*datap = rawdata;
			return BGW_RING_SUCCESS;
		}
		/* It wraps, or is larger than the ring: copy it together. */
		if (h->buflen < nbytes)
		{
			size_t		newlen = next_power_of_2(nbytes);

			if (newlen > BGW_RING_MAX_MESSAGE)
				newlen = BGW_RING_MAX_MESSAGE;
			if (h->buffer != NULL)
			{
				h->ops->free(h->ctx, h->buffer);
				h->buffer = NULL;
				h->buflen = 0;
			}
			h->buffer = h->ops->alloc(h->ctx, newlen);
			if (h->buffer == NULL)
			{
				fail(SQLSTATE_OUT_OF_MEMORY, "out of memory: a message of %zu bytes needs a buffer of %zu bytes",
					 nbytes, newlen);
				return BGW_RING_ERROR;
			}
			h->buflen = newlen;
		}
	}
	else
	{
		res = receive_bytes(h, nbytes - h->partial_bytes, nowait, &rb, &rawdata);
		if (res != BGW_RING_SUCCESS)
			return res;
	}

	for (;;)
	{
		size_t		still_needed = nbytes - h->partial_bytes;

		if (rb > still_needed)
			rb = still_needed;
		if (rb > 0)
		{
			memcpy(h->buffer + h->partial_bytes, rawdata, rb);
			h->partial_bytes += rb;
		}
		h->consume_pending += ALIGN(rb);
		if (h->partial_bytes >= nbytes)
			break;
		res = receive_bytes(h, nbytes - h->partial_bytes, nowait, &rb, &rawdata);
		if (res != BGW_RING_SUCCESS)
			return res;
	}
	*nbytesp = nbytes;
	*datap = h->buffer;
	h->length_word_complete = false;
	h->partial_bytes = 0;
	return BGW_RING_SUCCESS;
}

HIDDEN bgw_ring_result
bgw_ring_wait_for_attach(bgw_ring_handle *h)
{
	bgw_ring   *mq = h->queue;
	void	  **victim;

	if (load_party(&mq->mq_receiver) == h->me)
		victim = &mq->mq_sender;
	else
		victim = &mq->mq_receiver;
	return wait_internal(h, victim) ? BGW_RING_SUCCESS : BGW_RING_DETACHED;
}

/* Mark the queue detached and wake the other side of `me`. */
HIDDEN void
bgw_ring_mark_detached(bgw_ring *mq, void *me, const bgw_ring_ops *ops)
{
	void	   *victim;

	set_detached(mq);
	if (load_party(&mq->mq_sender) == me)
		victim = load_party(&mq->mq_receiver);
	else
		victim = load_party(&mq->mq_sender);
	wake(ops, mq, victim);
}

/* Publish what is pending, mark the queue detached, free the buffer. The
 * handle itself is the caller's to free. */
HIDDEN void
bgw_ring_detach(bgw_ring_handle *h)
{
	/* What was written but not yet published reaches the receiver. */
	if (h->send_pending > 0)
	{
		inc_bytes_written(h->queue, h->send_pending);
		h->send_pending = 0;
	}
	bgw_ring_mark_detached(h->queue, h->me, h->ops);
	if (h->buffer != NULL)
		h->ops->free(h->ctx, h->buffer);
	h->buffer = NULL;
	h->buflen = 0;
}
