/*
 * sv_host.c
 *		Host program for the supervision tests: attaches to a running
 *		bgworkerd and drives workers of sv_workers.so through
 *		include/bgworker_supervision.h.
 *
 * usage: sv_host SCENARIO RUNDIR MODULE_SO [args...]
 *
 * Output: "host: ..." lines of key=value tokens; "FAIL: ..." and exit 1 on
 * an unexpected result. Times are monotonic milliseconds.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bgworker.h"
#include "bgworker_supervision.h"
#include "lc_common.h"

_Static_assert(sizeof(BgwPolicy) == 64, "BgwPolicy layout");
_Static_assert(sizeof(BgwExitInfo) == 40, "BgwExitInfo layout");

static const char *module_path;

static void
make(BackgroundWorker *w, const char *name, const char *extra, int restart)
{
	lc_fill_worker(w, name, NULL, module_path, "sv_main", extra);
	w->bgw_restart_time = restart;
}

static BgwPolicy
policy(void)
{
	BgwPolicy	p;

	if (bgw_policy_init(&p) != 0)
		FAIL("bgw_policy_init: %s", lc_last_error());
	return p;
}

static BackgroundWorkerHandle *
reg(BackgroundWorker *w, const BgwPolicy *p)
{
	BackgroundWorkerHandle *h = NULL;

	if (p != NULL && bgw_set_next_policy(p) != 0)
		FAIL("bgw_set_next_policy: %s", lc_last_error());
	if (!lc_register_retry(w, &h, 3000, NULL))
		FAIL("register %s: %s", w->bgw_name, lc_last_error());
	return h;
}

static BgwExitInfo
last_exit(BackgroundWorkerHandle *h)
{
	BgwExitInfo e;

	if (bgw_last_exit(h, &e) != 0)
		FAIL("bgw_last_exit: %s", lc_last_error());
	return e;
}

/* Poll the last exit until pred holds (up to ms); FAIL otherwise. */
static BgwExitInfo
wait_exit(BackgroundWorkerHandle *h, bool (*pred) (const BgwExitInfo *), long ms,
		  const char *what)
{
	long long	deadline = lc_now_ms() + ms;

	for (;;)
	{
		BgwExitInfo e = last_exit(h);

		if (pred(&e))
			return e;
		if (lc_now_ms() > deadline)
			FAIL("waiting for %s: exited=%d state=%d starts=%u", what, e.exited,
				 e.state, e.starts);
		lc_sleep_ms(20);
	}
}

static bool
is_failed(const BgwExitInfo *e)
{
	return e->state == BGW_STATE_FAILED;
}

static bool
has_exited(const BgwExitInfo *e)
{
	return e->exited != 0;
}

static void
print_exit(const char *tag, const BgwExitInfo *e)
{
	lc_out("host: %s exited=%d code=%d signal=%d crash=%d reason=%d starts=%u state=%d ready=%d time_ok=%d",
		   tag, e->exited, e->code, e->signal, e->crash, e->reason, e->starts,
		   e->state, e->ready, e->exited ? e->time_ms > 1500000000000LL : e->time_ms == 0);
}

/* backoff INITIAL FACTOR CAP GIVE_UP */
static int
scenario_backoff(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwPolicy	p = policy();
	BgwExitInfo e;
	pid_t		pid = 0;
	int			r;
	unsigned	before;

	if (argc < 8)
		FAIL("usage: backoff RUNDIR MODULE INITIAL FACTOR CAP GIVE_UP");
	p.set = BGW_POLICY_BACKOFF_INITIAL | BGW_POLICY_BACKOFF_FACTOR | BGW_POLICY_BACKOFF_CAP |
		BGW_POLICY_GIVE_UP_RESTARTS | BGW_POLICY_GIVE_UP_WINDOW;
	p.backoff_initial_ms = atoi(argv[4]);
	p.backoff_factor = atof(argv[5]);
	p.backoff_cap_ms = atoi(argv[6]);
	p.give_up_restarts = atoi(argv[7]);
	p.give_up_window_ms = 60000;
	make(&w, "sv_backoff", "exit=1", 1);
	h = reg(&w, &p);
	e = wait_exit(h, is_failed, 30000, "failed");
	print_exit("failed", &e);
	lc_out("host: failed status=%s", lc_status_name(GetBackgroundWorkerPid(h, &pid)));
	r = bgw_wait_for_ready(h, 1000, &pid);
	lc_out("host: failed wait_ready=%d", r);
	before = e.starts;
	r = bgw_relaunch(h);
	lc_out("host: relaunch rc=%d", r);
	{
		long long	deadline = lc_now_ms() + 10000;

		do
		{
			lc_sleep_ms(10);
			e = last_exit(h);
		} while (e.starts == before && lc_now_ms() < deadline);
	}
	lc_out("host: relaunched starts=%u", e.starts);
	TerminateBackgroundWorker(h);
	lc_out("host: after terminate status=%s", lc_status_name(WaitForBackgroundWorkerShutdown(h)));
	r = bgw_relaunch(h);
	lc_out("host: relaunch stale rc=%d err=%s", r, lc_last_error());
	return 0;
}

