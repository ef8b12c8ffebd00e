/*
 * host_embed.c
 *		A host program that embeds the supervisor (bgw_host_* API), and a
 *		client that attaches to it. Linked with -rdynamic, so that workers
 *		whose bgw_library_name is "postgres" or "" find host_worker_main in
 *		this very executable.
 *
 * usage: host_embed SCENARIO RUNDIR [args...]	(RUNDIR "-" means NULL)
 *
 * Supervisor scenarios (bgw_host_run in the main thread):
 *	self		static workers host_pg (library "postgres") and host_empty
 *				(library ""), both running host_worker_main; HOST_EXTRA_SET
 *				(environment) "NAME=VALUE": one more bgw_host_set first
 *	load DIR NAME
 *				dynamic_library_path = DIR, bgw_host_load_library(NAME), whose
 *				_PG_init registers its own worker; plus host_pg
 *	badconf MAGIC14_SO GOOD_SO
 *				invalid bgw_host_set / bgw_host_load_library calls first, then
 *				valid ones (max_worker_processes = 3, GOOD_SO), plus host_pg
 *	phase		start phase held at PostmasterStart; workers host_ph_pm,
 *				host_ph_cs, host_ph_rf for the three phases. SIGALRM raises
 *				the phase to ConsistentState (from the signal handler),
 *				SIGWINCH to RecoveryFinished (from a helper thread)
 *	serve		static worker host_srv; on SIGWINCH a helper thread calls
 *				RegisterDynamicBackgroundWorker in this (the supervisor)
 *				process
 *	children	static worker host_ch (restart 1 s); a helper thread forks a
 *				child that exits with status 42 and, on SIGWINCH, reaps it
 *				itself, then requests a fast shutdown
 *	crash on|off
 *				restart_after_crash as given; workers host_crasher (exits 2
 *				on SIGUSR2, never restarted) and host_victim (restart 1 s)
 *	early		a shutdown request before bgw_host_run; static host_pg
 *	atexit		the host registers an atexit handler that prints
 *				"host: atexit handler ran pid=P"; static worker host_ax prints
 *				"marker: stdio name=host_ax pid=P" through stdout's buffer
 *				(no flush) and returns
 *	rundirs BAD1 BAD2
 *				bgw_host_run(BAD1), bgw_host_run(BAD2) (run directories that
 *				cannot be used; their results are printed as "host: run bad1
 *				returned rc=N"), then the usual run on RUNDIR; static host_pg
 *
 * Every supervisor scenario: SIGUSR2 makes a signal handler call
 * bgw_host_request_shutdown(HOST_SHUTDOWN) (environment; 1 smart, 2 fast
 * (default), 3 immediate). Before bgw_host_run it prints
 *		host: pre-run register ok=0|1 error=...
 *		host: sigblk-before mask=<hex>
 * and afterwards
 *		host: run returned rc=N
 *		host: children-after-run n=N	(children of the host, zombies included)
 *		host: sigblk-after mask=<hex>
 *
 * Client scenario:
 *	client		bgw_attach(RUNDIR); a dynamic worker host_dyn with library
 *				"postgres"; prints "step: started pid=N type=T" and waits for
 *				SIGUSR2; terminates it and prints its shutdown status
 *
 * Worker entry point host_worker_main prints
 *		marker: start name=N type=T lib=L pid=P ppid=Q arg=A
 * then follows its bgw_extra words: exit=N, crash (on SIGUSR2 exit 2),
 * loop (unblock signals, "marker: ready name=N pid=P", wait forever).
 *
 * Everything is written to stderr, one line per write(2), so that the
 * host's lines, the library's log and the workers' markers arrive in the
 * order they were written.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "bgworker.h"

/* Everything goes to stderr (see above). */
#define LC_OUT_FD 2
#include "lc_common.h"

void		host_worker_main(Datum main_arg);

static const char *g_rundir;
static volatile sig_atomic_t crash_requested = 0;

/* A constant line from a signal handler (async-signal-safe). */
static void
say(const char *text)
{
	if (write(2, text, strlen(text)) < 0)
		return;
}

/*
 * Children of this process, zombies included (after bgw_host_run returns:
 * nothing of the supervisor, its sentinel included, may be left).
 */
