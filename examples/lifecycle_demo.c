/*
 * lifecycle_demo.c
 *		A tour of the background-worker life cycle, as a module that bgworkerd
 *		loads through shared_preload_libraries (see examples/run.sh).
 *
 * _PG_init registers one static worker, "lifecycle demo supervisor".  Every
 * few seconds it runs a round of three dynamic workers and reports what it
 * sees, while bgworkerd logs its side of the story:
 *
 *   demo task 1  works briefly and exits 0: done, its slot is freed.
 *   demo task 2  exits 1 on its first run; with bgw_restart_time = 2 it is
 *                started again 2 s later, and then exits 0.
 *   demo task 3  sleeps until the supervisor calls TerminateBackgroundWorker;
 *                the default SIGTERM handling ends it with a FATAL message.
 *
 * demo_flaky_main is not used by the supervisor: it is there to be launched
 * from the shell with bgworkerctl (see README.md).  It works for main_arg
 * seconds (10 if 0), then exits 1, so bgworkerd restarts it after its
 * bgw_restart_time.
 *
 * The supervisor itself leaves quietly on SIGTERM (shutdown), through its own
 * handler.  Output goes to stderr with write(2): this module uses only the
 * bgworker.h API and libc.
 */
#include "postgres.h"

#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "fmgr.h"
#include "postmaster/bgworker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void demo_supervisor_main(Datum arg);
PGDLLEXPORT void demo_task_main(Datum arg);
PGDLLEXPORT void demo_flaky_main(Datum arg);

#define LIBRARY "lifecycle_demo"	/* found on dynamic_library_path */
#define ROUND_PAUSE_MS 4000

enum
{
	TASK_DONE = 1,				/* exit 0 */
	TASK_FAILS_ONCE = 2,		/* exit 1, restarted, then exit 0 */
	TASK_TERMINATED = 3			/* runs until terminated */
};

static volatile sig_atomic_t shutdown_requested = 0;

/* ---------------------------------------------------------------- helpers */

static void say(const char *fmt,...) pg_attribute_printf(1, 2);

/* One line on stderr, prefixed like bgworkerd's own log lines. */
static void
say(const char *fmt,...)
{
	char		line[512];
	struct timespec now;
	struct tm	tm;
	size_t		len;
	va_list		ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	len += snprintf(line + len, sizeof(line) - len, ".%03d UTC [%d] demo:  ",
					(int) (now.tv_nsec / 1000000), (int) getpid());
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
	{
		/* nowhere to report it */
	}
}

static double
monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds, cut short by a shutdown request. */
static void
nap(int ms)
{
	for (; ms > 0 && !shutdown_requested; ms -= 50)
	{
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

static void
on_sigterm(int signo)
{
	(void) signo;
	shutdown_requested = 1;
}

/* ------------------------------------------------------------------ tasks */

/*
 * Entry point of the dynamic workers.  bgw_extra carries the time (CLOCK_
 * MONOTONIC, seconds) at which the supervisor registered the task, which is
 * how task 2 tells its first run from its restart.
 */
void
demo_task_main(Datum arg)
{
	double		registered;
	double		age;

	memcpy(&registered, MyBgworkerEntry->bgw_extra, sizeof(registered));
	age = monotonic_s() - registered;

	/* SIGTERM keeps its default meaning: end with a FATAL message */
	BackgroundWorkerUnblockSignals();

	switch (DatumGetInt32(arg))
	{
		case TASK_DONE:
			say("%s: working for 300 ms, then exit 0", MyBgworkerEntry->bgw_name);
			nap(300);
			return;				/* returning = exit code 0 */

		case TASK_FAILS_ONCE:
			if (age < 1.0)
			{
				say("%s: first run, something goes wrong: exit 1 (restart in 2 s)",
					MyBgworkerEntry->bgw_name);
				nap(200);
				exit(1);
			}
			say("%s: restarted %.1f s after registration, this time it works: exit 0",
				MyBgworkerEntry->bgw_name, age);
			nap(200);
			return;

		case TASK_TERMINATED:
			say("%s: waiting to be terminated", MyBgworkerEntry->bgw_name);
			for (;;)
				pause();
	}
	exit(1);
}

/*
 * Launched from the shell (bgworkerctl launch ... --function demo_flaky_main
 * --arg SECONDS --restart SECONDS): works, then fails with exit code 1, and
 * bgworkerd starts it again after the restart interval.  SIGTERM keeps its
 * default meaning, so bgworkerctl terminate ends it with a FATAL message.
 */
void
demo_flaky_main(Datum arg)
{
	int			seconds = DatumGetInt32(arg) > 0 ? DatumGetInt32(arg) : 10;

	BackgroundWorkerUnblockSignals();
	say("%s: working for %d s, then failing with exit code 1",
		MyBgworkerEntry->bgw_name, seconds);
	nap(seconds * 1000);
	say("%s: something went wrong: exit 1", MyBgworkerEntry->bgw_name);
	exit(1);
}

/* ------------------------------------------------------------- supervisor */

static BackgroundWorkerHandle *
launch(int task, int restart_s)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	double		now = monotonic_s();

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "demo task %d", task);
	snprintf(w.bgw_type, BGW_MAXLEN, "demo task");
	snprintf(w.bgw_library_name, BGW_MAXLEN, LIBRARY);
	snprintf(w.bgw_function_name, BGW_MAXLEN, "demo_task_main");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = restart_s;
	w.bgw_main_arg = Int32GetDatum(task);
	w.bgw_notify_pid = getpid();	/* SIGUSR1 on every state change */
	memcpy(w.bgw_extra, &now, sizeof(now));

	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		say("could not register demo task %d (no free slot?)", task);
		return NULL;
	}
	return handle;
}

