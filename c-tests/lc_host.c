/*
 * lc_host.c
 *		Host program for the lifecycle tests: attaches to a running bgworkerd
 *		(bgw_attach on its RUNDIR) and drives dynamic workers from lc_workers.so.
 *
 * usage: lc_host SCENARIO RUNDIR MODULE_SO [args...]
 *
 * Output goes to stdout, one line per event:
 *	host: ...		results, as key=value tokens
 *	step: NAME ...	the host stops here until it receives SIGUSR2, so the
 *					test can inspect processes (or stop/continue the daemon)
 *					at a well-defined point
 *	FAIL: ...		an unexpected API result; the host then exits 1
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bgworker.h"
#include "lc_common.h"

#define LC_MAX_HANDLES 256

static const char *module_path;

static void
make_worker(BackgroundWorker *w, const char *name, const char *type,
			const char *extra, int restart, int flags, pid_t notify)
{
	lc_fill_worker(w, name, type, module_path, "lc_main", extra);
	w->bgw_flags = flags;
	w->bgw_restart_time = restart;
	w->bgw_notify_pid = notify;
}

static pid_t
start_loop_worker(const char *name, const char *type, int restart, int flags,
				  BackgroundWorkerHandle **h)
{
	BackgroundWorker w;

	make_worker(&w, name, type, "loop", restart, flags, 0);
	return lc_start_worker(&w, h);
}

/* One worker: register, wait for start, wait for exit. */
static int
scenario_one(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid = 0;
	int			attempts = 0;
	bool		ok;
	BgwHandleStatus st;

	if (argc < 8)
		FAIL("usage: one RUNDIR MODULE NAME TYPE EXTRA RESTART");
	make_worker(&w, argv[4], argv[5], argv[6], atoi(argv[7]), BGWORKER_SHMEM_ACCESS, 0);
	ok = lc_register_retry(&w, &h, 3000, &attempts);
	lc_out("host: register ok=%d attempts=%d error=%s", ok, attempts, ok ? "-" : lc_last_error());
	if (!ok)
		return 0;
	st = WaitForBackgroundWorkerStartup(h, &pid);
	lc_out("host: startup status=%s pid=%d", lc_status_name(st), (int) pid);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: shutdown status=%s", lc_status_name(st));
	free(h);
	return 0;
}

