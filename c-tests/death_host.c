/*
 * death_host.c
 *		How soon a waiter learns that bgworkerd was killed: starts bgworkerd,
 *		attaches, registers one sleeping worker, parks a thread in
 *		WaitForBackgroundWorkerShutdown, SIGKILLs bgworkerd and times how
 *		long the waiter takes to return BGWH_POSTMASTER_DIED. Then checks
 *		that nothing of that bgworkerd is left: its worker and its sentinel
 *		(the child named "bgw_sentinel") are gone within a few seconds.
 *		Used by tests/death.rs (few rounds, generous bounds) and by
 *		make bench (bench/death.sh: more rounds, the figures).
 *
 * usage: death_host BGWORKERD SCRATCHDIR MODULE FUNCTION MAIN_ARG EXTRA ROUNDS
 *
 * Output, one line each:
 *	round N latency_ms=X status=S sentinel=PID
 *	death_detect_p50 X ms / death_detect_p99 X ms / death_detect_max X ms
 *	death_rounds N count
 *	leftover_processes N count
 *	FAIL: ...		(exit 1)
 * Every process it starts is ended by pid; SCRATCHDIR/run is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bgworker.h"

#define MAX_ROUNDS 1000

static pid_t daemon_pid = -1;

static void fail(const char *fmt,...) __attribute__((noreturn, format(printf, 1, 2)));

static void
fail(const char *fmt,...)
{
	va_list		ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (daemon_pid > 0)
	{
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The pid's state letter and parent from /proc/PID/stat; 0 if gone. */
static char
proc_state(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	char		path[64],
				buf[512];
	FILE	   *f;
	char	   *open,
			   *close;
	char		st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL)
	{
		open = strchr(buf, '(');
		close = strrchr(buf, ')');
		if (open != NULL && close != NULL && close[1] == ' ')
		{
			int			pp = 0;

			if (comm != NULL)
				snprintf(comm, commlen, "%.*s", (int) (close - open - 1), open + 1);
			if (sscanf(close + 2, "%c %d", &st, &pp) != 2)
				st = 0;
			if (ppid != NULL)
				*ppid = pp;
		}
	}
	fclose(f);
	return st;
}

static int
alive(pid_t pid)
{
	char		st = proc_state(pid, NULL, NULL, 0);

	return st != 0 && st != 'Z' && st != 'X';
}

/* The child of `parent` named bgw_sentinel, or 0. */
static pid_t
find_sentinel(pid_t parent)
{
	DIR		   *d = opendir("/proc");
	struct dirent *e;
	pid_t		found = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		pid_t		pid = atoi(e->d_name),
					pp = 0;
		char		comm[64] = "";

		if (pid <= 0)
			continue;
		if (proc_state(pid, &pp, comm, sizeof(comm)) != 0 && pp == parent &&
			strcmp(comm, "bgw_sentinel") == 0)
		{
			found = pid;
			break;
		}
	}
	closedir(d);
	return found;
}

