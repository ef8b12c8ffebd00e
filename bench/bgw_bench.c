/*
 * bgw_bench.c
 *		Benchmark of libbgworker's dynamic background-worker API, with the
 *		metric names and definitions of the PostgreSQL 15 anchor benchmark
 *		(bench-pg15: bgw_bench extension + floor.c), plus this machine's
 *		process floor measured in the same process and the same run.
 *
 * The program attaches to a running bgworkerd (bgw_attach(RUNDIR)) and
 * registers workers whose entry point is bench_worker_main in the module
 * built from bgw_bench_worker.c.  Every worker: BGWORKER_SHMEM_ACCESS,
 * BgWorkerStart_RecoveryFinished, BGW_NEVER_RESTART, bgw_notify_pid =
 * getpid().  Times come from CLOCK_MONOTONIC (system-wide, so stamps taken
 * in a worker compare with stamps taken here).
 *
 *   latency_start_*      RegisterDynamicBackgroundWorker +
 *                        WaitForBackgroundWorkerStartup
 *   latency_stop_*       TerminateBackgroundWorker +
 *                        WaitForBackgroundWorkerShutdown, issued as soon as
 *                        the start returned
 *   latency_main_entry_* register -> worker enters bench_worker_main
 *                        (stamped by the worker into a /dev/shm file)
 *   latency_stop_idle_*  terminate + wait-for-shutdown of a worker that has
 *                        stamped and had 200 us to fall asleep
 *   churn_cN_*           n workers that exit at once, at most N outstanding,
 *                        each retired with WaitForBackgroundWorkerShutdown in
 *                        registration order
 *   burst_kK_*           K sleeping workers registered back to back; times
 *                        from the first register to the first / all started;
 *                        then terminate all and time until all have stopped
 *   floor_small_parent_rss  this process's RSS when the floor is measured
 *   floor_fork_*         fork + child _exit(0) + waitpid, sequential
 *   floor_rtt_pipe_*     fork -> child writes a byte to a pipe -> the
 *                        parent's read returns (child reaped untimed)
 *
 * Distributions: min, nearest-rank p50 and p99, max.
 * Output: "name value unit" lines; lines starting with '#' are context.
 *
 * Usage: bgw_bench -D RUNDIR -l MODULE [-n LAT_N] [-c CHURN_N]
 *                  [-C "1 8 64"] [-k BURST_K] [-m MAX_WORKERS]
 *                  [-f FLOOR_SCALE] [-F]
 *   -F skips the floor (and the ratios that need it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bgworker.h"

#include "bgw_bench_stamp.h"

/* A phase that makes no progress for this long is declared hung. */
#define WATCHDOG_S 30

/* PostgreSQL 15 performance targets, relative to this machine's floor */
#define TARGET_START_P50_X_RTT	1.5		/* start p50 <= 1.5 x rtt_pipe p50 */
#define TARGET_STOP_P50_X_RTT	5.0		/* stop p50 < 5 x rtt_pipe p50 */
#define TARGET_CHURN_C1_X_FORK	0.5		/* churn c1 >= 0.5 x fork rate */
#define TARGET_BURST_MS			60.0	/* all_started, all_stopped < 60 ms */

static const char *module_path;

/* sleeping workers to terminate if the run fails half-way */
static BackgroundWorkerHandle **live_handles;
static int	n_live_handles;
static char stamp_name[BENCH_STAMP_NAMELEN];	/* /dev/shm file, if any */

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

