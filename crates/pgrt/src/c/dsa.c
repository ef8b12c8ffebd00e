/*
 * dsa.c -- utils/dsa.h: an allocator whose memory lives in dynamic shared
 * memory segments (c/dsm.c), addressed by dsa_pointer values that are valid
 * in every process attached to the area.
 *
 * Design (simpler than PostgreSQL's spans and size classes, same API and
 * observable behaviour):
 *
 * - A dsa_pointer is (segment index << 40) | offset in that segment, as
 *   PostgreSQL's 64-bit pointers (DSA_OFFSET_WIDTH 40, 1024 segments).
 *   Segment 0 starts with the area's control block, so offset 0 of segment
 *   0 is never an allocation and InvalidDsaPointer (0) never a valid one.
 * - The control block (AreaControl) holds the area's LWLock (of the tranche
 *   the creator names), its reference count and pin, the size limit, and
 *   one slot per segment: its dsm handle and size. Every read or write of
 *   a slot, of the reference count and of a segment's heap happens under
 *   that lock; dsa_get_address alone reads without it (see there).
 * - Each segment's heap (SegHeap, after the control block in segment 0, at
 *   the start of the others) is a first-fit list of free blocks sorted by
 *   offset; a freed block is merged with free neighbours. Blocks have a
 *   16-byte header (size, magic) before the caller's bytes.
 * - A request that fits no segment gets a new one: the next in PostgreSQL's
 *   growth (the initial segment size, doubled every two segments, up to the
 *   maximum segment size), or one of its own size when the request is
 *   larger (up to what 40 offset bits address), as PostgreSQL does.
 *   A segment other than 0 whose last block is freed is destroyed at once
 *   (its slot emptied, freed_counter bumped), which is why dsa_trim has
 *   nothing left to do.
 * - Segments are created pinned (dsm_pin_segment), so that their life is
 *   the area's, not that of whoever mapped them; other processes map them
 *   lazily (dsa_get_address). A process notices destroyed segments by the
 *   freed counter and drops its stale mappings before it uses a slot.
 * - The area's references: creator 1, each dsa_attach +1, dsa_pin +1; each
 *   process's detach of segment 0 (dsa_detach, its resource owner, its
 *   exit) runs dsa_on_dsm_detach_release_in_place, -1; at 0 every segment
 *   is unpinned, so the last mapping of each removes it.
 *
 * Nothing here raises an ERROR while holding the area's lock: new segments
 * are created and mapped outside it, then installed under it.
 *
 * Module code runs in one thread per process; the dsa_area (this
 * process's view) is malloc'd and not locked.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

typedef uint32_t dsm_handle;
typedef struct dsm_segment dsm_segment;
typedef struct ResourceOwnerData *ResourceOwner;
typedef uint64_t dsa_pointer;
typedef dsm_handle dsa_handle;

#define DSM_HANDLE_INVALID 0
#define InvalidDsaPointer ((dsa_pointer) 0)
#define DSA_ALLOC_HUGE 0x01
#define DSA_ALLOC_NO_OOM 0x02
#define DSA_ALLOC_ZERO 0x04

#define LW_EXCLUSIVE 0
#define LW_SHARED 1

#define OFFSET_WIDTH 40
#define OFFSET_MASK ((((uint64_t) 1) << OFFSET_WIDTH) - 1)
#define MAX_SEGMENTS 1024
#define MAX_SEGMENT_SIZE (((size_t) 1) << OFFSET_WIDTH)
#define INIT_SEGMENT_SIZE ((size_t) 1024 * 1024)
#define SEGMENTS_AT_EACH_SIZE 2
#define MaxAllocHugeSize (SIZE_MAX / 2)

#define AREA_MAGIC 0x64736131u	/* "dsa1" */
#define HEAP_MAGIC 0x64736168u		/* "dsah" */
#define BLOCK_USED 0x75736564u		/* "used" */
#define BLOCK_FREE 0x66726565u		/* "free" */

#define ALIGN16(x) (((x) + 15) & ~(size_t) 15)

#define ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE MAKE_SQLSTATE('5','5','0','0','0')

/* A block: its header, then the caller's bytes (or, free, the next free
 * block's offset). */
typedef struct Block
{
	uint64_t	size;			/* whole block, header included, 16-aligned */
	uint32_t	magic;			/* BLOCK_USED or BLOCK_FREE */
	uint32_t	pad;
} Block;

