/*
 * cn_module.c
 *		A module whose static worker "cn_forker" leaves processes behind,
 *		as a careless module does: a direct child, and a grandchild made by
 *		a double fork with setsid() in between (the classic daemon), both
 *		sleeping for ever. Prints
 *			marker: cn child pid=P
 *			marker: cn grandchild pid=P sid=S
 *			marker: cn forker done pid=P
 *		then, by CN_MODE: "exit" returns (the worker exits 0 and is not
 *		restarted), "crash" exits with status 2 (a crash cycle; never
 *		restarted), anything else waits until it is told to stop (default
 *		SIGTERM handling).
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#include <sys/wait.h>

#include "lc_common.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cn_main(Datum main_arg);

static void
sleep_for_ever(void)
{
	for (;;)
		pause();
}

void
cn_main(Datum main_arg)
{
	const char *mode = getenv("CN_MODE");
	pid_t		a,
				c;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	c = fork();
	if (c == 0)
	{
		lc_out("marker: cn child pid=%d", (int) getpid());
		sleep_for_ever();
	}
	a = fork();
	if (a == 0)
	{
		pid_t		b;

		setsid();
		b = fork();
		if (b == 0)
		{
			lc_out("marker: cn grandchild pid=%d sid=%d", (int) getpid(), (int) getsid(0));
			sleep_for_ever();
		}
		_exit(0);
	}
	if (c < 0 || a < 0)
	{
		lc_out("marker: cn fork failed");
		exit(1);
	}
	waitpid(a, NULL, 0);
	lc_sleep_ms(100);
	lc_out("marker: cn forker done pid=%d", (int) getpid());
	if (mode != NULL && strcmp(mode, "exit") == 0)
		return;
	if (mode != NULL && strcmp(mode, "crash") == 0)
		exit(2);
	for (;;)
		lc_sleep_ms(50);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	lc_fill_worker(&w, "cn_forker", "cn_forker",
				   lc_so_path((void *) &cn_main, "cn_module"), "cn_main", "");
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	RegisterBackgroundWorker(&w);
}
