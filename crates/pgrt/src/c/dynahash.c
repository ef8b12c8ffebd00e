/*
 * dynahash.c -- PostgreSQL 15's hash tables (utils/hsearch.h), written
 * here against the header and the documented behaviour (PostgreSQL's
 * dynahash.c is not copied): linear hashing over a directory of segments
 * of buckets, chains in insertion order, one bucket split per insertion
 * once there are more entries than buckets (never while a sequential scan
 * is open, nor in a partitioned table), so that sequential scans visit the
 * entries in PostgreSQL's order; entries allocated in groups and recycled
 * through a free list; the key at the start of each entry.
 *
 * Shared tables (ShmemInitHash) keep their header, directory, segments
 * and entries in add-in shared memory, laid out so that they fit in
 * hash_estimate_size(max_size, entrysize) as PostgreSQL computes it; every
 * process that calls ShmemInitHash with the same name attaches to the same
 * table (the addresses are the same in every process of a supervisor).
 * Callers lock shared tables themselves, as in PostgreSQL; the free list is
 * guarded by a spinlock of its own, since partitioned tables are searched
 * under different locks.
 *
 * ERRORs (out of memory, out of shared memory, a bad flag combination) are
 * raised from C with PostgreSQL's messages; module code calls these.
 */
#include "pgcompat.h"

#include <limits.h>
#include <string.h>

#define HASH_PARTITION	0x0001
#define HASH_SEGMENT	0x0002
#define HASH_DIRSIZE	0x0004
#define HASH_ELEM		0x0008
#define HASH_STRINGS	0x0010
#define HASH_BLOBS		0x0020
#define HASH_FUNCTION	0x0040
#define HASH_COMPARE	0x0080
#define HASH_KEYCOPY	0x0100
#define HASH_ALLOC		0x0200
#define HASH_CONTEXT	0x0400
#define HASH_SHARED_MEM 0x0800
#define HASH_ATTACH		0x1000
#define HASH_FIXED_SIZE 0x2000

typedef enum
{
	HASH_FIND,
	HASH_ENTER,
	HASH_REMOVE,
	HASH_ENTER_NULL
} HASHACTION;

#define DEF_SEGSIZE 256
#define DEF_SEGSIZE_SHIFT 8
#define DEF_DIRSIZE 256
#define NUM_FREELISTS 32
#define MAX_SEQ_SCANS 100
#define MAXALIGN(x) (((uintptr_t) (x) + 7) & ~((uintptr_t) 7))

typedef uint32_t (*HashValueFunc) (const void *key, Size keysize);
typedef int (*HashCompareFunc) (const void *key1, const void *key2, Size keysize);
typedef void *(*HashCopyFunc) (void *dest, const void *src, Size keysize);
typedef void *(*HashAllocFunc) (Size request);

typedef struct HASHELEMENT
{
	struct HASHELEMENT *link;
	uint32_t	hashvalue;
} HASHELEMENT;

typedef HASHELEMENT *HASHBUCKET;
typedef HASHBUCKET *HASHSEGMENT;

/*
 * The header: in shared memory for a shared table. Its size is that of
 * PostgreSQL 15's HASHHDR (848 bytes), which hash_estimate_size counts.
 */
typedef union HASHHDR
{
	struct
	{
		volatile int freelist_lock; /* shared tables: guards the free list */
		long		nentries;
		HASHELEMENT *freelist;
		long		dsize;
		long		nsegs;
		uint32_t	max_bucket;
		uint32_t	high_mask;
		uint32_t	low_mask;
		Size		keysize;
		Size		entrysize;
		long		num_partitions;
		long		max_dsize;
		long		ssize;
		int			sshift;
		int			nelem_alloc;
		HASHSEGMENT *dir;		/* the directory (shared: after the header) */
	};
	char		reserved[848];
} HASHHDR;

_Static_assert(sizeof(HASHHDR) == 848, "the header PostgreSQL 15's estimate counts");

typedef struct HASHCTL
{
	long		num_partitions;
	long		ssize;
	long		dsize;
	long		max_dsize;
	Size		keysize;
	Size		entrysize;
	HashValueFunc hash;
	HashCompareFunc match;
	HashCopyFunc keycopy;
	HashAllocFunc alloc;
	MemoryContext hcxt;
	HASHHDR    *hctl;
} HASHCTL;

