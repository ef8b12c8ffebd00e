/*
 * bgw_scale.c
 *		What the supervisor's per-event cost does with its slot count: the
 *		measurements of bench_core.h against two bgworkerd instances at once,
 *		one with few slots (-s, 256 by default in bench/scale.sh) and one
 *		with many (-S, 10,000), alternating between them round by round, and
 *		the figures that only make sense with many slots.
 *
 * Per round (ROUNDS rounds; the floor of bench_core.h before the first and
 * after every round; the order of the two daemons alternates):
 *	 slotsN_latency_*, slotsN_churn_c{1,8,64}_*	for each daemon (N its slot
 *						count), as bgw_bench measures them
 *	 slotsBIG_burst_kK_*	a burst of K (1,000) on the big daemon
 *	 ratio_BIG_to_SMALL_latency_{start,stop}_{p50,p99}	big / small
 *	 ratio_BIG_to_SMALL_churn_cN_cost	small rate / big rate (the cost of
 *						one worker's life, big / small)
 *	 slotsBIG_ratio_burst_kK_all_started_to_K_forks	all started / the time
 *						K forks take at the round's floor rate
 * Once, at the end, on the big daemon:
 *	 slotsBIG_all_kA_*	A (all its slots) sleeping workers registered back
 *						to back, all started, then all terminated and stopped;
 *						the supervisor's RSS while all run
 *	 supervisor_rss_*	VmRSS of each daemon (idle at start, after the rounds,
 *						with all A running) and per slot; after the rounds
 *						also its RssAnon (private) and RssShmem (pages of
 *						the shared segment mapped in: the segment's memory is
 *						reserved at start whether mapped or not)
 *
 * Usage: bgw_scale -s RUNDIR -p PID -m SLOTS -S RUNDIR -P PID -M SLOTS
 *					-l MODULE [-R ROUNDS] [-n LAT_N] [-c CHURN_N]
 *					[-C "1 8 64"] [-k BURST_K] [-a ALL_K]
 *					[-x LABEL] [-X LABEL] [-H]
 * PID: the supervisor's pid (for its RSS); SLOTS: its max_worker_processes;
 * bench/scale.sh passes them.  LABEL names the small (-x) and big (-X)
 * side in the figures (default "slotsN").  -H (bench/bighost.sh): the two
 * differ in the size of the process workers are forked from, not in
 * slots; no all-running phase, and the target is the start latency
 * (big within 1.5x of small).
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
#define WATCHDOG_S 60

#define BENCH_PROG "bgw_scale"
#include "bench_host.h"

static void
on_sigalrm(int signo)
{
	static const char msg[] = "bgw_scale: watchdog: no progress; giving up\n";

	(void) signo;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		signo = 0;
	if (stamp_name[0] != '\0')
	{
		char		path[32 + BENCH_STAMP_NAMELEN] = "/dev/shm/";

		strncat(path, stamp_name, sizeof(path) - strlen(path) - 1);
		unlink(path);
	}
	_exit(2);
}

static int
positive_arg(const char *opt, const char *s)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 1000000)
		fail("option %s: \"%s\" is not a positive integer", opt, s);
	return (int) v;
}

/* The kB field `field` ("VmRSS:", "RssAnon:", ...) of /proc/PID/status, or -1 */
static long
status_kb(int pid, const char *field)
{
	char		path[64],
				line[256];
	long		kb = -1;
	FILE	   *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0 &&
			sscanf(line + strlen(field), "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long
rss_kb(int pid)
{
	return status_kb(pid, "VmRSS:");
}

typedef struct Daemon
{
	const char *rundir;
	int			pid;
	int			slots;			/* its max_worker_processes (-m / -M) */
	char		label[32];		/* -x / -X, default "slotsN" */
	char		prefix[40];		/* label + "_" */
} Daemon;

static void
attach(Daemon *d)
{
	enter_phase("bgw_attach");
	if (bgw_attach(d->rundir) != 0)
		fail("bgw_attach(\"%s\") failed: %s", d->rundir, bgw_last_error());
}

static void
round_on(Daemon *d, const BenchConfig *cfg, int burst_k)
{
	int			churn_n = cfg->churn_n;

	attach(d);
	metric_prefix = d->prefix;
	bench_latency(cfg->lat_n);
	for_each_conc(cfg->churn_list, churn_one, &churn_n);
	if (burst_k > 0)
		bench_burst(burst_k);
	metric_prefix = "";
	bgw_detach();
}

/* ratio_BIG_to_SMALL_<name>: per round, big / small (or small / big). */
static void
put_scale_ratio(const Daemon *small, const Daemon *big, const char *name,
				const char *as, int inverse)
{
	const BenchMetric *s = metric_of(small->prefix, name);
	const BenchMetric *b = metric_of(big->prefix, name);
	char		rname[160];

	if (s == NULL || b == NULL)
		return;
	snprintf(rname, sizeof(rname), "ratio_%s_to_%s_%s", big->label, small->label, as);
	for (int r = 0; r < s->n && r < b->n; r++)
		if (s->v[r] > 0 && b->v[r] > 0)
			put(rname, inverse ? s->v[r] / b->v[r] : b->v[r] / s->v[r], "x");
}

static void
churn_scale_ratio(int conc, void *arg)
{
	const Daemon *const *d = arg;
	char		name[64],
				as[64];

	snprintf(name, sizeof(name), "churn_c%d_rate", conc);
	snprintf(as, sizeof(as), "churn_c%d_cost", conc);
	put_scale_ratio(d[0], d[1], name, as, 1);
}

/* A sleeping workers on the big daemon, all running at once. */
static void
all_running(Daemon *d, int a)
{
	BackgroundWorkerHandle **h = xmalloc(sizeof(*h) * a);
	double		t0,
				t_reg,
				t_all,
				t_stop;
	long		rss;
	char		name[96];

	attach(d);
	metric_prefix = d->prefix;
	enter_phase("all running");
	live_handles = h;
	t0 = bench_now_us();
	for (int i = 0; i < a; i++)
	{
		BackgroundWorker w;

		fill_worker(&w, 1);
		h[i] = register_worker(&w);
		n_live_handles = i + 1;
		if ((i & 255) == 0)
			progress();
	}
	t_reg = bench_now_us();
	for (int i = 0; i < a; i++)
	{
		wait_started(h[i]);
		if ((i & 255) == 0)
			progress();
	}
	t_all = bench_now_us();
	rss = rss_kb(d->pid);
	for (int i = 0; i < a; i++)
		TerminateBackgroundWorker(h[i]);
	for (int i = 0; i < a; i++)
	{
		wait_stopped(h[i]);
		if ((i & 255) == 0)
			progress();
	}
	t_stop = bench_now_us();
	n_live_handles = 0;
	for (int i = 0; i < a; i++)
		free(h[i]);
	free(h);

	snprintf(name, sizeof(name), "all_k%d_register_all", a);
	put(name, (t_reg - t0) / 1e3, "ms");
	snprintf(name, sizeof(name), "all_k%d_all_started", a);
	put(name, (t_all - t0) / 1e3, "ms");
	snprintf(name, sizeof(name), "all_k%d_all_stopped", a);
	put(name, (t_stop - t_all) / 1e3, "ms");
	snprintf(name, sizeof(name), "all_k%d_supervisor_rss", a);
	put(name, rss, "kB");
	metric_prefix = "";
	bgw_detach();
}

int
main(int argc, char **argv)
{
	Daemon		small = {0},
				big = {0};
	const Daemon *pair[2] = {&small, &big};
	BenchConfig cfg = {
		.lat_n = 100,.churn_n = 1000,.churn_list = "1 8 64",.burst_k = 1000,
		.rounds = 5,.floor_fork_n = 2000,.floor_rtt_n = 1000,
	};
	int			all_k = 0,
				host_mode = 0;
	struct sigaction sa;
	int			opt;
	long		rss_small_idle,
				rss_big_idle,
				rss_big_after;
	char		name[160];

	while ((opt = getopt(argc, argv, "s:p:m:S:P:M:l:R:n:c:C:k:a:x:X:H")) != -1)
	{
		switch (opt)
		{
			case 's':
				small.rundir = optarg;
				break;
			case 'p':
				small.pid = positive_arg("-p", optarg);
				break;
			case 'm':
				small.slots = positive_arg("-m", optarg);
				break;
			case 'M':
				big.slots = positive_arg("-M", optarg);
				break;
			case 'S':
				big.rundir = optarg;
				break;
			case 'P':
				big.pid = positive_arg("-P", optarg);
				break;
			case 'l':
				module_path = optarg;
				break;
			case 'R':
				cfg.rounds = positive_arg("-R", optarg);
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
			case 'a':
				all_k = positive_arg("-a", optarg);
				break;
			case 'x':
				snprintf(small.label, sizeof(small.label), "%s", optarg);
				break;
			case 'X':
				snprintf(big.label, sizeof(big.label), "%s", optarg);
				break;
			case 'H':
				host_mode = 1;
				break;
			default:
				fprintf(stderr, "usage: bgw_scale -s RUNDIR -p PID -m SLOTS -S RUNDIR -P PID -M SLOTS -l MODULE\n"
						"                 [-R ROUNDS] [-n LAT_N] [-c CHURN_N] [-C \"1 8 64\"]\n"
						"                 [-k BURST_K] [-a ALL_K] [-x LABEL] [-X LABEL] [-H]\n");
				exit(2);
		}
	}
	if (!small.rundir || !big.rundir || !small.pid || !big.pid || !small.slots ||
		!big.slots || !module_path || optind != argc)
		fail("-s, -p, -m, -S, -P, -M and -l are required");
	if (cfg.rounds > BENCH_MAX_ROUNDS)
		fail("at most %d rounds", BENCH_MAX_ROUNDS);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigalrm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	rss_small_idle = rss_kb(small.pid);
	rss_big_idle = rss_kb(big.pid);

	/* a warm-up of each daemon (not recorded) */
	recording = 0;
	for (int i = 0; i < 2; i++)
	{
		Daemon	   *d = (Daemon *) pair[i];

		if (d->label[0] == '\0')
			snprintf(d->label, sizeof(d->label), "slots%d", d->slots);
		snprintf(d->prefix, sizeof(d->prefix), "%s_", d->label);
		attach(d);
		bench_latency(10);
		bgw_detach();
	}
	recording = 1;
	if (cfg.burst_k > big.slots - 4)
		fail("burst size %d must be <= the big daemon's slots - 4 (%d)", cfg.burst_k, big.slots - 4);
	if (all_k == 0 || all_k > big.slots)
		all_k = big.slots;
	printf("# %s: %d slots; %s: %d slots; %d rounds\n", small.label, small.slots,
		   big.label, big.slots, cfg.rounds);
	put("supervisor_rss_idle_small", rss_small_idle, "kB");
	put("supervisor_rss_idle_big", rss_big_idle, "kB");

	bench_floor(cfg.floor_fork_n, cfg.floor_rtt_n);
	for (int r = 0; r < cfg.rounds; r++)
	{
		Daemon	   *first = (Daemon *) pair[r % 2],
				   *second = (Daemon *) pair[1 - r % 2];

		round_on(first, &cfg, first == &big ? cfg.burst_k : 0);
		round_on(second, &cfg, second == &big ? cfg.burst_k : 0);
		bench_floor(cfg.floor_fork_n, cfg.floor_rtt_n);
	}
	rss_big_after = rss_kb(big.pid);
	put("supervisor_rss_big_after_rounds", rss_big_after, "kB");
	/* private memory, and the pages of the (shared, preallocated) segment mapped in */
	put("supervisor_rss_anon_big_after_rounds", status_kb(big.pid, "RssAnon:"), "kB");
	put("supervisor_rss_shmem_big_after_rounds", status_kb(big.pid, "RssShmem:"), "kB");
	put("supervisor_rss_small_after_rounds", rss_kb(small.pid), "kB");
	if (!host_mode)
		all_running(&big, all_k);

	/* ratios */
	put_scale_ratio(&small, &big, "latency_start_p50", "latency_start_p50", 0);
	put_scale_ratio(&small, &big, "latency_start_p99", "latency_start_p99", 0);
	put_scale_ratio(&small, &big, "latency_stop_p50", "latency_stop_p50", 0);
	put_scale_ratio(&small, &big, "latency_main_entry_p50", "latency_main_entry_p50", 0);
	for_each_conc(cfg.churn_list, churn_scale_ratio, pair);
	for (int i = 0; i < 2; i++)
	{
		const Daemon *d = pair[i];

		metric_prefix = d->prefix;
		put_floor_ratio("latency_start_p99", "floor_rtt_pipe_p50", 0);
		put_floor_ratio("latency_stop_p50", "floor_rtt_pipe_p50", 0);
		put_floor_ratio("latency_main_entry_p50", "floor_rtt_pipe_p50", 0);
		for_each_conc(cfg.churn_list, churn_ratio, NULL);
	}
	metric_prefix = big.prefix;
	snprintf(name, sizeof(name), "burst_k%d_all_started", cfg.burst_k);
	put_floor_ratio(name, "floor_fork_rate", cfg.burst_k);
	metric_prefix = "";
	{
		const BenchMetric *all_rss;

		snprintf(name, sizeof(name), "%sall_k%d_supervisor_rss", big.prefix, all_k);
		all_rss = find_metric(name);
		if (big.slots > small.slots)
			put("supervisor_rss_per_slot_idle",
				(rss_big_idle - rss_small_idle) * 1024.0 / (big.slots - small.slots), "bytes");
		if (all_rss != NULL)
			put("supervisor_rss_per_running_worker",
				(all_rss->v[0] - rss_big_after) * 1024.0 / all_k, "bytes");
	}
	report_metrics();

	printf("# targets (medians over the rounds):\n");
	if (host_mode)
	{
		char		full[200];

		printf("#  start latency with %s's supervisor within 1.5x of %s's:\n", big.label, small.label);
		snprintf(full, sizeof(full), "ratio_%s_to_%s_latency_start_p50", big.label, small.label);
		verdict(full, "<=", 1.5);
		alarm(0);
		return 0;
	}
	printf("#  per-event cost at %d slots within 1.2x of its cost at %d:\n", big.slots, small.slots);
	snprintf(name, sizeof(name), "ratio_%s_to_%s_", big.label, small.label);
	{
		const char *const as[] = {"latency_start_p50", "latency_start_p99", "latency_stop_p50",
		"churn_c1_cost", "churn_c8_cost", "churn_c64_cost"};

		for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++)
		{
			char		full[200];

			snprintf(full, sizeof(full), "%s%s", name, as[i]);
			verdict(full, "<=", 1.2);
		}
	}
	printf("#  at %d slots, against the floor:\n", big.slots);
	{
		char		full[200];

		snprintf(full, sizeof(full), "%sratio_latency_start_p99_to_floor_rtt_pipe_p50", big.prefix);
		verdict(full, "<=", 1.5);
		snprintf(full, sizeof(full), "%sratio_latency_stop_p50_to_floor_rtt_pipe_p50", big.prefix);
		verdict(full, "<=", 1.3);
		snprintf(full, sizeof(full), "%sratio_latency_main_entry_p50_to_floor_rtt_pipe_p50", big.prefix);
		verdict(full, "<=", 1.3);
		snprintf(full, sizeof(full), "%sratio_churn_c1_rate_to_floor_fork_rate", big.prefix);
		verdict(full, ">=", 0.7);
		snprintf(full, sizeof(full), "%sratio_churn_c64_rate_to_floor_fork_rate", big.prefix);
		verdict(full, ">=", 1.2);
		snprintf(full, sizeof(full), "%sratio_burst_k%d_all_started_to_%d_forks",
				 big.prefix, cfg.burst_k, cfg.burst_k);
		verdict(full, "<=", 1.2);
	}
	printf("#  supervisor RSS at %d slots (kB):\n", big.slots);
	verdict("supervisor_rss_idle_big", "<=", 4096);
	verdict("supervisor_rss_big_after_rounds", "<=", 4096);
	verdict("supervisor_rss_anon_big_after_rounds", "<=", 4096);
	alarm(0);
	return 0;
}
