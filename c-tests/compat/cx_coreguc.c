/*
 * cx_coreguc.c -- PostgreSQL's own settings from a background worker:
 * their boot values, as variables and by name, SetConfigOption and
 * set_config_option updating the C variables behind them, and the refusals
 * (invalid value, out of range, wrong context) at a WARNING the caller asks
 * for.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "utils/guc.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxc_main(Datum main_arg);

static void
show(const char *name)
{
	const char *v = GetConfigOption(name, true, false);
	const char *varname = NULL;
	char	   *by_name = GetConfigOptionByName(name, &varname, true);

	elog(LOG, "cxc %s: GetConfigOption=%s ByName=%s varname=%s", name,
		 v ? v : "(null)", by_name ? by_name : "(null)", varname ? varname : "(null)");
}

void
cxc_main(Datum main_arg)
{
	int			r;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxc boot: work_mem=%d StatementTimeout=%d DefaultXactIsoLevel=%d application_name=%s",
		 work_mem, StatementTimeout, DefaultXactIsoLevel,
		 application_name ? application_name : "(null)");
	show("work_mem");
	show("application_name");
	show("statement_timeout");
	show("default_transaction_isolation");
	show("shared_buffers");
	show("Work_Mem");
	/*
	 * No value: NULL in 15, "" from 16 on (by name it would check a
	 * superuser-only privilege, which needs the catalog).
	 */
	elog(LOG, "cxc external_pid_file: GetConfigOption=%s",
		 GetConfigOption("external_pid_file", true, false) ? "a string" : "(null)");
	show("no_such_setting");

	SetConfigOption("application_name", "cxc app", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("work_mem", "8MB", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("statement_timeout", "90s", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("default_transaction_isolation", "serializable", PGC_USERSET, PGC_S_SESSION);
	elog(LOG, "cxc set: work_mem=%d StatementTimeout=%d DefaultXactIsoLevel=%d application_name=%s",
		 work_mem, StatementTimeout, DefaultXactIsoLevel, application_name);
	show("work_mem");
	show("application_name");
	show("statement_timeout");
	show("default_transaction_isolation");

	r = set_config_option("work_mem", "lots", PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, true, WARNING, false);
	elog(LOG, "cxc invalid value: %d, work_mem=%d", r, work_mem);
	r = set_config_option("work_mem", "10", PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, true, WARNING, false);
	elog(LOG, "cxc out of range: %d, work_mem=%d", r, work_mem);
	r = set_config_option("shared_buffers", "1GB", PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, true, WARNING, false);
	elog(LOG, "cxc postmaster setting: %d", r);
	r = set_config_option("no_such_setting", "1", PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, true, WARNING, false);
	elog(LOG, "cxc unknown setting: %d", r);
	r = set_config_option("work_mem", "1GB", PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, false, WARNING, false);
	elog(LOG, "cxc check only: %d, work_mem=%d", r, work_mem);
	r = set_config_option("work_mem", NULL, PGC_USERSET, PGC_S_SESSION,
						  GUC_ACTION_SET, true, WARNING, false);
	elog(LOG, "cxc reset: %d, work_mem=%d", r, work_mem);

	PG_TRY();
	{
		SetConfigOption("work_mem", "-1", PGC_USERSET, PGC_S_SESSION);
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxc caught: %s", e->message);
	}
	PG_END_TRY();
	elog(LOG, "cxc done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_coreguc", "cxc_main", "cxc worker", "cxc");
}
