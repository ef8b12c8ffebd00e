/*
 * sl_nowhere.c -- a module that references a function no library defines:
 * it must fail to load with the dynamic linker's "undefined symbol" under
 * bgworkerd as under PostgreSQL, after the server's libraries have been
 * tried (tests/server_libraries_postgresql.rs).
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

extern int	sl_defined_nowhere(void);

void
_PG_init(void)
{
	elog(LOG, "sl: nowhere %d", sl_defined_nowhere());
}
