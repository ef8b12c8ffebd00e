/*
 * mq_example.h -- the segment layout examples/mq_host.c and
 *		examples/mq_worker.c agree on: two queues per worker, back to back.
 */
#ifndef MQ_EXAMPLE_H
#define MQ_EXAMPLE_H

/* Each queue; messages of up to 3x its ring are sent through it. */
#define MQ_EXAMPLE_QUEUE_SIZE 16384
#define MQ_EXAMPLE_TO_WORKER(i) ((size_t) (2 * (i)) * MQ_EXAMPLE_QUEUE_SIZE)
#define MQ_EXAMPLE_FROM_WORKER(i) ((size_t) (2 * (i) + 1) * MQ_EXAMPLE_QUEUE_SIZE)
#define MQ_EXAMPLE_SEGMENT_SIZE(n) ((size_t) (2 * (n)) * MQ_EXAMPLE_QUEUE_SIZE)

#endif