/* The per-process handle (palloc'd; for a shared table it points at the
 * shared header). */
typedef struct HTAB
{
	HASHHDR    *hctl;
	HashValueFunc hash;
	HashCompareFunc match;
	HashCopyFunc keycopy;
	HashAllocFunc alloc;
	MemoryContext hcxt;			/* local tables: their own memory context */
	char	   *tabname;
	bool		isshared;
	bool		frozen;
	bool		isfixed;		/* HASH_FIXED_SIZE: no entries beyond the first */
	Size		keysize;
	long		ssize;
	int			sshift;
} HTAB;

typedef struct
{
	HTAB	   *hashp;
	uint32_t	curBucket;
	HASHELEMENT *curEntry;
} HASH_SEQ_STATUS;

#define ELEMENTKEY(helem) (((char *) (helem)) + MAXALIGN(sizeof(HASHELEMENT)))
#define ELEMENT_FROM_KEY(key) \
	((HASHELEMENT *) (((char *) (key)) - MAXALIGN(sizeof(HASHELEMENT))))

extern uint32_t string_hash(const void *key, Size keysize);
extern uint32_t tag_hash(const void *key, Size keysize);
extern uint32_t uint32_hash(const void *key, Size keysize);
extern size_t strlcpy(char *dst, const char *src, size_t siz);
extern void *ShmemInitStruct(const char *name, Size size, bool *foundPtr);
extern void *ShmemAllocNoError(Size size);
extern MemoryContext TopMemoryContext;
extern void *AllocSetContextCreateInternal(MemoryContext parent, const char *name, Size minContextSize,
										   Size initBlockSize, Size maxBlockSize);
extern void *bgw_c_MemoryContextAlloc(MemoryContext context, Size size);
extern void bgw_rs_pfree(void *pointer);
extern void MemoryContextDelete(MemoryContext context);

/* Open sequential scans of this process (PostgreSQL's seq_scan_tables):
 * a table with one is not split. */
static HTAB *seq_scan_tables[MAX_SEQ_SCANS];
static int	num_seq_scans = 0;

static int
string_compare(const void *key1, const void *key2, Size keysize)
{
	return strncmp(key1, key2, keysize - 1);
}

static void *
string_copy(void *dest, const void *src, Size keysize)
{
	strlcpy(dest, src, keysize);
	return dest;
}

static int
my_log2(long num)
{
	int			i;
	long		limit;

	if (num > LONG_MAX / 2)
		num = LONG_MAX / 2;
	for (i = 0, limit = 1; limit < num; i++, limit <<= 1)
		;
	return i;
}

static long
next_pow2_long(long num)
{
	return 1L << my_log2(num);
}

static int
next_pow2_int(long num)
{
	if (num > INT_MAX / 2)
		num = INT_MAX / 2;
	return 1 << my_log2(num);
}

static void *
hash_alloc(HTAB *hashp, Size size)
{
	if (hashp->alloc)
		return hashp->alloc(size);
	return bgw_c_MemoryContextAlloc(hashp->hcxt, size);
}

static void
freelist_lock(HTAB *hashp)
{
	if (hashp->isshared)
		while (__atomic_exchange_n(&hashp->hctl->freelist_lock, 1, __ATOMIC_ACQUIRE))
			;
}

static void
freelist_unlock(HTAB *hashp)
{
	if (hashp->isshared)
		__atomic_store_n(&hashp->hctl->freelist_lock, 0, __ATOMIC_RELEASE);
}

/* How many entries to allocate at once: at least 32, rounded so that the
 * request is a power of two or just under (PostgreSQL's rule). */
static int
choose_nelem_alloc(Size entrysize)
{
	Size		elementSize = MAXALIGN(sizeof(HASHELEMENT)) + MAXALIGN(entrysize);
	Size		allocSize = 32 * 4;
	int			nelem_alloc;

	do
	{
		allocSize <<= 1;
		nelem_alloc = allocSize / elementSize;
	} while (nelem_alloc < 32);
	return nelem_alloc;
}

