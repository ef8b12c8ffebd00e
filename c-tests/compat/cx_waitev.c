/*
 * cx_waitev.c -- custom wait events (PostgreSQL 17 and 18): a name
 * registered in shmem_startup_hook (the postmaster) keeps its id in a
 * worker, new names get new ids, a name of the other class, a long name
 * and the limit are ERRORs, and GetWaitEventCustomNames lists them.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

#if PG_VERSION_NUM < 170000
/* Custom wait events are 17's: built against 15 the module does nothing. */
void
_PG_init(void)
{
}
#else
PGDLLEXPORT void cxw_main(Datum main_arg);

static shmem_startup_hook_type prev_startup = NULL;

static void
cxw_startup(void)
{
	if (prev_startup)
		prev_startup();
	elog(LOG, "cxw startup: cxw_startup=%08x", WaitEventExtensionNew("cxw_startup"));
}

static bool
try_new(const char *what, const char *name, bool extension)
{
	bool		ok = true;

	PG_TRY();
	{
		uint32		info = extension ? WaitEventExtensionNew(name) :
			WaitEventInjectionPointNew(name);

		elog(LOG, "cxw %s: %08x", what, info);
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxw %s: ERROR %s (%s)", what, e->message,
			 unpack_sql_state(e->sqlerrcode));
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
list(uint32 class_id, const char *what)
{
	int			n = 0;
	char	  **names = GetWaitEventCustomNames(class_id, &n);
	StringInfoData buf;

	qsort(names, n, sizeof(char *), cmp_names);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, " %s", names[i]);
	elog(LOG, "cxw names %s: %d:%s", what, n, buf.data);
}

void
cxw_main(Datum main_arg)
{
	char		name[80];
	int			i;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	try_new("startup again", "cxw_startup", true);
	try_new("a", "cxw_a", true);
	try_new("b", "cxw_b", true);
	try_new("a again", "cxw_a", true);
	try_new("inj", "cxw_inj", false);
	try_new("inj as extension", "cxw_inj", true);
	try_new("a as injection point", "cxw_a", false);
	memset(name, 'x', 64);
	name[64] = '\0';
	try_new("64 characters", name, true);
	name[63] = '\0';
	try_new("63 characters", name, true);
	list(PG_WAIT_EXTENSION, "extension");
	list(PG_WAIT_INJECTIONPOINT, "injection point");
	for (i = 0; i < 130; i++)
	{
		char		what[32];

		snprintf(name, sizeof(name), "cxw_n%03d", i);
		snprintf(what, sizeof(what), "n%03d", i);
		/*
		 * PostgreSQL raises the limit's ERROR holding WaitEventCustomLock,
		 * which only the end of a transaction releases: stop at the first.
		 */
		if (i >= 118)
		{
			if (!try_new(what, name, true))
				break;
		}
		else
			(void) WaitEventExtensionNew(name);
	}
	elog(LOG, "cxw done");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = cxw_startup;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_waitev");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxw_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxw worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxw");
	RegisterBackgroundWorker(&worker);
}
#endif
