/*
 * tuple_layout.h -- the layouts of tuple descriptors and heap tuples of
 * the majors served (access/tupdesc.h, catalog/pg_attribute.h,
 * access/htup.h, access/htup_details.h), shared by tupdesc.c and
 * heaptuple.c. Modules compile these offsets into their code (the inline
 * TupleDescAttr, heap_getattr, fastgetattr, GETSTRUCT), so each is
 * repeated here as the major's real headers have it; the sizes are
 * checked at compile time below and were measured against 15's, 17's and
 * 18's headers.
 *
 * What differs: FormData_pg_attribute (15: 112 bytes, attstattarget and
 * 32-bit attndims/attinhcount; 17: 104, those moved or narrowed; 18: 100,
 * without attcacheoff), and 18's TupleDescData, whose attribute rows are
 * preceded by one 16-byte CompactAttribute each (the copy of the fields
 * tuple code reads, with attcacheoff). The descriptor header and the heap
 * tuple layouts are the same in all three.
 */
#ifndef BGW_TUPLE_LAYOUT_H
#define BGW_TUPLE_LAYOUT_H

#include "pgcompat.h"

typedef uint32_t Oid;
typedef int16_t AttrNumber;

#define BGW_NAMEDATALEN 64
typedef struct
{
	char		data[BGW_NAMEDATALEN];
} BgwNameData;

/* FormData_pg_attribute, PostgreSQL 15. */
typedef struct
{
	Oid			attrelid;
	BgwNameData attname;
	Oid			atttypid;
	int32_t		attstattarget;
	int16_t		attlen;
	int16_t		attnum;
	int32_t		attndims;
	int32_t		attcacheoff;
	int32_t		atttypmod;
	bool		attbyval;
	char		attalign;
	char		attstorage;
	char		attcompression;
	bool		attnotnull;
	bool		atthasdef;
	bool		atthasmissing;
	char		attidentity;
	char		attgenerated;
	bool		attisdropped;
	bool		attislocal;
	int32_t		attinhcount;
	Oid			attcollation;
} BgwFormAttr15;

/* FormData_pg_attribute, PostgreSQL 17. */
typedef struct
{
	Oid			attrelid;
	BgwNameData attname;
	Oid			atttypid;
	int16_t		attlen;
	int16_t		attnum;
	int32_t		attcacheoff;
	int32_t		atttypmod;
	int16_t		attndims;
	bool		attbyval;
	char		attalign;
	char		attstorage;
	char		attcompression;
	bool		attnotnull;
	bool		atthasdef;
	bool		atthasmissing;
	char		attidentity;
	char		attgenerated;
	bool		attisdropped;
	bool		attislocal;
	int16_t		attinhcount;
	Oid			attcollation;
} BgwFormAttr17;

/* FormData_pg_attribute, PostgreSQL 18. */
typedef struct
{
	Oid			attrelid;
	BgwNameData attname;
	Oid			atttypid;
	int16_t		attlen;
	int16_t		attnum;
	int32_t		atttypmod;
	int16_t		attndims;
	bool		attbyval;
	char		attalign;
	char		attstorage;
	char		attcompression;
	bool		attnotnull;
	bool		atthasdef;
	bool		atthasmissing;
	char		attidentity;
	char		attgenerated;
	bool		attisdropped;
	bool		attislocal;
	int16_t		attinhcount;
	Oid			attcollation;
} BgwFormAttr18;

/* CompactAttribute, PostgreSQL 18. */
typedef struct
{
	int32_t		attcacheoff;
	int16_t		attlen;
	bool		attbyval;
	bool		attispackable;
	bool		atthasmissing;
	bool		attisdropped;
	bool		attgenerated;
	char		attnullability;
	uint8_t		attalignby;
} BgwCompactAttr18;

_Static_assert(sizeof(BgwFormAttr15) == 112, "15's pg_attribute row");
_Static_assert(sizeof(BgwFormAttr17) == 104, "17's pg_attribute row");
_Static_assert(sizeof(BgwFormAttr18) == 100, "18's pg_attribute row");
_Static_assert(sizeof(BgwCompactAttr18) == 16, "18's CompactAttribute");

/* access/tupdesc_details.h */
typedef struct
{
	bool		am_present;
	Datum		am_value;
} BgwAttrMissing;

typedef struct
{
	AttrNumber	adnum;
	char	   *adbin;
} BgwAttrDefault;

/* ConstrCheck: 18 added ccenforced after ccbin. */
typedef struct
{
	char	   *ccname;
	char	   *ccbin;
	bool		ccvalid;
	bool		ccnoinherit;
} BgwConstrCheck15;

typedef struct
{
	char	   *ccname;
	char	   *ccbin;
	bool		ccenforced;
	bool		ccvalid;
	bool		ccnoinherit;
} BgwConstrCheck18;

/* TupleConstr: 18 added has_generated_virtual where 15 and 17 pad. */
typedef struct
{
	BgwAttrDefault *defval;
	void	   *check;
	BgwAttrMissing *missing;
	uint16_t	num_defval;
	uint16_t	num_check;
	bool		has_not_null;
	bool		has_generated_stored;
	bool		has_generated_virtual;
} BgwTupleConstr;

_Static_assert(sizeof(BgwTupleConstr) == 32, "TupleConstr");

/* TupleDescData's header; the attributes follow at its end. */
typedef struct TupleDescData
{
	int			natts;
	Oid			tdtypeid;
	int32_t		tdtypmod;
	int			tdrefcount;
	BgwTupleConstr *constr;
} TupleDescData;
typedef TupleDescData *TupleDesc;

_Static_assert(sizeof(TupleDescData) == 24, "offsetof(TupleDescData, attrs)");

