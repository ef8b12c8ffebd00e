/*
 * mj_host.c
 *		A host program that picks its PostgreSQL major at compile time
 *		(-DBGW_PG_MAJOR=N before include/bgworker.h), attaches to a running
 *		bgworkerd and starts, sees and stops one worker of mj_module.
 *
 * usage: mj_host RUNDIR LIBRARY
 *
 * Prints "host: ..." lines; "host: attach failed: <bgw_last_error()>" and
 * exit status 2 when bgw_attach fails, "FAIL: ..." and 1 on any other
 * unexpected result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgworker.h"

int
main(int argc, char **argv)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid = 0;

	if (argc != 3)
	{
		fprintf(stderr, "usage: mj_host RUNDIR LIBRARY\n");
		return 1;
	}
	printf("host: BGW_PG_MAJOR=%d sizeof(BackgroundWorker)=%zu\n",
		   BGW_PG_MAJOR, sizeof(BackgroundWorker));
	fflush(stdout);
	if (bgw_attach(argv[1]) != 0)
	{
		printf("host: attach failed: %s\n", bgw_last_error());
		return 2;
	}
	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "mj host %d", BGW_PG_MAJOR);
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	if (strlen(argv[2]) >= sizeof(w.bgw_library_name))
	{
		printf("FAIL: library name does not fit\n");
		return 1;
	}
	strcpy(w.bgw_library_name, argv[2]);
	snprintf(w.bgw_function_name, BGW_MAXLEN, "mj_main");
	w.bgw_main_arg = (Datum) 1;
	snprintf(w.bgw_extra, BGW_EXTRALEN, "extra of the host's");
	if (!RegisterDynamicBackgroundWorker(&w, &h))
	{
		printf("FAIL: register: %s\n", bgw_last_error());
		return 1;
	}
	printf("host: registered, bgw_type=\"%s\"\n", w.bgw_type);
	if (WaitForBackgroundWorkerStartup(h, &pid) != BGWH_STARTED)
	{
		printf("FAIL: the worker did not start\n");
		return 1;
	}
	printf("host: started pid=%d\n", (int) pid);
	fflush(stdout);
	TerminateBackgroundWorker(h);
	if (WaitForBackgroundWorkerShutdown(h) != BGWH_STOPPED)
	{
		printf("FAIL: the worker did not stop\n");
		return 1;
	}
	printf("host: stopped\n");
	free(h);
	bgw_detach();
	return 0;
}
