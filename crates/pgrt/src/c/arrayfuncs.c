/*
 * arrayfuncs.c -- building and taking apart arrays in memory
 * (utils/array.h): construct_array, construct_md_array,
 * construct_empty_array, deconstruct_array, ArrayGetNItems,
 * ArrayCheckBounds, construct_array_builtin / deconstruct_array_builtin
 * for the built-in element types they know, and iteration
 * (array_create_iterator, array_iterate, array_free_iterator; see there).
 *
 * The layout is PostgreSQL's ArrayType (the same in every major served):
 * a 4-byte varlena header, ndim, dataoffset (0 when there is no null
 * bitmap), the element type, then dims[ndim], lbound[ndim], the null
 * bitmap (one bit per element, 1 = not null) when there is one, and the
 * elements from a MAXALIGN'd offset, each aligned as its type says.
 *
 * PostgreSQL's ERRORs: a negative number of dimensions, more than 6, a
 * negative dimension or a product beyond MaxArraySize ("array size exceeds
 * the maximum allowed (134217727)"), a lower bound plus dimension that
 * overflows, a total size beyond MaxAllocSize, a null element where the
 * caller takes no nulls, an element type the _builtin forms do not know.
 * Variable-length elements are detoasted first (construct_md_array stores
 * the detoasted pointer back into the caller's array, as PostgreSQL does).
 * Results are palloc'd in the current context. Module code, one thread.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned int Oid;

#define ERRCODE_INVALID_PARAMETER_VALUE MAKE_SQLSTATE('2','2','0','2','3')
#define ERRCODE_NULL_VALUE_NOT_ALLOWED MAKE_SQLSTATE('2','2','0','0','4')

#define MAXDIM 6
#define MaxArraySize ((Size) (MaxAllocSize / sizeof(Datum)))
#define MAXIMUM_ALIGNOF 8

/* pg_type.h's typalign codes. */
#define TYPALIGN_CHAR 'c'
#define TYPALIGN_SHORT 's'
#define TYPALIGN_INT 'i'
#define TYPALIGN_DOUBLE 'd'

/* The built-in types the _builtin forms know (catalog/pg_type_d.h). */
#define CHAROID 18
#define NAMEOID 19
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define TEXTOID 25
#define OIDOID 26
#define TIDOID 27
#define XIDOID 28
#define FLOAT4OID 700
#define FLOAT8OID 701
#define REGTYPEOID 2206
#define CSTRINGOID 2275
#define NAMEDATALEN 64
#define SIZEOF_ITEMPOINTER 6

typedef struct ArrayType
{
	int32_t		vl_len_;
	int			ndim;
	int32_t		dataoffset;
	Oid			elemtype;
} ArrayType;

extern void *bgw_c_pg_detoast_datum(void *datum);
extern void *bgw_c_palloc0(Size size);
extern uint32_t bgw_rs_pg_major(void);

static Size
maxalign(Size n)
{
	return (n + MAXIMUM_ALIGNOF - 1) & ~((Size) MAXIMUM_ALIGNOF - 1);
}

/* att_align_nominal */
static Size
align_nominal(Size n, char align)
{
	Size		a;

	switch (align)
	{
		case TYPALIGN_INT:
			a = 4;
			break;
		case TYPALIGN_CHAR:
			a = 1;
			break;
		case TYPALIGN_DOUBLE:
			a = 8;
			break;
		default:
			a = 2;
			break;
	}
	return (n + a - 1) & ~(a - 1);
}

/* VARSIZE_ANY of an element (never an external pointer: detoasted). */
static Size
varsize_any(const void *p)
{
	const uint8_t *b = p;
	uint32_t	h;

	if (b[0] == 0x01)
		return 2 + 8;			/* an in-memory pointer */
	if (b[0] & 0x01)
		return (b[0] >> 1) & 0x7F;
	memcpy(&h, p, sizeof(h));
	return (h >> 2) & 0x3FFFFFFF;
}