struct waiter
{
	BackgroundWorkerHandle *h;
	BgwHandleStatus st;
	double		done_at;
};

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->st = WaitForBackgroundWorkerShutdown(w->h);
	w->done_at = now_ms();
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
percentile(const double *sorted, int n, double p)
{
	int			i = (int) (p / 100.0 * (n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

static void
start_daemon(const char *bgworkerd, const char *rundir, const char *logpath)
{
	pid_t		pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0)
	{
		int			fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd >= 0)
		{
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bgworkerd, bgworkerd, "-D", rundir, "-c", "max_worker_processes=4",
			  (char *) NULL);
		_exit(127);
	}
	daemon_pid = pid;
}

int
main(int argc, char **argv)
{
	static double lat[MAX_ROUNDS];
	char		rundir[4096],
				logpath[4200],
				pidpath[4200];
	int			rounds,
				left = 0;

	if (argc != 8)
	{
		fprintf(stderr, "usage: death_host BGWORKERD SCRATCHDIR MODULE FUNCTION MAIN_ARG EXTRA ROUNDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rounds = atoi(argv[7]);
	if (rounds < 1 || rounds > MAX_ROUNDS)
		fail("ROUNDS must be 1..%d", MAX_ROUNDS);
	snprintf(rundir, sizeof(rundir), "%s/run", argv[2]);
	snprintf(logpath, sizeof(logpath), "%s/bgworkerd.log", argv[2]);
	snprintf(pidpath, sizeof(pidpath), "%s/bgworkerd.pid", rundir);
	if (mkdir(rundir, 0700) != 0 && errno != EEXIST)
		fail("mkdir %s: %s", rundir, strerror(errno));

	for (int r = 0; r < rounds; r++)
	{
		BackgroundWorker w;
		struct waiter wt = {0};
		pthread_t	th;
		pid_t		worker = 0,
					sentinel;
		double		t0,
					deadline;
		int			attached = 0;
		char		segment[256] = "";
		FILE	   *pf;
		pid_t		killed;

		start_daemon(argv[1], rundir, logpath);
		deadline = now_ms() + 20000;
		while (now_ms() < deadline)
		{
			if (bgw_attach(rundir) == 0)
			{
				attached = 1;
				break;
			}
			if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid)
			{
				daemon_pid = -1;
				fail("bgworkerd exited at start (see %s)", logpath);
			}
			nap_ms(5);
		}
		if (!attached)
			fail("could not attach to %s: %s", rundir, bgw_last_error());
		pf = fopen(pidpath, "r");
		if (pf == NULL || fscanf(pf, "%*d %255s", segment) != 1)
			fail("could not read the segment name from %s", pidpath);
		fclose(pf);

		memset(&w, 0, sizeof(w));
		snprintf(w.bgw_name, BGW_MAXLEN, "death_sleeper");
		snprintf(w.bgw_type, BGW_MAXLEN, "death_sleeper");
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "%s", argv[3]);
		snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", argv[4]);
		w.bgw_main_arg = (Datum) atol(argv[5]);
		snprintf(w.bgw_extra, BGW_EXTRALEN, "%s", argv[6]);
		if (!RegisterDynamicBackgroundWorker(&w, &wt.h))
			fail("register: %s", bgw_last_error());
		if (WaitForBackgroundWorkerStartup(wt.h, &worker) != BGWH_STARTED)
			fail("the worker did not start (see %s)", logpath);
		/* 0 if there is none (then waiters rely on their periodic check) */
		sentinel = find_sentinel(daemon_pid);

		if (pthread_create(&th, NULL, wait_thread, &wt) != 0)
			fail("pthread_create");
		/* let the waiter park on the futex */
		nap_ms(10);
		t0 = now_ms();
		kill(daemon_pid, SIGKILL);
		pthread_join(th, NULL);
		lat[r] = wt.done_at - t0;
		printf("round %d latency_ms=%.3f status=%s sentinel=%d\n", r, lat[r],
			   wt.st == BGWH_POSTMASTER_DIED ? "POSTMASTER_DIED" : "OTHER", (int) sentinel);
		if (wt.st != BGWH_POSTMASTER_DIED)
			fail("the waiter returned %d, not BGWH_POSTMASTER_DIED", (int) wt.st);
		waitpid(daemon_pid, NULL, 0);
		killed = daemon_pid;
		daemon_pid = -1;
		free(wt.h);
		bgw_detach();

		/* nothing of it may stay: the worker and the sentinel end */
		deadline = now_ms() + 5000;
		while (now_ms() < deadline && (alive(worker) || (sentinel > 0 && alive(sentinel))))
			nap_ms(2);
		if (alive(worker))
		{
			printf("left: worker %d\n", (int) worker);
			kill(worker, SIGKILL);
			left++;
		}
		if (sentinel > 0 && alive(sentinel))
		{
			printf("left: sentinel %d\n", (int) sentinel);
			kill(sentinel, SIGKILL);
			left++;
		}
		/* what the killed bgworkerd could not remove */
		if (segment[0] != '\0')
		{
			char		shm[300];

			snprintf(shm, sizeof(shm), "/dev/shm/%s", segment[0] == '/' ? segment + 1 : segment);
			unlink(shm);
		}
		/* and its control segment of dynamic shared memory (it had no
		 * dynamic segments: the sleeper creates none) */
		{
			char		shm[64];

			snprintf(shm, sizeof(shm), "/dev/shm/bgworker.%d.dsm", (int) killed);
			unlink(shm);
		}
		unlink(pidpath);
	}
	rmdir(rundir);

	qsort(lat, rounds, sizeof(double), cmp_double);
	printf("death_detect_p50 %.3f ms\n", percentile(lat, rounds, 50));
	printf("death_detect_p99 %.3f ms\n", percentile(lat, rounds, 99));
	printf("death_detect_max %.3f ms\n", lat[rounds - 1]);
	printf("death_rounds %d count\n", rounds);
	printf("leftover_processes %d count\n", left);
	return left == 0 ? 0 : 1;
}
