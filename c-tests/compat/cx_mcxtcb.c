/*
 * cx_mcxtcb.c -- memory-context reset callbacks, one of which raises
 * ERROR: the callbacks not run yet stay registered and run at the next
 * delete, as in PostgreSQL (which pops them one at a time).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/memutils.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxm_main(Datum main_arg);

static void
cxm_callback(void *arg)
{
	int			n = *(int *) arg;

	elog(LOG, "cxm callback %d", n);
	if (n == 2)
		ereport(ERROR, (errmsg("cxm callback %d fails", n)));
}

void
cxm_main(Datum main_arg)
{
	MemoryContext cxt;
	int			i;

	(void) main_arg;

	BackgroundWorkerUnblockSignals();
	cxt = AllocSetContextCreate(TopMemoryContext, "cxm", ALLOCSET_DEFAULT_SIZES);
	for (i = 1; i <= 3; i++)
	{
		MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(*cb));
		int		   *arg = MemoryContextAlloc(TopMemoryContext, sizeof(int));

		*arg = i;
		cb->func = cxm_callback;
		cb->arg = arg;
		MemoryContextRegisterResetCallback(cxt, cb);
	}
	PG_TRY();
	{
		MemoryContextDelete(cxt);
		elog(LOG, "cxm not reached");
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
	elog(LOG, "cxm deleting again");
	MemoryContextDelete(cxt);
	elog(LOG, "cxm done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_mcxtcb", "cxm_main", "cxm worker", "cxm");
}