static const char *
status_name(BgwHandleStatus st)
{
	switch (st)
	{
		case BGWH_STARTED:
			return "started";
		case BGWH_NOT_YET_STARTED:
			return "not yet started";
		case BGWH_STOPPED:
			return "stopped";
		case BGWH_POSTMASTER_DIED:
			return "bgworkerd died";
	}
	return "?";
}

/* Wait until the task runs; returns its pid, or 0. */
static pid_t
await_start(int task, BackgroundWorkerHandle *h)
{
	pid_t		pid = 0;
	BgwHandleStatus st = WaitForBackgroundWorkerStartup(h, &pid);

	if (st != BGWH_STARTED)
	{
		if (!shutdown_requested)
			say("demo task %d: %s", task, status_name(st));
		return 0;
	}
	if (!shutdown_requested)
		say("demo task %d started as PID %d", task, (int) pid);
	return pid;
}

static void
await_stop(int task, BackgroundWorkerHandle *h)
{
	BgwHandleStatus st = WaitForBackgroundWorkerShutdown(h);

	if (!shutdown_requested)	/* at shutdown, leave quietly */
		say("demo task %d %s", task, status_name(st));
}

/* Poll until a stopped-but-restartable task is running again. */
static pid_t
await_restart(int task, BackgroundWorkerHandle *h, pid_t old_pid, int timeout_ms)
{
	for (; timeout_ms > 0 && !shutdown_requested; timeout_ms -= 100)
	{
		pid_t		pid = 0;

		if (GetBackgroundWorkerPid(h, &pid) == BGWH_STARTED && pid != old_pid)
		{
			say("demo task %d restarted as PID %d", task, (int) pid);
			return pid;
		}
		nap(100);
	}
	return 0;
}

static void
run_round(int round)
{
	BackgroundWorkerHandle *h;
	pid_t		pid;

	say("--- round %d ---", round);

	/* 1: start, run, exit 0 -> forgotten */
	if ((h = launch(TASK_DONE, BGW_NEVER_RESTART)) != NULL)
	{
		if (await_start(TASK_DONE, h))
			await_stop(TASK_DONE, h);
		free(h);
	}
	if (shutdown_requested)
		return;

	/* 2: exit 1 -> restarted after bgw_restart_time -> exit 0 */
	if ((h = launch(TASK_FAILS_ONCE, 2)) != NULL)
	{
		if ((pid = await_start(TASK_FAILS_ONCE, h)) != 0)
		{
			/* the handle reads "stopped" while the restart is pending */
			await_stop(TASK_FAILS_ONCE, h);
			say("demo task %d: waiting for bgworkerd to restart it", TASK_FAILS_ONCE);
			if (await_restart(TASK_FAILS_ONCE, h, pid, 5000))
				await_stop(TASK_FAILS_ONCE, h);
		}
		free(h);
	}
	if (shutdown_requested)
		return;

	/* 3: runs until TerminateBackgroundWorker -> forgotten (restartable or not) */
	if ((h = launch(TASK_TERMINATED, 2)) != NULL)
	{
		if (await_start(TASK_TERMINATED, h))
		{
			nap(500);
			if (!shutdown_requested)
				say("terminating demo task %d", TASK_TERMINATED);
			TerminateBackgroundWorker(h);
			await_stop(TASK_TERMINATED, h);
		}
		free(h);
	}
}

void
demo_supervisor_main(Datum arg)
{
	struct sigaction sa;
	int			round = 0;

	(void) arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	BackgroundWorkerUnblockSignals();

	say("supervisor up: a round of demo tasks every %d s", ROUND_PAUSE_MS / 1000);
	while (!shutdown_requested)
	{
		run_round(++round);
		nap(ROUND_PAUSE_MS);
	}
	/* returning ends the worker with exit code 0 */
}

/* ---------------------------------------------------------------- _PG_init */

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "lifecycle demo supervisor");
	snprintf(w.bgw_type, BGW_MAXLEN, "lifecycle demo supervisor");
	snprintf(w.bgw_library_name, BGW_MAXLEN, LIBRARY);
	snprintf(w.bgw_function_name, BGW_MAXLEN, "demo_supervisor_main");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;		/* if it ever exits 1 or crashes */
	RegisterBackgroundWorker(&w);
}