/* storage/itemptr.h: 6 bytes, 2-aligned. */
typedef struct
{
	uint16_t	bi_hi;
	uint16_t	bi_lo;
	uint16_t	ip_posid;
} BgwItemPointer;

/* access/htup_details.h */
typedef struct HeapTupleHeaderData
{
	union
	{
		struct
		{
			uint32_t	t_xmin;
			uint32_t	t_xmax;
			uint32_t	t_cid;
		}			t_heap;
		struct
		{
			int32_t		datum_len_;
			int32_t		datum_typmod;
			Oid			datum_typeid;
		}			t_datum;
	}			t_choice;
	BgwItemPointer t_ctid;
	uint16_t	t_infomask2;
	uint16_t	t_infomask;
	uint8_t		t_hoff;
	uint8_t		t_bits[];
} HeapTupleHeaderData;
typedef HeapTupleHeaderData *HeapTupleHeader;

_Static_assert(offsetof(HeapTupleHeaderData, t_bits) == 23, "SizeofHeapTupleHeader");

/* access/htup.h */
typedef struct HeapTupleData
{
	uint32_t	t_len;
	BgwItemPointer t_self;
	Oid			t_tableOid;
	HeapTupleHeader t_data;
} HeapTupleData;
typedef HeapTupleData *HeapTuple;

_Static_assert(sizeof(HeapTupleData) == 24, "HEAPTUPLESIZE");

#define BGW_HEAPTUPLESIZE 24
#define BGW_MAXALIGN(n) (((uintptr_t) (n) + 7) & ~(uintptr_t) 7)
#define BGW_HEAP_HASNULL 0x0001
#define BGW_HEAP_HASVARWIDTH 0x0002
#define BGW_HEAP_HASEXTERNAL 0x0004
#define BGW_HEAP_IS_DATUM 0x0C00
#define BGW_HEAP_NATTS_MASK 0x07FF
#define BGW_MaxTupleAttributeNumber 1664

/* The layout class of the process's major: 15, 17 or 18. */
static inline int
bgw_tuple_layout(void)
{
	extern uint32_t bgw_rs_pg_major(void);
	uint32_t	m = bgw_rs_pg_major();

	return m >= 18 ? 18 : m >= 17 ? 17 : 15;
}

/* The attribute row `i` (0-based) of `d`. */
static inline void *
bgw_form_at(TupleDesc d, int i)
{
	char	   *attrs = (char *) d + sizeof(TupleDescData);

	switch (bgw_tuple_layout())
	{
		case 15:
			return attrs + (size_t) i * sizeof(BgwFormAttr15);
		case 17:
			return attrs + (size_t) i * sizeof(BgwFormAttr17);
		default:
			return attrs + (size_t) d->natts * sizeof(BgwCompactAttr18) +
				(size_t) i * sizeof(BgwFormAttr18);
	}
}

static inline BgwCompactAttr18 *
bgw_compact_at(TupleDesc d, int i)
{
	return (BgwCompactAttr18 *) ((char *) d + sizeof(TupleDescData)) + i;
}

static inline size_t
bgw_form_size(void)
{
	switch (bgw_tuple_layout())
	{
		case 15:
			return sizeof(BgwFormAttr15);
		case 17:
			return sizeof(BgwFormAttr17);
		default:
			return sizeof(BgwFormAttr18);
	}
}

/* Run `stmt` with `a` pointing at row `i` of `d`, typed for the major
 * (for the fields every major has). */
#define BGW_FORM_DO(d, i, a, stmt) \
	do { \
		switch (bgw_tuple_layout()) \
		{ \
			case 15: { BgwFormAttr15 *a = bgw_form_at((d), (i)); stmt; break; } \
			case 17: { BgwFormAttr17 *a = bgw_form_at((d), (i)); stmt; break; } \
			default: { BgwFormAttr18 *a = bgw_form_at((d), (i)); stmt; break; } \
		} \
	} while (0)

/*
 * What tuple code reads of an attribute: 15 and 17 read the row, 18 its
 * CompactAttribute (as PostgreSQL's own code does in each), and the slot
 * where the attribute's cached offset lives.
 */
typedef struct
{
	int16_t		attlen;
	bool		attbyval;
	char		attalign;		/* 'c', 's', 'i' or 'd' */
	bool		packable;		/* attstorage != 'p' */
	bool		atthasmissing;
	int32_t    *attcacheoff;
} BgwAttView;

static inline void
bgw_att_view(TupleDesc d, int i, BgwAttView *v)
{
	switch (bgw_tuple_layout())
	{
		case 15:
			{
				BgwFormAttr15 *a = bgw_form_at(d, i);

				*v = (BgwAttView) {a->attlen, a->attbyval, a->attalign,
				a->attstorage != 'p', a->atthasmissing, &a->attcacheoff};
				break;
			}
		case 17:
			{
				BgwFormAttr17 *a = bgw_form_at(d, i);

				*v = (BgwAttView) {a->attlen, a->attbyval, a->attalign,
				a->attstorage != 'p', a->atthasmissing, &a->attcacheoff};
				break;
			}
		default:
			{
				BgwCompactAttr18 *c = bgw_compact_at(d, i);
				char		align = c->attalignby == 8 ? 'd' :
					c->attalignby == 4 ? 'i' : c->attalignby == 2 ? 's' : 'c';

				*v = (BgwAttView) {c->attlen, c->attbyval, align,
				c->attispackable, c->atthasmissing, &c->attcacheoff};
				break;
			}
	}
}

/* tupdesc.c's, for heaptuple.c. */
void		bgw_c_populate_compact_attribute(TupleDesc d, int i);

#endif