static void *
xmalloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "bgw_bench: out of memory\n");
		exit(1);
	}
	return p;
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

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt,...)
{
	va_list		ap;

	fflush(stdout);
	fprintf(stderr, "bgw_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (int i = 0; i < n_live_handles; i++)
		if (live_handles[i] != NULL)
			TerminateBackgroundWorker(live_handles[i]);
	remove_stamp_file();
	exit(1);
}

/* --- watchdog: a hang ends the run with an error instead of stalling --- */
static const char *volatile phase = "startup";

static void
on_sigalrm(int signo)
{
	const char *p = phase;
	char		msg[160];
	int			len;

	(void) signo;
	len = snprintf(msg, sizeof(msg),
				   "bgw_bench: watchdog: no progress for %d s during %s; giving up\n",
				   WATCHDOG_S, p);
	if (len > 0 && write(STDERR_FILENO, msg, (size_t) len) < 0)
		len = 0;
	if (stamp_name[0] != '\0')
	{
		char		path[32 + BENCH_STAMP_NAMELEN] = "/dev/shm/";

		strncat(path, stamp_name, sizeof(path) - strlen(path) - 1);
		unlink(path);
	}
	_exit(2);
}

static void
enter_phase(const char *name)
{
	phase = name;
	alarm(WATCHDOG_S);
}

/* re-arm the watchdog: called outside timed sections, or rarely inside */
static inline void
progress(void)
{
	alarm(WATCHDOG_S);
}

/* bgw_notify_pid target: the library does the waiting, nothing to do here */
static void
on_sigusr1(int signo)
{
	(void) signo;
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
	if (strcmp(unit, "count") == 0)
		printf("%s %lld %s\n", name, (long long) llround(value), unit);
	else
		printf("%s %.1f %s\n", name, value, unit);
	fflush(stdout);
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
 * Floor: what fork/exit/wake-up cost on this machine, from this process
 * ------------------------------------------------------------------------
 */
static void
reap(pid_t pid)
{
	int			st;

	while (waitpid(pid, &st, 0) != pid)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
}

static long
self_rss_kb(void)
{
	char		line[256];
	long		kb = -1;
	FILE	   *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
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
		reap(pid);
	}
	return bench_now_us() - t0;
}

static void
floor_fork(int n, double *rate_out)
{
	double		us;

	enter_phase("floor_fork");
	(void) fork_loop(200);		/* warm-up */
	us = fork_loop(n);
	*rate_out = n / (us / 1e6);
	/* floor.c prints the rate without decimals */
	printf("floor_fork_rate %.0f forks/s\n", *rate_out);
	put("floor_fork_mean", us / n, "us");
}

static void
floor_rtt_pipe(int n, double *p50_out)
{
	int			fds[2];
	double	   *v = xmalloc(sizeof(double) * n);

	enter_phase("floor_rtt_pipe");
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
		reap(pid);
	}
	close(fds[0]);
	close(fds[1]);
	put_dist("floor_rtt_pipe", v, n, p50_out);
	free(v);
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
		const char *why = bgw_last_error();

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
		free(h);
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
		free(h);
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
	free(start);
	free(stop);
	free(entry);
	free(stop_idle);
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
		free(ring[head]);
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
	free(ring);
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
		free(h[i]);
	free(h);

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
 * main
 * ------------------------------------------------------------------------
 */
static int
positive_arg(const char *opt, const char *s)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 1000000)
		fail("option %s: \"%s\" is not a positive integer", opt, s);
	return (int) v;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: bgw_bench -D RUNDIR -l MODULE [-n LAT_N] [-c CHURN_N] [-C \"1 8 64\"]\n"
			"                 [-k BURST_K] [-m MAX_WORKERS] [-f FLOOR_SCALE] [-F]\n");
	exit(2);
}

static void
verdict(const char *what, double value, const char *op, double target, int ok)
{
	printf("#   %-40s %8.2f %s %-5g %s\n", what, value, op, target,
		   ok ? "met" : "MISSED");
}

