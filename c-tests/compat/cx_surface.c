/*
 * cx_surface.c -- a module using PostgreSQL's surface beyond the runtime
 * proper, as real extensions do: its _PG_init registers transaction,
 * invalidation and resource-release callbacks, a relation option kind and
 * an option, and chains into executor and utility hooks; its worker reads
 * server variables and then calls a function that needs the database
 * server, which ends it with a FATAL naming that function.
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxs2_main(Datum main_arg);

static ExecutorStart_hook_type prev_executor_start;
/* A string setting's variable that starts out as a literal, as in many
 * real modules: defining the setting must not free it. */
static char *cxs2_text = "literal";
static ProcessUtility_hook_type prev_process_utility;

static void
xact_cb(XactEvent event, void *arg)
{
	(void) event;
	(void) arg;
	elog(LOG, "cxs2 xact callback fired");
}

static void
subxact_cb(SubXactEvent event, SubTransactionId a, SubTransactionId b, void *arg)
{
	(void) event;
	(void) a;
	(void) b;
	(void) arg;
	elog(LOG, "cxs2 subxact callback fired");
}

static void
relcache_cb(Datum arg, Oid relid)
{
	(void) arg;
	(void) relid;
	elog(LOG, "cxs2 relcache callback fired");
}

static void
syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	(void) arg;
	(void) cacheid;
	(void) hashvalue;
	elog(LOG, "cxs2 syscache callback fired");
}

static void
release_cb(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	(void) phase;
	(void) isCommit;
	(void) isTopLevel;
	(void) arg;
	elog(LOG, "cxs2 release callback fired");
}

static void
executor_start(QueryDesc *queryDesc, int eflags)
{
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
cxs2_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxs2 worker: SPI_processed=" UINT64_FORMAT " SPI_tuptable=%s ExecutorStart_hook=%s",
		 SPI_processed, SPI_tuptable ? "set" : "NULL",
		 ExecutorStart_hook == executor_start ? "ours" : "other");
	elog(LOG, "cxs2 settings: work_mem=%d maintenance_work_mem=%d MaxConnections=%d XactIsoLevel=%d application_name=\"%s\" DateStyle=%d",
		 work_mem, maintenance_work_mem, MaxConnections, XactIsoLevel,
		 application_name ? application_name : "(null)", DateStyle);
	elog(LOG, "cxs2 text=%s", cxs2_text);
	elog(LOG, "cxs2 max_worker_processes %s", GetConfigOptionByName("max_worker_processes", NULL, false));
	pgstat_report_appname("cxs2");
	pgstat_report_activity(STATE_RUNNING, "cxs2 activity");
	elog(LOG, "cxs2 pgstat_report_stat %ld", pgstat_report_stat(true));
	pgstat_report_activity(STATE_IDLE, NULL);
	elog(LOG, "cxs2 user %u", GetUserId());
	elog(LOG, "cxs2 not reached");
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	relopt_kind kind;

	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("cxs2.text", "test", NULL, &cxs2_text, "boot",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	RegisterXactCallback(xact_cb, NULL);
	RegisterSubXactCallback(subxact_cb, NULL);
	CacheRegisterRelcacheCallback(relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, syscache_cb, (Datum) 0);
	RegisterResourceReleaseCallback(release_cb, NULL);
	kind = add_reloption_kind();
	add_int_reloption(kind, "cxs2_fill", "test option", 10, 1, 100, AccessExclusiveLock);
	elog(LOG, "cxs2 reloption kind %d, then %d", (int) kind, (int) add_reloption_kind());
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = executor_start;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = NULL;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_surface");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxs2_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxs2 worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxs2");
	RegisterBackgroundWorker(&worker);
}
