/*
 * name.c -- the C helpers of the name type (utils/builtins.h):
 * namestrcpy and namestrcmp, with PostgreSQL's semantics (NAMEDATALEN
 * 64: a name is zero-padded and truncated to 63 bytes). Module code, any
 * thread.
 */
#include <string.h>

#include "pgcompat.h"

#define NAMEDATALEN 64

/* Copy `str` into `name`, truncated, the rest of the 64 bytes zeroed. */
void
bgw_c_namestrcpy(char *name, const char *str)
{
	strncpy(name, str, NAMEDATALEN);
	name[NAMEDATALEN - 1] = '\0';
}

/* Compare as strncmp over NAMEDATALEN; NULL sorts first. */
int
bgw_c_namestrcmp(const char *name, const char *str)
{
	if (!name && !str)
		return 0;
	if (!name)
		return -1;
	if (!str)
		return 1;
	return strncmp(name, str, NAMEDATALEN);
}
