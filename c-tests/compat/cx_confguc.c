/*
 * cx_confguc.c -- PostgreSQL's own settings given in the configuration
 * file (postgresql.conf, or bgworkerd's bgworker.conf): the values _PG_init
 * and a worker see, as C variables and by name.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxf_main(Datum main_arg);

static void
show(const char *when)
{
	/* GetConfigOption's result lasts until the next call: copy it. */
	char	   *sb = pstrdup(GetConfigOption("shared_buffers", false, false));
	const char *tz = GetConfigOption("statement_timeout", false, false);

	elog(LOG, "cxf %s: work_mem=%d maintenance_work_mem=%d StatementTimeout=%d application_name=%s shared_buffers=%s statement_timeout=%s",
		 when, work_mem, maintenance_work_mem, StatementTimeout,
		 application_name ? application_name : "(null)",
		 sb, tz ? tz : "(null)");
	pfree(sb);
}

/* The reset string of name, copied (PostgreSQL's buffer is static). */
static char *
reset_of(const char *name)
{
	const char *r = GetConfigOptionResetString(name);

	return pstrdup(r ? r : "(null)");
}

static void
show_reset(const char *when)
{
	char	   *wm = reset_of("work_mem");
	char	   *st = reset_of("statement_timeout");
	char	   *an = reset_of("application_name");
	char	   *iso = reset_of("default_transaction_isolation");
	char	   *cost = reset_of("seq_page_cost");
	char	   *seq = reset_of("enable_seqscan");

	elog(LOG, "cxf reset %s: work_mem=%s statement_timeout=%s application_name=%s default_transaction_isolation=%s seq_page_cost=%s enable_seqscan=%s; work_mem now %d",
		 when, wm, st, an, iso, cost, seq, work_mem);
}

void
cxf_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	show("worker");
	show_reset("start");
	SetConfigOption("work_mem", "8MB", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("default_transaction_isolation", "serializable", PGC_USERSET, PGC_S_SESSION);
	show_reset("after SET");
	SetConfigOption("work_mem", NULL, PGC_USERSET, PGC_S_SESSION);
	show_reset("after RESET");
	PG_TRY();
	{
		GetConfigOptionResetString("no_such_setting");
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxf caught: %s", e->message);
	}
	PG_END_TRY();
	elog(LOG, "cxf done");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	show("init");
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_confguc");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxf_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxf worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxf");
	RegisterBackgroundWorker(&worker);
}