static int
scenario_ready(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwPolicy	p = policy();
	pid_t		pid = 0,
				rpid = 0;
	long long	t0,
				t1,
				t2;
	int			r;
	BgwHandleStatus st;

	/* ready 300 ms after it started */
	p.set = BGW_POLICY_START_TIMEOUT;
	p.start_timeout_ms = 10000;
	make(&w, "sv_ready", "sleep=300 ready loop", BGW_NEVER_RESTART);
	t0 = lc_now_ms();
	h = reg(&w, &p);
	st = WaitForBackgroundWorkerStartup(h, &pid);
	t1 = lc_now_ms();
	r = bgw_wait_for_ready(h, 10000, &rpid);
	t2 = lc_now_ms();
	lc_out("host: ready startup=%s rc=%d same_pid=%d started_ms=%lld ready_ms=%lld",
		   lc_status_name(st), r, pid == rpid, t1 - t0, t2 - t0);
	r = bgw_wait_for_ready(h, 0, &rpid);
	lc_out("host: ready again rc=%d", r);
	lc_stop_worker("sv_ready", h);

	/* exits before ready */
	make(&w, "sv_early", "exit=1", BGW_NEVER_RESTART);
	h = reg(&w, NULL);
	r = bgw_wait_for_ready(h, 10000, NULL);
	lc_out("host: early rc=%d", r);

	/* exceeds its start timeout */
	p = policy();
	p.set = BGW_POLICY_START_TIMEOUT;
	p.start_timeout_ms = 400;
	make(&w, "sv_slow", "loop", BGW_NEVER_RESTART);
	t0 = lc_now_ms();
	h = reg(&w, &p);
	r = bgw_wait_for_ready(h, 10000, NULL);
	t1 = lc_now_ms();
	lc_out("host: slow rc=%d elapsed_ms=%lld", r, t1 - t0);
	{
		BgwExitInfo e = wait_exit(h, has_exited, 5000, "slow exit");

		print_exit("slow", &e);
	}

	/* never ready, no start timeout: the waiter's timeout */
	make(&w, "sv_never", "loop", BGW_NEVER_RESTART);
	h = reg(&w, NULL);
	st = WaitForBackgroundWorkerStartup(h, &pid);
	t0 = lc_now_ms();
	r = bgw_wait_for_ready(h, 200, NULL);
	t1 = lc_now_ms();
	lc_out("host: never startup=%s rc=%d elapsed_ms=%lld", lc_status_name(st), r, t1 - t0);
	lc_stop_worker("sv_never", h);
	return 0;
}

static int
scenario_stop(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwPolicy	p = policy();
	long long	t0,
				t1;
	BgwHandleStatus st;

	p.set = BGW_POLICY_STOP_TIMEOUT;
	p.stop_timeout_ms = 700;
	make(&w, "sv_stubborn", "ignterm loop", BGW_NEVER_RESTART);
	h = reg(&w, &p);
	if (WaitForBackgroundWorkerStartup(h, NULL) != BGWH_STARTED)
		FAIL("sv_stubborn did not start");
	lc_sleep_ms(200);			/* let it ignore SIGTERM */
	t0 = lc_now_ms();
	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	t1 = lc_now_ms();
	lc_out("host: stop status=%s elapsed_ms=%lld", lc_status_name(st), t1 - t0);
	{
		BgwExitInfo e = last_exit(h);

		print_exit("stop", &e);
	}
	return 0;
}

/* watchdog crash|exit */
static int
scenario_watchdog(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwPolicy	p = policy();
	long long	t0,
				t1;
	BgwExitInfo e;
	bool		crash;

	if (argc < 5)
		FAIL("usage: watchdog RUNDIR MODULE crash|exit");
	crash = strcmp(argv[4], "crash") == 0;
	p.set = BGW_POLICY_WATCHDOG_INTERVAL | BGW_POLICY_WATCHDOG_ACTION;
	p.watchdog_interval_ms = 500;
	p.watchdog_action = crash ? BGW_WATCHDOG_CRASH : BGW_WATCHDOG_EXIT;
	make(&w, crash ? "sv_wd_crash" : "sv_wd_exit", "checkin=5 loop", 1);
	h = reg(&w, &p);
	if (WaitForBackgroundWorkerStartup(h, NULL) != BGWH_STARTED)
		FAIL("watchdog worker did not start");
	t0 = lc_now_ms();
	e = wait_exit(h, has_exited, 10000, "watchdog kill");
	t1 = lc_now_ms();
	lc_out("host: watchdog elapsed_ms=%lld", t1 - t0);
	print_exit("watchdog", &e);
	TerminateBackgroundWorker(h);
	lc_out("host: watchdog terminated status=%s",
		   lc_status_name(WaitForBackgroundWorkerShutdown(h)));
	return 0;
}

