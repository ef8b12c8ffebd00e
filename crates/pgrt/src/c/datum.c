/*
 * datum.c -- copying and comparing Datums of a type given by its length
 * and by-value flag (utils/datum.h): datumGetSize, datumCopy and
 * datumIsEqual, with PostgreSQL's rules:
 *   - a by-value Datum is its typLen bytes and is copied as it is;
 *   - typLen > 0 by reference: that many bytes; -1: a varlena (its whole
 *     size, whatever its header; an expanded object is flattened into a
 *     copy); -2: a C string with its terminator;
 *   - a NULL pointer for a varlena or C string is PostgreSQL's ERROR
 *     "invalid Datum pointer", another typLen its "invalid typLen";
 *   - datumIsEqual compares the bytes (by value: the Datums), so two
 *     values of different representation are unequal.
 * Results are palloc'd in the current context. Module code, one thread.
 */
#include "pgcompat.h"

#include <string.h>

#define ERRCODE_DATA_EXCEPTION MAKE_SQLSTATE('2','2','0','0','0')

/* VARSIZE_ANY, the external pointers' sizes included (varatt.h). */
static Size
varsize_any(const void *p)
{
	const uint8_t *b = p;
	uint32_t	h;

	if (b[0] == 0x01)
	{
		switch (b[1])
		{
			case 1:				/* indirect */
			case 2:				/* expanded, read-only */
			case 3:				/* expanded, read-write */
				return 2 + sizeof(void *);
			case 18:			/* on disk */
				return 2 + 16;
			default:
				return 2;
		}
	}
	if (b[0] & 0x01)
		return (b[0] >> 1) & 0x7F;
	memcpy(&h, p, sizeof(h));
	return (h >> 2) & 0x3FFFFFFF;
}

static bool
is_expanded(const void *p)
{
	const uint8_t *b = p;

	return b[0] == 0x01 && (b[1] == 2 || b[1] == 3);
}

Size
bgw_c_datumGetSize(Datum value, bool typByVal, int typLen)
{
	const void *p = (const void *) value;

	if (typByVal || typLen > 0)
		return (Size) typLen;
	if (typLen == -1 || typLen == -2)
	{
		if (p == NULL)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_DATA_EXCEPTION),
						bgw_c_errmsg_internal("invalid Datum pointer"));
		return typLen == -1 ? varsize_any(p) : strlen(p) + 1;
	}
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
				bgw_c_errmsg_internal("invalid typLen: %d", typLen));
	__builtin_unreachable();
}

Datum
bgw_c_datumCopy(Datum value, bool typByVal, int typLen)
{
	const void *p = (const void *) value;
	Size		size;
	void	   *copy;

	if (typByVal)
		return value;
	if (typLen == -1 && p != NULL && is_expanded(p))
	{
		ExpandedObjectHeader *eoh;

		memcpy(&eoh, (const char *) p + 2, sizeof(eoh));
		size = eoh->eoh_methods->get_flat_size(eoh);
		copy = bgw_c_palloc(size);
		eoh->eoh_methods->flatten_into(eoh, copy, size);
		return (Datum) copy;
	}
	size = typLen == -1 ? varsize_any(p) : bgw_c_datumGetSize(value, typByVal, typLen);
	copy = bgw_c_palloc(size);
	memcpy(copy, p, size);
	return (Datum) copy;
}

bool
bgw_c_datumIsEqual(Datum value1, Datum value2, bool typByVal, int typLen)
{
	Size		size1,
				size2;

	if (typByVal)
		return value1 == value2;
	size1 = bgw_c_datumGetSize(value1, typByVal, typLen);
	size2 = bgw_c_datumGetSize(value2, typByVal, typLen);
	if (size1 != size2)
		return false;
	return memcmp((const void *) value1, (const void *) value2, size1) == 0;
}
