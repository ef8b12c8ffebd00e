/*
 * supervision.c -- C shims of the supervision exports
 * (include/bgworker_supervision.h), as raise.c's: each export is a naked
 * Rust trampoline (src/supervision.rs) that jumps here; the shim calls the
 * Rust body (bgw_rs_NAME) and, once it has returned, raises the ERROR the
 * body deferred to the runtime, if any (a module), from this C frame. In a
 * plain host nothing is deferred and the body's failure value stands.
 */
#include <stdbool.h>
#include <sys/types.h>

typedef struct BackgroundWorkerHandle BackgroundWorkerHandle;
typedef struct BgwPolicy BgwPolicy;
typedef struct BgwExitInfo BgwExitInfo;
typedef void (*bgw_raiser) (void);

#define HIDDEN __attribute__((visibility("hidden")))

extern bgw_raiser bgw_rs_take_deferred_raise(void);
extern int	bgw_rs_set_policy(BackgroundWorkerHandle *handle, const BgwPolicy *policy);
extern int	bgw_rs_set_next_policy(const BgwPolicy *policy);
extern int	bgw_rs_notify_ready(void);
extern int	bgw_rs_watchdog_checkin(void);
extern int	bgw_rs_wait_for_ready(BackgroundWorkerHandle *handle, int timeout_ms,
								  pid_t *pidp);
extern int	bgw_rs_last_exit(BackgroundWorkerHandle *handle, BgwExitInfo *info);
extern int	bgw_rs_relaunch(BackgroundWorkerHandle *handle);

static inline void
raise_deferred(void)
{
	bgw_raiser r = bgw_rs_take_deferred_raise();

	if (r)
		r();
}

HIDDEN int
bgw_c_set_policy(BackgroundWorkerHandle *handle, const BgwPolicy *policy)
{
	int			r = bgw_rs_set_policy(handle, policy);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_set_next_policy(const BgwPolicy *policy)
{
	int			r = bgw_rs_set_next_policy(policy);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_notify_ready(void)
{
	int			r = bgw_rs_notify_ready();

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_watchdog_checkin(void)
{
	int			r = bgw_rs_watchdog_checkin();

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_wait_for_ready(BackgroundWorkerHandle *handle, int timeout_ms, pid_t *pidp)
{
	int			r = bgw_rs_wait_for_ready(handle, timeout_ms, pidp);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_last_exit(BackgroundWorkerHandle *handle, BgwExitInfo *info)
{
	int			r = bgw_rs_last_exit(handle, info);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_relaunch(BackgroundWorkerHandle *handle)
{
	int			r = bgw_rs_relaunch(handle);

	raise_deferred();
	return r;
}
