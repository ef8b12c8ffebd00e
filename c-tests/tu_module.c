/*
 * tu_module.c -- tuple descriptors and heap tuples without a catalog, run
 * the same way under bgworkerd and under a real PostgreSQL server
 * (tests/heaptuple_postgresql.rs compares the "tu:" lines; each major's
 * own layout, as its headers compile it).
 *
 * A descriptor of int4, int8, float8, bool, text (short and long) and
 * int4 columns is built with TupleDescInitBuiltinEntry and
 * TupleDescCopyEntry; tuples are formed from Datums with and without
 * NULLs, dumped byte by byte, deformed, read with heap_getattr (the
 * inline fastgetattr and nocachegetattr, whose cached offsets are shown),
 * copied, modified and turned into composite Datums; a wider descriptor
 * with missing values in its constraints reads the added columns; the
 * ERRORs (too many columns, an unsupported built-in type, an invalid
 * system attribute) are caught and printed.
 */
#include "postgres.h"

#include <string.h>

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/tupdesc.h"
#include "access/tupdesc_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "hex_dump.h"
#include "tagged_catch.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void tu_main(Datum arg);

#define NATTS 7
#define CATCH(what, stmt) TAGGED_CATCH("tu", what, stmt)

static int
cacheoff(TupleDesc d, int i)
{
#if PG_VERSION_NUM >= 180000
	return TupleDescCompactAttr(d, i)->attcacheoff;
#else
	return TupleDescAttr(d, i)->attcacheoff;
#endif
}

static void
show_cacheoffs(const char *when, TupleDesc d)
{
	char		buf[256] = "";

	for (int i = 0; i < d->natts; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %d", cacheoff(d, i));
	elog(LOG, "tu: attcacheoff %s:%s", when, buf);
}

static void
show_desc(const char *what, TupleDesc d)
{
	elog(LOG, "tu: %s: natts %d type %u typmod %d refcount %d constr %d", what,
		 d->natts, d->tdtypeid, d->tdtypmod, d->tdrefcount, d->constr != NULL);
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(d, i);

		elog(LOG, "tu: %s %d: \"%s\" type %u len %d byval %d align %c storage %c coll %u num %d ndims %d typmod %d notnull %d missing %d local %d",
			 what, i + 1, NameStr(a->attname), a->atttypid, a->attlen, a->attbyval,
			 a->attalign, a->attstorage, a->attcollation, a->attnum, a->attndims,
			 a->atttypmod, a->attnotnull, a->atthasmissing, a->attislocal);
#if PG_VERSION_NUM >= 180000
		{
			CompactAttribute *c = TupleDescCompactAttr(d, i);

			elog(LOG, "tu: %s %d compact: len %d byval %d packable %d missing %d dropped %d generated %d nullability %c alignby %d",
				 what, i + 1, c->attlen, c->attbyval, c->attispackable, c->atthasmissing,
				 c->attisdropped, c->attgenerated, c->attnullability, c->attalignby);
		}
#endif
	}
}

static void
show_values(const char *what, TupleDesc d, Datum *v, bool *n, int natts)
{
	for (int i = 0; i < natts; i++)
	{
		Oid			t = TupleDescAttr(d, i)->atttypid;

		if (n[i])
			elog(LOG, "tu: %s %d: NULL", what, i + 1);
		else if (t == INT4OID)
			elog(LOG, "tu: %s %d: %d", what, i + 1, DatumGetInt32(v[i]));
		else if (t == INT8OID)
			elog(LOG, "tu: %s %d: " INT64_FORMAT, what, i + 1, DatumGetInt64(v[i]));
		else if (t == FLOAT8OID)
			elog(LOG, "tu: %s %d: %.17g", what, i + 1, DatumGetFloat8(v[i]));
		else if (t == BOOLOID)
			elog(LOG, "tu: %s %d: %d", what, i + 1, DatumGetBool(v[i]));
		else if (t == TEXTOID)
		{
			char	   *s = TextDatumGetCString(v[i]);

			elog(LOG, "tu: %s %d: \"%.20s\" (%d chars, header %d bytes)", what, i + 1, s,
				 (int) strlen(s), VARATT_IS_SHORT(DatumGetPointer(v[i])) ? 1 : 4);
		}
		else
			elog(LOG, "tu: %s %d: type %u", what, i + 1, t);
	}
}

