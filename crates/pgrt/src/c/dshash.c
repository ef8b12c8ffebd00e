/*
 * dshash.c -- lib/dshash.h: a concurrent hash table whose entries live in a
 * dynamic shared area (c/dsa.c), shared by every process that attaches it
 * with the table's handle (a dsa_pointer to its control block).
 *
 * The design follows the semantics PostgreSQL documents for dshash:
 *
 * - The control block (TableControl, allocated in the area) holds a magic
 *   number, its own dsa_pointer (the handle), NPARTITIONS lock partitions
 *   (an LWLock of the caller's tranche and the number of entries in that
 *   partition), the bucket array's dsa_pointer and log2 of its length.
 * - An entry's 32-bit hash picks its partition by its top PARTITION_BITS
 *   bits and its bucket by its top size_log2 bits, so each partition owns a
 *   contiguous run of buckets, and holding a partition's lock (in any mode)
 *   is what entitles a process to read that partition's buckets and
 *   entries; changing them takes it exclusively.
 * - Each bucket is a singly linked chain of items (Item: the next item's
 *   dsa_pointer and the hash), the caller's entry following the item
 *   header at a MAXALIGN'd offset; the key is the entry's first key_size
 *   bytes. New items go at the head of their chain.
 * - The bucket array starts with one bucket per partition and doubles when
 *   an insertion finds its partition holding more than 3/4 of a bucket per
 *   bucket (the partition stands in for the whole table). Doubling takes
 *   every partition lock exclusively, in partition order (so it cannot
 *   deadlock with another doubling or with a scan, which also moves
 *   forward), relinks every item into a new array and frees the old one.
 *   The bucket array's pointer and size change only then, so any one
 *   partition lock keeps them stable; a process caches them and refreshes
 *   its copy after taking a partition lock (refresh_buckets).
 * - dshash_find and dshash_find_or_insert return the entry with its
 *   partition locked (shared or exclusive); the caller ends that with
 *   dshash_release_lock or dshash_delete_entry. A sequential scan holds
 *   one partition lock at a time, taking the next before releasing the
 *   previous, and holds the last until dshash_seq_term.
 *
 * The parameters struct is the major's layout (15 has no copy_function:
 * keys are copied with memcpy there). The only ERROR PostgreSQL raises
 * itself is running out of memory for the first bucket array in
 * dshash_create; allocation failures elsewhere are the area's ERRORs, and
 * the caller's hash, compare and copy functions may raise their own. In
 * every case error recovery's LWLockReleaseAll releases the partition
 * locks. Beyond PostgreSQL (which asserts or crashes there), a parameters
 * struct without its functions, an attach to a handle that is no table,
 * dshash_delete_entry of an entry not locked exclusively and
 * dshash_delete_current outside an exclusive scan's entry are ERRORs.
 *
 * Module code runs in one thread per process; a dshash_table (this
 * process's view) is palloc'd in the caller's memory context.
 */
#include "pgcompat.h"

#include <limits.h>
#include <string.h>

typedef uint64_t dsa_pointer;
typedef struct dsa_area dsa_area;
typedef uint32_t dshash_hash;

#define InvalidDsaPointer ((dsa_pointer) 0)
#define DSA_ALLOC_HUGE 0x01
#define DSA_ALLOC_NO_OOM 0x02
#define DSA_ALLOC_ZERO 0x04

#define LW_EXCLUSIVE 0
#define LW_SHARED 1

#define PARTITION_BITS 7
#define NPARTITIONS (1 << PARTITION_BITS)
#define HASH_BITS (sizeof(dshash_hash) * CHAR_BIT)
#define TABLE_MAGIC 0x64736874u		/* "dsht" */

#define ALIGN_MAX(x) (((x) + 7) & ~(size_t) 7)

typedef int (*compare_fn) (const void *a, const void *b, size_t size, void *arg);
typedef dshash_hash (*hash_fn) (const void *v, size_t size, void *arg);
typedef void (*copy_fn) (void *dest, const void *src, size_t size, void *arg);

/* dshash_parameters of PostgreSQL 15 (lib/dshash.h). */
typedef struct Params15
{
	size_t		key_size;
	size_t		entry_size;
	compare_fn	compare_function;
	hash_fn		hash_function;
	int			tranche_id;
} Params15;

