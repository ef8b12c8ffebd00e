/*
 * bgw_bench_fat.c
 *		A preload module whose _PG_init allocates a big heap and writes
 *		every page of it (BGW_BENCH_FAT_MB megabytes from the environment,
 *		default 200), as a module that builds a large cache at load time
 *		would.  Under PostgreSQL and under bgworkerd alike, every worker
 *		is forked from the process that ran _PG_init and inherits that heap
 *		(PostgreSQL's semantics), so each fork copies its page tables:
 *		bench/run.sh with FAT_MB set measures what that costs each.
 *
 * Built like the other bench modules (PGXS flags, server headers).
 */
#include "postgres.h"

#include <stdlib.h>
#include <unistd.h>

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The heap stays reachable for the life of the process; exported, so that
 * the compiler cannot prove it unread and drop the allocation.
 */
PGDLLEXPORT char *bgw_bench_fat_heap;

void
_PG_init(void)
{
	const char *env = getenv("BGW_BENCH_FAT_MB");
	size_t		mb = env ? (size_t) strtoul(env, NULL, 10) : 200;
	size_t		bytes = mb << 20;
	long		page = sysconf(_SC_PAGESIZE);

	if (bytes == 0)
		return;
	bgw_bench_fat_heap = malloc(bytes);
	if (bgw_bench_fat_heap == NULL)
		elog(FATAL, "bgw_bench_fat: could not allocate %zu MB", mb);
	for (size_t off = 0; off < bytes; off += (size_t) page)
		bgw_bench_fat_heap[off] = (char) off;
	elog(LOG, "bgw_bench_fat: %zu MB allocated and written in _PG_init", mb);
}
