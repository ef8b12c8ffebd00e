/*
 * heaptuple.c -- heap tuples in memory (access/htup_details.h), read and
 * written through the tuple descriptors of tupdesc.c in the process's
 * major's layout, with PostgreSQL's format: heap_compute_data_size,
 * heap_fill_tuple, heap_form_tuple, heap_deform_tuple, heap_modify_tuple,
 * heap_modify_tuple_by_cols, heap_attisnull, nocachegetattr (which caches
 * the attributes' offsets in the descriptor as PostgreSQL's does, for the
 * inline fastgetattr), getmissingattr, heap_getsysattr, heap_copytuple,
 * heap_copytuple_with_tuple, heap_freetuple and heap_copy_tuple_as_datum.
 *
 * Without a catalog there are no stored defaults for missing attributes:
 * getmissingattr gives the value in the descriptor's constraints
 * (TupleConstr.missing) when a caller put one there, else NULL; a tuple
 * with out-of-line (TOAST) values cannot be flattened into a Datum here
 * (heap_copy_tuple_as_datum raises an ERROR naming the missing server).
 *
 * Tuples are palloc'd in the current memory context. Module code, one
 * thread.
 */
#include <string.h>

#include "tuple_layout.h"

#define ERRCODE_TOO_MANY_COLUMNS MAKE_SQLSTATE('5','4','0','1','1')
#define ERRCODE_FEATURE_NOT_SUPPORTED MAKE_SQLSTATE('0','A','0','0','0')

/* System attribute numbers (access/sysattr.h). */
#define SelfItemPointerAttributeNumber (-1)
#define MinTransactionIdAttributeNumber (-2)
#define MinCommandIdAttributeNumber (-3)
#define MaxTransactionIdAttributeNumber (-4)
#define MaxCommandIdAttributeNumber (-5)
#define TableOidAttributeNumber (-6)

extern void *bgw_c_palloc0(Size size);
extern void bgw_c_pfree(void *pointer);
extern Datum bgw_c_datumCopy(Datum value, bool typByVal, int typLen);
extern void *bgw_c_MemoryContextAlloc(MemoryContext context, Size size);
extern MemoryContext TopMemoryContext;
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

/* --- varlena headers (varatt.h), little-endian --- */

static inline bool
is_1b(const void *p)
{
	return (*(const uint8_t *) p & 0x01) == 0x01;
}

static inline bool
is_external(const void *p)
{
	return *(const uint8_t *) p == 0x01;
}

static inline bool
is_4b_u(const void *p)
{
	return (*(const uint8_t *) p & 0x03) == 0x00;
}

static inline bool
is_expanded(const void *p)
{
	return is_external(p) && (((const uint8_t *) p)[1] & ~1) == 2;
}

static inline uint32_t
varsize_4b(const void *p)
{
	uint32_t	h;

	memcpy(&h, p, sizeof(h));
	return (h >> 2) & 0x3FFFFFFF;
}

static inline Size
varsize_external(const void *p)
{
	switch (((const uint8_t *) p)[1])
	{
		case 1:					/* indirect */
		case 2:					/* expanded, read-only */
		case 3:					/* expanded, read-write */
			return 2 + sizeof(void *);
		case 18:				/* on disk */
			return 2 + 16;
		default:
			return 2;
	}
}

static inline Size
varsize_any(const void *p)
{
	if (is_external(p))
		return varsize_external(p);
	if (is_1b(p))
		return (*(const uint8_t *) p >> 1) & 0x7F;
	return varsize_4b(p);
}

/* VARATT_CAN_MAKE_SHORT: a 4-byte header whose value fits a 1-byte one. */
static inline bool
can_make_short(const void *p)
{
	return is_4b_u(p) && varsize_4b(p) - 4 + 1 <= 0x7F;
}

static inline ExpandedObjectHeader *
expanded_header(const void *p)
{
	ExpandedObjectHeader *eoh;

	memcpy(&eoh, (const char *) p + 2, sizeof(eoh));
	return eoh;
}

/* --- alignment and fetching (access/tupmacs.h) --- */

