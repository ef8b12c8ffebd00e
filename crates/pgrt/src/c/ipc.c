/*
 * ipc.c -- process exit (storage/ipc/ipc.c), interrupt processing
 * (tcop/postgres.c's ProcessInterrupts for a background worker), the
 * worker's outermost error handler, and the guard the supervisor runs
 * module hooks under.
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ON_EXITS 20

typedef void (*pg_on_exit_callback) (int code, Datum arg);

struct onexit
{
	pg_on_exit_callback function;
	Datum		arg;
};

static struct onexit on_proc_exit_list[MAX_ON_EXITS];
static struct onexit on_shmem_exit_list[MAX_ON_EXITS];
static struct onexit before_shmem_exit_list[MAX_ON_EXITS];
static int	on_proc_exit_index,
			on_shmem_exit_index,
			before_shmem_exit_index;

static void
run_list(struct onexit *list, int *index, int code)
{
	/* Each entry is removed before it runs: a callback that fails (and
	 * exits again) is not run twice. */
	while (--(*index) >= 0)
		list[*index].function(code, list[*index].arg);
	*index = 0;
}

/*
 * Everything before the final exit: no more interrupts or errors caught,
 * every exit callback (before_shmem_exit, on_shmem_exit, on_proc_exit,
 * each newest first), then what the runtime itself holds.
 */
void		bgw_c_dsm_backend_shutdown(void);
void		bgw_c_dsm_exit_from_handler(void);

static void
prepare_exit(int code)
{
	proc_exit_inprogress = true;
	InterruptPending = false;
	ProcDiePending = false;
	QueryCancelPending = false;
	InterruptHoldoffCount = 1;
	CritSectionCount = 0;
	error_context_stack = NULL;

	run_list(before_shmem_exit_list, &before_shmem_exit_index, code);
	bgw_c_dsm_backend_shutdown();
	run_list(on_shmem_exit_list, &on_shmem_exit_index, code);
	run_list(on_proc_exit_list, &on_proc_exit_index, code);

	bgw_rs_before_exit();
}

extern void bgw_rs_final_exit(int code) BGW_NORETURN;

/*
 * proc_exit: the exit callbacks, then exit() -- or, in a worker forked
 * from an embedding host, _exit() after flushing stdio, so that the host's
 * atexit handlers do not run in its workers (src/backend.rs,
 * exit_process). (MyProcPid is 0 in a host process that never started a
 * supervisor or worker.)
 */
void
bgw_c_proc_exit(int code)
{
	if (MyProcPid != 0 && MyProcPid != (int) getpid())
		bgw_ereport(PANIC, bgw_c_errmsg_internal("proc_exit() called in child process"));
	prepare_exit(code);
	bgw_rs_final_exit(code);
}

static void
add_callback(struct onexit *list, int *index, const char *what,
			 pg_on_exit_callback function, Datum arg)
{
	if (*index >= MAX_ON_EXITS)
		bgw_ereport(FATAL, (bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							bgw_c_errmsg_internal("out of %s slots", what)));
	list[*index].function = function;
	list[*index].arg = arg;
	++(*index);
}

void
bgw_c_on_proc_exit(pg_on_exit_callback function, Datum arg)
{
	add_callback(on_proc_exit_list, &on_proc_exit_index, "on_proc_exit",
				 function, arg);
}

void
bgw_c_before_shmem_exit(pg_on_exit_callback function, Datum arg)
{
	add_callback(before_shmem_exit_list, &before_shmem_exit_index,
				 "before_shmem_exit", function, arg);
}

void
bgw_c_on_shmem_exit(pg_on_exit_callback function, Datum arg)
{
	add_callback(on_shmem_exit_list, &on_shmem_exit_index, "on_shmem_exit",
				 function, arg);
}

/* Only the most recent before_shmem_exit entry may be cancelled. */
void
bgw_c_cancel_before_shmem_exit(pg_on_exit_callback function, Datum arg)
{
	if (before_shmem_exit_index > 0 &&
		before_shmem_exit_list[before_shmem_exit_index - 1].function == function &&
		before_shmem_exit_list[before_shmem_exit_index - 1].arg == arg)
		--before_shmem_exit_index;
	else
		bgw_ereport(ERROR, bgw_c_errmsg_internal("before_shmem_exit callback (%p,0x%llx) is not the latest entry",
												 (void *) function, (long long) arg));
}

/*
 * CHECK_FOR_INTERRUPTS(): act on what the signal handlers flagged. Only
 * termination and query cancel concern a background worker.
 */
