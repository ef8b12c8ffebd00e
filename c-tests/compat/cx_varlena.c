/*
 * cx_varlena.c -- the helpers modules call most, without a database: text
 * from and to C strings, detoasting (short headers, pglz and LZ4
 * compression, indirect values, slices, corrupt data), fmgr's direct calls
 * (a NULL result, an ERROR passing through), quote_identifier with
 * keywords and odd characters, arrays built and taken apart (nulls,
 * bounds, every built-in element type, PostgreSQL's ERRORs), the session's
 * encodings and statement/transaction timestamps. Every result is a "cxv"
 * line (byte dumps, values, ERROR texts with their SQLSTATE), the same
 * under bgworkerd and the real server; "cxv own" lines are bgworkerd's
 * alone (an on-disk TOAST pointer, which a real server would look up in a
 * table).
 */
#include "postgres.h"

#include <dlfcn.h>
#include <limits.h>

#include "access/detoast.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "common/pg_lzcompress.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/timestamp.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxv_main(Datum main_arg);

/* ---- output ---- */

static void
dump(const char *what, const void *p, size_t len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < len; i++)
		appendStringInfo(&buf, "%02x", ((const unsigned char *) p)[i]);
	elog(LOG, "cxv %s: %zu %s", what, len, buf.data);
}

static void
dump_varlena(const char *what, const void *v)
{
	dump(what, v, VARSIZE_ANY(v));
}

static void
report_error(const char *what, const char *mask, const char *as)
{
	ErrorData  *e = CopyErrorData();
	StringInfoData msg;
	const char *m = e->message;
	const char *hit = mask ? strstr(m, mask) : NULL;

	FlushErrorState();
	initStringInfo(&msg);
	if (hit)
	{
		appendBinaryStringInfo(&msg, m, hit - m);
		appendStringInfoString(&msg, as);
		appendStringInfoString(&msg, hit + strlen(mask));
	}
	else
		appendStringInfoString(&msg, m);
	elog(LOG, "cxv %s: ERROR %s (%s)%s%s", what, msg.data, unpack_sql_state(e->sqlerrcode),
		 e->detail ? " DETAIL " : "", e->detail ? e->detail : "");
	FreeErrorData(e);
}

/* Run body; an ERROR is printed (its message with `mask` replaced by `as`). */
#define TRY(what, mask, as, ...) \
	do { \
		MemoryContext tcx_ = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			__VA_ARGS__; \
		} \
		PG_CATCH(); \
		{ \
			MemoryContextSwitchTo(tcx_); \
			report_error(what, mask, as); \
		} \
		PG_END_TRY(); \
	} while (0)

/* ---- text and detoasting ---- */

static struct varlena *
short_text(const char *s)
{
	size_t		len = strlen(s);
	char	   *v = palloc(len + 1);

	SET_VARSIZE_SHORT(v, len + 1);
	memcpy(v + 1, s, len);
	return (struct varlena *) v;
}

/* An in-line compressed value of s: method 0 (pglz) or 1 (LZ4). */
static struct varlena *
compressed(const char *s, int32 len, int method, int32 claimed)
{
	char	   *v = palloc0(PGLZ_MAX_OUTPUT(len) + 64);
	int32		n = -1;
	uint32		tcinfo = (uint32) claimed | ((uint32) method << 30);

	if (method == 0)
		n = pglz_compress(s, len, v + 8, PGLZ_strategy_always);
	else
	{
		void	   *h = dlopen("liblz4.so.1", RTLD_NOW | RTLD_LOCAL);
		int			(*comp) (const char *, char *, int, int);

		if (h == NULL)
			return NULL;
		comp = (int (*) (const char *, char *, int, int)) dlsym(h, "LZ4_compress_default");
		if (comp)
			n = comp(s, v + 8, len, PGLZ_MAX_OUTPUT(len) + 32);
	}
	if (n < 0)
		elog(ERROR, "cannot compress");
	SET_VARSIZE_COMPRESSED(v, n + 8);
	memcpy(v + 4, &tcinfo, 4);
	return (struct varlena *) v;
}

/* A 1-byte-header external pointer of tag `tag` holding `ptr`. */
static struct varlena *
external(uint8 tag, const void *ptr, size_t size)
{
	char	   *v = palloc0(2 + size);

	SET_VARTAG_EXTERNAL(v, tag);
	memcpy(v + 2, ptr, size);
	return (struct varlena *) v;
}

static void
sizes(const char *what, struct varlena *v)
{
	elog(LOG, "cxv sizes %s: raw %zu, stored %zu", what,
		 toast_raw_datum_size(PointerGetDatum(v)), toast_datum_size(PointerGetDatum(v)));
}

