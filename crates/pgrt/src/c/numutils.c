/*
 * numutils.c -- utils/adt/numutils.c's integer parsing and printing, which
 * modules call on configuration and protocol text without any database:
 *
 * - pg_strtoint16/32/64: leading and trailing white space, a sign, decimal
 *   digits; from 16 on also 0x/0o/0b prefixes and underscores between
 *   digits (the process major decides, as its server would). PostgreSQL's
 *   ERRORs: invalid input syntax (22P02), out of range (22003), naming the
 *   SQL type.
 * - pg_itoa, pg_ltoa, pg_lltoa (NUL-terminated, length returned),
 *   pg_ultoa_n, pg_ulltoa_n (no NUL), pg_ultostr, pg_ultostr_zeropad (no
 *   NUL, the end returned).
 *
 * Who may call: any process of the runtime; no shared state.
 */
#include "pgcompat.h"

#include <ctype.h>
#include <string.h>

extern uint32_t bgw_rs_pg_major(void);

#define ERRCODE_INVALID_TEXT_REPRESENTATION MAKE_SQLSTATE('2','2','P','0','2')
#define ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE MAKE_SQLSTATE('2','2','0','0','3')

static void BGW_NORETURN
out_of_range(const char *s, const char *type)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				bgw_c_errmsg_internal("value \"%s\" is out of range for type %s", s, type));
	__builtin_unreachable();
}

static void BGW_NORETURN
invalid_syntax(const char *s, const char *type)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				bgw_c_errmsg_internal("invalid input syntax for type %s: \"%s\"", type, s));
	__builtin_unreachable();
}

static int
digit_value(unsigned char c, int base)
{
	int			v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

/*
 * The value of `s` as an integer of magnitude up to `max_pos` (positive) or
 * `max_neg` (negative, as a magnitude); `type` names the SQL type in the
 * ERRORs.
 */
static int64_t
parse_int(const char *s, uint64_t max_pos, uint64_t max_neg, const char *type)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *first;
	bool		neg = false;
	bool		extended = bgw_rs_pg_major() >= 16;
	int			base = 10;
	uint64_t	acc = 0;

	while (*p && isspace(*p))
		p++;
	if (*p == '-')
	{
		neg = true;
		p++;
	}
	else if (*p == '+')
		p++;

	if (extended && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	else if (extended && p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8;
	else if (extended && p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2;
	if (base != 10)
		p += 2;
	first = p;

	for (;;)
	{
		int			d = digit_value(*p, base);

		if (d >= 0)
		{
			/* the largest magnitude either sign allows, before it grows */
			if (acc > (max_neg > max_pos ? max_neg : max_pos) / (uint64_t) base)
				out_of_range(s, type);
			acc = acc * (uint64_t) base + (uint64_t) d;
			/* 15 stops at the first digit too many, whatever follows */
			if (!extended && acc > max_neg)
				out_of_range(s, type);
			p++;
		}
		else if (extended && *p == '_')
		{
			/* between digits only (after a prefix is allowed) */
			if (base == 10 && p == first)
				invalid_syntax(s, type);
			p++;
			if (digit_value(*p, base) < 0)
				invalid_syntax(s, type);
		}
		else
			break;
	}
	if (p == first)
		invalid_syntax(s, type);
	while (*p && isspace(*p))
		p++;
	if (*p != '\0')
		invalid_syntax(s, type);
	if (neg)
	{
		if (acc > max_neg)
			out_of_range(s, type);
		return acc == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) acc;
	}
	if (acc > max_pos)
		out_of_range(s, type);
	return (int64_t) acc;
}

int16_t
bgw_c_pg_strtoint16(const char *s)
{
	return (int16_t) parse_int(s, INT16_MAX, (uint64_t) INT16_MAX + 1, "smallint");
}

int32_t
bgw_c_pg_strtoint32(const char *s)
{
	return (int32_t) parse_int(s, INT32_MAX, (uint64_t) INT32_MAX + 1, "integer");
}

int64_t
bgw_c_pg_strtoint64(const char *s)
{
	return parse_int(s, INT64_MAX, (uint64_t) INT64_MAX + 1, "bigint");
}

/* Decimal digits of `v` at `a`, no NUL; how many. */
static int
put_unsigned(uint64_t v, char *a)
{
	char		tmp[20];
	int			n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (int i = 0; i < n; i++)
		a[i] = tmp[n - 1 - i];
	return n;
}

static int
put_signed(int64_t v, char *a)
{
	int			n = 0;
	uint64_t	mag = (uint64_t) v;

	if (v < 0)
	{
		a[n++] = '-';
		mag = (uint64_t) 0 - mag;
	}
	n += put_unsigned(mag, a + n);
	a[n] = '\0';
	return n;
}

int
bgw_c_pg_ultoa_n(uint32_t value, char *a)
{
	return put_unsigned(value, a);
}

int
bgw_c_pg_ulltoa_n(uint64_t value, char *a)
{
	return put_unsigned(value, a);
}

int
bgw_c_pg_itoa(int16_t i, char *a)
{
	return put_signed(i, a);
}

int
bgw_c_pg_ltoa(int32_t value, char *a)
{
	return put_signed(value, a);
}

int
bgw_c_pg_lltoa(int64_t value, char *a)
{
	return put_signed(value, a);
}

char *
bgw_c_pg_ultostr(char *str, uint32_t value)
{
	return str + put_unsigned(value, str);
}

/* At least `minwidth` digits, zero-padded on the left. */
char *
bgw_c_pg_ultostr_zeropad(char *str, uint32_t value, int32_t minwidth)
{
	char		digits[10];
	int			n = put_unsigned(value, digits);

	for (int i = n; i < minwidth; i++)
		*str++ = '0';
	memcpy(str, digits, (size_t) n);
	return str + n;
}
