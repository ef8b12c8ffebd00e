/*
 * bgworker_supervision.h -- libbgworker: supervision beyond PostgreSQL's,
 * opt-in: restart backoff, a give-up limit, readiness with a start timeout,
 * a stop timeout, a watchdog, and the last exit of a worker read through
 * its handle.
 *
 * Include it beside PostgreSQL's postmaster/bgworker.h (a module built with
 * PGXS) or libbgworker's bgworker.h (a plain C host); it needs neither and
 * changes nothing in them: PostgreSQL's BackgroundWorker struct is untouched
 * for every major. With nothing configured every behaviour stays
 * PostgreSQL's. README.md ("Supervision beyond PostgreSQL") has the state
 * machine, the settings and the precedence: a policy set for the worker
 * itself (bgw_set_policy, bgw_set_next_policy) wins, field by field, over
 * the worker_policy_by_type entry of its bgw_type, which wins over the
 * daemon-wide worker_* settings.
 *
 * Failure: every int-returning function returns -1 (bgw_wait_for_ready:
 * BGW_READY_ERROR) with a message for bgw_last_error(); in a PostgreSQL
 * module (a process that runs under bgworkerd with its runtime: the
 * supervisor's module code or a worker) the same message is raised as
 * PostgreSQL's ERROR instead, which PG_TRY catches.
 *
 * Times are milliseconds; every delay, interval and timeout is at most
 * BGW_MAX_DELAY_MS (24 h).
 */

#ifndef LIBBGWORKER_BGWORKER_SUPERVISION_H
#define LIBBGWORKER_BGWORKER_SUPERVISION_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct BackgroundWorkerHandle;

/* Largest delay, interval or timeout; a backoff stops growing here. */
#define BGW_MAX_DELAY_MS 86400000

/* Bits of BgwPolicy.set: which fields the policy gives. */
#define BGW_POLICY_BACKOFF_INITIAL     (1u << 0)
#define BGW_POLICY_BACKOFF_FACTOR      (1u << 1)
#define BGW_POLICY_BACKOFF_CAP         (1u << 2)
#define BGW_POLICY_BACKOFF_JITTER      (1u << 3)
#define BGW_POLICY_BACKOFF_RESET_AFTER (1u << 4)
#define BGW_POLICY_GIVE_UP_RESTARTS    (1u << 5)
#define BGW_POLICY_GIVE_UP_WINDOW      (1u << 6)
#define BGW_POLICY_START_TIMEOUT       (1u << 7)
#define BGW_POLICY_STOP_TIMEOUT        (1u << 8)
#define BGW_POLICY_WATCHDOG_INTERVAL   (1u << 9)
#define BGW_POLICY_WATCHDOG_ACTION     (1u << 10)

/* BgwPolicy.watchdog_action: what a watchdog kill counts as. */
#define BGW_WATCHDOG_CRASH 0	/* a crash: PostgreSQL's crash cycle */
#define BGW_WATCHDOG_EXIT  1	/* a plain exit with code 1 */

/*
 * A supervision policy. Only the fields whose bit is in `set` are read; the
 * others fall through to the configuration. bgw_policy_init() clears it and
 * sets `size`.
 */
typedef struct BgwPolicy
{
	uint32_t	size;			/* sizeof(BgwPolicy) */
	uint32_t	set;			/* BGW_POLICY_* bits */
	int32_t		backoff_initial_ms; /* first restart delay; > 0 turns the
									 * backoff on (0: bgw_restart_time) */
	int32_t		backoff_cap_ms; /* longest delay before jitter (default
								 * 300000; never below backoff_initial_ms) */
	double		backoff_factor; /* 1 .. 1000 (default 2) */
	double		backoff_jitter; /* 0 .. 1: random extra, as a fraction */
	int32_t		backoff_reset_after_ms; /* uptime after which the backoff
										 * starts over (default 60000; 0:
										 * never) */
	int32_t		give_up_restarts;	/* more restarts than this within the
									 * window: failed (-1: no limit) */
	int32_t		give_up_window_ms;	/* default 60000 */
	int32_t		start_timeout_ms;	/* start to ready (0: none) */
	int32_t		stop_timeout_ms;	/* SIGTERM to SIGKILL (0: for ever) */
	int32_t		watchdog_interval_ms;	/* longest time between check-ins
										 * (0: no watchdog) */
	int32_t		watchdog_action;	/* BGW_WATCHDOG_* */
	int32_t		reserved;		/* 0 */
} BgwPolicy;

/* Clear `policy` and set its size. Returns 0, or -1 for NULL. */
extern int	bgw_policy_init(BgwPolicy *policy);

/*
 * Give the worker behind `handle` the fields set in `policy` (replacing the
 * ones it had set before; the others stay). Takes effect at the worker's
 * next decision (next exit, start, terminate or watchdog check; a start
 * timeout or watchdog given to a running worker applies from its next
 * start). Returns 0;
 * -1 for a bad value (the message names the field), a NULL or stale handle,
 * a handle of another daemon, or a process not attached to a supervisor.
 */
