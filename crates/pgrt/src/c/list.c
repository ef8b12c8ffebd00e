/*
 * list.c -- PostgreSQL 15's List (nodes/pg_list.h): an expansible array of
 * cells behind a header, written here against the header's layout and
 * documented behaviour (PostgreSQL's list.c is not copied): NIL is the
 * only empty list; a new list keeps its first cells in the same palloc
 * chunk as the header, rounded up to fill a power-of-two allocation; an
 * enlarged one moves them to a separate array (a power of two, at least
 * 16 cells) in the list's own memory context. Module code reads `length`,
 * `max_length` and `elements` directly (lfirst, list_nth, foreach), so
 * these numbers are PostgreSQL's. The node tags are the process's
 * major's (15: T_List 231; 17 and 18: 1, their own for int, OID and XID
 * lists). Functions that compare nodes with equal() or copy them with
 * copyObject() use c/nodes.c's, which know lists and value nodes.
 *
 * Called by module code in any process that has the runtime; ERRORs are
 * palloc's own (out of memory).
 */
#include "pgcompat.h"

#include <string.h>

#define T_List bgw_c_node_tag(BGW_T_List)
#define T_IntList bgw_c_node_tag(BGW_T_IntList)
#define T_OidList bgw_c_node_tag(BGW_T_OidList)
#define T_XidList bgw_c_node_tag(BGW_T_XidList)

typedef unsigned int Oid;
typedef unsigned int TransactionId;

typedef union ListCell
{
	void	   *ptr_value;
	int			int_value;
	Oid			oid_value;
	TransactionId xid_value;
} ListCell;

typedef struct List
{
	int			type;
	int			length;
	int			max_length;
	ListCell   *elements;
	ListCell	initial_elements[];
} List;

#define NIL ((List *) NULL)
/* Cells the header takes up, rounded up: the header and the first cells
 * share one allocation of a power-of-two number of cells. */
#define LIST_HEADER_OVERHEAD \
	((int) ((offsetof(List, initial_elements) - 1) / sizeof(ListCell) + 1))

_Static_assert(offsetof(List, initial_elements) == 24, "PostgreSQL 15's List header");
_Static_assert(sizeof(ListCell) == 8, "PostgreSQL 15's ListCell");

typedef int (*list_sort_comparator) (const ListCell *a, const ListCell *b);

extern void *bgw_c_MemoryContextAlloc(void *context, Size size);
extern void bgw_rs_pfree(void *pointer);
/* PostgreSQL's own pg_qsort (libpgport, linked in): list_sort sorts as
 * PostgreSQL's does, ties included. */
extern void pg_qsort(void *base, size_t nel, size_t elsize,
					 int (*cmp) (const void *, const void *));