static bool
element_alloc(HTAB *hashp, int nelem)
{
	HASHHDR    *hctl = hashp->hctl;
	Size		elementSize;
	HASHELEMENT *firstElement;
	HASHELEMENT *tmpElement;
	HASHELEMENT *prevElement;
	int			i;

	if (hashp->isfixed)
		return false;
	elementSize = MAXALIGN(sizeof(HASHELEMENT)) + MAXALIGN(hctl->entrysize);
	firstElement = hash_alloc(hashp, nelem * elementSize);
	if (!firstElement)
		return false;
	prevElement = NULL;
	tmpElement = firstElement;
	for (i = 0; i < nelem; i++)
	{
		tmpElement->link = prevElement;
		prevElement = tmpElement;
		tmpElement = (HASHELEMENT *) (((char *) tmpElement) + elementSize);
	}
	freelist_lock(hashp);
	firstElement->link = hctl->freelist;
	hctl->freelist = prevElement;
	freelist_unlock(hashp);
	return true;
}

static HASHSEGMENT
seg_alloc(HTAB *hashp)
{
	HASHSEGMENT segp = hash_alloc(hashp, sizeof(HASHBUCKET) * hashp->ssize);

	if (segp)
		memset(segp, 0, sizeof(HASHBUCKET) * hashp->ssize);
	return segp;
}

static bool
dir_realloc(HTAB *hashp)
{
	HASHHDR    *hctl = hashp->hctl;
	HASHSEGMENT *p;
	long		new_dsize;

	if (hctl->max_dsize != -1)
		return false;			/* a fixed directory (shared tables) */
	new_dsize = hctl->dsize << 1;
	p = hash_alloc(hashp, new_dsize * sizeof(HASHSEGMENT));
	if (!p)
		return false;
	memcpy(p, hctl->dir, hctl->dsize * sizeof(HASHSEGMENT));
	memset(p + hctl->dsize, 0, (new_dsize - hctl->dsize) * sizeof(HASHSEGMENT));
	bgw_rs_pfree(hctl->dir);
	hctl->dir = p;
	hctl->dsize = new_dsize;
	return true;
}

static inline uint32_t
calc_bucket(HASHHDR *hctl, uint32_t hash_val)
{
	uint32_t	bucket = hash_val & hctl->high_mask;

	if (bucket > hctl->max_bucket)
		bucket = bucket & hctl->low_mask;
	return bucket;
}

static inline HASHBUCKET *
bucket_ptr(HTAB *hashp, uint32_t bucket)
{
	HASHSEGMENT segp = hashp->hctl->dir[bucket >> hashp->sshift];

	return &segp[bucket & (hashp->ssize - 1)];
}

/* One more bucket: the split of the bucket whose entries now divide
 * between it and the new one, each keeping its order. */
static bool
expand_table(HTAB *hashp)
{
	HASHHDR    *hctl = hashp->hctl;
	long		new_bucket = hctl->max_bucket + 1;
	long		new_segnum = new_bucket >> hashp->sshift;
	long		new_segndx = new_bucket & (hashp->ssize - 1);
	long		old_bucket;
	HASHBUCKET *oldlink;
	HASHBUCKET *newlink;
	HASHBUCKET	currElement;
	HASHBUCKET	nextElement;

	if (new_segnum >= hctl->nsegs)
	{
		if (new_segnum >= hctl->dsize && !dir_realloc(hashp))
			return false;
		if (!(hctl->dir[new_segnum] = seg_alloc(hashp)))
			return false;
		hctl->nsegs++;
	}
	hctl->max_bucket++;
	old_bucket = new_bucket & hctl->low_mask;
	if ((uint32_t) new_bucket > hctl->high_mask)
	{
		hctl->low_mask = hctl->high_mask;
		hctl->high_mask = (uint32_t) new_bucket | hctl->low_mask;
	}
	oldlink = bucket_ptr(hashp, old_bucket);
	newlink = &hctl->dir[new_segnum][new_segndx];
	for (currElement = *oldlink; currElement != NULL; currElement = nextElement)
	{
		nextElement = currElement->link;
		if ((long) calc_bucket(hctl, currElement->hashvalue) == old_bucket)
		{
			*oldlink = currElement;
			oldlink = &currElement->link;
		}
		else
		{
			*newlink = currElement;
			newlink = &currElement->link;
		}
	}
	*oldlink = NULL;
	*newlink = NULL;
	return true;
}