static void
text_tests(void)
{
	static const char repeated[] = "abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc-the end";
	text	   *t;
	char		buf[16];
	struct varlena *s;
	struct varlena *d;
	struct varlena *c;

	dump_varlena("cstring_to_text hello", cstring_to_text("hello"));
	dump_varlena("cstring_to_text empty", cstring_to_text(""));
	dump_varlena("cstring_to_text_with_len 7", cstring_to_text_with_len("abc\0def", 7));
	dump_varlena("cstring_to_text_with_len 2", cstring_to_text_with_len("abcdef", 2));
	t = cstring_to_text("four-byte text");
	elog(LOG, "cxv text_to_cstring 4b: %s", text_to_cstring(t));
	s = short_text("short text");
	elog(LOG, "cxv text_to_cstring short: %s", text_to_cstring((text *) s));
	for (size_t n = 0; n <= 15; n += 5)
	{
		memset(buf, '#', sizeof(buf));
		text_to_cstring_buffer(t, buf, n);
		buf[15] = '\0';
		elog(LOG, "cxv text_to_cstring_buffer %zu: [%s]", n, buf);
	}
	memset(buf, '#', sizeof(buf));
	text_to_cstring_buffer(cstring_to_text_with_len("ab\0cdef", 7), buf, 6);
	buf[15] = '\0';
	elog(LOG, "cxv text_to_cstring_buffer nul: [%s] [%s]", buf, buf + 3);
	memset(buf, '#', sizeof(buf));
	text_to_cstring_buffer((text *) s, buf, 8);
	buf[15] = '\0';
	elog(LOG, "cxv text_to_cstring_buffer short: [%s]", buf);

	d = pg_detoast_datum((struct varlena *) t);
	elog(LOG, "cxv pg_detoast_datum 4b same: %s", d == (struct varlena *) t ? "yes" : "no");
	d = pg_detoast_datum_copy((struct varlena *) t);
	elog(LOG, "cxv pg_detoast_datum_copy 4b same: %s", d == (struct varlena *) t ? "yes" : "no");
	dump_varlena("pg_detoast_datum_copy 4b", d);
	d = pg_detoast_datum(s);
	elog(LOG, "cxv pg_detoast_datum short same: %s", d == s ? "yes" : "no");
	dump_varlena("pg_detoast_datum short", d);
	dump_varlena("pg_detoast_datum_copy short", pg_detoast_datum_copy(s));
	d = pg_detoast_datum_packed(s);
	elog(LOG, "cxv pg_detoast_datum_packed short same: %s", d == s ? "yes" : "no");

	c = compressed(repeated, sizeof(repeated) - 1, 0, sizeof(repeated) - 1);
	elog(LOG, "cxv pglz compressed: %s", VARATT_IS_COMPRESSED(c) ? "yes" : "no");
	sizes("4b", (struct varlena *) t);
	sizes("short", s);
	sizes("pglz", c);
	elog(LOG, "cxv detoast_external_attr in-line: %s %s",
		 detoast_external_attr(c) == c ? "same" : "new",
		 detoast_external_attr(s) == s ? "same" : "new");
	dump_varlena("detoast_attr pglz", detoast_attr(c));
	dump_varlena("detoast_attr short", detoast_attr(s));
	TRY("pg_detoast_datum pglz", NULL, NULL,
		dump_varlena("pg_detoast_datum pglz", pg_detoast_datum(c)));
	TRY("pg_detoast_datum_copy pglz", NULL, NULL,
		dump_varlena("pg_detoast_datum_copy pglz", pg_detoast_datum_copy(c)));
	TRY("pg_detoast_datum_packed pglz", NULL, NULL,
		dump_varlena("pg_detoast_datum_packed pglz", pg_detoast_datum_packed(c)));
	TRY("text_to_cstring pglz", NULL, NULL,
		elog(LOG, "cxv text_to_cstring pglz: %s", text_to_cstring((text *) c)));
	TRY("slice pglz 3 5", NULL, NULL,
		dump_varlena("slice pglz 3 5", pg_detoast_datum_slice(c, 3, 5)));
	TRY("slice pglz 60 -1", NULL, NULL,
		dump_varlena("slice pglz 60 -1", pg_detoast_datum_slice(c, 60, -1)));
	TRY("slice pglz 60 100", NULL, NULL,
		dump_varlena("slice pglz 60 100", pg_detoast_datum_slice(c, 60, 100)));
	TRY("slice pglz 500 2", NULL, NULL,
		dump_varlena("slice pglz 500 2", pg_detoast_datum_slice(c, 500, 2)));
	TRY("slice pglz 1 INT_MAX", NULL, NULL,
		dump_varlena("slice pglz 1 INT_MAX", pg_detoast_datum_slice(c, 1, INT_MAX)));
	TRY("slice 4b 2 3", NULL, NULL,
		dump_varlena("slice 4b 2 3", pg_detoast_datum_slice((struct varlena *) t, 2, 3)));
	TRY("slice short 0 -1", NULL, NULL,
		dump_varlena("slice short 0 -1", pg_detoast_datum_slice(s, 0, -1)));
	TRY("slice short -1 2", NULL, NULL,
		dump_varlena("slice short -1 2", pg_detoast_datum_slice(s, -1, 2)));

	/* Corrupt: more bytes claimed than the data gives. */
	c = compressed(repeated, sizeof(repeated) - 1, 0, sizeof(repeated) + 10);
	TRY("pg_detoast_datum pglz corrupt", NULL, NULL,
		dump_varlena("pg_detoast_datum pglz corrupt", pg_detoast_datum(c)));
	/* An unknown compression method. */
	c = compressed(repeated, sizeof(repeated) - 1, 2, sizeof(repeated) - 1);
	TRY("pg_detoast_datum method 2", NULL, NULL,
		dump_varlena("pg_detoast_datum method 2", pg_detoast_datum(c)));
	TRY("text_to_cstring method 3", NULL, NULL,
		{
			memset((char *) c + 7, 0xc0, 1);
			elog(LOG, "cxv text_to_cstring method 3: %s", text_to_cstring((text *) c));
		});

	c = compressed(repeated, sizeof(repeated) - 1, 1, sizeof(repeated) - 1);
	if (c == NULL)
		elog(LOG, "cxv lz4: no liblz4 here");
	else
	{
		TRY("pg_detoast_datum lz4", NULL, NULL,
			dump_varlena("pg_detoast_datum lz4", pg_detoast_datum(c)));
		TRY("slice lz4 3 5", NULL, NULL,
			dump_varlena("slice lz4 3 5", pg_detoast_datum_slice(c, 3, 5)));
		c = compressed(repeated, sizeof(repeated) - 1, 1, sizeof(repeated) + 10);
		TRY("pg_detoast_datum lz4 longer claimed", NULL, NULL,
			dump_varlena("pg_detoast_datum lz4 longer claimed", pg_detoast_datum(c)));
	}

	/* An indirect pointer to an in-memory value, plain and compressed. */
	{
		struct varatt_indirect ind;
		struct varlena *v;

		ind.pointer = (struct varlena *) t;
		v = external(VARTAG_INDIRECT, &ind, sizeof(ind));
		d = pg_detoast_datum(v);
		elog(LOG, "cxv indirect copied: %s", d != (struct varlena *) t ? "yes" : "no");
		dump_varlena("pg_detoast_datum indirect", d);
		dump_varlena("slice indirect 5 4", pg_detoast_datum_slice(v, 5, 4));
		elog(LOG, "cxv text_to_cstring indirect: %s", text_to_cstring((text *) v));
		ind.pointer = compressed(repeated, sizeof(repeated) - 1, 0, sizeof(repeated) - 1);
		v = external(VARTAG_INDIRECT, &ind, sizeof(ind));
		dump_varlena("pg_detoast_datum indirect pglz", pg_detoast_datum(v));
		dump_varlena("slice indirect pglz 57 20", pg_detoast_datum_slice(v, 57, 20));
		sizes("indirect pglz", v);
		d = detoast_external_attr(v);
		elog(LOG, "cxv detoast_external_attr indirect pglz: compressed %s, copied %s",
			 VARATT_IS_COMPRESSED(d) ? "yes" : "no", d != ind.pointer ? "yes" : "no");
		dump_varlena("detoast_attr indirect pglz", detoast_attr(v));
		dump_varlena("detoast_attr_slice indirect pglz 0 3", detoast_attr_slice(v, 0, 3));
	}

	/* An on-disk TOAST pointer's sizes come from the pointer alone. */
	{
		struct varatt_external ext;

		memset(&ext, 0, sizeof(ext));
		ext.va_rawsize = 10000 + VARHDRSZ;
		ext.va_extinfo = 4000 | (1U << 30);
		ext.va_valueid = 16384;
		ext.va_toastrelid = 16385;
		sizes("ondisk", external(VARTAG_ONDISK, &ext, sizeof(ext)));
	}

	/* An on-disk TOAST pointer: bgworkerd has no table to read it from. */
	if (dlsym(RTLD_DEFAULT, "bgw_attach") != NULL)
	{
		struct varatt_external ext;
		struct varlena *v;

		memset(&ext, 0, sizeof(ext));
		ext.va_rawsize = 10000 + VARHDRSZ;
		ext.va_extinfo = 10000;
		ext.va_valueid = 16384;
		ext.va_toastrelid = 16385;
		v = external(VARTAG_ONDISK, &ext, sizeof(ext));
		TRY("own ondisk", NULL, NULL, (void) pg_detoast_datum(v));
		TRY("own ondisk text", NULL, NULL, (void) text_to_cstring((text *) v));
		TRY("own ondisk slice", NULL, NULL, (void) pg_detoast_datum_slice(v, 0, 4));
		TRY("own ondisk external", NULL, NULL, (void) detoast_external_attr(v));
		elog(LOG, "cxv own ondisk done");
	}
}

