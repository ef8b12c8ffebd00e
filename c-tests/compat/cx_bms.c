/*
 * cx_bms.c -- every exported Bitmapset function (nodes/bitmapset.h) on the
 * same sets, logging members, nwords (trailing words kept or trimmed, as
 * the major does) and results, and the ERRORs for a negative member and a
 * set that is not a singleton.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "nodes/pg_list.h"
#include "postmaster/bgworker.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxm_main(Datum main_arg);

static void
show(const char *what, const Bitmapset *s)
{
	StringInfoData buf;
	int			x = -1;

	initStringInfo(&buf);
	if (s == NULL)
		appendStringInfoString(&buf, "NULL");
	else
	{
		appendStringInfo(&buf, "nwords=%d {", s->nwords);
		while ((x = bms_next_member(s, x)) >= 0)
			appendStringInfo(&buf, " %d", x);
		appendStringInfoString(&buf, " }");
	}
	elog(LOG, "cxm %s: %s", what, buf.data);
}

static Bitmapset *
make(int n, const int *m)
{
	Bitmapset  *s = NULL;

	for (int i = 0; i < n; i++)
		s = bms_add_member(s, m[i]);
	return s;
}

#define MAKE(...) make(sizeof((int[]){__VA_ARGS__}) / sizeof(int), (int[]){__VA_ARGS__})

static void
try_error(const char *what, int which)
{
	PG_TRY();
	{
		Bitmapset  *s = MAKE(1, 2);

		if (which == 0)
			(void) bms_add_member(s, -1);
		else if (which == 1)
			(void) bms_singleton_member(s);
		else if (which == 2)
			(void) bms_singleton_member(NULL);
		else
			(void) bms_is_member(-3, s);
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxm %s: ERROR %s", what, e->message);
	}
	PG_END_TRY();
}

void
cxm_main(Datum main_arg)
{
	Bitmapset  *a = MAKE(1, 5, 64, 130);
	Bitmapset  *b = MAKE(5, 7, 64);
	Bitmapset  *c,
			   *d;
	int			member = -1;
	int			x;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	show("a", a);
	show("b", b);
	show("singleton 200", bms_make_singleton(200));
	show("copy a", bms_copy(a));
	show("union", bms_union(a, b));
	show("intersect", bms_intersect(a, b));
	show("intersect disjoint", bms_intersect(MAKE(1), MAKE(2)));
	show("difference a-b", bms_difference(a, b));
	show("difference b-a", bms_difference(b, a));
	show("difference b-b", bms_difference(b, b));
	elog(LOG, "cxm equal a,a-copy %d a,b %d null,null %d",
		 bms_equal(a, bms_copy(a)), bms_equal(a, b), bms_equal(NULL, NULL));
	elog(LOG, "cxm compare a,b %d b,a %d a,a %d null,a %d",
		 bms_compare(a, b), bms_compare(b, a), bms_compare(a, a), bms_compare(NULL, a));
	elog(LOG, "cxm is_subset b,a %d {5,64},a %d null,a %d",
		 bms_is_subset(b, a), bms_is_subset(MAKE(5, 64), a), bms_is_subset(NULL, a));
	elog(LOG, "cxm subset_compare a,b %d {5},a %d a,{5} %d a,a %d",
		 bms_subset_compare(a, b), bms_subset_compare(MAKE(5), a),
		 bms_subset_compare(a, MAKE(5)), bms_subset_compare(a, bms_copy(a)));
	elog(LOG, "cxm is_member 64 %d 63 %d 1000 %d null %d",
		 bms_is_member(64, a), bms_is_member(63, a), bms_is_member(1000, a), bms_is_member(1, NULL));
	elog(LOG, "cxm member_index 1 %d 64 %d 130 %d 2 %d",
		 bms_member_index(a, 1), bms_member_index(a, 64), bms_member_index(a, 130), bms_member_index(a, 2));
	elog(LOG, "cxm overlap a,b %d a,{2} %d overlap_list %d %d",
		 bms_overlap(a, b), bms_overlap(a, MAKE(2)),
		 bms_overlap_list(a, list_make2_int(3, 130)), bms_overlap_list(a, list_make1_int(3)));
	elog(LOG, "cxm nonempty_difference a,b %d {5},a %d",
		 bms_nonempty_difference(a, b), bms_nonempty_difference(MAKE(5), a));
	elog(LOG, "cxm singleton {70} %d get {70} %d/%d get a %d",
		 bms_singleton_member(MAKE(70)), bms_get_singleton_member(MAKE(70), &member), member,
		 bms_get_singleton_member(a, &member));
	elog(LOG, "cxm num_members a %d null %d membership a %d {3} %d null %d",
		 bms_num_members(a), bms_num_members(NULL), (int) bms_membership(a),
		 (int) bms_membership(MAKE(3)), (int) bms_membership(NULL));
	elog(LOG, "cxm hash equal sets %d empty %u",
		 bms_hash_value(MAKE(3, 200)) == bms_hash_value(MAKE(200, 3)), bms_hash_value(NULL));
	elog(LOG, "cxm hash {3,200} %u {1} %u", bms_hash_value(MAKE(3, 200)), bms_hash_value(MAKE(1)));

	c = MAKE(3, 200);
	c = bms_del_member(c, 200);
	show("del_member 200 of {3,200}", c);
	c = bms_del_member(c, 3);
	show("del_member 3 of {3}", c);
	elog(LOG, "cxm is_empty after deleting all: %d", bms_is_empty(c));
	show("add_members a,b", bms_add_members(bms_copy(a), b));
	show("add_members {1},a", bms_add_members(MAKE(1), a));
	show("add_range 60..70 to {1}", bms_add_range(MAKE(1), 60, 70));
	show("add_range 3..5 to NULL", bms_add_range(NULL, 3, 5));
	show("add_range 5..3", bms_add_range(MAKE(9), 5, 3));
	show("int_members a,b", bms_int_members(bms_copy(a), b));
	show("int_members a,{2}", bms_int_members(bms_copy(a), MAKE(2)));
	show("del_members a,b", bms_del_members(bms_copy(a), b));
	show("del_members a,{130}", bms_del_members(bms_copy(a), MAKE(130)));
	show("del_members a,a", bms_del_members(bms_copy(a), a));
	show("join a,b", bms_join(bms_copy(a), bms_copy(b)));
	show("join NULL,b", bms_join(NULL, bms_copy(b)));
#if PG_VERSION_NUM >= 170000
	show("replace_members {1},a", bms_replace_members(MAKE(1), a));
	show("replace_members a,NULL", bms_replace_members(bms_copy(a), NULL));
#else
	d = bms_copy(a);
	while ((x = bms_first_member(d)) >= 0)
		elog(LOG, "cxm first_member %d", x);
	show("after first_member", d);
#endif
	{
		StringInfoData buf;

		initStringInfo(&buf);
		x = -1;
		while ((x = bms_prev_member(a, x)) >= 0)
			appendStringInfo(&buf, " %d", x);
		elog(LOG, "cxm prev_member from the top:%s; from 64: %d; from 0: %d",
			 buf.data, bms_prev_member(a, 64), bms_prev_member(a, 0));
	}
	elog(LOG, "cxm next_member from 130: %d; null: %d", bms_next_member(a, 130), bms_next_member(NULL, -1));
	try_error("add_member -1", 0);
	try_error("singleton of {1,2}", 1);
	try_error("singleton of NULL", 2);
	try_error("is_member -3", 3);
	(void) d;
	elog(LOG, "cxm done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_bms", "cxm_main", "cxm worker", "cxm");
}
