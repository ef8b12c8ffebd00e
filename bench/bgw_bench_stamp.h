/*
 * bgw_bench_stamp.h
 *		The optional payload a bench worker finds in bgw_extra.
 *
 * Shared by bgw_bench.c (the host that registers workers) and
 * bgw_bench_worker.c (the worker module).  When `magic` is set, the worker
 * writes the CLOCK_MONOTONIC time, in microseconds as a double, at which it
 * entered its main function into element `index` of the double array held by
 * the file /dev/shm/<name>.  An all-zero payload means "no stamp wanted".
 */
#ifndef BGW_BENCH_STAMP_H
#define BGW_BENCH_STAMP_H

#include <stdint.h>
#include <time.h>

#define BENCH_STAMP_MAGIC 0x42535450u	/* "BSTP" */
#define BENCH_STAMP_NAMELEN 64

typedef struct BenchStampSlot
{
	uint32_t	magic;			/* BENCH_STAMP_MAGIC, or 0: no slot */
	int32_t		index;			/* element of the array to write */
	char		name[BENCH_STAMP_NAMELEN];	/* file name under /dev/shm */
} BenchStampSlot;

/* must fit in bgw_extra (BGW_EXTRALEN = 128) */
typedef char bench_stamp_slot_fits[sizeof(BenchStampSlot) <= 128 ? 1 : -1];

/*
 * CLOCK_MONOTONIC in microseconds: system-wide, so a worker's stamp and the
 * host's clock readings are comparable.
 */
static inline double
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

#endif							/* BGW_BENCH_STAMP_H */
