/*
 * bad_module.c
 *		Background-worker module for the bad-input tests, built like a
 *		PostgreSQL 15 extension (postgres.h, postmaster/bgworker.h,
 *		PG_MODULE_MAGIC, _PG_init, PGDLLEXPORT entry points).
 *
 * Static workers: _PG_init prints
 *		marker: _PG_init pid=<pid>
 * and registers the workers listed in the environment variable BAD_STATIC,
 * a ';'-separated list of
 *
 *		kind:name[:extra]
 *
 * "kind" chooses what is wrong with the definition (see make_static()):
 *
 *	good		a valid worker; extra = behaviour words (default "loop")
 *	noterm_name	bgw_name filled with 96 non-NUL bytes ('N')
 *	noterm_type	bgw_type filled with 96 'T'
 *	noterm_lib	bgw_library_name filled with 96 'L'
 *	noterm_func	bgw_function_name filled with 96 'F'
 *	null		RegisterBackgroundWorker(NULL)
 *	noshmem		bgw_flags without BGWORKER_SHMEM_ACCESS
 *	dbpm		database connection requested, start at postmaster start
 *	badrestart	bgw_restart_time = -2
 *	bigrestart	bgw_restart_time = 86400001 (one more than a day in ms)
 *	parrestart	BGWORKER_CLASS_PARALLEL with bgw_restart_time = 1
 *	notify		bgw_notify_pid = getpid()
 *	nofunc		bgw_function_name names no function of this module
 *				(restart time 1 s)
 *
 * Every valid worker runs bad_main, which prints
 *		marker: start name=<bgw_name> type=<bgw_type> pid=<pid> ppid=<ppid>
 * and then follows the words of its bgw_extra:
 *
 *	exit=N		exit with status N (N = 0: return from the main function)
 *	connect		BackgroundWorkerInitializeConnection("bad_db", NULL, 0)
 *	connect_oid	BackgroundWorkerInitializeConnectionByOid(4242, 0, 0)
 *	regstatic	RegisterBackgroundWorker() of a valid worker "bad_late"
 *	regnull		RegisterDynamicBackgroundWorker(NULL, &handle)
 *	regbad		RegisterDynamicBackgroundWorker() with restart time -7
 *	loop		unblock signals, print "marker: ready", wait forever
 *
 * After each of connect, connect_oid, regnull and regbad it prints
 * "marker: after <word> name=<bgw_name>", which must never appear when the
 * call ends the process as documented.
 *
 * Output: one line per write(2) on stderr, which is bgworkerd's log stream.
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#include "lc_common.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void bad_main(Datum main_arg);

/* A valid definition of a bad_main worker. */
static void
base_worker(BackgroundWorker *w, const char *name, const char *extra)
{
	lc_fill_worker(w, name, NULL, lc_so_path((void *) &bad_main, "bad_module"),
				   "bad_main", extra);
}

/* Build and register one static worker of the given kind. */
static void
make_static(const char *kind, const char *name, const char *extra)
{
	BackgroundWorker w;

	base_worker(&w, name, extra ? extra : "loop");

	if (strcmp(kind, "good") == 0)
		;
	else if (strcmp(kind, "noterm_name") == 0)
		memset(w.bgw_name, 'N', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_type") == 0)
		memset(w.bgw_type, 'T', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_lib") == 0)
		memset(w.bgw_library_name, 'L', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_func") == 0)
		memset(w.bgw_function_name, 'F', BGW_MAXLEN);
	else if (strcmp(kind, "null") == 0)
	{
		RegisterBackgroundWorker(NULL);
		return;
	}
	else if (strcmp(kind, "noshmem") == 0)
		w.bgw_flags = 0;
	else if (strcmp(kind, "dbpm") == 0)
	{
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_PostmasterStart;
	}
	else if (strcmp(kind, "badrestart") == 0)
		w.bgw_restart_time = -2;
	else if (strcmp(kind, "bigrestart") == 0)
		w.bgw_restart_time = 86400001;
	else if (strcmp(kind, "parrestart") == 0)
	{
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL;
		w.bgw_restart_time = 1;
	}
	else if (strcmp(kind, "notify") == 0)
		w.bgw_notify_pid = getpid();
	else if (strcmp(kind, "nofunc") == 0)
	{
		snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", "bad_no_such_function");
		w.bgw_restart_time = 1;
	}
	else
	{
		lc_out("marker: unknown BAD_STATIC kind %s", kind);
		return;
	}
	RegisterBackgroundWorker(&w);
}

/* One BAD_STATIC entry, kind:name[:extra]. */
static void
static_entry(char *entry)
{
	char	   *kind = entry;
	char	   *name = strchr(entry, ':');
	char	   *extra = NULL;

	if (name == NULL)
	{
		lc_out("marker: bad BAD_STATIC entry %s", entry);
		return;
	}
	*name++ = '\0';
	extra = strchr(name, ':');
	if (extra != NULL)
		*extra++ = '\0';
	make_static(kind, name, extra);
}

void
_PG_init(void)
{
	lc_out("marker: _PG_init pid=%d", (int) getpid());
	lc_each_env_entry("BAD_STATIC", static_entry);
}

void
bad_main(Datum main_arg)
{
	char		name[BGW_MAXLEN];
	char		extra[BGW_EXTRALEN];
	int			code;

	(void) main_arg;
	lc_worker_entry(name, extra);

	lc_out("marker: start name=%s type=%s pid=%d ppid=%d", name,
		   MyBgworkerEntry->bgw_type, (int) getpid(), (int) getppid());

	if (lc_word_int(extra, "exit", &code) == 0)
	{
		if (code == 0)
			return;
		exit(code);
	}

	if (lc_has_word(extra, "connect"))
	{
		BackgroundWorkerInitializeConnection("bad_db", NULL, 0);
		lc_out("marker: after connect name=%s", name);
	}
	if (lc_has_word(extra, "connect_oid"))
	{
		BackgroundWorkerInitializeConnectionByOid((Oid) 4242, (Oid) 0, 0);
		lc_out("marker: after connect_oid name=%s", name);
	}
	if (lc_has_word(extra, "regstatic"))
	{
		BackgroundWorker w;

		base_worker(&w, "bad_late", "loop");
		RegisterBackgroundWorker(&w);
		lc_out("marker: regstatic done name=%s", name);
	}
	if (lc_has_word(extra, "regnull"))
	{
		BackgroundWorkerHandle *h = NULL;
		bool		ok = RegisterDynamicBackgroundWorker(NULL, &h);

		lc_out("marker: after regnull name=%s ok=%d", name, (int) ok);
	}
	if (lc_has_word(extra, "regbad"))
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h = NULL;
		bool		ok;

		base_worker(&w, "bad_child", "exit=0");
		w.bgw_restart_time = -7;
		ok = RegisterDynamicBackgroundWorker(&w, &h);
		lc_out("marker: after regbad name=%s ok=%d", name, (int) ok);
	}

	if (!lc_has_word(extra, "loop"))
		return;

	BackgroundWorkerUnblockSignals();
	lc_out("marker: ready name=%s pid=%d", name, (int) getpid());
	for (;;)
	{
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}
