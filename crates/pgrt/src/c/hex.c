/*
 * hex.c -- utils/adt/encode.c's hex conversion, without any database:
 *
 * - hex_encode: lower-case digits, two per byte, no NUL; the length.
 * - hex_decode: pairs of digits, white space (space, tab, newline, carriage
 *   return) between pairs skipped; PostgreSQL's ERRORs for a bad digit and
 *   an odd number of digits (22023).
 *
 * Who may call: any process of the runtime; no shared state.
 */
#include "pgcompat.h"

#include <string.h>

#define ERRCODE_INVALID_PARAMETER_VALUE MAKE_SQLSTATE('2','2','0','2','3')

extern int	bgw_c_pg_mblen(const char *mbstr);

uint64_t
bgw_c_hex_encode(const char *src, size_t len, char *dst)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) src[i];

		*dst++ = digits[c >> 4];
		*dst++ = digits[c & 0xF];
	}
	return (uint64_t) len * 2;
}

static int
hex_value(const char *p)
{
	char		c = *p;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				bgw_c_errmsg_internal("invalid hexadecimal digit: \"%.*s\"", bgw_c_pg_mblen(p), p));
	return 0;
}

uint64_t
bgw_c_hex_decode(const char *src, size_t len, char *dst)
{
	const char *s = src;
	const char *end = src + len;
	char	   *p = dst;

	while (s < end)
	{
		int			hi;

		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		{
			s++;
			continue;
		}
		hi = hex_value(s) << 4;
		s++;
		if (s >= end)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						bgw_c_errmsg_internal("invalid hexadecimal data: odd number of digits"));
		*p++ = (char) (hi | hex_value(s));
		s++;
	}
	return (uint64_t) (p - dst);
}