/* An expanded object whose flat form is a text value. */
typedef struct CxvExpanded
{
	ExpandedObjectHeader hdr;
	const char *content;
} CxvExpanded;

static Size
cxv_flat_size(ExpandedObjectHeader *eohptr)
{
	return VARHDRSZ + strlen(((CxvExpanded *) eohptr)->content);
}

static void
cxv_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	const char *c = ((CxvExpanded *) eohptr)->content;

	SET_VARSIZE(result, allocated_size);
	memcpy((char *) result + VARHDRSZ, c, allocated_size - VARHDRSZ);
}

static const ExpandedObjectMethods cxv_methods = {cxv_flat_size, cxv_flatten_into};

static void
expanded_tests(void)
{
	CxvExpanded *e = palloc0(sizeof(CxvExpanded));
	struct varatt_expanded ptr;
	struct varlena *v;

	e->hdr.vl_len_ = EOH_HEADER_MAGIC;
	e->hdr.eoh_methods = &cxv_methods;
	e->hdr.eoh_context = CurrentMemoryContext;
	e->content = "an expanded object, flattened";
	ptr.eohptr = &e->hdr;
	for (int tag = VARTAG_EXPANDED_RO; tag <= VARTAG_EXPANDED_RW; tag++)
	{
		v = external(tag, &ptr, sizeof(ptr));
		elog(LOG, "cxv expanded %d: size %zu", tag, VARSIZE_ANY(v));
		dump_varlena("pg_detoast_datum expanded", pg_detoast_datum(v));
		dump_varlena("pg_detoast_datum_copy expanded", pg_detoast_datum_copy(v));
		dump_varlena("slice expanded 3 8", pg_detoast_datum_slice(v, 3, 8));
		elog(LOG, "cxv text_to_cstring expanded: %s", text_to_cstring((text *) v));
		dump_varlena("datumCopy expanded", DatumGetPointer(datumCopy(PointerGetDatum(v), false, -1)));
		elog(LOG, "cxv datumGetSize expanded: %zu", datumGetSize(PointerGetDatum(v), false, -1));
		sizes("expanded", v);
		dump_varlena("detoast_external_attr expanded", detoast_external_attr(v));
	}
}

/* ---- fmgr ---- */

static Datum
f_sum(PG_FUNCTION_ARGS)
{
	int64		sum = 0;
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < PG_NARGS(); i++)
	{
		sum += PG_GETARG_INT64(i);
		appendStringInfo(&buf, "%s", PG_ARGISNULL(i) ? "n" : "v");
	}
	elog(LOG, "cxv f_sum: nargs %d coll %u flinfo %s oid %u context %s resultinfo %s args %s",
		 PG_NARGS(), PG_GET_COLLATION(),
		 fcinfo->flinfo ? "set" : "null",
		 fcinfo->flinfo ? fcinfo->flinfo->fn_oid : 0,
		 fcinfo->context ? "set" : "null",
		 fcinfo->resultinfo ? "set" : "null", buf.data);
	PG_RETURN_INT64(sum);
}

static Datum
f_null(PG_FUNCTION_ARGS)
{
	PG_RETURN_NULL();
}

static Datum
f_error(PG_FUNCTION_ARGS)
{
	ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("f_error raised %d", PG_NARGS())));
	PG_RETURN_VOID();
}

static Datum
f_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t) - 1));
}