static bool
reuse_stopped(const BgwExitInfo *e)
{
	return e->exited && e->state == BGW_STATE_STOPPED;
}

/* reuse: the daemon has max_worker_processes = 1, so every worker gets slot 0 */
static int
scenario_reuse(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *first,
			   *h = NULL;
	BgwExitInfo e;
	int			k;

	make(&w, "sv_gone", "exit=1", BGW_NEVER_RESTART);
	first = reg(&w, NULL);
	e = wait_exit(first, reuse_stopped, 10000, "sv_gone stopped");
	print_exit("gone", &e);
	for (k = 1; k <= 4; k++)
	{
		int			rc;

		make(&w, "sv_next", "exit=0", BGW_NEVER_RESTART);
		h = reg(&w, NULL);
		if (WaitForBackgroundWorkerShutdown(h) != BGWH_STOPPED)
			FAIL("sv_next did not stop");
		rc = bgw_last_exit(first, &e);
		lc_out("host: reuse k=%d rc=%d code=%d starts=%u state=%d err=%s", k, rc,
			   rc == 0 ? e.code : -99, rc == 0 ? e.starts : 0, rc == 0 ? e.state : -1,
			   rc == 0 ? "-" : lc_last_error());
	}
	e = wait_exit(h, reuse_stopped, 10000, "sv_next stopped");
	print_exit("newest", &e);
	return 0;
}

static void
bad_case(const char *name, int rc)
{
	lc_out("host: bad case=%s rc=%d err=%s", name, rc, rc == 0 ? "-" : lc_last_error());
}

static int
scenario_bad(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwPolicy	p;
	BgwExitInfo e;
	pid_t		pid0,
				pid = 0;
	BgwHandleStatus st;

	make(&w, "sv_victim", "loop", BGW_NEVER_RESTART);
	pid0 = lc_start_worker(&w, &h);

	p = policy();
	p.set = BGW_POLICY_BACKOFF_INITIAL;
	p.backoff_initial_ms = -5;
	bad_case("negative", bgw_set_policy(h, &p));
	p = policy();
	p.set = BGW_POLICY_STOP_TIMEOUT;
	p.stop_timeout_ms = 1000000000;
	bad_case("absurd", bgw_set_policy(h, &p));
	p = policy();
	p.set = BGW_POLICY_BACKOFF_FACTOR;
	p.backoff_factor = 0.5;
	bad_case("factor", bgw_set_policy(h, &p));
	p = policy();
	p.set = BGW_POLICY_BACKOFF_JITTER;
	p.backoff_jitter = 2.0;
	bad_case("jitter", bgw_set_policy(h, &p));
	p = policy();
	p.set = BGW_POLICY_GIVE_UP_RESTARTS;
	p.give_up_restarts = -2;
	bad_case("give_up", bgw_set_policy(h, &p));
	p = policy();
	p.set = BGW_POLICY_WATCHDOG_ACTION;
	p.watchdog_action = 7;
	bad_case("action", bgw_set_policy(h, &p));
	p = policy();
	p.set = 1u << 20;
	bad_case("bits", bgw_set_policy(h, &p));
	memset(&p, 0, sizeof(p));
	p.set = BGW_POLICY_STOP_TIMEOUT;
	bad_case("size", bgw_set_policy(h, &p));
	p = policy();
	bad_case("null_handle", bgw_set_policy(NULL, &p));
	bad_case("null_policy", bgw_set_policy(h, NULL));
	p.set = BGW_POLICY_STOP_TIMEOUT;
	p.stop_timeout_ms = -1;
	bad_case("next", bgw_set_next_policy(&p));
	bad_case("wait_timeout", bgw_wait_for_ready(h, -5, NULL));
	bad_case("ready_in_host", bgw_notify_ready());
	bad_case("checkin_in_host", bgw_watchdog_checkin());
	bad_case("exit_null", bgw_last_exit(h, NULL));
	bad_case("relaunch_running", bgw_relaunch(h));
	p = policy();
	p.set = BGW_POLICY_BACKOFF_INITIAL | BGW_POLICY_BACKOFF_FACTOR | BGW_POLICY_BACKOFF_CAP |
		BGW_POLICY_BACKOFF_JITTER;
	p.backoff_initial_ms = BGW_MAX_DELAY_MS + 1;
	p.backoff_factor = 1000;
	p.backoff_cap_ms = BGW_MAX_DELAY_MS;
	p.backoff_jitter = 1;
	bad_case("over_max", bgw_set_policy(h, &p));
	p.backoff_initial_ms = BGW_MAX_DELAY_MS;
	bad_case("at_max", bgw_set_policy(h, &p));

	st = GetBackgroundWorkerPid(h, &pid);
	e = last_exit(h);
	lc_out("host: victim status=%s same_pid=%d starts=%u exited=%d", lc_status_name(st),
		   pid == pid0, e.starts, e.exited);
	lc_stop_worker("sv_victim", h);

	make(&w, "sv_forker", "forkcheck loop", BGW_NEVER_RESTART);
	lc_start_worker(&w, &h);
	lc_sleep_ms(300);
	lc_stop_worker("sv_forker", h);
	lc_out("host: bad done");
	return 0;
}

