/*
 * tupdesc.c -- tuple descriptors (access/tupdesc.h) in the layout of the
 * process's major (tuple_layout.h), with PostgreSQL's semantics and no
 * catalog: CreateTemplateTupleDesc, CreateTupleDesc, CreateTupleDescCopy,
 * CreateTupleDescTruncatedCopy (18), CreateTupleDescCopyConstr,
 * TupleDescCopy, TupleDescCopyEntry, FreeTupleDesc,
 * IncrTupleDescRefCount / DecrTupleDescRefCount (the count only: the
 * runtime's resource owners keep no tuple descriptors, so a reference is
 * not released by a resource owner's release), equalTupleDescs,
 * equalRowTypes and hashRowType (17, 18), hashTupleDesc (15),
 * TupleDescInitBuiltinEntry (its built-in types only, as PostgreSQL's),
 * TupleDescInitEntryCollation and populate_compact_attribute (18).
 * TupleDescInitEntry needs pg_type and is not here.
 *
 * Descriptors are palloc'd in the current memory context. Module code,
 * one thread.
 */
#include <string.h>

#include "tuple_layout.h"

#define RECORDOID 2249
#define BOOLOID 16
#define INT8OID 20
#define INT4OID 23
#define TEXTOID 25
#define OIDOID 26
#define TEXTARRAYOID 1009
#define DEFAULT_COLLATION_OID 100
/* catalog/catalog.h: below this, an object of the initial catalog. */
#define FirstUnpinnedObjectId 12000

extern void *bgw_c_palloc0(Size size);
extern void bgw_c_pfree(void *pointer);
extern Datum bgw_c_datumCopy(Datum value, bool typByVal, int typLen);
extern bool bgw_c_datumIsEqual(Datum value1, Datum value2, bool typByVal, int typLen);
extern uint32_t hash_bytes_uint32(uint32_t k);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

/* 18: the CompactAttribute of row `i` from the row. */
void
bgw_c_populate_compact_attribute(TupleDesc d, int i)
{
	BgwFormAttr18 *src = bgw_form_at(d, i);
	BgwCompactAttr18 *dst = bgw_compact_at(d, i);
	uint8_t		alignby;

	switch (src->attalign)
	{
		case 'i':
			alignby = 4;
			break;
		case 'c':
			alignby = 1;
			break;
		case 'd':
			alignby = 8;
			break;
		case 's':
			alignby = 2;
			break;
		default:
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("invalid attalign value: %c", src->attalign));
			return;
	}
	memset(dst, 0, sizeof(*dst));
	dst->attcacheoff = -1;
	dst->attlen = src->attlen;
	dst->attbyval = src->attbyval;
	dst->attispackable = src->attstorage != 'p';
	dst->atthasmissing = src->atthasmissing;
	dst->attisdropped = src->attisdropped;
	dst->attgenerated = src->attgenerated != '\0';
	dst->attnullability = !src->attnotnull ? 'f' :
		src->attrelid < FirstUnpinnedObjectId ? 'v' : 'u';
	dst->attalignby = alignby;
}

/* After a row changed: 18 refreshes its CompactAttribute. */
static void
row_changed(TupleDesc d, int i)
{
	if (bgw_tuple_layout() == 18)
		bgw_c_populate_compact_attribute(d, i);
}

/* A copy does not carry constraints: clear what belongs to them. */
static void
clear_constraint_fields(TupleDesc d, int i)
{
	BGW_FORM_DO(d, i, a,
				a->attnotnull = false;
				a->atthasdef = false;
				a->atthasmissing = false;
				a->attidentity = '\0';
				a->attgenerated = '\0');
	row_changed(d, i);
}

static size_t
desc_size(int natts)
{
	size_t		per = bgw_form_size();

	if (bgw_tuple_layout() == 18)
		per += sizeof(BgwCompactAttr18);
	return sizeof(TupleDescData) + (size_t) natts * per;
}

TupleDesc
bgw_c_CreateTemplateTupleDesc(int natts)
{
	TupleDesc	desc = bgw_c_palloc(desc_size(natts));

	desc->natts = natts;
	desc->constr = NULL;
	desc->tdtypeid = RECORDOID;
	desc->tdtypmod = -1;
	desc->tdrefcount = -1;
	return desc;
}

/* `attrs` are pointers to rows of the major's layout. */
TupleDesc
bgw_c_CreateTupleDesc(int natts, void **attrs)
{
	TupleDesc	desc = bgw_c_CreateTemplateTupleDesc(natts);

	for (int i = 0; i < natts; i++)
	{
		memcpy(bgw_form_at(desc, i), attrs[i], bgw_form_size());
		row_changed(desc, i);
	}
	return desc;
}