static inline uintptr_t
align_nominal(uintptr_t cur, char align)
{
	switch (align)
	{
		case 'i':
			return (cur + 3) & ~(uintptr_t) 3;
		case 'c':
			return cur;
		case 'd':
			return (cur + 7) & ~(uintptr_t) 7;
		default:
			return (cur + 1) & ~(uintptr_t) 1;
	}
}

/* att_align_pointer: a varlena starting with a non-pad byte is not
 * aligned (it has a 1-byte header). */
static inline uintptr_t
align_pointer(uintptr_t cur, char align, int attlen, const char *ptr)
{
	if (attlen == -1 && *(const uint8_t *) ptr != 0)
		return cur;
	return align_nominal(cur, align);
}

static inline uintptr_t
add_length(uintptr_t cur, int attlen, const char *ptr)
{
	if (attlen > 0)
		return cur + (uintptr_t) attlen;
	if (attlen == -1)
		return cur + varsize_any(ptr);
	return cur + strlen(ptr) + 1;
}

static inline Datum
fetch(const BgwAttView *v, const char *t)
{
	if (!v->attbyval)
		return (Datum) t;
	switch (v->attlen)
	{
		case 1:
			return (Datum) *(const char *) t;
		case 2:
			{
				int16_t		x;

				memcpy(&x, t, sizeof(x));
				return (Datum) x;
			}
		case 4:
			{
				int32_t		x;

				memcpy(&x, t, sizeof(x));
				return (Datum) x;
			}
		default:
			{
				Datum		x;

				memcpy(&x, t, sizeof(x));
				return x;
			}
	}
}

static inline void
store_byval(char *t, Datum d, int attlen)
{
	switch (attlen)
	{
		case 1:
			*t = (char) d;
			break;
		case 2:
			{
				int16_t		x = (int16_t) d;

				memcpy(t, &x, sizeof(x));
				break;
			}
		case 4:
			{
				int32_t		x = (int32_t) d;

				memcpy(t, &x, sizeof(x));
				break;
			}
		default:
			memcpy(t, &d, sizeof(d));
			break;
	}
}

static inline bool
att_isnull(int att, const uint8_t *bits)
{
	return !(bits[att >> 3] & (1 << (att & 0x07)));
}

static inline int
tuple_natts(const HeapTupleHeaderData *t)
{
	return t->t_infomask2 & BGW_HEAP_NATTS_MASK;
}

/* --- forming --- */

Size
bgw_c_heap_compute_data_size(TupleDesc tupleDesc, const Datum *values, const bool *isnull)
{
	Size		data_length = 0;

	for (int i = 0; i < tupleDesc->natts; i++)
	{
		const void *p = (const void *) values[i];
		BgwAttView v;

		if (isnull[i])
			continue;
		bgw_att_view(tupleDesc, i, &v);
		if (v.attlen == -1 && v.packable && can_make_short(p))
			data_length += varsize_4b(p) - 4 + 1;
		else if (v.attlen == -1 && is_expanded(p))
		{
			ExpandedObjectHeader *eoh = expanded_header(p);

			data_length = align_nominal(data_length, v.attalign);
			data_length += eoh->eoh_methods->get_flat_size(eoh);
		}
		else
		{
			if (!(v.attlen == -1 && is_1b(p)))
				data_length = align_nominal(data_length, v.attalign);
			data_length = add_length(data_length, v.attlen, p);
		}
	}
	return data_length;
}