/* foreign RUNDIR_B: a handle of daemon A used while attached to B */
static int
scenario_foreign(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;
	BgwExitInfo e;
	BgwPolicy	p = policy();
	pid_t		pid = 0;
	BgwHandleStatus st;

	if (argc < 5)
		FAIL("usage: foreign RUNDIR MODULE RUNDIR_B");
	make(&w, "sv_home", "loop", BGW_NEVER_RESTART);
	lc_start_worker(&w, &h);
	bgw_detach();
	lc_attach_or_fail(argv[4]);
	bad_case("foreign_exit", bgw_last_exit(h, &e));
	p.set = BGW_POLICY_STOP_TIMEOUT;
	p.stop_timeout_ms = 100;
	bad_case("foreign_policy", bgw_set_policy(h, &p));
	bad_case("foreign_ready", bgw_wait_for_ready(h, 0, NULL) == BGW_READY_ERROR ? -1 : 0);
	st = GetBackgroundWorkerPid(h, &pid);
	lc_out("host: foreign pid status=%s err=%s", lc_status_name(st), lc_last_error());
	bgw_detach();
	lc_attach_or_fail(argv[2]);
	st = GetBackgroundWorkerPid(h, &pid);
	lc_out("host: home status=%s", lc_status_name(st));
	lc_stop_worker("sv_home", h);
	return 0;
}

static bool
crasher_failed(const BgwExitInfo *e)
{
	return e->state == BGW_STATE_FAILED;
}

static int
scenario_crashcount(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *crasher,
			   *bystander;
	BgwPolicy	p = policy();
	BgwExitInfo e;
	long long	deadline;

	make(&w, "sv_bystander", "loop", 0);
	lc_start_worker(&w, &bystander);
	p.set = BGW_POLICY_GIVE_UP_RESTARTS | BGW_POLICY_BACKOFF_INITIAL;
	p.give_up_restarts = 1;
	p.backoff_initial_ms = 300;
	make(&w, "sv_crasher", "sleep=100 exit=2", 0);
	crasher = reg(&w, &p);
	e = wait_exit(crasher, crasher_failed, 20000, "crasher failed");
	print_exit("crasher", &e);
	/* the bystander is running again after the second cycle */
	deadline = lc_now_ms() + 10000;
	do
	{
		lc_sleep_ms(20);
		e = last_exit(bystander);
	} while ((e.starts < 3 || e.state != BGW_STATE_RUNNING) && lc_now_ms() < deadline);
	print_exit("bystander", &e);
	lc_stop_worker("sv_bystander", bystander);
	TerminateBackgroundWorker(crasher);
	lc_out("host: crasher terminated status=%s",
		   lc_status_name(WaitForBackgroundWorkerShutdown(crasher)));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *scenario;

	if (argc < 4)
		FAIL("usage: sv_host SCENARIO RUNDIR MODULE_SO [args...]");
	scenario = argv[1];
	module_path = argv[3];
	lc_attach_or_fail(argv[2]);
	if (strcmp(scenario, "backoff") == 0)
		return scenario_backoff(argc, argv);
	if (strcmp(scenario, "ready") == 0)
		return scenario_ready();
	if (strcmp(scenario, "stop") == 0)
		return scenario_stop();
	if (strcmp(scenario, "watchdog") == 0)
		return scenario_watchdog(argc, argv);
	if (strcmp(scenario, "reuse") == 0)
		return scenario_reuse();
	if (strcmp(scenario, "bad") == 0)
		return scenario_bad();
	if (strcmp(scenario, "foreign") == 0)
		return scenario_foreign(argc, argv);
	if (strcmp(scenario, "crashcount") == 0)
		return scenario_crashcount();
	FAIL("unknown scenario %s", scenario);
}