static void
show_tuple(const char *what, HeapTuple t)
{
	HeapTupleHeader h = t->t_data;

	elog(LOG, "tu: %s: len %u hoff %d natts %d infomask %04x hasnulls %d varwidth %d external %d",
		 what, t->t_len, h->t_hoff, HeapTupleHeaderGetNatts(h), h->t_infomask,
		 HeapTupleHasNulls(t), HeapTupleHasVarWidth(t), HeapTupleHasExternal(t));
	elog(LOG, "tu: %s bytes: %s", what, hex(h, t->t_len));
}

/*
 * heap_getattr. 17.12's headers (those of the 17 the tests build with)
 * make it call heap_datum_check, which the 17.10 server compared with does
 * not export; for 17 the path heap_getattr takes for these tuples is
 * spelled out instead.
 */
static Datum
tu_getattr(HeapTuple t, int attnum, TupleDesc d, bool *isnull)
{
#if PG_VERSION_NUM >= 170000 && PG_VERSION_NUM < 180000
	if (attnum > (int) HeapTupleHeaderGetNatts(t->t_data))
		return getmissingattr(d, attnum, isnull);
	return fastgetattr(t, attnum, d, isnull);
#else
	return heap_getattr(t, attnum, d, isnull);
#endif
}

static void
show_getattr(const char *what, HeapTuple t, TupleDesc d, int upto)
{
	Datum		v[16];
	bool		n[16];

	for (int i = 1; i <= upto; i++)
		v[i - 1] = tu_getattr(t, i, d, &n[i - 1]);
	show_values(what, d, v, n, upto);
}

static TupleDesc
make_desc(void)
{
	TupleDesc	d = CreateTemplateTupleDesc(NATTS);
	TupleDesc	f;

	TupleDescInitBuiltinEntry(d, 1, "a_int4", INT4OID, -1, 0);
	TupleDescInitBuiltinEntry(d, 2, "b_int8", INT8OID, -1, 0);
	/* float8 is not one of the built-in entries: its row is int8's with
	 * the type changed, as a caller without a catalog would make it. */
	f = CreateTemplateTupleDesc(1);
	TupleDescInitBuiltinEntry(f, 1, "c_float8", INT8OID, -1, 0);
	TupleDescCopyEntry(d, 3, f, 1);
	TupleDescAttr(d, 2)->atttypid = FLOAT8OID;
#if PG_VERSION_NUM >= 180000
	populate_compact_attribute(d, 2);
#endif
	FreeTupleDesc(f);
	TupleDescInitBuiltinEntry(d, 4, "d_bool", BOOLOID, -1, 0);
	TupleDescInitBuiltinEntry(d, 5, "e_text", TEXTOID, -1, 0);
	TupleDescInitBuiltinEntry(d, 6, "f_long_text", TEXTOID, -1, 0);
	TupleDescInitBuiltinEntry(d, 7, "g_int4", INT4OID, 42, 1);
	return d;
}

