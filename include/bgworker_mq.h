/*
 * bgworker_mq.h -- libbgworker: dynamic shared memory segments and message
 * queues for plain C hosts (no PostgreSQL headers), the pattern of
 * PostgreSQL's dynamic workers: a process creates a segment, lays out
 * queues in it, starts workers with the segment's handle in bgw_main_arg
 * (or bgw_extra), and streams messages both ways with them; either side
 * notices when the other detaches or dies.
 *
 * The segments are the supervisor's dynamic shared memory segments (the
 * ones PostgreSQL modules get from dsm_create, with the same handles,
 * reference counts, limit and clean-up) and the queues run on the same
 * ring as the modules' shm_mq, with PostgreSQL 15's protocol. Both ends of
 * one queue use this API (a module's shm_mq waits on latches, a host's
 * queue on a futex). README.md ("Data plane", "Plain C hosts") has the
 * details and examples/mq_host.c a complete program.
 *
 * Who may call: a worker, or a process attached to a supervisor with
 * bgw_attach (include/bgworker.h). Each segment and queue handle is used
 * by one thread at a time.
 *
 * Failure: a function returning a pointer returns NULL, one returning int
 * returns -1 (bgw_segment_handle and bgw_segment_size: 0), with a message
 * for bgw_last_error(); the calling process goes on (also in a worker
 * under bgworkerd: nothing here raises PostgreSQL's ERROR). A handle that
 * was detached must not be used again.
 */

#ifndef LIBBGWORKER_BGWORKER_MQ_H
#define LIBBGWORKER_BGWORKER_MQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct BackgroundWorkerHandle;

/* A segment mapped in this process, and a queue handle of this process. */
typedef struct bgw_segment bgw_segment;
typedef struct bgw_mq_handle bgw_mq_handle;

/* The smallest queue, as PostgreSQL's shm_mq_minimum_size; the ring holds
 * the size less a 56-byte header. */
#define BGW_MQ_MINIMUM_SIZE 64
/* The largest message (PostgreSQL's MaxAllocSize). */
#define BGW_MQ_MAX_MESSAGE 0x3fffffff

/* Results of bgw_mq_send, bgw_mq_receive and bgw_mq_wait_for_attach
 * (as shm_mq_result; -1: failed, see bgw_last_error()). */
#define BGW_MQ_SUCCESS 0
#define BGW_MQ_WOULD_BLOCK 1	/* only with BGW_MQ_NOWAIT */
#define BGW_MQ_DETACHED 2		/* the other side is gone */

/* Flags of bgw_mq_send and bgw_mq_receive. */
#define BGW_MQ_NOWAIT 1			/* never block: BGW_MQ_WOULD_BLOCK instead */
#define BGW_MQ_NOFLUSH 2		/* send: publish later (every quarter ring,
								 * when full, on detach), as shm_mq_send
								 * without force_flush */

/* Roles of bgw_mq_attach. */
#define BGW_MQ_SENDER 1
#define BGW_MQ_RECEIVER 2

/*
 * Segments. bgw_segment_create makes a segment of `size` bytes (zeroed;
 * mode 0600; its pages reserved, so a full /dev/shm is a failure here,
 * never a SIGBUS later) and maps it. bgw_segment_attach maps the segment
 * another process of the same supervisor created (the handle it passed
 * on); NULL if there is no such segment. A segment lives while a process
 * has it mapped (the creator included), and no longer: the last
 * bgw_segment_detach removes it; a crash cycle and the supervisor's
 * shutdown remove every segment. A process that exits without detaching
 * keeps its reference until then.
 */
bgw_segment *bgw_segment_create(size_t size);
bgw_segment *bgw_segment_attach(uint32_t handle);
uint32_t	bgw_segment_handle(bgw_segment *seg);
void	   *bgw_segment_address(bgw_segment *seg);
size_t		bgw_segment_size(bgw_segment *seg);
/* Detach this process's queues in the segment first. */
int			bgw_segment_detach(bgw_segment *seg);

/*
 * Queues. bgw_mq_create lays out an empty queue of `size` bytes at `offset`
 * (a multiple of 8) in the segment, before either side attaches.
 * bgw_mq_attach takes `role` for this process (each role is taken once)
 * and returns this process's handle; `peer` (or later bgw_mq_set_peer) is
 * the other side's worker, through which a worker that never starts or
 * has stopped is noticed (NULL: none; the other side is still noticed
 * once it has attached and its process is gone).
 */
int			bgw_mq_create(bgw_segment *seg, size_t offset, size_t size);
bgw_mq_handle *bgw_mq_attach(bgw_segment *seg, size_t offset, int role,
							 struct BackgroundWorkerHandle *peer);
int			bgw_mq_set_peer(bgw_mq_handle *mqh, struct BackgroundWorkerHandle *peer);

/*
 * Send one message of `len` bytes (up to BGW_MQ_MAX_MESSAGE; larger than
 * the ring is fine). Blocking, it returns once the whole message is in the
 * queue; with BGW_MQ_NOWAIT it may return BGW_MQ_WOULD_BLOCK after part of
 * it, and must then be called again with the same message.
 */
int			bgw_mq_send(bgw_mq_handle *mqh, const void *data, size_t len, int flags);

/*
 * Receive one message: *data and *len describe it (in the ring, or in the
 * handle's buffer when it wraps or is larger than the ring) until the next
 * call on this handle. BGW_MQ_DETACHED once the sender is gone and every
 * message it sent has been received.
 */
int			bgw_mq_receive(bgw_mq_handle *mqh, void **data, size_t *len, int flags);

/* Wait until the other side has attached (BGW_MQ_SUCCESS) or is gone
 * (BGW_MQ_DETACHED). */
int			bgw_mq_wait_for_attach(bgw_mq_handle *mqh);

/* Leave the queue: what was sent reaches the receiver, which then sees
 * BGW_MQ_DETACHED; the other side's sends see it at once. Frees mqh. */
int			bgw_mq_detach(bgw_mq_handle *mqh);

#ifdef __cplusplus
}
#endif

#endif							/* LIBBGWORKER_BGWORKER_MQ_H */
