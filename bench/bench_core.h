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
 * PostgreSQL's), <math.h>, <fcntl.h>, <sys/mman.h>, <sys/wait.h>,
 * <string.h>, <errno.h>, <unistd.h> and bgw_bench_stamp.h first, and then defines the hooks declared below.
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

/* ------------------------------------------------------------------------
 * Rounds: every figure is recorded once per round (floors once more, see
 * bench_run) and reported at the end as its median with its spread:
 *   name MEDIAN unit min MIN max MAX rounds N
 * The machine is shared and its speed drifts between rounds, so a single
 * reading (or a ratio of two readings taken a minute apart) says little.
 * ------------------------------------------------------------------------
 */
#define BENCH_MAX_METRICS	256
#define BENCH_MAX_ROUNDS	64

typedef struct BenchMetric
{
	char		name[96];
	char		unit[16];
	int			n;
	double		v[BENCH_MAX_ROUNDS + 1];
} BenchMetric;

static BenchMetric *metrics;	/* BENCH_MAX_METRICS entries, in first-recorded order */
static int	n_metrics;
/* prepended to every recorded name (bench-scale tells its two daemons apart) */
static const char *metric_prefix = "";
/* 0 while warming up: nothing is recorded */
static int	recording = 1;

static BenchMetric *
find_metric(const char *name)
{
	for (int i = 0; i < n_metrics; i++)
		if (strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	return NULL;
}

/* Record one reading of `name` (with metric_prefix) for the current round. */
static void
put(const char *name, double value, const char *unit)
{
	char		full[sizeof(metrics[0].name)];
	BenchMetric *m;

	if (!recording)
		return;
	if (metrics == NULL)
		metrics = xmalloc(sizeof(BenchMetric) * BENCH_MAX_METRICS);
	snprintf(full, sizeof(full), "%s%s", metric_prefix, name);
	m = find_metric(full);
	if (m == NULL)
	{
		if (n_metrics == BENCH_MAX_METRICS)
			fail("more than %d figures", BENCH_MAX_METRICS);
		m = &metrics[n_metrics++];
		snprintf(m->name, sizeof(m->name), "%s", full);
		snprintf(m->unit, sizeof(m->unit), "%s", unit);
	}
	if (m->n == BENCH_MAX_ROUNDS + 1)
		fail("figure %s recorded more than %d times", full, BENCH_MAX_ROUNDS + 1);
	m->v[m->n++] = value;
}

/* The median of a metric's readings (mean of the middle two for even n). */
static double
metric_median(const BenchMetric *m)
{
	double		s[BENCH_MAX_ROUNDS + 1];

	memcpy(s, m->v, sizeof(double) * m->n);
	qsort(s, m->n, sizeof(double), cmp_double);
	return (m->n % 2) ? s[m->n / 2] : (s[m->n / 2 - 1] + s[m->n / 2]) / 2;
}

static double
metric_min(const BenchMetric *m)
{
	double		x = m->v[0];

	for (int i = 1; i < m->n; i++)
		x = m->v[i] < x ? m->v[i] : x;
	return x;
}

static double
metric_max(const BenchMetric *m)
{
	double		x = m->v[0];

	for (int i = 1; i < m->n; i++)
		x = m->v[i] > x ? m->v[i] : x;
	return x;
}

static void
fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (strcmp(unit, "count") == 0)
		snprintf(buf, len, "%lld", (long long) llround(v));
	else if (strcmp(unit, "x") == 0)
		snprintf(buf, len, "%.3f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

/* Emit every recorded figure: name MEDIAN unit min MIN max MAX rounds N */
static void
report_metrics(void)
{
	for (int i = 0; i < n_metrics; i++)
	{
		const BenchMetric *m = &metrics[i];
		char		med[32],
					lo[32],
					hi[32],
					line[256];

		fmt_value(med, sizeof(med), metric_median(m), m->unit);
		fmt_value(lo, sizeof(lo), metric_min(m), m->unit);
		fmt_value(hi, sizeof(hi), metric_max(m), m->unit);
		snprintf(line, sizeof(line), "%s %s %s min %s max %s rounds %d",
				 m->name, med, m->unit, lo, hi, m->n);
		bench_emit_line(line);
	}
}

/*
 * One target line for the figure `name`: judged on its median, with its
 * spread and the number of rounds that met it on their own.
 *   #   NAME MEDIAN (MIN..MAX) OP TARGET met|MISSED (k/N rounds)
 */
static void
verdict(const char *name, const char *op, double target)
{
	const BenchMetric *m = find_metric(name);
	int			le = (op[0] == '<'),
				k = 0;
	double		med;
	char		line[256];

	if (m == NULL || m->n == 0)
		return;
	med = metric_median(m);
	for (int i = 0; i < m->n; i++)
		k += le ? (m->v[i] <= target) : (m->v[i] >= target);
	snprintf(line, sizeof(line), "#   %-52s %9.3f (%.3f..%.3f) %s %-5g %s (%d/%d rounds)",
			 name, med, metric_min(m), metric_max(m), op, target,
			 (le ? med <= target : med >= target) ? "met" : "MISSED", k, m->n);
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
static void
bench_latency(int n)
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

	put("latency_n", n, "count");
	put_dist("latency_start", start, n, NULL);
	put_dist("latency_stop", stop, n, NULL);
	put_dist("latency_main_entry", entry, n, NULL);
	put_dist("latency_stop_idle", stop_idle, n, NULL);
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
static void
bench_burst(int k)
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
}

/* ------------------------------------------------------------------------
 * The floor: what fork, exit and a wake-up cost on this machine, from this
 * process, measured between the measurement rounds (see bench_run).
 *   floor_fork_*         fork + child _exit(0) + waitpid, sequential
 *   floor_rtt_pipe_*     fork -> child writes a byte to a pipe -> the
 *                        parent's read returns (child reaped untimed)
 * ------------------------------------------------------------------------
 */
static void
bench_reap(pid_t pid)
{
	int			st;

	while (waitpid(pid, &st, 0) != pid)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
}

/* sequential fork + _exit(0) + waitpid; returns the elapsed us */
static double
fork_loop(int n)
{
	double		t0 = bench_now_us();

	for (int i = 0; i < n; i++)
	{
		pid_t		pid = fork();

		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (pid == 0)
			_exit(0);
		bench_reap(pid);
	}
	return bench_now_us() - t0;
}

static void
floor_rtt_pipe(int n)
{
	int			fds[2];
	double	   *v = xmalloc(sizeof(double) * n);

	if (pipe(fds) != 0)
		fail("pipe: %s", strerror(errno));
	for (int i = 0; i < n; i++)
	{
		char		c = 'x';
		double		t0 = bench_now_us();
		pid_t		pid = fork();

		if (pid < 0)
			fail("fork: %s", strerror(errno));
		if (pid == 0)
			_exit(write(fds[1], &c, 1) == 1 ? 0 : 1);
		while (read(fds[0], &c, 1) != 1)
			if (errno != EINTR)
				fail("read: %s", strerror(errno));
		v[i] = bench_now_us() - t0;
		bench_reap(pid);
	}
	close(fds[0]);
	close(fds[1]);
	put_dist("floor_rtt_pipe", v, n, NULL);
	bench_free(v);
}

/* One floor reading: floor_fork_rate, floor_fork_mean, floor_rtt_pipe_*. */
static void
bench_floor(int fork_n, int rtt_n)
{
	double		us;

	enter_phase("floor");
	(void) fork_loop(100);		/* warm-up */
	us = fork_loop(fork_n);
	put("floor_fork_rate", fork_n / (us / 1e6), "forks/s");
	put("floor_fork_mean", us / fork_n, "us");
	progress();
	floor_rtt_pipe(rtt_n);
}

/* ------------------------------------------------------------------------
 * Ratios to the floor, per round
 * ------------------------------------------------------------------------
 */
static const BenchMetric *
metric_of(const char *prefix, const char *name)
{
	char		full[sizeof(metrics[0].name)];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	return find_metric(full);
}

/*
 * Record ratio_<name>_to_<floor>: for each round r, the figure of round r
 * (metric `name`, recorded once per round) divided by the mean of the two
 * floor readings around it (floor readings r and r+1), or, with `per_time`,
 * the figure divided by `scale` / that floor (a time against the time the
 * floor rate allows for `scale` forks).
 */
static void
put_floor_ratio(const char *name, const char *floor, double scale)
{
	const BenchMetric *m = metric_of(metric_prefix, name);
	const BenchMetric *f = metric_of("", floor);
	char		rname[160];

	if (m == NULL || f == NULL || f->n < m->n + 1)
		return;
	snprintf(rname, sizeof(rname), "ratio_%s_to_%s", name, floor);
	if (scale > 0)
		snprintf(rname, sizeof(rname), "ratio_%s_to_%g_forks", name, scale);
	for (int r = 0; r < m->n; r++)
	{
		double		fl = (f->v[r] + f->v[r + 1]) / 2;

		if (fl <= 0)
			continue;
		/* scale forks at fl forks/s take scale / fl s; figures are in ms */
		put(rname, scale > 0 ? m->v[r] / (scale / fl * 1e3) : m->v[r] / fl, "x");
	}
}

/* ------------------------------------------------------------------------
 * The whole run: a latency warm-up (not recorded), then `rounds` rounds of
 * latency(lat_n), churn(churn_n, c) for each c of churn_list (numbers
 * separated by spaces or commas) and burst(burst_k), with a floor reading
 * before the first round and after every round, so that each round's
 * ratios use the floor measured around it.  Then every figure and ratio is
 * reported (median and spread) and the targets are judged.
 * ------------------------------------------------------------------------
 */
typedef struct BenchConfig
{
	int			lat_n;
	int			churn_n;
	const char *churn_list;
	int			burst_k;
	int			rounds;
	int			floor_fork_n;	/* 0: no floor, no ratios */
	int			floor_rtt_n;
} BenchConfig;

/* Call fn(conc, arg) for each number of the churn list. */
static void
for_each_conc(const char *churn_list, void (*fn) (int conc, void *arg), void *arg)
{
	for (const char *p = churn_list; *p;)
	{
		char	   *end;
		long		conc = strtol(p, &end, 10);

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
		fn((int) conc, arg);
		p = end;
	}
}

static void
churn_one(int conc, void *arg)
{
	(void) bench_churn(*(int *) arg, conc);
}

static void
churn_ratio(int conc, void *arg)
{
	char		name[64];

	(void) arg;
	snprintf(name, sizeof(name), "churn_c%d_rate", conc);
	put_floor_ratio(name, "floor_fork_rate", 0);
}

/* The per-round ratios of the figures of bench_round to the floor. */
static void
bench_floor_ratios(const BenchConfig *cfg)
{
	char		name[64];

	put_floor_ratio("latency_start_p50", "floor_rtt_pipe_p50", 0);
	put_floor_ratio("latency_start_p99", "floor_rtt_pipe_p50", 0);
	put_floor_ratio("latency_stop_p50", "floor_rtt_pipe_p50", 0);
	put_floor_ratio("latency_main_entry_p50", "floor_rtt_pipe_p50", 0);
	for_each_conc(cfg->churn_list, churn_ratio, NULL);
	if (cfg->burst_k > 0)
	{
		snprintf(name, sizeof(name), "burst_k%d_all_started", cfg->burst_k);
		put_floor_ratio(name, "floor_fork_rate", cfg->burst_k);
	}
}

/* The targets (PostgreSQL-level speed, relative to this machine's floor). */
static void
bench_verdicts(const BenchConfig *cfg)
{
	char		name[128];

	bench_emit_line("# targets (medians over the rounds; each round against the floor measured around it):");
	verdict("ratio_latency_start_p99_to_floor_rtt_pipe_p50", "<=", 1.5);
	verdict("ratio_latency_stop_p50_to_floor_rtt_pipe_p50", "<=", 1.3);
	verdict("ratio_latency_main_entry_p50_to_floor_rtt_pipe_p50", "<=", 1.3);
	verdict("ratio_churn_c1_rate_to_floor_fork_rate", ">=", 0.7);
	verdict("ratio_churn_c64_rate_to_floor_fork_rate", ">=", 1.2);
	if (cfg->burst_k > 0)
	{
		snprintf(name, sizeof(name), "ratio_burst_k%d_all_started_to_%d_forks",
				 cfg->burst_k, cfg->burst_k);
		verdict(name, "<=", 1.2);
	}
}

static void
bench_round(const BenchConfig *cfg)
{
	int			churn_n = cfg->churn_n;

	bench_latency(cfg->lat_n);
	for_each_conc(cfg->churn_list, churn_one, &churn_n);
	if (cfg->burst_k > 0)
		bench_burst(cfg->burst_k);
}

/* (bench/bgw_scale.c runs rounds of its own and leaves this out) */
static void __attribute__((unused))
bench_run(const BenchConfig *cfg)
{
	if (cfg->rounds < 1 || cfg->rounds > BENCH_MAX_ROUNDS)
		fail("rounds must be between 1 and %d, not %d", BENCH_MAX_ROUNDS, cfg->rounds);
	recording = 0;
	bench_latency(10);	/* warm-up, not recorded */
	recording = 1;
	if (cfg->floor_fork_n > 0)
		bench_floor(cfg->floor_fork_n, cfg->floor_rtt_n);
	for (int r = 0; r < cfg->rounds; r++)
	{
		bench_round(cfg);
		if (cfg->floor_fork_n > 0)
			bench_floor(cfg->floor_fork_n, cfg->floor_rtt_n);
	}
	if (cfg->floor_fork_n > 0)
		bench_floor_ratios(cfg);
	report_metrics();
	if (cfg->floor_fork_n > 0)
		bench_verdicts(cfg);
}

#endif							/* BGW_BENCH_CORE_H */
