/*
 * sv_workers.c
 *		Background-worker module for the supervision tests, written the way a
 *		PostgreSQL 15 extension is (postgres.h, postmaster/bgworker.h,
 *		PG_MODULE_MAGIC, _PG_init, PGDLLEXPORT entry points), plus
 *		libbgworker's bgworker_supervision.h for readiness and the watchdog.
 *
 * Static workers: _PG_init registers the workers described by the
 * environment variable SV_STATIC, a ';'-separated list of
 *
 *		name|type|restart|behaviour[|give_up]
 *
 * without any supervision call unless give_up is given (then
 * bgw_set_next_policy sets give_up_restarts to it for that registration):
 * their policy comes from the configuration (worker_policy_by_type), as for
 * an unchanged module.
 *
 * sv_main reads its behaviour from bgw_extra, words done in this order:
 *
 *	sleep=MS	sleep MS milliseconds first
 *	ready		call bgw_notify_ready() (twice: the second does nothing)
 *	forkcheck	fork a child that calls bgw_notify_ready() and
 *				bgw_watchdog_checkin() and prints their results (-2: the
 *				ERROR they raise, caught with PG_TRY)
 *	checkin=N	call bgw_watchdog_checkin() every 100 ms, N times
 *	exit=N		exit with status N (0: return from the main function)
 *	ignterm		ignore SIGTERM
 *	ignquit		ignore SIGQUIT
 *	loop		unblock signals and wait for ever (default SIGTERM handling)
 *
 * Every worker first prints
 *		marker: start name=<bgw_name> pid=<pid> t=<monotonic ms>
 * on stderr, and "marker: ready name=... rc=R t=..." when it is ready.
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#include <sys/wait.h>

#include "lc_common.h"
#include "../include/bgworker_supervision.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void sv_main(Datum main_arg);

/* One SV_STATIC entry, name|type|restart|behaviour[|give_up]. */
static void
static_entry(char *entry)
{
	BackgroundWorker w;
	char	   *fields[5] = {NULL, NULL, NULL, NULL, NULL};
	int			nf = 0;
	char	   *p = entry;

	while (nf < 5)
	{
		char	   *bar = strchr(p, '|');

		fields[nf++] = p;
		if (bar == NULL)
			break;
		*bar = '\0';
		p = bar + 1;
	}
	if (nf < 4)
	{
		lc_writef(2, "marker: bad SV_STATIC entry");
		return;
	}
	lc_fill_worker(&w, fields[0], fields[1],
				   lc_so_path((void *) &sv_main, "sv_workers"), "sv_main", fields[3]);
	w.bgw_restart_time = atoi(fields[2]);
	if (nf == 5)
	{
		BgwPolicy	pol;

		bgw_policy_init(&pol);
		pol.set = BGW_POLICY_GIVE_UP_RESTARTS;
		pol.give_up_restarts = atoi(fields[4]);
		if (bgw_set_next_policy(&pol) != 0)
			lc_writef(2, "marker: bgw_set_next_policy failed");
	}
	RegisterBackgroundWorker(&w);
}

void
_PG_init(void)
{
	lc_each_env_entry("SV_STATIC", static_entry);
}

void
sv_main(Datum main_arg)
{
	char		name[BGW_MAXLEN];
	char		extra[BGW_EXTRALEN];
	int			n;

	(void) main_arg;
	lc_worker_entry(name, extra);
	lc_writef(2, "marker: start name=%s pid=%d t=%lld", name, (int) getpid(), lc_now_ms());

	if (lc_word_int(extra, "sleep", &n) == 0)
		lc_sleep_ms(n);
	if (lc_has_word(extra, "ready"))
	{
		int			rc = bgw_notify_ready();
		int			rc2 = bgw_notify_ready();

		lc_writef(2, "marker: ready name=%s rc=%d rc2=%d t=%lld", name, rc, rc2, lc_now_ms());
	}
	if (lc_has_word(extra, "forkcheck"))
	{
		pid_t		child = fork();

		if (child == 0)
		{
			/* In a module the refusal is PostgreSQL's ERROR: caught here. */
			volatile int r1 = 0;
			volatile int r2 = 0;

			PG_TRY();
			{
				r1 = bgw_notify_ready();
			}
			PG_CATCH();
			{
				r1 = -2;
				FlushErrorState();
			}
			PG_END_TRY();
			PG_TRY();
			{
				r2 = bgw_watchdog_checkin();
			}
			PG_CATCH();
			{
				r2 = -2;
				FlushErrorState();
			}
			PG_END_TRY();
			lc_writef(2, "marker: child ready=%d checkin=%d", r1, r2);
			_exit(0);
		}
		if (child > 0)
			waitpid(child, NULL, 0);
	}
	if (lc_word_int(extra, "checkin", &n) == 0)
	{
		int			i;

		for (i = 0; i < n; i++)
		{
			if (bgw_watchdog_checkin() != 0)
				lc_writef(2, "marker: checkin failed");
			lc_sleep_ms(100);
		}
		lc_writef(2, "marker: checkins done name=%s t=%lld", name, lc_now_ms());
	}
	if (lc_word_int(extra, "exit", &n) == 0)
	{
		if (n == 0)
			return;
		exit(n);
	}
	if (lc_has_word(extra, "ignterm"))
		pqsignal(SIGTERM, SIG_IGN);
	if (lc_has_word(extra, "ignquit"))
		pqsignal(SIGQUIT, SIG_IGN);
	BackgroundWorkerUnblockSignals();
	for (;;)
		pause();
}