static void
fill_val(const BgwAttView *v, uint8_t **bit, int *bitmask, char **dataP,
		 uint16_t *infomask, Datum datum, bool isnull)
{
	Size		data_length;
	char	   *data = *dataP;

	if (bit != NULL)
	{
		if (*bitmask != 0x80)
			*bitmask <<= 1;
		else
		{
			*bit += 1;
			**bit = 0x0;
			*bitmask = 1;
		}
		if (isnull)
		{
			*infomask |= BGW_HEAP_HASNULL;
			return;
		}
		**bit |= *bitmask;
	}
	if (v->attbyval)
	{
		data = (char *) align_nominal((uintptr_t) data, v->attalign);
		store_byval(data, datum, v->attlen);
		data_length = v->attlen;
	}
	else if (v->attlen == -1)
	{
		const char *val = (const char *) datum;

		*infomask |= BGW_HEAP_HASVARWIDTH;
		if (is_external(val))
		{
			if (is_expanded(val))
			{
				ExpandedObjectHeader *eoh = expanded_header(val);

				data = (char *) align_nominal((uintptr_t) data, v->attalign);
				data_length = eoh->eoh_methods->get_flat_size(eoh);
				eoh->eoh_methods->flatten_into(eoh, data, data_length);
			}
			else
			{
				*infomask |= BGW_HEAP_HASEXTERNAL;
				data_length = varsize_external(val);
				memcpy(data, val, data_length);
			}
		}
		else if (is_1b(val))
		{
			data_length = (*(const uint8_t *) val >> 1) & 0x7F;
			memcpy(data, val, data_length);
		}
		else if (v->packable && can_make_short(val))
		{
			data_length = varsize_4b(val) - 4 + 1;
			*(uint8_t *) data = (uint8_t) ((data_length << 1) | 0x01);
			memcpy(data + 1, val + 4, data_length - 1);
		}
		else
		{
			data = (char *) align_nominal((uintptr_t) data, v->attalign);
			data_length = varsize_4b(val);
			memcpy(data, val, data_length);
		}
	}
	else if (v->attlen == -2)
	{
		*infomask |= BGW_HEAP_HASVARWIDTH;
		data_length = strlen((const char *) datum) + 1;
		memcpy(data, (const void *) datum, data_length);
	}
	else
	{
		data = (char *) align_nominal((uintptr_t) data, v->attalign);
		data_length = v->attlen;
		memcpy(data, (const void *) datum, data_length);
	}
	data += data_length;
	*dataP = data;
}

/* Fill `data` (heap_compute_data_size bytes) and the null bitmap `bit`
 * (NULL when there are no nulls); `values`/`isnull` NULL: all null. */
void
bgw_c_heap_fill_tuple(TupleDesc tupleDesc, const Datum *values, const bool *isnull,
					  char *data, Size data_size, uint16_t *infomask, uint8_t *bit)
{
	uint8_t    *bitP = NULL;
	int			bitmask = 0;

	if (bit != NULL)
	{
		bitP = &bit[-1];
		bitmask = 0x80;
	}
	*infomask &= ~(BGW_HEAP_HASNULL | BGW_HEAP_HASVARWIDTH | BGW_HEAP_HASEXTERNAL);
	for (int i = 0; i < tupleDesc->natts; i++)
	{
		BgwAttView v;

		bgw_att_view(tupleDesc, i, &v);
		fill_val(&v, bitP ? &bitP : NULL, &bitmask, &data, infomask,
				 values ? values[i] : (Datum) 0, isnull ? isnull[i] : true);
	}
}

/*
 * PostgreSQL 15.20 (the 15 served and compared with) marks a tuple that is
 * a composite Datum with HEAP_IS_DATUM (HEAP_XMAX_COMMITTED |
 * HEAP_XMAX_INVALID, bits a Datum's header does not otherwise use), which
 * its inline HeapTupleHeaderIsDatum reads; the 17 (17.10) and 18 (18.6)
 * servers compared with do not. A Datum of a named composite type would
 * also carry its type's version, which needs the catalog: tuples formed
 * here are unversioned.
 */
static void
bgw_mark_datum(HeapTupleHeader td)
{
	if (bgw_tuple_layout() == 15)
		td->t_infomask |= BGW_HEAP_IS_DATUM;
}

static void
set_invalid(BgwItemPointer *ip)
{
	ip->bi_hi = 0xFFFF;
	ip->bi_lo = 0xFFFF;
	ip->ip_posid = 0;
}

