/*
 * cx_preload.c -- what _PG_init of modules users preload does before any
 * worker runs, as the census of those modules found it: option names kept
 * in TopMemoryContext (bloom), a custom setting whose name has no dot
 * (rum), rendezvous variables shared between modules (plugin_debugger,
 * plprofiler), EnableQueryId (pg_stat_statements), pg_bindtextdomain
 * (plpgsql, plpgsql_check), a base backup target (basebackup_to_shell),
 * SplitIdentifierString, which check hooks of list settings call
 * (pgaudit), load_external_function (plpgsql_check), and a custom WAL
 * resource manager's registration with its errors.
 * _PG_init records what it saw in static variables; the worker, forked
 * from the process that ran _PG_init, logs them with what it sees itself,
 * so that the transcript can be compared with PostgreSQL 15's.
 */
#include "postgres.h"

#include <libintl.h>
#include <limits.h>

#include "access/xlog_internal.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#else
#include "utils/queryjumble.h"
#endif
#include "utils/varlena.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

/*
 * backup/basebackup_target.h, which postgresql-server-dev-15 does not ship
 * (basebackup_to_shell is built in the source tree); bbsink is opaque here.
 */
typedef struct bbsink bbsink;
extern void BaseBackupAddTarget(char *name,
								void *(*check_detail) (char *, char *),
								bbsink *(*get_sink) (bbsink *, void *));

void		_PG_init(void);
PGDLLEXPORT void cxpl_main(Datum main_arg);

static char *cxpl_names[3];
static int	cxpl_dotless;
static int	cxpl_value = 42;
static bool cxpl_qid_before;
static bool cxpl_qid_after;
static void **cxpl_slot;
static bool cxpl_same_slot;
static bool cxpl_long_same;
static bool cxpl_other_null;

static void *
cxpl_check_detail(char *target, char *detail)
{
	(void) target;
	(void) detail;
	elog(LOG, "cxpl target check called");
	return NULL;
}

static bbsink *
cxpl_get_sink(bbsink *next, void *detail)
{
	(void) detail;
	elog(LOG, "cxpl target sink called");
	return next;
}

static char *cxpl_rmgr_errors[6];
static int	cxpl_rmgr_nerrors;

/* Register a resource manager; an ERROR is caught and kept as text. */
static bool
cxpl_rmgr(int id, const char *name)
{
	static RmgrData rmgr;
	MemoryContext cxt = CurrentMemoryContext;
	bool		ok = true;

	memset(&rmgr, 0, sizeof(rmgr));
	rmgr.rm_name = name;
	PG_TRY();
	{
		RegisterCustomRmgr((RmgrId) id, &rmgr);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		if (cxpl_rmgr_nerrors < 6)
			cxpl_rmgr_errors[cxpl_rmgr_nerrors++] =
				MemoryContextStrdup(TopMemoryContext,
									psprintf("%s | %s | %s", e->message,
											 e->detail ? e->detail : "-",
											 e->hint ? e->hint : "-"));
		FreeErrorData(e);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static void
cxpl_split(const char *input, char separator)
{
	char	   *raw = pstrdup(input);
	List	   *names = NIL;
	bool		ok = SplitIdentifierString(raw, separator, &names);
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, names)
		appendStringInfo(&out, " [%s](%d)", (char *) lfirst(lc), (int) strlen((char *) lfirst(lc)));
	elog(LOG, "cxpl split '%s' by '%c': %s, %d names:%s", input, separator,
		 ok ? "ok" : "invalid", list_length(names), out.data);
}

static void
cxpl_load(const char *file, const char *func, bool signal)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		void	   *h = NULL;
		void	   *f = (void *) load_external_function(file, func, signal, &h);

		elog(LOG, "cxpl load %s %s: %s, handle %s, lookup %s", file, func,
			 f == NULL ? "NULL" : f == (void *) cxpl_main ? "cxpl_main" : "another",
			 h ? "set" : "NULL",
			 h && lookup_external_function(h, func) == f ? "same" : "differs");
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		elog(LOG, "cxpl load %s %s caught: %s (%s)", file, func, e->message,
			 unpack_sql_state(e->sqlerrcode));
		FreeErrorData(e);
	}
	PG_END_TRY();
}

