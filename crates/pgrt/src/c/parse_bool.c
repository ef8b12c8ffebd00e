/*
 * parse_bool.c -- utils/builtins.h's parse_bool and parse_bool_with_len,
 * the boolean reader of boolin and of boolean settings: "true", "false",
 * "yes", "no", "on", "off" or any unique prefix of them, in any case
 * ("o" alone is not unique: "on" and "off" need two letters), and "1" and
 * "0". No blanks are skipped. On failure *result is false.
 */
#include "pgcompat.h"

#include <string.h>
#include <strings.h>

/* Is value[0 .. len) a prefix (any case) of `word`, at least `min` long? */
static bool
prefix_of(const char *value, size_t len, const char *word, size_t min)
{
	return len >= min && len <= strlen(word) && strncasecmp(value, word, len) == 0;
}

bool
bgw_c_parse_bool_with_len(const char *value, size_t len, bool *result)
{
	bool		ok = false;
	bool		v = false;

	if (value != NULL && len > 0)
	{
		switch (value[0])
		{
			case 't':
			case 'T':
				ok = v = prefix_of(value, len, "true", 1);
				break;
			case 'f':
			case 'F':
				ok = prefix_of(value, len, "false", 1);
				break;
			case 'y':
			case 'Y':
				ok = v = prefix_of(value, len, "yes", 1);
				break;
			case 'n':
			case 'N':
				ok = prefix_of(value, len, "no", 1);
				break;
			case 'o':
			case 'O':
				if (prefix_of(value, len, "on", 2))
					ok = v = true;
				else
					ok = prefix_of(value, len, "off", 2);
				break;
			case '1':
				ok = v = (len == 1);
				break;
			case '0':
				ok = (len == 1);
				break;
		}
	}
	if (result)
		*result = ok && v;
	return ok;
}

bool
bgw_c_parse_bool(const char *value, bool *result)
{
	return bgw_c_parse_bool_with_len(value, value ? strlen(value) : 0, result);
}
