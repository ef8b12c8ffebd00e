/*
 * bgw_bench_dp.c
 *		The data-plane benchmark: shm_mq throughput through PostgreSQL's own
 *		test_shm_mq (src/test/modules/test_shm_mq, built unchanged with
 *		PGXS), a plain memcpy of the same bytes, and dsm_create / dsm_attach
 *		/ dsm_detach latency.  One module, run on both sides by the same
 *		code: under bgworkerd as a static worker (bgw_bench_dp_main), in a
 *		real PostgreSQL 15 backend as a SQL function (bgw_bench_dp_run).
 *		bench/run.sh drives both and prints them side by side.
 *
 * Throughput: test_shm_mq_pipelined(QUEUE, message, COUNT, WORKERS, false),
 * called through a real FunctionCallInfo exactly as SELECT calls it: the
 * registrant sends COUNT messages of LEN bytes into a chain of WORKERS
 * workers (each receives and resends every message) and receives them back,
 * sending and receiving without blocking.  The time of one call includes
 * test_shm_mq's setup (segment, queues, starting the workers and waiting
 * for them to attach) as SELECT's does; the counts keep that a small part.
 *   dp_mq_<LEN>b_w<WORKERS>_rate   messages/s  (COUNT / time)
 *   dp_mq_<LEN>b_w<WORKERS>_mbs    MB/s        (COUNT * LEN / time / 2^20)
 *   dp_mq_<LEN>b_w<WORKERS>_ms     ms          (the call's time)
 * memcpy: COUNT copies of one 1 MB buffer into another, the bytes the
 * 1 MB case sends (dp_memcpy_1048576b_x<COUNT>_ms), and per round the
 * ratio of the 1 MB one-worker case to it (dp_ratio_mq_1048576b_w1_to_memcpy).
 *
 * DSM: per round, DSM_N cycles of each, per size (64 KB and 1 MB), the mean:
 *   dp_dsm_create_detach_<K>k_us   dsm_create then dsm_detach (which
 *                                  destroys the segment: the last reference)
 *   dp_dsm_attach_detach_<K>k_us   dsm_attach + dsm_detach of a segment
 *                                  kept alive by dsm_pin_segment
 *   dp_dsm_create_attach_detach_<K>k_us   the two summed (one full life)
 *
 * Cases: "LEN:COUNT:WORKERS" separated by spaces.  Every figure is recorded
 * once a round and printed with bench_core.h's report (name MEDIAN unit min
 * MIN max MAX rounds N), after one untimed warm-up call.
 *
 * Under bgworkerd (_PG_init registers the worker only when BGW_BENCH_DP_OUT
 * is set): BGW_BENCH_DP_LIB (test_shm_mq.so's path), BGW_BENCH_DP_CASES,
 * BGW_BENCH_DP_QUEUE, BGW_BENCH_DP_ROUNDS, BGW_BENCH_DP_DSM_N; the lines
 * go to BGW_BENCH_DP_OUT (written whole at the end, through a rename), and
 * an ERROR ends the worker with the message in the daemon's log.
 *
 * In PostgreSQL 15 (bench/run.sh creates it from this module's path):
 *	 CREATE FUNCTION bgw_bench_dp_run(lib text, cases text, queue int8,
 *									  rounds int, dsm_n int)
 *	 RETURNS SETOF text AS '<dir>/bgw_bench_dp.so' LANGUAGE C STRICT;
 */
#include "postgres.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "bgw_bench_stamp.h"
#include "bench_core.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void bgw_bench_dp_main(Datum arg);

PG_FUNCTION_INFO_V1(bgw_bench_dp_run);

#define DP_MAX_CASES	16
#define DP_MEMCPY_LEN	(1024 * 1024)

typedef struct DpCase
{
	int			len;
	int			count;
	int			workers;
} DpCase;

typedef struct DpConfig
{
	const char *lib;
	DpCase		cases[DP_MAX_CASES];
	int			n_cases;
	int64		queue;
	int			rounds;
	int			dsm_n;
} DpConfig;