static TupleDesc
copy_without_constraints(TupleDesc tupdesc, int natts)
{
	TupleDesc	desc = bgw_c_CreateTemplateTupleDesc(natts);

	if (natts > 0)
		memcpy(bgw_form_at(desc, 0), bgw_form_at(tupdesc, 0),
			   (size_t) natts * bgw_form_size());
	for (int i = 0; i < natts; i++)
		clear_constraint_fields(desc, i);
	desc->tdtypeid = tupdesc->tdtypeid;
	desc->tdtypmod = tupdesc->tdtypmod;
	return desc;
}

TupleDesc
bgw_c_CreateTupleDescCopy(TupleDesc tupdesc)
{
	return copy_without_constraints(tupdesc, tupdesc->natts);
}

TupleDesc
bgw_c_CreateTupleDescTruncatedCopy(TupleDesc tupdesc, int natts)
{
	return copy_without_constraints(tupdesc, natts);
}

TupleDesc
bgw_c_CreateTupleDescCopyConstr(TupleDesc tupdesc)
{
	BgwTupleConstr *constr = tupdesc->constr;
	TupleDesc	desc = bgw_c_CreateTemplateTupleDesc(tupdesc->natts);
	bool		l18 = bgw_tuple_layout() == 18;

	if (desc->natts > 0)
		memcpy(bgw_form_at(desc, 0), bgw_form_at(tupdesc, 0),
			   (size_t) desc->natts * bgw_form_size());
	for (int i = 0; i < desc->natts; i++)
		row_changed(desc, i);
	if (constr)
	{
		BgwTupleConstr *cpy = bgw_c_palloc0(sizeof(BgwTupleConstr));

		cpy->has_not_null = constr->has_not_null;
		cpy->has_generated_stored = constr->has_generated_stored;
		if (l18)
			cpy->has_generated_virtual = constr->has_generated_virtual;
		if ((cpy->num_defval = constr->num_defval) > 0)
		{
			cpy->defval = bgw_c_palloc(cpy->num_defval * sizeof(BgwAttrDefault));
			memcpy(cpy->defval, constr->defval, cpy->num_defval * sizeof(BgwAttrDefault));
			for (int i = cpy->num_defval - 1; i >= 0; i--)
				cpy->defval[i].adbin = bgw_c_pstrdup(constr->defval[i].adbin);
		}
		if (constr->missing)
		{
			cpy->missing = bgw_c_palloc((size_t) tupdesc->natts * sizeof(BgwAttrMissing));
			memcpy(cpy->missing, constr->missing, (size_t) tupdesc->natts * sizeof(BgwAttrMissing));
			for (int i = tupdesc->natts - 1; i >= 0; i--)
			{
				BgwAttView v;

				if (!constr->missing[i].am_present)
					continue;
				bgw_att_view(tupdesc, i, &v);
				cpy->missing[i].am_value =
					bgw_c_datumCopy(constr->missing[i].am_value, v.attbyval, v.attlen);
			}
		}
		if ((cpy->num_check = constr->num_check) > 0)
		{
			size_t		each = l18 ? sizeof(BgwConstrCheck18) : sizeof(BgwConstrCheck15);

			cpy->check = bgw_c_palloc(cpy->num_check * each);
			memcpy(cpy->check, constr->check, cpy->num_check * each);
			for (int i = cpy->num_check - 1; i >= 0; i--)
			{
				if (l18)
				{
					BgwConstrCheck18 *c = (BgwConstrCheck18 *) cpy->check + i;

					c->ccname = bgw_c_pstrdup(c->ccname);
					c->ccbin = bgw_c_pstrdup(c->ccbin);
				}
				else
				{
					BgwConstrCheck15 *c = (BgwConstrCheck15 *) cpy->check + i;

					c->ccname = bgw_c_pstrdup(c->ccname);
					c->ccbin = bgw_c_pstrdup(c->ccbin);
				}
			}
		}
		desc->constr = cpy;
	}
	desc->tdtypeid = tupdesc->tdtypeid;
	desc->tdtypmod = tupdesc->tdtypmod;
	return desc;
}

/* Into memory of TupleDescSize(src) bytes the caller provides (possibly
 * shared memory): no constraints, not reference-counted. */
