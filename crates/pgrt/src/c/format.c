/*
 * format.c -- the printf family PostgreSQL's port.h substitutes for libc's
 * (snprintf -> pg_snprintf, ...), psprintf, and StringInfo.
 *
 * PostgreSQL's printf adds %m (the text of errno) to C99's conversions and
 * is otherwise C99-compatible, so these expand %m into the format and hand
 * the rest to the C library: glibc prints every other conversion the same
 * way, positional arguments and "(null)" for a NULL %s included.
 */
#include "pgcompat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * If fmt contains %m, return a malloc'd copy with each %m replaced by the
 * text of errnum (its own '%' doubled); else NULL. "%%m" is left alone.
 */
static char *
expand_m(const char *fmt, int errnum)
{
	const char *p;
	const char *text = NULL;
	size_t		textlen = 0,
				count = 0,
				len;
	char	   *out,
			   *o;

	for (p = fmt; *p; p++)
	{
		if (p[0] != '%')
			continue;
		if (p[1] == '%')
			p++;
		else if (p[1] == 'm')
			count++;
	}
	if (count == 0)
		return NULL;
	text = strerror(errnum);
	for (p = text; *p; p++)
		textlen += (*p == '%') ? 2 : 1;
	len = strlen(fmt) + count * textlen + 1;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	for (p = fmt, o = out; *p; p++)
	{
		if (p[0] == '%' && p[1] == '%')
		{
			*o++ = *p++;
			*o++ = *p;
		}
		else if (p[0] == '%' && p[1] == 'm')
		{
			for (const char *t = text; *t; t++)
			{
				if (*t == '%')
					*o++ = '%';
				*o++ = *t;
			}
			p++;
		}
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

int
bgw_c_pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args)
{
	int			save = errno;
	char	   *expanded = expand_m(fmt, save);
	int			n;

	n = vsnprintf(str, count, expanded ? expanded : fmt, args);
	free(expanded);
	errno = save;
	return n;
}

int
bgw_c_pg_snprintf(char *str, size_t count, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = bgw_c_pg_vsnprintf(str, count, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vsprintf(char *str, const char *fmt, va_list args)
{
	int			save = errno;
	char	   *expanded = expand_m(fmt, save);
	int			n;

	n = vsprintf(str, expanded ? expanded : fmt, args);
	free(expanded);
	errno = save;
	return n;
}

int
bgw_c_pg_sprintf(char *str, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = bgw_c_pg_vsprintf(str, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vfprintf(FILE *stream, const char *fmt, va_list args)
{
	int			save = errno;
	char	   *expanded = expand_m(fmt, save);
	int			n;

	n = vfprintf(stream, expanded ? expanded : fmt, args);
	free(expanded);
	errno = save;
	return n;
}

int
bgw_c_pg_fprintf(FILE *stream, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = bgw_c_pg_vfprintf(stream, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vprintf(const char *fmt, va_list args)
{
	return bgw_c_pg_vfprintf(stdout, fmt, args);
}

int
bgw_c_pg_printf(const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = bgw_c_pg_vfprintf(stdout, fmt, args);
	va_end(args);
	return n;
}

/*
 * PostgreSQL's strerror never returns NULL or glibc's "Unknown error": an
 * errno it has no text for reads "operating system error N".
 */
char *
bgw_c_pg_strerror_r(int errnum, char *buf, size_t buflen)
{
	char	   *s = strerror_r(errnum, buf, buflen);

	if (s == NULL || strncmp(s, "Unknown error", 13) == 0)
	{
		snprintf(buf, buflen, "operating system error %d", errnum);
		return buf;
	}
	return s;
}

char *
bgw_c_pg_strerror(int errnum)
{
	static char buf[256];

	return bgw_c_pg_strerror_r(errnum, buf, sizeof(buf));
}

/*
 * Format into buf (len bytes). Returns the length printed when it fit,
 * else the buffer size needed (always more than len). Raises ERROR when
 * formatting fails or the result would exceed MaxAllocSize.
 */
size_t
bgw_c_pvsnprintf(char *buf, size_t len, const char *fmt, va_list args)
{
	int			n = bgw_c_pg_vsnprintf(buf, len, fmt, args);

	if (n < 0)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("vsnprintf failed: %m with format string \"%s\"", fmt));
	if ((size_t) n < len)
		return (size_t) n;
	if ((size_t) n >= MaxAllocSize)
		bgw_ereport(ERROR, (bgw_c_errcode(MAKE_SQLSTATE('5', '4', '0', '0', '0')),
							bgw_c_errmsg_internal("out of memory")));
	return (size_t) n + 1;
}

char *
bgw_c_psprintf(const char *fmt, ...)
{
	int			save = errno;
	size_t		len = 128;

	for (;;)
	{
		char	   *result = bgw_c_palloc(len);
		va_list		args;
		size_t		needed;

		errno = save;
		va_start(args, fmt);
		needed = bgw_c_pvsnprintf(result, len, fmt, args);
		va_end(args);
		if (needed < len)
			return result;
		bgw_rs_pfree(result);
		len = needed;
	}
}

/* ---- StringInfo (lib/stringinfo.c) ---- */

void
bgw_c_initStringInfo(StringInfo str)
{
	str->data = bgw_c_palloc(1024);
	str->maxlen = 1024;
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

StringInfo
bgw_c_makeStringInfo(void)
{
	StringInfo	res = bgw_c_palloc(sizeof(StringInfoData));

	bgw_c_initStringInfo(res);
	return res;
}

void
bgw_c_resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
bgw_c_enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("invalid string enlargement request size: %d", needed));
	if ((Size) needed >= (MaxAllocSize - (Size) str->len))
		bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							bgw_c_errmsg_internal("out of memory"),
							bgw_c_errdetail_internal("Cannot enlarge string buffer containing %d bytes by %d more bytes.",
													 str->len, needed)));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = bgw_c_repalloc(str->data, newlen);
	str->maxlen = newlen;
}

int
bgw_c_appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	size_t		nprinted;

	if (avail < 16)
		return 32;
	nprinted = bgw_c_pvsnprintf(str->data + str->len, (size_t) avail, fmt, args);
	if (nprinted < (size_t) avail)
	{
		str->len += (int) nprinted;
		return 0;
	}
	str->data[str->len] = '\0';
	return (int) nprinted;
}

void
bgw_c_appendStringInfo(StringInfo str, const char *fmt, ...)
{
	int			save = errno;

	for (;;)
	{
		va_list		args;
		int			needed;

		errno = save;
		va_start(args, fmt);
		needed = bgw_c_appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		bgw_c_enlargeStringInfo(str, needed);
	}
}

void
bgw_c_appendBinaryStringInfo(StringInfo str, const void *data, int datalen)
{
	bgw_c_enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, (size_t) datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
bgw_c_appendBinaryStringInfoNT(StringInfo str, const void *data, int datalen)
{
	bgw_c_enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, (size_t) datalen);
	str->len += datalen;
}

void
bgw_c_appendStringInfoString(StringInfo str, const char *s)
{
	bgw_c_appendBinaryStringInfo(str, s, (int) strlen(s));
}

void
bgw_c_appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		bgw_c_enlargeStringInfo(str, 1);
	str->data[str->len] = ch;
	str->len++;
	str->data[str->len] = '\0';
}

void
bgw_c_appendStringInfoSpaces(StringInfo str, int count)
{
	if (count > 0)
	{
		bgw_c_enlargeStringInfo(str, count);
		memset(str->data + str->len, ' ', (size_t) count);
		str->len += count;
		str->data[str->len] = '\0';
	}
}

extern int	bgw_c_pg_mbcliplen(const char *mbstr, int len, int limit);
extern char *bgw_c_pnstrdup(const char *in, Size len);
extern void bgw_c_pfree(void *pointer);

/*
 * mb/stringinfo_mb.h: `s` in single quotes with its quotes doubled, cut
 * to `maxlen` characters (at a character boundary) with "..." before the
 * closing quote when longer; a negative maxlen keeps it whole.
 */
void
bgw_c_appendStringInfoStringQuoted(StringInfo str, const char *s, int maxlen)
{
	char	   *copy = NULL;
	const char *from;
	const char *search;
	const char *quote;
	bool		cut = false;
	int			slen = (int) strlen(s);

	if (maxlen >= 0 && maxlen < slen)
	{
		copy = bgw_c_pnstrdup(s, (Size) bgw_c_pg_mbcliplen(s, slen, maxlen));
		s = copy;
		cut = true;
	}
	bgw_c_appendStringInfoChar(str, '\'');
	from = s;
	search = s;
	while ((quote = strchr(search, '\'')) != NULL)
	{
		/* through the quote, which also starts the next piece: doubled */
		bgw_c_appendBinaryStringInfo(str, from, (int) (quote - from + 1));
		from = quote;
		search = quote + 1;
	}
	bgw_c_appendStringInfoString(str, from);
	if (cut)
		bgw_c_appendStringInfoString(str, "...");
	bgw_c_appendStringInfoChar(str, '\'');
	if (copy)
		bgw_c_pfree(copy);
}
