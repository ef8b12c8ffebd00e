/*
 * dsm.c -- storage/dsm.h and the resource owners that hold mappings
 * (utils/resowner.h): the per-process side of dynamic shared memory.
 *
 * The mechanism (segments, the control segment's reference counts) is the
 * core's (crates/core/src/dsm), reached through the Rust shims of
 * src/dsm.rs, which record an ERROR for this file to raise once they have
 * returned. Here: each process's list of mappings (descriptors), the
 * on-detach callbacks, which resource owner holds a mapping, and release
 * at exit (dsm_backend_shutdown, called by proc_exit between the
 * before_shmem_exit and on_shmem_exit callbacks, as in PostgreSQL).
 *
 * Module code runs in one thread per process; nothing here is locked.
 * Descriptors and resource owners are malloc'd, as PostgreSQL keeps them in
 * TopMemoryContext (never freed by a context reset).
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

typedef uint32_t dsm_handle;
typedef struct dsm_segment dsm_segment;
typedef void (*on_dsm_detach_callback) (dsm_segment *, Datum arg);
typedef struct ResourceOwnerData *ResourceOwner;

#define DSM_CREATE_NULL_IF_MAXSEGMENTS 0x0001
#define ERRCODE_INSUFFICIENT_RESOURCES MAKE_SQLSTATE('5','3','0','0','0')

typedef struct dsm_callback
{
	struct dsm_callback *next;
	on_dsm_detach_callback function;
	Datum		arg;
} dsm_callback;

/* What the Rust shims hand back (src/dsm.rs, DsmOut). */
typedef struct DsmOut
{
	dsm_handle	handle;
	void	   *address;
	Size		length;
	void	   *token;
} DsmOut;

struct dsm_segment
{
	dsm_segment *prev;
	dsm_segment *next;
	ResourceOwner resowner;		/* NULL: held until detach or exit */
	dsm_handle	handle;
	void	   *token;			/* the core's mapping; NULL once released */
	bool		counted;		/* holds a reference (reset_on_dsm_detach clears) */
	void	   *address;
	Size		length;
	dsm_callback *on_detach;	/* newest first */
};

struct ResourceOwnerData
{
	ResourceOwner parent;
	ResourceOwner firstchild;
	ResourceOwner nextchild;
	const char *name;
	dsm_segment **dsms;
	int			ndsms;
	int			maxdsms;
};

extern ResourceOwner CurrentResourceOwner;

extern int	bgw_rs_dsm_create(Size size, DsmOut *out);
extern int	bgw_rs_dsm_attach(dsm_handle handle, DsmOut *out);
extern void bgw_rs_dsm_detach(void *token, bool release);
extern bool bgw_rs_dsm_pin(void *token);
extern bool bgw_rs_dsm_unpin(dsm_handle handle);
extern uint32_t bgw_rs_pg_major(void);
extern void *bgw_rs_BackendPidGetProc(int pid);

static dsm_segment *segments;

/*
 * Set when the process exits from a signal handler (the default SIGTERM
 * handler's exit): the handler may have interrupted malloc, so detaching
 * then frees nothing and releases references through the core's
 * allocation-free path.
 */
static volatile sig_atomic_t in_handler_exit;

extern void bgw_rs_dsm_release_in_handler(void *token);

void
bgw_c_dsm_exit_from_handler(void)
{
	in_handler_exit = 1;
}

static void *
must_malloc(Size size)
{
	void	   *p = calloc(1, size);

	if (p == NULL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg_internal("out of memory"));
	return p;
}

/* ---- resource owners ---- */

static void
owner_remember(ResourceOwner owner, dsm_segment *seg)
{
	if (owner->ndsms == owner->maxdsms)
	{
		int			n = owner->maxdsms ? owner->maxdsms * 2 : 16;
		dsm_segment **d = realloc(owner->dsms, n * sizeof(*d));

		if (d == NULL)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
						bgw_c_errmsg_internal("out of memory"));
		owner->dsms = d;
		owner->maxdsms = n;
	}
	owner->dsms[owner->ndsms++] = seg;
}