#define BLOCK_HDR sizeof(Block)
#define MIN_BLOCK 32

/* A segment's heap, at heap_off in the segment. */
typedef struct SegHeap
{
	uint32_t	magic;
	uint32_t	index;
	uint64_t	end;			/* offset in the segment where the heap ends */
	uint64_t	first_block;	/* offset of its first block */
	uint64_t	free_head;		/* offset of the first free block; 0 none */
	uint64_t	used;			/* bytes in used blocks */
} SegHeap;

typedef struct SegSlot
{
	dsm_handle	handle;			/* DSM_HANDLE_INVALID: unused */
	uint32_t	in_use;			/* the slot holds a segment (0: in place) */
	uint64_t	size;
	uint64_t	heap_off;
} SegSlot;

typedef struct AreaControl
{
	uint32_t	magic;
	dsa_handle	handle;			/* segment 0's; invalid for in-place areas */
	char		lock[16];		/* an LWLock (crates/pgrt/src/lwlock.rs) */
	int			refcnt;
	int			pinned;
	uint64_t	total_size;		/* of every segment, segment 0 included */
	uint64_t	size_limit;
	uint64_t	init_segment_size;
	uint64_t	max_segment_size;
	uint64_t	freed_counter;	/* bumped (atomically) when a segment goes */
	uint32_t	nslots;			/* slots ever used: [0, nslots) */
	uint32_t	nsegments;		/* segments in use */
	SegSlot		slots[MAX_SEGMENTS];
} AreaControl;

typedef struct SegMap
{
	dsm_segment *segment;		/* NULL for an in-place segment 0 */
	char	   *address;		/* NULL: not mapped here */
	dsm_handle	handle;
} SegMap;

typedef struct dsa_area
{
	AreaControl *control;
	ResourceOwner resowner;
	bool		mapping_pinned;
	uint64_t	freed_seen;
	SegMap		maps[MAX_SEGMENTS];
} dsa_area;

extern ResourceOwner CurrentResourceOwner;
extern bool bgw_c_LWLockAcquire(void *lock, int mode);
extern void bgw_c_LWLockRelease(void *lock);
extern void bgw_c_LWLockInitialize(void *lock, int tranche_id);
extern bool bgw_c_LWLockHeldByMe(void *lock);
extern dsm_segment *bgw_c_dsm_create(Size size, int flags);
extern dsm_segment *bgw_c_dsm_attach(dsm_handle h);
extern void bgw_c_dsm_detach(dsm_segment *seg);
extern void bgw_c_dsm_pin_mapping(dsm_segment *seg);
extern void bgw_c_dsm_pin_segment(dsm_segment *seg);
extern void bgw_c_dsm_unpin_segment(dsm_handle handle);
extern void *bgw_c_dsm_segment_address(dsm_segment *seg);
extern dsm_handle bgw_c_dsm_segment_handle(dsm_segment *seg);
extern void bgw_c_on_dsm_detach(dsm_segment *seg, void (*f) (dsm_segment *, Datum), Datum arg);
extern uint32_t bgw_rs_pg_major(void);

void		bgw_c_dsa_on_dsm_detach_release_in_place(dsm_segment *seg, Datum place);

static inline void
lock_area(dsa_area *area, int mode)
{
	bgw_c_LWLockAcquire(area->control->lock, mode);
}

static inline void
unlock_area(dsa_area *area)
{
	bgw_c_LWLockRelease(area->control->lock);
}

static size_t
control_size(void)
{
	return ALIGN16(sizeof(AreaControl));
}

size_t
bgw_c_dsa_minimum_size(void)
{
	/* The control block, a heap header and one smallest block. */
	return control_size() + ALIGN16(sizeof(SegHeap)) + MIN_BLOCK;
}

/* Lay out an empty heap over [heap_off, end) of the segment at `base`. */
static void
init_heap(char *base, uint32_t index, uint64_t heap_off, uint64_t end)
{
	SegHeap    *h = (SegHeap *) (base + heap_off);
	uint64_t	first = heap_off + ALIGN16(sizeof(SegHeap));
	Block	   *b = (Block *) (base + first);

	h->magic = HEAP_MAGIC;
	h->index = index;
	h->end = end;
	h->first_block = first;
	h->used = 0;
	if (end >= first + MIN_BLOCK)
	{
		b->size = (end - first) & ~(uint64_t) 15;
		b->magic = BLOCK_FREE;
		*(uint64_t *) (b + 1) = 0;
		h->free_head = first;
	}
	else
		h->free_head = 0;
}

