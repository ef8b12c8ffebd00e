/*
 * cx_list.c -- a worker that builds, grows, sorts, searches, cuts and frees
 * PostgreSQL Lists and logs their contents and allocated lengths, so that
 * the transcript under bgworkerd can be compared with PostgreSQL 15's.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "postmaster/bgworker.h"
#include "utils/memutils.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxl2_main(Datum main_arg);

static void
show(const char *what, List *l)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	if (l == NIL)
		appendStringInfoString(&s, "NIL");
	else
	{
		appendStringInfo(&s, "tag=%s len=%d max=%d separate=%d [",
						 IsA(l, IntList) ? "int" : IsA(l, OidList) ? "oid" : "ptr",
						 l->length, l->max_length, l->elements != l->initial_elements);
		foreach(lc, l)
		{
			if (IsA(l, IntList))
				appendStringInfo(&s, " %d", lfirst_int(lc));
			else if (IsA(l, OidList))
				appendStringInfo(&s, " %u", lfirst_oid(lc));
			else
				appendStringInfo(&s, " %s", (char *) lfirst(lc));
		}
		appendStringInfoString(&s, " ]");
	}
	elog(LOG, "cxl2 %s: %s", what, s.data);
	pfree(s.data);
}

static int
cmp_mod10(const ListCell *a, const ListCell *b)
{
	return (lfirst_int(a) % 10) - (lfirst_int(b) % 10);
}

void
cxl2_main(Datum main_arg)
{
	List	   *ints = NIL;
	List	   *oids = NIL;
	List	   *ptrs;
	List	   *other;
	MemoryContext cxt;
	MemoryContext old;
	int			i;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	cxt = AllocSetContextCreate(TopMemoryContext, "cxl2", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	for (i = 0; i < 40; i++)
	{
		ints = lappend_int(ints, (i * 37) % 101);
		if (i == 4 || i == 5 || i == 16 || i == 17 || i == 39)
			show(psprintf("ints after %d", i + 1), ints);
	}
	list_sort(ints, cmp_mod10);
	show("sorted by last digit", ints);
	list_sort(ints, list_int_cmp);
	show("sorted", ints);
	elog(LOG, "cxl2 member 74 %d 75 %d", list_member_int(ints, 74), list_member_int(ints, 75));
	ints = list_delete_int(ints, 74);
	ints = list_delete_first(ints);
	ints = list_delete_last(ints);
	ints = list_delete_nth_cell(ints, 3);
	ints = lcons_int(-1, ints);
	ints = list_insert_nth_int(ints, 2, 1000);
	ints = list_truncate(ints, 12);
	show("edited", ints);
	other = list_copy_tail(ints, 9);
	show("tail", other);
	other = list_concat(other, ints);
	show("concat", other);
	show("concat_copy", list_concat_copy(ints, list_make2_int(7, 8)));
	other = list_append_unique_int(other, 1000);
	other = list_append_unique_int(other, 1001);
	other = list_concat_unique_int(other, list_make3_int(1, 2, 1001));
	show("unique", other);

	for (i = 0; i < 6; i++)
		oids = lcons_oid((Oid) (4000000000u + i), oids);
	show("oids", oids);
	list_sort(oids, list_oid_cmp);
	show("oids sorted", oids);

	ptrs = list_make3(pstrdup("b"), pstrdup("c"), pstrdup("d"));
	ptrs = lcons(pstrdup("a"), ptrs);
	ptrs = lappend(ptrs, pstrdup("e"));
	ptrs = list_insert_nth(ptrs, 1, pstrdup("a2"));
	show("ptrs", ptrs);
	elog(LOG, "cxl2 ptr member %d", list_member_ptr(ptrs, linitial(ptrs)));
	ptrs = list_delete_ptr(ptrs, llast(ptrs));
	ptrs = list_delete_cell(ptrs, list_nth_cell(ptrs, 1));
	show("ptrs edited", ptrs);
	show("copy", list_copy(ptrs));
	show("make5", list_make5(ptrs, ptrs, ptrs, ptrs, ptrs) ? list_make4_int(1, 2, 3, 4) : NIL);
	list_free_deep(ptrs);
	list_free(ints);
	show("single delete", list_delete_first(list_make1_int(5)));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	elog(LOG, "cxl2 done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_list", "cxl2_main", "cxl2 worker", "cxl2");
}
