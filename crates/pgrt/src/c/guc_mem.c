/*
 * guc_mem.c -- PostgreSQL 16's and later's allocation calls for settings
 * (utils/guc.h): guc_malloc, guc_realloc, guc_strdup, guc_free, which
 * check hooks of modules built for 17 and 18 use for the values and extra
 * data they hand back, and guc_name_compare, the order of setting names.
 *
 * Values are malloc'd: the settings registry frees with free() the
 * values it allocated and those a check hook substituted (see
 * src/guc/store.rs), so both sides agree. Out of memory is reported at the
 * caller's elevel ("out of memory", 53200), and NULL returned when that is
 * below ERROR, as in PostgreSQL. guc_free(NULL) does nothing.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

static void *
checked(int elevel, void *p)
{
	if (p == NULL)
		bgw_ereport(elevel, (bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
							 bgw_c_errmsg_internal("out of memory")));
	return p;
}

void *
bgw_c_guc_malloc(int elevel, size_t size)
{
	/* (malloc(0) may return NULL: ask for one byte, as PostgreSQL does) */
	return checked(elevel, malloc(size ? size : 1));
}

void *
bgw_c_guc_realloc(int elevel, void *old, size_t size)
{
	return checked(elevel, realloc(old, size ? size : 1));
}

char *
bgw_c_guc_strdup(int elevel, const char *src)
{
	if (src == NULL)
		return NULL;
	return checked(elevel, strdup(src));
}

void
bgw_c_guc_free(void *ptr)
{
	free(ptr);
}

/* ASCII letters folded to lower case, then byte order; a name that is a
 * prefix of the other sorts first. */
int
bgw_c_guc_name_compare(const char *namea, const char *nameb)
{
	while (*namea && *nameb)
	{
		unsigned char a = (unsigned char) *namea++;
		unsigned char b = (unsigned char) *nameb++;

		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return a - b;
	}
	if (*namea)
		return 1;
	if (*nameb)
		return -1;
	return 0;
}