void
bgw_c_TupleDescCopy(TupleDesc dst, TupleDesc src)
{
	memcpy(dst, src, desc_size(src->natts));
	for (int i = 0; i < dst->natts; i++)
		clear_constraint_fields(dst, i);
	dst->constr = NULL;
	dst->tdrefcount = -1;
}

void
bgw_c_TupleDescCopyEntry(TupleDesc dst, AttrNumber dstAttno,
						 TupleDesc src, AttrNumber srcAttno)
{
	memcpy(bgw_form_at(dst, dstAttno - 1), bgw_form_at(src, srcAttno - 1), bgw_form_size());
	switch (bgw_tuple_layout())
	{
		case 15:
			{
				BgwFormAttr15 *a = bgw_form_at(dst, dstAttno - 1);

				a->attnum = dstAttno;
				a->attcacheoff = -1;
				break;
			}
		case 17:
			{
				BgwFormAttr17 *a = bgw_form_at(dst, dstAttno - 1);

				a->attnum = dstAttno;
				a->attcacheoff = -1;
				break;
			}
		default:
			((BgwFormAttr18 *) bgw_form_at(dst, dstAttno - 1))->attnum = dstAttno;
			break;
	}
	clear_constraint_fields(dst, dstAttno - 1);
}

void
bgw_c_FreeTupleDesc(TupleDesc tupdesc)
{
	BgwTupleConstr *constr = tupdesc->constr;

	if (constr)
	{
		if (constr->num_defval > 0)
		{
			for (int i = constr->num_defval - 1; i >= 0; i--)
				bgw_c_pfree(constr->defval[i].adbin);
			bgw_c_pfree(constr->defval);
		}
		if (constr->missing)
		{
			for (int i = tupdesc->natts - 1; i >= 0; i--)
			{
				bool		byval = false;

				BGW_FORM_DO(tupdesc, i, a, byval = a->attbyval);
				if (constr->missing[i].am_present && !byval)
					bgw_c_pfree((void *) constr->missing[i].am_value);
			}
			bgw_c_pfree(constr->missing);
		}
		if (constr->num_check > 0)
		{
			for (int i = constr->num_check - 1; i >= 0; i--)
			{
				char	   *name;
				char	   *bin;

				if (bgw_tuple_layout() == 18)
				{
					name = ((BgwConstrCheck18 *) constr->check)[i].ccname;
					bin = ((BgwConstrCheck18 *) constr->check)[i].ccbin;
				}
				else
				{
					name = ((BgwConstrCheck15 *) constr->check)[i].ccname;
					bin = ((BgwConstrCheck15 *) constr->check)[i].ccbin;
				}
				bgw_c_pfree(name);
				bgw_c_pfree(bin);
			}
			bgw_c_pfree(constr->check);
		}
		bgw_c_pfree(constr);
	}
	bgw_c_pfree(tupdesc);
}

/* The reference count only (see the file's head). */
void
bgw_c_IncrTupleDescRefCount(TupleDesc tupdesc)
{
	tupdesc->tdrefcount++;
}

void
bgw_c_DecrTupleDescRefCount(TupleDesc tupdesc)
{
	if (--tupdesc->tdrefcount == 0)
		bgw_c_FreeTupleDesc(tupdesc);
}

/* The fields of two rows equalTupleDescs compares (15 also compares
 * attstattarget, which later majors keep out of the fixed part). */
#define SAME_ROWS(a1, a2) \
	(strcmp((a1)->attname.data, (a2)->attname.data) == 0 && \
	 (a1)->atttypid == (a2)->atttypid && \
	 (a1)->attlen == (a2)->attlen && \
	 (a1)->attndims == (a2)->attndims && \
	 (a1)->atttypmod == (a2)->atttypmod && \
	 (a1)->attbyval == (a2)->attbyval && \
	 (a1)->attalign == (a2)->attalign && \
	 (a1)->attstorage == (a2)->attstorage && \
	 (a1)->attcompression == (a2)->attcompression && \
	 (a1)->attnotnull == (a2)->attnotnull && \
	 (a1)->atthasdef == (a2)->atthasdef && \
	 (a1)->attidentity == (a2)->attidentity && \
	 (a1)->attgenerated == (a2)->attgenerated && \
	 (a1)->attisdropped == (a2)->attisdropped && \
	 (a1)->attislocal == (a2)->attislocal && \
	 (a1)->attinhcount == (a2)->attinhcount && \
	 (a1)->attcollation == (a2)->attcollation)

