/*
 * quote.c -- quote_identifier and quote_qualified_identifier
 * (utils/builtins.h), with PostgreSQL's rules:
 *
 *   - a name is left as it is when it starts with a-z or '_', has only
 *     a-z, 0-9 and '_', is no keyword of the SQL grammar other than an
 *     unreserved one, and the setting quote_all_identifiers is off; the
 *     same pointer is then returned;
 *   - otherwise it is put in double quotes, each '"' inside doubled, in a
 *     new palloc'd string.
 *
 * The keywords are PostgreSQL's own list: libpgcommon's ScanKeywords and
 * ScanKeywordLookup (PostgreSQL 15's, linked in). PostgreSQL 17 and 18
 * have more keywords; of those, the ones that are not unreserved (the
 * only ones that change quoting) are listed below, as the real 17 and 18
 * servers' pg_get_keywords() gives them. quote_qualified_identifier
 * joins the quoted qualifier (when not NULL) and name with '.', in a new
 * palloc'd string.
 *
 * quote_literal_cstr puts a string in single quotes, each quote and
 * backslash inside doubled, with an E before the opening quote when there
 * is a backslash, as PostgreSQL's.
 *
 * escape_json (utils/json.h) appends a string to a StringInfo as a JSON
 * string: in double quotes, with \b \f \n \r \t \" \\ escaped and the
 * other bytes below 0x20 as \u00XX; 18's escape_json_with_len takes a
 * length (a zero byte is \u0000) and escape_json_text a text value.
 * Module code, one thread.
 */
#include "pgcompat.h"

#include <string.h>

extern void bgw_c_appendStringInfoChar(StringInfo str, char ch);
extern void bgw_c_appendStringInfoString(StringInfo str, const char *s);
extern void bgw_c_enlargeStringInfo(StringInfo str, int needed);
extern struct varlena *bgw_c_pg_detoast_datum_packed(struct varlena *datum);
extern void bgw_c_pfree(void *pointer);

/* common/kwlookup.h */
typedef struct ScanKeywordList ScanKeywordList;

#define UNRESERVED_KEYWORD 0

extern int	bgw_pg_ScanKeywordLookup(const char *str, const ScanKeywordList *keywords);
extern const ScanKeywordList bgw_pg_ScanKeywords;
extern const uint8_t bgw_pg_ScanKeywordCategories[];

/* The setting quote_all_identifiers (generated storage, see nodb.rs). */
extern bool quote_all_identifiers;

extern int	bgw_rs_pg_major(void);

/* Keywords of 17 and 18 that are not unreserved and are no keywords in 15. */
static const char *const keywords_since_17[] = {
	"json", "json_array", "json_arrayagg", "json_exists", "json_object",
	"json_objectagg", "json_query", "json_scalar", "json_serialize",
	"json_table", "json_value", "merge_action", "system_user",
};

static bool
needs_quotes_as_keyword(const char *ident)
{
	int			kwnum = bgw_pg_ScanKeywordLookup(ident, &bgw_pg_ScanKeywords);

	if (kwnum >= 0 && bgw_pg_ScanKeywordCategories[kwnum] != UNRESERVED_KEYWORD)
		return true;
	if (bgw_rs_pg_major() >= 17)
	{
		for (size_t i = 0; i < sizeof(keywords_since_17) / sizeof(keywords_since_17[0]); i++)
			if (strcmp(ident, keywords_since_17[i]) == 0)
				return true;
	}
	return false;
}

const char *
bgw_c_quote_identifier(const char *ident)
{
	bool		safe = (ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_';
	size_t		nquotes = 0;
	size_t		len = 0;
	char	   *result;
	char	   *o;

	for (const char *p = ident; *p; p++, len++)
	{
		char		c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
			continue;
		safe = false;
		if (c == '"')
			nquotes++;
	}
	if (quote_all_identifiers)
		safe = false;
	if (safe && needs_quotes_as_keyword(ident))
		safe = false;
	if (safe)
		return ident;

	result = bgw_c_palloc(len + nquotes + 3);
	o = result;
	*o++ = '"';
	for (const char *p = ident; *p; p++)
	{
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	return result;
}

char *
bgw_c_quote_qualified_identifier(const char *qualifier, const char *ident)
{
	const char *q = qualifier ? bgw_c_quote_identifier(qualifier) : NULL;
	const char *i = bgw_c_quote_identifier(ident);
	size_t		qlen = q ? strlen(q) + 1 : 0;
	size_t		ilen = strlen(i);
	char	   *result = bgw_c_palloc(qlen + ilen + 1);

	if (q)
	{
		memcpy(result, q, qlen - 1);
		result[qlen - 1] = '.';
	}
	memcpy(result + qlen, i, ilen + 1);
	return result;
}

char *
bgw_c_quote_literal_cstr(const char *rawstr)
{
	size_t		len = strlen(rawstr);
	char	   *result = bgw_c_palloc(len * 2 + 3 + 1);
	char	   *o = result;

	if (memchr(rawstr, '\\', len) != NULL)
		*o++ = 'E';
	*o++ = '\'';
	for (const char *p = rawstr; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			*o++ = *p;
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return result;
}

static void
escape_json_char(StringInfo buf, char c)
{
	char		u[8];

	switch (c)
	{
		case '\b':
			bgw_c_appendStringInfoString(buf, "\\b");
			break;
		case '\f':
			bgw_c_appendStringInfoString(buf, "\\f");
			break;
		case '\n':
			bgw_c_appendStringInfoString(buf, "\\n");
			break;
		case '\r':
			bgw_c_appendStringInfoString(buf, "\\r");
			break;
		case '\t':
			bgw_c_appendStringInfoString(buf, "\\t");
			break;
		case '"':
			bgw_c_appendStringInfoString(buf, "\\\"");
			break;
		case '\\':
			bgw_c_appendStringInfoString(buf, "\\\\");
			break;
		default:
			if ((unsigned char) c < ' ')
			{
				snprintf(u, sizeof(u), "\\u%04x", (int) c);
				bgw_c_appendStringInfoString(buf, u);
			}
			else
				bgw_c_appendStringInfoChar(buf, c);
			break;
	}
}

void
bgw_c_escape_json(StringInfo buf, const char *str)
{
	bgw_c_appendStringInfoChar(buf, '"');
	for (; *str; str++)
		escape_json_char(buf, *str);
	bgw_c_appendStringInfoChar(buf, '"');
}

void
bgw_c_escape_json_with_len(StringInfo buf, const char *str, int len)
{
	bgw_c_enlargeStringInfo(buf, len + 2);
	bgw_c_appendStringInfoChar(buf, '"');
	for (int i = 0; i < len; i++)
		escape_json_char(buf, str[i]);
	bgw_c_appendStringInfoChar(buf, '"');
}

void
bgw_c_escape_json_text(StringInfo buf, const struct varlena *txt)
{
	struct varlena *t = bgw_c_pg_detoast_datum_packed((struct varlena *) txt);
	const uint8_t *b = (const uint8_t *) t;
	uint32_t	h;
	int			len;
	const char *data;

	if (b[0] & 0x01)
	{
		len = ((b[0] >> 1) & 0x7F) - 1;
		data = (const char *) t + 1;
	}
	else
	{
		memcpy(&h, t, sizeof(h));
		len = (int) ((h >> 2) & 0x3FFFFFFF) - 4;
		data = (const char *) t + 4;
	}
	bgw_c_escape_json_with_len(buf, data, len);
	if (t != txt)
		bgw_c_pfree(t);
}
