/*
 * encoding.c -- the encodings of a process that never connected to a
 * database (mb/pg_wchar.h). PostgreSQL sets the database encoding when a
 * backend connects (and the client encoding with it); before that, and so
 * in a background worker without a database connection, both are
 * SQL_ASCII (0), whose characters are single bytes. So:
 *   - pg_mblen is 1, pg_mbstrlen strlen, pg_mbstrlen_with_len the limit,
 *     pg_mbcliplen and pg_mbcharcliplen cut at the limit or the first zero
 *     byte;
 *   - pg_verify_mbstr checks a string in any encoding with PostgreSQL's own
 *     verifiers (libpgcommon's wchar.c), with PostgreSQL's ERROR naming the
 *     bad bytes; pg_verifymbstr checks in the database encoding (SQL_ASCII
 *     takes any byte but zero);
 *   - pg_do_encoding_conversion, pg_any_to_server, pg_server_to_any,
 *     pg_client_to_server and pg_server_to_client convert nothing (one
 *     side is SQL_ASCII, or both are the same) and validate as PostgreSQL
 *     does; a real conversion between two other encodings needs the
 *     catalog's conversion functions, which outside a transaction is
 *     PostgreSQL's own ERROR.
 * Module code, one thread.
 */
#include "pgcompat.h"

#include <stdio.h>
#include <string.h>

#define ERRCODE_CHARACTER_NOT_IN_REPERTOIRE MAKE_SQLSTATE('2','2','0','2','1')

#define PG_SQL_ASCII 0
#define PG_ENCODING_BE_LAST 34	/* PG_KOI8U */

/* PostgreSQL's own (libpgcommon's wchar.c and encnames.c, linked in). */
extern int	bgw_pg_pg_encoding_verifymbstr(int encoding, const char *mbstr, int len);
extern int	bgw_pg_pg_encoding_mblen_or_incomplete(int encoding, const char *mbstr,
												   size_t remaining);
extern const char *bgw_pg_pg_encoding_to_char(int encoding);

int
bgw_c_GetDatabaseEncoding(void)
{
	return PG_SQL_ASCII;
}

const char *
bgw_c_GetDatabaseEncodingName(void)
{
	return "SQL_ASCII";
}

int
bgw_c_pg_database_encoding_max_length(void)
{
	return 1;
}

int
bgw_c_pg_get_client_encoding(void)
{
	return PG_SQL_ASCII;
}

const char *
bgw_c_pg_get_client_encoding_name(void)
{
	return "SQL_ASCII";
}

int
bgw_c_pg_mblen(const char *mbstr)
{
	(void) mbstr;
	return 1;
}

int
bgw_c_pg_mbstrlen(const char *mbstr)
{
	return (int) strlen(mbstr);
}

int
bgw_c_pg_mbstrlen_with_len(const char *mbstr, int limit)
{
	(void) mbstr;
	return limit;
}

/* mbutils.c's cliplen: single-byte characters. */
static int
cliplen(const char *str, int len, int limit)
{
	int			l = 0;

	if (limit < len)
		len = limit;
	while (l < len && str[l])
		l++;
	return l;
}

int
bgw_c_pg_mbcliplen(const char *mbstr, int len, int limit)
{
	return cliplen(mbstr, len, limit);
}

int
bgw_c_pg_mbcharcliplen(const char *mbstr, int len, int limit)
{
	return cliplen(mbstr, len, limit);
}

BGW_NORETURN static void
report_invalid_encoding(int encoding, const char *mbstr, int len)
{
	int			l = bgw_pg_pg_encoding_mblen_or_incomplete(encoding, mbstr, (size_t) len);
	char		buf[8 * 5 + 1];
	char	   *p = buf;
	int			n = l < len ? l : len;

	if (n > 8)
		n = 8;
	buf[0] = '\0';
	for (int j = 0; j < n; j++)
		p += sprintf(p, j < n - 1 ? "0x%02x " : "0x%02x", (unsigned char) mbstr[j]);
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				bgw_c_errmsg_internal("invalid byte sequence for encoding \"%s\": %s",
									  bgw_pg_pg_encoding_to_char(encoding), buf));
	__builtin_unreachable();
}

bool
bgw_c_pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	int			oklen = bgw_pg_pg_encoding_verifymbstr(encoding, mbstr, len);

	if (oklen == len)
		return true;
	if (noError)
		return false;
	report_invalid_encoding(encoding, mbstr + oklen, len - oklen);
}

bool
bgw_c_pg_verifymbstr(const char *mbstr, int len, bool noError)
{
	return bgw_c_pg_verify_mbstr(PG_SQL_ASCII, mbstr, len, noError);
}

unsigned char *
bgw_c_pg_do_encoding_conversion(unsigned char *src, int len, int src_encoding,
								int dest_encoding)
{
	if (len <= 0 || src_encoding == dest_encoding || dest_encoding == PG_SQL_ASCII)
		return src;
	if (src_encoding == PG_SQL_ASCII)
	{
		(void) bgw_c_pg_verify_mbstr(dest_encoding, (const char *) src, len, false);
		return src;
	}
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
				bgw_c_errmsg_internal("cannot perform encoding conversion outside a transaction"));
	__builtin_unreachable();
}

/*
 * From `encoding` into the database encoding, SQL_ASCII: validated in the
 * database encoding when they agree, else in `encoding` when it can be a
 * server encoding, else only ASCII bytes pass.
 */
char *
bgw_c_pg_any_to_server(const char *s, int len, int encoding)
{
	if (len <= 0)
		return (char *) s;
	if (encoding == PG_SQL_ASCII)
		(void) bgw_c_pg_verify_mbstr(PG_SQL_ASCII, s, len, false);
	else if (encoding >= 0 && encoding <= PG_ENCODING_BE_LAST)
		(void) bgw_c_pg_verify_mbstr(encoding, s, len, false);
	else
	{
		for (int i = 0; i < len; i++)
		{
			if (s[i] == '\0' || (s[i] & 0x80))
				bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
							bgw_c_errmsg_internal("invalid byte value for encoding \"%s\": 0x%02x",
												  "SQL_ASCII", (unsigned char) s[i]));
		}
	}
	return (char *) s;
}

/* From the database encoding, SQL_ASCII: nothing to convert. */
char *
bgw_c_pg_server_to_any(const char *s, int len, int encoding)
{
	(void) len;
	(void) encoding;
	return (char *) s;
}

char *
bgw_c_pg_client_to_server(const char *s, int len)
{
	return bgw_c_pg_any_to_server(s, len, PG_SQL_ASCII);
}

char *
bgw_c_pg_server_to_client(const char *s, int len)
{
	return bgw_c_pg_server_to_any(s, len, PG_SQL_ASCII);
}