static void
fmgr_tests(void)
{
	FmgrInfo	fi;
	char		fnull[32];
	char		ferror[32];

	snprintf(fnull, sizeof(fnull), "%p", (void *) f_null);
	snprintf(ferror, sizeof(ferror), "%p", (void *) f_error);
#define D(n, ...) \
	elog(LOG, "cxv DirectFunctionCall%dColl: %lld", n, \
		 (long long) DatumGetInt64(DirectFunctionCall##n##Coll(f_sum, 100 + n, __VA_ARGS__)))
	D(1, 1);
	D(2, 1, 2);
	D(3, 1, 2, 3);
	D(4, 1, 2, 3, 4);
	D(5, 1, 2, 3, 4, 5);
	D(6, 1, 2, 3, 4, 5, 6);
	D(7, 1, 2, 3, 4, 5, 6, 7);
	D(8, 1, 2, 3, 4, 5, 6, 7, 8);
	D(9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	elog(LOG, "cxv DirectFunctionCall1 text: %s",
		 text_to_cstring(DatumGetTextPP(DirectFunctionCall1(f_text,
															PointerGetDatum(short_text("shortened!"))))));
	TRY("DirectFunctionCall2Coll null", fnull, "FUNC",
		(void) DirectFunctionCall2Coll(f_null, 0, 1, 2));
	TRY("DirectFunctionCall3Coll error", NULL, NULL,
		(void) DirectFunctionCall3Coll(f_error, 0, 1, 2, 3));

	memset(&fi, 0, sizeof(fi));
	fi.fn_addr = f_sum;
	fi.fn_oid = 4242;
	fi.fn_nargs = 9;
	fi.fn_mcxt = CurrentMemoryContext;
#define F(n, ...) \
	elog(LOG, "cxv FunctionCall%dColl: %lld", n, \
		 (long long) DatumGetInt64(FunctionCall##n##Coll(&fi, 200 + n __VA_ARGS__)))
	F(0, );
	F(1, , 10);
	F(2, , 10, 20);
	F(3, , 10, 20, 30);
	F(4, , 10, 20, 30, 40);
	F(5, , 10, 20, 30, 40, 50);
	F(6, , 10, 20, 30, 40, 50, 60);
	F(7, , 10, 20, 30, 40, 50, 60, 70);
	F(8, , 10, 20, 30, 40, 50, 60, 70, 80);
	F(9, , 10, 20, 30, 40, 50, 60, 70, 80, 90);
	elog(LOG, "cxv CallerFInfoFunctionCall1: %lld",
		 (long long) DatumGetInt64(CallerFInfoFunctionCall1(f_sum, &fi, 301, 7)));
	elog(LOG, "cxv CallerFInfoFunctionCall2: %lld",
		 (long long) DatumGetInt64(CallerFInfoFunctionCall2(f_sum, &fi, 302, 7, 8)));
	fi.fn_addr = f_null;
	TRY("FunctionCall1Coll null", NULL, NULL, (void) FunctionCall1Coll(&fi, 0, 1));
	TRY("CallerFInfoFunctionCall2 null", fnull, "FUNC",
		(void) CallerFInfoFunctionCall2(f_null, &fi, 0, 1, 2));
	fi.fn_addr = f_error;
	TRY("FunctionCall2Coll error", NULL, NULL, (void) FunctionCall2Coll(&fi, 0, 1, 2));
	TRY("CallerFInfoFunctionCall1 error", ferror, "FUNC",
		(void) CallerFInfoFunctionCall1(f_error, &fi, 0, 1));
}

/* ---- identifiers ---- */

static void
quote_tests(void)
{
	static const char *const names[] = {
		"abc", "abc_def_09", "_x", "Abc", "aBc", "a b", "9abc", "a9", "x$", "a-b",
		"a\"b", "\"", "", "caf\xc3\xa9", "select", "user", "table", "int", "integer",
		"name", "abort", "between", "filter", "over", "json", "json_table",
		"json_value", "merge_action", "system_user", "absent", "virtual", "recheck",
		"current_user", "authorization", "xmltable", "time", "varchar",
	};
	const char *q;

	for (size_t i = 0; i < lengthof(names); i++)
	{
		q = quote_identifier(names[i]);
		elog(LOG, "cxv quote_identifier [%s]: [%s] %s", names[i], q,
			 q == names[i] ? "same" : "new");
	}
	elog(LOG, "cxv quote_qualified_identifier: [%s]", quote_qualified_identifier("public", "t1"));
	elog(LOG, "cxv quote_qualified_identifier: [%s]", quote_qualified_identifier("My Schema", "select"));
	elog(LOG, "cxv quote_qualified_identifier: [%s]", quote_qualified_identifier(NULL, "Tab"));
	elog(LOG, "cxv quote_qualified_identifier: [%s]", quote_qualified_identifier("a\"b", ""));
	quote_all_identifiers = true;
	q = quote_identifier("abc");
	elog(LOG, "cxv quote_all_identifiers quote_identifier: [%s]", q);
	elog(LOG, "cxv quote_all_identifiers quote_qualified_identifier: [%s]",
		 quote_qualified_identifier("public", "t1"));
	quote_all_identifiers = false;
	elog(LOG, "cxv quote_all_identifiers off: [%s]", quote_identifier("abc"));
}

/* ---- literals, textin/textout, Datums ---- */

static void
datum_tests(void)
{
	static const char *const literals[] = {"abc", "it's", "back\\slash", "", "both ' and \\ ''"};
	text	   *t4 = cstring_to_text("datum text");
	struct varlena *ts = short_text("datum text");
	NameData	n;
	Datum		c;

	for (size_t i = 0; i < lengthof(literals); i++)
		elog(LOG, "cxv quote_literal_cstr [%s]: [%s]", literals[i], quote_literal_cstr(literals[i]));
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf, "prefix:");
		escape_json(&buf, "plain \"quoted\" back\\slash \b\f\n\r\t \x01\x1f\x7f caf\xc3\xa9 /");
		elog(LOG, "cxv escape_json: %s", buf.data);
		resetStringInfo(&buf);
		escape_json(&buf, "");
		elog(LOG, "cxv escape_json empty: %s", buf.data);
#if PG_VERSION_NUM >= 180000
		resetStringInfo(&buf);
		escape_json_with_len(&buf, "a\0b\"c", 5);
		elog(LOG, "cxv escape_json_with_len: %s", buf.data);
		resetStringInfo(&buf);
		escape_json_text(&buf, (text *) short_text("short \"text\"\n"));
		escape_json_text(&buf, cstring_to_text("four-byte"));
		escape_json_text(&buf, (text *) compressed("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\t", 31, 0, 31));
		elog(LOG, "cxv escape_json_text: %s", buf.data);
#endif
	}
	dump_varlena("DirectFunctionCall1 textin",
				 DatumGetPointer(DirectFunctionCall1(textin, CStringGetDatum("via textin"))));
	elog(LOG, "cxv DirectFunctionCall1 textout: %s",
		 DatumGetCString(DirectFunctionCall1(textout, PointerGetDatum(short_text("via textout")))));

	memset(&n, 0, sizeof(n));
	strcpy(NameStr(n), "a_name");
	elog(LOG, "cxv datumGetSize: int4 %zu, int8 %zu, text %zu, short %zu, cstring %zu, name %zu",
		 datumGetSize(Int32GetDatum(5), true, 4), datumGetSize(Int64GetDatum(5), true, 8),
		 datumGetSize(PointerGetDatum(t4), false, -1), datumGetSize(PointerGetDatum(ts), false, -1),
		 datumGetSize(CStringGetDatum("four"), false, -2), datumGetSize(NameGetDatum(&n), false, NAMEDATALEN));
	TRY("datumGetSize typLen -3", NULL, NULL,
		elog(LOG, "cxv datumGetSize typLen -3: %zu", datumGetSize(PointerGetDatum(t4), false, -3)));
	TRY("datumGetSize NULL varlena", NULL, NULL,
		elog(LOG, "cxv datumGetSize NULL varlena: %zu", datumGetSize((Datum) 0, false, -1)));
	TRY("datumGetSize NULL cstring", NULL, NULL,
		elog(LOG, "cxv datumGetSize NULL cstring: %zu", datumGetSize((Datum) 0, false, -2)));
	c = datumCopy(Int32GetDatum(-7), true, 4);
	elog(LOG, "cxv datumCopy int4: %llx", (unsigned long long) c);
	c = datumCopy(PointerGetDatum(ts), false, -1);
	elog(LOG, "cxv datumCopy short same: %s", DatumGetPointer(c) == (void *) ts ? "yes" : "no");
	dump_varlena("datumCopy short", DatumGetPointer(c));
	dump_varlena("datumCopy 4b", DatumGetPointer(datumCopy(PointerGetDatum(t4), false, -1)));
	elog(LOG, "cxv datumCopy cstring: %s", DatumGetCString(datumCopy(CStringGetDatum("copied"), false, -2)));
	elog(LOG, "cxv datumCopy name: %s", NameStr(*DatumGetName(datumCopy(NameGetDatum(&n), false, NAMEDATALEN))));
	elog(LOG, "cxv datumIsEqual: same text %d, other text %d, short vs 4b %d, int4 %d/%d, cstring %d",
		 datumIsEqual(PointerGetDatum(t4), PointerGetDatum(cstring_to_text("datum text")), false, -1),
		 datumIsEqual(PointerGetDatum(t4), PointerGetDatum(cstring_to_text("datum texT")), false, -1),
		 datumIsEqual(PointerGetDatum(t4), PointerGetDatum(ts), false, -1),
		 datumIsEqual(Int32GetDatum(3), Int32GetDatum(3), true, 4),
		 datumIsEqual(Int32GetDatum(3), Int32GetDatum(4), true, 4),
		 datumIsEqual(CStringGetDatum("x"), CStringGetDatum("x"), false, -2));
}

/* ---- encodings ---- */

static void
verify(const char *what, int encoding, const char *s, int len)
{
	TRY(what, NULL, NULL,
		{
			bool		quiet = pg_verify_mbstr(encoding, s, len, true);

			elog(LOG, "cxv %s: noError %s", what, quiet ? "true" : "false");
			elog(LOG, "cxv %s: %s", what, pg_verify_mbstr(encoding, s, len, false) ? "true" : "false");
		});
}

static void
encoding_tests(void)
{
	static const char utf8[] = "caf\xc3\xa9";
	static const char bad_utf8[] = "a\xc3\x28" "b";
	unsigned char *r;
	char	   *s;

	elog(LOG, "cxv pg_mblen: %d %d", pg_mblen("\xc3\xa9"), pg_mblen("a"));
	elog(LOG, "cxv pg_mbstrlen: %d", pg_mbstrlen(utf8));
	elog(LOG, "cxv pg_mbstrlen_with_len: %d", pg_mbstrlen_with_len("abcdef", 3));
	elog(LOG, "cxv pg_mbcliplen: %d %d %d", pg_mbcliplen("ab\0cd", 5, 4), pg_mbcliplen("abcdef", 6, 4),
		 pg_mbcliplen("abc", 3, 10));
	elog(LOG, "cxv pg_mbcharcliplen: %d %d", pg_mbcharcliplen("ab\0cd", 5, 4),
		 pg_mbcharcliplen(utf8, 5, 4));

	verify("pg_verify_mbstr utf8", PG_UTF8, utf8, 5);
	verify("pg_verify_mbstr bad utf8", PG_UTF8, bad_utf8, 4);
	verify("pg_verify_mbstr incomplete utf8", PG_UTF8, "ab\xe2\x82", 4);
	verify("pg_verify_mbstr latin1", PG_LATIN1, "\xe9\xff\x80", 3);
	verify("pg_verify_mbstr sql_ascii nul", PG_SQL_ASCII, "ab\0c", 4);
	verify("pg_verify_mbstr latin1 nul", PG_LATIN1, "\xe9\0", 2);
	verify("pg_verify_mbstr euc_jp", PG_EUC_JP, "\xa4\xa2\xa4", 3);
	verify("pg_verify_mbstr sjis", PG_SJIS, "\x82\xa0", 2);
	TRY("pg_verifymbstr", NULL, NULL,
		{
			elog(LOG, "cxv pg_verifymbstr: %d %d", pg_verifymbstr("a\x80", 2, false),
				 pg_verifymbstr("ab\0c", 4, true));
			(void) pg_verifymbstr("ab\0c", 4, false);
		});

	r = (unsigned char *) pstrdup(utf8);
	elog(LOG, "cxv pg_do_encoding_conversion same: %s %s %s %s",
		 pg_do_encoding_conversion(r, 5, PG_UTF8, PG_UTF8) == r ? "same" : "new",
		 pg_do_encoding_conversion(r, 5, PG_UTF8, PG_SQL_ASCII) == r ? "same" : "new",
		 pg_do_encoding_conversion(r, 5, PG_SQL_ASCII, PG_UTF8) == r ? "same" : "new",
		 pg_do_encoding_conversion(r, 0, PG_LATIN1, PG_UTF8) == r ? "same" : "new");
	TRY("pg_do_encoding_conversion bad utf8", NULL, NULL,
		(void) pg_do_encoding_conversion((unsigned char *) bad_utf8, 4, PG_SQL_ASCII, PG_UTF8));
	TRY("pg_do_encoding_conversion latin1 to utf8", NULL, NULL,
		(void) pg_do_encoding_conversion(r, 5, PG_LATIN1, PG_UTF8));

	s = pstrdup(utf8);
	elog(LOG, "cxv pg_any_to_server: %s %s %s",
		 pg_any_to_server(s, 5, PG_UTF8) == s ? "same" : "new",
		 pg_any_to_server(s, 5, PG_LATIN1) == s ? "same" : "new",
		 pg_any_to_server("plain", 5, PG_SJIS) != NULL ? "ok" : "null");
	TRY("pg_any_to_server bad utf8", NULL, NULL, (void) pg_any_to_server(bad_utf8, 4, PG_UTF8));
	TRY("pg_any_to_server sjis high bit", NULL, NULL, (void) pg_any_to_server("a\x82\xa0", 3, PG_SJIS));
	TRY("pg_any_to_server sql_ascii nul", NULL, NULL, (void) pg_any_to_server("a\0b", 3, PG_SQL_ASCII));
	elog(LOG, "cxv pg_server_to_any: %s %s",
		 pg_server_to_any(s, 5, PG_UTF8) == s ? "same" : "new",
		 pg_server_to_any(s, 5, PG_SJIS) == s ? "same" : "new");
	elog(LOG, "cxv pg_client_to_server: %s", pg_client_to_server(s, 5) == s ? "same" : "new");
	TRY("pg_client_to_server nul", NULL, NULL, (void) pg_client_to_server("a\0b", 3));
	elog(LOG, "cxv pg_server_to_client: %s", pg_server_to_client(s, 5) == s ? "same" : "new");
}

/* ---- session ---- */

static void
session_tests(void)
{
	TimestampTz before = GetCurrentTimestamp();
	TimestampTz t1,
				t2;

	elog(LOG, "cxv GetDatabaseEncoding: %d %s", GetDatabaseEncoding(), GetDatabaseEncodingName());
	elog(LOG, "cxv pg_get_client_encoding: %d %s", pg_get_client_encoding(),
		 pg_get_client_encoding_name());
	elog(LOG, "cxv pg_database_encoding_max_length: %d", pg_database_encoding_max_length());
	elog(LOG, "cxv GetCurrentStatementStartTimestamp before: %lld",
		 (long long) GetCurrentStatementStartTimestamp());
	SetCurrentStatementStartTimestamp();
	t1 = GetCurrentStatementStartTimestamp();
	elog(LOG, "cxv GetCurrentStatementStartTimestamp after: %s",
		 t1 >= before && t1 - before < 10 * USECS_PER_SEC ? "now" : "wrong");
	elog(LOG, "cxv GetCurrentTransactionStartTimestamp: %lld",
		 (long long) GetCurrentTransactionStartTimestamp());
	elog(LOG, "cxv transaction state: %d %d %d %d %d %d level %d status %c",
		 IsTransactionState(), IsAbortedTransactionBlockState(), IsTransactionBlock(),
		 IsTransactionOrTransactionBlock(), IsSubTransaction(), IsInParallelMode(),
		 GetCurrentTransactionNestLevel(), TransactionBlockStatusCode());
	elog(LOG, "cxv transaction ids: %u %u %llu %llu sub %u command %u %u",
		 GetTopTransactionIdIfAny(), GetCurrentTransactionIdIfAny(),
		 (unsigned long long) U64FromFullTransactionId(GetTopFullTransactionIdIfAny()),
		 (unsigned long long) U64FromFullTransactionId(GetCurrentFullTransactionIdIfAny()),
		 GetCurrentSubTransactionId(), GetCurrentCommandId(false), GetCurrentCommandId(true));
	t1 = GetCurrentTransactionStopTimestamp();
	pg_usleep(5000);
	t2 = GetCurrentTransactionStopTimestamp();
	elog(LOG, "cxv GetCurrentTransactionStopTimestamp: %s, second call %s",
		 t1 >= before && t1 - before < 10 * USECS_PER_SEC ? "now" : "wrong",
		 t2 == t1 ? "the same" : t2 > t1 ? "later" : "earlier");
#if PG_VERSION_NUM < 160000
	{
		char	   *z = MemoryContextAllocZeroAligned(CurrentMemoryContext, 64);
		int			nonzero = 0;

		for (int i = 0; i < 64; i++)
			nonzero += z[i] != 0;
		elog(LOG, "cxv MemoryContextAllocZeroAligned: %d nonzero, aligned %s", nonzero,
			 ((uintptr_t) z % MAXIMUM_ALIGNOF) == 0 ? "yes" : "no");
	}
#endif
}

/* ---- arrays ---- */

static void
print_elements(const char *what, ArrayType *a, int elmlen, bool byval, char align, bool want_nulls)
{
	Datum	   *elems;
	bool	   *nulls = NULL;
	int			n;
	StringInfoData buf;

	deconstruct_array(a, ARR_ELEMTYPE(a), elmlen, byval, align, &elems,
					  want_nulls ? &nulls : NULL, &n);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		if (nulls && nulls[i])
			appendStringInfoString(&buf, " NULL");
		else if (byval)
			appendStringInfo(&buf, " %llx", (unsigned long long) elems[i]);
		else if (elmlen == -1)
			appendStringInfo(&buf, " [%s]", text_to_cstring(DatumGetTextPP(elems[i])));
		else if (elmlen == -2)
			appendStringInfo(&buf, " [%s]", DatumGetCString(elems[i]));
		else
		{
			appendStringInfoString(&buf, " <");
			for (int j = 0; j < elmlen; j++)
				appendStringInfo(&buf, "%02x", ((unsigned char *) DatumGetPointer(elems[i]))[j]);
			appendStringInfoString(&buf, ">");
		}
	}
	elog(LOG, "cxv %s: %d:%s", what, n, buf.data);
}

static void
print_builtin(const char *what, ArrayType *a, Oid type)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	StringInfoData buf;

	deconstruct_array_builtin(a, type, &elems, &nulls, &n);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, " %s", nulls[i] ? "NULL" : "v");
	elog(LOG, "cxv %s: %d:%s", what, n, buf.data);
}

