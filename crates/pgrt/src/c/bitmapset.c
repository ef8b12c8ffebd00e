/*
 * bitmapset.c -- PostgreSQL's Bitmapset (nodes/bitmapset.h), written here
 * against the header's layout and documented behaviour (PostgreSQL's
 * bitmapset.c is not copied), for the process's major:
 *
 * - 15: { int nwords; bitmapword words[]; }; a set may keep trailing zero
 *   words, and one that loses its last member stays allocated (empty, not
 *   NULL); bms_is_empty and bms_first_member are functions.
 * - 16 and later (17, 18): { NodeTag type; int nwords; bitmapword words[]; }
 *   with type T_Bitmapset; the empty set is always NULL and no set keeps
 *   trailing zero words: every function that removes members trims them,
 *   and frees a set left empty (bms_is_empty is a macro testing NULL).
 *
 * Members are non-negative: a negative one is PostgreSQL's ERROR
 * "negative bitmapset member not allowed". Sets are palloc'd in the
 * current memory context. Called by module code in any process with the
 * runtime.
 */
#include "pgcompat.h"

#include <string.h>

typedef uint64_t bitmapword;
typedef uint32_t uint32;

#define BITS_PER_BITMAPWORD 64
#define WORDNUM(x) ((x) / BITS_PER_BITMAPWORD)
#define BITNUM(x) ((x) % BITS_PER_BITMAPWORD)

/* Both layouts: the words start at offset 8. */
typedef struct Bitmapset
{
	int			head[2];
	bitmapword	words[];
} Bitmapset;

_Static_assert(offsetof(Bitmapset, words) == 8, "PostgreSQL's Bitmapset words");

#define BMS_EQUAL 0
#define BMS_SUBSET1 1
#define BMS_SUBSET2 2
#define BMS_DIFFERENT 3

#define BMS_EMPTY_SET 0
#define BMS_SINGLETON 1
#define BMS_MULTIPLE 2

extern unsigned int bgw_rs_pg_major(void);
extern uint32 hash_bytes(const unsigned char *k, int keylen);

/* A List of ints (nodes/pg_list.h): length at 4, cells at *(elements). */
typedef struct IntList
{
	int			type;
	int			length;
	int			max_length;
	int		   *elements;		/* ListCell: 8 bytes, int_value first */
} IntList;

/* 16 and later: NodeTag first, trimmed sets, NULL for empty. */
static bool
modern(void)
{
	return bgw_rs_pg_major() >= 16;
}

static int *
nwords_of(Bitmapset *a)
{
	return modern() ? &a->head[1] : &a->head[0];
}

#define NWORDS(a) (*nwords_of((Bitmapset *) (a)))

static int
t_bitmapset(void)
{
	switch (bgw_rs_pg_major())
	{
		case 17:
			return 441;
		case 18:
			return 445;
		default:
			return 0;
	}
}

static Bitmapset *
new_set(int nwords)
{
	Bitmapset  *s = bgw_c_palloc(offsetof(Bitmapset, words) + nwords * sizeof(bitmapword));

	memset(s, 0, offsetof(Bitmapset, words) + nwords * sizeof(bitmapword));
	if (modern())
		s->head[0] = t_bitmapset();
	NWORDS(s) = nwords;
	return s;
}

static int
size_of(int nwords)
{
	return (int) (offsetof(Bitmapset, words) + nwords * sizeof(bitmapword));
}

static void
check_member(int x)
{
	if (x < 0)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("negative bitmapset member not allowed"));
}

/* 16 and later: drop trailing zero words; NULL (freed) when none is left. */
static Bitmapset *
trim(Bitmapset *a)
{
	int			n;

	if (!modern() || a == NULL)
		return a;
	for (n = NWORDS(a); n > 0 && a->words[n - 1] == 0; n--)
		;
	if (n == 0)
	{
		bgw_rs_pfree(a);
		return NULL;
	}
	NWORDS(a) = n;
	return a;
}

