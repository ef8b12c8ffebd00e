/*
 * stack_depth.c -- the stack depth check of tcop/postgres.c (15, 17;
 * utils/misc/stack_depth.c in 18): set_stack_base, restore_stack_base,
 * stack_is_too_deep and check_stack_depth.
 *
 * The reference point is taken when a process starts (the supervisor
 * before it loads modules, as PostgreSQL's postmaster does; each worker
 * again when it starts: lib.rs calls bgw_c_take_stack_base), and the
 * limit is the max_stack_depth setting (kB; the exported variable that the
 * built-in settings keep), read at every check so that a value set later
 * applies at once, as PostgreSQL's assign hook makes it apply. With no
 * reference point (before start-up) nothing is too deep, as in PostgreSQL.
 *
 * Called by module code in the process's one thread.
 */
#include "pgcompat.h"

#define ERRCODE_STATEMENT_TOO_COMPLEX MAKE_SQLSTATE('5','4','0','0','1')

/* The max_stack_depth setting (kB), storage kept by the settings. */
extern int	max_stack_depth;

int			bgw_c_errhint(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

/* pg_stack_base_t of 15, 17 and 18 on the platforms served: char *. */
typedef char *pg_stack_base_t;

static char *stack_base_ptr = NULL;

/* set_stack_base(): this frame becomes the reference point; the previous
 * one is returned for restore_stack_base. */
pg_stack_base_t
bgw_c_set_stack_base(void)
{
	pg_stack_base_t old = stack_base_ptr;

	stack_base_ptr = __builtin_frame_address(0);
	return old;
}

void
bgw_c_restore_stack_base(pg_stack_base_t base)
{
	stack_base_ptr = base;
}

/* The process start (lib.rs): the caller's frame is the reference point. */
void
bgw_c_take_stack_base(void)
{
	stack_base_ptr = __builtin_frame_address(0);
}

bool
bgw_c_stack_is_too_deep(void)
{
	char		stack_top_loc;
	long		stack_depth;

	stack_depth = (long) (stack_base_ptr - &stack_top_loc);
	if (stack_depth < 0)
		stack_depth = -stack_depth;
	return stack_base_ptr != NULL && stack_depth > (long) max_stack_depth * 1024L;
}

void
bgw_c_check_stack_depth(void)
{
	if (bgw_c_stack_is_too_deep())
		bgw_ereport(ERROR,
					bgw_c_errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					bgw_c_errmsg("stack depth limit exceeded"),
					bgw_c_errhint("Increase the configuration parameter \"%s\" (currently %dkB), "
								  "after ensuring the platform's stack depth limit is adequate.",
								  "max_stack_depth", max_stack_depth));
}
