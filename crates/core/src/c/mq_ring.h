/*
 * mq_ring.h -- the message ring behind PostgreSQL's shm_mq (the runtime's
 * c/shm_mq.c) and libbgworker's host queues (include/bgworker_mq.h): one
 * implementation, two ways of waiting.
 *
 * A queue is a header in shared memory followed by its ring; a process
 * uses it through a bgw_ring_handle of its own. What differs between a
 * PostgreSQL module and a plain C host is behind bgw_ring_ops: how the
 * other side is woken and how this side waits (latches, or a futex on the
 * header's wake word with a timed wait that also checks the peer), how the
 * handle's reassembly buffer is allocated, and how a BackgroundWorkerHandle
 * is asked whether its worker is gone. Failures are never raised here: a
 * function returns BGW_RING_ERROR (or -1) with bgw_ring_error_sqlstate()
 * and bgw_ring_error_message() set for the calling thread; the runtime turns
 * them into PostgreSQL's ERROR, the host API into bgw_last_error().
 *
 * Who may call: each handle from one thread at a time. The ops' wait may
 * leave by longjmp (a module's CHECK_FOR_INTERRUPTS): nothing here holds a
 * resource across a wait that such an exit would leak.
 */
#ifndef BGW_MQ_RING_H
#define BGW_MQ_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest message (PostgreSQL's MaxAllocSize). */
#define BGW_RING_MAX_MESSAGE ((size_t) 0x3fffffff)
/* The smallest queue: PostgreSQL's shm_mq_minimum_size. */
#define BGW_RING_MINIMUM_SIZE ((size_t) 64)

typedef enum
{
	BGW_RING_SUCCESS = 0,		/* as SHM_MQ_SUCCESS */
	BGW_RING_WOULD_BLOCK = 1,	/* as SHM_MQ_WOULD_BLOCK */
	BGW_RING_DETACHED = 2,		/* as SHM_MQ_DETACHED */
	BGW_RING_ERROR = 3			/* failed: see bgw_ring_error_message() */
} bgw_ring_result;

/*
 * The shared header (50 bytes: shm_mq_minimum_size is PostgreSQL's 64).
 * mq_sender and mq_receiver name the parties: a module's PGPROC, or a host
 * process's token (its pid shifted left by one, with the low bit set; a
 * PGPROC is aligned, so the two never meet). mq_wake is bumped on every
 * wake-up: the host ops' futex word.
 */
typedef struct bgw_ring
{
	uint32_t	mq_magic;
	uint32_t	mq_wake;
	void	   *mq_receiver;
	void	   *mq_sender;
	uint64_t	mq_bytes_read;
	uint64_t	mq_bytes_written;
	size_t		mq_ring_size;
	bool		mq_detached;
	uint8_t		mq_ring_offset;
	char		mq_ring[];
} bgw_ring;

typedef struct bgw_ring_handle bgw_ring_handle;

typedef struct bgw_ring_ops
{
	/* Wake `party` (never NULL) about a change to queue `mq`. */
	void		(*wake) (bgw_ring *mq, void *party);
	/* Wait for a wake-up of h's queue (spurious returns are fine). */
	void		(*wait) (bgw_ring_handle *h, uint32_t wait_event);
	/* Is the worker behind `worker` (a BackgroundWorkerHandle) neither
	 * started nor starting? */
	bool		(*worker_gone) (void *worker);
	/* Allocate for the reassembly buffer (NULL: out of memory), free. */
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*free) (void *ctx, void *p);
} bgw_ring_ops;

/* A process's handle on a queue; the fields are the ring's. */
struct bgw_ring_handle
{
	bgw_ring   *queue;
	const bgw_ring_ops *ops;
	void	   *ctx;			/* for ops->alloc/free */
	void	   *me;				/* this process's party */
	void	   *worker;			/* the counterparty's BackgroundWorkerHandle */
	char	   *ring;			/* checked at attach */
	size_t		ring_size;		/* checked at attach */
	char	   *buffer;
	size_t		buflen;
	size_t		consume_pending;
	size_t		send_pending;
	size_t		partial_bytes;
	size_t		expected_bytes;
	bool		length_word_complete;
	bool		counterparty_attached;
	uint32_t	wake_seen;		/* mq_wake when last looked at (host ops) */
};

typedef struct bgw_ring_iovec
{
	const char *data;
	size_t		len;
} bgw_ring_iovec;

/* PostgreSQL 15's WAIT_EVENT_MQ_* (PG_WAIT_IPC class), for ops->wait. */
#define BGW_RING_WAIT_INTERNAL (0x08000000U + 25)
#define BGW_RING_WAIT_RECEIVE (0x08000000U + 28)
#define BGW_RING_WAIT_SEND (0x08000000U + 29)

const char *bgw_ring_error_message(void);
const char *bgw_ring_error_sqlstate(void);

bgw_ring   *bgw_ring_create(void *address, size_t size);
int			bgw_ring_set_party(bgw_ring *mq, bool sender, void *party,
							   const bgw_ring_ops *ops);
void	   *bgw_ring_get_party(bgw_ring *mq, bool sender);
int			bgw_ring_check(bgw_ring *mq, const char *seg_base, size_t seg_len);
int			bgw_ring_attach(bgw_ring_handle *h, bgw_ring *mq, void *me,
							const char *seg_base, size_t seg_len, void *worker,
							const bgw_ring_ops *ops, void *ctx);
int			bgw_ring_set_worker(bgw_ring_handle *h, void *worker);
bgw_ring_result bgw_ring_sendv(bgw_ring_handle *h, const bgw_ring_iovec *iov,
							   int iovcnt, bool nowait, bool force_flush);
bgw_ring_result bgw_ring_receive(bgw_ring_handle *h, size_t *nbytesp, void **datap,
								 bool nowait);
bgw_ring_result bgw_ring_wait_for_attach(bgw_ring_handle *h);
void		bgw_ring_mark_detached(bgw_ring *mq, void *me, const bgw_ring_ops *ops);
void		bgw_ring_detach(bgw_ring_handle *h);

#endif