HeapTuple
bgw_c_heap_form_tuple(TupleDesc tupleDescriptor, const Datum *values, const bool *isnull)
{
	int			natts = tupleDescriptor->natts;
	bool		hasnull = false;
	Size		len;
	Size		data_len;
	int			hoff;
	HeapTuple	tuple;
	HeapTupleHeader td;

	if (natts > BGW_MaxTupleAttributeNumber)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_TOO_MANY_COLUMNS),
					bgw_c_errmsg("number of columns (%d) exceeds limit (%d)",
								 natts, BGW_MaxTupleAttributeNumber));
	for (int i = 0; i < natts; i++)
		if (isnull[i])
		{
			hasnull = true;
			break;
		}
	len = offsetof(HeapTupleHeaderData, t_bits);
	if (hasnull)
		len += (natts + 7) / 8;
	hoff = (int) (len = BGW_MAXALIGN(len));
	data_len = bgw_c_heap_compute_data_size(tupleDescriptor, values, isnull);
	len += data_len;
	tuple = bgw_c_palloc0(BGW_HEAPTUPLESIZE + len);
	tuple->t_data = td = (HeapTupleHeader) ((char *) tuple + BGW_HEAPTUPLESIZE);
	tuple->t_len = (uint32_t) len;
	set_invalid(&tuple->t_self);
	tuple->t_tableOid = 0;
	td->t_choice.t_datum.datum_len_ = (int32_t) (len << 2);
	td->t_choice.t_datum.datum_typeid = tupleDescriptor->tdtypeid;
	td->t_choice.t_datum.datum_typmod = tupleDescriptor->tdtypmod;
	set_invalid(&td->t_ctid);
	bgw_mark_datum(td);
	td->t_infomask2 = (td->t_infomask2 & ~BGW_HEAP_NATTS_MASK) | (uint16_t) natts;
	td->t_hoff = (uint8_t) hoff;
	bgw_c_heap_fill_tuple(tupleDescriptor, values, isnull, (char *) td + hoff, data_len,
						  &td->t_infomask, hasnull ? td->t_bits : NULL);
	return tuple;
}

/* --- reading --- */

/* The value of an attribute the tuple does not have (added to the
 * descriptor after the tuple was formed): the descriptor's missing value
 * if a caller put one in its constraints, else NULL (see the file's
 * head). A by-reference value is copied once into TopMemoryContext and
 * that copy returned from then on, as PostgreSQL's cache does. */
typedef struct MissingCopy
{
	struct MissingCopy *next;
	Size		len;
	Datum		value;
} MissingCopy;

static MissingCopy *missing_copies;

Datum
bgw_c_getmissingattr(TupleDesc tupleDesc, int attnum, bool *isnull)
{
	BgwAttView v;

	bgw_att_view(tupleDesc, attnum - 1, &v);
	if (v.atthasmissing && tupleDesc->constr && tupleDesc->constr->missing)
	{
		BgwAttrMissing *m = tupleDesc->constr->missing + (attnum - 1);

		if (m->am_present)
		{
			Size		len;
			MissingCopy *c;
			MemoryContext old;

			*isnull = false;
			if (v.attbyval)
				return m->am_value;
			len = v.attlen > 0 ? (Size) v.attlen : varsize_any((const void *) m->am_value);
			for (c = missing_copies; c; c = c->next)
				if (c->len == len && memcmp((const void *) c->value, (const void *) m->am_value, len) == 0)
					return c->value;
			c = bgw_c_MemoryContextAlloc(TopMemoryContext, sizeof(*c));
			old = CurrentMemoryContext;
			CurrentMemoryContext = TopMemoryContext;
			c->value = bgw_c_datumCopy(m->am_value, false, v.attlen);
			CurrentMemoryContext = old;
			c->len = len;
			c->next = missing_copies;
			missing_copies = c;
			return c->value;
		}
	}
	*isnull = true;
	return (Datum) 0;
}