static bool
init_htab(HTAB *hashp, long nelem)
{
	HASHHDR    *hctl = hashp->hctl;
	int			nbuckets;
	int			nsegs;
	HASHSEGMENT *segp;

	nbuckets = next_pow2_int(nelem);
	while (nbuckets < hctl->num_partitions)
		nbuckets <<= 1;
	hctl->max_bucket = hctl->low_mask = nbuckets - 1;
	hctl->high_mask = (nbuckets << 1) - 1;
	nsegs = (nbuckets - 1) / hctl->ssize + 1;
	nsegs = next_pow2_int(nsegs);
	if (nsegs > hctl->dsize)
	{
		if (!hctl->dir)
			hctl->dsize = nsegs;
		else
			return false;
	}
	if (!hctl->dir)
	{
		hctl->dir = hash_alloc(hashp, hctl->dsize * sizeof(HASHSEGMENT));
		if (!hctl->dir)
			return false;
	}
	memset(hctl->dir, 0, hctl->dsize * sizeof(HASHSEGMENT));
	for (segp = hctl->dir; hctl->nsegs < nsegs; hctl->nsegs++, segp++)
	{
		*segp = seg_alloc(hashp);
		if (*segp == NULL)
			return false;
	}
	hctl->nelem_alloc = choose_nelem_alloc(hctl->entrysize);
	return true;
}

void *
bgw_c_hash_create(const char *tabname, long nelem, const HASHCTL *info, int flags)
{
	HTAB	   *hashp;
	HASHHDR    *hctl;
	MemoryContext cxt;

	if (!(flags & HASH_ELEM))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("hash_create: HASH_ELEM is required"));
	if ((flags & (HASH_STRINGS | HASH_BLOBS | HASH_FUNCTION)) == 0 ||
		((flags & HASH_STRINGS) && (flags & (HASH_BLOBS | HASH_FUNCTION))) ||
		((flags & HASH_BLOBS) && (flags & HASH_FUNCTION)))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("hash_create: exactly one of HASH_STRINGS, HASH_BLOBS and HASH_FUNCTION is required"));

	/* Local tables live in a memory context of their own. */
	if (flags & HASH_SHARED_MEM)
		cxt = TopMemoryContext;
	else
		cxt = AllocSetContextCreateInternal((flags & HASH_CONTEXT) ? info->hcxt : TopMemoryContext,
											"dynahash", 0, 8 * 1024, 8 * 1024 * 1024);
	hashp = bgw_c_MemoryContextAlloc(cxt, sizeof(HTAB) + strlen(tabname) + 1);
	memset(hashp, 0, sizeof(HTAB));
	hashp->tabname = (char *) (hashp + 1);
	strcpy(hashp->tabname, tabname);
	hashp->hcxt = cxt;

	if (flags & HASH_FUNCTION)
		hashp->hash = info->hash;
	else if (flags & HASH_BLOBS)
		hashp->hash = info->keysize == sizeof(uint32_t) ? uint32_hash : tag_hash;
	else
		hashp->hash = string_hash;
	if (flags & HASH_COMPARE)
		hashp->match = info->match;
	else if (hashp->hash == string_hash)
		hashp->match = string_compare;
	else
		hashp->match = (HashCompareFunc) memcmp;
	if (flags & HASH_KEYCOPY)
		hashp->keycopy = info->keycopy;
	else if (hashp->hash == string_hash)
		hashp->keycopy = string_copy;
	else
		hashp->keycopy = (HashCopyFunc) memcpy;
	if (flags & HASH_ALLOC)
		hashp->alloc = info->alloc;

	if (flags & HASH_SHARED_MEM)
	{
		hashp->hctl = info->hctl;
		hashp->isshared = true;
		if (flags & HASH_ATTACH)
		{
			hctl = hashp->hctl;
			hashp->keysize = hctl->keysize;
			hashp->ssize = hctl->ssize;
			hashp->sshift = hctl->sshift;
			return hashp;
		}
	}
	else
	{
		hashp->hctl = bgw_c_MemoryContextAlloc(cxt, sizeof(HASHHDR));
		hashp->isshared = false;
	}
	hctl = hashp->hctl;
	memset(hctl, 0, sizeof(HASHHDR));
	hctl->dsize = DEF_DIRSIZE;
	hctl->max_dsize = -1;
	hctl->ssize = DEF_SEGSIZE;
	hctl->sshift = DEF_SEGSIZE_SHIFT;
	if (flags & HASH_PARTITION)
		hctl->num_partitions = info->num_partitions;
	if (flags & HASH_SEGMENT)
	{
		hctl->ssize = info->ssize;
		hctl->sshift = my_log2(info->ssize);
	}
	if (flags & HASH_DIRSIZE)
	{
		hctl->max_dsize = info->max_dsize;
		hctl->dsize = info->dsize;
	}
	hctl->keysize = info->keysize;
	hctl->entrysize = info->entrysize;
	hashp->keysize = hctl->keysize;
	hashp->ssize = hctl->ssize;
	hashp->sshift = hctl->sshift;
	if (hashp->isshared)
		hctl->dir = (HASHSEGMENT *) (((char *) hctl) + sizeof(HASHHDR));

	if (!init_htab(hashp, nelem))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("failed to initialize hash table \"%s\"", hashp->tabname));

	/*
	 * A shared table gets its entries now (fewer run-time shortages of
	 * shared memory); so does a local one smaller than one allocation
	 * group. A partitioned table spreads them over 32 free lists in
	 * PostgreSQL, at least one each: as many here, on one list.
	 */
	if ((flags & HASH_SHARED_MEM) || nelem < hctl->nelem_alloc)
	{
		int			partitions = hctl->num_partitions ? NUM_FREELISTS : 1;
		long		per = nelem / partitions > 0 ? nelem / partitions : 1;
		long		first = per * partitions < nelem ? nelem - per * (partitions - 1) : per;
		long		total = first + per * (partitions - 1);

		if (!element_alloc(hashp, (int) total))
			bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_OUT_OF_MEMORY), bgw_c_errmsg_internal("out of memory")));
	}
	if (flags & HASH_FIXED_SIZE)
		hashp->isfixed = true;
	return hashp;
}

