/*
 * nodes.c -- the nodes a module can make and compare without a database:
 * value nodes (nodes/value.h: Integer, Float, Boolean, String, BitString;
 * makeInteger ... makeBitString) and lists, with equal() and
 * copyObjectImpl() for them (and for Bitmapsets, which are nodes from
 * PostgreSQL 16 on), written from the headers' layouts and the documented
 * behaviour (PostgreSQL's equalfuncs.c/copyfuncs.c are not copied):
 *
 * - equal: the same pointer, or both non-NULL with the same tag and equal
 *   fields (strings by content, NULL only equal to NULL); lists of the same
 *   kind and length with equal elements (node lists element by element
 *   with equal(), int/OID/XID lists by value).
 * - copyObjectImpl: NULL for NULL; node lists copied deeply, other lists
 *   cell by cell; value nodes with their strings pstrdup'd.
 *
 * Node tags are the process's major's (nodes/nodes.h of 15, the generated
 * nodes/nodetags.h of 17 and 18). Any other node needs the server's node
 * functions: equal and copyObjectImpl then end the caller with the FATAL
 * naming them, as every function that needs the database server does.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

extern unsigned int bgw_rs_pg_major(void);
extern void bgw_rs_needs_server(const char *function);
extern bool bgw_c_bms_equal(const void *a, const void *b);
extern void *bgw_c_bms_copy(const void *a);
extern void *bgw_c_list_copy(const void *list);
extern void *bgw_c_list_copy_deep(const void *list);

/* Tags per major, in enum BgwNodeTag's order (-1: the major has none). */
static const int tags15[] = {231, 232, 233, -1, 226, 227, 228, 229, 230, -1};
static const int tags17[] = {1, 466, 467, 468, 460, 461, 462, 463, 464, 441};
static const int tags18[] = {1, 471, 472, 473, 465, 466, 467, 468, 469, 445};

int
bgw_c_node_tag(enum BgwNodeTag tag)
{
	switch (bgw_rs_pg_major())
	{
		case 17:
			return tags17[tag];
		case 18:
			return tags18[tag];
		default:
			return tags15[tag];
	}
}

/* The tag of a non-NULL tag, as enum BgwNodeTag, or -1 if not ours. */
static int
kind_of(const void *node)
{
	int			t = *(const int *) node;

	for (int k = BGW_T_List; k <= BGW_T_Bitmapset; k++)
		if (bgw_c_node_tag((enum BgwNodeTag) k) == t && t != -1)
			return k;
	return -1;
}

typedef struct
{
	int			type;
	int			ival;
} IntegerNode;

typedef struct
{
	int			type;
	bool		boolval;
} BooleanNode;

/* Float, String, BitString: a tag and a string. */
typedef struct
{
	int			type;
	char	   *str;
} StringNode;

typedef struct
{
	int			type;
	int			length;
	int			max_length;
	union
	{
		void	   *ptr_value;
		int			int_value;
		unsigned int oid_value;
	}		   *elements;
} ListNode;

static void *
make_node(size_t size, enum BgwNodeTag tag)
{
	int		   *n = bgw_c_palloc(size);

	memset(n, 0, size);
	*n = bgw_c_node_tag(tag);
	return n;
}

void *
bgw_c_makeInteger(int i)
{
	IntegerNode *v = make_node(sizeof(IntegerNode), BGW_T_Integer);

	v->ival = i;
	return v;
}

void *
bgw_c_makeBoolean(bool val)
{
	BooleanNode *v = make_node(sizeof(BooleanNode), BGW_T_Boolean);

	v->boolval = val;
	return v;
}

static void *
make_string_node(enum BgwNodeTag tag, char *str)
{
	StringNode *v = make_node(sizeof(StringNode), tag);

	v->str = str;
	return v;
}

void *
bgw_c_makeFloat(char *numericStr)
{
	return make_string_node(BGW_T_Float, numericStr);
}

void *
bgw_c_makeString(char *str)
{
	return make_string_node(BGW_T_String, str);
}

void *
bgw_c_makeBitString(char *str)
{
	return make_string_node(BGW_T_BitString, str);
}

static bool
equal_str(const char *a, const char *b)
{
	return (a && b) ? strcmp(a, b) == 0 : a == b;
}

bool
bgw_c_equal(const void *a, const void *b)
{
	int			kind;

	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	if (*(const int *) a != *(const int *) b)
		return false;
	kind = kind_of(a);
	switch (kind)
	{
		case BGW_T_Integer:
			return ((const IntegerNode *) a)->ival == ((const IntegerNode *) b)->ival;
		case BGW_T_Boolean:
			return ((const BooleanNode *) a)->boolval == ((const BooleanNode *) b)->boolval;
		case BGW_T_Float:
		case BGW_T_String:
		case BGW_T_BitString:
			return equal_str(((const StringNode *) a)->str, ((const StringNode *) b)->str);
		case BGW_T_Bitmapset:
			return bgw_c_bms_equal(a, b);
		case BGW_T_List:
		case BGW_T_IntList:
		case BGW_T_OidList:
		case BGW_T_XidList:
			{
				const ListNode *la = a,
						   *lb = b;

				if (la->length != lb->length)
					return false;
				for (int i = 0; i < la->length; i++)
				{
					if (kind == BGW_T_List)
					{
						if (!bgw_c_equal(la->elements[i].ptr_value, lb->elements[i].ptr_value))
							return false;
					}
					else if (la->elements[i].oid_value != lb->elements[i].oid_value)
						return false;
				}
				return true;
			}
		default:
			bgw_rs_needs_server("equal");
			abort();
	}
}

void *
bgw_c_copyObjectImpl(const void *from)
{
	if (from == NULL)
		return NULL;
	switch (kind_of(from))
	{
		case BGW_T_Integer:
			return bgw_c_makeInteger(((const IntegerNode *) from)->ival);
		case BGW_T_Boolean:
			return bgw_c_makeBoolean(((const BooleanNode *) from)->boolval);
		case BGW_T_Float:
		case BGW_T_String:
		case BGW_T_BitString:
			{
				const StringNode *s = from;

				return make_string_node((enum BgwNodeTag) kind_of(from),
										s->str ? bgw_c_pstrdup(s->str) : NULL);
			}
		case BGW_T_Bitmapset:
			return bgw_c_bms_copy(from);
		case BGW_T_List:
			return bgw_c_list_copy_deep(from);
		case BGW_T_IntList:
		case BGW_T_OidList:
		case BGW_T_XidList:
			return bgw_c_list_copy(from);
		default:
			bgw_rs_needs_server("copyObjectImpl");
			abort();
	}
}