/* First fit in one heap; under the area's lock. Returns the block's
 * offset in the segment, or 0. */
static uint64_t
heap_alloc(char *base, SegHeap *h, size_t need)
{
	uint64_t   *link = &h->free_head;

	while (*link != 0)
	{
		uint64_t	off = *link;
		Block	   *b = (Block *) (base + off);
		uint64_t	next = *(uint64_t *) (b + 1);

		if (b->size >= need)
		{
			if (b->size - need >= MIN_BLOCK)
			{
				Block	   *rest = (Block *) (base + off + need);

				rest->size = b->size - need;
				rest->magic = BLOCK_FREE;
				*(uint64_t *) (rest + 1) = next;
				*link = off + need;
				b->size = need;
			}
			else
				*link = next;
			b->magic = BLOCK_USED;
			h->used += b->size;
			return off;
		}
		link = (uint64_t *) (b + 1);
	}
	return 0;
}

/* Return a block to its heap, merging it with free neighbours; under the
 * area's lock. */
static void
heap_free(char *base, SegHeap *h, uint64_t off)
{
	Block	   *b = (Block *) (base + off);
	uint64_t	prev = 0;
	uint64_t	next = h->free_head;

	h->used -= b->size;
	b->magic = BLOCK_FREE;
	while (next != 0 && next < off)
	{
		prev = next;
		next = *(uint64_t *) ((Block *) (base + next) + 1);
	}
	/* Merge with the next free block if adjacent. */
	if (next != 0 && off + b->size == next)
	{
		Block	   *n = (Block *) (base + next);

		b->size += n->size;
		next = *(uint64_t *) (n + 1);
		n->magic = 0;
	}
	*(uint64_t *) (b + 1) = next;
	if (prev != 0)
	{
		Block	   *p = (Block *) (base + prev);

		if (prev + p->size == off)
		{
			p->size += b->size;
			*(uint64_t *) (p + 1) = next;
			b->magic = 0;
		}
		else
			*(uint64_t *) (p + 1) = off;
	}
	else
		h->free_head = off;
}

/* ---- this process's mappings ---- */

static void
install_control_map(dsa_area *area, dsm_segment *seg, char *place)
{
	area->maps[0].segment = seg;
	area->maps[0].address = place;
	area->maps[0].handle = area->control->slots[0].handle;
}

/*
 * Drop mappings of segments destroyed since this process last looked.
 * Reads the slots under the lock; detaches after releasing it.
 */
static void
check_for_freed(dsa_area *area)
{
	uint64_t	now = __atomic_load_n(&area->control->freed_counter, __ATOMIC_ACQUIRE);
	dsm_segment *stale[64];
	int			nstale;

	if (now == area->freed_seen)
		return;
	do
	{
		nstale = 0;
		lock_area(area, LW_SHARED);
		now = area->control->freed_counter;
		for (int i = 1; i < MAX_SEGMENTS && nstale < 64; i++)
		{
			SegMap	   *m = &area->maps[i];

			if (m->address != NULL && area->control->slots[i].handle != m->handle)
			{
				stale[nstale++] = m->segment;
				m->segment = NULL;
				m->address = NULL;
				m->handle = DSM_HANDLE_INVALID;
			}
		}
		unlock_area(area);
		for (int i = 0; i < nstale; i++)
			bgw_c_dsm_detach(stale[i]);
	} while (nstale == 64);
	area->freed_seen = now;
}

