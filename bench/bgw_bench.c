/*
 * bgw_bench.c
 *		Benchmark of libbgworker's dynamic background-worker API (metric
 *		names and definitions below; pg15/bgw_bench_pg15.c measures the same
 *		in a PostgreSQL 15 backend with the same code), plus this machine's
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
 *
 * The measurements themselves are in bench_core.h, which
 * pg15/bgw_bench_pg15.c runs inside a PostgreSQL 15 backend for the
 * comparison bench/run.sh prints.
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
#include "bench_core.h"

/* A phase that makes no progress for this long is declared hung. */
#define WATCHDOG_S 30

/* PostgreSQL 15 performance targets, relative to this machine's floor */
#define TARGET_START_P50_X_RTT	1.5		/* start p50 <= 1.5 x rtt_pipe p50 */
#define TARGET_STOP_P50_X_RTT	5.0		/* stop p50 < 5 x rtt_pipe p50 */
#define TARGET_CHURN_C1_X_FORK	0.5		/* churn c1 >= 0.5 x fork rate */
#define TARGET_BURST_MS			60.0	/* all_started, all_stopped < 60 ms */

/* ------------------------------------------------------------------------
 * Small utilities
 * ------------------------------------------------------------------------
 */
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

/* bgw_notify_pid target: the library does the waiting, nothing to do here */
static void
on_sigusr1(int signo)
{
	(void) signo;
}

/* ------------------------------------------------------------------------
 * Hooks of bench_core.h for a libbgworker host
 * ------------------------------------------------------------------------
 */
static void bench_free(void *p) { free(p); }

/* libbgworker's handles are malloc()ed: the caller frees them */
static void bench_free_handle(BackgroundWorkerHandle *h) { free(h); }

static void
bench_emit_line(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void bench_watchdog_rearm(void) { alarm(WATCHDOG_S); }

static const char *bench_register_failure_reason(void) { return bgw_last_error(); }

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

	bench_run(lat_n, churn_n, churn_list, burst_k, &lat, &churn_c1, &burst);
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