extern int	bgw_set_policy(struct BackgroundWorkerHandle *handle,
						   const BgwPolicy *policy);

/*
 * Give the next RegisterBackgroundWorker or RegisterDynamicBackgroundWorker
 * call of this thread the fields set in `policy` (consumed by that call,
 * whether it succeeds or not). NULL clears a policy set before. Returns 0,
 * or -1 for a bad value.
 */
extern int	bgw_set_next_policy(const BgwPolicy *policy);

/*
 * In a worker: declare it ready (as sd_notify's READY=1). Waiters in
 * bgw_wait_for_ready return; the start timeout stops. Repeating it does
 * nothing. Returns 0, or -1 in a process that is not a worker of a
 * supervisor (or a child a worker forked).
 */
extern int	bgw_notify_ready(void);

/*
 * In a worker: check in with its watchdog (as sd_notify's WATCHDOG=1).
 * Returns 0, or -1 in a process that is not that worker's own process.
 */
extern int	bgw_watchdog_checkin(void);

/* Results of bgw_wait_for_ready. */
typedef enum BgwReadyStatus
{
	BGW_READY_ERROR = -1,		/* bad call: see bgw_last_error() */
	BGW_READY = 0,				/* ready; *pidp is its pid */
	BGW_READY_TIMED_OUT = 1,	/* the caller's timeout passed first */
	BGW_READY_EXITED = 2,		/* its process exited before ready */
	BGW_READY_START_TIMEOUT = 3,	/* it exceeded its start timeout */
	BGW_READY_STOPPED = 4,		/* unregistered or failed: never ready */
	BGW_READY_POSTMASTER_DIED = 5	/* the supervisor is gone */
} BgwReadyStatus;

/*
 * Wait until the worker behind `handle` is ready, for at most `timeout_ms`
 * (-1: no limit; 0: just look). Waits through a restart that is pending
 * when it starts, but reports an attempt that fails before ready while it
 * waits, or one that had failed when it was called and has not been
 * followed by a new start. Workers that never call bgw_notify_ready are
 * never ready: a waiter for them has PostgreSQL's
 * WaitForBackgroundWorkerStartup.
 */
extern BgwReadyStatus bgw_wait_for_ready(struct BackgroundWorkerHandle *handle,
										 int timeout_ms, pid_t *pidp);

/* BgwExitInfo.reason */
#define BGW_EXIT_NORMAL        0	/* it exited by itself, no crash */
#define BGW_EXIT_CRASH         1	/* any other exit or signal: a crash */
#define BGW_EXIT_START_TIMEOUT 2	/* killed: not ready within its start timeout */
#define BGW_EXIT_STOP_TIMEOUT  3	/* killed: not stopped within its stop timeout */
#define BGW_EXIT_WATCHDOG      4	/* killed: missed its watchdog check-in */
#define BGW_EXIT_STOPPED       5	/* it ended by a signal the supervisor sent
									 * (SIGTERM, or SIGQUIT of a crash cycle or
									 * immediate shutdown) */

/* BgwExitInfo.state: the worker's state now */
#define BGW_STATE_NOT_STARTED 1
#define BGW_STATE_RUNNING     2
#define BGW_STATE_RESTARTING  3
#define BGW_STATE_TERMINATING 4
#define BGW_STATE_STOPPED     5	/* unregistered; the slot may be reused */
#define BGW_STATE_FAILED      6	/* gave up; kept until terminated or relaunched */

/* The last exit of a worker, within the generation its handle names. */
typedef struct BgwExitInfo
{
	int32_t		exited;			/* 1 once it has exited; 0: the rest is 0 */
	int32_t		code;			/* exit code, or -1 if a signal ended it */
	int32_t		signal;			/* the signal that ended it, or 0 */
	int32_t		crash;			/* 1 if handled as a crash */
	int32_t		reason;			/* BGW_EXIT_* */
	uint32_t	starts;			/* times started in this generation */
	int64_t		time_ms;		/* when it exited, ms since the Unix epoch */
	int32_t		state;			/* BGW_STATE_* now */
	int32_t		ready;			/* 1 if it was ready when it exited */
} BgwExitInfo;

/*
 * The last exit of the worker behind `handle`, even after it is gone and
 * its slot reused (the supervisor keeps the records of the last
 * BGW_EXIT_RECORDS generations of each slot). Returns 0 with `*info` filled
 * (exited = 0 if it has not exited yet); -1 if the record is gone (the slot
 * was reused too often since), for a NULL or foreign handle, or when not
 * attached.
 */
#define BGW_EXIT_RECORDS 4
extern int	bgw_last_exit(struct BackgroundWorkerHandle *handle, BgwExitInfo *info);

/*
 * Start a failed worker again (its restart history cleared), as
 * `bgworkerctl restart` does. Returns 0, or -1 if the handle's worker is
 * not failed (or stale, foreign, NULL).
 */
extern int	bgw_relaunch(struct BackgroundWorkerHandle *handle);

#ifdef __cplusplus
}
#endif

#endif							/* LIBBGWORKER_BGWORKER_SUPERVISION_H */