static uint32_t
next_power_of_2(uint32_t n)
{
	uint32_t	p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static List *
new_list(int type, int min_size)
{
	int			max_size;
	List	   *list;

	max_size = (int) next_power_of_2((uint32_t) (min_size + LIST_HEADER_OVERHEAD > 8 ?
												 min_size + LIST_HEADER_OVERHEAD : 8));
	max_size -= LIST_HEADER_OVERHEAD;
	list = bgw_c_palloc(offsetof(List, initial_elements) + max_size * sizeof(ListCell));
	list->type = type;
	list->length = min_size;
	list->max_length = max_size;
	list->elements = list->initial_elements;
	return list;
}

static void
enlarge_list(List *list, int min_size)
{
	int			new_max_len = (int) next_power_of_2((uint32_t) (min_size > 16 ? min_size : 16));

	if (list->elements == list->initial_elements)
	{
		/* the separate array lives where the list does */
		void	   *context = ((void **) list)[-1];

		list->elements = bgw_c_MemoryContextAlloc(context, new_max_len * sizeof(ListCell));
		memcpy(list->elements, list->initial_elements, list->length * sizeof(ListCell));
	}
	else
		list->elements = bgw_c_repalloc(list->elements, new_max_len * sizeof(ListCell));
	list->max_length = new_max_len;
}

static ListCell *
insert_new_cell(List *list, int pos)
{
	if (list->length >= list->max_length)
		enlarge_list(list, list->length + 1);
	if (pos < list->length)
		memmove(&list->elements[pos + 1], &list->elements[pos],
				(list->length - pos) * sizeof(ListCell));
	list->length++;
	return &list->elements[pos];
}

List *
bgw_c_list_make1_impl(int t, ListCell datum1)
{
	List	   *list = new_list(t, 1);

	list->elements[0] = datum1;
	return list;
}

List *
bgw_c_list_make2_impl(int t, ListCell datum1, ListCell datum2)
{
	List	   *list = new_list(t, 2);

	list->elements[0] = datum1;
	list->elements[1] = datum2;
	return list;
}

List *
bgw_c_list_make3_impl(int t, ListCell datum1, ListCell datum2, ListCell datum3)
{
	List	   *list = new_list(t, 3);

	list->elements[0] = datum1;
	list->elements[1] = datum2;
	list->elements[2] = datum3;
	return list;
}

List *
bgw_c_list_make4_impl(int t, ListCell datum1, ListCell datum2, ListCell datum3, ListCell datum4)
{
	List	   *list = new_list(t, 4);

	list->elements[0] = datum1;
	list->elements[1] = datum2;
	list->elements[2] = datum3;
	list->elements[3] = datum4;
	return list;
}

List *
bgw_c_list_make5_impl(int t, ListCell datum1, ListCell datum2, ListCell datum3, ListCell datum4,
					  ListCell datum5)
{
	List	   *list = new_list(t, 5);

	list->elements[0] = datum1;
	list->elements[1] = datum2;
	list->elements[2] = datum3;
	list->elements[3] = datum4;
	list->elements[4] = datum5;
	return list;
}

static ListCell *
append_cell(List **list, int type)
{
	if (*list == NIL)
	{
		*list = new_list(type, 1);
		return &(*list)->elements[0];
	}
	return insert_new_cell(*list, (*list)->length);
}

static ListCell *
prepend_cell(List **list, int type)
{
	if (*list == NIL)
	{
		*list = new_list(type, 1);
		return &(*list)->elements[0];
	}
	return insert_new_cell(*list, 0);
}

List *
bgw_c_lappend(List *list, void *datum)
{
	append_cell(&list, T_List)->ptr_value = datum;
	return list;
}

List *
bgw_c_lappend_int(List *list, int datum)
{
	append_cell(&list, T_IntList)->int_value = datum;
	return list;
}

List *
bgw_c_lappend_oid(List *list, Oid datum)
{
	append_cell(&list, T_OidList)->oid_value = datum;
	return list;
}

List *
bgw_c_lcons(void *datum, List *list)
{
	prepend_cell(&list, T_List)->ptr_value = datum;
	return list;
}

List *
bgw_c_lcons_int(int datum, List *list)
{
	prepend_cell(&list, T_IntList)->int_value = datum;
	return list;
}

List *
bgw_c_lcons_oid(Oid datum, List *list)
{
	prepend_cell(&list, T_OidList)->oid_value = datum;
	return list;
}

List *
bgw_c_list_insert_nth(List *list, int pos, void *datum)
{
	if (list == NIL)
		return bgw_c_lappend(NIL, datum);
	insert_new_cell(list, pos)->ptr_value = datum;
	return list;
}

List *
bgw_c_list_insert_nth_int(List *list, int pos, int datum)
{
	if (list == NIL)
		return bgw_c_lappend_int(NIL, datum);
	insert_new_cell(list, pos)->int_value = datum;
	return list;
}

List *
bgw_c_list_insert_nth_oid(List *list, int pos, Oid datum)
{
	if (list == NIL)
		return bgw_c_lappend_oid(NIL, datum);
	insert_new_cell(list, pos)->oid_value = datum;
	return list;
}

List *
bgw_c_list_copy(const List *oldlist)
{
	List	   *newlist;

	if (oldlist == NIL)
		return NIL;
	newlist = new_list(oldlist->type, oldlist->length);
	memcpy(newlist->elements, oldlist->elements, newlist->length * sizeof(ListCell));
	return newlist;
}

List *
bgw_c_list_copy_tail(const List *oldlist, int nskip)
{
	List	   *newlist;

	if (nskip < 0)
		nskip = 0;
	if (oldlist == NIL || nskip >= oldlist->length)
		return NIL;
	newlist = new_list(oldlist->type, oldlist->length - nskip);
	memcpy(newlist->elements, &oldlist->elements[nskip], newlist->length * sizeof(ListCell));
	return newlist;
}

List *
bgw_c_list_concat(List *list1, const List *list2)
{
	int			new_len;

	if (list1 == NIL)
		return bgw_c_list_copy(list2);
	if (list2 == NIL)
		return list1;
	new_len = list1->length + list2->length;
	if (new_len > list1->max_length)
		enlarge_list(list1, new_len);
	/* memmove: list2 may be list1 */
	memmove(&list1->elements[list1->length], &list2->elements[0],
			list2->length * sizeof(ListCell));
	list1->length = new_len;
	return list1;
}

List *
bgw_c_list_concat_copy(const List *list1, const List *list2)
{
	List	   *result;

	if (list1 == NIL)
		return bgw_c_list_copy(list2);
	if (list2 == NIL)
		return bgw_c_list_copy(list1);
	result = new_list(list1->type, list1->length + list2->length);
	memcpy(result->elements, list1->elements, list1->length * sizeof(ListCell));
	memcpy(result->elements + list1->length, list2->elements, list2->length * sizeof(ListCell));
	return result;
}

List *
bgw_c_list_truncate(List *list, int new_size)
{
	if (new_size <= 0)
		return NIL;
	if (list != NIL && new_size < list->length)
		list->length = new_size;
	return list;
}

static void
list_free_private(List *list, bool deep)
{
	if (list == NIL)
		return;
	if (deep)
		for (int i = 0; i < list->length; i++)
			bgw_rs_pfree(list->elements[i].ptr_value);
	if (list->elements != list->initial_elements)
		bgw_rs_pfree(list->elements);
	bgw_rs_pfree(list);
}

void
bgw_c_list_free(List *list)
{
	list_free_private(list, false);
}

void
bgw_c_list_free_deep(List *list)
{
	list_free_private(list, true);
}

List *
bgw_c_list_delete_nth_cell(List *list, int n)
{
	if (list->length == 1)
	{
		bgw_c_list_free(list);
		return NIL;
	}
	memmove(&list->elements[n], &list->elements[n + 1],
			(list->length - 1 - n) * sizeof(ListCell));
	list->length--;
	return list;
}

List *
bgw_c_list_delete_cell(List *list, ListCell *cell)
{
	return bgw_c_list_delete_nth_cell(list, (int) (cell - list->elements));
}

List *
bgw_c_list_delete_first(List *list)
{
	if (list == NIL)
		return NIL;
	return bgw_c_list_delete_nth_cell(list, 0);
}

List *
bgw_c_list_delete_last(List *list)
{
	if (list == NIL)
		return NIL;
	if (list->length <= 1)
	{
		bgw_c_list_free(list);
		return NIL;
	}
	list->length--;
	return list;
}

#define MEMBER_AND_DELETE(suffix, ctype, field) \
bool \
bgw_c_list_member_##suffix(const List *list, ctype datum) \
{ \
	if (list == NIL) \
		return false; \
	for (int i = 0; i < list->length; i++) \
		if (list->elements[i].field == datum) \
			return true; \
	return false; \
} \
List * \
bgw_c_list_delete_##suffix(List *list, ctype datum) \
{ \
	if (list == NIL) \
		return NIL; \
	for (int i = 0; i < list->length; i++) \
		if (list->elements[i].field == datum) \
			return bgw_c_list_delete_nth_cell(list, i); \
	return list; \
} \
List * \
bgw_c_list_append_unique_##suffix(List *list, ctype datum) \
{ \
	if (bgw_c_list_member_##suffix(list, datum)) \
		return list; \
	return bgw_c_lappend_##suffix(list, datum); \
} \
List * \
bgw_c_list_concat_unique_##suffix(List *list1, const List *list2) \
{ \
	if (list2 == NIL) \
		return list1; \
	for (int i = 0; i < list2->length; i++) \
		if (!bgw_c_list_member_##suffix(list1, list2->elements[i].field)) \
			list1 = bgw_c_lappend_##suffix(list1, list2->elements[i].field); \
	return list1; \
}

/* lappend_ptr is lappend, for the macro above */
static inline List *
bgw_c_lappend_ptr(List *list, void *datum)
{
	return bgw_c_lappend(list, datum);
}

MEMBER_AND_DELETE(ptr, void *, ptr_value)
MEMBER_AND_DELETE(int, int, int_value)
MEMBER_AND_DELETE(oid, Oid, oid_value)

void
bgw_c_list_sort(List *list, list_sort_comparator cmp)
{
	if (list != NIL && list->length > 1)
		pg_qsort(list->elements, list->length, sizeof(ListCell),
				 (int (*) (const void *, const void *)) cmp);
}

int
bgw_c_list_int_cmp(const ListCell *p1, const ListCell *p2)
{
	int			v1 = p1->int_value;
	int			v2 = p2->int_value;

	return v1 < v2 ? -1 : v1 > v2 ? 1 : 0;
}

int
bgw_c_list_oid_cmp(const ListCell *p1, const ListCell *p2)
{
	Oid			v1 = p1->oid_value;
	Oid			v2 = p2->oid_value;

	return v1 < v2 ? -1 : v1 > v2 ? 1 : 0;
}

/* PostgreSQL 16 and later: lists of transaction IDs. */
List *
bgw_c_lappend_xid(List *list, TransactionId datum)
{
	append_cell(&list, T_XidList)->xid_value = datum;
	return list;
}

bool
bgw_c_list_member_xid(const List *list, TransactionId datum)
{
	if (list == NIL)
		return false;
	for (int i = 0; i < list->length; i++)
		if (list->elements[i].xid_value == datum)
			return true;
	return false;
}

/* The first len cells (all when len is larger), as a new list. */
List *
bgw_c_list_copy_head(const List *oldlist, int len)
{
	List	   *newlist;

	if (oldlist == NIL || len <= 0)
		return NIL;
	if (len > oldlist->length)
		len = oldlist->length;
	newlist = new_list(oldlist->type, len);
	memcpy(newlist->elements, oldlist->elements, len * sizeof(ListCell));
	return newlist;
}

/* A copy whose elements are copyObject()'d (T_List) or copied (others). */
List *
bgw_c_list_copy_deep(const List *oldlist)
{
	List	   *newlist = bgw_c_list_copy(oldlist);

	if (newlist != NIL && newlist->type == T_List)
		for (int i = 0; i < newlist->length; i++)
			newlist->elements[i].ptr_value = bgw_c_copyObjectImpl(oldlist->elements[i].ptr_value);
	return newlist;
}

/* Remove the first n cells in place (all: the list is freed, NIL). */
List *
bgw_c_list_delete_first_n(List *list, int n)
{
	if (n <= 0)
		return list;
	if (list == NIL || n >= list->length)
	{
		bgw_c_list_free(list);
		return NIL;
	}
	memmove(&list->elements[0], &list->elements[n], (list->length - n) * sizeof(ListCell));
	list->length -= n;
	return list;
}

/* Drop adjacent duplicate OIDs in place (a sorted list keeps one of each). */
void
bgw_c_list_deduplicate_oid(List *list)
{
	int			i = 0;

	if (list == NIL || list->length < 2)
		return;
	for (int j = 1; j < list->length; j++)
		if (list->elements[i].oid_value != list->elements[j].oid_value)
			list->elements[++i].oid_value = list->elements[j].oid_value;
	list->length = i + 1;
}

/* equal() as a member test, for the node-comparing set operations. */
static bool
member_node(const List *list, const void *datum)
{
	if (list == NIL)
		return false;
	for (int i = 0; i < list->length; i++)
		if (bgw_c_equal(list->elements[i].ptr_value, datum))
			return true;
	return false;
}

bool
bgw_c_list_member(const List *list, const void *datum)
{
	return member_node(list, datum);
}

List *
bgw_c_list_delete(List *list, void *datum)
{
	if (list == NIL)
		return NIL;
	for (int i = 0; i < list->length; i++)
		if (bgw_c_equal(list->elements[i].ptr_value, datum))
			return bgw_c_list_delete_nth_cell(list, i);
	return list;
}

List *
bgw_c_list_append_unique(List *list, void *datum)
{
	if (member_node(list, datum))
		return list;
	return bgw_c_lappend(list, datum);
}

List *
bgw_c_list_concat_unique(List *list1, const List *list2)
{
	if (list2 == NIL)
		return list1;
	for (int i = 0; i < list2->length; i++)
		if (!member_node(list1, list2->elements[i].ptr_value))
			list1 = bgw_c_lappend(list1, list2->elements[i].ptr_value);
	return list1;
}

static bool
member_ptr(const List *l, void *d)
{
	return bgw_c_list_member_ptr(l, d);
}

static bool
member_node_v(const List *l, void *d)
{
	return member_node(l, d);
}

/*
 * Union (list1's cells, then list2's not in it), intersection (list1's
 * cells in list2; NIL if either is NIL) and difference (list1's cells not
 * in list2): new lists; the inputs are unchanged.
 */
#define SET_OPS(suffix, ctype, field, member, append) List * bgw_c_list_union##suffix(const List *list1, const List *list2) { 	List	   *result = bgw_c_list_copy(list1); 	if (list2 != NIL) 		for (int i = 0; i < list2->length; i++) 			if (!member(result, list2->elements[i].field)) 				result = append(result, list2->elements[i].field); 	return result; } List * bgw_c_list_difference##suffix(const List *list1, const List *list2) { 	List	   *result = NIL; 	if (list2 == NIL) 		return bgw_c_list_copy(list1); 	if (list1 != NIL) 		for (int i = 0; i < list1->length; i++) 			if (!member(list2, list1->elements[i].field)) 				result = append(result, list1->elements[i].field); 	return result; }

#define INTERSECTION(suffix, field, member, append) List * bgw_c_list_intersection##suffix(const List *list1, const List *list2) { 	List	   *result = NIL; 	if (list1 == NIL || list2 == NIL) 		return NIL; 	for (int i = 0; i < list1->length; i++) 		if (member(list2, list1->elements[i].field)) 			result = append(result, list1->elements[i].field); 	return result; }

SET_OPS(, void *, ptr_value, member_node_v, bgw_c_lappend)
SET_OPS(_ptr, void *, ptr_value, member_ptr, bgw_c_lappend)
SET_OPS(_int, int, int_value, bgw_c_list_member_int, bgw_c_lappend_int)
SET_OPS(_oid, Oid, oid_value, bgw_c_list_member_oid, bgw_c_lappend_oid)
INTERSECTION(, ptr_value, member_node_v, bgw_c_lappend)
INTERSECTION(_int, int_value, bgw_c_list_member_int, bgw_c_lappend_int)