static bool
same_rows(TupleDesc d1, TupleDesc d2, int i)
{
	switch (bgw_tuple_layout())
	{
		case 15:
			{
				BgwFormAttr15 *a1 = bgw_form_at(d1, i);
				BgwFormAttr15 *a2 = bgw_form_at(d2, i);

				return a1->attstattarget == a2->attstattarget && SAME_ROWS(a1, a2);
			}
		case 17:
			{
				BgwFormAttr17 *a1 = bgw_form_at(d1, i);
				BgwFormAttr17 *a2 = bgw_form_at(d2, i);

				return SAME_ROWS(a1, a2);
			}
		default:
			{
				BgwFormAttr18 *a1 = bgw_form_at(d1, i);
				BgwFormAttr18 *a2 = bgw_form_at(d2, i);

				return SAME_ROWS(a1, a2);
			}
	}
}

static bool
same_checks(const BgwTupleConstr *c1, const BgwTupleConstr *c2, int i)
{
	if (bgw_tuple_layout() == 18)
	{
		BgwConstrCheck18 *k1 = (BgwConstrCheck18 *) c1->check + i;
		BgwConstrCheck18 *k2 = (BgwConstrCheck18 *) c2->check + i;

		return strcmp(k1->ccname, k2->ccname) == 0 && strcmp(k1->ccbin, k2->ccbin) == 0 &&
			k1->ccenforced == k2->ccenforced && k1->ccvalid == k2->ccvalid &&
			k1->ccnoinherit == k2->ccnoinherit;
	}
	else
	{
		BgwConstrCheck15 *k1 = (BgwConstrCheck15 *) c1->check + i;
		BgwConstrCheck15 *k2 = (BgwConstrCheck15 *) c2->check + i;

		return strcmp(k1->ccname, k2->ccname) == 0 && strcmp(k1->ccbin, k2->ccbin) == 0 &&
			k1->ccvalid == k2->ccvalid && k1->ccnoinherit == k2->ccnoinherit;
	}
}

bool
bgw_c_equalTupleDescs(TupleDesc tupdesc1, TupleDesc tupdesc2)
{
	BgwTupleConstr *constr1 = tupdesc1->constr;
	BgwTupleConstr *constr2 = tupdesc2->constr;

	if (tupdesc1->natts != tupdesc2->natts || tupdesc1->tdtypeid != tupdesc2->tdtypeid)
		return false;
	for (int i = 0; i < tupdesc1->natts; i++)
		if (!same_rows(tupdesc1, tupdesc2, i))
			return false;
	if (constr1 == NULL)
		return constr2 == NULL;
	if (constr2 == NULL)
		return false;
	if (constr1->has_not_null != constr2->has_not_null ||
		constr1->has_generated_stored != constr2->has_generated_stored)
		return false;
	if (constr1->num_defval != constr2->num_defval)
		return false;
	for (int i = 0; i < constr1->num_defval; i++)
		if (constr1->defval[i].adnum != constr2->defval[i].adnum ||
			strcmp(constr1->defval[i].adbin, constr2->defval[i].adbin) != 0)
			return false;
	if (constr1->missing)
	{
		if (!constr2->missing)
			return false;
		for (int i = 0; i < tupdesc1->natts; i++)
		{
			BgwAttrMissing *m1 = constr1->missing + i;
			BgwAttrMissing *m2 = constr2->missing + i;
			BgwAttView v;

			if (m1->am_present != m2->am_present)
				return false;
			if (!m1->am_present)
				continue;
			bgw_att_view(tupdesc1, i, &v);
			if (!bgw_c_datumIsEqual(m1->am_value, m2->am_value, v.attbyval, v.attlen))
				return false;
		}
	}
	else if (constr2->missing)
		return false;
	if (constr1->num_check != constr2->num_check)
		return false;
	for (int i = 0; i < constr1->num_check; i++)
		if (!same_checks(constr1, constr2, i))
			return false;
	return true;
}

/* 17, 18: the same row type (names, types, typmods, collations, dropped
 * columns; not tdtypmod). */