void
bgw_c_heap_deform_tuple(HeapTuple tuple, TupleDesc tupleDesc, Datum *values, bool *isnull)
{
	HeapTupleHeader tup = tuple->t_data;
	bool		hasnulls = (tup->t_infomask & BGW_HEAP_HASNULL) != 0;
	int			natts = tuple_natts(tup);
	char	   *tp = (char *) tup + tup->t_hoff;
	uintptr_t	off = 0;
	const uint8_t *bp = tup->t_bits;
	bool		slow = false;
	int			attnum;

	if (natts > tupleDesc->natts)
		natts = tupleDesc->natts;
	for (attnum = 0; attnum < natts; attnum++)
	{
		BgwAttView v;

		bgw_att_view(tupleDesc, attnum, &v);
		if (hasnulls && att_isnull(attnum, bp))
		{
			values[attnum] = (Datum) 0;
			isnull[attnum] = true;
			slow = true;
			continue;
		}
		isnull[attnum] = false;
		if (!slow && *v.attcacheoff >= 0)
			off = (uintptr_t) *v.attcacheoff;
		else if (v.attlen == -1)
		{
			if (!slow && off == align_nominal(off, v.attalign))
				*v.attcacheoff = (int32_t) off;
			else
			{
				off = align_pointer(off, v.attalign, -1, tp + off);
				slow = true;
			}
		}
		else
		{
			off = align_nominal(off, v.attalign);
			if (!slow)
				*v.attcacheoff = (int32_t) off;
		}
		values[attnum] = fetch(&v, tp + off);
		off = add_length(off, v.attlen, tp + off);
		if (v.attlen <= 0)
			slow = true;
	}
	for (; attnum < tupleDesc->natts; attnum++)
		values[attnum] = bgw_c_getmissingattr(tupleDesc, attnum + 1, &isnull[attnum]);
}

/* An attribute by walking the tuple (heap_getattr's and fastgetattr's
 * slow path), caching the fixed offsets it can in the descriptor. */
Datum
bgw_c_nocachegetattr(HeapTuple tuple, int attnum, TupleDesc tupleDesc)
{
	HeapTupleHeader tup = tuple->t_data;
	const uint8_t *bp = tup->t_bits;
	bool		hasnulls = (tup->t_infomask & BGW_HEAP_HASNULL) != 0;
	bool		slow = false;
	char	   *tp;
	uintptr_t	off;
	BgwAttView target;

	attnum--;
	if (hasnulls)
	{
		int			byte = attnum >> 3;
		int			finalbit = attnum & 0x07;

		if ((~bp[byte]) & ((1 << finalbit) - 1))
			slow = true;
		else
			for (int i = 0; i < byte; i++)
				if (bp[i] != 0xFF)
				{
					slow = true;
					break;
				}
	}
	tp = (char *) tup + tup->t_hoff;
	bgw_att_view(tupleDesc, attnum, &target);
	if (!slow)
	{
		if (*target.attcacheoff >= 0)
			return fetch(&target, tp + *target.attcacheoff);
		if (tup->t_infomask & BGW_HEAP_HASVARWIDTH)
			for (int j = 0; j <= attnum; j++)
			{
				BgwAttView v;

				bgw_att_view(tupleDesc, j, &v);
				if (v.attlen <= 0)
				{
					slow = true;
					break;
				}
			}
	}
	if (!slow)
	{
		int			natts = tupleDesc->natts;
		int			j = 1;
		BgwAttView v;

		bgw_att_view(tupleDesc, 0, &v);
		*v.attcacheoff = 0;
		for (;;)
		{
			if (j >= natts)
				break;
			bgw_att_view(tupleDesc, j, &v);
			if (*v.attcacheoff <= 0)
				break;
			j++;
		}
		bgw_att_view(tupleDesc, j - 1, &v);
		off = (uintptr_t) *v.attcacheoff + (uintptr_t) v.attlen;
		for (; j < natts; j++)
		{
			bgw_att_view(tupleDesc, j, &v);
			if (v.attlen <= 0)
				break;
			off = align_nominal(off, v.attalign);
			*v.attcacheoff = (int32_t) off;
			off += (uintptr_t) v.attlen;
		}
		off = (uintptr_t) *target.attcacheoff;
	}
	else
	{
		bool		usecache = true;

		off = 0;
		for (int i = 0;; i++)
		{
			BgwAttView v;

			bgw_att_view(tupleDesc, i, &v);
			if (hasnulls && att_isnull(i, bp))
			{
				usecache = false;
				continue;
			}
			if (usecache && *v.attcacheoff >= 0)
				off = (uintptr_t) *v.attcacheoff;
			else if (v.attlen == -1)
			{
				if (usecache && off == align_nominal(off, v.attalign))
					*v.attcacheoff = (int32_t) off;
				else
				{
					off = align_pointer(off, v.attalign, -1, tp + off);
					usecache = false;
				}
			}
			else
			{
				off = align_nominal(off, v.attalign);
				if (usecache)
					*v.attcacheoff = (int32_t) off;
			}
			if (i == attnum)
				break;
			off = add_length(off, v.attlen, tp + off);
			if (usecache && v.attlen <= 0)
				usecache = false;
		}
	}
	return fetch(&target, tp + off);
}