void
bgw_c_ProcessInterrupts(void)
{
	if (InterruptHoldoffCount != 0 || CritSectionCount != 0)
		return;
	InterruptPending = false;
	/* An ERROR a panicking signal handler recorded (compat::guard). */
	bgw_c_raise_pending();

	if (ProcDiePending)
	{
		ProcDiePending = false;
		QueryCancelPending = false;
		if (bgw_rs_is_worker())
			bgw_ereport(FATAL, (bgw_c_errcode(ERRCODE_ADMIN_SHUTDOWN),
								bgw_c_errmsg_internal("terminating background worker \"%s\" due to administrator command",
													  bgw_rs_worker_type())));
		else
			bgw_ereport(FATAL, (bgw_c_errcode(ERRCODE_ADMIN_SHUTDOWN),
								bgw_c_errmsg_internal("terminating connection due to administrator command")));
	}
	if (QueryCancelPending)
	{
		if (QueryCancelHoldoffCount != 0)
		{
			/* Not now: keep it pending for the next check. */
			InterruptPending = true;
			return;
		}
		QueryCancelPending = false;
		bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_QUERY_CANCELED),
							bgw_c_errmsg_internal("canceling statement due to user request")));
	}
}

/*
 * Call a worker's entry point with PostgreSQL's outermost handler around
 * it: an ERROR nobody caught is logged and ends the worker with status 1;
 * returning from the entry point ends it with status 0. Both go through
 * proc_exit, so the module's exit callbacks run.
 */
void
bgw_c_run_worker_entry(void (*entry) (Datum), Datum arg)
{
	sigjmp_buf	local_sigjmp_buf;

	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		error_context_stack = NULL;
		InterruptHoldoffCount++;
		bgw_c_EmitErrorReport();
		bgw_c_proc_exit(1);
	}
	PG_exception_stack = &local_sigjmp_buf;
	entry(arg);
	bgw_c_proc_exit(0);
}

/*
 * Run a module hook (shmem_request_hook, shmem_startup_hook, _PG_init) in
 * the supervisor. An ERROR raised inside is logged and makes this return
 * false instead of unwinding into the supervisor's Rust frames.
 */
bool
bgw_c_call_guarded(void (*hook) (void))
{
	sigjmp_buf	local_sigjmp_buf;
	sigjmp_buf *save_exception_stack = PG_exception_stack;
	ErrorContextCallback *save_context_stack = error_context_stack;

	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		PG_exception_stack = save_exception_stack;
		error_context_stack = save_context_stack;
		bgw_c_EmitErrorReport();
		bgw_c_FlushErrorState();
		return false;
	}
	PG_exception_stack = &local_sigjmp_buf;
	hook();
	PG_exception_stack = save_exception_stack;
	error_context_stack = save_context_stack;
	return true;
}

/*
 * The default SIGTERM handler's exit (PostgreSQL's bgworker_die reports
 * FATAL, whose proc_exit runs the exit callbacks): the callbacks run, but
 * the process ends with _exit, since stdio and atexit handlers are not
 * safe from a signal handler that may have interrupted them.
 */
void
bgw_c_proc_exit_from_handler(int code)
{
	/* Dynamic shared memory is released without touching the heap. */
	bgw_c_dsm_exit_from_handler();
	prepare_exit(code);
	_exit(code);
}

/*
 * Run fn(arg), catching an ERROR raised inside (a module's GUC hook, say):
 * the error stays on the error stack and false is returned, so that the
 * caller can unwind its own frames normally and then re-throw it
 * (bgw_c_raise_pending) or report it (bgw_c_report_caught). The frames
 * between here and the module code are plain Rust frames that own nothing
 * (see src/compat/mod.rs).
 */
bool
bgw_c_call_caught(void (*fn) (void *), void *arg)
{
	sigjmp_buf	local_sigjmp_buf;
	sigjmp_buf *save_exception_stack = PG_exception_stack;
	ErrorContextCallback *save_context_stack = error_context_stack;

	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		PG_exception_stack = save_exception_stack;
		error_context_stack = save_context_stack;
		return false;
	}
	PG_exception_stack = &local_sigjmp_buf;
	fn(arg);
	PG_exception_stack = save_exception_stack;
	error_context_stack = save_context_stack;
	return true;
}

/* Log the error bgw_c_call_caught caught, and forget it. */
void
bgw_c_report_caught(void)
{
	bgw_c_EmitErrorReport();
	bgw_c_FlushErrorState();
}
