/*
 * mj_plain.c
 *		The smallest module with a magic block: one entry point, mj_main,
 *		that logs and returns, and nothing a major's server may lack. Built
 *		for one major and loaded as a dynamic worker's library into a server
 *		of another, it shows how the magic block alone is refused.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void mj_main(Datum main_arg);

void
mj_main(Datum main_arg)
{
	elog(LOG, "mj plain ran with %d", DatumGetInt32(main_arg));
}
