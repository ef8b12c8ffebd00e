/*
 * dsm_registry.c -- GetNamedDSMSegment (storage/dsm_registry.h, PostgreSQL
 * 17 and later): a dynamic shared memory segment found by name, created
 * and initialized by its first caller, attached by the others. autoprewarm
 * (pg_prewarm) of 17 and 18 keeps its state there.
 *
 * PostgreSQL's semantics: the name must be non-empty and shorter than 64
 * bytes, the size non-zero ("DSM segment name cannot be empty", "DSM
 * segment name too long", "DSM segment size must be nonzero"); the first
 * call creates the segment, pins it and its mapping, and runs init_callback
 * on it with the registry locked, so no other process sees it before it is
 * initialized (*found false); later calls, in any process, get the same
 * segment (*found true), attaching it and pinning the mapping if this
 * process has not mapped it yet; a later call with another size is "requested
 * DSM segment size does not match size of existing segment". Segments live
 * until the supervisor's shared memory is laid out again (a crash cycle),
 * as PostgreSQL's live until the server restarts.
 *
 * Here the registry is a table in the main shared memory region, laid out
 * by the supervisor with the region (bgw_c_dsm_registry_init, before the
 * modules' shmem_startup_hook, as PostgreSQL's DSMRegistryShmemInit), and
 * guarded by its own LWLock; PostgreSQL's is a dshash table in a DSA. It
 * holds REGISTRY_CAPACITY names: one more is an ERROR naming that limit.
 * Callable in the supervisor and in workers.
 */
#include "pgcompat.h"

#include <string.h>

#define LW_EXCLUSIVE 0

typedef uint32_t dsm_handle;
typedef struct dsm_segment dsm_segment;

extern void *bgw_c_ShmemInitStruct(const char *name, Size size, bool *foundPtr);
extern uint32_t bgw_rs_pg_major(void);
extern void bgw_c_LWLockInitialize(void *lock, int tranche_id);
extern bool bgw_c_LWLockAcquire(void *lock, int mode);
extern void bgw_c_LWLockRelease(void *lock);
extern dsm_segment *bgw_c_dsm_create(Size size, int flags);
extern dsm_segment *bgw_c_dsm_attach(dsm_handle h);
extern dsm_segment *bgw_c_dsm_find_mapping(dsm_handle h);
extern void bgw_c_dsm_pin_mapping(dsm_segment *seg);
extern void bgw_c_dsm_pin_segment(dsm_segment *seg);
extern void *bgw_c_dsm_segment_address(dsm_segment *seg);
extern dsm_handle bgw_c_dsm_segment_handle(dsm_segment *seg);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

/* The longest name is 63 bytes (PostgreSQL's entry keeps 64 with the NUL). */
#define REGISTRY_NAME_LEN 64
#define REGISTRY_CAPACITY 64

typedef struct RegistryEntry
{
	char		name[REGISTRY_NAME_LEN];
	dsm_handle	handle;
	size_t		size;
} RegistryEntry;

typedef struct Registry
{
	_Alignas(16) char lock[16];	/* an LWLock (crates/pgrt/src/lwlock.rs) */
	int			used;
	int			tranche_id;
	RegistryEntry entries[REGISTRY_CAPACITY];
} Registry;

/*
 * The registry lock's tranche: PostgreSQL's built-in
 * LWTRANCHE_DSM_REGISTRY_HASH (storage/lwlock.h: 83 in 17, 85 in 18), so
 * that no user-defined tranche ID is taken and modules get the same
 * LWLockNewTrancheId numbers as under PostgreSQL. 15 has no registry (no
 * module built for it calls GetNamedDSMSegment): tranche 0 there.
 */
static int
registry_tranche(void)
{
	switch (bgw_rs_pg_major())
	{
		case 17:
			return 83;
		case 18:
			return 85;
		default:
			return 0;
	}
}

/* This process's pointer to the registry (set in the supervisor before the
 * first fork, inherited by workers). */
static Registry *registry;

/* The shared memory the registry takes (shmem.rs adds it to the region). */
size_t		bgw_c_dsm_registry_size(void);

size_t
bgw_c_dsm_registry_size(void)
{
	return sizeof(Registry);
}

/* Lay the registry out in a fresh region: the supervisor, under the shmem
 * hook guard (an ERROR becomes its FATAL), before shmem_startup_hook. */
void		bgw_c_dsm_registry_init(void);

void
bgw_c_dsm_registry_init(void)
{
	bool		found;

	registry = bgw_c_ShmemInitStruct("DSM Registry Data", sizeof(Registry), &found);
	if (!found)
	{
		registry->used = 0;
		registry->tranche_id = registry_tranche();
		bgw_c_LWLockInitialize(registry->lock, registry->tranche_id);
	}
}

void *
bgw_c_GetNamedDSMSegment(const char *name, size_t size,
						 void (*init_callback) (void *ptr), bool *found)
{
	RegistryEntry *entry = NULL;
	dsm_segment *seg;
	void	   *ret;

	if (!name || *name == '\0')
		bgw_ereport(ERROR, bgw_c_errmsg("DSM segment name cannot be empty"));
	if (strlen(name) >= REGISTRY_NAME_LEN)
		bgw_ereport(ERROR, bgw_c_errmsg("DSM segment name too long"));
	if (size == 0)
		bgw_ereport(ERROR, bgw_c_errmsg("DSM segment size must be nonzero"));
	if (registry == NULL)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("GetNamedDSMSegment: shared memory is not set up yet in this process"));

	bgw_c_LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < registry->used; i++)
	{
		if (strcmp(registry->entries[i].name, name) == 0)
		{
			entry = &registry->entries[i];
			break;
		}
	}
	*found = entry != NULL;
	if (entry == NULL)
	{
		if (registry->used >= REGISTRY_CAPACITY)
		{
			bgw_c_LWLockRelease(registry->lock);
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
						bgw_c_errmsg_internal("too many named DSM segments: libbgworker's registry holds %d",
											  REGISTRY_CAPACITY));
		}
		seg = bgw_c_dsm_create(size, 0);
		bgw_c_dsm_pin_segment(seg);
		bgw_c_dsm_pin_mapping(seg);
		entry = &registry->entries[registry->used++];
		strcpy(entry->name, name);
		entry->handle = bgw_c_dsm_segment_handle(seg);
		entry->size = size;
		ret = bgw_c_dsm_segment_address(seg);
		if (init_callback)
			(*init_callback) (ret);
	}
	else if (entry->size != size)
	{
		bgw_c_LWLockRelease(registry->lock);
		bgw_ereport(ERROR, bgw_c_errmsg("requested DSM segment size does not match size of existing segment"));
	}
	else
	{
		/* If the existing segment is not already attached, attach it now. */
		seg = bgw_c_dsm_find_mapping(entry->handle);
		if (seg == NULL)
		{
			seg = bgw_c_dsm_attach(entry->handle);
			if (seg == NULL)
			{
				bgw_c_LWLockRelease(registry->lock);
				bgw_ereport(ERROR, bgw_c_errmsg_internal("could not map dynamic shared memory segment"));
			}
			bgw_c_dsm_pin_mapping(seg);
		}
		ret = bgw_c_dsm_segment_address(seg);
	}
	bgw_c_LWLockRelease(registry->lock);
	return ret;
}