/* att_addlength_pointer's increment for an element at p. */
static Size
element_length(const void *p, int elmlen)
{
	if (elmlen > 0)
		return (Size) elmlen;
	if (elmlen == -1)
		return varsize_any(p);
	return strlen(p) + 1;
}

BGW_NORETURN static void
unsupported_byval(int len)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
				bgw_c_errmsg_internal("unsupported byval length: %d", len));
	__builtin_unreachable();
}

/* store_att_byval */
static void
store_byval(char *dst, Datum d, int len)
{
	switch (len)
	{
		case 1:
			{
				char		v = (char) d;

				memcpy(dst, &v, 1);
				break;
			}
		case 2:
			{
				int16_t		v = (int16_t) d;

				memcpy(dst, &v, 2);
				break;
			}
		case 4:
			{
				int32_t		v = (int32_t) d;

				memcpy(dst, &v, 4);
				break;
			}
		case 8:
			memcpy(dst, &d, 8);
			break;
		default:
			unsupported_byval(len);
	}
}

/* fetch_att: by value, sign-extended as PostgreSQL's Int32GetDatum and friends. */
static Datum
fetch_byval(const char *p, int len)
{
	switch (len)
	{
		case 1:
			return (Datum) (intptr_t) * (const signed char *) p;
		case 2:
			{
				int16_t		v;

				memcpy(&v, p, 2);
				return (Datum) (intptr_t) v;
			}
		case 4:
			{
				int32_t		v;

				memcpy(&v, p, 4);
				return (Datum) (intptr_t) v;
			}
		case 8:
			{
				Datum		v;

				memcpy(&v, p, 8);
				return v;
			}
		default:
			unsupported_byval(len);
	}
}

BGW_NORETURN static void
size_exceeded(Size limit)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				bgw_c_errmsg_internal("array size exceeds the maximum allowed (%d)", (int) limit));
	__builtin_unreachable();
}

int
bgw_c_ArrayGetNItems(int ndim, const int *dims)
{
	int32_t		n = 1;

	if (ndim <= 0)
		return 0;
	for (int i = 0; i < ndim; i++)
	{
		int64_t		prod;

		if (dims[i] < 0)
			size_exceeded(MaxArraySize);
		prod = (int64_t) n * dims[i];
		if (prod != (int32_t) prod)
			size_exceeded(MaxArraySize);
		n = (int32_t) prod;
	}
	if ((Size) n > MaxArraySize)
		size_exceeded(MaxArraySize);
	return n;
}

void
bgw_c_ArrayCheckBounds(int ndim, const int *dims, const int *lb)
{
	for (int i = 0; i < ndim; i++)
	{
		int32_t		sum;

		if (__builtin_add_overflow(dims[i], lb[i], &sum))
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						bgw_c_errmsg_internal("array lower bound is too large: %d", lb[i]));
	}
}

ArrayType *
bgw_c_construct_empty_array(Oid elmtype)
{
	ArrayType  *a = bgw_c_palloc0(sizeof(ArrayType));
	uint32_t	h = (uint32_t) sizeof(ArrayType) << 2;

	memcpy(a, &h, sizeof(h));
	a->ndim = 0;
	a->dataoffset = 0;
	a->elemtype = elmtype;
	return a;
}

