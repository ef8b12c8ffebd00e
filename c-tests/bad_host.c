/*
 * bad_host.c
 *		Host program for the bad-input tests: feeds the dynamic-worker API
 *		and bgw_attach() invalid arguments, then proves that the process and
 *		the supervisor still work by running one valid worker to completion.
 *
 * usage: bad_host SCENARIO TARGET MODULE_SO [args...]
 *
 *	TARGET		what to pass to bgw_attach() (a run directory or segment name)
 *	MODULE_SO	bad_module.so, whose bad_main runs the valid workers
 *
 * Scenarios (see main()): attach_only [GOOD_TARGET], attach_null, attach_twice,
 * unattached, null_def, def KIND, null_handle, bad_slot, null_pidp,
 * no_handle, full N, worker LIB FUNC RESTART, detach, notify PID.
 *
 * Output goes to stdout, one line per event:
 *	host: ...		results, as key=value tokens (error=... is always last
 *					and runs to the end of the line)
 *	step: NAME ...	the host stops here until it receives SIGUSR2
 *	FAIL: ...		an unexpected API result; the host then exits 1
 * The library's own ERROR messages go to stderr.
 *
 * "host: valid tag=T ok=1 startup=STARTED pid=N" followed by
 * "host: valid tag=T shutdown=STOPPED" is the proof that a valid
 * registration still works; "host: done" ends every scenario that got
 * that far.
 */
#include <signal.h>
#include <sys/types.h>

#include "bgworker.h"
#include "lc_common.h"

#define MAX_WORKERS 64

static const char *module_path;

/* A valid definition of a bad_main worker from MODULE_SO. */
static void
make_worker(BackgroundWorker *w, const char *name, const char *extra)
{
	lc_fill_worker(w, name, NULL, module_path, "bad_main", extra);
}

static pid_t
start_loop_worker(const char *name, BackgroundWorkerHandle **h)
{
	BackgroundWorker w;

	make_worker(&w, name, "loop");
	return lc_start_worker(&w, h);
}

/* The proof that nothing broke: one valid worker, start to stop. */
static void
valid_flow(const char *tag)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	char		name[64];
	pid_t		pid = 0;
	BgwHandleStatus st;

	snprintf(name, sizeof(name), "bad_valid_%s", tag);
	make_worker(&w, name, "loop");
	if (!lc_register_retry(&w, &h, 3000, NULL))
	{
		lc_out("host: valid tag=%s ok=0 error=%s", tag, lc_last_error());
		exit(1);
	}
	st = WaitForBackgroundWorkerStartup(h, &pid);
	lc_out("host: valid tag=%s ok=1 startup=%s pid=%d", tag, lc_status_name(st), (int) pid);
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: valid tag=%s shutdown=%s", tag, lc_status_name(st));
	free(h);
}

/* The end of every scenario that got that far: valid_flow, then "host: done". */
static int
finish(const char *tag)
{
	valid_flow(tag);
	lc_out("host: done");
	return 0;
}