/* Map segment `index` in this process (not under the lock). */
static char *
map_segment(dsa_area *area, int index)
{
	dsm_handle	handle;
	dsm_segment *seg;
	ResourceOwner saved = CurrentResourceOwner;

	lock_area(area, LW_SHARED);
	handle = area->control->slots[index].handle;
	unlock_area(area);
	if (handle == DSM_HANDLE_INVALID)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_area could not attach to a segment that has been freed"));
	CurrentResourceOwner = area->resowner;
	seg = bgw_c_dsm_attach(handle);
	CurrentResourceOwner = saved;
	if (seg == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_area could not attach to segment"));
	if (area->mapping_pinned)
		bgw_c_dsm_pin_mapping(seg);
	area->maps[index].segment = seg;
	area->maps[index].address = bgw_c_dsm_segment_address(seg);
	area->maps[index].handle = handle;
	return area->maps[index].address;
}

/* ---- creation and attachment ---- */

static dsa_area *
new_area(AreaControl *control)
{
	dsa_area   *area = calloc(1, sizeof(dsa_area));

	if (area == NULL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg_internal("out of memory"));
	area->control = control;
	area->resowner = CurrentResourceOwner;
	area->freed_seen = __atomic_load_n(&control->freed_counter, __ATOMIC_ACQUIRE);
	return area;
}

/* Lay out a new area's control block and segment 0 at `place`. */
static void
init_control(void *place, size_t size, int tranche_id, dsm_handle handle,
			 size_t init_segment_size, size_t max_segment_size)
{
	AreaControl *c = place;

	if (size < bgw_c_dsa_minimum_size())
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_area space must be at least %zu, but %zu provided",
												 bgw_c_dsa_minimum_size(), size));
	memset(c, 0, sizeof(*c));
	c->magic = AREA_MAGIC;
	c->handle = handle;
	bgw_c_LWLockInitialize(c->lock, tranche_id);
	c->refcnt = 1;
	c->total_size = size;
	c->size_limit = SIZE_MAX;
	c->init_segment_size = init_segment_size;
	c->max_segment_size = max_segment_size;
	c->slots[0].handle = handle;
	c->slots[0].in_use = 1;
	c->slots[0].size = size;
	c->slots[0].heap_off = control_size();
	c->nslots = 1;
	c->nsegments = 1;
	init_heap(place, 0, control_size(), size);
}

dsa_area   *
bgw_c_dsa_create_ext(int tranche_id, size_t init_segment_size, size_t max_segment_size)
{
	dsm_segment *seg;
	dsa_area   *area;
	char	   *place;

	if (init_segment_size < bgw_c_dsa_minimum_size())
		init_segment_size = bgw_c_dsa_minimum_size();
	if (max_segment_size > MAX_SEGMENT_SIZE)
		max_segment_size = MAX_SEGMENT_SIZE;
	if (max_segment_size < init_segment_size)
		max_segment_size = init_segment_size;
	seg = bgw_c_dsm_create(init_segment_size, 0);
	/* Every segment of the area is pinned: its life is the area's. */
	bgw_c_dsm_pin_segment(seg);
	place = bgw_c_dsm_segment_address(seg);
	init_control(place, init_segment_size, tranche_id, bgw_c_dsm_segment_handle(seg),
				 init_segment_size, max_segment_size);
	area = new_area((AreaControl *) place);
	install_control_map(area, seg, place);
	bgw_c_on_dsm_detach(seg, bgw_c_dsa_on_dsm_detach_release_in_place, (Datum) place);
	return area;
}

/* 15's dsa_create (17 and 18 make it a macro over dsa_create_ext). */
dsa_area   *
bgw_c_dsa_create(int tranche_id)
{
	return bgw_c_dsa_create_ext(tranche_id, INIT_SEGMENT_SIZE, MAX_SEGMENT_SIZE);
}

dsa_area   *
bgw_c_dsa_create_in_place_ext(void *place, size_t size, int tranche_id, dsm_segment *segment,
							  size_t init_segment_size, size_t max_segment_size)
{
	dsa_area   *area;

	if (max_segment_size > MAX_SEGMENT_SIZE)
		max_segment_size = MAX_SEGMENT_SIZE;
	if (init_segment_size < bgw_c_dsa_minimum_size())
		init_segment_size = bgw_c_dsa_minimum_size();
	if (max_segment_size < init_segment_size)
		max_segment_size = init_segment_size;
	init_control(place, size, tranche_id, DSM_HANDLE_INVALID, init_segment_size,
				 max_segment_size);
	area = new_area(place);
	install_control_map(area, NULL, place);
	if (segment != NULL)
		bgw_c_on_dsm_detach(segment, bgw_c_dsa_on_dsm_detach_release_in_place, (Datum) place);
	return area;
}

