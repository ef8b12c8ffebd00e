/*
 * shm_toc.c -- storage/shm_toc.h: a table of contents at the start of a
 * shared memory area, mapping 64-bit keys to offsets of chunks allocated
 * from the end of the area downwards.
 *
 * The header has PostgreSQL's size (40 bytes, 16 per entry, chunks rounded
 * to BUFFERALIGN's 32 bytes), so shm_toc_estimate gives PostgreSQL's sizes
 * and a segment laid out by a module holds what it holds there. The TOC
 * is shared by every process mapping the area: allocation and insertion
 * take its spinlock; lookup reads the entry count first, then entries
 * written before the count was raised.
 */
#include "pgcompat.h"

#include <sched.h>

#define BUFFERALIGN(len) (((Size) (len) + 31) & ~((Size) 31))
#define BUFFERALIGN_DOWN(len) (((Size) (len)) & ~((Size) 31))

typedef struct shm_toc_entry
{
	uint64_t	key;
	Size		offset;
} shm_toc_entry;

typedef struct shm_toc
{
	uint64_t	toc_magic;
	volatile unsigned char toc_mutex;
	Size		toc_total_bytes;
	Size		toc_allocated_bytes;
	uint32_t	toc_nentry;
	shm_toc_entry toc_entry[];
} shm_toc;

typedef struct shm_toc_estimator
{
	Size		space_for_chunks;
	Size		number_of_keys;
} shm_toc_estimator;

_Static_assert(offsetof(shm_toc, toc_entry) == 40, "PostgreSQL's shm_toc header");

extern Size bgw_c_add_size(Size s1, Size s2);
extern Size bgw_c_mul_size(Size s1, Size s2);

static void
toc_lock(shm_toc *toc)
{
	while (__atomic_test_and_set(&toc->toc_mutex, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void
toc_unlock(shm_toc *toc)
{
	__atomic_clear(&toc->toc_mutex, __ATOMIC_RELEASE);
}

shm_toc *
bgw_c_shm_toc_create(uint64_t magic, void *address, Size nbytes)
{
	shm_toc    *toc = (shm_toc *) address;

	if (address == NULL || nbytes <= offsetof(shm_toc, toc_entry))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("shared memory area of %zu bytes is too small for a table of contents",
												 nbytes));
	toc->toc_magic = magic;
	toc->toc_mutex = 0;
	/* The whole area, rounded down so chunks stay buffer-aligned. */
	toc->toc_total_bytes = BUFFERALIGN_DOWN(nbytes);
	toc->toc_allocated_bytes = 0;
	toc->toc_nentry = 0;
	return toc;
}

shm_toc *
bgw_c_shm_toc_attach(uint64_t magic, void *address)
{
	shm_toc    *toc = (shm_toc *) address;

	if (toc == NULL || toc->toc_magic != magic)
		return NULL;
	return toc;
}

void *
bgw_c_shm_toc_allocate(shm_toc *toc, Size nbytes)
{
	Size		total,
				allocated,
				used;

	nbytes = BUFFERALIGN(nbytes);
	toc_lock(toc);
	total = toc->toc_total_bytes;
	allocated = toc->toc_allocated_bytes;
	used = offsetof(shm_toc, toc_entry) + toc->toc_nentry * sizeof(shm_toc_entry) + allocated;
	if (used + nbytes > total || used + nbytes < used)
	{
		toc_unlock(toc);
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg_internal("out of shared memory"));
	}
	toc->toc_allocated_bytes = allocated + nbytes;
	toc_unlock(toc);
	return (char *) toc + (total - allocated - nbytes);
}

Size
bgw_c_shm_toc_freespace(shm_toc *toc)
{
	Size		header;
	Size		taken;

	toc_lock(toc);
	header = offsetof(shm_toc, toc_entry) + toc->toc_nentry * sizeof(shm_toc_entry);
	taken = toc->toc_allocated_bytes + BUFFERALIGN(header);
	toc_unlock(toc);
	return taken >= toc->toc_total_bytes ? 0 : toc->toc_total_bytes - taken;
}

void
bgw_c_shm_toc_insert(shm_toc *toc, uint64_t key, void *address)
{
	Size		offset = (char *) address - (char *) toc;
	Size		used;
	uint32_t	n;

	toc_lock(toc);
	n = toc->toc_nentry;
	used = offsetof(shm_toc, toc_entry) + n * sizeof(shm_toc_entry) + toc->toc_allocated_bytes;
	if (used + sizeof(shm_toc_entry) > toc->toc_total_bytes ||
		used + sizeof(shm_toc_entry) < used || n == UINT32_MAX)
	{
		toc_unlock(toc);
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg_internal("out of shared memory"));
	}
	toc->toc_entry[n].key = key;
	toc->toc_entry[n].offset = offset;
	/* The entry is complete before the count that publishes it. */
	__atomic_store_n(&toc->toc_nentry, n + 1, __ATOMIC_RELEASE);
	toc_unlock(toc);
}

void *
bgw_c_shm_toc_lookup(shm_toc *toc, uint64_t key, bool noError)
{
	uint32_t	n = __atomic_load_n(&toc->toc_nentry, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++)
		if (toc->toc_entry[i].key == key)
			return (char *) toc + toc->toc_entry[i].offset;
	if (!noError)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("could not find key %llu in shm TOC at %p",
												 (unsigned long long) key, (void *) toc));
	return NULL;
}

Size
bgw_c_shm_toc_estimate(shm_toc_estimator *e)
{
	Size		sz = offsetof(shm_toc, toc_entry);

	sz = bgw_c_add_size(sz, bgw_c_mul_size(e->number_of_keys, sizeof(shm_toc_entry)));
	sz = bgw_c_add_size(sz, e->space_for_chunks);
	return BUFFERALIGN(sz);
}
