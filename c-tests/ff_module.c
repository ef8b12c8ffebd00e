/*
 * ff_module.c -- three static workers, for the fork-failure test: bgworkerd
 * runs under a process limit that lets it fork only one of them, so the
 * others must be retried (not in a tight loop).  A worker exits (0, so it
 * is not restarted) once the file named by $FF_RELEASE exists, which makes
 * room for the next retry.
 */
#include "postgres.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmgr.h"
#include "postmaster/bgworker.h"

#undef snprintf
#undef fprintf

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void ff_main(Datum arg);

void
ff_main(Datum arg)
{
	BackgroundWorkerUnblockSignals();
	fprintf(stderr, "ff: worker %d started pid=%d\n", (int) DatumGetInt32(arg), (int) getpid());
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

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(w.bgw_name, BGW_MAXLEN, "ff worker %d", i);
		snprintf(w.bgw_library_name, BGW_MAXLEN, "ff_module");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "ff_main");
		w.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&w);
	}
}