dsa_area   *
bgw_c_dsa_create_in_place(void *place, size_t size, int tranche_id, dsm_segment *segment)
{
	return bgw_c_dsa_create_in_place_ext(place, size, tranche_id, segment,
										 INIT_SEGMENT_SIZE, MAX_SEGMENT_SIZE);
}

/* Take a reference to the area at `control`; ERROR if it is gone. */
static void
add_reference(AreaControl *control)
{
	bool		ok;

	bgw_c_LWLockAcquire(control->lock, LW_EXCLUSIVE);
	ok = control->refcnt > 0;
	if (ok)
		control->refcnt++;
	bgw_c_LWLockRelease(control->lock);
	if (!ok)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					bgw_c_errmsg_internal("could not attach to dynamic shared area"));
}

dsa_area   *
bgw_c_dsa_attach(dsa_handle handle)
{
	dsm_segment *seg = bgw_c_dsm_attach(handle);
	AreaControl *control;
	dsa_area   *area;

	if (seg == NULL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					bgw_c_errmsg_internal("could not attach to dynamic shared area"));
	control = bgw_c_dsm_segment_address(seg);
	if (control->magic != AREA_MAGIC || control->handle != handle)
	{
		bgw_c_dsm_detach(seg);
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					bgw_c_errmsg_internal("could not attach to dynamic shared area"));
	}
	add_reference(control);
	area = new_area(control);
	install_control_map(area, seg, (char *) control);
	bgw_c_on_dsm_detach(seg, bgw_c_dsa_on_dsm_detach_release_in_place, (Datum) control);
	return area;
}

dsa_area   *
bgw_c_dsa_attach_in_place(void *place, dsm_segment *segment)
{
	dsa_area   *area;

	add_reference(place);
	area = new_area(place);
	install_control_map(area, NULL, place);
	if (segment != NULL)
		bgw_c_on_dsm_detach(segment, bgw_c_dsa_on_dsm_detach_release_in_place, (Datum) place);
	return area;
}

/*
 * Drop a reference; the last one unpins every segment, so each goes with
 * its last mapping.
 */
void
bgw_c_dsa_release_in_place(void *place)
{
	AreaControl *c = place;
	dsm_handle	unpin[MAX_SEGMENTS];
	int			n = 0;
	bool		held;

	/*
	 * A process exiting from a signal handler may have been interrupted
	 * holding the lock itself: it then counts on the lock it holds rather
	 * than wait for itself.
	 */
	held = bgw_c_LWLockHeldByMe(c->lock);
	if (!held)
		bgw_c_LWLockAcquire(c->lock, LW_EXCLUSIVE);
	if (c->refcnt > 0 && --c->refcnt == 0)
	{
		for (uint32_t i = 0; i < c->nslots; i++)
			if (c->slots[i].handle != DSM_HANDLE_INVALID)
				unpin[n++] = c->slots[i].handle;
	}
	if (!held)
		bgw_c_LWLockRelease(c->lock);
	for (int i = 0; i < n; i++)
		bgw_c_dsm_unpin_segment(unpin[i]);
}

void
bgw_c_dsa_on_dsm_detach_release_in_place(dsm_segment *seg, Datum place)
{
	(void) seg;
	bgw_c_dsa_release_in_place((void *) place);
}

void
bgw_c_dsa_on_shmem_exit_release_in_place(int code, Datum place)
{
	(void) code;
	bgw_c_dsa_release_in_place((void *) place);
}

void
bgw_c_dsa_pin_mapping(dsa_area *area)
{
	if (area->mapping_pinned)
		return;
	area->mapping_pinned = true;
	for (int i = 0; i < MAX_SEGMENTS; i++)
		if (area->maps[i].segment != NULL)
			bgw_c_dsm_pin_mapping(area->maps[i].segment);
}

void
bgw_c_dsa_detach(dsa_area *area)
{
	/* Segment 0 first: its on-detach callback drops the area's reference
	 * (and, the last, unpins the others, which then go as they are
	 * detached here or by whoever still maps them). */
	for (int i = 0; i < MAX_SEGMENTS; i++)
		if (area->maps[i].segment != NULL)
		{
			dsm_segment *seg = area->maps[i].segment;

			area->maps[i].segment = NULL;
			bgw_c_dsm_detach(seg);
		}
	free(area);
}

