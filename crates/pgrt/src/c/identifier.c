/*
 * identifier.c -- SplitIdentifierString and SplitGUCList (utils/varlena.h),
 * which modules call in check hooks of list settings (pgaudit.log, ...):
 * split a separator-separated list of SQL identifiers in place, with
 * PostgreSQL's rules:
 *
 *   - whitespace (the SQL scanner's, scanner_isspace: from 16 on with the
 *     vertical tab) around names is skipped; an all-blank string is an
 *     empty list;
 *   - a double-quoted name keeps its case, "" inside stands for one quote;
 *     an unterminated quote is a syntax error;
 *   - an unquoted name ends at the separator or whitespace, must not be
 *     empty, and is downcased as the SQL scanner does: A-Z always, other
 *     bytes with the high bit set through the C library's tolower() when
 *     the encoding is single-byte, which it is in a process without a
 *     database (SQL_ASCII);
 *   - after a name comes the separator, the end, or else a syntax error;
 *   - each name is cut to NAMEDATALEN - 1 bytes (byte-wise: SQL_ASCII).
 *
 * SplitGUCList splits the same way but neither downcases nor cuts names.
 * Returns false on a syntax error (the list then holds the names before
 * it, as PostgreSQL's); the names point into the caller's string.
 * Any process; module code runs on one thread.
 */
#include "pgcompat.h"

#include <ctype.h>
#include <string.h>

#define BGW_NAMEDATALEN 64

typedef struct List List;

extern List *bgw_c_lappend(List *list, void *datum);

extern bool bgw_c_scanner_isspace(char ch);

static bool
sql_space(char c)
{
	return bgw_c_scanner_isspace(c);
}

static char *
skip_space(char *p)
{
	while (sql_space(*p))
		p++;
	return p;
}

/* Downcase an unquoted name in place (never longer than before). */
static void
downcase(char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if ((c & 0x80) && isupper(c))
			c = (unsigned char) tolower(c);
		name[i] = (char) c;
	}
}

static bool
split(char *rawstring, char separator, List **namelist, bool identifiers)
{
	char	   *p = skip_space(rawstring);

	*namelist = NULL;
	if (*p == '\0')
		return true;
	for (;;)
	{
		char	   *name;
		char	   *end;

		if (*p == '"')
		{
			/* quoted: find the closing quote, folding "" into " */
			char	   *q = p + 1;

			name = p + 1;
			for (;;)
			{
				end = strchr(q, '"');
				if (end == NULL)
					return false;
				if (end[1] != '"')
					break;
				memmove(end, end + 1, strlen(end));
				q = end + 1;
			}
			p = end + 1;
		}
		else
		{
			name = p;
			while (*p != '\0' && *p != separator && !sql_space(*p))
				p++;
			end = p;
			if (end == name)
				return false;
			if (identifiers)
				downcase(name, (size_t) (end - name));
		}
		p = skip_space(p);
		if (*p == separator)
		{
			p = skip_space(p + 1);
			*end = '\0';
		}
		else if (*p == '\0')
		{
			*end = '\0';
			if (identifiers && strlen(name) >= BGW_NAMEDATALEN)
				name[BGW_NAMEDATALEN - 1] = '\0';
			*namelist = bgw_c_lappend(*namelist, name);
			return true;
		}
		else
			return false;
		if (identifiers && strlen(name) >= BGW_NAMEDATALEN)
			name[BGW_NAMEDATALEN - 1] = '\0';
		*namelist = bgw_c_lappend(*namelist, name);
	}
}

bool
bgw_c_SplitIdentifierString(char *rawstring, char separator, List **namelist)
{
	return split(rawstring, separator, namelist, true);
}

bool
bgw_c_SplitGUCList(char *rawstring, char separator, List **namelist)
{
	return split(rawstring, separator, namelist, false);
}