/* Every step of an iteration over a, slice_ndim dimensions at a time. */
static void
iterate(const char *what, ArrayType *a, int slice_ndim, int16 typlen, bool typbyval, char typalign)
{
	ArrayMetaState ms;
	ArrayIterator it;
	Datum		v;
	bool		isnull;
	StringInfoData buf;

	memset(&ms, 0, sizeof(ms));
	ms.element_type = ARR_ELEMTYPE(a);
	ms.typlen = typlen;
	ms.typbyval = typbyval;
	ms.typalign = typalign;
	it = array_create_iterator(a, slice_ndim, &ms);
	initStringInfo(&buf);
	while (array_iterate(it, &v, &isnull))
	{
		if (isnull)
			appendStringInfoString(&buf, " NULL");
		else if (slice_ndim > 0)
		{
			ArrayType  *sub = DatumGetArrayTypeP(v);

			appendStringInfo(&buf, " [%d dims, lbound %d:", ARR_NDIM(sub), ARR_LBOUND(sub)[0]);
			for (size_t i = 0; i < VARSIZE(sub); i++)
				appendStringInfo(&buf, "%02x", ((unsigned char *) sub)[i]);
			appendStringInfoString(&buf, "]");
		}
		else if (typbyval)
			appendStringInfo(&buf, " %llx", (unsigned long long) v);
		else
			appendStringInfo(&buf, " [%s]", text_to_cstring(DatumGetTextPP(v)));
	}
	array_free_iterator(it);
	elog(LOG, "cxv %s:%s", what, buf.data);
}

