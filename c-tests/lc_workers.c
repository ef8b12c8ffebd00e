/*
 * lc_workers.c
 *		Background-worker module for the lifecycle tests, written the way a
 *		PostgreSQL 15 extension is (postgres.h, postmaster/bgworker.h,
 *		PG_MODULE_MAGIC, _PG_init, PGDLLEXPORT entry points).
 *
 * Static workers: _PG_init registers the workers described by the
 * environment variable LC_STATIC, a ';'-separated list of
 *
 *		name|type|restart|main_arg|behaviour[|flags]
 *
 * (type may be empty, restart is seconds or -1, flags defaults to
 * BGWORKER_SHMEM_ACCESS and may name "parallel" to add
 * BGWORKER_CLASS_PARALLEL). Every registration points at lc_main in this
 * very file (its path is found with dladdr) and puts the behaviour text in
 * bgw_extra, followed by a byte pattern from LC_PATTERN_START on.
 *
 * lc_main reads its behaviour from MyBgworkerEntry->bgw_extra, a
 * space-separated list of words:
 *
 *	exit=N		exit with status N at once (N = 0: return from the main function)
 *	_exit=N		call _exit(N) at once (no atexit handlers, no return)
 *	loop		unblock signals and wait forever (default SIGTERM handling)
 *	crash=K		on SIGUSR2, crash: K = exit2 (exit status 2), segv (a real
 *				invalid memory write), abort (abort())
 *	quitmark	on SIGQUIT print "marker: got SIGQUIT" and _exit(2)
 *	ignquit		ignore SIGQUIT
 *	ignterm		ignore SIGTERM
 *	termexit2	on SIGTERM print "marker: got SIGTERM" and _exit(2) (a crash)
 *	hup			on SIGHUP print "marker: got SIGHUP"
 *	sigblk		print the blocked-signal mask before and after
 *				BackgroundWorkerUnblockSignals()
 *	entry		print MyBgworkerEntry's contents
 *	register=N	register N restartable dynamic "loop quitmark" workers named
 *				lc_child_<i>, wait for each to start and print its pid
 *
 * Every worker first prints
 *		marker: start name=<bgw_name> type=<bgw_type> pid=<pid> ppid=<ppid>
 * on stderr.
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#include <sys/resource.h>

#include "lc_common.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void lc_main(Datum main_arg);

static volatile sig_atomic_t crash_requested = 0;
static char my_name[BGW_MAXLEN];

/* Absolute path of this shared object. */
static const char *
self_path(void)
{
	return lc_so_path((void *) &lc_main, "lc_workers");
}

static void
fill_extra(BackgroundWorker *w, const char *text)
{
	int			i;

	memset(w->bgw_extra, 0, BGW_EXTRALEN);
	strncpy(w->bgw_extra, text, LC_PATTERN_START - 1);
	for (i = LC_PATTERN_START; i < BGW_EXTRALEN; i++)
		w->bgw_extra[i] = (char) LC_PATTERN_BYTE(i);
}

/* One LC_STATIC entry, name|type|restart|main_arg|behaviour[|flags]. */
static void
static_entry(char *entry)
{
	BackgroundWorker w;
	char	   *fields[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	int			nf = 0;
	char	   *p = entry;

	/* split on '|' keeping empty fields */
	while (nf < 6)
	{
		char	   *bar = strchr(p, '|');

		fields[nf++] = p;
		if (bar == NULL)
			break;
		*bar = '\0';
		p = bar + 1;
	}
	if (nf < 5)
	{
		lc_writef(2, "marker: bad LC_STATIC entry");
		return;
	}

	lc_fill_worker(&w, fields[0], fields[1], self_path(), "lc_main", "");
	if (nf >= 6 && strstr(fields[5], "parallel") != NULL)
		w.bgw_flags |= BGWORKER_CLASS_PARALLEL;
	w.bgw_restart_time = atoi(fields[2]);
	w.bgw_main_arg = (Datum) strtoull(fields[3], NULL, 10);
	fill_extra(&w, fields[4]);
	RegisterBackgroundWorker(&w);
}

void
_PG_init(void)
{
	lc_each_env_entry("LC_STATIC", static_entry);
}

static void
on_sigusr2(int signo)
{
	(void) signo;
	crash_requested = 1;
}

/*
 * The signal handlers' markers: async-signal-safe enough (no allocation, a
 * single write); a worker that cannot write its marker exits 2.
 */
static void
mark_signal(const char *signame)
{
	if (lc_writef(2, "marker: got %s name=%s pid=%d", signame, my_name,
				  (int) getpid()) < 0)
		_exit(2);
}

static void
on_sigquit_mark(int signo)
{
	(void) signo;
	mark_signal("SIGQUIT");
	_exit(2);
}

static void
on_sigterm_exit2(int signo)
{
	(void) signo;
	mark_signal("SIGTERM");
	_exit(2);
}

static void
on_sighup(int signo)
{
	(void) signo;
	mark_signal("SIGHUP");
}

/*
 * The invalid write is the point: under make check-asan UBSan must not turn
 * it into a report and an exit, the worker has to die of SIGSEGV.
 */
static void __attribute__((no_sanitize("undefined")))
do_crash(const char *kind)
{
	struct rlimit nocore = {0, 0};

	setrlimit(RLIMIT_CORE, &nocore);
	lc_writef(2, "marker: crashing name=%s kind=%s pid=%d", my_name, kind,
			  (int) getpid());
	if (strcmp(kind, "segv") == 0)
	{
		volatile int *volatile bad = NULL;

		*bad = 1;
	}
	else if (strcmp(kind, "abort") == 0)
		abort();
	exit(2);
}

static void
print_entry(void)
{
	char		hex[2 * BGW_EXTRALEN + 1];
	int			i;

	for (i = 0; i < BGW_EXTRALEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char) MyBgworkerEntry->bgw_extra[i]);
	lc_writef(2, "marker: entry name=%s type=%s arg=%llu flags=%d start=%d restart=%d "
			  "func=%s notify=%d self=%d",
			  MyBgworkerEntry->bgw_name, MyBgworkerEntry->bgw_type,
			  (unsigned long long) MyBgworkerEntry->bgw_main_arg,
			  MyBgworkerEntry->bgw_flags, (int) MyBgworkerEntry->bgw_start_time,
			  MyBgworkerEntry->bgw_restart_time, MyBgworkerEntry->bgw_function_name,
			  (int) MyBgworkerEntry->bgw_notify_pid,
			  strcmp(MyBgworkerEntry->bgw_library_name, self_path()) == 0);
	lc_writef(2, "marker: entry-extra name=%s hex=%s", MyBgworkerEntry->bgw_name, hex);
}