void
bgw_c_hash_destroy(HTAB *hashp)
{
	if (hashp == NULL)
		return;
	if (hashp->isshared)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("cannot destroy shared hash table \"%s\"", hashp->tabname));
	MemoryContextDelete(hashp->hcxt);
}

uint32_t
bgw_c_get_hash_value(HTAB *hashp, const void *keyPtr)
{
	return hashp->hash(keyPtr, hashp->keysize);
}

static bool
has_seq_scans(HTAB *hashp)
{
	for (int i = 0; i < num_seq_scans; i++)
		if (seq_scan_tables[i] == hashp)
			return true;
	return false;
}

void *
bgw_c_hash_search_with_hash_value(HTAB *hashp, const void *keyPtr, uint32_t hashvalue,
								  HASHACTION action, bool *foundPtr)
{
	HASHHDR    *hctl = hashp->hctl;
	HASHBUCKET	currBucket;
	HASHBUCKET *prevBucketPtr;
	Size		keysize = hashp->keysize;

	if ((action == HASH_ENTER || action == HASH_ENTER_NULL) &&
		hctl->nentries > (long) hctl->max_bucket &&
		hctl->num_partitions == 0 && !hashp->frozen && !has_seq_scans(hashp))
		(void) expand_table(hashp);

	prevBucketPtr = bucket_ptr(hashp, calc_bucket(hctl, hashvalue));
	currBucket = *prevBucketPtr;
	while (currBucket != NULL)
	{
		if (currBucket->hashvalue == hashvalue &&
			hashp->match(ELEMENTKEY(currBucket), keyPtr, keysize) == 0)
			break;
		prevBucketPtr = &(currBucket->link);
		currBucket = *prevBucketPtr;
	}
	if (foundPtr)
		*foundPtr = (currBucket != NULL);

	switch (action)
	{
		case HASH_FIND:
			return currBucket ? (void *) ELEMENTKEY(currBucket) : NULL;
		case HASH_REMOVE:
			if (currBucket == NULL)
				return NULL;
			*prevBucketPtr = currBucket->link;
			freelist_lock(hashp);
			hctl->nentries--;
			currBucket->link = hctl->freelist;
			hctl->freelist = currBucket;
			freelist_unlock(hashp);
			/* the entry stays readable until the next insertion */
			return (void *) ELEMENTKEY(currBucket);
		case HASH_ENTER:
		case HASH_ENTER_NULL:
			if (currBucket != NULL)
				return (void *) ELEMENTKEY(currBucket);
			if (hashp->frozen)
				bgw_ereport(ERROR, bgw_c_errmsg_internal("cannot insert into frozen hashtable \"%s\"",
														 hashp->tabname));
			for (;;)
			{
				freelist_lock(hashp);
				currBucket = hctl->freelist;
				if (currBucket != NULL)
				{
					hctl->freelist = currBucket->link;
					hctl->nentries++;
				}
				freelist_unlock(hashp);
				if (currBucket != NULL)
					break;
				if (!element_alloc(hashp, hctl->nelem_alloc))
				{
					if (action == HASH_ENTER_NULL)
						return NULL;
					if (hashp->isshared)
						bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
											bgw_c_errmsg_internal("out of shared memory")));
					bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
										bgw_c_errmsg_internal("out of memory")));
				}
			}
			*prevBucketPtr = currBucket;
			currBucket->link = NULL;
			currBucket->hashvalue = hashvalue;
			hashp->keycopy(ELEMENTKEY(currBucket), keyPtr, keysize);
			return (void *) ELEMENTKEY(currBucket);
	}
	bgw_ereport(ERROR, bgw_c_errmsg_internal("unrecognized hash action code: %d", (int) action));
	return NULL;
}

