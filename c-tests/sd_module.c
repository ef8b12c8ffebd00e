/*
 * sd_module.c -- the stack depth check (check_stack_depth,
 * stack_is_too_deep, set_stack_base, restore_stack_base) run the same way
 * under bgworkerd and under a real PostgreSQL server
 * (tests/stack_depth_postgresql.rs compares the "sd:" lines; both run with
 * max_stack_depth = 1000kB, and with the value each sets itself from the
 * stack's limit).
 *
 * The worker checks at its start (no ERROR), recurses with 1 kB frames
 * until check_stack_depth raises its ERROR (caught, its message, SQLSTATE
 * and hint printed), and moves the reference point with set_stack_base
 * 600 frames down, so that 600 more frames are within the limit, then
 * puts it back with restore_stack_base, after which the same depth is too
 * deep.
 */
#include "postgres.h"

#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void sd_main(Datum arg);

static int	deepest;
static bool sd_checking = true;

/* Recurse `n` frames of about 1 kB (unbounded with n < 0), checking the
 * depth in each while sd_checking; then call `at_bottom`. */
static int
sd_recurse(int n, int depth, int (*at_bottom) (int))
{
	volatile char frame[1024];
	int			r;

	memset((char *) frame, depth & 0x7f, sizeof(frame));
	if (sd_checking)
		check_stack_depth();
	deepest = depth;
	if (n == 0)
		r = at_bottom ? at_bottom(depth) : 0;
	else
		r = sd_recurse(n - 1, depth + 1, at_bottom);
	return r + frame[depth % 1024];
}

static int
sd_too_deep_here(int depth)
{
	(void) depth;
	return stack_is_too_deep() ? 1 : 0;
}

/* 600 frames down: a new reference point here, 600 frames more, then the
 * old one back, under which 600 frames more are too deep. */
static int
sd_rebase(int depth)
{
	pg_stack_base_t old = set_stack_base();
	int			more_ok = 1;
	int			too_deep_after_restore;
	MemoryContext ctx = CurrentMemoryContext;

	(void) depth;
	PG_TRY();
	{
		sd_recurse(600, 0, NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(ctx);
		FlushErrorState();
		more_ok = 0;
	}
	PG_END_TRY();
	elog(LOG, "sd: with the base moved 600 frames down, 600 more frames: %s",
		 more_ok ? "no error" : "ERROR");
	elog(LOG, "sd: stack_is_too_deep there with the base moved: %d",
		 sd_recurse(600, 0, sd_too_deep_here) & 1);
	restore_stack_base(old);
	/* 600 frames further down again, without checks on the way. */
	sd_checking = false;
	too_deep_after_restore = sd_recurse(600, 0, sd_too_deep_here) & 1;
	sd_checking = true;
	return too_deep_after_restore;
}

void
sd_main(Datum arg)
{
	MemoryContext ctx = CurrentMemoryContext;
	ErrorData  *ed;
	int			r;
	int			limit_kb = atoi(GetConfigOption("max_stack_depth", false, false));

	(void) arg;
	elog(LOG, "sd: max_stack_depth %d", limit_kb);
	check_stack_depth();
	elog(LOG, "sd: at the worker's start: no error, stack_is_too_deep %d",
		 stack_is_too_deep() ? 1 : 0);
	r = sd_recurse(100, 0, sd_too_deep_here);
	elog(LOG, "sd: 100 frames of 1 kB: no error, stack_is_too_deep at the bottom %d", r & 1);

	PG_TRY();
	{
		sd_recurse(-1, 0, NULL);
		elog(LOG, "sd: unbounded recursion returned");
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(ctx);
		ed = CopyErrorData();
		FlushErrorState();
		elog(LOG, "sd: unbounded recursion: %s | %s | %s | %s",
			 ed->elevel == ERROR ? "ERROR" : "other", ed->message,
			 unpack_sql_state(ed->sqlerrcode), ed->hint ? ed->hint : "-");
		elog(LOG, "sd: stopped between 80%% and 100%% of max_stack_depth in 1 kB frames: %d",
			 deepest >= limit_kb * 8 / 10 && deepest < limit_kb);
		FreeErrorData(ed);
	}
	PG_END_TRY();

	r = sd_recurse(600, 0, sd_rebase);
	elog(LOG, "sd: with the base restored, stack_is_too_deep 600 frames further: %d", r & 1);
	check_stack_depth();
	elog(LOG, "sd: back at the start: no error");
	elog(LOG, "sd: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("sd_module", "sd_main", "sd worker", "sd worker");
}