/* Register, query, terminate; terminate before start; stale handles. */
static int
scenario_basic(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL,
			   *ha = NULL,
			   *hf = NULL,
			   *hb = NULL;
	pid_t		pid = 0,
				pid2 = 0,
				pidb = 0,
				pidb2 = 0;
	BgwHandleStatus st;
	const char *type;

	/* 1. register, wait for startup, look up the type */
	make_worker(&w, "lc_dyn", "lc_dyn_type", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register lc_dyn: %s", lc_last_error());
	st = WaitForBackgroundWorkerStartup(h, &pid);
	type = (st == BGWH_STARTED) ? GetBackgroundWorkerTypeByPid(pid) : NULL;
	lc_step("started status=%s pid=%d type=%s", lc_status_name(st), (int) pid,
		 type ? type : "(null)");
	st = GetBackgroundWorkerPid(h, &pid2);
	lc_out("host: getpid status=%s pid=%d", lc_status_name(st), (int) pid2);

	/* 2. terminate and wait */
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: terminated status=%s", lc_status_name(st));
	st = GetBackgroundWorkerPid(h, &pid2);
	type = GetBackgroundWorkerTypeByPid(pid);
	lc_out("host: after-stop getpid=%s type=%s", lc_status_name(st), type ? type : "(null)");
	free(h);
	h = NULL;

	/* 3. terminate before start, while the supervisor is stopped */
	lc_step("stop-daemon");
	make_worker(&w, "lc_never", "lc_never_type", "exit=0", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	if (!lc_register_retry(&w, &h, 3000, NULL))
		FAIL("register lc_never: %s", lc_last_error());
	st = GetBackgroundWorkerPid(h, &pid2);
	lc_out("host: never before-terminate=%s", lc_status_name(st));
	TerminateBackgroundWorker(h);
	lc_step("cont-daemon");
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: never shutdown=%s", lc_status_name(st));
	st = WaitForBackgroundWorkerStartup(h, &pid2);
	lc_out("host: never startup=%s", lc_status_name(st));
	free(h);
	h = NULL;

	/* 4. stale handle after slot reuse (two slots: A and a filler fill them) */
	pid = start_loop_worker("lc_stale_a", "lc_stale_a_type", BGW_NEVER_RESTART,
							BGWORKER_SHMEM_ACCESS, &ha);
	start_loop_worker("lc_filler", "lc_filler_type", BGW_NEVER_RESTART,
					  BGWORKER_SHMEM_ACCESS, &hf);
	make_worker(&w, "lc_overflow", "lc_overflow_type", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	lc_out("host: full third-ok=%d", RegisterDynamicBackgroundWorker(&w, &h));
	lc_stop_worker("lc_stale_a", ha);
	pidb = start_loop_worker("lc_stale_b", "lc_stale_b_type", BGW_NEVER_RESTART,
							 BGWORKER_SHMEM_ACCESS, &hb);
	st = GetBackgroundWorkerPid(ha, &pid2);
	lc_out("host: stale getpid=%s", lc_status_name(st));
	st = WaitForBackgroundWorkerShutdown(ha);
	lc_out("host: stale wait=%s", lc_status_name(st));
	TerminateBackgroundWorker(ha);
	/* barrier: a terminate issued after the stale one has been processed */
	lc_stop_worker("lc_filler", hf);
	st = GetBackgroundWorkerPid(hb, &pidb2);
	lc_step("stale-done a=%d b=%d b_status=%s b_pid=%d", (int) pid, (int) pidb,
		 lc_status_name(st), (int) pidb2);
	lc_stop_worker("lc_stale_b", hb);
	lc_out("host: done");
	free(ha);
	free(hb);
	free(hf);
	return 0;
}

/* Fill every slot, overflow, free one, reuse it. */
static int
scenario_slots(int argc, char **argv)
{
	BackgroundWorkerHandle *h[LC_MAX_HANDLES];
	pid_t		pids[LC_MAX_HANDLES];
	BackgroundWorker w;
	BackgroundWorkerHandle *extra = NULL;
	char		name[64];
	char		list[2048] = "";
	int			max,
				i,
				attempts = 0;
	bool		ok;
	BgwHandleStatus st;

	if (argc < 5)
		FAIL("usage: slots RUNDIR MODULE MAX");
	max = atoi(argv[4]);
	if (max < 1 || max >= LC_MAX_HANDLES)
		FAIL("bad max");
	for (i = 0; i < max; i++)
	{
		snprintf(name, sizeof(name), "lc_slot_%d", i);
		pids[i] = start_loop_worker(name, "lc_slot", BGW_NEVER_RESTART,
									BGWORKER_SHMEM_ACCESS, &h[i]);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
				 i ? "," : "", (int) pids[i]);
	}
	make_worker(&w, "lc_slot_over", "lc_slot", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	ok = RegisterDynamicBackgroundWorker(&w, &extra);
	lc_out("host: overflow ok=%d error=%s", ok, ok ? "-" : lc_last_error());
	lc_step("full pids=%s", list);
	for (i = 0; i < max; i++)
	{
		pid_t		p = 0;

		st = GetBackgroundWorkerPid(h[i], &p);
		if (st != BGWH_STARTED || p != pids[i])
			FAIL("worker %d after overflow: status=%s pid=%d (was %d)", i,
				 lc_status_name(st), (int) p, (int) pids[i]);
	}
	lc_out("host: all still running");
	lc_stop_worker("lc_slot_0", h[0]);
	make_worker(&w, "lc_slot_new", "lc_slot", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	ok = lc_register_retry(&w, &h[0], 3000, &attempts);
	lc_out("host: reuse ok=%d attempts=%d", ok, attempts);
	if (ok)
	{
		pid_t		p = 0;

		st = WaitForBackgroundWorkerStartup(h[0], &p);
		lc_out("host: reuse startup=%s pid=%d", lc_status_name(st), (int) p);
	}
	for (i = ok ? 0 : 1; i < max; i++)
		lc_stop_worker("lc_slot", h[i]);
	lc_out("host: done");
	return 0;
}

/* max_parallel_workers accounting. */
static int
scenario_parallel(int argc, char **argv)
{
	BackgroundWorkerHandle *h[16];
	BackgroundWorkerHandle *hx = NULL;
	BackgroundWorker w;
	char		name[64];
	int			maxp,
				i,
				attempts = 0;
	bool		ok;
	pid_t		p = 0;
	BgwHandleStatus st;
	int			pflags = BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL;

	if (argc < 5)
		FAIL("usage: parallel RUNDIR MODULE MAX_PARALLEL");
	maxp = atoi(argv[4]);
	if (maxp < 1 || maxp > 14)
		FAIL("bad max_parallel");
	for (i = 0; i < maxp; i++)
	{
		snprintf(name, sizeof(name), "lc_par_%d", i);
		start_loop_worker(name, "lc_par", BGW_NEVER_RESTART, pflags, &h[i]);
	}
	lc_out("host: parallel started=%d", maxp);

	make_worker(&w, "lc_par_over", "lc_par", "loop", BGW_NEVER_RESTART, pflags, 0);
	ok = RegisterDynamicBackgroundWorker(&w, &h[maxp]);
	lc_out("host: parallel-over ok=%d error=%s", ok, ok ? "-" : lc_last_error());

	/* the limit is for the parallel class only */
	make_worker(&w, "lc_plain", "lc_plain", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	ok = RegisterDynamicBackgroundWorker(&w, &hx);
	lc_out("host: plain-while-full ok=%d", ok);
	if (ok)
		lc_stop_worker("lc_plain", hx);

	lc_stop_worker("lc_par_0", h[0]);
	make_worker(&w, "lc_par_again", "lc_par", "loop", BGW_NEVER_RESTART, pflags, 0);
	ok = lc_register_retry(&w, &h[0], 3000, &attempts);
	lc_out("host: parallel-after-stop ok=%d attempts=%d", ok, attempts);
	if (ok)
	{
		st = WaitForBackgroundWorkerStartup(h[0], &p);
		lc_out("host: parallel-after-stop startup=%s", lc_status_name(st));
	}

	/* parallel workers may not be configured for restart */
	for (i = ok ? 0 : 1; i < maxp; i++)
		lc_stop_worker("lc_par", h[i]);
	make_worker(&w, "lc_par_restart", "lc_par", "loop", 5, pflags, 0);
	ok = RegisterDynamicBackgroundWorker(&w, &hx);
	lc_out("host: parallel-restart ok=%d error=%s", ok, ok ? "-" : lc_last_error());
	lc_out("host: done");
	return 0;
}

static volatile sig_atomic_t usr1_count = 0;

static void
on_usr1(int signo)
{
	(void) signo;
	usr1_count++;
}

/* Wait until usr1_count exceeds floor, for up to ms. */
static int
wait_usr1_above(int floor, long ms)
{
	long long	deadline = lc_now_ms() + ms;

	while (usr1_count <= floor && lc_now_ms() < deadline)
		lc_sleep_ms(5);
	return usr1_count;
}

/* bgw_notify_pid: SIGUSR1 on start and on stop. */
static int
scenario_notify(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid = 0;
	BgwHandleStatus st;
	int			c_reg,
				c_start,
				c_stop;

	lc_set_handler(SIGUSR1, on_usr1, SA_RESTART);

	make_worker(&w, "lc_notify", "lc_notify", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, getpid());
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		FAIL("register lc_notify: %s", lc_last_error());
	c_reg = usr1_count;
	c_start = wait_usr1_above(0, 10000);
	st = WaitForBackgroundWorkerStartup(h, &pid);
	c_start = usr1_count;
	lc_out("host: notify-start at-register=%d count=%d status=%s pid=%d", c_reg, c_start,
		lc_status_name(st), (int) pid);
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	c_stop = wait_usr1_above(c_start, 10000);
	lc_out("host: notify-stop count=%d status=%s", c_stop, lc_status_name(st));
	free(h);
	return 0;
}

/* Wait for a running worker's shutdown while the supervisor is killed. */
static int
scenario_waitdeath(void)
{
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid;
	BgwHandleStatus st;

	pid = start_loop_worker("lc_waited", "lc_waited", BGW_NEVER_RESTART,
							BGWORKER_SHMEM_ACCESS, &h);
	lc_out("host: waiting pid=%d", (int) pid);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: shutdown status=%s", lc_status_name(st));
	free(h);
	return 0;
}

/* Many short-lived workers with a bounded number outstanding. */
static int
scenario_many(int argc, char **argv)
{
	BackgroundWorkerHandle *ring[LC_MAX_HANDLES];
	BackgroundWorker w;
	char		name[64];
	int			total,
				window,
				nslots,
				registered = 0,
				stopped = 0,
				head = 0,
				outstanding = 0,
				retries = 0,
				i,
				ok_slots = 0;

	if (argc < 7)
		FAIL("usage: many RUNDIR MODULE TOTAL WINDOW SLOTS");
	total = atoi(argv[4]);
	window = atoi(argv[5]);
	nslots = atoi(argv[6]);
	if (window < 1 || window > LC_MAX_HANDLES || nslots < 1 || nslots > LC_MAX_HANDLES)
		FAIL("bad window/slots");

	while (stopped < total)
	{
		while (outstanding < window && registered < total)
		{
			int			attempts = 0;

			snprintf(name, sizeof(name), "lc_many_%d", registered);
			make_worker(&w, name, "lc_many", "exit=0", BGW_NEVER_RESTART,
						BGWORKER_SHMEM_ACCESS, 0);
			if (!lc_register_retry(&w, &ring[(head + outstanding) % window], 5000, &attempts))
				FAIL("register %s after %d attempts (outstanding=%d): %s", name,
					 attempts, outstanding, lc_last_error());
			retries += attempts - 1;
			registered++;
			outstanding++;
		}
		{
			BgwHandleStatus st = WaitForBackgroundWorkerShutdown(ring[head]);

			if (st != BGWH_STOPPED)
				FAIL("worker #%d shutdown status=%s", stopped, lc_status_name(st));
			free(ring[head]);
			head = (head + 1) % window;
			outstanding--;
			stopped++;
		}
	}
	lc_out("host: many registered=%d stopped=%d retries=%d", registered, stopped, retries);

	/* afterwards every slot must be free again */
	for (i = 0; i < nslots; i++)
	{
		snprintf(name, sizeof(name), "lc_fill_%d", i);
		make_worker(&w, name, "lc_fill", "loop", BGW_NEVER_RESTART,
					BGWORKER_SHMEM_ACCESS, 0);
		if (lc_register_retry(&w, &ring[i], 3000, NULL))
			ok_slots++;
		else
			break;
	}
	lc_out("host: all-slots ok=%d of=%d error=%s", ok_slots, nslots,
		ok_slots == nslots ? "-" : lc_last_error());
	for (i = 0; i < ok_slots; i++)
	{
		pid_t		p = 0;
		BgwHandleStatus st = WaitForBackgroundWorkerStartup(ring[i], &p);

		if (st != BGWH_STARTED)
			FAIL("fill worker %d status=%s", i, lc_status_name(st));
	}
	for (i = 0; i < ok_slots; i++)
		lc_stop_worker("lc_fill", ring[i]);
	lc_out("host: done");
	return 0;
}

/*
 * Terminate a restartable worker (restart 1 s): it must stop for good and
 * give its slot back. The test checks meanwhile (step "check") that it is
 * not restarted.
 */
static int
scenario_termrestart(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL,
			   *h2 = NULL;
	pid_t		pid,
				p2 = 0;
	int			attempts = 0;
	bool		ok;
	BgwHandleStatus st;

	pid = start_loop_worker("lc_term_r", "lc_term_r_type", 1, BGWORKER_SHMEM_ACCESS, &h);
	lc_out("host: started pid=%d", (int) pid);
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	lc_step("terminated status=%s", lc_status_name(st));
	st = GetBackgroundWorkerPid(h, &p2);
	lc_out("host: after getpid=%s", lc_status_name(st));
	make_worker(&w, "lc_term_next", "lc_term_next_type", "loop", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	ok = lc_register_retry(&w, &h2, 3000, &attempts);
	lc_out("host: reuse ok=%d attempts=%d error=%s", ok, attempts, ok ? "-" : lc_last_error());
	if (ok)
	{
		st = WaitForBackgroundWorkerStartup(h2, &p2);
		lc_out("host: reuse startup=%s pid=%d", lc_status_name(st), (int) p2);
		lc_stop_worker("lc_term_next", h2);
	}
	lc_out("host: done");
	return 0;
}

/*
 * A worker that exits 1 with a long restart interval (60 s): once it has
 * exited (step "pending"), wait on it with WaitForBackgroundWorkerShutdown
 * (argv[4] = "shutdown") or WaitForBackgroundWorkerStartup ("startup")
 * while the test shuts the daemon down.
 */
static int
scenario_pending(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid = 0;
	BgwHandleStatus st;
	const char *how;

	if (argc < 5)
		FAIL("usage: pending RUNDIR MODULE shutdown|startup");
	how = argv[4];
	make_worker(&w, "lc_pending", "lc_pending_type", "exit=1", 60,
				BGWORKER_SHMEM_ACCESS, 0);
	if (!lc_register_retry(&w, &h, 3000, NULL))
		FAIL("register lc_pending: %s", lc_last_error());
	lc_step("pending");
	lc_out("host: waiting how=%s", how);
	if (strcmp(how, "startup") == 0)
		st = WaitForBackgroundWorkerStartup(h, &pid);
	else
		st = WaitForBackgroundWorkerShutdown(h);
	lc_out("host: wait status=%s", lc_status_name(st));
	free(h);
	return 0;
}

/*
 * Handles across a crash cycle: a NEVER_RESTART worker and a restartable
 * one (restart 1 s) are running (step "running"); the test makes another
 * worker crash and lets the host go on after "reinitializing".
 */
static int
scenario_crashsee(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *hn = NULL,
			   *hr = NULL;
	pid_t		pn,
				pr,
				p = 0;
	BgwHandleStatus st;

	make_worker(&w, "lc_cs_n", "lc_cs_n_type", "loop quitmark", BGW_NEVER_RESTART,
				BGWORKER_SHMEM_ACCESS, 0);
	pn = lc_start_worker(&w, &hn);
	make_worker(&w, "lc_cs_r", "lc_cs_r_type", "loop quitmark", 1,
				BGWORKER_SHMEM_ACCESS, 0);
	pr = lc_start_worker(&w, &hr);
	lc_step("running n=%d r=%d", (int) pn, (int) pr);
	st = GetBackgroundWorkerPid(hn, &p);
	lc_out("host: never getpid=%s", lc_status_name(st));
	p = 0;
	st = WaitForBackgroundWorkerStartup(hr, &p);
	lc_out("host: restartable startup=%s pid=%d", lc_status_name(st), (int) p);
	if (st == BGWH_STARTED)
		lc_stop_worker("lc_cs_r", hr);
	lc_out("host: done");
	free(hn);
	free(hr);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *scenario;

	if (argc < 4)
	{
		fprintf(stderr, "usage: lc_host SCENARIO RUNDIR MODULE_SO [args...]\n");
		return 2;
	}
	scenario = argv[1];
	module_path = argv[3];

	lc_step_init();
	lc_attach_or_fail(argv[2]);

	if (strcmp(scenario, "one") == 0)
		return scenario_one(argc, argv);
	if (strcmp(scenario, "basic") == 0)
		return scenario_basic();
	if (strcmp(scenario, "slots") == 0)
		return scenario_slots(argc, argv);
	if (strcmp(scenario, "parallel") == 0)
		return scenario_parallel(argc, argv);
	if (strcmp(scenario, "notify") == 0)
		return scenario_notify();
	if (strcmp(scenario, "waitdeath") == 0)
		return scenario_waitdeath();
	if (strcmp(scenario, "many") == 0)
		return scenario_many(argc, argv);
	if (strcmp(scenario, "termrestart") == 0)
		return scenario_termrestart();
	if (strcmp(scenario, "pending") == 0)
		return scenario_pending(argc, argv);
	if (strcmp(scenario, "crashsee") == 0)
		return scenario_crashsee();
	FAIL("unknown scenario %s", scenario);
}
