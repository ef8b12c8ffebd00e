/*
 * soak.c
 *		The soak and the segment fuzz (make soak; soak/run.sh builds and runs
 *		it under a watchdog). Linked with libbgworker; every process it
 *		starts is a child of it and is ended by pid.
 *
 * usage: soak BGWORKERD MODULE SCRATCH CYCLES MUTATIONS TIME_LIMIT_S
 *	 MODULE is bench/bgw_bench_worker.so (bench_worker_main: arg 0 returns at
 *	 once, arg 1 sleeps until SIGTERM). SOAK_SEED (environment) seeds the
 *	 random choices (default: the time; printed either way). SOAK_SELFTEST=
 *	 stray makes the fuzzer signal a decoy once: the run must then fail.
 *
 * 1. Soak: bgworkerd (max_worker_processes=16) and 4 attached hosts, each
 *	  looping register (bgw_notify_pid = itself) -> WaitForBackgroundWorker-
 *	  Shutdown (one cycle in four: a sleeping worker, waited for until it
 *	  starts, then terminated), until CYCLES cycles are done in all, while this process
 *	  every 20 ms or so picks at random: SIGKILL a worker (a crash cycle
 *	  follows, as in PostgreSQL), SIGSTOP a worker and SIGCONT it 5-50 ms
 *	  later, SIGKILL a host (a new one replaces it), SIGSTOP a host for
 *	  5-150 ms, or nothing. Then the hosts stop; the sleepers of killed
 *	  hosts (dynamic workers outlive their registrant, as in PostgreSQL)
 *	  are terminated, found by bgworkerctl's registered_by; and the checks:
 *	  - slots lost: a fresh host registers max_worker_processes sleeping
 *		workers, all of which must be accepted and start, then stops them;
 *	  - zombies among bgworkerd's children: 0;
 *	  - bgworkerd's descriptors and RSS after a warm-up of 500 cycles vs
 *		after the final run: flat (descriptors +2 at most, RSS +1 MB at
 *		most, both printed);
 *	  - the final run: one host, 1,000 cycles at full speed (rate printed).
 * 2. Fuzz: a fresh bgworkerd; one process maps its segment and makes
 *	  MUTATIONS random writes into it (random bytes and words, words set to
 *	  1, decoys' pids written at every 4-byte offset, pieces of the
 *	  original put back), in batches of 64, each followed by a SIGUSR1 to
 *	  the supervisor and a 250 us pause, while a host registers and polls
 *	  workers with bounded waits.
 *	  Four decoy processes (children of this program, neither attached nor
 *	  workers) record every signal they receive. Checks: bgworkerd never
 *	  dies and answers a SIGHUP (sent by the fuzzer every 50,000 writes)
 *	  within 5 s (no hang),
 *	  the host never dies of a signal, no decoy receives any signal, and
 *	  bgworkerd stops on SIGINT within 30 s, exiting (not killed).
 *
 * Output: "name value unit" lines, '#' lines are context, and last
 * "soak: PASS" or "soak: FAIL: reasons" (exit 0 / 1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bgworker.h"

#define NHOSTS 4
#define NDECOYS 4
#define MAX_WORKERS 16
#define MAX_PIDS 4096

/* ---- shared with the children (MAP_SHARED | MAP_ANONYMOUS) ---- */
struct shared
{
	volatile long cycles[NHOSTS + 1];	/* per host slot; [NHOSTS]: final run */
	volatile int stop_hosts;
	volatile int decoy_hits[NDECOYS];
	volatile int decoy_last_sig[NDECOYS];
	volatile long fuzz_done;
	volatile long fuzz_host_ok;
	volatile long fuzz_host_timeouts;
	volatile long fuzz_answered;	/* SIGHUPs the supervisor answered */
	volatile long fuzz_unanswered;
};
static struct shared *sh;

static const char *bgworkerd_path,
		   *module_path,
		   *scratch;
static char rundir[4096],
			logpath[4200],
			pidpath[4200];
static pid_t daemon_pid = -1;
static pid_t hosts[NHOSTS];
static pid_t decoys[NDECOYS];
static pid_t extra_pid = -1;	/* fuzzer / checker / final host */
#define MAX_KILLED 4096
static pid_t killed_hosts[MAX_KILLED];	/* hosts this program SIGKILLed */
static int	n_killed;
static pid_t stopped_pid = -1;	/* a process we SIGSTOPped, to SIGCONT */
static char failures[4096];
static uint64_t rng;

/* ---- small utilities ---- */

