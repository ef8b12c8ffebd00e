/*
 * guc_memory.c -- guc.c's allocation functions of PostgreSQL 16 and later
 * (guc_malloc, guc_realloc, guc_strdup, guc_free), which modules built for
 * 17 and 18 call in their settings' check hooks (a hook's "extra", a string
 * it rewrites).
 *
 * Settings' memory here is the C heap, as in PostgreSQL 15: the runtime
 * gives a string setting a strdup'd copy and frees the copies it made with
 * free(), and a module built for 15 frees with free() what its hooks
 * malloc'd. So these allocate on the C heap, too, and guc_free is free():
 * the same memory whichever major a module was built for. PostgreSQL's own
 * behaviour otherwise: a size over MaxAllocSize is an ERROR ("invalid
 * memory alloc request size"), whatever the elevel, as memory contexts
 * raise it; a zero size allocates one byte; failure reports
 * "out of memory" (ERRCODE_OUT_OF_MEMORY) at the caller's elevel and returns
 * NULL when that level does not end the call, guc_free accepts NULL.
 * Callable from any process, in a module's _PG_init or its worker.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

static void
guc_check_size(size_t size)
{
	if (size > MaxAllocSize)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("invalid memory alloc request size %zu", size));
}

static void *
guc_out_of_memory(int elevel)
{
	bgw_ereport(elevel, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
				bgw_c_errmsg_internal("out of memory"));
	return NULL;
}

void *
bgw_c_guc_malloc(int elevel, size_t size)
{
	void	   *data;

	guc_check_size(size);
	/* Avoid unportable behavior of malloc(0), as PostgreSQL does. */
	if (size == 0)
		size = 1;
	data = malloc(size);
	if (data == NULL)
		return guc_out_of_memory(elevel);
	return data;
}

void *
bgw_c_guc_realloc(int elevel, void *old, size_t size)
{
	void	   *data;

	guc_check_size(size);
	/* realloc(p, 0) may free p; PostgreSQL's repalloc keeps a chunk. */
	if (size == 0)
		size = 1;
	data = realloc(old, size);
	if (data == NULL)
		return guc_out_of_memory(elevel);
	return data;
}

char *
bgw_c_guc_strdup(int elevel, const char *src)
{
	size_t		len = strlen(src) + 1;
	char	   *data = bgw_c_guc_malloc(elevel, len);

	if (data != NULL)
		memcpy(data, src, len);
	return data;
}

void
bgw_c_guc_free(void *ptr)
{
	free(ptr);
}
