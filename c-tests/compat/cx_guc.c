/*
 * cx_guc.c -- custom settings the way extensions define them: every kind
 * of variable, units, ranges, an enum, a check hook, the reserved prefix,
 * a reload on SIGHUP through ProcessConfigFile, and GetConfigOption /
 * SetConfigOption (an invalid value caught with PG_TRY).
 *
 * Each worker logs "cxg values: ..." at start and after every reload.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxg_main(Datum main_arg);

static int	cxg_naptime = 1000;
static bool cxg_verbose = false;
static double cxg_ratio = 0.5;
static char *cxg_label = NULL;
static int	cxg_mode = 1;
static int	cxg_slots = 4;
static int	cxg_even = 2;

static const struct config_enum_entry cxg_mode_options[] = {
	{"slow", 0, false},
	{"normal", 1, false},
	{"fast", 2, false},
	{"secret", 3, true},
	{NULL, 0, false}
};

static bool
cxg_check_even(int *newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval % 2 == 0)
		return true;
	if (*newval == 5)
	{
		/* A hook that explains itself. */
		GUC_check_errcode(ERRCODE_FEATURE_NOT_SUPPORTED);
		GUC_check_errmsg("cxg.even cannot be %d", *newval);
		GUC_check_errdetail("Only even numbers are accepted.");
		GUC_check_errhint("Try %d.", *newval + 1);
	}
	return false;
}

static int	cxg_strict = 0;

/* A check hook that raises ERROR itself, which its caller's PG_TRY sees. */
static bool
cxg_check_strict(int *newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval == 13)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cxg.strict check hook refuses %d", *newval)));
	return true;
}

static void
cxg_log_values(const char *when)
{
	elog(LOG, "cxg values (%s): naptime=%d verbose=%s ratio=%g label=%s mode=%d slots=%d even=%d show_naptime=%s",
		 when, cxg_naptime, cxg_verbose ? "on" : "off", cxg_ratio,
		 cxg_label ? cxg_label : "(null)", cxg_mode, cxg_slots, cxg_even,
		 GetConfigOption("cxg.naptime", false, false));
}

void
cxg_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	cxg_log_values("start");
	if (DatumGetInt32(main_arg) == 1)
	{
		const char *missing = GetConfigOption("cxg.nonexistent", true, false);

		elog(LOG, "cxg lookups: missing=%s max_worker_processes=%s",
			 missing ? missing : "(null)",
			 GetConfigOption("max_worker_processes", false, false));
		/* From "the file", a bad value is the postmaster's to report. */
		SetConfigOption("cxg.ratio", "7", PGC_SIGHUP, PGC_S_FILE);
		PG_TRY();
		{
			SetConfigOption("cxg.verbose", "maybe", PGC_SIGHUP, PGC_S_SESSION);
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
		}
		PG_END_TRY();
		PG_TRY();
		{
			SetConfigOption("cxg.even", "5", PGC_SIGHUP, PGC_S_SESSION);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(TopMemoryContext);
			edata = CopyErrorData();
			FlushErrorState();
			elog(LOG, "cxg check hook said: \"%s\" detail \"%s\" hint \"%s\" sqlstate %s",
				 edata->message, edata->detail, edata->hint,
				 unpack_sql_state(edata->sqlerrcode));
		}
		PG_END_TRY();
		PG_TRY();
		{
			SetConfigOption("cxg.mode", "warp", PGC_SIGHUP, PGC_S_SESSION);
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
		}
		PG_END_TRY();
		PG_TRY();
		{
			SetConfigOption("cxg.strict", "13", PGC_SIGHUP, PGC_S_SESSION);
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
		}
		PG_END_TRY();
		SetConfigOption("cxg.strict", "7", PGC_SIGHUP, PGC_S_SESSION);
		elog(LOG, "cxg strict after the refused value: %d", cxg_strict);
		SetConfigOption("cxg.label", "set-by-worker", PGC_SIGHUP, PGC_S_FILE);
		elog(LOG, "cxg after SetConfigOption: label=%s ratio=%g", cxg_label, cxg_ratio);
		GetConfigOption("cxg.nonexistent", false, false);
		elog(LOG, "cxg not reached");
	}
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			cxg_log_values("reload");
		}
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("cxg.naptime", "Nap time.", NULL, &cxg_naptime,
							1000, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("cxg.verbose", "Verbose.", NULL, &cxg_verbose,
							 false, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("cxg.ratio", "Ratio.", NULL, &cxg_ratio,
							 0.5, 0.0, 1.0, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("cxg.label", "Label.", NULL, &cxg_label,
							   "default-label", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("cxg.mode", "Mode.", NULL, &cxg_mode, 1,
							 cxg_mode_options, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("cxg.slots", "Slots.", NULL, &cxg_slots,
							4, 1, 100, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("cxg.even", "An even number.", NULL, &cxg_even,
							2, 0, 100, PGC_SIGHUP, 0, cxg_check_even, NULL, NULL);
	DefineCustomIntVariable("cxg.strict", "Refuses 13.", NULL, &cxg_strict,
							0, 0, 100, PGC_SIGHUP, 0, cxg_check_strict, NULL, NULL);
	MarkGUCPrefixReserved("cxg");

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_guc");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxg_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxg watcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxg");
	worker.bgw_main_arg = Int32GetDatum(0);
	RegisterBackgroundWorker(&worker);
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxg setter");
	worker.bgw_main_arg = Int32GetDatum(1);
	RegisterBackgroundWorker(&worker);
}