ArrayType *
bgw_c_construct_md_array(Datum *elems, bool *nulls, int ndims, int *dims, int *lbs,
						 Oid elmtype, int elmlen, bool elmbyval, char elmalign)
{
	int			nelems;
	Size		nbytes = 0;
	Size		head;
	bool		hasnulls = false;
	ArrayType  *a;
	uint32_t	h;
	char	   *p;
	uint8_t    *bitmap;

	if (ndims < 0)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					bgw_c_errmsg_internal("invalid number of dimensions: %d", ndims));
	if (ndims > MAXDIM)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					bgw_c_errmsg_internal("number of array dimensions (%d) exceeds the maximum allowed (%d)",
										  ndims, MAXDIM));
	nelems = bgw_c_ArrayGetNItems(ndims, dims);
	bgw_c_ArrayCheckBounds(ndims, dims, lbs);
	if (nelems <= 0)
		return bgw_c_construct_empty_array(elmtype);

	for (int i = 0; i < nelems; i++)
	{
		if (nulls && nulls[i])
		{
			hasnulls = true;
			continue;
		}
		if (elmlen == -1)
			elems[i] = (Datum) bgw_c_pg_detoast_datum((void *) elems[i]);
		nbytes += elmbyval ? (Size) elmlen : element_length((const void *) elems[i], elmlen);
		nbytes = align_nominal(nbytes, elmalign);
		if (nbytes > MaxAllocSize)
			size_exceeded(MaxAllocSize);
	}

	head = sizeof(ArrayType) + 2 * sizeof(int) * (Size) ndims;
	if (hasnulls)
		head = maxalign(head + ((Size) nelems + 7) / 8);
	else
		head = maxalign(head);
	nbytes += head;
	a = bgw_c_palloc0(nbytes);
	h = (uint32_t) nbytes << 2;
	memcpy(a, &h, sizeof(h));
	a->ndim = ndims;
	a->dataoffset = hasnulls ? (int32_t) head : 0;
	a->elemtype = elmtype;
	memcpy((char *) a + sizeof(ArrayType), dims, (Size) ndims * sizeof(int));
	memcpy((char *) a + sizeof(ArrayType) + (Size) ndims * sizeof(int), lbs,
		   (Size) ndims * sizeof(int));

	/* CopyArrayEls: the elements and the null bitmap (zeroed: all null). */
	p = (char *) a + head;
	bitmap = hasnulls ? (uint8_t *) a + sizeof(ArrayType) + 2 * sizeof(int) * (Size) ndims : NULL;
	for (int i = 0; i < nelems; i++)
	{
		Size		inc;

		if (nulls && nulls[i])
			continue;
		if (bitmap)
			bitmap[i / 8] |= (uint8_t) (1 << (i % 8));
		if (elmbyval)
		{
			store_byval(p, elems[i], elmlen);
			inc = (Size) elmlen;
		}
		else
		{
			inc = element_length((const void *) elems[i], elmlen);
			memmove(p, (const void *) elems[i], inc);
		}
		p += align_nominal(inc, elmalign);
	}
	return a;
}

ArrayType *
bgw_c_construct_array(Datum *elems, int nelems, Oid elmtype, int elmlen, bool elmbyval,
					  char elmalign)
{
	int			dims[1] = {nelems};
	int			lbs[1] = {1};

	return bgw_c_construct_md_array(elems, NULL, 1, dims, lbs, elmtype, elmlen, elmbyval,
									elmalign);
}

void
bgw_c_deconstruct_array(ArrayType *array, Oid elmtype, int elmlen, bool elmbyval,
						char elmalign, Datum **elemsp, bool **nullsp, int *nelemsp)
{
	int			ndim = array->ndim;
	const int  *dims = (const int *) ((const char *) array + sizeof(ArrayType));
	int			nelems = bgw_c_ArrayGetNItems(ndim, dims);
	Datum	   *elems;
	bool	   *nulls = NULL;
	const uint8_t *bitmap = NULL;
	const char *p;

	(void) elmtype;
	*elemsp = elems = bgw_c_palloc((Size) nelems * sizeof(Datum));
	if (nullsp)
		*nullsp = nulls = bgw_c_palloc0((Size) nelems * sizeof(bool));
	*nelemsp = nelems;
	if (array->dataoffset != 0)
	{
		bitmap = (const uint8_t *) array + sizeof(ArrayType) + 2 * sizeof(int) * (Size) ndim;
		p = (const char *) array + array->dataoffset;
	}
	else
		p = (const char *) array + maxalign(sizeof(ArrayType) + 2 * sizeof(int) * (Size) ndim);

	for (int i = 0; i < nelems; i++)
	{
		if (bitmap && (bitmap[i / 8] & (1 << (i % 8))) == 0)
		{
			elems[i] = (Datum) 0;
			if (nulls)
				nulls[i] = true;
			else
				bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							bgw_c_errmsg_internal("null array element not allowed in this context"));
			continue;
		}
		elems[i] = elmbyval ? fetch_byval(p, elmlen) : (Datum) p;
		p += element_length(p, elmlen);
		p = (const char *) align_nominal((Size) (uintptr_t) p, elmalign);
	}
}

