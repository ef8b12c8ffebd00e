/*
 * bench_core.h
 *		The measurements of the background-worker benchmark, shared by the
 *		two programs that run them: bgw_bench.c (a host attached to
 *		bgworkerd through libbgworker) and pg15/bgw_bench_pg15.c (a function
 *		in a real PostgreSQL 15 backend).  Both register the same workers
 *		(bench_worker_main in bgw_bench_worker.so) through the same
 *		bgworker.h calls and time them with the same code, so the two sets
 *		of figures have one definition (see bgw_bench.c's header comment).
 *
 * The including file includes its bgworker.h (libbgworker's or
 * PostgreSQL's), <math.h>, <fcntl.h>, <sys/mman.h>, <string.h>, <errno.h>
 * and bgw_bench_stamp.h first, and then defines the hooks declared below.
 * Everything here is static: one copy per program, single-threaded.
 */
#ifndef BGW_BENCH_CORE_H
#define BGW_BENCH_CORE_H

/* --- hooks: defined by the including file --- */

/* zeroed memory; never returns NULL */
static void *xmalloc(size_t n);
static void bench_free(void *p);
/* release a handle RegisterDynamicBackgroundWorker returned */
static void bench_free_handle(BackgroundWorkerHandle *h);
/* give up: terminate live_handles, remove_stamp_file(), report, never return */
static void fail(const char *fmt,...) __attribute__((noreturn, format(printf, 1, 2)));
/* one "name value unit" result line */
static void bench_emit_line(const char *line);
/* called whenever a phase starts or makes progress */
static void bench_watchdog_rearm(void);
/* why the last RegisterDynamicBackgroundWorker failed, or "" */
static const char *bench_register_failure_reason(void);

static const char *module_path;

/* sleeping workers to terminate if the run fails half-way */
static BackgroundWorkerHandle **live_handles;
static int	n_live_handles;
static char stamp_name[BENCH_STAMP_NAMELEN];	/* /dev/shm file, if any */

/* what the run is doing, for error messages */
static const char *volatile phase = "startup";

/* ------------------------------------------------------------------------
 * Small utilities
 * ------------------------------------------------------------------------
 */
static void
nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
remove_stamp_file(void)
{
	char		path[32 + BENCH_STAMP_NAMELEN];

	if (stamp_name[0] == '\0')
		return;
	snprintf(path, sizeof(path), "/dev/shm/%s", stamp_name);
	unlink(path);
	stamp_name[0] = '\0';
}

static void
enter_phase(const char *name)
{
	phase = name;
	bench_watchdog_rearm();
}

/* re-arm the watchdog: called outside timed sections, or rarely inside */
static inline void
progress(void)
{
	bench_watchdog_rearm();
}

