/*
 * mx_module.c -- the memory-context functions that move a context in the
 * tree or look at it (MemoryContextSetParent, MemoryContextGetParent,
 * MemoryContextIsEmpty, MemoryContextResetOnly, MemoryContextResetChildren,
 * MemoryContextSetIdentifier, MemoryContextAllowInCriticalSection) and
 * pchomp, and the allocation functions palloc_array and friends compile
 * to (palloc_mul, repalloc_mul, ..., repalloc_extended, repalloc_huge,
 * repalloc0), run the same way under bgworkerd and under a real PostgreSQL
 * server (tests/mcxt_tree_postgresql.rs compares the "mx:" lines).
 *
 * Reset callbacks log which context is reset or deleted, so the lines
 * show a context moved under a new parent being deleted with it, and
 * which contexts a reset of one or of its children reaches.
 */
#include "postgres.h"

#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/ipc.h"
#include "utils/memutils.h"


#include "tagged_catch.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void mx_main(Datum arg);

#define CATCH(what, stmt) TAGGED_CATCH_CODE("mx", what, stmt)

static void
mx_callback(void *arg)
{
	elog(LOG, "mx: reset callback of %s", (const char *) arg);
}

/* A reset callback on `ctx`, in its own memory (as PostgreSQL asks). */
static void
mx_watch(MemoryContext ctx, const char *name)
{
	MemoryContextCallback *cb = MemoryContextAlloc(ctx, sizeof(*cb));

	cb->func = mx_callback;
	cb->arg = (void *) name;
	MemoryContextRegisterResetCallback(ctx, cb);
}

static const char *
mx_name(MemoryContext ctx)
{
	return ctx == NULL ? "(none)" : ctx->name;
}

/* The overflow-checked and extended allocation functions (palloc_array
 * and friends compile to the *_mul ones). */
static void
mx_allocations(void)
{
	/* volatile: assigned inside PG_TRY blocks and read after them */
	int		   *volatile a;
	char	   *volatile p;
	bool		zero = true;

	a = palloc_array(int, 4);
	for (int i = 0; i < 4; i++)
		a[i] = i * 10;
	a = repalloc_array(a, int, 1000);
	elog(LOG, "mx: palloc_array/repalloc_array keep %d %d %d %d, chunk space at least 4000 %d",
		 a[0], a[1], a[2], a[3], GetMemoryChunkSpace(a) >= 4000);
	a = palloc0_array(int, 64);
	for (int i = 0; i < 64; i++)
		zero &= a[i] == 0;
	elog(LOG, "mx: palloc0_array zeroed %d", zero);
	a = palloc_array_extended(int, 8, MCXT_ALLOC_ZERO);
	elog(LOG, "mx: palloc_array_extended zeroed %d", a[7] == 0);
	a = repalloc_array_extended(a, int, 16, 0);
	elog(LOG, "mx: repalloc_array_extended keeps %d", a[7] == 0);
	CATCH("palloc_mul overflowing", palloc_mul(SIZE_MAX / 2 + 1, 2));
	CATCH("palloc0_mul overflowing", palloc0_mul(SIZE_MAX / 4, 8));
	CATCH("palloc_mul_extended overflowing, NO_OOM", palloc_mul_extended(SIZE_MAX / 2 + 1, 2, MCXT_ALLOC_NO_OOM));
	CATCH("repalloc_mul overflowing", a = repalloc_mul(a, SIZE_MAX / 2 + 1, 2));
	CATCH("repalloc_mul_extended overflowing, HUGE", a = repalloc_mul_extended(a, SIZE_MAX / 2 + 1, 2, MCXT_ALLOC_HUGE));
	CATCH("palloc_mul over MaxAllocSize", palloc_mul(MaxAllocSize / 2 + 1, 2));
	CATCH("palloc_mul_extended over MaxAllocSize, NO_OOM", palloc_mul_extended(MaxAllocSize / 2 + 1, 2, MCXT_ALLOC_NO_OOM));

	p = palloc(16);
	memcpy(p, "0123456789abcdef", 16);
	p = repalloc_extended(p, 32, 0);
	elog(LOG, "mx: repalloc_extended keeps \"%.16s\"", p);
	CATCH("repalloc_extended over MaxAllocSize", p = repalloc_extended(p, MaxAllocSize + 1, 0));
	CATCH("repalloc_extended over MaxAllocSize, NO_OOM", p = repalloc_extended(p, MaxAllocSize + 1, MCXT_ALLOC_NO_OOM));
	p = repalloc_huge(p, 64);
	elog(LOG, "mx: repalloc_huge keeps \"%.16s\"", p);
#if PG_VERSION_NUM >= 160000
	p = repalloc0(p, 64, 128);
	zero = true;
	for (int i = 64; i < 128; i++)
		zero &= p[i] == 0;
	elog(LOG, "mx: repalloc0 keeps \"%.16s\", zeroes the rest %d", p, zero);
	CATCH("repalloc0 shrinking", p = repalloc0(p, 128, 64));
#endif
	pfree(p);
}