/* dshash_parameters of PostgreSQL 17 and 18: copy_function added. */
typedef struct Params17
{
	size_t		key_size;
	size_t		entry_size;
	compare_fn	compare_function;
	hash_fn		hash_function;
	copy_fn		copy_function;
	int			tranche_id;
} Params17;

/* The parameters in this process, whatever the major's layout. */
typedef struct Params
{
	size_t		key_size;
	size_t		entry_size;
	compare_fn	compare;
	hash_fn		hash;
	copy_fn		copy;			/* NULL: memcpy (15) */
	int			tranche_id;
} Params;

typedef struct Item
{
	dsa_pointer next;			/* the next item in the bucket's chain */
	dshash_hash hash;			/* the entry's key's hash */
} Item;

#define ITEM_HDR ALIGN_MAX(sizeof(Item))
#define ENTRY_OF(item) ((void *) ((char *) (item) + ITEM_HDR))
#define ITEM_OF(entry) ((Item *) ((char *) (entry) - ITEM_HDR))

typedef struct Partition
{
	_Alignas(16) char lock[16];	/* an LWLock (crates/pgrt/src/lwlock.rs) */
	size_t		count;			/* entries hashed to this partition */
} Partition;

typedef struct TableControl
{
	dsa_pointer handle;			/* this block's own dsa_pointer */
	uint32_t	magic;			/* TABLE_MAGIC; 0 once destroyed */
	int			tranche_id;
	Partition	partitions[NPARTITIONS];
	dsa_pointer buckets;		/* dsa_pointer[1 << size_log2] */
	size_t		size_log2;		/* changed only under every partition lock */
} TableControl;

/* This process's view of a table (the opaque dshash_table). */
typedef struct dshash_table
{
	dsa_area   *area;
	Params		params;
	void	   *arg;
	dsa_pointer control_dp;
	TableControl *control;
	dsa_pointer *buckets;		/* valid while a partition lock is held */
	size_t		size_log2;		/* of `buckets` as this process last saw it */
} dshash_table;

/* dshash_seq_status (lib/dshash.h, the same in 15, 17 and 18): the caller
 * allocates it, so its size and field offsets are PostgreSQL's. */
typedef struct dshash_seq_status
{
	dshash_table *hash_table;
	int			curbucket;
	int			nbuckets;
	Item	   *curitem;
	dsa_pointer pnextitem;
	int			curpartition;
	bool		exclusive;
} dshash_seq_status;

extern uint32_t bgw_rs_pg_major(void);
extern bool bgw_c_LWLockAcquire(void *lock, int mode);
extern void bgw_c_LWLockRelease(void *lock);
extern void bgw_c_LWLockInitialize(void *lock, int tranche_id);
extern bool bgw_c_LWLockHeldByMeInMode(void *lock, int mode);
extern dsa_pointer bgw_c_dsa_allocate_extended(dsa_area *area, size_t size, int flags);
extern void *bgw_c_dsa_get_address(dsa_area *area, dsa_pointer dp);
extern void bgw_c_dsa_free(dsa_area *area, dsa_pointer dp);
extern uint32_t tag_hash(const void *key, Size keysize);
extern uint32_t string_hash(const void *key, Size keysize);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errdetail(const char *fmt,...) BGW_FMT(1, 2);

static inline size_t
partition_of(dshash_hash hash)
{
	return hash >> (HASH_BITS - PARTITION_BITS);
}

static inline size_t
bucket_of(dshash_hash hash, size_t size_log2)
{
	return hash >> (HASH_BITS - size_log2);
}

/* The partition that owns bucket `bucket` of an array of 1 << size_log2. */
static inline size_t
partition_of_bucket(size_t bucket, size_t size_log2)
{
	return bucket >> (size_log2 - PARTITION_BITS);
}

static inline void *
partition_lock(dshash_table *t, size_t partition)
{
	return t->control->partitions[partition].lock;
}

/* Entries a partition may hold before an insertion doubles the array:
 * 3/4 of its buckets (0 while it has one bucket). */
static inline size_t
partition_limit(size_t size_log2)
{
	size_t		per_partition = ((size_t) 1) << (size_log2 - PARTITION_BITS);

	return per_partition / 2 + per_partition / 4;
}

/* Read the caller's parameters in the major's layout; a missing function
 * is an ERROR before anything is allocated. */