/* where bench_emit_line puts lines: one of the two, for one run */
static ReturnSetInfo *out_rsinfo;
static StringInfoData out_buf;

/* --- bench_core.h's hooks (its worker benchmark is not used here) --- */
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

static void
bench_free_handle(BackgroundWorkerHandle *h)
{
	pfree(h);
}

static void
fail(const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ereport(ERROR, (errmsg("bgw_bench_dp: %s", msg)));
	pg_unreachable();
}

static void
bench_emit_line(const char *line)
{
	if (out_rsinfo != NULL)
	{
		Datum		values[1];
		bool		nulls[1] = {false};

		values[0] = CStringGetTextDatum(line);
		tuplestore_putvalues(out_rsinfo->setResult, out_rsinfo->setDesc, values, nulls);
	}
	else
		appendStringInfo(&out_buf, "%s\n", line);
}

static void
bench_watchdog_rearm(void)
{
	CHECK_FOR_INTERRUPTS();
}

static const char *
bench_register_failure_reason(void)
{
	return "";
}

/* --- the measurements --- */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
parse_cases(DpConfig *cfg, const char *spec)
{
	char	   *list = pstrdup(spec),
			   *save = NULL;

	cfg->n_cases = 0;
	for (char *c = strtok_r(list, " ", &save); c; c = strtok_r(NULL, " ", &save))
	{
		DpCase	   *dc;

		if (cfg->n_cases == DP_MAX_CASES)
			fail("more than %d cases", DP_MAX_CASES);
		dc = &cfg->cases[cfg->n_cases++];
		if (sscanf(c, "%d:%d:%d", &dc->len, &dc->count, &dc->workers) != 3 ||
			dc->len < 1 || dc->len > 64 * 1024 * 1024 || dc->count < 1 ||
			dc->workers < 1 || dc->workers > 8)
			fail("bad case \"%s\" (LEN:COUNT:WORKERS, 1 <= WORKERS <= 8)", c);
	}
	if (cfg->n_cases == 0)
		fail("no cases");
}

/* test_shm_mq_pipelined(queue, message, count, workers, false): its time in us */
static double
run_pipelined(PGFunction pipelined, int64 queue, text *message, int count, int workers)
{
	LOCAL_FCINFO(fcinfo, 5);
	MemoryContext cx = AllocSetContextCreate(CurrentMemoryContext, "bgw_bench_dp call",
											 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cx);
	double		t0,
				t1;

	InitFunctionCallInfoData(*fcinfo, NULL, 5, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = Int64GetDatum(queue);
	fcinfo->args[1].value = PointerGetDatum(message);
	fcinfo->args[2].value = Int32GetDatum(count);
	fcinfo->args[3].value = Int32GetDatum(workers);
	fcinfo->args[4].value = BoolGetDatum(false);
	for (int i = 0; i < 5; i++)
		fcinfo->args[i].isnull = false;
	t0 = now_us();
	(void) pipelined(fcinfo);
	t1 = now_us();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cx);
	return t1 - t0;
}

static text *
make_message(int len)
{
	text	   *t = palloc(VARHDRSZ + len);
	char	   *d = VARDATA(t);

	SET_VARSIZE(t, VARHDRSZ + len);
	for (int k = 0; k < len; k++)
		d[k] = (char) (32 + (7 * k + len) % 95);
	return t;
}

/* COUNT copies of one 1 MB buffer into another: the time in us */
static double
run_memcpy(char *dst, const char *src, int count)
{
	double		t0 = now_us();

	for (int i = 0; i < count; i++)
	{
		memcpy(dst, src, DP_MEMCPY_LEN);
		/* the copy is observable: the compiler may not drop it */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
	}
	return now_us() - t0;
}

