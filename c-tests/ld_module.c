/*
 * ld_module.c -- a module that loads another library by "$libdir/NAME" in
 * _PG_init, as plpgsql_check loads "$libdir/plpgsql" (tests/libdir.rs):
 * the library is not in bgworkerd's own library directory but in one
 * dynamic_library_path names. A name found nowhere is PostgreSQL's ERROR,
 * caught and logged.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	const char *(*word) (void);
	MemoryContext ctx = CurrentMemoryContext;

	word = (const char *(*) (void))
		load_external_function("$libdir/ld_target", "ld_target_word", true, NULL);
	elog(LOG, "ld: ld_target says: %s", word());
	PG_TRY();
	{
		(void) load_external_function("$libdir/ld_nowhere", "f", true, NULL);
		elog(LOG, "ld: ld_nowhere loaded");
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(ctx);
		ed = CopyErrorData();
		FlushErrorState();
		elog(LOG, "ld: ld_nowhere: ERROR %s", ed->message);
	}
	PG_END_TRY();
}