static bool
all_zero(const Bitmapset *a, int from)
{
	int			i;

	for (i = from; i < NWORDS(a); i++)
		if (a->words[i] != 0)
			return false;
	return true;
}

Bitmapset *
bgw_c_bms_copy(const Bitmapset *a)
{
	Bitmapset  *r;

	if (a == NULL)
		return NULL;
	r = bgw_c_palloc(size_of(NWORDS(a)));
	memcpy(r, a, size_of(NWORDS(a)));
	return r;
}

bool
bgw_c_bms_is_empty(const Bitmapset *a)
{
	return a == NULL || all_zero(a, 0);
}

bool
bgw_c_bms_equal(const Bitmapset *a, const Bitmapset *b)
{
	const Bitmapset *shorter,
			   *longer;
	int			i;

	if (a == NULL)
		return bgw_c_bms_is_empty(b);
	if (b == NULL)
		return bgw_c_bms_is_empty(a);
	if (NWORDS(a) <= NWORDS(b))
		shorter = a, longer = b;
	else
		shorter = b, longer = a;
	for (i = 0; i < NWORDS(shorter); i++)
		if (shorter->words[i] != longer->words[i])
			return false;
	return all_zero(longer, NWORDS(shorter));
}

int
bgw_c_bms_compare(const Bitmapset *a, const Bitmapset *b)
{
	int			shortlen,
				i;

	if (a == NULL)
		return bgw_c_bms_is_empty(b) ? 0 : -1;
	if (b == NULL)
		return bgw_c_bms_is_empty(a) ? 0 : +1;
	shortlen = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	if (!all_zero(a, shortlen))
		return +1;
	if (!all_zero(b, shortlen))
		return -1;
	for (i = shortlen - 1; i >= 0; i--)
		if (a->words[i] != b->words[i])
			return a->words[i] > b->words[i] ? +1 : -1;
	return 0;
}

Bitmapset *
bgw_c_bms_make_singleton(int x)
{
	Bitmapset  *r;

	check_member(x);
	r = new_set(WORDNUM(x) + 1);
	r->words[WORDNUM(x)] |= (bitmapword) 1 << BITNUM(x);
	return r;
}

void
bgw_c_bms_free(Bitmapset *a)
{
	if (a)
		bgw_rs_pfree(a);
}

Bitmapset *
bgw_c_bms_union(const Bitmapset *a, const Bitmapset *b)
{
	Bitmapset  *r;
	const Bitmapset *other;
	int			i;

	if (a == NULL)
		return bgw_c_bms_copy(b);
	if (b == NULL)
		return bgw_c_bms_copy(a);
	if (NWORDS(a) <= NWORDS(b))
		r = bgw_c_bms_copy(b), other = a;
	else
		r = bgw_c_bms_copy(a), other = b;
	for (i = 0; i < NWORDS(other); i++)
		r->words[i] |= other->words[i];
	return r;
}

Bitmapset *
bgw_c_bms_intersect(const Bitmapset *a, const Bitmapset *b)
{
	Bitmapset  *r;
	const Bitmapset *other;
	int			i;

	if (a == NULL || b == NULL)
		return NULL;
	if (NWORDS(a) <= NWORDS(b))
		r = bgw_c_bms_copy(a), other = b;
	else
		r = bgw_c_bms_copy(b), other = a;
	for (i = 0; i < NWORDS(r); i++)
		r->words[i] &= other->words[i];
	return trim(r);
}

Bitmapset *
bgw_c_bms_difference(const Bitmapset *a, const Bitmapset *b)
{
	Bitmapset  *r;
	int			i,
				n;

	if (a == NULL)
		return NULL;
	if (b == NULL)
		return bgw_c_bms_copy(a);
	r = bgw_c_bms_copy(a);
	n = NWORDS(r) < NWORDS(b) ? NWORDS(r) : NWORDS(b);
	for (i = 0; i < n; i++)
		r->words[i] &= ~b->words[i];
	return trim(r);
}