/* --- statistics and output --- */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of sorted v[0..n-1], p in [0,1] */
static double
percentile(const double *v, int n, double p)
{
	int			rank = (int) ceil(p * n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static void
put(const char *name, double value, const char *unit)
{
	char		line[256];

	if (strcmp(unit, "count") == 0)
		snprintf(line, sizeof(line), "%s %lld %s", name, (long long) llround(value), unit);
	else
		snprintf(line, sizeof(line), "%s %.1f %s", name, value, unit);
	bench_emit_line(line);
}

/* <prefix>_{min,p50,p99,max} in us; sorts v */
static void
put_dist(const char *prefix, double *v, int n, double *p50_out)
{
	char		name[128];

	qsort(v, n, sizeof(double), cmp_double);
	snprintf(name, sizeof(name), "%s_min", prefix);
	put(name, v[0], "us");
	snprintf(name, sizeof(name), "%s_p50", prefix);
	put(name, percentile(v, n, 0.50), "us");
	snprintf(name, sizeof(name), "%s_p99", prefix);
	put(name, percentile(v, n, 0.99), "us");
	snprintf(name, sizeof(name), "%s_max", prefix);
	put(name, v[n - 1], "us");
	if (p50_out)
		*p50_out = percentile(v, n, 0.50);
}

/* ------------------------------------------------------------------------
 * Worker helpers
 * ------------------------------------------------------------------------
 */
static void
copy_field(char *dst, const char *src)
{
	snprintf(dst, BGW_MAXLEN, "%s", src);
}

static void
fill_worker(BackgroundWorker *w, int arg)
{
	char		name[BGW_MAXLEN];

	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	copy_field(w->bgw_library_name, module_path);
	copy_field(w->bgw_function_name, "bench_worker_main");
	snprintf(name, sizeof(name), "bgw_bench worker (arg %d)", arg);
	copy_field(w->bgw_name, name);
	copy_field(w->bgw_type, "bgw_bench");
	w->bgw_main_arg = (Datum) arg;
	w->bgw_notify_pid = getpid();
}

static BackgroundWorkerHandle *
register_worker(BackgroundWorker *w)
{
	BackgroundWorkerHandle *h = NULL;

	if (!RegisterDynamicBackgroundWorker(w, &h))
	{
		const char *why = bench_register_failure_reason();

		fail("could not register background worker: %s",
			 why && *why ? why : "(no reason given)");
	}
	return h;
}

static void
wait_started(BackgroundWorkerHandle *h)
{
	pid_t		pid = 0;
	BgwHandleStatus st = WaitForBackgroundWorkerStartup(h, &pid);

	if (st != BGWH_STARTED)
		fail("%s: background worker did not start (status %d)", phase, (int) st);
}

static void
wait_stopped(BackgroundWorkerHandle *h)
{
	BgwHandleStatus st = WaitForBackgroundWorkerShutdown(h);

	if (st != BGWH_STOPPED)
		fail("%s: background worker did not stop (status %d%s)", phase, (int) st,
			 st == BGWH_POSTMASTER_DIED ? ": bgworkerd died" : "");
}

/* ------------------------------------------------------------------------
 * latency(n): one worker at a time, two passes of n (see the file header)
 * ------------------------------------------------------------------------
 */
typedef struct LatencyResult
{
	double		start_p50;
	double		stop_p50;
} LatencyResult;

static void
bench_latency(int n, int report, LatencyResult *res)
{
	double	   *start = xmalloc(sizeof(double) * n);
	double	   *stop = xmalloc(sizeof(double) * n);
	double	   *entry = xmalloc(sizeof(double) * n);
	double	   *stop_idle = xmalloc(sizeof(double) * n);
	char		path[32 + BENCH_STAMP_NAMELEN];
	volatile double *stamps;
	size_t		len = sizeof(double) * n;
	int			fd;

	/* pass A: start, then stop at once */
	enter_phase("latency (start/stop)");
	for (int i = 0; i < n; i++)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h;
		double		t0,
					t1,
					t2;

		fill_worker(&w, 1);
		t0 = bench_now_us();
		h = register_worker(&w);
		live_handles = &h;
		n_live_handles = 1;
		wait_started(h);
		t1 = bench_now_us();
		TerminateBackgroundWorker(h);
		wait_stopped(h);
		t2 = bench_now_us();

		start[i] = t1 - t0;
		stop[i] = t2 - t1;
		n_live_handles = 0;
		bench_free_handle(h);
		progress();
	}

	/* pass B: wait until the worker is up and asleep, then stop it */
	enter_phase("latency (main entry/stop idle)");
	snprintf(stamp_name, sizeof(stamp_name), "bgw_bench.%d", (int) getpid());
	snprintf(path, sizeof(path), "/dev/shm/%s", stamp_name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		fail("could not create %s: %s", path, strerror(errno));
	if (ftruncate(fd, (off_t) len) != 0)
		fail("ftruncate %s: %s", path, strerror(errno));
	stamps = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (stamps == MAP_FAILED)
		fail("mmap %s: %s", path, strerror(errno));
	close(fd);

	for (int i = 0; i < n; i++)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h;
		BenchStampSlot slot;
		double		t0,
					t1,
					deadline;

		fill_worker(&w, 1);
		memset(&slot, 0, sizeof(slot));
		slot.magic = BENCH_STAMP_MAGIC;
		slot.index = i;
		memcpy(slot.name, stamp_name, sizeof(slot.name));
		memcpy(w.bgw_extra, &slot, sizeof(slot));

		t0 = bench_now_us();
		h = register_worker(&w);
		live_handles = &h;
		n_live_handles = 1;
		wait_started(h);
		/* poll in 50 us naps until the worker has stamped */
		deadline = bench_now_us() + 10e6;
		while (stamps[i] == 0)
		{
			if (bench_now_us() > deadline)
			{
				fail("worker %d did not reach bench_worker_main in 10 s", i);
			}
			nap_us(50);
		}
		nap_us(200);			/* let it settle into sigsuspend */

		t1 = bench_now_us();
		TerminateBackgroundWorker(h);
		wait_stopped(h);

		stop_idle[i] = bench_now_us() - t1;
		entry[i] = stamps[i] - t0;
		n_live_handles = 0;
		bench_free_handle(h);
		progress();
	}
	munmap((void *) stamps, len);
	remove_stamp_file();

	if (report)
	{
		put("latency_n", n, "count");
		put_dist("latency_start", start, n, &res->start_p50);
		put_dist("latency_stop", stop, n, &res->stop_p50);
		put_dist("latency_main_entry", entry, n, NULL);
		put_dist("latency_stop_idle", stop_idle, n, NULL);
	}
	bench_free(start);
	bench_free(stop);
	bench_free(entry);
	bench_free(stop_idle);
}

/* ------------------------------------------------------------------------
 * churn(n, conc): n exit-at-once workers, at most conc outstanding, the
 * oldest retired first.  Returns the rate in workers/s.
 * ------------------------------------------------------------------------
 */
static double
bench_churn(int n, int conc)
{
	BackgroundWorkerHandle **ring = xmalloc(sizeof(*ring) * conc);
	int			head = 0,
				outstanding = 0,
				launched = 0,
				retired = 0;
	double		t0,
				ms,
				rate;
	char		name[64];

	snprintf(name, sizeof(name), "churn c%d", conc);
	enter_phase(name);
	t0 = bench_now_us();
	while (retired < n)
	{
		while (launched < n && outstanding < conc)
		{
			BackgroundWorker w;

			fill_worker(&w, 0);
			ring[(head + outstanding) % conc] = register_worker(&w);
			outstanding++;
			launched++;
		}
		wait_stopped(ring[head]);
		bench_free_handle(ring[head]);
		head = (head + 1) % conc;
		outstanding--;
		retired++;
		if ((retired & 63) == 0)
			progress();
	}
	ms = (bench_now_us() - t0) / 1e3;
	rate = n / (ms / 1e3);

	snprintf(name, sizeof(name), "churn_c%d_n", conc);
	put(name, n, "count");
	snprintf(name, sizeof(name), "churn_c%d_elapsed", conc);
	put(name, ms, "ms");
	snprintf(name, sizeof(name), "churn_c%d_rate", conc);
	put(name, rate, "workers/s");
	bench_free(ring);
	return rate;
}

/* ------------------------------------------------------------------------
 * burst(k): register k sleeping workers back to back, wait for all to
 * start, terminate all, wait for all to stop.
 * ------------------------------------------------------------------------
 */
typedef struct BurstResult
{
	double		all_started_ms;
	double		all_stopped_ms;
} BurstResult;

static void
bench_burst(int k, BurstResult *res)
{
	BackgroundWorkerHandle **h = xmalloc(sizeof(*h) * k);
	double		t0,
				t_reg,
				t_first,
				t_all,
				t_term,
				t_stop;
	char		name[64];

	enter_phase("burst");
	live_handles = h;
	n_live_handles = k;
	t0 = bench_now_us();
	for (int i = 0; i < k; i++)
	{
		BackgroundWorker w;

		fill_worker(&w, 1);
		h[i] = register_worker(&w);
	}
	t_reg = bench_now_us();
	wait_started(h[0]);
	t_first = bench_now_us();
	for (int i = 1; i < k; i++)
		wait_started(h[i]);
	t_all = bench_now_us();

	for (int i = 0; i < k; i++)
		TerminateBackgroundWorker(h[i]);
	t_term = bench_now_us();
	for (int i = 0; i < k; i++)
		wait_stopped(h[i]);
	t_stop = bench_now_us();

	n_live_handles = 0;
	for (int i = 0; i < k; i++)
		bench_free_handle(h[i]);
	bench_free(h);

	snprintf(name, sizeof(name), "burst_k%d_register_all", k);
	put(name, (t_reg - t0) / 1e3, "ms");
	snprintf(name, sizeof(name), "burst_k%d_first_started", k);
	put(name, (t_first - t0) / 1e3, "ms");
	snprintf(name, sizeof(name), "burst_k%d_all_started", k);
	put(name, (t_all - t0) / 1e3, "ms");
	snprintf(name, sizeof(name), "burst_k%d_terminate_all", k);
	put(name, (t_term - t_all) / 1e3, "ms");
	snprintf(name, sizeof(name), "burst_k%d_all_stopped", k);
	put(name, (t_stop - t_all) / 1e3, "ms");
	res->all_started_ms = (t_all - t0) / 1e3;
	res->all_stopped_ms = (t_stop - t_all) / 1e3;
}

/* ------------------------------------------------------------------------
 * The whole run after the floor: a latency warm-up (not reported), then
 * latency(lat_n), churn(churn_n, c) for each c of churn_list (numbers
 * separated by spaces or commas), burst(burst_k).
 * ------------------------------------------------------------------------
 */
static void
bench_run(int lat_n, int churn_n, const char *churn_list, int burst_k,
		  LatencyResult *lat, double *churn_c1, BurstResult *burst)
{
	bench_latency(10, 0, lat);	/* warm-up, not reported */
	bench_latency(lat_n, 1, lat);

	for (const char *p = churn_list; *p;)
	{
		char	   *end;
		long		conc = strtol(p, &end, 10);
		double		rate;

		if (end == p)
		{
			if (*p == ' ' || *p == ',')
			{
				p++;
				continue;
			}
			fail("bad concurrency list \"%s\"", churn_list);
		}
		if (conc < 1 || conc > 100000)
			fail("bad concurrency %ld", conc);
		rate = bench_churn(churn_n, (int) conc);
		if (conc == 1)
			*churn_c1 = rate;
		p = end;
	}

	bench_burst(burst_k, burst);
}

#endif							/* BGW_BENCH_CORE_H */
