/*
 * r18_module.c -- the registrations of PostgreSQL 18 that modules make in
 * _PG_init (pg_stat_plans' custom cumulative statistics kind,
 * pg_overexplain's EXPLAIN extension and options), run the same way under
 * bgworkerd and under a real PostgreSQL 18 server
 * (tests/register_pg18_postgresql.rs compares the "r18:" lines and the
 * "registered custom cumulative statistics" LOG lines).
 *
 * _PG_init registers two variable-numbered kinds and a fixed-numbered one
 * (whose shared memory its startup hook and the worker read, initialized by
 * its init_shmem_cb), then tries each
 * registration PostgreSQL refuses (no name, an ID out of range, a fixed
 * kind without a shared size, an ID taken, a name taken in another case),
 * logging each ERROR; gets EXPLAIN extension IDs (the same name twice) and
 * registers options (one twice). A worker then gets the IDs again and
 * tries a registration outside shared_preload_libraries.
 */
#include "postgres.h"

#if PG_VERSION_NUM >= 180000
#include "commands/explain_state.h"
#endif
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 180000
#include "utils/pgstat_internal.h"

#include "tagged_catch.h"
#endif

PG_MODULE_MAGIC;

#if PG_VERSION_NUM >= 180000

void		_PG_init(void);
PGDLLEXPORT void r18_main(Datum arg);

static const PgStat_KindInfo kind_var = {
	.name = "r18_var",
	.fixed_amount = false,
	.shared_size = 64,
};
static const PgStat_KindInfo kind_var2 = {
	.name = "r18_var2",
	.fixed_amount = false,
	.shared_size = 32,
};
/* A fixed-numbered kind: its shared memory is laid out, and init_shmem_cb
 * called on it, before shmem_startup_hook. */
typedef struct FixedData
{
	LWLock		lock;
	int			marker;
} FixedData;

static void
fixed_init_shmem(void *stats)
{
	FixedData  *d = stats;

	LWLockInitialize(&d->lock, LWLockNewTrancheId());
	d->marker = 777;
}

static void
fixed_reset_all(TimestampTz ts)
{
	(void) ts;
}

static void
fixed_snapshot(void)
{
}

static const PgStat_KindInfo kind_fixed = {
	.name = "r18_fixed",
	.fixed_amount = true,
	.write_to_file = false,
	.shared_size = sizeof(FixedData),
	.init_shmem_cb = fixed_init_shmem,
	.reset_all_cb = fixed_reset_all,
	.snapshot_cb = fixed_snapshot,
};

static shmem_startup_hook_type prev_startup = NULL;

static void
r18_startup(void)
{
	FixedData  *d;

	if (prev_startup)
		prev_startup();
	d = pgstat_get_custom_shmem_data(26);
	elog(LOG, "r18: startup: fixed kind's shared memory marker %d, %s the main region",
		 d->marker, ShmemAddrIsValid(d) ? "in" : "not in");
}

static const PgStat_KindInfo kind_unnamed = {
	.name = "",
	.shared_size = 8,
};
static const PgStat_KindInfo kind_fixed_nosize = {
	.name = "r18_nosize",
	.fixed_amount = true,
	.shared_size = 0,
};
static const PgStat_KindInfo kind_other = {
	.name = "r18_other",
	.shared_size = 8,
};
static const PgStat_KindInfo kind_var_upper = {
	.name = "R18_VAR",
	.shared_size = 8,
};

static void
option_a(ExplainState *es, DefElem *opt, ParseState *pstate)
{
	(void) es;
	(void) opt;
	(void) pstate;
}

static void
option_b(ExplainState *es, DefElem *opt, ParseState *pstate)
{
	(void) es;
	(void) opt;
	(void) pstate;
}

#define CATCH(what, stmt) TAGGED_CATCH("r18", what, stmt)

static void
explain_ids(const char *where)
{
	elog(LOG, "r18: %s: explain ids alpha %d beta %d alpha %d", where,
		 GetExplainExtensionId("r18_alpha"), GetExplainExtensionId("r18_beta"),
		 GetExplainExtensionId("r18_alpha"));
}

void
r18_main(Datum arg)
{
	(void) arg;
	explain_ids("worker");
	elog(LOG, "r18: worker: fixed kind's shared memory marker %d",
		 ((FixedData *) pgstat_get_custom_shmem_data(26))->marker);
	CATCH("worker registers a kind", pgstat_register_kind(31, &kind_other));
	elog(LOG, "r18: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	CATCH("register var 30", pgstat_register_kind(30, &kind_var));
	CATCH("register var2 24", pgstat_register_kind(24, &kind_var2));
	CATCH("register fixed 26", pgstat_register_kind(26, &kind_fixed));
	CATCH("register unnamed 28", pgstat_register_kind(28, &kind_unnamed));
	CATCH("register other 23", pgstat_register_kind(23, &kind_other));
	CATCH("register other 33", pgstat_register_kind(33, &kind_other));
	CATCH("register fixed without size 28", pgstat_register_kind(28, &kind_fixed_nosize));
	CATCH("register other 30", pgstat_register_kind(30, &kind_other));
	CATCH("register R18_VAR 27", pgstat_register_kind(27, &kind_var_upper));
	explain_ids("_PG_init");
	CATCH("explain option a", RegisterExtensionExplainOption("r18_a", option_a));
	CATCH("explain option b", RegisterExtensionExplainOption("r18_b", option_b));
	CATCH("explain option a again", RegisterExtensionExplainOption("r18_a", option_b));

	prev_startup = shmem_startup_hook;
	shmem_startup_hook = r18_startup;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "r18_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "r18_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "r18 worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "r18 worker");
	RegisterBackgroundWorker(&w);
}

#else							/* PG_VERSION_NUM < 180000 */

/* Before 18 there are no such registrations: nothing to run (the file still
 * compiles with 15's headers, as tests/c_warnings.rs checks). */
void		_PG_init(void);

void
_PG_init(void)
{
}

#endif