static void
out(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static void
out(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void
failure(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static void
failure(const char *fmt,...)
{
	va_list		ap;
	size_t		n = strlen(failures);
	char		buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("# failure: %s", buf);
	if (n + strlen(buf) + 3 < sizeof(failures))
		snprintf(failures + n, sizeof(failures) - n, "%s%s", n ? "; " : "", buf);
}

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* State letter and parent of pid from /proc/PID/stat (0: no such process). */
static char
proc_state(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	char		path[64],
				buf[512],
			   *open,
			   *close;
	FILE	   *f;
	char		st = 0;
	int			pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (open = strchr(buf, '(')) != NULL &&
		(close = strrchr(buf, ')')) != NULL && sscanf(close + 1, " %c %d", &st, &pp) == 2)
	{
		if (comm != NULL)
			snprintf(comm, commlen, "%.*s", (int) (close - open - 1), open + 1);
		if (ppid != NULL)
			*ppid = pp;
	}
	else
		st = 0;
	fclose(f);
	return st;
}

/*
 * Children of `parent`: workers (not the sentinel) into pids, up to max;
 * returns how many; *zombies counts those in state Z.
 */
static int
daemon_children(pid_t parent, pid_t *pids, int max, int *zombies)
{
	DIR		   *d = opendir("/proc");
	struct dirent *e;
	int			n = 0;

	if (zombies != NULL)
		*zombies = 0;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		pid_t		pid = atoi(e->d_name),
					pp = 0;
		char		comm[64] = "",
					st;

		if (pid <= 0)
			continue;
		st = proc_state(pid, &pp, comm, sizeof(comm));
		if (st == 0 || pp != parent)
			continue;
		if (st == 'Z')
		{
			if (zombies != NULL)
				(*zombies)++;
			continue;
		}
		if (strcmp(comm, "bgw_sentinel") == 0)
			continue;
		if (n < max)
			pids[n++] = pid;
	}
	closedir(d);
	return n;
}

static long
count_fds(pid_t pid)
{
	char		path[64];
	DIR		   *d;
	struct dirent *e;
	long		n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long
rss_kb(pid_t pid)
{
	char		path[64],
				line[256];
	FILE	   *f;
	long		kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Occurrences of needle in the daemon's log. */
static int
log_count(const char *needle)
{
	FILE	   *f = fopen(logpath, "r");
	char		line[2048];
	int			n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * A pidfd of `pid` if it is (still) a child of `parent`, else -1: opened
 * first, checked after, so the process checked is the one the pidfd holds
 * (a worker's pid may be reaped and reused at any moment: this machine has
 * other users' processes too).
 */
static int
pidfd_of_child(pid_t pid, pid_t parent)
{
	int			fd = (int) syscall(SYS_pidfd_open, pid, 0);
	pid_t		pp = 0;
	char		st;

	if (fd < 0)
		return -1;
	st = proc_state(pid, &pp, NULL, 0);
	if (st == 0 || st == 'Z' || pp != parent)
	{
		close(fd);
		return -1;
	}
	return fd;
}

static void
pidfd_signal(int fd, int sig)
{
	(void) syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

/* ---- ending processes, by pid ---- */

static void
end_pid(pid_t *p)
{
	if (*p > 0)
	{
		kill(*p, SIGCONT);
		kill(*p, SIGKILL);
		waitpid(*p, NULL, 0);
		*p = -1;
	}
}

static void
end_all(void)
{
	if (stopped_pid > 0)
		kill(stopped_pid, SIGCONT);
	for (int i = 0; i < NHOSTS; i++)
		end_pid(&hosts[i]);
	end_pid(&extra_pid);
	end_pid(&daemon_pid);
	for (int i = 0; i < NDECOYS; i++)
		end_pid(&decoys[i]);
}

static void
on_alarm(int sig)
{
	(void) sig;
	/* not async-signal-safe in full (printf), but the process ends here */
	out("soak: FAIL: time limit reached (hang)");
	end_all();
	_exit(1);
}

/* ---- decoys ---- */

static int decoy_index;

static void
decoy_handler(int sig)
{
	sh->decoy_hits[decoy_index]++;
	sh->decoy_last_sig[decoy_index] = sig;
}

static void
start_decoys(void)
{
	for (int i = 0; i < NDECOYS; i++)
	{
		pid_t		p = fork();

		if (p < 0)
		{
			failure("fork a decoy: %s", strerror(errno));
			return;
		}
		if (p == 0)
		{
			struct sigaction sa;

			decoy_index = i;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = decoy_handler;
			sigemptyset(&sa.sa_mask);
			for (int s = 1; s < NSIG; s++)
				if (s != SIGKILL && s != SIGSTOP)
					(void) sigaction(s, &sa, NULL);
			for (;;)
				pause();
		}
		decoys[i] = p;
	}
}

/* Every decoy alive, not stopped, and never signalled. */
static void
check_decoys(const char *when)
{
	for (int i = 0; i < NDECOYS; i++)
	{
		char		st = proc_state(decoys[i], NULL, NULL, 0);

		if (sh->decoy_hits[i] != 0)
			failure("%s: decoy %d received %d signal(s), last %d", when, (int) decoys[i],
					sh->decoy_hits[i], sh->decoy_last_sig[i]);
		if (st == 0 || st == 'Z' || st == 'T')
			failure("%s: decoy %d is %s", when, (int) decoys[i],
					st == 'T' ? "stopped" : "dead");
	}
}

/* ---- bgworkerd ---- */

static void
start_daemon(void)
{
	pid_t		p;
	double		deadline;

	unlink(pidpath);
	p = fork();
	if (p < 0)
	{
		failure("fork bgworkerd: %s", strerror(errno));
		return;
	}
	if (p == 0)
	{
		int			fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		char		mw[64];

		if (fd >= 0)
		{
			dup2(fd, 1);
			dup2(fd, 2);
		}
		snprintf(mw, sizeof(mw), "max_worker_processes=%d", MAX_WORKERS);
		execl(bgworkerd_path, bgworkerd_path, "-D", rundir, "-c", mw,
			  "-c", "max_parallel_workers=16", (char *) NULL);
		_exit(127);
	}
	daemon_pid = p;
	deadline = now_s() + 20;
	while (now_s() < deadline)
	{
		struct stat stt;

		if (stat(pidpath, &stt) == 0 && stt.st_size > 0)
			return;
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid)
		{
			daemon_pid = -1;
			failure("bgworkerd exited at start (see %s)", logpath);
			return;
		}
		nap_ms(10);
	}
	failure("bgworkerd not ready within 20 s");
}

/* SIGINT, then wait (bounded); returns the wait status, or -1 if it hung. */
static int
stop_daemon(int timeout_s)
{
	double		deadline = now_s() + timeout_s;
	int			st = 0;

	if (daemon_pid <= 0)
		return -1;
	kill(daemon_pid, SIGINT);
	while (now_s() < deadline)
	{
		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid)
		{
			daemon_pid = -1;
			return st;
		}
		nap_ms(10);
	}
	end_pid(&daemon_pid);
	return -1;
}

/* ---- hosts (children of this program, attached to bgworkerd) ---- */

static void
fill_worker(BackgroundWorker *w, int arg)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->bgw_name, BGW_MAXLEN, "soak worker");
	snprintf(w->bgw_type, BGW_MAXLEN, "soak");
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "%s", module_path);
	snprintf(w->bgw_function_name, BGW_MAXLEN, "bench_worker_main");
	w->bgw_main_arg = (Datum) arg;
	w->bgw_notify_pid = getpid();
}

static void
ignore_sig(int sig)
{
	(void) sig;
}

/* A new process attached to bgworkerd; exits 2 if it cannot attach. */
static void
host_attach(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ignore_sig;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(0);
	if (bgw_attach(rundir) != 0)
	{
		out("# host %d: bgw_attach: %s", (int) getpid(), bgw_last_error());
		_exit(2);
	}
}

/*
 * Cycles until stop_hosts (or `limit` cycles): counted in sh->cycles[slot].
 * Three cycles in four register a worker that returns at once and wait for
 * its end; the fourth (with chaos) registers a sleeping one, waits for its
 * start, lets it run 1-5 ms, terminates it and waits for its end.
 */
static void
host_main(int slot, long limit, int sleepers)
{
	BackgroundWorker quick,
				sleeper;
	long		n = 0;

	host_attach();
	fill_worker(&quick, 0);
	fill_worker(&sleeper, 1);
	rng ^= (uint64_t) getpid() * 0x9E3779B97F4A7C15ull;
	while (!sh->stop_hosts && (limit <= 0 || sh->cycles[slot] < limit))
	{
		BackgroundWorkerHandle *h = NULL;
		BgwHandleStatus st;
		int			sleeps = sleepers && (n++ % 4 == 3);

		if (!RegisterDynamicBackgroundWorker(sleeps ? &sleeper : &quick, &h))
		{
			/* no free slot (or the lock timed out): try again shortly */
			nap_ms(1);
			continue;
		}
		if (sleeps)
		{
			pid_t		pid;

			st = WaitForBackgroundWorkerStartup(h, &pid);
			if (st == BGWH_STARTED)
				nap_ms(1 + (long) (rnd() % 5));
			TerminateBackgroundWorker(h);
		}
		st = WaitForBackgroundWorkerShutdown(h);
		free(h);
		if (st == BGWH_POSTMASTER_DIED)
		{
			out("# host %d: bgworkerd died", (int) getpid());
			_exit(3);
		}
		sh->cycles[slot]++;
	}
	_exit(0);
}

static pid_t
spawn_host(int slot, long limit, int sleepers)
{
	pid_t		p = fork();

	if (p == 0)
		host_main(slot, limit, sleepers);
	if (p < 0)
		failure("fork a host: %s", strerror(errno));
	return p;
}

static long
total_cycles(void)
{
	long		n = 0;

	for (int i = 0; i < NHOSTS; i++)
		n += sh->cycles[i];
	return n;
}

/*
 * Slots lost: a fresh host registers MAX_WORKERS sleeping workers; all must
 * be accepted and start; then they are terminated and waited for. Exit
 * status: 0, or 10 + how many could not be registered.
 */
static void
checker_main(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h[MAX_WORKERS];
	int			ok = 0;
	double		deadline = now_s() + 20;

	host_attach();
	fill_worker(&w, 1);
	w.bgw_notify_pid = 0;
	while (ok < MAX_WORKERS && now_s() < deadline)
	{
		if (RegisterDynamicBackgroundWorker(&w, &h[ok]))
			ok++;
		else
			nap_ms(10);			/* a slot may still be on its way back */
	}
	for (int i = 0; i < ok; i++)
	{
		pid_t		pid;

		if (WaitForBackgroundWorkerStartup(h[i], &pid) != BGWH_STARTED)
			out("# checker: worker %d did not start", i);
	}
	for (int i = 0; i < ok; i++)
		TerminateBackgroundWorker(h[i]);
	for (int i = 0; i < ok; i++)
	{
		WaitForBackgroundWorkerShutdown(h[i]);
		free(h[i]);
	}
	_exit(ok == MAX_WORKERS ? 0 : 10 + (MAX_WORKERS - ok));
}

/* Wait for child *p (bounded); returns its status, or -1 (then killed). */
static int
wait_child(pid_t *p, int timeout_s)
{
	double		deadline = now_s() + timeout_s;
	int			st = 0;

	while (now_s() < deadline)
	{
		if (waitpid(*p, &st, WNOHANG) == *p)
		{
			*p = -1;
			return st;
		}
		nap_ms(5);
	}
	end_pid(p);
	return -1;
}

/* Was `pid` a host this program SIGKILLed? */
static int
was_killed_host(long pid)
{
	for (int i = 0; i < n_killed; i++)
		if (killed_hosts[i] == pid)
			return 1;
	return 0;
}

/*
 * A dynamic worker outlives the process that registered it, as in
 * PostgreSQL: a sleeper whose host this program SIGKILLed runs until it is
 * terminated or a crash cycle ends it. After the hosts stop, those orphans,
 * and only those, are terminated here: workers whose registered_by (in
 * bgworkerctl status --json) is a killed host. Any other worker is left to
 * the checks. Returns how many orphans were terminated.
 */
static long
end_orphans(int timeout_s)
{
	static char buf[256 * 1024];
	static pid_t ended[MAX_WORKERS * 64];
	int			n_ended = 0;
	double		deadline = now_s() + timeout_s;
	char		cmd[8400];
	const char *slash = strrchr(bgworkerd_path, '/');

	snprintf(cmd, sizeof(cmd), "'%.*sbgworkerctl' -D '%s' status --json 2>/dev/null",
			 slash ? (int) (slash - bgworkerd_path + 1) : 0, bgworkerd_path, rundir);
	while (now_s() < deadline)
	{
		pid_t		w[MAX_PIDS];
		int			zombies = 0;
		FILE	   *f;
		size_t		len;
		char	   *p;

		if (daemon_children(daemon_pid, w, MAX_PIDS, &zombies) == 0)
			break;
		f = popen(cmd, "r");
		if (f == NULL)
			break;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		pclose(f);
		buf[len] = '\0';
		p = strstr(buf, "\"workers\":[");
		while (p != NULL && (p = strstr(p, "{\"slot\":")) != NULL)
		{
			char	   *next = strstr(p + 1, "{\"slot\":");
			char	   *pid_at = strstr(p, ",\"pid\":");
			char	   *reg_at = strstr(p, ",\"registered_by\":");
			long		pid,
						reg;
			int			seen = 0;

			p++;
			if (pid_at == NULL || reg_at == NULL ||
				(next != NULL && (pid_at > next || reg_at > next)))
				continue;
			pid = strtol(pid_at + strlen(",\"pid\":"), NULL, 10);
			reg = strtol(reg_at + strlen(",\"registered_by\":"), NULL, 10);
			if (pid <= 0 || !was_killed_host(reg))
				continue;
			for (int i = 0; i < n_ended; i++)
				seen |= ended[i] == (pid_t) pid;
			if (!seen)
			{
				int			fd = pidfd_of_child((pid_t) pid, daemon_pid);

				if (fd >= 0)
				{
					pidfd_signal(fd, SIGTERM);
					close(fd);
					if (n_ended < (int) (sizeof(ended) / sizeof(ended[0])))
						ended[n_ended++] = (pid_t) pid;
				}
			}
		}
		nap_ms(50);
	}
	return n_ended;
}

/* Wait until bgworkerd has no worker and no zombie child (bounded). */
static int
wait_quiet(int timeout_s, int *zombies)
{
	double		deadline = now_s() + timeout_s;
	pid_t		w[MAX_PIDS];
	int			n = 0;

	while (now_s() < deadline)
	{
		n = daemon_children(daemon_pid, w, MAX_PIDS, zombies);
		if (n == 0 && *zombies == 0)
			return 0;
		nap_ms(10);
	}
	return n;
}

static void
run_soak(long cycles, double limit_s)
{
	long		worker_kills = 0,
				worker_stops = 0,
				host_kills = 0,
				host_stops = 0,
				crash_before;
	long		fd_base,
				fd_end,
				rss_base,
				rss_end;
	double		t0,
				last_report,
				t_final;
	int			zombies = 0,
				st;

	start_daemon();
	if (daemon_pid <= 0)
		return;

	/* warm-up: the baseline of descriptors and memory */
	extra_pid = spawn_host(NHOSTS, 500, 1);
	st = wait_child(&extra_pid, 120);
	if (st != 0)
		failure("warm-up host ended with status %d", st);
	wait_quiet(10, &zombies);
	fd_base = count_fds(daemon_pid);
	rss_base = rss_kb(daemon_pid);
	sh->cycles[NHOSTS] = 0;

	crash_before = log_count("all server processes terminated; reinitializing");
	for (int i = 0; i < NHOSTS; i++)
		hosts[i] = spawn_host(i, 0, 1);
	t0 = last_report = now_s();
	while (total_cycles() < cycles)
	{
		long		r = (long) (rnd() % 100);
		pid_t		w[MAX_PIDS];
		int			n;

		if (now_s() - t0 > limit_s)
		{
			failure("soak: only %ld of %ld cycles within %.0f s", total_cycles(), cycles,
					limit_s);
			break;
		}
		if (daemon_pid <= 0 || waitpid(daemon_pid, &st, WNOHANG) == daemon_pid)
		{
			daemon_pid = -1;
			failure("soak: bgworkerd died (status %d)", st);
			break;
		}
		/* hosts that ended (killed by us, or failed) */
		for (int i = 0; i < NHOSTS; i++)
		{
			if (hosts[i] > 0 && waitpid(hosts[i], &st, WNOHANG) == hosts[i])
			{
				if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
					failure("soak: host %d ended with status %d", (int) hosts[i], st);
				hosts[i] = spawn_host(i, 0, 1);
			}
		}
		if (r < 16)
		{
			int			fd = -1;

			n = daemon_children(daemon_pid, w, MAX_PIDS, NULL);
			if (n > 0)
				fd = pidfd_of_child(w[rnd() % n], daemon_pid);
			if (fd >= 0 && r < 8)
			{
				pidfd_signal(fd, SIGKILL);
				worker_kills++;
			}
			else if (fd >= 0)
			{
				pidfd_signal(fd, SIGSTOP);
				nap_ms(5 + (long) (rnd() % 46));
				pidfd_signal(fd, SIGCONT);
				worker_stops++;
			}
			if (fd >= 0)
				close(fd);
		}
		else if (r < 20)
		{
			int			i = (int) (rnd() % NHOSTS);

			kill(hosts[i], SIGKILL);
			waitpid(hosts[i], NULL, 0);
			if (n_killed < MAX_KILLED)
				killed_hosts[n_killed++] = hosts[i];
			hosts[i] = spawn_host(i, 0, 1);
			host_kills++;
		}
		else if (r < 28)
		{
			stopped_pid = hosts[rnd() % NHOSTS];
			kill(stopped_pid, SIGSTOP);
			nap_ms(5 + (long) (rnd() % 146));
			kill(stopped_pid, SIGCONT);
			stopped_pid = -1;
			host_stops++;
		}
		nap_ms(10 + (long) (rnd() % 21));
		if (now_s() - last_report >= 10)
		{
			last_report = now_s();
			out("# soak: %ld cycles after %.0f s", total_cycles(), last_report - t0);
		}
	}
	sh->stop_hosts = 1;
	for (int i = 0; i < NHOSTS; i++)
	{
		st = wait_child(&hosts[i], 30);
		if (st != 0 && st != -1)
			failure("soak: host ended with status %d at the end", st);
		else if (st == -1)
			failure("soak: a host did not finish within 30 s (hang)");
	}
	sh->stop_hosts = 0;
	out("soak_cycles %ld count", total_cycles());
	out("soak_seconds %.1f s", now_s() - t0);
	out("soak_cycles_per_s %.0f workers/s", total_cycles() / (now_s() - t0));
	out("soak_worker_sigkills %ld count", worker_kills);
	out("soak_worker_sigstops %ld count", worker_stops);
	out("soak_host_sigkills %ld count", host_kills);
	out("soak_host_sigstops %ld count", host_stops);
	out("soak_crash_cycles %ld count",
		log_count("all server processes terminated; reinitializing") - crash_before);
	if (daemon_pid <= 0)
		return;

	/* the checks */
	out("# soak: %ld workers of killed hosts terminated", end_orphans(10));
	if (wait_quiet(20, &zombies) != 0)
		failure("workers still running 20 s after the hosts stopped");
	out("soak_zombies %d count", zombies);
	if (zombies != 0)
		failure("%d zombie children of bgworkerd", zombies);
	extra_pid = fork();
	if (extra_pid == 0)
		checker_main();
	st = wait_child(&extra_pid, 60);
	out("soak_slots_lost %d count", st == 0 ? 0 : (st > 0 && WIFEXITED(st) ? WEXITSTATUS(st) - 10 : -1));
	if (st != 0)
		failure("slots lost: the checker ended with status %d", st);

	t_final = now_s();
	extra_pid = spawn_host(NHOSTS, 1000, 0);
	st = wait_child(&extra_pid, 120);
	t_final = now_s() - t_final;
	if (st != 0 || sh->cycles[NHOSTS] != 1000)
		failure("final run: status %d after %ld cycles", st, sh->cycles[NHOSTS]);
	out("final_cycles %ld count", sh->cycles[NHOSTS]);
	out("final_cycles_per_s %.0f workers/s", sh->cycles[NHOSTS] / t_final);
	wait_quiet(10, &zombies);
	fd_end = count_fds(daemon_pid);
	rss_end = rss_kb(daemon_pid);
	out("soak_fds_before %ld count", fd_base);
	out("soak_fds_after %ld count", fd_end);
	out("soak_rss_before %ld kB", rss_base);
	out("soak_rss_after %ld kB", rss_end);
	if (fd_end > fd_base + 2)
		failure("descriptors grew: %ld -> %ld", fd_base, fd_end);
	if (rss_end > rss_base + 1024)
		failure("RSS grew: %ld -> %ld kB", rss_base, rss_end);
	check_decoys("soak");

	st = stop_daemon(30);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		failure("bgworkerd did not stop cleanly after the soak (status %d)", st);
}

/* ---- fuzz ---- */

/* The host beside the fuzzer: bounded waits, counts outcomes. */
static void
fuzz_host_main(void)
{
	BackgroundWorker w;

	host_attach();
	fill_worker(&w, 0);
	while (!sh->stop_hosts)
	{
		BackgroundWorkerHandle *h = NULL;
		double		deadline;
		pid_t		pid;

		if (!RegisterDynamicBackgroundWorker(&w, &h))
		{
			nap_ms(5);
			continue;
		}
		deadline = now_s() + 2;
		for (;;)
		{
			BgwHandleStatus st = GetBackgroundWorkerPid(h, &pid);

			if (st == BGWH_STOPPED)
			{
				sh->fuzz_host_ok++;
				break;
			}
			if (st == BGWH_POSTMASTER_DIED || now_s() > deadline)
			{
				sh->fuzz_host_timeouts++;
				break;
			}
			nap_ms(1);
		}
		free(h);
	}
	_exit(0);
}

static void
fuzzer_main(long mutations)
{
	char		segname[256] = "",
				shm[300];
	FILE	   *pf;
	int			fd;
	struct stat stt;
	unsigned char *seg,
			   *orig;
	size_t		size;
	pid_t		sup = 0;
	int32_t		values[NDECOYS + 6];
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ignore_sig;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(0);
	pf = fopen(pidpath, "r");
	if (pf == NULL || fscanf(pf, "%d %255s", &sup, segname) != 2)
		_exit(2);
	fclose(pf);
	snprintf(shm, sizeof(shm), "/dev/shm/%s", segname[0] == '/' ? segname + 1 : segname);
	fd = open(shm, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &stt) != 0)
		_exit(2);
	size = (size_t) stt.st_size;
	seg = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (seg == MAP_FAILED)
		_exit(2);
	orig = malloc(size);
	if (orig == NULL)
		_exit(2);
	memcpy(orig, seg, size);
	for (int i = 0; i < NDECOYS; i++)
		values[i] = decoys[i];
	values[NDECOYS] = 0;
	values[NDECOYS + 1] = -1;
	values[NDECOYS + 2] = INT32_MAX;
	values[NDECOYS + 3] = INT32_MIN;
	values[NDECOYS + 4] = decoys[0];
	values[NDECOYS + 5] = -decoys[1];	/* a process group */

	for (long m = 0; m < mutations; m++)
	{
		uint64_t	r = rnd();
		size_t		off = (size_t) ((r >> 8) % size);
		unsigned	kind = (unsigned) (r & 0xff) % 100;

		if (kind < 35)
		{
			int32_t		v = values[(r >> 40) % (NDECOYS + 6)];

			off &= ~(size_t) 3;
			if (off + 4 <= size)
				__atomic_store_n((int32_t *) (seg + off), v, __ATOMIC_RELAXED);
		}
		else if (kind < 60)
			__atomic_store_n(seg + off, (unsigned char) (rnd() & 0xff), __ATOMIC_RELAXED);
		else if (kind < 80)
		{
			off &= ~(size_t) 7;
			if (off + 8 <= size)
				__atomic_store_n((uint64_t *) (seg + off), rnd(), __ATOMIC_RELAXED);
		}
		else if (kind < 90)
		{
			off &= ~(size_t) 3;
			if (off + 4 <= size)
				__atomic_store_n((uint32_t *) (seg + off), 1u, __ATOMIC_RELAXED);
		}
		else
		{
			/* put a piece of the original back (valid-looking states again) */
			size_t		len = 64;

			off &= ~(size_t) 7;
			if (off + len > size)
				len = size - off;
			for (size_t i = 0; i + 8 <= len; i += 8)
				__atomic_store_n((uint64_t *) (seg + off + i),
								 *(uint64_t *) (orig + off + i), __ATOMIC_RELAXED);
		}
		if (m % 64 == 63)
		{
			/* a batch: show it to the supervisor and let it act on it */
			kill(sup, SIGUSR1);
			sh->fuzz_done = m + 1;
			nap_us(250);
		}
		if (m % 50000 == 49999)
		{
			/* no hang: the supervisor answers a SIGHUP within 5 s */
			const char *needle = "received SIGHUP, reloading configuration files";
			int			before = log_count(needle);
			double		deadline = now_s() + 5;

			kill(sup, SIGHUP);
			while (now_s() < deadline && log_count(needle) <= before)
				nap_ms(5);
			if (log_count(needle) <= before)
				sh->fuzz_unanswered++;
			else
				sh->fuzz_answered++;
		}
	}
	/* SOAK_SELFTEST=stray: a signal to a decoy, which the run must catch */
	if (getenv("SOAK_SELFTEST") != NULL && strcmp(getenv("SOAK_SELFTEST"), "stray") == 0)
		kill(decoys[0], SIGUSR1);
	sh->fuzz_done = mutations;
	_exit(0);
}