void
tu_main(Datum arg)
{
	TupleDesc	d = make_desc();
	TupleDesc	c;
	TupleDesc	w;
	Datum		v[NATTS];
	bool		n[NATTS];
	Datum		v2[NATTS + 2];
	bool		n2[NATTS + 2];
	char		longtext[201];
	HeapTuple	t1;
	HeapTuple	t2;
	HeapTuple	t3;
	HeapTupleData copy;
	HeapTupleHeader composite;
	bool		isnull;
	Datum		sys;

	(void) arg;
	show_desc("desc", d);

	memset(longtext, 'x', 200);
	longtext[200] = '\0';
	v[0] = Int32GetDatum(42);
	v[1] = Int64GetDatum(-9000000000LL);
	v[2] = Float8GetDatum(3.25);
	v[3] = BoolGetDatum(true);
	v[4] = CStringGetTextDatum("hello");
	v[5] = CStringGetTextDatum(longtext);
	v[6] = Int32GetDatum(-7);
	memset(n, 0, sizeof(n));
	elog(LOG, "tu: heap_compute_data_size without nulls %zu", heap_compute_data_size(d, v, n));
	t1 = heap_form_tuple(d, v, n);
	show_tuple("t1", t1);
	show_cacheoffs("after forming", d);
	{
		Datum		dv[NATTS];
		bool		dn[NATTS];

		heap_deform_tuple(t1, d, dv, dn);
		show_values("t1 deformed", d, dv, dn, NATTS);
	}
	show_cacheoffs("after deforming t1", d);
	show_getattr("t1 heap_getattr", t1, d, NATTS);

	/* NULLs: the bitmap, and nocachegetattr's slow path. */
	c = CreateTupleDescCopy(d);
	n[0] = true;
	n[4] = true;
	n[6] = true;
	elog(LOG, "tu: heap_compute_data_size with nulls %zu", heap_compute_data_size(c, v, n));
	t2 = heap_form_tuple(c, v, n);
	show_tuple("t2", t2);
	show_getattr("t2 heap_getattr", t2, c, NATTS);
	show_cacheoffs("after reading t2", c);
	for (int i = 1; i <= NATTS; i++)
		elog(LOG, "tu: t2 heap_attisnull %d: %d", i, heap_attisnull(t2, i, c));
	elog(LOG, "tu: t2 heap_attisnull past its attributes, no descriptor: %d",
		 heap_attisnull(t2, NATTS + 1, NULL));
	elog(LOG, "tu: t2 nocachegetattr 6: %d chars", (int) strlen(TextDatumGetCString(nocachegetattr(t2, 6, c))));
	elog(LOG, "tu: t2 heap_attisnull tableoid %d", heap_attisnull(t2, TableOidAttributeNumber, c));
	CATCH("heap_attisnull(t2, -9)", heap_attisnull(t2, -9, c));
	sys = heap_getsysattr(t2, TableOidAttributeNumber, c, &isnull);
	elog(LOG, "tu: t2 tableoid %u null %d", DatumGetObjectId(sys), isnull);
	sys = heap_getsysattr(t2, SelfItemPointerAttributeNumber, c, &isnull);
	elog(LOG, "tu: t2 ctid %s", hex(DatumGetPointer(sys), sizeof(ItemPointerData)));
	sys = heap_getsysattr(t2, MinTransactionIdAttributeNumber, c, &isnull);
	elog(LOG, "tu: t2 xmin field %u", DatumGetTransactionId(sys));
	CATCH("heap_getsysattr(t2, -8)", heap_getsysattr(t2, -8, c, &isnull));

	/* Copies. */
	t3 = heap_copytuple(t2);
	elog(LOG, "tu: heap_copytuple same bytes %d, own memory %d", t3->t_len == t2->t_len &&
		 memcmp(t3->t_data, t2->t_data, t2->t_len) == 0, t3->t_data != t2->t_data);
	elog(LOG, "tu: heap_copytuple(NULL) %d", heap_copytuple(NULL) == NULL);
	heap_copytuple_with_tuple(t1, &copy);
	elog(LOG, "tu: heap_copytuple_with_tuple same bytes %d", copy.t_len == t1->t_len &&
		 memcmp(copy.t_data, t1->t_data, t1->t_len) == 0);
	c->tdtypeid = RECORDOID;
	c->tdtypmod = 3;
	/* The Datum itself: 15.20's and 17.12's DatumGetHeapTupleHeader is a
	 * function with checks of their own, not this runtime's. */
	composite = (HeapTupleHeader) DatumGetPointer(heap_copy_tuple_as_datum(t3, c));
	elog(LOG, "tu: heap_copy_tuple_as_datum length %u type %u typmod %d natts %d infomask %04x",
		 HeapTupleHeaderGetDatumLength(composite), HeapTupleHeaderGetTypeId(composite),
		 HeapTupleHeaderGetTypMod(composite), HeapTupleHeaderGetNatts(composite),
		 composite->t_infomask);
	heap_freetuple(t3);
	{
		HeapTuple	u = heap_copytuple(t1);
		Datum		hd = HeapTupleGetDatum(u);
		HeapTupleHeader hh = (HeapTupleHeader) DatumGetPointer(hd);

		elog(LOG, "tu: HeapTupleGetDatum the tuple's own header %d, infomask %04x",
			 hh == u->t_data, hh->t_infomask);
		/* A header without the Datum mark (as one made before the minor
		 * release that added it). */
		u->t_data->t_infomask &= ~(HEAP_XMAX_COMMITTED | HEAP_XMAX_INVALID);
		hh = (HeapTupleHeader) DatumGetPointer(HeapTupleGetDatum(u));
		elog(LOG, "tu: HeapTupleGetDatum of an unmarked header: its own %d, infomask %04x, length %u",
			 hh == u->t_data, hh->t_infomask, HeapTupleHeaderGetDatumLength(hh));
	}

	/* Modified copies. */
	{
		Datum		rv[NATTS];
		bool		rn[NATTS];
		bool		repl[NATTS];
		int			cols[2] = {1, 5};
		HeapTuple	m;

		memset(rv, 0, sizeof(rv));
		memset(rn, 0, sizeof(rn));
		memset(repl, 0, sizeof(repl));
		repl[1] = true;
		rn[1] = true;
		repl[4] = true;
		rv[4] = CStringGetTextDatum("world");
		m = heap_modify_tuple(t1, d, rv, rn, repl);
		show_tuple("modified", m);
		show_getattr("modified", m, d, NATTS);
		rv[0] = Int32GetDatum(1000);
		rv[1] = CStringGetTextDatum("by columns");
		rn[0] = false;
		rn[1] = false;
		m = heap_modify_tuple_by_cols(t2, c, 2, cols, rv, rn);
		show_tuple("by cols", m);
		show_getattr("by cols", m, c, NATTS);
	}

	/* A descriptor with two columns added after t1 was formed, their
	 * missing values in its constraints. */
	w = CreateTemplateTupleDesc(NATTS + 2);
	for (int i = 1; i <= NATTS; i++)
		TupleDescCopyEntry(w, i, d, i);
	TupleDescInitBuiltinEntry(w, NATTS + 1, "h_added_int4", INT4OID, -1, 0);
	TupleDescInitBuiltinEntry(w, NATTS + 2, "i_added_text", TEXTOID, -1, 0);
	TupleDescAttr(w, NATTS)->atthasmissing = true;
	TupleDescAttr(w, NATTS + 1)->atthasmissing = true;
#if PG_VERSION_NUM >= 180000
	populate_compact_attribute(w, NATTS);
	populate_compact_attribute(w, NATTS + 1);
#endif
	w->constr = palloc0(sizeof(TupleConstr));
	w->constr->missing = palloc0((NATTS + 2) * sizeof(AttrMissing));
	w->constr->missing[NATTS].am_present = true;
	w->constr->missing[NATTS].am_value = Int32GetDatum(99);
	w->constr->missing[NATTS + 1].am_present = true;
	w->constr->missing[NATTS + 1].am_value = CStringGetTextDatum("a default");
	heap_deform_tuple(t1, w, v2, n2);
	show_values("t1 with added columns", w, v2, n2, NATTS + 2);
	elog(LOG, "tu: added columns null? %d %d", heap_attisnull(t1, NATTS + 1, w),
		 heap_attisnull(t1, NATTS + 2, NULL));
	{
		bool		mn;
		Datum		m1 = getmissingattr(w, NATTS + 2, &mn);
		Datum		m2 = getmissingattr(w, NATTS + 2, &mn);

		elog(LOG, "tu: getmissingattr text the same copy each time %d, not the descriptor's %d",
			 m1 == m2, m1 != w->constr->missing[NATTS + 1].am_value);
		m1 = getmissingattr(d, 1, &mn);
		elog(LOG, "tu: getmissingattr of a column without one: null %d", mn);
	}
	{
		TupleDesc	wc = CreateTupleDescCopyConstr(w);
		TupleDesc	wp = CreateTupleDescCopy(w);

		elog(LOG, "tu: CreateTupleDescCopyConstr equal %d, has missing %d; CreateTupleDescCopy equal %d, constr %d",
			 equalTupleDescs(w, wc), wc->constr && wc->constr->missing,
			 equalTupleDescs(w, wp), wp->constr != NULL);
		heap_deform_tuple(t1, wc, v2, n2);
		show_values("t1 with the copy", wc, v2, n2, NATTS + 2);
		FreeTupleDesc(wc);
		FreeTupleDesc(wp);
	}

	/* Descriptors compared, hashed, copied, counted. */
	{
		TupleDesc	e = CreateTupleDescCopy(d);
		TupleDesc	into = palloc(TupleDescSize(d));
		Form_pg_attribute rows[2];
		TupleDesc	fromrows;
		ResourceOwner owner;

		elog(LOG, "tu: equalTupleDescs copy %d", equalTupleDescs(d, e));
#if PG_VERSION_NUM >= 170000
		elog(LOG, "tu: hash %u %u equalRowTypes %d", hashRowType(d), hashRowType(e), equalRowTypes(d, e));
#else
		elog(LOG, "tu: hash %u %u", hashTupleDesc(d), hashTupleDesc(e));
#endif
		TupleDescInitEntryCollation(e, 5, 950);
		elog(LOG, "tu: collation set %u, equal %d", TupleDescAttr(e, 4)->attcollation, equalTupleDescs(d, e));
		namestrcpy(&TupleDescAttr(e, 1)->attname, "renamed");
		elog(LOG, "tu: renamed equal %d", equalTupleDescs(d, e));
		TupleDescCopy(into, d);
		elog(LOG, "tu: TupleDescCopy equal %d refcount %d", equalTupleDescs(d, into), into->tdrefcount);
		rows[0] = TupleDescAttr(d, 5);
		rows[1] = TupleDescAttr(d, 0);
		fromrows = CreateTupleDesc(2, rows);
		show_desc("from rows", fromrows);
#if PG_VERSION_NUM >= 180000
		{
			TupleDesc	tr = CreateTupleDescTruncatedCopy(d, 2);

			show_desc("truncated", tr);
		}
#endif
		owner = ResourceOwnerCreate(NULL, "tu");
		CurrentResourceOwner = owner;
		e->tdrefcount = 0;
		IncrTupleDescRefCount(e);
		IncrTupleDescRefCount(e);
		elog(LOG, "tu: refcount after two increments %d", e->tdrefcount);
		DecrTupleDescRefCount(e);
		elog(LOG, "tu: refcount after a decrement %d", e->tdrefcount);
		DecrTupleDescRefCount(e);
		CurrentResourceOwner = NULL;
		elog(LOG, "tu: released");
	}

	/* ERRORs. */
	{
		TupleDesc	big = CreateTemplateTupleDesc(1700);
		TupleDesc	one = CreateTemplateTupleDesc(1);
		Datum	   *bv = palloc0(1700 * sizeof(Datum));
		bool	   *bn = palloc0(1700 * sizeof(bool));

		for (int i = 1; i <= 1700; i++)
			TupleDescInitBuiltinEntry(big, i, "c", INT4OID, -1, 0);
		CATCH("heap_form_tuple of 1700 columns", heap_form_tuple(big, bv, bn));
		CATCH("TupleDescInitBuiltinEntry float8", TupleDescInitBuiltinEntry(one, 1, "x", FLOAT8OID, -1, 0));
		CATCH("TupleDescInitBuiltinEntry oid", TupleDescInitBuiltinEntry(one, 1, "x", OIDOID, -1, 0));
		CATCH("TupleDescInitBuiltinEntry text[]", TupleDescInitBuiltinEntry(one, 1, "x", TEXTARRAYOID, -1, 1));
		show_desc("one", one);
	}

	/* heap_fill_tuple into a caller's buffer. */
	{
		Datum		fv[2] = {Int32GetDatum(5), CStringGetTextDatum("abc")};
		bool		fn[2] = {false, false};
		TupleDesc	two = CreateTemplateTupleDesc(2);
		char		buf[64];
		uint16		infomask = HEAP_HASNULL;
		bits8		bits[1] = {0};
		Size		size;

		TupleDescInitBuiltinEntry(two, 1, "i", INT4OID, -1, 0);
		TupleDescInitBuiltinEntry(two, 2, "t", TEXTOID, -1, 0);
		size = heap_compute_data_size(two, fv, fn);
		memset(buf, 0, sizeof(buf));
		heap_fill_tuple(two, fv, fn, buf, size, &infomask, bits);
		elog(LOG, "tu: heap_fill_tuple %zu bytes %s infomask %04x bits %02x", size, hex(buf, size), infomask, bits[0]);
		fn[0] = true;
		size = heap_compute_data_size(two, fv, fn);
		memset(buf, 0, sizeof(buf));
		heap_fill_tuple(two, fv, fn, buf, size, &infomask, bits);
		elog(LOG, "tu: heap_fill_tuple with a null %zu bytes %s infomask %04x bits %02x", size, hex(buf, size), infomask, bits[0]);
	}
	elog(LOG, "tu: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker wk;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&wk, 0, sizeof(wk));
	wk.bgw_flags = BGWORKER_SHMEM_ACCESS;
	wk.bgw_start_time = BgWorkerStart_PostmasterStart;
	wk.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(wk.bgw_library_name, BGW_MAXLEN, "tu_module");
	snprintf(wk.bgw_function_name, BGW_MAXLEN, "tu_main");
	snprintf(wk.bgw_name, BGW_MAXLEN, "tu worker");
	snprintf(wk.bgw_type, BGW_MAXLEN, "tu worker");
	RegisterBackgroundWorker(&wk);
}