static void
owner_forget(ResourceOwner owner, dsm_segment *seg)
{
	for (int i = owner->ndsms - 1; i >= 0; i--)
	{
		if (owner->dsms[i] == seg)
		{
			owner->dsms[i] = owner->dsms[--owner->ndsms];
			return;
		}
	}
	bgw_ereport(ERROR, bgw_c_errmsg_internal("dynamic shared memory segment %u is not owned by resource owner %s",
											 seg->handle, owner->name));
}

ResourceOwner
bgw_c_ResourceOwnerCreate(ResourceOwner parent, const char *name)
{
	ResourceOwner owner = must_malloc(sizeof(*owner));

	owner->name = name;
	if (parent)
	{
		owner->parent = parent;
		owner->nextchild = parent->firstchild;
		parent->firstchild = owner;
	}
	return owner;
}

ResourceOwner
bgw_c_ResourceOwnerGetParent(ResourceOwner owner)
{
	return owner->parent;
}

void		bgw_c_dsm_detach(dsm_segment *seg);

/*
 * Release what the owner and its children hold. Mappings go in the
 * before-locks phase (0 in PostgreSQL 15, 1 from 17 on, where the enum
 * starts at 1); on commit each is first reported as a leak, as
 * PostgreSQL's PrintDSMLeakWarning does.
 */
void
bgw_c_ResourceOwnerRelease(ResourceOwner owner, int phase, bool isCommit, bool isTopLevel)
{
	int			before_locks = bgw_rs_pg_major() >= 17 ? 1 : 0;

	for (ResourceOwner child = owner->firstchild; child; child = child->nextchild)
		bgw_c_ResourceOwnerRelease(child, phase, isCommit, isTopLevel);
	if (phase != before_locks)
		return;
	while (owner->ndsms > 0)
	{
		dsm_segment *seg = owner->dsms[owner->ndsms - 1];

		if (isCommit)
			bgw_ereport(WARNING, bgw_c_errmsg_internal("dynamic shared memory leak: segment %u still referenced",
													   seg->handle));
		bgw_c_dsm_detach(seg);
	}
}

void
bgw_c_ResourceOwnerDelete(ResourceOwner owner)
{
	while (owner->firstchild)
		bgw_c_ResourceOwnerDelete(owner->firstchild);
	/* Whatever it still holds lives on, held by nobody (PostgreSQL
	 * asserts that nothing is left). */
	for (int i = 0; i < owner->ndsms; i++)
		owner->dsms[i]->resowner = NULL;
	if (owner->parent)
	{
		ResourceOwner *link = &owner->parent->firstchild;

		while (*link && *link != owner)
			link = &(*link)->nextchild;
		if (*link)
			*link = owner->nextchild;
	}
	if (CurrentResourceOwner == owner)
		CurrentResourceOwner = NULL;
	free(owner->dsms);
	free(owner);
}

/* ---- dsm.h ---- */

static dsm_segment *
new_descriptor(const DsmOut *out)
{
	dsm_segment *seg = must_malloc(sizeof(*seg));

	seg->handle = out->handle;
	seg->token = out->token;
	seg->counted = true;
	seg->address = out->address;
	seg->length = out->length;
	seg->next = segments;
	if (segments)
		segments->prev = seg;
	segments = seg;
	seg->resowner = CurrentResourceOwner;
	if (seg->resowner)
		owner_remember(seg->resowner, seg);
	return seg;
}

dsm_segment *
bgw_c_dsm_create(Size size, int flags)
{
	DsmOut		out = {0};
	int			rc = bgw_rs_dsm_create(size, &out);

	bgw_c_raise_pending();
	if (rc == 1)
	{
		if (flags & DSM_CREATE_NULL_IF_MAXSEGMENTS)
			return NULL;
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					bgw_c_errmsg_internal("too many dynamic shared memory segments"));
	}
	return new_descriptor(&out);
}

dsm_segment *
bgw_c_dsm_attach(dsm_handle h)
{
	DsmOut		out = {0};
	int			rc;

	for (dsm_segment *seg = segments; seg; seg = seg->next)
		if (seg->handle == h && seg->token)
			bgw_ereport(ERROR, bgw_c_errmsg_internal("can't attach the same segment more than once"));
	rc = bgw_rs_dsm_attach(h, &out);
	bgw_c_raise_pending();
	if (rc != 0)
		return NULL;
	return new_descriptor(&out);
}