void
mx_main(Datum arg)
{
	MemoryContext a;
	MemoryContext b;
	MemoryContext c;
	MemoryContext d;
	MemoryContext e;
	MemoryContext f;
	char	   *s;
	char	   *p;

	(void) arg;
	a = AllocSetContextCreate(TopMemoryContext, "mx a", ALLOCSET_DEFAULT_SIZES);
	b = AllocSetContextCreate(TopMemoryContext, "mx b", ALLOCSET_SMALL_SIZES);
	c = AllocSetContextCreate(a, "mx c", ALLOCSET_DEFAULT_SIZES);
	s = MemoryContextStrdup(c, "kept in c");
	elog(LOG, "mx: parent of c %s, a empty %d, b empty %d, c empty %d",
		 mx_name(MemoryContextGetParent(c)), MemoryContextIsEmpty(a),
		 MemoryContextIsEmpty(b), MemoryContextIsEmpty(c));
	MemoryContextSetParent(c, b);
	elog(LOG, "mx: after SetParent(c, b): parent of c %s, a empty %d, b empty %d, a's first child %s, b's first child %s",
		 mx_name(MemoryContextGetParent(c)), MemoryContextIsEmpty(a),
		 MemoryContextIsEmpty(b), mx_name(a->firstchild), mx_name(b->firstchild));
	elog(LOG, "mx: c's memory after the move: \"%s\" in %s", s,
		 mx_name(GetMemoryChunkContext(s)));
	MemoryContextSetParent(c, b);
	elog(LOG, "mx: SetParent to the same parent: parent of c %s, b's first child %s, c's siblings %s/%s",
		 mx_name(MemoryContextGetParent(c)), mx_name(b->firstchild),
		 mx_name(c->prevchild), mx_name(c->nextchild));
	mx_watch(c, "c");
	mx_watch(b, "b");
	elog(LOG, "mx: deleting b");
	MemoryContextDelete(b);
	elog(LOG, "mx: b deleted; a empty %d", MemoryContextIsEmpty(a));

	/* Reset only a context, then only its children. */
	d = AllocSetContextCreate(a, "mx d", ALLOCSET_DEFAULT_SIZES);
	e = AllocSetContextCreate(d, "mx e", ALLOCSET_DEFAULT_SIZES);
	f = AllocSetContextCreate(e, "mx f", ALLOCSET_DEFAULT_SIZES);
	mx_watch(d, "d");
	mx_watch(e, "e");
	mx_watch(f, "f");
	elog(LOG, "mx: ResetOnly(d)");
	MemoryContextResetOnly(d);
	elog(LOG, "mx: d has child %s, d empty %d, e empty %d",
		 mx_name(d->firstchild), MemoryContextIsEmpty(d), MemoryContextIsEmpty(e));
	elog(LOG, "mx: ResetOnly(d) again");
	MemoryContextResetOnly(d);
	mx_watch(d, "d again");
	elog(LOG, "mx: ResetChildren(d)");
	MemoryContextResetChildren(d);
	elog(LOG, "mx: d has child %s, e has child %s, e empty %d, f empty %d",
		 mx_name(d->firstchild), mx_name(e->firstchild),
		 MemoryContextIsEmpty(e), MemoryContextIsEmpty(f));
	p = MemoryContextAlloc(f, 100);
	pfree(p);
	elog(LOG, "mx: f after palloc and pfree: empty %d", MemoryContextIsEmpty(f));
	MemoryContextReset(f);
	elog(LOG, "mx: f after reset: empty %d", MemoryContextIsEmpty(f));

	/* A root of its own, with an identifier. */
	MemoryContextSetParent(e, NULL);
	elog(LOG, "mx: after SetParent(e, NULL): parent of e %s, d's first child %s",
		 mx_name(MemoryContextGetParent(e)), mx_name(d->firstchild));
	MemoryContextSetIdentifier(e, "an identifier");
	elog(LOG, "mx: e's identifier \"%s\"", e->ident);
	MemoryContextAllowInCriticalSection(e, true);
	elog(LOG, "mx: e allowed in a critical section %d", e->allowInCritSection);
	MemoryContextAllowInCriticalSection(e, false);
	elog(LOG, "mx: then %d", e->allowInCritSection);
	MemoryContextDelete(e);
	elog(LOG, "mx: e deleted; deleting a");
	MemoryContextDelete(a);

	s = pchomp("line\n\n");
	elog(LOG, "mx: pchomp \"%s\" %d", s, (int) strlen(s));
	s = pchomp("crlf\r\n");
	elog(LOG, "mx: pchomp keeps a carriage return: %d", (int) strlen(s));
	s = pchomp("\n");
	elog(LOG, "mx: pchomp of a newline: \"%s\"", s);
	s = pchomp("none");
	elog(LOG, "mx: pchomp \"%s\", in the current context %d", s,
		 GetMemoryChunkContext(s) == CurrentMemoryContext);
	mx_allocations();
	elog(LOG, "mx: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("mx_module", "mx_main", "mx worker", "mx worker");
}