/* 3 by-value elements of `type` built and taken apart by the _builtin forms. */
static void
builtin_case(Datum *elems, Oid type, int len, char align)
{
	char		what[64];
	ArrayType  *a;

	snprintf(what, sizeof(what), "construct_array_builtin %u", type);
	TRY(what, NULL, NULL, dump_varlena(what, construct_array_builtin(elems, 3, type)));
	a = construct_array(elems, 3, type, len, true, align);
	snprintf(what, sizeof(what), "deconstruct_array_builtin %u", type);
	TRY(what, NULL, NULL, print_builtin(what, a, type));
}

static void
array_tests(void)
{
	Datum		ints[] = {Int32GetDatum(1), Int32GetDatum(-2), Int32GetDatum(300000)};
	Datum		shorts[6];
	bool		nulls[6] = {false, true, false, false, false, true};
	int			dims[MAXDIM + 1];
	int			lbs[MAXDIM + 1];
	Datum		texts[3];
	Datum		int8s[] = {Int64GetDatum(-1), Int64GetDatum(INT64CONST(0x123456789))};
	Datum		chars[] = {CharGetDatum('a'), CharGetDatum((char) 0xf0)};
	NameData	names[2];
	Datum		namesd[2];
	Datum		cstrings[] = {CStringGetDatum("one"), CStringGetDatum(""), CStringGetDatum("three")};
	Datum		floats[] = {Float4GetDatum(1.5f), Float4GetDatum(-2.0f)};
	Datum		doubles[] = {Float8GetDatum(0.25)};
	ItemPointerData tids[2];
	Datum		tidsd[2];
	ArrayType  *a;

	a = construct_array(ints, 3, INT4OID, 4, true, TYPALIGN_INT);
	dump_varlena("construct_array int4", a);
	print_elements("deconstruct_array int4", a, 4, true, TYPALIGN_INT, false);

	for (int i = 0; i < 6; i++)
		shorts[i] = Int16GetDatum(i * 1000 - 2500);
	dims[0] = 2;
	dims[1] = 3;
	lbs[0] = 0;
	lbs[1] = 5;
	a = construct_md_array(shorts, nulls, 2, dims, lbs, INT2OID, 2, true, TYPALIGN_SHORT);
	dump_varlena("construct_md_array int2 nulls", a);
	print_elements("deconstruct_array int2 nulls", a, 2, true, TYPALIGN_SHORT, true);
	TRY("deconstruct_array int2 nulls not taken", NULL, NULL,
		print_elements("deconstruct_array int2 nulls not taken", a, 2, true, TYPALIGN_SHORT, false));
	a = construct_md_array(shorts, NULL, 2, dims, lbs, INT2OID, 2, true, TYPALIGN_SHORT);
	dump_varlena("construct_md_array int2", a);
	iterate("array_iterate int2", a, 0, 2, true, TYPALIGN_SHORT);
	iterate("array_iterate int2 by rows", a, 1, 2, true, TYPALIGN_SHORT);
	iterate("array_iterate int2 whole", a, 2, 2, true, TYPALIGN_SHORT);
	TRY("array_create_iterator 3 of 2 dims", NULL, NULL,
		iterate("array_create_iterator 3 of 2 dims", a, 3, 2, true, TYPALIGN_SHORT));
	a = construct_md_array(shorts, nulls, 2, dims, lbs, INT2OID, 2, true, TYPALIGN_SHORT);
	iterate("array_iterate int2 nulls", a, 0, 2, true, TYPALIGN_SHORT);
	iterate("array_iterate int2 nulls by rows", a, 1, 2, true, TYPALIGN_SHORT);

	texts[0] = PointerGetDatum(cstring_to_text("first"));
	texts[1] = PointerGetDatum(short_text("short one"));
	texts[2] = PointerGetDatum(compressed("xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyz", 36, 0, 36));
	a = construct_array(texts, 3, TEXTOID, -1, false, TYPALIGN_INT);
	dump_varlena("construct_array text", a);
	dump_varlena("elems[1] after construct_array", DatumGetPointer(texts[1]));
	print_elements("deconstruct_array text", a, -1, false, TYPALIGN_INT, true);
	iterate("array_iterate text", a, 0, -1, false, TYPALIGN_INT);
	iterate("array_iterate text as one", a, 1, -1, false, TYPALIGN_INT);
	iterate("array_iterate empty", construct_empty_array(INT4OID), 0, 4, true, TYPALIGN_INT);
	print_builtin("deconstruct_array_builtin text", a, TEXTOID);

	a = construct_array(int8s, 2, INT8OID, 8, true, TYPALIGN_DOUBLE);
	dump_varlena("construct_array int8", a);
	print_elements("deconstruct_array int8", a, 8, true, TYPALIGN_DOUBLE, false);
	a = construct_array(chars, 2, CHAROID, 1, true, TYPALIGN_CHAR);
	dump_varlena("construct_array char", a);
	print_elements("deconstruct_array char", a, 1, true, TYPALIGN_CHAR, false);

	memset(names, 0, sizeof(names));
	strcpy(NameStr(names[0]), "name_one");
	strcpy(NameStr(names[1]), "two");
	namesd[0] = NameGetDatum(&names[0]);
	namesd[1] = NameGetDatum(&names[1]);
	TRY("construct_array_builtin name", NULL, NULL,
		{
			a = construct_array_builtin(namesd, 2, NAMEOID);
			dump_varlena("construct_array_builtin name", a);
			print_elements("deconstruct_array name", a, NAMEDATALEN, false, TYPALIGN_CHAR, false);
		});
	TRY("construct_array_builtin cstring", NULL, NULL,
		{
			a = construct_array_builtin(cstrings, 3, CSTRINGOID);
			dump_varlena("construct_array_builtin cstring", a);
			print_elements("deconstruct_array cstring", a, -2, false, TYPALIGN_CHAR, false);
		});
	a = construct_array(cstrings, 3, CSTRINGOID, -2, false, TYPALIGN_CHAR);
	TRY("deconstruct_array_builtin cstring", NULL, NULL,
		print_builtin("deconstruct_array_builtin cstring", a, CSTRINGOID));
	TRY("construct_array_builtin float4", NULL, NULL,
		dump_varlena("construct_array_builtin float4", construct_array_builtin(floats, 2, FLOAT4OID)));
	a = construct_array(floats, 2, FLOAT4OID, 4, true, TYPALIGN_INT);
	TRY("deconstruct_array_builtin float4", NULL, NULL,
		print_builtin("deconstruct_array_builtin float4", a, FLOAT4OID));
	TRY("construct_array_builtin float8", NULL, NULL,
		dump_varlena("construct_array_builtin float8", construct_array_builtin(doubles, 1, FLOAT8OID)));
	a = construct_array(doubles, 1, FLOAT8OID, 8, true, TYPALIGN_DOUBLE);
	TRY("deconstruct_array_builtin float8", NULL, NULL,
		print_builtin("deconstruct_array_builtin float8", a, FLOAT8OID));
	ItemPointerSet(&tids[0], 7, 3);
	ItemPointerSet(&tids[1], 70000, 65535);
	tidsd[0] = PointerGetDatum(&tids[0]);
	tidsd[1] = PointerGetDatum(&tids[1]);
	TRY("construct_array_builtin tid", NULL, NULL,
		dump_varlena("construct_array_builtin tid", construct_array_builtin(tidsd, 2, TIDOID)));
	a = construct_array(tidsd, 2, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT);
	dump_varlena("construct_array tid", a);
	TRY("deconstruct_array_builtin tid", NULL, NULL,
		print_builtin("deconstruct_array_builtin tid", a, TIDOID));
	builtin_case(ints, CHAROID, 1, TYPALIGN_CHAR);
	builtin_case(ints, INT2OID, 2, TYPALIGN_SHORT);
	builtin_case(ints, INT4OID, 4, TYPALIGN_INT);
	builtin_case(ints, INT8OID, 8, TYPALIGN_DOUBLE);
	builtin_case(ints, OIDOID, 4, TYPALIGN_INT);
	builtin_case(ints, REGTYPEOID, 4, TYPALIGN_INT);
	builtin_case(ints, XIDOID, 4, TYPALIGN_INT);
	TRY("construct_array_builtin bool", NULL, NULL,
		dump_varlena("construct_array_builtin bool", construct_array_builtin(ints, 1, BOOLOID)));
	TRY("deconstruct_array_builtin bool", NULL, NULL,
		print_builtin("deconstruct_array_builtin bool", construct_empty_array(BOOLOID), BOOLOID));

	a = construct_empty_array(INT4OID);
	dump_varlena("construct_empty_array", a);
	print_elements("deconstruct_array empty", a, 4, true, TYPALIGN_INT, true);
	a = construct_array(ints, 0, INT4OID, 4, true, TYPALIGN_INT);
	dump_varlena("construct_array 0", a);
	dims[0] = 3;
	dims[1] = 0;
	a = construct_md_array(ints, NULL, 2, dims, lbs, INT4OID, 4, true, TYPALIGN_INT);
	dump_varlena("construct_md_array 3x0", a);
	a = construct_md_array(ints, NULL, 0, dims, lbs, INT4OID, 4, true, TYPALIGN_INT);
	dump_varlena("construct_md_array ndims 0", a);

	/* A 6-dimensional array of 1 element per dimension, and 7 dimensions. */
	for (int i = 0; i <= MAXDIM; i++)
	{
		dims[i] = 1;
		lbs[i] = -i;
	}
	a = construct_md_array(ints, NULL, MAXDIM, dims, lbs, INT4OID, 4, true, TYPALIGN_INT);
	dump_varlena("construct_md_array 6 dims", a);
	TRY("construct_md_array 7 dims", NULL, NULL,
		(void) construct_md_array(ints, NULL, MAXDIM + 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
	TRY("construct_md_array -1 dims", NULL, NULL,
		(void) construct_md_array(ints, NULL, -1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
	dims[0] = -1;
	TRY("construct_md_array dim -1", NULL, NULL,
		(void) construct_md_array(ints, NULL, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
	dims[0] = 2;
	lbs[0] = INT_MAX - 1;
	TRY("construct_md_array lbound INT_MAX-1", NULL, NULL,
		(void) construct_md_array(ints, NULL, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
	lbs[0] = INT_MAX - 2;
	TRY("construct_md_array lbound INT_MAX-2", NULL, NULL,
		dump_varlena("construct_md_array lbound INT_MAX-2",
					 construct_md_array(ints, NULL, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT)));

	dims[0] = 3;
	dims[1] = 4;
	elog(LOG, "cxv ArrayGetNItems 3x4: %d", ArrayGetNItems(2, dims));
	elog(LOG, "cxv ArrayGetNItems ndim 0: %d", ArrayGetNItems(0, dims));
	dims[0] = 134217727;
	elog(LOG, "cxv ArrayGetNItems MaxArraySize: %d", ArrayGetNItems(1, dims));
	dims[0] = 134217728;
	TRY("ArrayGetNItems MaxArraySize+1", NULL, NULL,
		elog(LOG, "cxv ArrayGetNItems MaxArraySize+1: %d", ArrayGetNItems(1, dims)));
	dims[0] = 100000;
	dims[1] = 100000;
	TRY("ArrayGetNItems overflow", NULL, NULL,
		elog(LOG, "cxv ArrayGetNItems overflow: %d", ArrayGetNItems(2, dims)));
	dims[1] = -3;
	TRY("ArrayGetNItems negative", NULL, NULL,
		elog(LOG, "cxv ArrayGetNItems negative: %d", ArrayGetNItems(2, dims)));
	dims[0] = 5;
	lbs[0] = INT_MAX;
	TRY("ArrayCheckBounds", NULL, NULL,
		{
			ArrayCheckBounds(1, dims, lbs);
			elog(LOG, "cxv ArrayCheckBounds: passed");
		});
	lbs[0] = INT_MIN;
	ArrayCheckBounds(1, dims, lbs);
	elog(LOG, "cxv ArrayCheckBounds INT_MIN: passed");
}

void
cxv_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	text_tests();
	expanded_tests();
	fmgr_tests();
	quote_tests();
	datum_tests();
	encoding_tests();
	session_tests();
	array_tests();
	elog(LOG, "cxv done");
	/*
	 * Iterating without an ArrayMetaState makes PostgreSQL read the element
	 * type from the catalog: under bgworkerd the FATAL naming that call.
	 */
	if (dlsym(RTLD_DEFAULT, "bgw_attach") != NULL)
	{
		Datum		one = Int32GetDatum(1);

		(void) array_create_iterator(construct_array(&one, 1, INT4OID, 4, true, TYPALIGN_INT),
									 0, NULL);
		elog(LOG, "cxv own not reached");
	}
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_varlena", "cxv_main", "cxv worker", "cxv");
}