static void
run_dsm(int n, Size size)
{
	char		name[96];
	double		t0,
				create_us,
				attach_us;
	dsm_segment *seg;
	dsm_handle	h;
	int			k = (int) (size / 1024);

	t0 = now_us();
	for (int i = 0; i < n; i++)
	{
		seg = dsm_create(size, 0);
		dsm_detach(seg);
	}
	create_us = (now_us() - t0) / n;

	seg = dsm_create(size, 0);
	h = dsm_segment_handle(seg);
	dsm_pin_segment(seg);
	dsm_detach(seg);
	t0 = now_us();
	for (int i = 0; i < n; i++)
	{
		seg = dsm_attach(h);
		if (seg == NULL)
			fail("dsm_attach of a pinned segment returned NULL");
		dsm_detach(seg);
	}
	attach_us = (now_us() - t0) / n;
	dsm_unpin_segment(h);

	snprintf(name, sizeof(name), "dp_dsm_create_detach_%dk_us", k);
	put(name, create_us, "us");
	snprintf(name, sizeof(name), "dp_dsm_attach_detach_%dk_us", k);
	put(name, attach_us, "us");
	snprintf(name, sizeof(name), "dp_dsm_create_attach_detach_%dk_us", k);
	put(name, create_us + attach_us, "us");
}

static void
dp_run(const DpConfig *cfg)
{
	void	   *lib = dlopen(cfg->lib, RTLD_NOW | RTLD_GLOBAL);
	PGFunction	pipelined;
	text	   *messages[DP_MAX_CASES];
	char	   *src,
			   *dst;
	int			memcpy_count = 0;
	char		line[160];

	if (lib == NULL)
		fail("could not load \"%s\": %s", cfg->lib, dlerror());
	pipelined = (PGFunction) dlsym(lib, "test_shm_mq_pipelined");
	if (pipelined == NULL)
		fail("test_shm_mq_pipelined not found in \"%s\"", cfg->lib);
	for (int c = 0; c < cfg->n_cases; c++)
	{
		messages[c] = make_message(cfg->cases[c].len);
		if (cfg->cases[c].len == DP_MEMCPY_LEN && cfg->cases[c].workers == 1)
			memcpy_count = cfg->cases[c].count;
	}
	src = palloc(DP_MEMCPY_LEN);
	dst = palloc(DP_MEMCPY_LEN);
	memcpy(src, VARDATA(make_message(DP_MEMCPY_LEN)), DP_MEMCPY_LEN);
	memset(dst, 0, DP_MEMCPY_LEN);

	/* warm-up: the library's pages, the first workers, the first segments */
	recording = 0;
	(void) run_pipelined(pipelined, cfg->queue, messages[0], 100, 1);
	run_dsm(10, 64 * 1024);
	recording = 1;

	for (int r = 0; r < cfg->rounds; r++)
	{
		double		mq_1mb_w1 = 0;

		for (int c = 0; c < cfg->n_cases; c++)
		{
			const DpCase *dc = &cfg->cases[c];
			double		us;
			char		name[96];

			progress();
			us = run_pipelined(pipelined, cfg->queue, messages[c], dc->count, dc->workers);
			snprintf(name, sizeof(name), "dp_mq_%db_w%d_rate", dc->len, dc->workers);
			put(name, dc->count / (us / 1e6), "msgs/s");
			snprintf(name, sizeof(name), "dp_mq_%db_w%d_mbs", dc->len, dc->workers);
			put(name, (double) dc->count * dc->len / (1024.0 * 1024.0) / (us / 1e6), "MB/s");
			snprintf(name, sizeof(name), "dp_mq_%db_w%d_ms", dc->len, dc->workers);
			put(name, us / 1e3, "ms");
			if (dc->len == DP_MEMCPY_LEN && dc->workers == 1)
				mq_1mb_w1 = us;
		}
		if (memcpy_count > 0)
		{
			char		name[96];
			double		us = run_memcpy(dst, src, memcpy_count);

			snprintf(name, sizeof(name), "dp_memcpy_%db_x%d_ms", DP_MEMCPY_LEN, memcpy_count);
			put(name, us / 1e3, "ms");
			snprintf(name, sizeof(name), "dp_ratio_mq_%db_w1_to_memcpy", DP_MEMCPY_LEN);
			put(name, mq_1mb_w1 / us, "x");
		}
		progress();
		run_dsm(cfg->dsm_n, 64 * 1024);
		run_dsm(cfg->dsm_n, 1024 * 1024);
	}
	snprintf(line, sizeof(line), "# data plane: test_shm_mq_pipelined through a %lld-byte queue, %d rounds",
			 (long long) cfg->queue, cfg->rounds);
	bench_emit_line(line);
	report_metrics();
	if (memcpy_count > 0)
	{
		char		name[96];

		bench_emit_line("# targets (data plane)");
		snprintf(name, sizeof(name), "dp_ratio_mq_%db_w1_to_memcpy", DP_MEMCPY_LEN);
		verdict(name, "<=", 2);
	}
}

