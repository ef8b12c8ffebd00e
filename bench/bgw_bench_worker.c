/*
 * bgw_bench_worker.c
 *		Worker side of the libbgworker benchmark, built like a PostgreSQL
 *		extension module (PGXS compiler flags, server headers, -shared).
 *
 * bench_worker_main(arg):
 *	 arg 0: return at once (the worker exits with code 0).
 *	 arg 1: install a SIGTERM handler, unblock signals, optionally stamp the
 *			entry time (see bgw_bench_stamp.h), then sleep until SIGTERM and
 *			return (exit code 0).
 *
 * Only the bgworker.h API and libc are used: the module does not depend on
 * PostgreSQL's elog/palloc/latch machinery.
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "fmgr.h"
#include "postmaster/bgworker.h"

#include "bgw_bench_stamp.h"

/* port.h maps these to pg_* implementations that are not available here */
#undef snprintf

PG_MODULE_MAGIC;

PGDLLEXPORT void bench_worker_main(Datum main_arg);

static volatile sig_atomic_t term_requested = 0;

static void
on_sigterm(int signo)
{
	(void) signo;
	term_requested = 1;
}

/* Write `t` into the slot named by bgw_extra, if any. */
static void
write_stamp(double t)
{
	BenchStampSlot slot;
	char		path[32 + BENCH_STAMP_NAMELEN];
	int			fd;

	memcpy(&slot, MyBgworkerEntry->bgw_extra, sizeof(slot));
	if (slot.magic != BENCH_STAMP_MAGIC || slot.index < 0)
		return;
	slot.name[BENCH_STAMP_NAMELEN - 1] = '\0';
	snprintf(path, sizeof(path), "/dev/shm/%s", slot.name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pwrite(fd, &t, sizeof(t), (off_t) slot.index * (off_t) sizeof(t)) != sizeof(t))
	{
		/* nothing to do: the host notices the missing stamp and gives up */
	}
	close(fd);
}

/* Route SIGTERM to on_sigterm, then let signals in. */
static void
catch_sigterm_and_unblock(void)
{
	struct sigaction sa;

	/* the handler must be in place before signals are unblocked */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	BackgroundWorkerUnblockSignals();
}

/* Sleep until on_sigterm has run (possibly already, while unblocking). */
static void
wait_for_sigterm(void)
{
	sigset_t	term,
				waitmask;

	/* keep SIGTERM blocked except while suspended: no lost wake-up */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	while (!term_requested)
		sigsuspend(&waitmask);
}

void
bench_worker_main(Datum main_arg)
{
	double		t_entry = bench_now_us();

	switch (DatumGetInt32(main_arg))
	{
		case 0:					/* exit at once */
			return;
		case 1:					/* stamp, then sleep until SIGTERM */
			catch_sigterm_and_unblock();
			write_stamp(t_entry);
			wait_for_sigterm();
			return;
		default:
			_exit(1);
	}
}
