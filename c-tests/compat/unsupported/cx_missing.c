/*
 * cx_missing.c -- a module whose _PG_init calls a server function that
 * needs the database server (a database's name): it loads, and the
 * call stops bgworkerd with a FATAL naming the function, as an error in
 * _PG_init stops PostgreSQL's postmaster. Kept out of c-tests/compat/
 * proper, whose modules the census test requires to run to their end.
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	elog(LOG, "cxm database %s", get_database_name(1));
}