static int
count_children(void)
{
	DIR		   *d = opendir("/proc");
	struct dirent *e;
	int			n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
	{
		char		path[300],
					buf[512],
				   *close;
		FILE	   *f;
		int			ppid = 0;
		char		st;

		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (close = strrchr(buf, ')')) != NULL &&
			sscanf(close + 1, " %c %d", &st, &ppid) == 2 && ppid == (int) getpid())
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* SigBlk of the main thread (call it from there), as /proc prints it. */
static void
read_sigblk(char *outbuf, size_t len)
{
	char		path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long) getpid());
	if (lc_read_sigblk_from(path, outbuf, len) != 0)
		snprintf(outbuf, len, "?");
}

static void
on_crash_signal(int signo)
{
	(void) signo;
	crash_requested = 1;
}

/* The entry point of workers whose library is this program. */
void
host_worker_main(Datum main_arg)
{
	char		name[BGW_MAXLEN];
	char		extra[BGW_EXTRALEN];
	const char *x;

	lc_worker_entry(name, extra);
	lc_out("marker: start name=%s type=%s lib=%s pid=%d ppid=%d arg=%lu", name,
		MyBgworkerEntry->bgw_type,
		MyBgworkerEntry->bgw_library_name[0] ? MyBgworkerEntry->bgw_library_name : "(empty)",
		(int) getpid(), (int) getppid(), (unsigned long) main_arg);

	if (lc_has_word(extra, "stdio"))
		printf("marker: stdio name=%s pid=%d\n", name, (int) getpid());
	x = strstr(extra, "exit=");
	if (x != NULL)
	{
		int			code = atoi(x + 5);

		if (code == 0)
			return;
		exit(code);
	}
	if (lc_has_word(extra, "crash"))
		lc_set_handler(SIGUSR2, on_crash_signal, 0);
	if (!lc_has_word(extra, "loop"))
		return;
	BackgroundWorkerUnblockSignals();
	lc_out("marker: ready name=%s pid=%d", name, (int) getpid());
	for (;;)
	{
		struct timespec ts = {0, 20 * 1000 * 1000};

		if (crash_requested)
		{
			lc_out("marker: crashing name=%s pid=%d", name, (int) getpid());
			_exit(2);
		}
		nanosleep(&ts, NULL);
	}
}

static void
make_self_worker(BackgroundWorker *w, const char *name, const char *lib,
				 BgWorkerStartTime start, int restart, const char *extra)
{
	lc_fill_worker(w, name, NULL, lib, "host_worker_main", extra);
	w->bgw_start_time = start;
	w->bgw_restart_time = restart;
	w->bgw_main_arg = (Datum) 42;
}

static void
register_static(const char *name, const char *lib, BgWorkerStartTime start,
				int restart, const char *extra)
{
	BackgroundWorker w;

	make_self_worker(&w, name, lib, start, restart, extra);
	RegisterBackgroundWorker(&w);
}

/* ---- signals of the supervisor scenarios ---- */

static int shutdown_mode = BGW_SHUTDOWN_FAST;

static void
on_sigusr2(int signo)
{
	(void) signo;
	say("host: shutdown requested from signal handler\n");
	bgw_host_request_shutdown(shutdown_mode);
}

static void
on_sigalrm(int signo)
{
	(void) signo;
	say("host: phase -> 1\n");
	bgw_host_set_start_phase(BgWorkerStart_ConsistentState);
}

/*
 * Block, in the main thread and so in every thread created later, the
 * signals the supervisor reads from its signalfd (as bgw_host_run asks of
 * other threads) and SIGWINCH, which the helper threads sigwait for.
 */
static void
block_supervisor_signals(void)
{
	sigset_t	s;

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGQUIT);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void
wait_sigwinch(void)
{
	sigset_t	s;
	int			sig;

	sigemptyset(&s);
	sigaddset(&s, SIGWINCH);
	while (sigwait(&s, &sig) != 0)
		;
}

/* ---- helper threads ---- */

static void *
phase_thread(void *arg)
{
	(void) arg;
	wait_sigwinch();
	say("host: phase -> 2\n");
	bgw_host_set_start_phase(BgWorkerStart_RecoveryFinished);
	return NULL;
}

static volatile sig_atomic_t idle_thread_running = 0;

static void *
idle_thread(void *arg)
{
	(void) arg;
	/* glibc starts a thread with all signals blocked until it runs */
	idle_thread_running = 1;
	for (;;)
		pause();
	return NULL;
}