/* Is attribute `attnum` (a system attribute if negative) NULL? */
bool
bgw_c_heap_attisnull(HeapTuple tup, int attnum, TupleDesc tupleDesc)
{
	if (attnum > tuple_natts(tup->t_data))
	{
		if (tupleDesc)
		{
			BgwAttView v;

			bgw_att_view(tupleDesc, attnum - 1, &v);
			return !v.atthasmissing;
		}
		return true;
	}
	if (attnum > 0)
	{
		if (!(tup->t_data->t_infomask & BGW_HEAP_HASNULL))
			return false;
		return att_isnull(attnum - 1, tup->t_data->t_bits);
	}
	if (attnum < TableOidAttributeNumber || attnum > SelfItemPointerAttributeNumber)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("invalid attnum: %d", attnum));
	return false;
}

/* A system attribute: what the tuple's header holds (for a tuple formed
 * in memory, the header's Datum fields read as transaction ids). */
Datum
bgw_c_heap_getsysattr(HeapTuple tup, int attnum, TupleDesc tupleDesc, bool *isnull)
{
	*isnull = false;
	switch (attnum)
	{
		case SelfItemPointerAttributeNumber:
			return (Datum) &tup->t_self;
		case MinTransactionIdAttributeNumber:
			return (Datum) tup->t_data->t_choice.t_heap.t_xmin;
		case MaxTransactionIdAttributeNumber:
			return (Datum) tup->t_data->t_choice.t_heap.t_xmax;
		case MinCommandIdAttributeNumber:
		case MaxCommandIdAttributeNumber:
			return (Datum) tup->t_data->t_choice.t_heap.t_cid;
		case TableOidAttributeNumber:
			return (Datum) tup->t_tableOid;
		default:
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("invalid attnum: %d", attnum));
			return (Datum) 0;
	}
}

/* --- copies --- */

HeapTuple
bgw_c_heap_copytuple(HeapTuple tuple)
{
	HeapTuple	newTuple;

	if (tuple == NULL || tuple->t_data == NULL)
		return NULL;
	newTuple = bgw_c_palloc(BGW_HEAPTUPLESIZE + tuple->t_len);
	newTuple->t_len = tuple->t_len;
	newTuple->t_self = tuple->t_self;
	newTuple->t_tableOid = tuple->t_tableOid;
	newTuple->t_data = (HeapTupleHeader) ((char *) newTuple + BGW_HEAPTUPLESIZE);
	memcpy(newTuple->t_data, tuple->t_data, tuple->t_len);
	return newTuple;
}

void
bgw_c_heap_copytuple_with_tuple(HeapTuple src, HeapTuple dest)
{
	if (src == NULL || src->t_data == NULL)
	{
		dest->t_data = NULL;
		return;
	}
	dest->t_len = src->t_len;
	dest->t_self = src->t_self;
	dest->t_tableOid = src->t_tableOid;
	dest->t_data = bgw_c_palloc(src->t_len);
	memcpy(dest->t_data, src->t_data, src->t_len);
}

