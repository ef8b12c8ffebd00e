/*
 * varlena.c -- fmgr's pg_detoast_datum_packed, behind PG_GETARG_TEXT_PP and
 * friends, for functions a module calls with a FunctionCallInfo of its own
 * (there is no executor here to pass it toasted values).
 *
 * A value stored in line and not compressed (a 4-byte or short 1-byte
 * header) is returned as it is, as PostgreSQL does. A compressed or
 * external (TOAST pointer) value comes only from table storage, which
 * needs the database server: that is an ERROR saying so.
 */
#include "pgcompat.h"

#define ERRCODE_FEATURE_NOT_SUPPORTED MAKE_SQLSTATE('0','A','0','0','0')

/* postgres.h's little-endian varlena header tests. */
#define VARATT_IS_1B_E(p) ((((const uint8_t *) (p))[0]) == 0x01)
#define VARATT_IS_4B_C(p) (((((const uint8_t *) (p))[0]) & 0x03) == 0x02)

void *
bgw_c_pg_detoast_datum_packed(void *datum)
{
	if (datum != NULL && (VARATT_IS_1B_E(datum) || VARATT_IS_4B_C(datum)))
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					bgw_c_errmsg_internal("a compressed or out-of-line (TOAST) value cannot be read here: it needs the database server, which is not available in libbgworker"));
	return datum;
}
