/*
 * guc_name.c -- guc_name_compare (utils/guc_tables.h of PostgreSQL 16 and
 * later), the order of setting names that get_guc_variables' array is
 * sorted by: ASCII letters folded to lower case, then byte order; a name
 * that is a prefix of the other sorts first. (The allocation calls of 16
 * and later are in guc_memory.c.)
 */
#include "pgcompat.h"

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