static void
read_params(const void *raw, Params *out, const char *caller)
{
	if (raw == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("%s: no dshash_parameters", caller));
	if (bgw_rs_pg_major() >= 17)
	{
		const Params17 *p = raw;

		out->key_size = p->key_size;
		out->entry_size = p->entry_size;
		out->compare = p->compare_function;
		out->hash = p->hash_function;
		out->copy = p->copy_function;
		out->tranche_id = p->tranche_id;
		if (out->copy == NULL)
			bgw_ereport(ERROR, bgw_c_errmsg_internal("%s: dshash_parameters.copy_function is NULL",
													 caller));
	}
	else
	{
		const Params15 *p = raw;

		out->key_size = p->key_size;
		out->entry_size = p->entry_size;
		out->compare = p->compare_function;
		out->hash = p->hash_function;
		out->copy = NULL;
		out->tranche_id = p->tranche_id;
	}
	if (out->compare == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("%s: dshash_parameters.compare_function is NULL",
												 caller));
	if (out->hash == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("%s: dshash_parameters.hash_function is NULL",
												 caller));
}

static inline dshash_hash
hash_key(dshash_table *t, const void *key)
{
	return t->params.hash(key, t->params.key_size, t->arg);
}

static inline bool
keys_equal(dshash_table *t, const void *a, const void *b)
{
	return t->params.compare(a, b, t->params.key_size, t->arg) == 0;
}

static inline void
copy_key(dshash_table *t, void *dest, const void *src)
{
	if (t->params.copy)
		t->params.copy(dest, src, t->params.key_size, t->arg);
	else
		memcpy(dest, src, t->params.key_size);
}

static inline Item *
item_at(dshash_table *t, dsa_pointer dp)
{
	return (Item *) bgw_c_dsa_get_address(t->area, dp);
}

/* After taking any partition lock: make this process's bucket pointer
 * current (the array changes only under every partition lock). */
static inline void
refresh_buckets(dshash_table *t)
{
	if (t->size_log2 != t->control->size_log2 || t->buckets == NULL)
	{
		t->buckets = bgw_c_dsa_get_address(t->area, t->control->buckets);
		t->size_log2 = t->control->size_log2;
	}
}

static inline dsa_pointer *
bucket_for(dshash_table *t, dshash_hash hash)
{
	return &t->buckets[bucket_of(hash, t->size_log2)];
}

/* The item with `key` in the chain starting at `dp`, or NULL; the chain's
 * partition is locked. */
static Item *
find_in_chain(dshash_table *t, const void *key, dsa_pointer dp)
{
	while (dp != InvalidDsaPointer)
	{
		Item	   *item = item_at(t, dp);

		if (keys_equal(t, key, ENTRY_OF(item)))
			return item;
		dp = item->next;
	}
	return NULL;
}

/* Unlink `item` from the chain at *link and free it; the chain's partition
 * is locked exclusively. False when the item is not in the chain. */
static bool
unlink_item(dshash_table *t, Item *item, dsa_pointer *link)
{
	while (*link != InvalidDsaPointer)
	{
		dsa_pointer dp = *link;
		Item	   *cur = item_at(t, dp);

		if (cur == item)
		{
			*link = cur->next;
			bgw_c_dsa_free(t->area, dp);
			return true;
		}
		link = &cur->next;
	}
	return false;
}

/* Remove a located item, keeping its partition's count; its partition is
 * locked exclusively. */
static void
remove_item(dshash_table *t, Item *item)
{
	size_t		partition = partition_of(item->hash);

	refresh_buckets(t);
	if (unlink_item(t, item, bucket_for(t, item->hash)))
		t->control->partitions[partition].count--;
	else
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dshash: entry to delete is not in its table"));
}

/*
 * Double the bucket array to 1 << new_log2 buckets unless another process
 * already did. The caller holds no partition lock of this table.
 */