void
bgw_c_dsa_pin(dsa_area *area)
{
	bool		was;

	lock_area(area, LW_EXCLUSIVE);
	was = area->control->pinned;
	if (!was)
	{
		area->control->pinned = 1;
		area->control->refcnt++;
	}
	unlock_area(area);
	if (was)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_area already pinned"));
}

void
bgw_c_dsa_unpin(dsa_area *area)
{
	bool		was;

	lock_area(area, LW_EXCLUSIVE);
	was = area->control->pinned;
	if (was)
	{
		area->control->pinned = 0;
		area->control->refcnt--;
	}
	unlock_area(area);
	if (!was)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_area not pinned"));
}

void
bgw_c_dsa_set_size_limit(dsa_area *area, size_t limit)
{
	lock_area(area, LW_EXCLUSIVE);
	area->control->size_limit = limit;
	unlock_area(area);
}

size_t
bgw_c_dsa_get_total_size(dsa_area *area)
{
	size_t		size;

	lock_area(area, LW_SHARED);
	size = area->control->total_size;
	unlock_area(area);
	return size;
}

dsa_handle
bgw_c_dsa_get_handle(dsa_area *area)
{
	return area->control->handle;
}

/* ---- allocation ---- */

/* The size of the next new segment for a block of `need` bytes, or 0 if
 * the limit or the slots forbid one; under the lock. */
static size_t
next_segment_size(AreaControl *c, size_t need)
{
	size_t		min = ALIGN16(sizeof(SegHeap)) + need;
	size_t		size = c->init_segment_size;
	uint32_t	shift = c->nsegments / SEGMENTS_AT_EACH_SIZE;

	if (c->nsegments >= MAX_SEGMENTS)
		return 0;
	if (shift > 30)
		shift = 30;
	if (size <= c->max_segment_size >> shift)
		size <<= shift;
	else
		size = c->max_segment_size;
	/* A larger block gets a segment of its own, of its size: the maximum
	 * segment size bounds the growth, only the addressing bounds that. */
	if (size < min)
		size = min;
	if (size > MAX_SEGMENT_SIZE)
		return 0;
	if (c->total_size > c->size_limit || size > c->size_limit - c->total_size)
	{
		/* What the limit leaves, if that is enough. */
		if (c->total_size > c->size_limit || min > c->size_limit - c->total_size)
			return 0;
		size = c->size_limit - c->total_size;
	}
	return size;
}

/* Try every segment mapped here; under the lock. *unmapped is set when a
 * segment exists that this process has not mapped. */
static dsa_pointer
try_alloc(dsa_area *area, size_t need, bool *unmapped)
{
	AreaControl *c = area->control;

	*unmapped = false;
	for (uint32_t i = 0; i < c->nslots; i++)
	{
		SegMap	   *m = &area->maps[i];
		uint64_t	off;

		if (!c->slots[i].in_use)
			continue;
		if (m->address == NULL || m->handle != c->slots[i].handle)
		{
			*unmapped = true;
			continue;
		}
		off = heap_alloc(m->address, (SegHeap *) (m->address + c->slots[i].heap_off), need);
		if (off != 0)
			return ((dsa_pointer) i << OFFSET_WIDTH) | (off + BLOCK_HDR);
	}
	return InvalidDsaPointer;
}

/* Map every segment this process has not mapped (not under the lock). */
static void
map_all(dsa_area *area)
{
	dsm_handle	handles[MAX_SEGMENTS];
	uint32_t	n;

	check_for_freed(area);
	lock_area(area, LW_SHARED);
	n = area->control->nslots;
	for (uint32_t i = 0; i < n; i++)
		handles[i] = area->control->slots[i].handle;
	unlock_area(area);
	for (uint32_t i = 1; i < n; i++)
	{
		dsm_handle	h = handles[i];
		ResourceOwner saved = CurrentResourceOwner;
		dsm_segment *seg;

		if (h == DSM_HANDLE_INVALID || area->maps[i].handle == h)
			continue;
		if (area->maps[i].segment != NULL)
		{
			dsm_segment *old = area->maps[i].segment;

			area->maps[i].segment = NULL;
			area->maps[i].address = NULL;
			area->maps[i].handle = DSM_HANDLE_INVALID;
			bgw_c_dsm_detach(old);
		}
		/* It may be destroyed meanwhile: then it is simply skipped. */
		CurrentResourceOwner = area->resowner;
		seg = bgw_c_dsm_attach(h);
		CurrentResourceOwner = saved;
		if (seg != NULL)
		{
			if (area->mapping_pinned)
				bgw_c_dsm_pin_mapping(seg);
			area->maps[i].segment = seg;
			area->maps[i].address = bgw_c_dsm_segment_address(seg);
			area->maps[i].handle = h;
		}
	}
}