/*
 * The element types construct_array_builtin knows, from the major `since`
 * on (float8 and xid are 18's), and which of them deconstruct_array_builtin
 * knows (`decon`: in every major served), with their length, by-value flag
 * and alignment, as the real servers take them.
 */
typedef struct BuiltinElement
{
	Oid			type;
	int			len;
	bool		byval;
	char		align;
	uint32_t	since;
	bool		decon;
} BuiltinElement;

static const BuiltinElement builtin_elements[] = {
	{CHAROID, 1, true, TYPALIGN_CHAR, 15, true},
	{CSTRINGOID, -2, false, TYPALIGN_CHAR, 15, true},
	{FLOAT4OID, 4, true, TYPALIGN_INT, 15, false},
	{FLOAT8OID, 8, true, TYPALIGN_DOUBLE, 18, true},
	{INT2OID, 2, true, TYPALIGN_SHORT, 15, true},
	{INT4OID, 4, true, TYPALIGN_INT, 15, true},
	{INT8OID, 8, true, TYPALIGN_DOUBLE, 15, false},
	{NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, 15, false},
	{OIDOID, 4, true, TYPALIGN_INT, 15, true},
	{REGTYPEOID, 4, true, TYPALIGN_INT, 15, false},
	{TEXTOID, -1, false, TYPALIGN_INT, 15, true},
	{TIDOID, SIZEOF_ITEMPOINTER, false, TYPALIGN_SHORT, 15, true},
	{XIDOID, 4, true, TYPALIGN_INT, 18, false},
};

static const BuiltinElement *
builtin_element(Oid type, bool decon, const char *caller)
{
	uint32_t	major = bgw_rs_pg_major();

	for (size_t i = 0; i < sizeof(builtin_elements) / sizeof(builtin_elements[0]); i++)
	{
		const BuiltinElement *e = &builtin_elements[i];

		if (e->type == type && (decon ? e->decon : e->since <= major))
			return e;
	}
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
				bgw_c_errmsg_internal("type %u not supported by %s()", type, caller));
	__builtin_unreachable();
}

ArrayType *
bgw_c_construct_array_builtin(Datum *elems, int nelems, Oid elmtype)
{
	const BuiltinElement *e = builtin_element(elmtype, false, "construct_array_builtin");

	return bgw_c_construct_array(elems, nelems, elmtype, e->len, e->byval, e->align);
}

void
bgw_c_deconstruct_array_builtin(ArrayType *array, Oid elmtype, Datum **elemsp,
								bool **nullsp, int *nelemsp)
{
	const BuiltinElement *e = builtin_element(elmtype, true, "deconstruct_array_builtin");

	bgw_c_deconstruct_array(array, elmtype, e->len, e->byval, e->align, elemsp, nullsp,
							nelemsp);
}

/*
 * Array iteration (array_create_iterator, array_iterate,
 * array_free_iterator): element by element, or (slice_ndim > 0) in
 * sub-arrays of the rightmost slice_ndim dimensions, built with
 * construct_md_array. The element type's length, by-value flag and
 * alignment come from the caller's ArrayMetaState; without one PostgreSQL
 * looks them up in the catalog (get_typlenbyvalalign), which needs the
 * database server: the FATAL naming it.
 */

/* utils/array.h's ArrayMetaState, up to what is read of it. */
typedef struct ArrayMetaState
{
	Oid			element_type;
	int16_t		typlen;
	bool		typbyval;
	char		typalign;
} ArrayMetaState;