/* A definition with the defect named by kind; false if kind is unknown. */
static bool
make_bad_def(BackgroundWorker *w, const char *kind)
{
	char		name[64];

	snprintf(name, sizeof(name), "bad_dyn_%s", kind);
	make_worker(w, name, "exit=0");
	if (strcmp(kind, "noterm_name") == 0)
		memset(w->bgw_name, 'N', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_type") == 0)
		memset(w->bgw_type, 'T', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_lib") == 0)
		memset(w->bgw_library_name, 'L', BGW_MAXLEN);
	else if (strcmp(kind, "noterm_func") == 0)
		memset(w->bgw_function_name, 'F', BGW_MAXLEN);
	else if (strcmp(kind, "noshmem") == 0)
		w->bgw_flags = 0;
	else if (strcmp(kind, "dbpm") == 0)
	{
		w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w->bgw_start_time = BgWorkerStart_PostmasterStart;
	}
	else if (strcmp(kind, "badrestart") == 0)
		w->bgw_restart_time = -2;
	else if (strcmp(kind, "bigrestart") == 0)
		w->bgw_restart_time = 86400001;
	else if (strcmp(kind, "maxrestart") == 0)
		w->bgw_restart_time = 86400000;
	else if (strcmp(kind, "parrestart") == 0)
	{
		w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL;
		w->bgw_restart_time = 5;
	}
	else if (strcmp(kind, "badstart") == 0)
		w->bgw_start_time = (BgWorkerStartTime) 7;
	else
		return false;
	return true;
}

/* RegisterDynamicBackgroundWorker with a defective definition. */
static int
scenario_def(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	bool		ok;

	if (argc < 5)
		FAIL("usage: def TARGET MODULE KIND");
	lc_attach_or_fail(argv[2]);
	if (!make_bad_def(&w, argv[4]))
		FAIL("unknown kind %s", argv[4]);
	ok = RegisterDynamicBackgroundWorker(&w, &h);
	lc_out("host: def kind=%s ok=%d handle=%d error=%s", argv[4], (int) ok,
		h != NULL, ok ? "-" : lc_last_error());
	if (ok && h != NULL)
	{
		BgwHandleStatus st = WaitForBackgroundWorkerShutdown(h);

		lc_out("host: def kind=%s shutdown=%s", argv[4], lc_status_name(st));
		free(h);
	}
	return finish(argv[4]);
}

/* RegisterDynamicBackgroundWorker(NULL, &h). */
static int
scenario_null_def(char **argv)
{
	BackgroundWorkerHandle *h = NULL;
	bool		ok;

	lc_attach_or_fail(argv[2]);
	ok = RegisterDynamicBackgroundWorker(NULL, &h);
	lc_out("host: null-def ok=%d handle=%d error=%s", (int) ok, h != NULL, lc_last_error());
	return finish("null_def");
}

/* NULL handles to every handle function. */
static int
scenario_null_handle(char **argv)
{
	pid_t		pid = 12345;
	BgwHandleStatus st;

	lc_attach_or_fail(argv[2]);
	st = GetBackgroundWorkerPid(NULL, &pid);
	lc_out("host: null-handle fn=GetBackgroundWorkerPid status=%s pid=%d", lc_status_name(st), (int) pid);
	pid = 12345;
	st = WaitForBackgroundWorkerStartup(NULL, &pid);
	lc_out("host: null-handle fn=WaitForBackgroundWorkerStartup status=%s pid=%d", lc_status_name(st), (int) pid);
	st = WaitForBackgroundWorkerShutdown(NULL);
	lc_out("host: null-handle fn=WaitForBackgroundWorkerShutdown status=%s", lc_status_name(st));
	TerminateBackgroundWorker(NULL);
	lc_out("host: null-handle fn=TerminateBackgroundWorker returned error=%s", lc_last_error());
	return finish("null_handle");
}

/*
 * Handles whose slot number is out of range. The handle is opaque, so its
 * slot field is located by comparing the handles of the first three
 * registrations on a fresh supervisor (slots 0, 1 and 2, all generation 1):
 * exactly one byte reads 0, 1 and 2 in them, the low byte of the slot.
 */
static int
scenario_bad_slot(char **argv)
{
	BackgroundWorkerHandle *ha = NULL,
			   *hb = NULL,
			   *hc = NULL;
	pid_t		pa,
				pb,
				pc,
				p;
	unsigned char ba[16],
				bb[16],
				bc[16];
	int			off = -1,
				nfound = 0,
				i,
				k;
	int32_t		bad_slots[2] = {1000000, -1};

	lc_attach_or_fail(argv[2]);
	pa = start_loop_worker("bad_slot_a", &ha);
	pb = start_loop_worker("bad_slot_b", &hb);
	pc = start_loop_worker("bad_slot_c", &hc);
	memcpy(ba, ha, sizeof(ba));
	memcpy(bb, hb, sizeof(bb));
	memcpy(bc, hc, sizeof(bc));
	for (i = 0; i < 16; i++)
	{
		if (ba[i] == 0 && bb[i] == 1 && bc[i] == 2)
		{
			nfound++;
			off = i;
		}
	}
	if (nfound != 1 || off % 4 != 0)
		FAIL("cannot locate the slot field: %d candidate bytes, offset %d", nfound, off);
	lc_out("host: slot field offset=%d", off);

	for (k = 0; k < 2; k++)
	{
		BackgroundWorkerHandle *forged = malloc(16);
		BgwHandleStatus st;

		if (forged == NULL)
			FAIL("malloc");
		memcpy(forged, bb, 16);
		memcpy((char *) forged + off, &bad_slots[k], sizeof(int32_t));
		p = 777;
		st = GetBackgroundWorkerPid(forged, &p);
		lc_out("host: forged slot=%d fn=GetBackgroundWorkerPid status=%s pid=%d",
			(int) bad_slots[k], lc_status_name(st), (int) p);
		st = WaitForBackgroundWorkerStartup(forged, &p);
		lc_out("host: forged slot=%d fn=WaitForBackgroundWorkerStartup status=%s",
			(int) bad_slots[k], lc_status_name(st));
		st = WaitForBackgroundWorkerShutdown(forged);
		lc_out("host: forged slot=%d fn=WaitForBackgroundWorkerShutdown status=%s",
			(int) bad_slots[k], lc_status_name(st));
		TerminateBackgroundWorker(forged);
		lc_out("host: forged slot=%d fn=TerminateBackgroundWorker returned", (int) bad_slots[k]);
		free(forged);
	}

	/* the real workers are untouched */
	if (GetBackgroundWorkerPid(ha, &p) != BGWH_STARTED || p != pa)
		FAIL("worker a after forged handles: pid %d (was %d)", (int) p, (int) pa);
	if (GetBackgroundWorkerPid(hb, &p) != BGWH_STARTED || p != pb)
		FAIL("worker b after forged handles: pid %d (was %d)", (int) p, (int) pb);
	if (GetBackgroundWorkerPid(hc, &p) != BGWH_STARTED || p != pc)
		FAIL("worker c after forged handles: pid %d (was %d)", (int) p, (int) pc);
	lc_out("host: real workers still running a=%d b=%d c=%d", (int) pa, (int) pb, (int) pc);
	lc_stop_worker("bad_slot_a", ha);
	lc_stop_worker("bad_slot_b", hb);
	lc_stop_worker("bad_slot_c", hc);
	free(ha);
	free(hb);
	free(hc);
	return finish("bad_slot");
}

/* NULL pidp is allowed. */
static int
scenario_null_pidp(char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	BgwHandleStatus st;
	pid_t		pid = 0;

	lc_attach_or_fail(argv[2]);
	make_worker(&w, "bad_nopidp", "loop");
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register bad_nopidp: %s", lc_last_error());
	st = WaitForBackgroundWorkerStartup(h, NULL);
	lc_out("host: nopidp fn=WaitForBackgroundWorkerStartup status=%s", lc_status_name(st));
	st = GetBackgroundWorkerPid(h, NULL);
	lc_out("host: nopidp fn=GetBackgroundWorkerPid status=%s", lc_status_name(st));
	st = GetBackgroundWorkerPid(h, &pid);
	lc_out("host: nopidp fn=GetBackgroundWorkerPid-with-pidp status=%s pid=%d", lc_status_name(st), (int) pid);
	lc_stop_worker("bad_nopidp", h);
	free(h);
	return finish("null_pidp");
}

/* RegisterDynamicBackgroundWorker(w, NULL): registered, no handle. */
static int
scenario_no_handle(char **argv)
{
	BackgroundWorker w;
	bool		ok;

	lc_attach_or_fail(argv[2]);
	make_worker(&w, "bad_nohandle", "exit=0");
	ok = RegisterDynamicBackgroundWorker(&w, NULL);
	lc_out("host: nohandle ok=%d error=%s", (int) ok, ok ? "-" : lc_last_error());
	return finish("no_handle");
}

/* Fill every slot, try one more, check the others, free them. */
static int
scenario_full(int argc, char **argv)
{
	BackgroundWorkerHandle *h[MAX_WORKERS];
	BackgroundWorkerHandle *extra = NULL;
	pid_t		pids[MAX_WORKERS];
	BackgroundWorker w;
	char		name[64];
	char		list[1024] = "";
	int			n,
				i;
	bool		ok;

	if (argc < 5)
		FAIL("usage: full TARGET MODULE N");
	n = atoi(argv[4]);
	if (n < 1 || n > MAX_WORKERS)
		FAIL("bad N");
	lc_attach_or_fail(argv[2]);
	for (i = 0; i < n; i++)
	{
		snprintf(name, sizeof(name), "bad_fill_%d", i);
		pids[i] = start_loop_worker(name, &h[i]);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
				 i ? "," : "", (int) pids[i]);
	}
	make_worker(&w, "bad_overflow", "loop");
	ok = RegisterDynamicBackgroundWorker(&w, &extra);
	lc_out("host: overflow ok=%d handle=%d error=%s", (int) ok, extra != NULL,
		ok ? "-" : lc_last_error());
	lc_step("full pids=%s", list);
	for (i = 0; i < n; i++)
	{
		pid_t		p = 0;
		BgwHandleStatus st = GetBackgroundWorkerPid(h[i], &p);

		if (st != BGWH_STARTED || p != pids[i])
			FAIL("worker %d after overflow: status=%s pid=%d (was %d)", i,
				 lc_status_name(st), (int) p, (int) pids[i]);
	}
	lc_out("host: all still running");
	for (i = 0; i < n; i++)
	{
		lc_stop_worker("bad_fill", h[i]);
		free(h[i]);
	}
	return finish("full");
}

/*
 * A worker whose library or function is bad: register it, report its
 * startup; NEVER_RESTART: wait for it to stop; otherwise stop at a step
 * (the test watches it being restarted), then terminate it.
 */
static int
scenario_worker(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	BgwHandleStatus st;
	pid_t		pid = 0;
	int			restart;

	if (argc < 7)
		FAIL("usage: worker TARGET MODULE LIB FUNC RESTART");
	restart = atoi(argv[6]);
	lc_attach_or_fail(argv[2]);
	make_worker(&w, "bad_entry", "loop");
	snprintf(w.bgw_library_name, BGW_MAXLEN, "%s", argv[4]);
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", argv[5]);
	w.bgw_restart_time = restart;
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register bad_entry: %s", lc_last_error());
	lc_out("host: registered restart=%d", restart);
	st = WaitForBackgroundWorkerStartup(h, &pid);
	lc_out("host: entry startup=%s pid=%d", lc_status_name(st), (int) pid);
	if (restart != BGW_NEVER_RESTART)
	{
		lc_step("restarting");
		TerminateBackgroundWorker(h);
	}
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: entry shutdown=%s", lc_status_name(st));
	free(h);
	return finish("worker");
}

/*
 * Handles across bgw_detach(): unusable while detached (ERROR, STOPPED),
 * usable again after a new bgw_attach(); the worker itself is unaffected.
 */
static int
scenario_detach(char **argv)
{
	BackgroundWorkerHandle *h = NULL;
	BgwHandleStatus st;
	pid_t		pid,
				p = 555;

	lc_attach_or_fail(argv[2]);
	pid = start_loop_worker("bad_detach", &h);
	lc_out("host: detach worker pid=%d", (int) pid);
	bgw_detach();
	st = GetBackgroundWorkerPid(h, &p);
	lc_out("host: detached getpid=%s pid=%d error=%s", lc_status_name(st), (int) p, lc_last_error());
	bgw_detach();
	lc_out("host: detached twice");
	lc_attach_or_fail(argv[2]);
	st = GetBackgroundWorkerPid(h, &p);
	lc_out("host: reattached getpid=%s pid=%d", lc_status_name(st), (int) p);
	lc_stop_worker("bad_detach", h);
	free(h);
	return finish("detach");
}

/* A worker whose bgw_notify_pid is the given pid, or this process's. */
static int
scenario_notify(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	BgwHandleStatus st;
	pid_t		pid = 0;

	if (argc < 5)
		FAIL("usage: notify TARGET MODULE PID");
	lc_attach_or_fail(argv[2]);
	make_worker(&w, "bad_notify_other", "loop");
	/* "self": this process, which is attached (a valid target). */
	w.bgw_notify_pid = strcmp(argv[4], "self") == 0 ? getpid() : (pid_t) atoi(argv[4]);
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register bad_notify_other: %s", lc_last_error());
	st = WaitForBackgroundWorkerStartup(h, &pid);
	lc_out("host: notify startup=%s pid=%d", lc_status_name(st), (int) pid);
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: notify shutdown=%s", lc_status_name(st));
	free(h);
	return finish("notify");
}

int
main(int argc, char **argv)
{
	const char *scenario;
	const char *target;

	if (argc < 4)
	{
		fprintf(stderr, "usage: bad_host SCENARIO TARGET MODULE_SO [args...]\n");
		return 2;
	}
	scenario = argv[1];
	target = argv[2];
	module_path = argv[3];

	lc_step_init();

	if (strcmp(scenario, "attach_only") == 0)
	{
		/* optional 5th argument: attach there after a failed attach */
		int			rc = bgw_attach(target);

		lc_out("host: attach rc=%d error=%s", rc, rc == 0 ? "-" : lc_last_error());
		if (rc != 0 && argc >= 5)
			lc_attach_or_fail(argv[4]);
		if (rc == 0 || argc >= 5)
			valid_flow("attach_only");
		lc_out("host: done");
		return 0;
	}
	if (strcmp(scenario, "attach_null") == 0)
	{
		int			rc = bgw_attach(NULL);

		lc_out("host: attach-null rc=%d error=%s", rc, lc_last_error());
		lc_attach_or_fail(target);
		return finish("attach_null");
	}
	if (strcmp(scenario, "attach_twice") == 0)
	{
		int			rc;

		lc_attach_or_fail(target);
		rc = bgw_attach(target);
		lc_out("host: attach-again rc=%d error=%s", rc, rc == 0 ? "-" : lc_last_error());
		return finish("attach_twice");
	}
	if (strcmp(scenario, "unattached") == 0)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h = NULL;
		bool		ok;

		make_worker(&w, "bad_unattached", "exit=0");
		ok = RegisterDynamicBackgroundWorker(&w, &h);
		lc_out("host: unattached ok=%d handle=%d error=%s", (int) ok, h != NULL, lc_last_error());
		lc_attach_or_fail(target);
		return finish("unattached");
	}
	if (strcmp(scenario, "def") == 0)
		return scenario_def(argc, argv);
	if (strcmp(scenario, "null_def") == 0)
		return scenario_null_def(argv);
	if (strcmp(scenario, "null_handle") == 0)
		return scenario_null_handle(argv);
	if (strcmp(scenario, "bad_slot") == 0)
		return scenario_bad_slot(argv);
	if (strcmp(scenario, "null_pidp") == 0)
		return scenario_null_pidp(argv);
	if (strcmp(scenario, "no_handle") == 0)
		return scenario_no_handle(argv);
	if (strcmp(scenario, "full") == 0)
		return scenario_full(argc, argv);
	if (strcmp(scenario, "worker") == 0)
		return scenario_worker(argc, argv);
	if (strcmp(scenario, "detach") == 0)
		return scenario_detach(argv);
	if (strcmp(scenario, "notify") == 0)
		return scenario_notify(argc, argv);
	FAIL("unknown scenario %s", scenario);
}