/*
 * Create a segment of `size` bytes and install it in a free slot. False
 * if the limit or the slots no longer allow it (another process took the
 * room meanwhile).
 */
static bool
add_segment(dsa_area *area, size_t size)
{
	ResourceOwner saved = CurrentResourceOwner;
	dsm_segment *seg;
	AreaControl *c = area->control;
	int			index = -1;
	dsm_handle	h;

	CurrentResourceOwner = area->resowner;
	seg = bgw_c_dsm_create(size, 0);
	CurrentResourceOwner = saved;
	bgw_c_dsm_pin_segment(seg);
	if (area->mapping_pinned)
		bgw_c_dsm_pin_mapping(seg);
	h = bgw_c_dsm_segment_handle(seg);
	lock_area(area, LW_EXCLUSIVE);
	if (c->refcnt > 0 && c->nsegments < MAX_SEGMENTS &&
		c->total_size <= c->size_limit && size <= c->size_limit - c->total_size)
	{
		for (int i = 1; i < MAX_SEGMENTS; i++)
			if (!c->slots[i].in_use)
			{
				index = i;
				break;
			}
	}
	if (index > 0)
	{
		char	   *base = bgw_c_dsm_segment_address(seg);

		init_heap(base, index, 0, size);
		c->slots[index].handle = h;
		c->slots[index].in_use = 1;
		c->slots[index].size = size;
		c->slots[index].heap_off = 0;
		if ((uint32_t) index >= c->nslots)
			c->nslots = index + 1;
		c->nsegments++;
		c->total_size += size;
		area->maps[index].segment = seg;
		area->maps[index].address = base;
		area->maps[index].handle = h;
	}
	unlock_area(area);
	if (index < 0)
	{
		bgw_c_dsm_unpin_segment(h);
		bgw_c_dsm_detach(seg);
		return false;
	}
	return true;
}

dsa_pointer
bgw_c_dsa_allocate_extended(dsa_area *area, size_t size, int flags)
{
	size_t		need;
	dsa_pointer dp = InvalidDsaPointer;

	if (((flags & DSA_ALLOC_HUGE) != 0 && size > MaxAllocHugeSize) ||
		((flags & DSA_ALLOC_HUGE) == 0 && size > MaxAllocSize))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("invalid DSA memory alloc request size %zu", size));
	need = ALIGN16(BLOCK_HDR + (size ? size : 1));
	if (need < MIN_BLOCK)
		need = MIN_BLOCK;
	for (int attempt = 0; attempt < 100; attempt++)
	{
		bool		unmapped;
		size_t		newsize;

		map_all(area);
		lock_area(area, LW_EXCLUSIVE);
		dp = try_alloc(area, need, &unmapped);
		newsize = (dp == InvalidDsaPointer && !unmapped) ? next_segment_size(area->control, need) : 0;
		unlock_area(area);
		if (dp != InvalidDsaPointer)
			break;
		if (unmapped)
			continue;			/* a segment appeared: map it, try again */
		if (newsize == 0)
			break;
		(void) add_segment(area, newsize);
	}
	if (dp == InvalidDsaPointer)
	{
		if ((flags & DSA_ALLOC_NO_OOM) == 0)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
						bgw_c_errmsg_internal("out of memory"),
						bgw_c_errdetail_internal("Failed on DSA request of size %zu.", size));
		return InvalidDsaPointer;
	}
	if (flags & DSA_ALLOC_ZERO)
		memset(area->maps[dp >> OFFSET_WIDTH].address + (dp & OFFSET_MASK), 0, size);
	return dp;
}

/*
 * The address of `dp` in this process, mapping its segment if need be.
 * Without the lock when mapped: a dsa_pointer reaches a process only after
 * its allocation, through some synchronisation, so the slot it names is
 * current; a segment destroyed and its slot reused is noticed by the freed
 * counter first.
 */