/* Private to arrayfuncs.c in PostgreSQL too: callers hold only a pointer. */
typedef struct ArrayIteratorData
{
	ArrayType  *arr;
	const uint8_t *nullbitmap;
	int			nitems;
	int			typlen;
	bool		typbyval;
	char		typalign;
	int			slice_ndim;
	int			slice_len;
	int		   *slice_dims;
	int		   *slice_lbound;
	Datum	   *slice_values;
	bool	   *slice_nulls;
	const char *data_ptr;
	int			current_item;
} ArrayIteratorData;

extern void bgw_rs_needs_server(const char *function);
extern void bgw_c_pfree(void *pointer);

ArrayIteratorData *
bgw_c_array_create_iterator(ArrayType *arr, int slice_ndim, ArrayMetaState *mstate)
{
	ArrayIteratorData *it = bgw_c_palloc0(sizeof(ArrayIteratorData));
	int		   *dims = (int *) ((char *) arr + sizeof(ArrayType));
	int		   *lbound = dims + arr->ndim;

	if (slice_ndim < 0 || slice_ndim > arr->ndim)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("invalid arguments to array_create_iterator"));
	it->arr = arr;
	it->nullbitmap = arr->dataoffset != 0 ? (const uint8_t *) lbound + sizeof(int) * (Size) arr->ndim : NULL;
	it->nitems = bgw_c_ArrayGetNItems(arr->ndim, dims);
	if (mstate == NULL)
	{
		bgw_rs_needs_server("get_typlenbyvalalign");
		abort();
	}
	it->typlen = mstate->typlen;
	it->typbyval = mstate->typbyval;
	it->typalign = mstate->typalign;
	it->slice_ndim = slice_ndim;
	if (slice_ndim > 0)
	{
		it->slice_dims = dims + arr->ndim - slice_ndim;
		it->slice_lbound = lbound + arr->ndim - slice_ndim;
		it->slice_len = bgw_c_ArrayGetNItems(slice_ndim, it->slice_dims);
		it->slice_values = bgw_c_palloc((Size) it->slice_len * sizeof(Datum));
		it->slice_nulls = bgw_c_palloc((Size) it->slice_len * sizeof(bool));
	}
	it->data_ptr = arr->dataoffset != 0 ? (const char *) arr + arr->dataoffset :
		(const char *) arr + maxalign(sizeof(ArrayType) + 2 * sizeof(int) * (Size) arr->ndim);
	it->current_item = 0;
	return it;
}

/* The next element (not null: *isnull false), advancing past it. */
static Datum
next_element(ArrayIteratorData *it, bool *isnull)
{
	int			i = it->current_item++;
	Datum		d;

	if (it->nullbitmap && (it->nullbitmap[i / 8] & (1 << (i % 8))) == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	d = it->typbyval ? fetch_byval(it->data_ptr, it->typlen) : (Datum) it->data_ptr;
	it->data_ptr += element_length(it->data_ptr, it->typlen);
	it->data_ptr = (const char *) align_nominal((Size) (uintptr_t) it->data_ptr, it->typalign);
	return d;
}

bool
bgw_c_array_iterate(ArrayIteratorData *it, Datum *value, bool *isnull)
{
	if (it->current_item >= it->nitems)
		return false;
	if (it->slice_ndim == 0)
	{
		*value = next_element(it, isnull);
		return true;
	}
	for (int i = 0; i < it->slice_len; i++)
		it->slice_values[i] = next_element(it, &it->slice_nulls[i]);
	*value = (Datum) bgw_c_construct_md_array(it->slice_values, it->slice_nulls, it->slice_ndim,
											  it->slice_dims, it->slice_lbound,
											  it->arr->elemtype, it->typlen, it->typbyval,
											  it->typalign);
	*isnull = false;
	return true;
}

void
bgw_c_array_free_iterator(ArrayIteratorData *it)
{
	if (it->slice_ndim > 0)
	{
		bgw_c_pfree(it->slice_values);
		bgw_c_pfree(it->slice_nulls);
	}
	bgw_c_pfree(it);
}