void
bgw_c_dsm_detach(dsm_segment *seg)
{
	/* Each callback is unlinked before it runs, so one that raises an
	 * ERROR (and brings us back here) is not run twice. */
	InterruptHoldoffCount++;
	while (seg->on_detach)
	{
		dsm_callback *cb = seg->on_detach;

		seg->on_detach = cb->next;
		cb->function(seg, cb->arg);
		if (!in_handler_exit)
			free(cb);
	}
	if (InterruptHoldoffCount > 0)
		InterruptHoldoffCount--;
	if (seg->token)
	{
		void	   *token = seg->token;

		seg->token = NULL;
		if (in_handler_exit)
		{
			if (seg->counted)
				bgw_rs_dsm_release_in_handler(token);
		}
		else
			bgw_rs_dsm_detach(token, seg->counted);
	}
	if (in_handler_exit)
	{
		/* Unlinked, not freed (nor taken from its owner's array). */
		segments = seg->next;
		return;
	}
	if (seg->resowner)
		owner_forget(seg->resowner, seg);
	if (seg->prev)
		seg->prev->next = seg->next;
	else
		segments = seg->next;
	if (seg->next)
		seg->next->prev = seg->prev;
	free(seg);
}

void
bgw_c_dsm_pin_mapping(dsm_segment *seg)
{
	if (seg->resowner)
	{
		owner_forget(seg->resowner, seg);
		seg->resowner = NULL;
	}
}

void
bgw_c_dsm_unpin_mapping(dsm_segment *seg)
{
	if (seg->resowner)
		return;
	seg->resowner = CurrentResourceOwner;
	if (seg->resowner)
		owner_remember(seg->resowner, seg);
}

void
bgw_c_dsm_pin_segment(dsm_segment *seg)
{
	bool		ok = bgw_rs_dsm_pin(seg->token);

	bgw_c_raise_pending();
	(void) ok;
}

void
bgw_c_dsm_unpin_segment(dsm_handle handle)
{
	bool		ok = bgw_rs_dsm_unpin(handle);

	bgw_c_raise_pending();
	(void) ok;
}

dsm_segment *
bgw_c_dsm_find_mapping(dsm_handle handle)
{
	for (dsm_segment *seg = segments; seg; seg = seg->next)
		if (seg->handle == handle)
			return seg;
	return NULL;
}

void *
bgw_c_dsm_segment_address(dsm_segment *seg)
{
	return seg->address;
}

Size
bgw_c_dsm_segment_map_length(dsm_segment *seg)
{
	return seg->length;
}

dsm_handle
bgw_c_dsm_segment_handle(dsm_segment *seg)
{
	return seg->handle;
}

void
bgw_c_on_dsm_detach(dsm_segment *seg, on_dsm_detach_callback function, Datum arg)
{
	dsm_callback *cb = must_malloc(sizeof(*cb));

	cb->function = function;
	cb->arg = arg;
	cb->next = seg->on_detach;
	seg->on_detach = cb;
}

void
bgw_c_cancel_on_dsm_detach(dsm_segment *seg, on_dsm_detach_callback function, Datum arg)
{
	for (dsm_callback **link = &seg->on_detach; *link; link = &(*link)->next)
	{
		dsm_callback *cb = *link;

		if (cb->function == function && cb->arg == arg)
		{
			*link = cb->next;
			free(cb);
			return;
		}
	}
}

/*
 * A process forked from one with mappings: forget the callbacks, and
 * never drop the parent's references (the child holds none of its own).
 */
void
bgw_c_reset_on_dsm_detach(void)
{
	for (dsm_segment *seg = segments; seg; seg = seg->next)
	{
		while (seg->on_detach)
		{
			dsm_callback *cb = seg->on_detach;

			seg->on_detach = cb->next;
			free(cb);
		}
		seg->counted = false;
	}
}

/* Detach everything (a worker on its way out; also exported). */
void
bgw_c_dsm_detach_all(void)
{
	while (segments)
		bgw_c_dsm_detach(segments);
}

/* proc_exit's step between before_shmem_exit and on_shmem_exit. */
void
bgw_c_dsm_backend_shutdown(void)
{
	bgw_c_dsm_detach_all();
}

void *
bgw_c_BackendPidGetProc(int pid)
{
	void	   *proc = bgw_rs_BackendPidGetProc(pid);

	bgw_c_raise_pending();
	return proc;
}
