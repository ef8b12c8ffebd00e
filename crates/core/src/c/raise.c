/*
 * raise.c -- C shims of the bgworker.h exports that may raise ERROR.
 *
 * Each export is a naked Rust trampoline (src/api.rs) that jumps here; the
 * shim calls the Rust body (bgw_rs_NAME), and once that has returned asks
 * whether the body deferred an ERROR to the runtime (backend.rs,
 * raise_error). If so it calls the runtime's raiser, which longjmps to the
 * module's PG_TRY or the worker's outermost handler from this C frame: no
 * Rust frame is ever crossed. Without a runtime nothing is deferred and the
 * shim returns the body's failure value (bgw_last_error() says why).
 */
#include <stdbool.h>
#include <sys/types.h>

typedef struct BackgroundWorker BackgroundWorker;
typedef struct BackgroundWorkerHandle BackgroundWorkerHandle;
typedef void (*bgw_raiser) (void);

#define HIDDEN __attribute__((visibility("hidden")))

extern bgw_raiser bgw_rs_take_deferred_raise(void);
extern bool bgw_rs_RegisterDynamicBackgroundWorker(BackgroundWorker *worker,
												   BackgroundWorkerHandle **handle,
												   unsigned int major);
extern int	bgw_rs_GetBackgroundWorkerPid(BackgroundWorkerHandle *handle, pid_t *pidp);
extern int	bgw_rs_WaitForBackgroundWorkerStartup(BackgroundWorkerHandle *handle,
												  pid_t *pidp);
extern int	bgw_rs_WaitForBackgroundWorkerShutdown(BackgroundWorkerHandle *handle);
extern void bgw_rs_TerminateBackgroundWorker(BackgroundWorkerHandle *handle);

static inline void
raise_deferred(void)
{
	bgw_raiser r = bgw_rs_take_deferred_raise();

	if (r)
		r();
}

HIDDEN bool
bgw_c_RegisterDynamicBackgroundWorker(BackgroundWorker *worker,
									  BackgroundWorkerHandle **handle)
{
	bool		r = bgw_rs_RegisterDynamicBackgroundWorker(worker, handle, 0);

	raise_deferred();
	return r;
}

/* The entry points of a caller of PostgreSQL 15's layout ... */
HIDDEN bool
bgw_c_pg15_RegisterDynamicBackgroundWorker(BackgroundWorker *worker,
										   BackgroundWorkerHandle **handle)
{
	bool		r = bgw_rs_RegisterDynamicBackgroundWorker(worker, handle, 15);

	raise_deferred();
	return r;
}

/* ... and of 17's and 18's. */
HIDDEN bool
bgw_c_pg17_RegisterDynamicBackgroundWorker(BackgroundWorker *worker,
										   BackgroundWorkerHandle **handle)
{
	bool		r = bgw_rs_RegisterDynamicBackgroundWorker(worker, handle, 17);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_GetBackgroundWorkerPid(BackgroundWorkerHandle *handle, pid_t *pidp)
{
	int			r = bgw_rs_GetBackgroundWorkerPid(handle, pidp);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_WaitForBackgroundWorkerStartup(BackgroundWorkerHandle *handle, pid_t *pidp)
{
	int			r = bgw_rs_WaitForBackgroundWorkerStartup(handle, pidp);

	raise_deferred();
	return r;
}

HIDDEN int
bgw_c_WaitForBackgroundWorkerShutdown(BackgroundWorkerHandle *handle)
{
	int			r = bgw_rs_WaitForBackgroundWorkerShutdown(handle);

	raise_deferred();
	return r;
}

HIDDEN void
bgw_c_TerminateBackgroundWorker(BackgroundWorkerHandle *handle)
{
	bgw_rs_TerminateBackgroundWorker(handle);
	raise_deferred();
}