static void *
self_register_thread(void *arg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	bool		ok;

	(void) arg;
	wait_sigwinch();
	make_self_worker(&w, "host_selfdyn", "postgres", BgWorkerStart_RecoveryFinished,
					 BGW_NEVER_RESTART, "loop");
	ok = RegisterDynamicBackgroundWorker(&w, &h);
	lc_out("host: self-register ok=%d handle=%d error=%s", (int) ok, h != NULL,
		ok ? "-" : lc_last_error());
	return NULL;
}

static void *
children_thread(void *arg)
{
	pid_t		child;
	pid_t		rc;
	int			status = 0;

	(void) arg;
	child = fork();
	if (child < 0)
		FAIL("fork: %s", strerror(errno));
	if (child == 0)
		_exit(42);
	lc_out("host: child pid=%d", (int) child);
	wait_sigwinch();
	rc = waitpid(child, &status, 0);
	if (rc < 0)
		lc_out("host: child waitpid rc=-1 errno=%d error=%s", errno, strerror(errno));
	else
		lc_out("host: child waitpid rc=%d exited=%d code=%d", (int) rc,
			WIFEXITED(status) ? 1 : 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	bgw_host_request_shutdown(BGW_SHUTDOWN_FAST);
	return NULL;
}

/* ---- scenarios ---- */

/* The host's own atexit handler (scenario atexit). */
static void
host_atexit(void)
{
	lc_out("host: atexit handler ran pid=%d", (int) getpid());
}

static void
check(const char *what, int rc)
{
	lc_out("host: call=%s rc=%d error=%s", what, rc, rc == 0 ? "-" : lc_last_error());
}

static int
run_supervisor(void *(*thread_fn) (void *))
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	pthread_t	th;
	char		before[64],
				after[64];
	bool		ok;
	int			rc;

	make_self_worker(&w, "host_prerun", "postgres", BgWorkerStart_RecoveryFinished,
					 BGW_NEVER_RESTART, "exit=0");
	ok = RegisterDynamicBackgroundWorker(&w, &h);
	lc_out("host: pre-run register ok=%d handle=%d error=%s", (int) ok, h != NULL,
		ok ? "-" : lc_last_error());

	/*
	 * Scenarios without a helper thread leave the signal mask alone, so that
	 * the restored mask after bgw_host_run is a meaningful check.
	 */
	if (thread_fn != NULL)
	{
		block_supervisor_signals();
		if (pthread_create(&th, NULL, thread_fn, NULL) != 0)
			FAIL("pthread_create");
	}
	read_sigblk(before, sizeof(before));
	lc_out("host: sigblk-before mask=%s", before);
	lc_out("host: running pid=%d", (int) getpid());
	rc = bgw_host_run(g_rundir);
	lc_out("host: run returned rc=%d", rc);
	lc_out("host: children-after-run n=%d", count_children());
	read_sigblk(after, sizeof(after));
	lc_out("host: sigblk-after mask=%s", after);
	return 0;
}