bool
bgw_c_equalRowTypes(TupleDesc tupdesc1, TupleDesc tupdesc2)
{
	if (tupdesc1->natts != tupdesc2->natts || tupdesc1->tdtypeid != tupdesc2->tdtypeid)
		return false;
	for (int i = 0; i < tupdesc1->natts; i++)
	{
		bool		same = false;

		switch (bgw_tuple_layout())
		{
#define SAME_TYPE(T) \
			{ \
				T		   *a1 = bgw_form_at(tupdesc1, i); \
				T		   *a2 = bgw_form_at(tupdesc2, i); \
				same = strcmp(a1->attname.data, a2->attname.data) == 0 && \
					a1->atttypid == a2->atttypid && a1->atttypmod == a2->atttypmod && \
					a1->attcollation == a2->attcollation && \
					a1->attisdropped == a2->attisdropped; \
				break; \
			}
			case 15:
				SAME_TYPE(BgwFormAttr15);
			case 17:
				SAME_TYPE(BgwFormAttr17);
			default:
				SAME_TYPE(BgwFormAttr18);
#undef SAME_TYPE
		}
		if (!same)
			return false;
	}
	return true;
}

static uint32_t
hash_combine(uint32_t a, uint32_t b)
{
	a ^= b + 0x9e3779b9 + (a << 6) + (a >> 2);
	return a;
}

/* hashRowType (17, 18) and hashTupleDesc (15): the count, the type and
 * each attribute's type. */
uint32_t
bgw_c_hashRowType(TupleDesc desc)
{
	uint32_t	s = hash_combine(0, hash_bytes_uint32((uint32_t) desc->natts));

	s = hash_combine(s, hash_bytes_uint32(desc->tdtypeid));
	for (int i = 0; i < desc->natts; i++)
	{
		Oid			typid = 0;

		BGW_FORM_DO(desc, i, a, typid = a->atttypid);
		s = hash_combine(s, hash_bytes_uint32(typid));
	}
	return s;
}

/*
 * A row for one of the types PostgreSQL knows without its catalog (text,
 * text[], bool, int4, int8 and, from 17, oid); another type is
 * PostgreSQL's ERROR "unsupported type".
 */
void
bgw_c_TupleDescInitBuiltinEntry(TupleDesc desc, AttrNumber attributeNumber,
								const char *attributeName, Oid oidtypeid,
								int32_t typmod, int attdim)
{
	int16_t		len;
	bool		byval;
	char		align;
	char		storage;
	Oid			collation = 0;

	switch (oidtypeid)
	{
		case TEXTOID:
		case TEXTARRAYOID:
			len = -1, byval = false, align = 'i', storage = 'x';
			collation = DEFAULT_COLLATION_OID;
			break;
		case BOOLOID:
			len = 1, byval = true, align = 'c', storage = 'p';
			break;
		case INT4OID:
			len = 4, byval = true, align = 'i', storage = 'p';
			break;
		case INT8OID:
			len = 8, byval = true, align = 'd', storage = 'p';
			break;
		case OIDOID:
			if (bgw_tuple_layout() >= 17)
			{
				len = 4, byval = true, align = 'i', storage = 'p';
				break;
			}
			/* FALLTHROUGH */
		default:
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("unsupported type %u", oidtypeid));
			return;
	}
	BGW_FORM_DO(desc, attributeNumber - 1, a,
				a->attrelid = 0;
				memset(a->attname.data, 0, BGW_NAMEDATALEN);
				strncpy(a->attname.data, attributeName, BGW_NAMEDATALEN - 1);
				a->atttypmod = typmod;
				a->attnum = attributeNumber;
				a->attndims = attdim;
				a->attnotnull = false;
				a->atthasdef = false;
				a->atthasmissing = false;
				a->attidentity = '\0';
				a->attgenerated = '\0';
				a->attisdropped = false;
				a->attislocal = true;
				a->attinhcount = 0;
				a->atttypid = oidtypeid;
				a->attlen = len;
				a->attbyval = byval;
				a->attalign = align;
				a->attstorage = storage;
				a->attcompression = '\0';
				a->attcollation = collation);
	switch (bgw_tuple_layout())
	{
		case 15:
			((BgwFormAttr15 *) bgw_form_at(desc, attributeNumber - 1))->attstattarget = -1;
			((BgwFormAttr15 *) bgw_form_at(desc, attributeNumber - 1))->attcacheoff = -1;
			break;
		case 17:
			((BgwFormAttr17 *) bgw_form_at(desc, attributeNumber - 1))->attcacheoff = -1;
			break;
		default:
			bgw_c_populate_compact_attribute(desc, attributeNumber - 1);
			break;
	}
}

void
bgw_c_TupleDescInitEntryCollation(TupleDesc desc, AttrNumber attributeNumber, Oid collationid)
{
	BGW_FORM_DO(desc, attributeNumber - 1, a, a->attcollation = collationid);
}

/* 15's name for the same hash. */
uint32_t
bgw_c_hashTupleDesc(TupleDesc desc)
{
	return bgw_c_hashRowType(desc);
}