static void
grow(dshash_table *t, size_t new_log2)
{
	TableControl *c = t->control;
	dsa_pointer new_dp;
	dsa_pointer *fresh;
	dsa_pointer old_dp;
	size_t		old_n;

	for (size_t i = 0; i < NPARTITIONS; i++)
	{
		bgw_c_LWLockAcquire(partition_lock(t, i), LW_EXCLUSIVE);
		if (i == 0 && c->size_log2 >= new_log2)
		{
			/* Done by another process meanwhile. */
			bgw_c_LWLockRelease(partition_lock(t, 0));
			return;
		}
	}
	refresh_buckets(t);

	/* An ERROR here leaves the table as it was; recovery releases the
	 * locks. */
	new_dp = bgw_c_dsa_allocate_extended(t->area, sizeof(dsa_pointer) << new_log2,
										 DSA_ALLOC_HUGE | DSA_ALLOC_ZERO);
	fresh = bgw_c_dsa_get_address(t->area, new_dp);
	old_n = ((size_t) 1) << t->size_log2;
	for (size_t b = 0; b < old_n; b++)
	{
		dsa_pointer dp = t->buckets[b];

		while (dp != InvalidDsaPointer)
		{
			Item	   *item = item_at(t, dp);
			dsa_pointer next = item->next;
			dsa_pointer *head = &fresh[bucket_of(item->hash, new_log2)];

			item->next = *head;
			*head = dp;
			dp = next;
		}
	}
	old_dp = c->buckets;
	c->buckets = new_dp;
	c->size_log2 = new_log2;
	t->buckets = fresh;
	t->size_log2 = new_log2;
	bgw_c_dsa_free(t->area, old_dp);

	for (size_t i = 0; i < NPARTITIONS; i++)
		bgw_c_LWLockRelease(partition_lock(t, i));
}

static dshash_table *
new_view(dsa_area *area, const Params *params, void *arg)
{
	dshash_table *t = bgw_c_palloc(sizeof(dshash_table));

	t->area = area;
	t->params = *params;
	t->arg = arg;
	t->buckets = NULL;
	t->size_log2 = 0;
	return t;
}

dshash_table *
bgw_c_dshash_create(dsa_area *area, const void *raw_params, void *arg)
{
	Params		params;
	dshash_table *t;
	TableControl *c;
	dsa_pointer control_dp;
	dsa_pointer buckets;
	size_t		nbytes = sizeof(dsa_pointer) * NPARTITIONS;

	read_params(raw_params, &params, "dshash_create");
	t = new_view(area, &params, arg);
	control_dp = bgw_c_dsa_allocate_extended(area, sizeof(TableControl), 0);
	c = bgw_c_dsa_get_address(area, control_dp);
	c->handle = control_dp;
	c->magic = TABLE_MAGIC;
	c->tranche_id = params.tranche_id;
	for (int i = 0; i < NPARTITIONS; i++)
	{
		bgw_c_LWLockInitialize(c->partitions[i].lock, params.tranche_id);
		c->partitions[i].count = 0;
	}
	c->size_log2 = PARTITION_BITS;
	buckets = bgw_c_dsa_allocate_extended(area, nbytes, DSA_ALLOC_NO_OOM | DSA_ALLOC_ZERO);
	if (buckets == InvalidDsaPointer)
	{
		bgw_c_dsa_free(area, control_dp);
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg("out of memory"),
					bgw_c_errdetail("Failed on DSA request of size %zu.", nbytes));
	}
	c->buckets = buckets;
	t->control_dp = control_dp;
	t->control = c;
	t->buckets = bgw_c_dsa_get_address(area, buckets);
	t->size_log2 = PARTITION_BITS;
	return t;
}

dshash_table *
bgw_c_dshash_attach(dsa_area *area, const void *raw_params, dsa_pointer handle, void *arg)
{
	Params		params;
	dshash_table *t;
	TableControl *c;

	read_params(raw_params, &params, "dshash_attach");
	c = bgw_c_dsa_get_address(area, handle);
	if (c == NULL || c->magic != TABLE_MAGIC || c->handle != handle)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dshash_attach: handle %llx is not a dshash table of this area",
												 (unsigned long long) handle));
	t = new_view(area, &params, arg);
	t->control_dp = handle;
	t->control = c;
	/* The bucket array is read under a partition lock (refresh_buckets). */
	return t;
}

void
bgw_c_dshash_detach(dshash_table *t)
{
	bgw_rs_pfree(t);
}

dsa_pointer
bgw_c_dshash_get_hash_table_handle(dshash_table *t)
{
	return t->control_dp;
}

/* Free every entry, the bucket array and the control block. The caller
 * makes sure no other process uses the table any more (PostgreSQL's
 * contract); no lock is taken. */
