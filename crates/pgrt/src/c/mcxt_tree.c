/*
 * mcxt_tree.c -- the memory-context functions of utils/memutils.h that
 * move a context in the tree or look at it (MemoryContextSetParent,
 * MemoryContextGetParent, MemoryContextIsEmpty, MemoryContextResetOnly,
 * MemoryContextResetChildren, MemoryContextSetIdentifier,
 * MemoryContextAllowInCriticalSection) and pchomp, with PostgreSQL's
 * semantics, on the contexts mcxt.rs makes.
 *
 * A context begins with MemoryContextData (nodes/memnodes.h; the same
 * fields in 15, 17 and 18), whose tree links mcxt.rs keeps as PostgreSQL
 * keeps them, so they are read and written here directly. Chunks are
 * mcxt.rs's: resetting goes through bgw_rs_MemoryContextResetOnly.
 * Called by module code in the process's one thread.
 */
#include <string.h>

#include "pgcompat.h"

typedef struct MemoryContextData
{
	int			type;
	bool		isReset;
	bool		allowInCritSection;
	Size		mem_allocated;
	const void *methods;
	MemoryContext parent;
	MemoryContext firstchild;
	MemoryContext prevchild;
	MemoryContext nextchild;
	const char *name;
	const char *ident;
	void	   *reset_cbs;
} MemoryContextData;

extern void bgw_rs_MemoryContextResetOnly(MemoryContext context);
extern char *bgw_c_pnstrdup(const char *in, Size len);
extern uint32_t bgw_rs_pg_major(void);

/* Move `context` (with its children) under `new_parent`, as the first
 * child; NULL makes it a root that lives until deleted. */
void
bgw_c_MemoryContextSetParent(MemoryContext context, MemoryContext new_parent)
{
	if (new_parent == context->parent)
		return;
	if (context->parent)
	{
		MemoryContext parent = context->parent;

		if (context->prevchild != NULL)
			context->prevchild->nextchild = context->nextchild;
		else
			parent->firstchild = context->nextchild;
		if (context->nextchild != NULL)
			context->nextchild->prevchild = context->prevchild;
	}
	if (new_parent)
	{
		context->parent = new_parent;
		context->prevchild = NULL;
		context->nextchild = new_parent->firstchild;
		if (new_parent->firstchild != NULL)
			new_parent->firstchild->prevchild = context;
		new_parent->firstchild = context;
	}
	else
	{
		context->parent = NULL;
		context->prevchild = NULL;
		context->nextchild = NULL;
	}
}

MemoryContext
bgw_c_MemoryContextGetParent(MemoryContext context)
{
	return context->parent;
}

/* No children and nothing allocated since the last reset (AllocSet's
 * is_empty is isReset: freeing every chunk does not make it empty). */
bool
bgw_c_MemoryContextIsEmpty(MemoryContext context)
{
	if (context->firstchild != NULL)
		return false;
	return context->isReset;
}

void
bgw_c_MemoryContextResetOnly(MemoryContext context)
{
	if (!context->isReset)
	{
		bgw_rs_MemoryContextResetOnly(context);
		bgw_c_raise_pending();
	}
}

/* Reset every descendant, keeping them and `context`'s own memory: 15
 * resets a context's children before it (recursion), 17 and later a
 * context before its children (MemoryContextTraverseNext), which the
 * order reset callbacks run in shows. */
static void
reset_children_15(MemoryContext context)
{
	MemoryContext child;

	for (child = context->firstchild; child != NULL; child = child->nextchild)
	{
		reset_children_15(child);
		bgw_c_MemoryContextResetOnly(child);
	}
}

/* The context after `curr` in a pre-order walk of `top`'s descendants. */
static MemoryContext
traverse_next(MemoryContext curr, MemoryContext top)
{
	if (curr->firstchild != NULL)
		return curr->firstchild;
	while (curr->nextchild == NULL)
	{
		curr = curr->parent;
		if (curr == top)
			return NULL;
	}
	return curr->nextchild;
}

void
bgw_c_MemoryContextResetChildren(MemoryContext context)
{
	if (bgw_rs_pg_major() < 17)
	{
		reset_children_15(context);
		return;
	}
	for (MemoryContext curr = context->firstchild; curr != NULL;
		 curr = traverse_next(curr, context))
		bgw_c_MemoryContextResetOnly(curr);
}

/* `id` must live as long as the context (PostgreSQL's contract). */
void
bgw_c_MemoryContextSetIdentifier(MemoryContext context, const char *id)
{
	context->ident = id;
}

void
bgw_c_MemoryContextAllowInCriticalSection(MemoryContext context, bool allow)
{
	context->allowInCritSection = allow;
}

/* A palloc'd copy of `in` without its trailing newlines. */
char *
bgw_c_pchomp(const char *in)
{
	size_t		n = strlen(in);

	while (n > 0 && in[n - 1] == '\n')
		n--;
	return bgw_c_pnstrdup(in, n);
}
