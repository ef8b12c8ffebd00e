/*
 * cx_nodes.c -- value nodes and the List functions that compare or copy
 * them: makeInteger/makeString/..., equal, copyObject, IsA, list_member,
 * list_delete, list_append_unique, list_concat_unique, list_union,
 * list_intersection, list_difference (and their ptr/int/oid variants),
 * list_copy_deep, list_copy_head, list_delete_first_n,
 * list_deduplicate_oid. With cxn.unknown_node on, last compares two nodes
 * of a type only the server's node functions know.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "nodes/value.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxn_main(Datum main_arg);

static bool cxn_unknown_node = false;

static void
show(const char *what, const List *l)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (l == NIL)
		appendStringInfoString(&buf, "NIL");
	else
	{
		appendStringInfo(&buf, "%s len=%d max=%d:",
						 IsA(l, List) ? "List" : IsA(l, IntList) ? "IntList" :
						 IsA(l, OidList) ? "OidList" : "?", list_length(l), l->max_length);
		foreach(lc, l)
		{
			if (IsA(l, IntList))
				appendStringInfo(&buf, " %d", lfirst_int(lc));
			else if (IsA(l, OidList))
				appendStringInfo(&buf, " %u", lfirst_oid(lc));
			else
			{
				Node	   *n = lfirst(lc);

				if (n == NULL)
					appendStringInfoString(&buf, " NULL");
				else if (IsA(n, String))
					appendStringInfo(&buf, " s:%s", strVal(n));
				else if (IsA(n, Integer))
					appendStringInfo(&buf, " i:%d", intVal(n));
				else if (IsA(n, Float))
					appendStringInfo(&buf, " f:%s", castNode(Float, n)->fval);
				else if (IsA(n, Boolean))
					appendStringInfo(&buf, " b:%d", boolVal(n));
				else if (IsA(n, List))
					appendStringInfo(&buf, " (list of %d)", list_length((List *) n));
				else
					appendStringInfo(&buf, " tag%d", (int) nodeTag(n));
			}
		}
	}
	elog(LOG, "cxn %s: %s", what, buf.data);
}

void
cxn_main(Datum main_arg)
{
	List	   *a = list_make4(makeString("x"), makeInteger(7), makeFloat("1.5"), makeBoolean(true));
	List	   *b = list_make3(makeString("y"), makeInteger(7), makeString("x"));
	List	   *nested = list_make2(a, list_make2_int(1, 2));
	List	   *copy;
	List	   *l;
	void	   *p1 = "p1",
			   *p2 = "p2",
			   *p3 = "p3";

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	show("a", a);
	show("b", b);
	elog(LOG, "cxn IsA: String %d Integer %d List %d IntList %d",
		 IsA(makeString("q"), String), IsA(makeInteger(1), Integer),
		 IsA(a, List), IsA(list_make1_int(1), IntList));
	elog(LOG, "cxn equal: x,x %d x,y %d 7,7 %d 7,8 %d 7,'7' %d f,f %d t,f %d null,null %d x,null %d",
		 equal(makeString("x"), makeString("x")), equal(makeString("x"), makeString("y")),
		 equal(makeInteger(7), makeInteger(7)), equal(makeInteger(7), makeInteger(8)),
		 equal(makeInteger(7), makeString("7")), equal(makeFloat("1.5"), makeFloat("1.5")),
		 equal(makeBoolean(true), makeBoolean(false)), equal(NULL, NULL), equal(makeString("x"), NULL));
	elog(LOG, "cxn equal lists: a,a-copy %d a,b %d ints %d int,oid %d nested %d",
		 equal(a, copyObject(a)), equal(a, b), equal(list_make2_int(1, 2), list_make2_int(1, 2)),
		 equal(list_make1_int(1), list_make1_oid(1)), equal(nested, copyObject(nested)));
	copy = copyObject(a);
	elog(LOG, "cxn copyObject: new cells %d new nodes %d new strings %d",
		 copy != a, linitial(copy) != linitial(a), strVal(linitial(copy)) != strVal(linitial(a)));
	show("copyObject nested", copyObject(nested));
	show("copy_deep", list_copy_deep(a));
	elog(LOG, "cxn member: 'x' %d 8 %d 7 %d NULL-list %d",
		 list_member(a, makeString("x")), list_member(a, makeInteger(8)),
		 list_member(a, makeInteger(7)), list_member(NIL, makeInteger(7)));
	show("delete 7", list_delete(list_copy(a), makeInteger(7)));
	show("delete absent", list_delete(list_copy(a), makeInteger(9)));
	show("append_unique x", list_append_unique(list_copy(a), makeString("x")));
	show("append_unique z", list_append_unique(list_copy(a), makeString("z")));
	show("concat_unique", list_concat_unique(list_copy(a), b));
	show("union", list_union(a, b));
	show("intersection", list_intersection(a, b));
	show("intersection NIL", list_intersection(a, NIL));
	show("difference a-b", list_difference(a, b));
	show("difference a-NIL", list_difference(a, NIL));
	show("union_int", list_union_int(list_make3_int(1, 2, 3), list_make3_int(3, 4, 1)));
	show("intersection_int", list_intersection_int(list_make3_int(1, 2, 3), list_make3_int(3, 4, 1)));
	show("difference_int", list_difference_int(list_make3_int(1, 2, 3), list_make2_int(2, 9)));
	show("union_oid", list_union_oid(list_make2_oid(5, 6), list_make2_oid(6, 7)));
	show("difference_oid", list_difference_oid(list_make2_oid(5, 6), list_make1_oid(6)));
	l = list_union_ptr(list_make2(p1, p2), list_make2(p2, p3));
	elog(LOG, "cxn union_ptr: %d %s %s %s", list_length(l), (char *) linitial(l),
		 (char *) lsecond(l), (char *) lthird(l));
	l = list_difference_ptr(list_make3(p1, p2, p3), list_make1(p2));
	elog(LOG, "cxn difference_ptr: %d %s %s", list_length(l), (char *) linitial(l), (char *) lsecond(l));
	l = NIL;
	for (int i = 0; i < 20; i++)
		l = lappend_int(l, i);
	show("copy_head 3", list_copy_head(l, 3));
	show("copy_head 0", list_copy_head(l, 0));
	show("copy_head 99", list_copy_head(l, 99));
	show("delete_first_n 17", list_delete_first_n(list_copy(l), 17));
	show("delete_first_n 20", list_delete_first_n(list_copy(l), 20));
	l = list_make5_oid(1, 1, 2, 3, 3);
	list_deduplicate_oid(l);
	show("deduplicate_oid", l);
#if PG_VERSION_NUM >= 160000
	l = lappend_xid(lappend_xid(NIL, 100), 200);
	elog(LOG, "cxn xid list: XidList %d member 200 %d member 300 %d equal %d",
		 IsA(l, XidList), list_member_xid(l, 200), list_member_xid(l, 300), equal(l, copyObject(l)));
#endif
	elog(LOG, "cxn done");
	if (cxn_unknown_node)
	{
		RangeVar   *rv = palloc0(sizeof(RangeVar));
		RangeVar   *rv2 = palloc0(sizeof(RangeVar));

		rv->type = T_RangeVar;
		rv2->type = T_RangeVar;
		elog(LOG, "cxn comparing a RangeVar");
		(void) equal(rv, rv2);
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomBoolVariable("cxn.unknown_node", "Compare a node only the server knows.", NULL,
							 &cxn_unknown_node, false, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_nodes");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxn_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxn worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxn");
	RegisterBackgroundWorker(&worker);
}
