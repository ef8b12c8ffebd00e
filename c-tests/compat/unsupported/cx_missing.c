/*
 * cx_missing.c -- a module that calls a server function the runtime does
 * not provide (the database encoding): it must be refused at load with a
 * message naming the symbol. Kept out of c-tests/compat/ proper, whose
 * modules the census test requires to resolve completely.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	elog(LOG, "cxm encoding %d", GetDatabaseEncoding());
}