void *
bgw_c_dsa_get_address(dsa_area *area, dsa_pointer dp)
{
	uint64_t	index = dp >> OFFSET_WIDTH;

	if (dp == InvalidDsaPointer)
		return NULL;
	if (index >= MAX_SEGMENTS)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("invalid dsa_pointer " "%016llx", (unsigned long long) dp));
	check_for_freed(area);
	if (area->maps[index].address == NULL)
		map_segment(area, (int) index);
	return area->maps[index].address + (dp & OFFSET_MASK);
}

void
bgw_c_dsa_free(dsa_area *area, dsa_pointer dp)
{
	uint64_t	index = dp >> OFFSET_WIDTH;
	uint64_t	off = dp & OFFSET_MASK;
	AreaControl *c = area->control;
	char	   *base;
	bool		bad = false;
	dsm_handle	destroy = DSM_HANDLE_INVALID;
	dsm_segment *destroy_map = NULL;

	if (dp == InvalidDsaPointer || index >= MAX_SEGMENTS || off < BLOCK_HDR)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("invalid dsa_pointer " "%016llx", (unsigned long long) dp));
	base = (char *) bgw_c_dsa_get_address(area, dp) - off;
	lock_area(area, LW_EXCLUSIVE);
	{
		SegSlot    *s = &c->slots[index];
		Block	   *b = (Block *) (base + off - BLOCK_HDR);

		if (!s->in_use || s->handle != area->maps[index].handle ||
			off - BLOCK_HDR < s->heap_off || off >= s->size || b->magic != BLOCK_USED ||
			b->size > s->size - (off - BLOCK_HDR))
			bad = true;
		else
		{
			SegHeap    *h = (SegHeap *) (base + s->heap_off);

			heap_free(base, h, off - BLOCK_HDR);
			if (h->used == 0 && index != 0)
			{
				/* An empty segment goes back at once. */
				destroy = s->handle;
				destroy_map = area->maps[index].segment;
				c->total_size -= s->size;
				c->nsegments--;
				s->handle = DSM_HANDLE_INVALID;
				s->in_use = 0;
				s->size = 0;
				__atomic_add_fetch(&c->freed_counter, 1, __ATOMIC_RELEASE);
				area->maps[index].segment = NULL;
				area->maps[index].address = NULL;
				area->maps[index].handle = DSM_HANDLE_INVALID;
			}
		}
	}
	unlock_area(area);
	if (bad)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dsa_free of an invalid dsa_pointer " "%016llx",
												 (unsigned long long) dp));
	if (destroy != DSM_HANDLE_INVALID)
	{
		bgw_c_dsm_unpin_segment(destroy);
		bgw_c_dsm_detach(destroy_map);
	}
}

/* Empty segments are destroyed as soon as they are empty (dsa_free):
 * nothing is left for a trim to give back. */
void
bgw_c_dsa_trim(dsa_area *area)
{
	check_for_freed(area);
}

void
bgw_c_dsa_dump(dsa_area *area)
{
	AreaControl *c = area->control;

	map_all(area);
	lock_area(area, LW_SHARED);
	fprintf(stderr, "dsa_area handle %x:\n", c->handle);
	fprintf(stderr, "  max_total_segment_size: %llu\n", (unsigned long long) c->size_limit);
	fprintf(stderr, "  total_segment_size: %llu\n", (unsigned long long) c->total_size);
	fprintf(stderr, "  refcnt: %d\n", c->refcnt);
	fprintf(stderr, "  pinned: %c\n", c->pinned ? 't' : 'f');
	fprintf(stderr, "  segments:\n");
	for (uint32_t i = 0; i < c->nslots; i++)
	{
		SegMap	   *m = &area->maps[i];

		if (!c->slots[i].in_use)
			continue;
		fprintf(stderr, "    segment index %u, handle %u, size %llu", i,
				c->slots[i].handle, (unsigned long long) c->slots[i].size);
		if (m->address != NULL && m->handle == c->slots[i].handle)
		{
			SegHeap    *h = (SegHeap *) (m->address + c->slots[i].heap_off);
			int			nfree = 0;

			for (uint64_t f = h->free_head; f != 0; f = *(uint64_t *) ((Block *) (m->address + f) + 1))
				nfree++;
			fprintf(stderr, ", used %llu bytes, %d free blocks",
					(unsigned long long) h->used, nfree);
		}
		fprintf(stderr, "\n");
	}
	unlock_area(area);
}