bool
bgw_c_bms_is_subset(const Bitmapset *a, const Bitmapset *b)
{
	int			i,
				n;

	if (a == NULL)
		return true;
	if (b == NULL)
		return bgw_c_bms_is_empty(a);
	n = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < n; i++)
		if ((a->words[i] & ~b->words[i]) != 0)
			return false;
	return all_zero(a, n);
}

int
bgw_c_bms_subset_compare(const Bitmapset *a, const Bitmapset *b)
{
	int			result = BMS_EQUAL,
				shortlen,
				i;

	if (a == NULL)
		return bgw_c_bms_is_empty(b) ? BMS_EQUAL : BMS_SUBSET1;
	if (b == NULL)
		return bgw_c_bms_is_empty(a) ? BMS_EQUAL : BMS_SUBSET2;
	shortlen = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < shortlen; i++)
	{
		bitmapword aw = a->words[i],
					bw = b->words[i];

		if ((aw & ~bw) != 0)
		{
			if (result == BMS_SUBSET1)
				return BMS_DIFFERENT;
			result = BMS_SUBSET2;
		}
		if ((bw & ~aw) != 0)
		{
			if (result == BMS_SUBSET2)
				return BMS_DIFFERENT;
			result = BMS_SUBSET1;
		}
	}
	if (!all_zero(a, shortlen))
	{
		if (result == BMS_SUBSET1)
			return BMS_DIFFERENT;
		result = BMS_SUBSET2;
	}
	if (!all_zero(b, shortlen))
	{
		if (result == BMS_SUBSET2)
			return BMS_DIFFERENT;
		result = BMS_SUBSET1;
	}
	return result;
}

bool
bgw_c_bms_is_member(int x, const Bitmapset *a)
{
	check_member(x);
	if (a == NULL || WORDNUM(x) >= NWORDS(a))
		return false;
	return (a->words[WORDNUM(x)] & ((bitmapword) 1 << BITNUM(x))) != 0;
}

int
bgw_c_bms_member_index(Bitmapset *a, int x)
{
	int			i,
				result = 0;

	if (!bgw_c_bms_is_member(x, a))
		return -1;
	for (i = 0; i < WORDNUM(x); i++)
		result += __builtin_popcountll(a->words[i]);
	if (BITNUM(x) > 0)
		result += __builtin_popcountll(a->words[WORDNUM(x)] &
									   (((bitmapword) 1 << BITNUM(x)) - 1));
	return result;
}

bool
bgw_c_bms_overlap(const Bitmapset *a, const Bitmapset *b)
{
	int			i,
				n;

	if (a == NULL || b == NULL)
		return false;
	n = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < n; i++)
		if ((a->words[i] & b->words[i]) != 0)
			return true;
	return false;
}

bool
bgw_c_bms_overlap_list(const Bitmapset *a, const IntList *b)
{
	int			i;

	if (a == NULL || b == NULL)
		return false;
	for (i = 0; i < b->length; i++)
	{
		int			x = b->elements[2 * i];

		check_member(x);
		if (WORDNUM(x) < NWORDS(a) &&
			(a->words[WORDNUM(x)] & ((bitmapword) 1 << BITNUM(x))) != 0)
			return true;
	}
	return false;
}

bool
bgw_c_bms_nonempty_difference(const Bitmapset *a, const Bitmapset *b)
{
	int			i,
				n;

	if (a == NULL)
		return false;
	if (b == NULL)
		return !bgw_c_bms_is_empty(a);
	n = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < n; i++)
		if ((a->words[i] & ~b->words[i]) != 0)
			return true;
	return !all_zero(a, n);
}

/* The single member, or -1 when empty, -2 when several (no error). */
static int
singleton(const Bitmapset *a)
{
	int			result = -1,
				i;

	if (a == NULL)
		return -1;
	for (i = 0; i < NWORDS(a); i++)
	{
		bitmapword w = a->words[i];

		if (w == 0)
			continue;
		if (result >= 0 || (w & (w - 1)) != 0)
			return -2;
		result = i * BITS_PER_BITMAPWORD + __builtin_ctzll(w);
	}
	return result;
}

