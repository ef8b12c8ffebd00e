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
 *   floor_small_parent_rss  this process's RSS before it attaches
 *   floor_fork_*         fork + child _exit(0) + waitpid, sequential
 *   floor_rtt_pipe_*     fork -> child writes a byte to a pipe -> the
 *                        parent's read returns (child reaped untimed)
 *   ratio_X_to_FLOOR     figure X of a round / the floor measured around
 *                        that round (see bench_core.h, bench_run)
 *
 * Distributions within a round: min, nearest-rank p50 and p99, max.  Every
 * figure is measured once per round (ROUNDS rounds, the floor before the
 * first and after every round) and reported as
 *   name MEDIAN unit min MIN max MAX rounds N
 * lines starting with '#' are context and the targets.
 *
 * Usage: bgw_bench -D RUNDIR -l MODULE [-n LAT_N] [-c CHURN_N]
 *                  [-C "1 8 64"] [-k BURST_K] [-m MAX_WORKERS]
 *                  [-f FLOOR_SCALE] [-F] [-R ROUNDS]
 *   per round: LAT_N (100) latency pairs, CHURN_N (1000) workers per churn,
 *   one burst of BURST_K (200); floor: 2000 x FLOOR_SCALE forks and 1000 x
 *   FLOOR_SCALE round trips per reading; ROUNDS 5.
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

#define BENCH_PROG "bgw_bench"
#include "bench_host.h"
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
			"                 [-k BURST_K] [-m MAX_WORKERS] [-f FLOOR_SCALE] [-F] [-R ROUNDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *rundir = NULL;
	int			max_workers = 0,
				floor_scale = 1,
				skip_floor = 0;
	BenchConfig cfg = {
		.lat_n = 100,.churn_n = 1000,.churn_list = "1 8 64",.burst_k = 200,
		.rounds = 5,
	};
	struct sigaction sa;
	int			opt;

	while ((opt = getopt(argc, argv, "D:l:n:c:C:k:m:f:FR:")) != -1)
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
				cfg.lat_n = positive_arg("-n", optarg);
				break;
			case 'c':
				cfg.churn_n = positive_arg("-c", optarg);
				break;
			case 'C':
				cfg.churn_list = optarg;
				break;
			case 'k':
				cfg.burst_k = positive_arg("-k", optarg);
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
			case 'R':
				cfg.rounds = positive_arg("-R", optarg);
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
	if (max_workers > 0 && cfg.burst_k > max_workers - 4)
		fail("burst size %d must be <= max_worker_processes - 4 (%d)",
			 cfg.burst_k, max_workers - 4);
	if (!skip_floor)
	{
		cfg.floor_fork_n = 2000 * floor_scale;
		cfg.floor_rtt_n = 1000 * floor_scale;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigalrm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	printf("floor_small_parent_rss %ld kB\n", self_rss_kb());
	enter_phase("bgw_attach");
	if (bgw_attach(rundir) != 0)
		fail("bgw_attach(\"%s\") failed: %s", rundir, bgw_last_error());
	bench_run(&cfg);
	alarm(0);
	bgw_detach();
	return 0;
}