void *
bgw_c_hash_search(HTAB *hashp, const void *keyPtr, HASHACTION action, bool *foundPtr)
{
	return bgw_c_hash_search_with_hash_value(hashp, keyPtr, hashp->hash(keyPtr, hashp->keysize),
											 action, foundPtr);
}

/*
 * hash_update_hash_key: give an entry a new key, moving it to the end of
 * the new key's chain (left in place when the bucket is the same); false,
 * with nothing changed, when another entry has the new key. The entry must
 * be one of the table's (an ERROR otherwise), and a frozen table cannot
 * change (an ERROR), as in PostgreSQL.
 */
bool
bgw_c_hash_update_hash_key(HTAB *hashp, void *existingEntry, const void *newKeyPtr)
{
	HASHHDR    *hctl = hashp->hctl;
	HASHELEMENT *existing = ELEMENT_FROM_KEY(existingEntry);
	Size		keysize = hashp->keysize;
	uint32_t	oldbucket,
				newbucket,
				newhash;
	HASHBUCKET *oldPrev;
	HASHBUCKET *prev;
	HASHBUCKET	cur;

	if (hashp->frozen)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("cannot update in frozen hashtable \"%s\"",
												 hashp->tabname));

	/* The entry's place in its chain, found through its saved hash. */
	oldbucket = calc_bucket(hctl, existing->hashvalue);
	oldPrev = bucket_ptr(hashp, oldbucket);
	for (cur = *oldPrev; cur != NULL && cur != existing; cur = *oldPrev)
		oldPrev = &cur->link;
	if (cur == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("hash_update_hash_key argument is not in hashtable \"%s\"",
												 hashp->tabname));

	/* The new key's chain, checked for the key, to its end. */
	newhash = hashp->hash(newKeyPtr, keysize);
	newbucket = calc_bucket(hctl, newhash);
	prev = bucket_ptr(hashp, newbucket);
	for (cur = *prev; cur != NULL; cur = *prev)
	{
		if (cur->hashvalue == newhash && hashp->match(ELEMENTKEY(cur), newKeyPtr, keysize) == 0)
			return false;
		prev = &cur->link;
	}

	/* Within one chain the links stay as they are (relinking the last
	 * element onto itself would break the chain). */
	if (oldbucket != newbucket)
	{
		*oldPrev = existing->link;
		*prev = existing;
		existing->link = NULL;
	}
	existing->hashvalue = newhash;
	hashp->keycopy(ELEMENTKEY(existing), newKeyPtr, keysize);
	return true;
}

long
bgw_c_hash_get_num_entries(HTAB *hashp)
{
	return hashp->hctl->nentries;
}

void
bgw_c_hash_seq_init(HASH_SEQ_STATUS *status, HTAB *hashp)
{
	status->hashp = hashp;
	status->curBucket = 0;
	status->curEntry = NULL;
	if (!hashp->frozen)
	{
		if (num_seq_scans >= MAX_SEQ_SCANS)
			bgw_ereport(ERROR, bgw_c_errmsg_internal("too many active hash_seq_search scans, cannot start one on \"%s\"",
													 hashp->tabname));
		seq_scan_tables[num_seq_scans++] = hashp;
	}
}