static void
run_fuzz(long mutations)
{
	pid_t		fuzz_host;
	double		t0 = now_s();
	int			st = 0,
				zombies = 0,
				hangs = 0;

	start_daemon();
	if (daemon_pid <= 0)
		return;
	fuzz_host = fork();
	if (fuzz_host == 0)
		fuzz_host_main();
	extra_pid = fork();
	if (extra_pid == 0)
		fuzzer_main(mutations);
	while (extra_pid > 0)
	{
		if (waitpid(extra_pid, &st, WNOHANG) == extra_pid)
		{
			extra_pid = -1;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failure("fuzz: the fuzzer ended with status %d", st);
			break;
		}
		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid)
		{
			daemon_pid = -1;
			failure("fuzz: bgworkerd died after %ld writes (status %d)", sh->fuzz_done, st);
			break;
		}
		nap_ms(20);
	}
	if (sh->fuzz_unanswered > 0)
	{
		hangs += (int) sh->fuzz_unanswered;
		failure("fuzz: bgworkerd did not answer %ld SIGHUP(s) within 5 s",
				sh->fuzz_unanswered);
	}
	end_pid(&extra_pid);
	sh->stop_hosts = 1;
	st = wait_child(&fuzz_host, 30);
	sh->stop_hosts = 0;
	if (st == -1)
	{
		hangs++;
		failure("fuzz: the host did not finish within 30 s (hang)");
	}
	else if (WIFSIGNALED(st))
		failure("fuzz: the host died of signal %d", WTERMSIG(st));
	out("fuzz_mutations %ld count", sh->fuzz_done);
	out("fuzz_seconds %.1f s", now_s() - t0);
	out("fuzz_host_cycles_ok %ld count", sh->fuzz_host_ok);
	out("fuzz_host_cycles_timed_out %ld count", sh->fuzz_host_timeouts);
	out("fuzz_sighup_answered %ld count", sh->fuzz_answered);
	check_decoys("fuzz");
	{
		int			stray = 0;

		for (int i = 0; i < NDECOYS; i++)
			stray += sh->decoy_hits[i];
		out("fuzz_stray_signals %d count", stray);
	}
	if (daemon_pid > 0)
	{
		wait_quiet(10, &zombies);
		out("fuzz_zombies %d count", zombies);
		if (zombies != 0)
			failure("fuzz: %d zombie children of bgworkerd", zombies);
		st = stop_daemon(30);
		if (st == -1)
		{
			hangs++;
			failure("fuzz: bgworkerd did not stop within 30 s of SIGINT");
		}
		else if (!WIFEXITED(st))
			failure("fuzz: bgworkerd was killed by signal %d at stop", WTERMSIG(st));
		else
			out("# fuzz: bgworkerd stopped with exit code %d", WEXITSTATUS(st));
		out("fuzz_supervisor_crashes %d count", 0);
	}
	else
		out("fuzz_supervisor_crashes %d count", 1);
	out("fuzz_hangs %d count", hangs);
}

