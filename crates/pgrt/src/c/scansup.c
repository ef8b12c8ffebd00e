/*
 * scansup.c -- parser/scansup.h's identifier helpers, which modules use to
 * normalise names from configuration without any database: ASCII letters
 * downcased (other bytes too where the encoding is single-byte and the
 * locale says upper case, as PostgreSQL), names cut to NAMEDATALEN - 1
 * bytes at a character boundary with PostgreSQL's NOTICE, and the
 * scanner's white space (15: space, tab, newline, carriage return, form
 * feed; from 16 on also vertical tab).
 *
 * Who may call: any process of the runtime; results are palloc'd in
 * CurrentMemoryContext.
 */
#include "pgcompat.h"

#include <ctype.h>

#define NAMEDATALEN 64
#define ERRCODE_NAME_TOO_LONG MAKE_SQLSTATE('4','2','6','2','2')

extern uint32_t bgw_rs_pg_major(void);
extern int	bgw_c_pg_database_encoding_max_length(void);
extern int	bgw_c_pg_mbcliplen(const char *mbstr, int len, int limit);

void
bgw_c_truncate_identifier(char *ident, int len, bool warn)
{
	if (len >= NAMEDATALEN)
	{
		len = bgw_c_pg_mbcliplen(ident, len, NAMEDATALEN - 1);
		if (warn)
			bgw_ereport(NOTICE, bgw_c_errcode(ERRCODE_NAME_TOO_LONG),
						bgw_c_errmsg_internal("identifier \"%s\" will be truncated to \"%.*s\"",
											  ident, len, ident));
		ident[len] = '\0';
	}
}

char *
bgw_c_downcase_identifier(const char *ident, int len, bool warn, bool truncate)
{
	char	   *result = bgw_c_palloc((Size) len + 1);
	bool		single_byte = bgw_c_pg_database_encoding_max_length() == 1;
	int			i;

	for (i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) ident[i];

		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		else if (single_byte && (ch & 0x80) && isupper(ch))
			ch = (unsigned char) tolower(ch);
		result[i] = (char) ch;
	}
	result[i] = '\0';
	if (i >= NAMEDATALEN && truncate)
		bgw_c_truncate_identifier(result, i, warn);
	return result;
}

char *
bgw_c_downcase_truncate_identifier(const char *ident, int len, bool warn)
{
	return bgw_c_downcase_identifier(ident, len, warn, true);
}

bool
bgw_c_scanner_isspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
		(ch == '\v' && bgw_rs_pg_major() >= 16);
}