static int
scenario_client(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	BgwHandleStatus st;
	pid_t		pid = 0;
	const char *type;

	lc_step_init();

	if (bgw_attach(g_rundir) != 0)
		FAIL("bgw_attach(%s): %s", g_rundir, lc_last_error());
	lc_out("host: client attached pid=%d", (int) getpid());
	make_self_worker(&w, "host_dyn", "postgres", BgWorkerStart_RecoveryFinished,
					 BGW_NEVER_RESTART, "loop");
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register host_dyn: %s", lc_last_error());
	st = WaitForBackgroundWorkerStartup(h, &pid);
	type = st == BGWH_STARTED ? GetBackgroundWorkerTypeByPid(pid) : NULL;
	lc_step("started status=%s pid=%d type=%s", lc_status_name(st), (int) pid,
			type ? type : "(null)");
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: client shutdown=%s", lc_status_name(st));
	free(h);
	lc_out("host: client done");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *scenario;
	const char *mode;

	if (argc < 3)
	{
		fprintf(stderr, "usage: host_embed SCENARIO RUNDIR [args...]\n");
		return 2;
	}
	scenario = argv[1];
	g_rundir = strcmp(argv[2], "-") == 0 ? NULL : argv[2];

	if (strcmp(scenario, "client") == 0)
		return scenario_client();

	mode = getenv("HOST_SHUTDOWN");
	if (mode != NULL && *mode != '\0')
		shutdown_mode = atoi(mode);
	lc_set_handler(SIGUSR2, on_sigusr2, SA_RESTART);

	if (strcmp(scenario, "self") == 0)
	{
		const char *extra = getenv("HOST_EXTRA_SET");

		check("set max_worker_processes=4", bgw_host_set("max_worker_processes", "4"));
		if (extra != NULL && strchr(extra, '=') != NULL)
		{
			char		name[128];

			snprintf(name, sizeof(name), "%.*s", (int) (strchr(extra, '=') - extra), extra);
			check("set extra", bgw_host_set(name, strchr(extra, '=') + 1));
		}
		register_static("host_pg", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		register_static("host_empty", "", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "atexit") == 0)
	{
		if (atexit(host_atexit) != 0)
			FAIL("atexit");
		register_static("host_ax", "postgres", BgWorkerStart_RecoveryFinished,
						BGW_NEVER_RESTART, "stdio exit=0");
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "load") == 0)
	{
		if (argc < 5)
			FAIL("usage: load RUNDIR DIR NAME");
		check("set dynamic_library_path", bgw_host_set("dynamic_library_path", argv[3]));
		check("load", bgw_host_load_library(argv[4]));
		register_static("host_pg", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "badconf") == 0)
	{
		if (argc < 5)
			FAIL("usage: badconf RUNDIR MAGIC14_SO GOOD_SO");
		check("set-null-name", bgw_host_set(NULL, "1"));
		check("set-null-value", bgw_host_set("max_worker_processes", NULL));
		check("set-unknown", bgw_host_set("no_such_setting", "1"));
		check("set-bad-int", bgw_host_set("max_worker_processes", "abc"));
		check("set-bad-bool", bgw_host_set("restart_after_crash", "maybe"));
		check("load-null", bgw_host_load_library(NULL));
		check("load-missing", bgw_host_load_library("bad_nosuch_library"));
		check("load-magic14", bgw_host_load_library(argv[3]));
		check("set-good", bgw_host_set("max_worker_processes", "3"));
		check("load-good", bgw_host_load_library(argv[4]));
		register_static("host_pg", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "phase") == 0)
	{
		lc_set_handler(SIGALRM, on_sigalrm, SA_RESTART);
		bgw_host_set_start_phase(BgWorkerStart_PostmasterStart);
		register_static("host_ph_pm", "postgres", BgWorkerStart_PostmasterStart,
						BGW_NEVER_RESTART, "loop");
		register_static("host_ph_cs", "postgres", BgWorkerStart_ConsistentState,
						BGW_NEVER_RESTART, "loop");
		register_static("host_ph_rf", "postgres", BgWorkerStart_RecoveryFinished,
						BGW_NEVER_RESTART, "loop");
		return run_supervisor(phase_thread);
	}
	if (strcmp(scenario, "serve") == 0)
	{
		check("set max_worker_processes=4", bgw_host_set("max_worker_processes", "4"));
		register_static("host_srv", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(self_register_thread);
	}
	if (strcmp(scenario, "children") == 0)
	{
		register_static("host_ch", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(children_thread);
	}
	if (strcmp(scenario, "crash") == 0)
	{
		if (argc < 4)
			FAIL("usage: crash RUNDIR on|off");
		check("set restart_after_crash", bgw_host_set("restart_after_crash", argv[3]));
		register_static("host_crasher", "postgres", BgWorkerStart_RecoveryFinished,
						BGW_NEVER_RESTART, "loop crash");
		register_static("host_victim", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "rundirs") == 0)
	{
		int			rc;

		if (argc < 5)
			FAIL("usage: rundirs GOOD_RUNDIR BAD1 BAD2");
		register_static("host_pg", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		rc = bgw_host_run(argv[3]);
		lc_out("host: run bad1 returned rc=%d", rc);
		rc = bgw_host_run(argv[4]);
		lc_out("host: run bad2 returned rc=%d", rc);
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "unblocked") == 0)
	{
		pthread_t	th;

		/* a thread that leaves the supervisor's signals unblocked */
		if (pthread_create(&th, NULL, idle_thread, NULL) != 0)
			FAIL("pthread_create");
		while (!idle_thread_running)
			lc_sleep_ms(1);
		return run_supervisor(NULL);
	}
	if (strcmp(scenario, "early") == 0)
	{
		register_static("host_pg", "postgres", BgWorkerStart_RecoveryFinished, 1, "loop");
		bgw_host_request_shutdown(BGW_SHUTDOWN_FAST);
		lc_out("host: shutdown requested before run");
		return run_supervisor(NULL);
	}
	FAIL("unknown scenario %s", scenario);
}