int
main(int argc, char **argv)
{
	long		cycles,
				mutations;
	int			limit;
	const char *seed = getenv("SOAK_SEED");

	if (argc != 7)
	{
		fprintf(stderr, "usage: soak BGWORKERD MODULE SCRATCH CYCLES MUTATIONS TIME_LIMIT_S\n");
		return 2;
	}
	bgworkerd_path = argv[1];
	module_path = argv[2];
	scratch = argv[3];
	cycles = atol(argv[4]);
	mutations = atol(argv[5]);
	limit = atoi(argv[6]);
	rng = seed != NULL && *seed ? strtoull(seed, NULL, 10) : (uint64_t) time(NULL) * 2654435761u;
	if (rng == 0)
		rng = 1;
	out("# seed %llu (SOAK_SEED)", (unsigned long long) rng);
	snprintf(rundir, sizeof(rundir), "%s/run", scratch);
	snprintf(logpath, sizeof(logpath), "%s/bgworkerd.log", scratch);
	snprintf(pidpath, sizeof(pidpath), "%s/bgworkerd.pid", rundir);
	if (mkdir(rundir, 0700) != 0 && errno != EEXIST)
	{
		out("soak: FAIL: mkdir %s: %s", rundir, strerror(errno));
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset((void *) sh, 0, sizeof(*sh));
	for (int i = 0; i < NHOSTS; i++)
		hosts[i] = -1;
	for (int i = 0; i < NDECOYS; i++)
		decoys[i] = -1;
	signal(SIGALRM, on_alarm);
	alarm((unsigned) limit + 120);

	start_decoys();
	if (cycles > 0)
		run_soak(cycles, (double) limit);
	for (int i = 0; i < NHOSTS; i++)
		end_pid(&hosts[i]);
	end_pid(&extra_pid);
	end_pid(&daemon_pid);
	if (mutations > 0 && failures[0] == '\0')
		run_fuzz(mutations);
	end_all();
	if (failures[0] != '\0')
	{
		out("soak: FAIL: %s", failures);
		return 1;
	}
	out("soak: PASS");
	return 0;
}