int
bgw_c_bms_singleton_member(const Bitmapset *a)
{
	int			r = singleton(a);

	if (r == -2)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("bitmapset has multiple members"));
	if (r == -1)
		bgw_ereport(ERROR, bgw_c_errmsg_internal("bitmapset is empty"));
	return r;
}

bool
bgw_c_bms_get_singleton_member(const Bitmapset *a, int *member)
{
	int			r = singleton(a);

	if (r < 0)
		return false;
	*member = r;
	return true;
}

int
bgw_c_bms_num_members(const Bitmapset *a)
{
	int			n = 0,
				i;

	if (a == NULL)
		return 0;
	for (i = 0; i < NWORDS(a); i++)
		n += __builtin_popcountll(a->words[i]);
	return n;
}

int
bgw_c_bms_membership(const Bitmapset *a)
{
	int			r = singleton(a);

	return r == -1 ? BMS_EMPTY_SET : r == -2 ? BMS_MULTIPLE : BMS_SINGLETON;
}

Bitmapset *
bgw_c_bms_add_member(Bitmapset *a, int x)
{
	int			old;

	check_member(x);
	if (a == NULL)
		return bgw_c_bms_make_singleton(x);
	old = NWORDS(a);
	if (WORDNUM(x) >= old)
	{
		a = bgw_c_repalloc(a, size_of(WORDNUM(x) + 1));
		NWORDS(a) = WORDNUM(x) + 1;
		memset(&a->words[old], 0, (WORDNUM(x) + 1 - old) * sizeof(bitmapword));
	}
	a->words[WORDNUM(x)] |= (bitmapword) 1 << BITNUM(x);
	return a;
}

Bitmapset *
bgw_c_bms_del_member(Bitmapset *a, int x)
{
	check_member(x);
	if (a == NULL)
		return NULL;
	if (WORDNUM(x) < NWORDS(a))
		a->words[WORDNUM(x)] &= ~((bitmapword) 1 << BITNUM(x));
	return trim(a);
}

Bitmapset *
bgw_c_bms_add_members(Bitmapset *a, const Bitmapset *b)
{
	Bitmapset  *r;
	const Bitmapset *other;
	int			i;

	if (a == NULL)
		return bgw_c_bms_copy(b);
	if (b == NULL)
		return a;
	if (NWORDS(a) < NWORDS(b))
		r = bgw_c_bms_copy(b), other = a;
	else
		r = a, other = b;
	for (i = 0; i < NWORDS(other); i++)
		r->words[i] |= other->words[i];
	if (r != a)
		bgw_rs_pfree(a);
	return r;
}

Bitmapset *
bgw_c_bms_replace_members(Bitmapset *a, const Bitmapset *b)
{
	if (a == NULL)
		return bgw_c_bms_copy(b);
	if (b == NULL)
	{
		bgw_rs_pfree(a);
		return NULL;
	}
	if (NWORDS(a) < NWORDS(b))
		a = bgw_c_repalloc(a, size_of(NWORDS(b)));
	memcpy(a->words, b->words, NWORDS(b) * sizeof(bitmapword));
	NWORDS(a) = NWORDS(b);
	return a;
}

Bitmapset *
bgw_c_bms_add_range(Bitmapset *a, int lower, int upper)
{
	int			lw,
				uw,
				w,
				old;

	if (upper < lower)
		return a;
	check_member(lower);
	uw = WORDNUM(upper);
	if (a == NULL)
		a = new_set(uw + 1);
	else if (uw >= (old = NWORDS(a)))
	{
		a = bgw_c_repalloc(a, size_of(uw + 1));
		NWORDS(a) = uw + 1;
		memset(&a->words[old], 0, (uw + 1 - old) * sizeof(bitmapword));
	}
	lw = WORDNUM(lower);
	{
		bitmapword low = ~(((bitmapword) 1 << BITNUM(lower)) - 1);
		bitmapword high = (~(bitmapword) 0) >> (BITS_PER_BITMAPWORD - (BITNUM(upper) + 1));

		if (lw == uw)
			a->words[lw] |= low & high;
		else
		{
			a->words[lw] |= low;
			for (w = lw + 1; w < uw; w++)
				a->words[w] = ~(bitmapword) 0;
			a->words[uw] |= high;
		}
	}
	return a;
}