void
bgw_c_hash_seq_term(HASH_SEQ_STATUS *status)
{
	HTAB	   *hashp = status->hashp;

	if (hashp->frozen)
		return;
	for (int i = num_seq_scans - 1; i >= 0; i--)
		if (seq_scan_tables[i] == hashp)
		{
			seq_scan_tables[i] = seq_scan_tables[num_seq_scans - 1];
			num_seq_scans--;
			return;
		}
	bgw_ereport(ERROR, bgw_c_errmsg_internal("no hash_seq_search scan for hash table \"%s\"",
											 hashp->tabname));
}

void *
bgw_c_hash_seq_search(HASH_SEQ_STATUS *status)
{
	HTAB	   *hashp = status->hashp;
	HASHHDR    *hctl = hashp->hctl;
	HASHELEMENT *curElem;
	uint32_t	curBucket;

	if ((curElem = status->curEntry) != NULL)
	{
		status->curEntry = curElem->link;
		if (status->curEntry == NULL)
			++status->curBucket;
		return (void *) ELEMENTKEY(curElem);
	}
	for (curBucket = status->curBucket; curBucket <= hctl->max_bucket; curBucket++)
	{
		curElem = *bucket_ptr(hashp, curBucket);
		if (curElem != NULL)
			break;
	}
	if (curBucket > hctl->max_bucket)
	{
		bgw_c_hash_seq_term(status);
		return NULL;
	}
	status->curBucket = curBucket;
	status->curEntry = curElem->link;
	if (status->curEntry == NULL)
		++status->curBucket;
	return (void *) ELEMENTKEY(curElem);
}

/* No more insertions (nor splits); scans no longer need registering. */
void
bgw_c_hash_freeze(HTAB *hashp)
{
	if (hashp->isshared)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("cannot freeze shared hashtable \"%s\"", hashp->tabname));
	if (!hashp->frozen && has_seq_scans(hashp))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("cannot freeze hashtable \"%s\" because it has active scans",
												 hashp->tabname));
	hashp->frozen = true;
}

/* PostgreSQL's estimate of a shared table's size, which modules add to
 * their shared memory request; ShmemInitHash's table fits in it. */
Size
bgw_c_hash_estimate_size(long num_entries, Size entrysize)
{
	long		nBuckets = next_pow2_long(num_entries);
	long		nSegments = next_pow2_long((nBuckets - 1) / DEF_SEGSIZE + 1);
	long		nDirEntries = DEF_DIRSIZE;
	long		elementAllocCnt;
	long		nElementAllocs;
	Size		elementSize;
	Size		size;

	while (nDirEntries < nSegments)
		nDirEntries <<= 1;
	size = MAXALIGN(sizeof(HASHHDR));
	size += nDirEntries * sizeof(HASHSEGMENT);
	size += nSegments * MAXALIGN(DEF_SEGSIZE * sizeof(HASHBUCKET));
	elementAllocCnt = choose_nelem_alloc(entrysize);
	nElementAllocs = (num_entries - 1) / elementAllocCnt + 1;
	elementSize = MAXALIGN(sizeof(HASHELEMENT)) + MAXALIGN(entrysize);
	size += nElementAllocs * elementAllocCnt * elementSize;
	return size;
}

long
bgw_c_hash_select_dirsize(long num_entries)
{
	long		nBuckets = next_pow2_long(num_entries);
	long		nSegments = next_pow2_long((nBuckets - 1) / DEF_SEGSIZE + 1);
	long		nDirEntries = DEF_DIRSIZE;

	while (nDirEntries < nSegments)
		nDirEntries <<= 1;
	return nDirEntries;
}

Size
bgw_c_hash_get_shared_size(HASHCTL *info, int flags)
{
	(void) flags;
	return sizeof(HASHHDR) + info->dsize * sizeof(HASHSEGMENT);
}

void *
bgw_c_ShmemInitHash(const char *name, long init_size, long max_size, HASHCTL *infoP, int hash_flags)
{
	bool		found;
	void	   *location;

	infoP->dsize = infoP->max_dsize = bgw_c_hash_select_dirsize(max_size);
	infoP->alloc = ShmemAllocNoError;
	hash_flags |= HASH_SHARED_MEM | HASH_ALLOC | HASH_DIRSIZE;
	location = ShmemInitStruct(name, bgw_c_hash_get_shared_size(infoP, hash_flags), &found);
	if (found)
		hash_flags |= HASH_ATTACH;
	infoP->hctl = location;
	return bgw_c_hash_create(name, init_size, infoP, hash_flags);
}
