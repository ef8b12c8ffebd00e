/*
 * ff_module.c -- three static workers, for the fork-failure test: bgworkerd
 * runs under a process limit that lets it fork only one of them, so the
 * others must be retried (not in a tight loop).  A worker exits (0, so it
 * is not restarted) once the file named by $FF_RELEASE exists, which makes
 * room for the next retry.
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#include "lc_common.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void ff_main(Datum arg);

void
ff_main(Datum arg)
{
	BackgroundWorkerUnblockSignals();
	lc_writef(2, "ff: worker %d started pid=%d", (int) DatumGetInt32(arg), (int) getpid());
	for (;;)
	{
		const char *release = getenv("FF_RELEASE");

		if (release != NULL && access(release, F_OK) == 0)
			return;
		usleep(20 * 1000);
	}
}

void
_PG_init(void)
{
	for (int i = 1; i <= 3; i++)
	{
		BackgroundWorker w;
		char		name[BGW_MAXLEN];

		snprintf(name, sizeof(name), "ff worker %d", i);
		lc_fill_worker(&w, name, "", "ff_module", "ff_main", "");
		w.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&w);
	}
}