int
main(int argc, char **argv)
{
	const char *rundir = NULL;
	const char *churn_list = "1 8 64";
	int			lat_n = 200,
				churn_n = 2000,
				burst_k = 200,
				max_workers = 0,
				floor_scale = 1,
				skip_floor = 0;
	double		fork_rate = 0,
				rtt_p50 = 0,
				churn_c1 = -1;
	LatencyResult lat = {0, 0};
	BurstResult burst = {0, 0};
	struct sigaction sa;
	int			opt;

	while ((opt = getopt(argc, argv, "D:l:n:c:C:k:m:f:F")) != -1)
	{
		switch (opt)
		{
			case 'D':
				rundir = optarg;
				break;
			case 'l':
				module_path = optarg;
				break;
			case 'n':
				lat_n = positive_arg("-n", optarg);
				break;
			case 'c':
				churn_n = positive_arg("-c", optarg);
				break;
			case 'C':
				churn_list = optarg;
				break;
			case 'k':
				burst_k = positive_arg("-k", optarg);
				break;
			case 'm':
				max_workers = positive_arg("-m", optarg);
				break;
			case 'f':
				floor_scale = positive_arg("-f", optarg);
				break;
			case 'F':
				skip_floor = 1;
				break;
			default:
				usage();
		}
	}
	if (rundir == NULL || module_path == NULL || optind != argc)
		usage();
	if (strlen(module_path) >= BGW_MAXLEN)
		fail("module path \"%s\" does not fit in bgw_library_name (%d bytes)",
			 module_path, BGW_MAXLEN);
	if (max_workers > 0 && burst_k > max_workers - 4)
		fail("burst size %d must be <= max_worker_processes - 4 (%d)",
			 burst_k, max_workers - 4);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigalrm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	/* the floor first, while this process is small and nothing else runs */
	if (!skip_floor)
	{
		printf("floor_small_parent_rss %ld kB\n", self_rss_kb());
		floor_fork(5000 * floor_scale, &fork_rate);
		floor_rtt_pipe(2000 * floor_scale, &rtt_p50);
	}

	enter_phase("bgw_attach");
	if (bgw_attach(rundir) != 0)
		fail("bgw_attach(\"%s\") failed: %s", rundir, bgw_last_error());

	bench_latency(10, 0, &lat);	/* warm-up, not reported */
	bench_latency(lat_n, 1, &lat);

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
			churn_c1 = rate;
		p = end;
	}

	bench_burst(burst_k, &burst);
	alarm(0);
	bgw_detach();

	/* ratios to the floor, and the targets */
	if (!skip_floor && rtt_p50 > 0)
	{
		printf("ratio_start_p50_to_rtt_pipe_p50 %.2f x\n", lat.start_p50 / rtt_p50);
		printf("ratio_stop_p50_to_rtt_pipe_p50 %.2f x\n", lat.stop_p50 / rtt_p50);
	}
	if (!skip_floor && fork_rate > 0 && churn_c1 >= 0)
		printf("ratio_churn_c1_to_fork_rate %.2f x\n", churn_c1 / fork_rate);

	printf("# targets (vs this machine's floor, same run):\n");
	if (!skip_floor && rtt_p50 > 0)
	{
		verdict("latency_start_p50 / floor_rtt_pipe_p50", lat.start_p50 / rtt_p50,
				"<=", TARGET_START_P50_X_RTT,
				lat.start_p50 / rtt_p50 <= TARGET_START_P50_X_RTT);
		verdict("latency_stop_p50 / floor_rtt_pipe_p50", lat.stop_p50 / rtt_p50,
				"<", TARGET_STOP_P50_X_RTT,
				lat.stop_p50 / rtt_p50 < TARGET_STOP_P50_X_RTT);
	}
	if (!skip_floor && fork_rate > 0 && churn_c1 >= 0)
		verdict("churn_c1_rate / floor_fork_rate", churn_c1 / fork_rate,
				">=", TARGET_CHURN_C1_X_FORK,
				churn_c1 / fork_rate >= TARGET_CHURN_C1_X_FORK);
	{
		char		what[64];

		snprintf(what, sizeof(what), "burst_k%d_all_started (ms)", burst_k);
		verdict(what, burst.all_started_ms, "<", TARGET_BURST_MS,
				burst.all_started_ms < TARGET_BURST_MS);
		snprintf(what, sizeof(what), "burst_k%d_all_stopped (ms)", burst_k);
		verdict(what, burst.all_stopped_ms, "<", TARGET_BURST_MS,
				burst.all_stopped_ms < TARGET_BURST_MS);
	}
	if (burst_k != 200)
		printf("#   (the burst target is set for k = 200)\n");
	return 0;
}