void
cxpl_main(Datum main_arg)
{
	void	  **again = find_rendezvous_variable("cxpl_shared");
	int			i;

	(void) main_arg;

	for (i = 0; i < 3; i++)
		elog(LOG, "cxpl name %d: %s in %s", i, cxpl_names[i],
			 GetMemoryChunkContext(cxpl_names[i]) == TopMemoryContext ? "TopMemoryContext" : "another context");
	elog(LOG, "cxpl dotless setting: %d", cxpl_dotless);
	elog(LOG, "cxpl query id: before %d after %d now %d compute_query_id %d",
		 cxpl_qid_before, cxpl_qid_after, IsQueryIdEnabled(), compute_query_id);
	elog(LOG, "cxpl rendezvous: same slot %d, long names share one %d, other starts NULL %d",
		 cxpl_same_slot, cxpl_long_same, cxpl_other_null);
	elog(LOG, "cxpl rendezvous in the worker: same slot %d, value %d",
		 again == cxpl_slot, *again ? *(int *) *again : -1);
	elog(LOG, "cxpl textdomain dir: %s", bindtextdomain("cx_preload-15", NULL));
	cxpl_split("  Read, WRITE ,ddl ", ',');
	cxpl_split("\"Mixed Case\", plain,\"a\"\"b\",\"\"", ',');
	cxpl_split("", ',');
	cxpl_split(" \t\n ", ',');
	cxpl_split("a,,b", ',');
	cxpl_split("a, \"unterminated", ',');
	cxpl_split("a b", ',');
	cxpl_split("a,", ',');
	cxpl_split("Schema.\"Table\" . col", '.');
	cxpl_split("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxXYZ,"
			   "\"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\"", ',');
	cxpl_rmgr(202, "cxpl_late");
	for (i = 0; i < cxpl_rmgr_nerrors; i++)
		elog(LOG, "cxpl rmgr error %d: %s", i, cxpl_rmgr_errors[i]);
	elog(LOG, "cxpl rmgr 200 exists %d named %s, 201 exists %d, 202 exists %d",
		 RmgrIdExists(200), GetRmgr(200).rm_name, RmgrIdExists(201), RmgrIdExists(202));
	cxpl_load("cx_preload", "cxpl_main", true);
	cxpl_load("cx_preload", "cxpl_nosuch", false);
	cxpl_load("cx_preload", "cxpl_nosuch", true);
	cxpl_load("cx_nosuch_library", "cxpl_main", true);
	elog(LOG, "cxpl done");
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	char		buf[16];
	char		long_a[80];
	char		long_b[80];
	void	  **other;
	int			i;

	for (i = 0; i < 3; i++)
	{
		snprintf(buf, sizeof(buf), "col%d", i + 1);
		cxpl_names[i] = MemoryContextStrdup(TopMemoryContext, buf);
	}

	DefineCustomIntVariable("cxpl_dotless", "a setting without a dot", NULL,
							&cxpl_dotless, 7, 0, INT_MAX, PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	cxpl_qid_before = IsQueryIdEnabled();
	EnableQueryId();
	cxpl_qid_after = IsQueryIdEnabled();

	cxpl_slot = find_rendezvous_variable("cxpl_shared");
	*cxpl_slot = &cxpl_value;
	cxpl_same_slot = find_rendezvous_variable("cxpl_shared") == cxpl_slot;
	/* keys are NAMEDATALEN - 1 bytes: names differing later share a slot */
	memset(long_a, 'x', sizeof(long_a));
	memset(long_b, 'x', sizeof(long_b));
	long_a[70] = 'a';
	long_b[70] = 'b';
	long_a[79] = long_b[79] = '\0';
	cxpl_long_same = find_rendezvous_variable(long_a) == find_rendezvous_variable(long_b);
	other = find_rendezvous_variable("cxpl_other");
	cxpl_other_null = other != cxpl_slot && *other == NULL;

	pg_bindtextdomain("cx_preload-15");
	BaseBackupAddTarget("cxpl", cxpl_check_detail, cxpl_get_sink);

	if (process_shared_preload_libraries_in_progress)
	{
		cxpl_rmgr(200, "cxpl_rmgr");
		cxpl_rmgr(200, "cxpl_again");
		cxpl_rmgr(201, "HEAP");
		cxpl_rmgr(201, "CXPL_RMGR");
		cxpl_rmgr(5, "cxpl_low");
		cxpl_rmgr(201, "");
	}

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_preload");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxpl_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxpl worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxpl");
	RegisterBackgroundWorker(&worker);
}