void
bgw_c_heap_freetuple(HeapTuple htup)
{
	bgw_c_pfree(htup);
}

/* The tuple as a composite Datum of the descriptor's type. */
Datum
bgw_c_heap_copy_tuple_as_datum(HeapTuple tuple, TupleDesc tupleDesc)
{
	HeapTupleHeader td;

	if (tuple->t_data->t_infomask & BGW_HEAP_HASEXTERNAL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					bgw_c_errmsg_internal("a tuple with out-of-line (TOAST) values cannot be flattened here: it needs the database server, which is not available in libbgworker"));
	td = bgw_c_palloc(tuple->t_len);
	memcpy(td, tuple->t_data, tuple->t_len);
	td->t_choice.t_datum.datum_len_ = (int32_t) (tuple->t_len << 2);
	td->t_choice.t_datum.datum_typeid = tupleDesc->tdtypeid;
	td->t_choice.t_datum.datum_typmod = tupleDesc->tdtypmod;
	bgw_mark_datum(td);
	return (Datum) td;
}

/* --- modified copies --- */

static HeapTuple
keep_identity(HeapTuple newTuple, HeapTuple tuple)
{
	newTuple->t_data->t_ctid = tuple->t_data->t_ctid;
	newTuple->t_self = tuple->t_self;
	newTuple->t_tableOid = tuple->t_tableOid;
	return newTuple;
}

HeapTuple
bgw_c_heap_modify_tuple(HeapTuple tuple, TupleDesc tupleDesc, const Datum *replValues,
						const bool *replIsnull, const bool *doReplace)
{
	int			natts = tupleDesc->natts;
	Datum	   *values = bgw_c_palloc((size_t) natts * sizeof(Datum));
	bool	   *isnull = bgw_c_palloc((size_t) natts * sizeof(bool));
	HeapTuple	newTuple;

	bgw_c_heap_deform_tuple(tuple, tupleDesc, values, isnull);
	for (int i = 0; i < natts; i++)
		if (doReplace[i])
		{
			values[i] = replValues[i];
			isnull[i] = replIsnull[i];
		}
	newTuple = bgw_c_heap_form_tuple(tupleDesc, values, isnull);
	bgw_c_pfree(values);
	bgw_c_pfree(isnull);
	return keep_identity(newTuple, tuple);
}

HeapTuple
bgw_c_heap_modify_tuple_by_cols(HeapTuple tuple, TupleDesc tupleDesc, int nCols,
								const int *replCols, const Datum *replValues,
								const bool *replIsnull)
{
	int			numberOfAttributes = tupleDesc->natts;
	Datum	   *values = bgw_c_palloc((size_t) numberOfAttributes * sizeof(Datum));
	bool	   *isnull = bgw_c_palloc((size_t) numberOfAttributes * sizeof(bool));
	HeapTuple	newTuple;

	bgw_c_heap_deform_tuple(tuple, tupleDesc, values, isnull);
	for (int i = 0; i < nCols; i++)
	{
		int			attnum = replCols[i];

		if (attnum <= 0 || attnum > numberOfAttributes)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("invalid column number %d", attnum));
		values[attnum - 1] = replValues[i];
		isnull[attnum - 1] = replIsnull[i];
	}
	newTuple = bgw_c_heap_form_tuple(tupleDesc, values, isnull);
	bgw_c_pfree(values);
	bgw_c_pfree(isnull);
	return keep_identity(newTuple, tuple);
}

/* funcapi.h's HeapTupleHeaderGetDatum (HeapTupleGetDatum): the header
 * itself as a composite Datum. One with out-of-line (TOAST) values would
 * have to be flattened through its row type's descriptor from the type
 * cache, which needs the database: an ERROR saying so. */
Datum
bgw_c_HeapTupleHeaderGetDatum(HeapTupleHeader tuple)
{
	if (tuple->t_infomask & BGW_HEAP_HASEXTERNAL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					bgw_c_errmsg_internal("a tuple with out-of-line (TOAST) values cannot be flattened here: it needs the database server, which is not available in libbgworker"));
	return (Datum) tuple;
}