static void
register_children(int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h = NULL;
		pid_t		pid = 0;
		BgwHandleStatus st;
		char		name[BGW_MAXLEN];

		snprintf(name, sizeof(name), "lc_child_%d", i);
		lc_fill_worker(&w, name, "lc_child", self_path(), "lc_main", "");
		w.bgw_restart_time = 1;
		w.bgw_main_arg = (Datum) i;
		fill_extra(&w, "loop quitmark");

		if (!RegisterDynamicBackgroundWorker(&w, &h))
		{
			lc_writef(2, "marker: child register failed i=%d", i);
			continue;
		}
		st = WaitForBackgroundWorkerStartup(h, &pid);
		lc_writef(2, "marker: child started i=%d status=%d pid=%d", i, (int) st, (int) pid);
	}
}

void
lc_main(Datum main_arg)
{
	char		extra[BGW_EXTRALEN];
	char		value[64];
	char		crash_kind[16] = "exit2";
	int			do_loop;

	lc_worker_entry(my_name, extra);

	lc_writef(2, "marker: start name=%s type=%s pid=%d ppid=%d arg=%llu",
			  MyBgworkerEntry->bgw_name, MyBgworkerEntry->bgw_type,
			  (int) getpid(), (int) getppid(), (unsigned long long) main_arg);

	if (lc_has_word(extra, "entry"))
		print_entry();

	if (lc_word_value(extra, "_exit", value, sizeof(value)) == 0)
		_exit(atoi(value));

	if (lc_word_value(extra, "exit", value, sizeof(value)) == 0)
	{
		int			code = atoi(value);

		if (code == 0)
			return;
		exit(code);
	}

	if (lc_has_word(extra, "sigblk"))
	{
		char		mask[32] = "?";

		lc_read_sigblk(mask, sizeof(mask));
		lc_writef(2, "marker: sigblk-before name=%s mask=%s", my_name, mask);
	}

	lc_word_value(extra, "crash", crash_kind, sizeof(crash_kind));
	do_loop = lc_has_word(extra, "loop");

	/* install our handlers while signals are still blocked */
	lc_set_handler(SIGUSR2, on_sigusr2, 0);
	if (lc_has_word(extra, "quitmark"))
		lc_set_handler(SIGQUIT, on_sigquit_mark, 0);
	if (lc_has_word(extra, "ignquit"))
		lc_set_handler(SIGQUIT, SIG_IGN, 0);
	if (lc_has_word(extra, "ignterm"))
		lc_set_handler(SIGTERM, SIG_IGN, 0);
	if (lc_has_word(extra, "hup"))
		lc_set_handler(SIGHUP, on_sighup, 0);
	if (lc_has_word(extra, "termexit2"))
		lc_set_handler(SIGTERM, on_sigterm_exit2, 0);

	BackgroundWorkerUnblockSignals();

	if (lc_has_word(extra, "sigblk"))
	{
		char		mask[32] = "?";

		lc_read_sigblk(mask, sizeof(mask));
		lc_writef(2, "marker: sigblk-after name=%s mask=%s", my_name, mask);
	}

	if (lc_word_value(extra, "register", value, sizeof(value)) == 0)
		register_children(atoi(value));

	lc_writef(2, "marker: ready name=%s pid=%d", my_name, (int) getpid());

	if (!do_loop)
		return;

	for (;;)
	{
		if (crash_requested)
			do_crash(crash_kind);
		lc_sleep_ms(20);
	}
}