Bitmapset *
bgw_c_bms_int_members(Bitmapset *a, const Bitmapset *b)
{
	int			i,
				n;

	if (a == NULL)
		return NULL;
	if (b == NULL)
	{
		bgw_rs_pfree(a);
		return NULL;
	}
	n = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < n; i++)
		a->words[i] &= b->words[i];
	for (; i < NWORDS(a); i++)
		a->words[i] = 0;
	return trim(a);
}

Bitmapset *
bgw_c_bms_del_members(Bitmapset *a, const Bitmapset *b)
{
	int			i,
				n;

	if (a == NULL)
		return NULL;
	if (b == NULL)
		return a;
	n = NWORDS(a) < NWORDS(b) ? NWORDS(a) : NWORDS(b);
	for (i = 0; i < n; i++)
		a->words[i] &= ~b->words[i];
	return trim(a);
}

Bitmapset *
bgw_c_bms_join(Bitmapset *a, Bitmapset *b)
{
	Bitmapset  *r,
			   *other;
	int			i;

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if (NWORDS(a) < NWORDS(b))
		r = b, other = a;
	else
		r = a, other = b;
	for (i = 0; i < NWORDS(other); i++)
		r->words[i] |= other->words[i];
	if (other != r)
		bgw_rs_pfree(other);
	return r;
}

int
bgw_c_bms_first_member(Bitmapset *a)
{
	int			i;

	if (a == NULL)
		return -1;
	for (i = 0; i < NWORDS(a); i++)
	{
		bitmapword w = a->words[i];

		if (w != 0)
		{
			int			bit = __builtin_ctzll(w);

			a->words[i] &= ~((bitmapword) 1 << bit);
			return i * BITS_PER_BITMAPWORD + bit;
		}
	}
	return -1;
}

int
bgw_c_bms_next_member(const Bitmapset *a, int prevbit)
{
	bitmapword mask;
	int			i;

	if (a == NULL)
		return -2;
	prevbit++;
	mask = (~(bitmapword) 0) << BITNUM(prevbit);
	for (i = WORDNUM(prevbit); i < NWORDS(a); i++)
	{
		bitmapword w = a->words[i] & mask;

		if (w != 0)
			return i * BITS_PER_BITMAPWORD + __builtin_ctzll(w);
		mask = ~(bitmapword) 0;
	}
	return -2;
}

int
bgw_c_bms_prev_member(const Bitmapset *a, int prevbit)
{
	bitmapword mask;
	int			i;

	if (a == NULL || prevbit == 0)
		return -2;
	if (prevbit == -1 || WORDNUM(prevbit - 1) >= NWORDS(a))
		prevbit = NWORDS(a) * BITS_PER_BITMAPWORD - 1;
	else
		prevbit--;
	mask = (~(bitmapword) 0) >> (BITS_PER_BITMAPWORD - 1 - BITNUM(prevbit));
	for (i = WORDNUM(prevbit); i >= 0; i--)
	{
		bitmapword w = a->words[i] & mask;

		if (w != 0)
			return i * BITS_PER_BITMAPWORD + 63 - __builtin_clzll(w);
		mask = ~(bitmapword) 0;
	}
	return -2;
}

uint32
bgw_c_bms_hash_value(const Bitmapset *a)
{
	int			last;

	if (a == NULL)
		return 0;
	for (last = NWORDS(a); --last >= 0;)
		if (a->words[last] != 0)
			break;
	if (last < 0)
		return 0;
	return hash_bytes((const unsigned char *) a->words, (last + 1) * (int) sizeof(bitmapword));
}