void
bgw_c_dshash_destroy(dshash_table *t)
{
	TableControl *c = t->control;
	dsa_pointer *buckets = bgw_c_dsa_get_address(t->area, c->buckets);
	size_t		n = ((size_t) 1) << c->size_log2;

	for (size_t b = 0; b < n; b++)
	{
		dsa_pointer dp = buckets[b];

		while (dp != InvalidDsaPointer)
		{
			dsa_pointer next = item_at(t, dp)->next;

			bgw_c_dsa_free(t->area, dp);
			dp = next;
		}
	}
	c->magic = 0;
	bgw_c_dsa_free(t->area, c->buckets);
	bgw_c_dsa_free(t->area, t->control_dp);
	bgw_rs_pfree(t);
}

void *
bgw_c_dshash_find(dshash_table *t, const void *key, bool exclusive)
{
	dshash_hash hash = hash_key(t, key);
	size_t		partition = partition_of(hash);
	Item	   *item;

	bgw_c_LWLockAcquire(partition_lock(t, partition), exclusive ? LW_EXCLUSIVE : LW_SHARED);
	refresh_buckets(t);
	item = find_in_chain(t, key, *bucket_for(t, hash));
	if (item == NULL)
	{
		bgw_c_LWLockRelease(partition_lock(t, partition));
		return NULL;
	}
	/* Returned locked: dshash_release_lock or dshash_delete_entry. */
	return ENTRY_OF(item);
}

void *
bgw_c_dshash_find_or_insert(dshash_table *t, const void *key, bool *found)
{
	dshash_hash hash = hash_key(t, key);
	size_t		partition = partition_of(hash);
	Partition  *part = &t->control->partitions[partition];
	Item	   *item;

	for (;;)
	{
		bgw_c_LWLockAcquire(part->lock, LW_EXCLUSIVE);
		refresh_buckets(t);
		item = find_in_chain(t, key, *bucket_for(t, hash));
		if (item != NULL)
		{
			*found = true;
			break;
		}
		if (part->count > partition_limit(t->size_log2))
		{
			/* Too full: double (taking every lock in order), then retry. */
			size_t		want = t->size_log2 + 1;

			bgw_c_LWLockRelease(part->lock);
			grow(t, want);
			continue;
		}
		{
			dsa_pointer dp = bgw_c_dsa_allocate_extended(t->area,
														 ITEM_HDR + t->params.entry_size, 0);
			dsa_pointer *head = bucket_for(t, hash);

			item = item_at(t, dp);
			item->hash = hash;
			copy_key(t, ENTRY_OF(item), key);
			item->next = *head;
			*head = dp;
			part->count++;
		}
		*found = false;
		break;
	}
	/* Returned locked exclusively. */
	return ENTRY_OF(item);
}

bool
bgw_c_dshash_delete_key(dshash_table *t, const void *key)
{
	dshash_hash hash = hash_key(t, key);
	size_t		partition = partition_of(hash);
	Item	   *item;
	bool		found = false;

	bgw_c_LWLockAcquire(partition_lock(t, partition), LW_EXCLUSIVE);
	refresh_buckets(t);
	item = find_in_chain(t, key, *bucket_for(t, hash));
	if (item != NULL)
	{
		found = unlink_item(t, item, bucket_for(t, hash));
		if (found)
			t->control->partitions[partition].count--;
	}
	bgw_c_LWLockRelease(partition_lock(t, partition));
	return found;
}

/* `entry` came from dshash_find(exclusive) or dshash_find_or_insert and its
 * partition is still locked exclusively; the lock is released. */
void
bgw_c_dshash_delete_entry(dshash_table *t, void *entry)
{
	Item	   *item = ITEM_OF(entry);
	size_t		partition = partition_of(item->hash);

	if (!bgw_c_LWLockHeldByMeInMode(partition_lock(t, partition), LW_EXCLUSIVE))
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dshash_delete_entry: the entry is not locked exclusively by this process"));
	remove_item(t, item);
	bgw_c_LWLockRelease(partition_lock(t, partition));
}

void
bgw_c_dshash_release_lock(dshash_table *t, void *entry)
{
	bgw_c_LWLockRelease(partition_lock(t, partition_of(ITEM_OF(entry)->hash)));
}

void
bgw_c_dshash_seq_init(dshash_seq_status *s, dshash_table *t, bool exclusive)
{
	s->hash_table = t;
	s->curbucket = 0;
	s->nbuckets = 0;
	s->curitem = NULL;
	s->pnextitem = InvalidDsaPointer;
	s->curpartition = -1;
	s->exclusive = exclusive;
}