static int
bounded(int v, int lo, int hi, const char *what)
{
	if (v < lo || v > hi)
		fail("%s must be between %d and %d, not %d", what, lo, hi, v);
	return v;
}

/* SQL: the run inside a PostgreSQL backend */
Datum
bgw_bench_dp_run(PG_FUNCTION_ARGS)
{
	DpConfig	cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.lib = text_to_cstring(PG_GETARG_TEXT_PP(0));
	parse_cases(&cfg, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	cfg.queue = PG_GETARG_INT64(2);
	cfg.rounds = bounded(PG_GETARG_INT32(3), 1, BENCH_MAX_ROUNDS, "rounds");
	cfg.dsm_n = bounded(PG_GETARG_INT32(4), 1, 1000000, "dsm_n");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	out_rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	metrics = NULL;
	n_metrics = 0;
	dp_run(&cfg);
	out_rsinfo = NULL;
	return (Datum) 0;
}

static const char *
env_or_fail(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		elog(FATAL, "bgw_bench_dp: %s must be set", name);
	return v;
}

/* The worker under bgworkerd: the same run, its lines into a file. */
void
bgw_bench_dp_main(Datum arg)
{
	const char *out = env_or_fail("BGW_BENCH_DP_OUT");
	char		tmp[MAXPGPATH];
	DpConfig	cfg;
	FILE	   *f;

	(void) arg;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* dsm_create attaches its mapping to the current owner, as a statement's */
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "bgw_bench_dp");
	memset(&cfg, 0, sizeof(cfg));
	cfg.lib = env_or_fail("BGW_BENCH_DP_LIB");
	parse_cases(&cfg, env_or_fail("BGW_BENCH_DP_CASES"));
	cfg.queue = atoll(env_or_fail("BGW_BENCH_DP_QUEUE"));
	cfg.rounds = bounded(atoi(env_or_fail("BGW_BENCH_DP_ROUNDS")), 1, BENCH_MAX_ROUNDS, "rounds");
	cfg.dsm_n = bounded(atoi(env_or_fail("BGW_BENCH_DP_DSM_N")), 1, 1000000, "dsm_n");
	initStringInfo(&out_buf);
	dp_run(&cfg);

	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(out_buf.data, f) < 0 || fclose(f) != 0 || rename(tmp, out) != 0)
		elog(FATAL, "bgw_bench_dp: could not write \"%s\": %m", out);
	elog(LOG, "bgw_bench_dp: done");
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (getenv("BGW_BENCH_DP_OUT") == NULL)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "bgw_bench_dp");
	snprintf(w.bgw_function_name, sizeof(w.bgw_function_name), "bgw_bench_dp_main");
	snprintf(w.bgw_name, sizeof(w.bgw_name), "bgw_bench_dp");
	snprintf(w.bgw_type, sizeof(w.bgw_type), "bgw_bench_dp");
	RegisterBackgroundWorker(&w);
}
