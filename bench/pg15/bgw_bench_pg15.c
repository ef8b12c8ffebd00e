/*
 * bgw_bench_pg15.c
 *		The benchmark of bench_core.h run inside a real PostgreSQL 15
 *		backend, so that bench/run.sh prints PostgreSQL 15's figures beside
 *		libbgworker's, measured in the same run by the same code: the same
 *		workers (bench_worker_main in bgw_bench_worker.so), the same
 *		bgworker.h calls, the same clocks, percentiles and metric names.
 *
 * SQL (bench/run.sh creates it from this module's absolute path):
 *
 *	 CREATE FUNCTION bgw_bench_pg15_run(module text, lat_n int, churn_n int,
 *										churn_conc text, burst_k int,
 *										rounds int, floor_fork_n int,
 *										floor_rtt_n int)
 *	 RETURNS SETOF text AS '<dir>/bgw_bench_pg15.so' LANGUAGE C STRICT;
 *
 * returns one "name MEDIAN unit min MIN max MAX rounds N" line per figure,
 * then the '#' target lines, as bgw_bench prints them (the floor, forks of
 * this backend, interleaved with the rounds in the same way).  What differs from the
 * libbgworker host is only what a backend requires: handles are palloc()ed
 * by PostgreSQL and pfree()d here, a failure is an ERROR (after the
 * workers still running have been told to stop and the stamp file removed),
 * and instead of an alarm() watchdog (a backend's SIGALRM belongs to its
 * timeouts) the run checks for interrupts, so statement_timeout bounds it.
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "bgw_bench_stamp.h"
#include "bench_core.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(bgw_bench_pg15_run);

/* where bench_emit_line puts rows: set for the duration of one call */
static ReturnSetInfo *out_rsinfo;

static void *
xmalloc(size_t n)
{
	return palloc0(n ? n : 1);
}

static void
bench_free(void *p)
{
	pfree(p);
}

/* PostgreSQL palloc()s handles in the caller's memory context */
static void
bench_free_handle(BackgroundWorkerHandle *h)
{
	pfree(h);
}

/* Stop what is still running and forget the stamp file. */
static void
release_run(void)
{
	for (int i = 0; i < n_live_handles; i++)
		if (live_handles[i] != NULL)
			TerminateBackgroundWorker(live_handles[i]);
	n_live_handles = 0;
	remove_stamp_file();
}

static void
fail(const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	release_run();
	ereport(ERROR, (errmsg("bgw_bench: %s", msg)));
	pg_unreachable();
}

static void
bench_emit_line(const char *line)
{
	Datum		values[1];
	bool		nulls[1] = {false};

	values[0] = CStringGetTextDatum(line);
	tuplestore_putvalues(out_rsinfo->setResult, out_rsinfo->setDesc, values, nulls);
}

static void
bench_watchdog_rearm(void)
{
	CHECK_FOR_INTERRUPTS();
}

static const char *
bench_register_failure_reason(void)
{
	return "no free background worker slot (max_worker_processes)";
}

static int
positive(int v, const char *what)
{
	if (v < 1 || v > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 and 1000000, not %d", what, v)));
	return v;
}

Datum
bgw_bench_pg15_run(PG_FUNCTION_ARGS)
{
	char	   *module = text_to_cstring(PG_GETARG_TEXT_PP(0));
	BenchConfig cfg = {
		.lat_n = positive(PG_GETARG_INT32(1), "lat_n"),
		.churn_n = positive(PG_GETARG_INT32(2), "churn_n"),
		.churn_list = text_to_cstring(PG_GETARG_TEXT_PP(3)),
		.burst_k = positive(PG_GETARG_INT32(4), "burst_k"),
		.rounds = positive(PG_GETARG_INT32(5), "rounds"),
		.floor_fork_n = PG_GETARG_INT32(6) > 0 ? positive(PG_GETARG_INT32(6), "floor_fork_n") : 0,
		.floor_rtt_n = PG_GETARG_INT32(7) > 0 ? positive(PG_GETARG_INT32(7), "floor_rtt_n") : 1,
	};

	if (strlen(module) >= BGW_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("module path \"%s\" does not fit in bgw_library_name (%d bytes)",
						module, BGW_MAXLEN)));
	/* SETOF text: the one-column descriptor the executor expects */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	out_rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	module_path = module;
	/* the figures live in this call's memory context */
	metrics = NULL;
	n_metrics = 0;

	PG_TRY();
	{
		bench_run(&cfg);
	}
	PG_CATCH();
	{
		release_run();
		PG_RE_THROW();
	}
	PG_END_TRY();
	out_rsinfo = NULL;
	return (Datum) 0;
}