/* The next entry, its partition locked (and every partition before it
 * passed); NULL at the end, with the last partition still locked until
 * dshash_seq_term. The caller may delete the current entry
 * (dshash_delete_current) in an exclusive scan: the next item's pointer is
 * read before the entry is returned. */
void *
bgw_c_dshash_seq_next(dshash_seq_status *s)
{
	dshash_table *t = s->hash_table;
	int			mode = s->exclusive ? LW_EXCLUSIVE : LW_SHARED;
	dsa_pointer dp;

	if (s->curpartition < 0)
	{
		s->curpartition = 0;
		bgw_c_LWLockAcquire(partition_lock(t, 0), mode);
		refresh_buckets(t);
		s->nbuckets = (int) (((size_t) 1) << t->size_log2);
		s->curbucket = 0;
		dp = t->buckets[0];
	}
	else
		dp = s->pnextitem;

	while (dp == InvalidDsaPointer)
	{
		size_t		next_partition;

		if (++s->curbucket >= s->nbuckets)
			return NULL;
		next_partition = partition_of_bucket((size_t) s->curbucket, t->size_log2);
		if ((size_t) s->curpartition != next_partition)
		{
			/* The next before the current: a doubling, which takes the
			 * locks in the same order, waits for the whole scan. */
			bgw_c_LWLockAcquire(partition_lock(t, next_partition), mode);
			bgw_c_LWLockRelease(partition_lock(t, (size_t) s->curpartition));
			s->curpartition = (int) next_partition;
		}
		dp = t->buckets[s->curbucket];
	}
	s->curitem = item_at(t, dp);
	s->pnextitem = s->curitem->next;
	return ENTRY_OF(s->curitem);
}

void
bgw_c_dshash_seq_term(dshash_seq_status *s)
{
	if (s->curpartition >= 0)
		bgw_c_LWLockRelease(partition_lock(s->hash_table, (size_t) s->curpartition));
}

void
bgw_c_dshash_delete_current(dshash_seq_status *s)
{
	if (!s->exclusive || s->curpartition < 0 || s->curitem == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("dshash_delete_current: no current entry of an exclusive scan"));
	remove_item(s->hash_table, s->curitem);
}

int
bgw_c_dshash_memcmp(const void *a, const void *b, size_t size, void *arg)
{
	return memcmp(a, b, size);
}

dshash_hash
bgw_c_dshash_memhash(const void *v, size_t size, void *arg)
{
	return tag_hash(v, size);
}

void
bgw_c_dshash_memcpy(void *dest, const void *src, size_t size, void *arg)
{
	memcpy(dest, src, size);
}

int
bgw_c_dshash_strcmp(const void *a, const void *b, size_t size, void *arg)
{
	return strcmp(a, b);
}

dshash_hash
bgw_c_dshash_strhash(const void *v, size_t size, void *arg)
{
	return string_hash(v, size);
}

void
bgw_c_dshash_strcpy(void *dest, const void *src, size_t size, void *arg)
{
	strcpy(dest, src);
}

/* Every partition's entry count and each bucket's chain length, on stderr
 * (PostgreSQL's debugging aid), under every partition lock shared. */
void
bgw_c_dshash_dump(dshash_table *t)
{
	for (size_t i = 0; i < NPARTITIONS; i++)
		bgw_c_LWLockAcquire(partition_lock(t, i), LW_SHARED);
	refresh_buckets(t);
	fprintf(stderr, "hash table size = %zu\n", ((size_t) 1) << t->size_log2);
	for (size_t i = 0; i < NPARTITIONS; i++)
	{
		size_t		per = ((size_t) 1) << (t->size_log2 - PARTITION_BITS);

		fprintf(stderr, "  partition %zu\n", i);
		fprintf(stderr, "    active buckets (key count = %zu)\n",
				t->control->partitions[i].count);
		for (size_t b = i * per; b < (i + 1) * per; b++)
		{
			size_t		n = 0;

			for (dsa_pointer dp = t->buckets[b]; dp != InvalidDsaPointer; dp = item_at(t, dp)->next)
				n++;
			fprintf(stderr, "      bucket %zu (key count = %zu)\n", b, n);
		}
	}
	for (size_t i = 0; i < NPARTITIONS; i++)
		bgw_c_LWLockRelease(partition_lock(t, i));
}
