/*
 * mj_host.c
 *		A host program that picks its PostgreSQL major at compile time
 *		(-DBGW_PG_MAJOR=N before include/bgworker.h), attaches to a running
 *		bgworkerd and starts, sees and stops one worker of mj_module.
 *
 * usage: mj_host RUNDIR LIBRARY [guard]
 *
 * With "guard" the definition it registers ends exactly where a page it
 * cannot read begins, so a library that read one byte past the host's
 * layout would crash it (SIGSEGV) instead of registering.
 *
 * Prints "host: ..." lines; "host: attach failed: <bgw_last_error()>" and
 * exit status 2 when bgw_attach fails, "FAIL: ..." and 1 on any other
 * unexpected result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bgworker.h"

int
main(int argc, char **argv)
{
	BackgroundWorker local;
	BackgroundWorker *wp = &local;
	BackgroundWorkerHandle *h = NULL;
	pid_t		pid = 0;

	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "guard") == 0))
	{
		fprintf(stderr, "usage: mj_host RUNDIR LIBRARY [guard]\n");
		return 1;
	}
	if (argc == 4)
	{
		long		page = sysconf(_SC_PAGESIZE);
		size_t		span = 2 * (size_t) page + sizeof(BackgroundWorker);
		char	   *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
							 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char	   *guard;

		if (m == MAP_FAILED)
		{
			printf("FAIL: mmap\n");
			return 1;
		}
		/* the last whole page is the guard; the struct ends where it begins */
		guard = m + ((sizeof(BackgroundWorker) + (size_t) page - 1) / (size_t) page) * (size_t) page;
		if (mprotect(guard, (size_t) page, PROT_NONE) != 0)
		{
			printf("FAIL: mprotect\n");
			return 1;
		}
		wp = (BackgroundWorker *) (guard - sizeof(BackgroundWorker));
		printf("host: definition ends at a guard page\n");
	}
	printf("host: BGW_PG_MAJOR=%d sizeof(BackgroundWorker)=%zu\n",
		   BGW_PG_MAJOR, sizeof(BackgroundWorker));
	fflush(stdout);
	if (bgw_attach(argv[1]) != 0)
	{
		printf("host: attach failed: %s\n", bgw_last_error());
		return 2;
	}
	memset(wp, 0, sizeof(*wp));
	snprintf(wp->bgw_name, BGW_MAXLEN, "mj host %d", BGW_PG_MAJOR);
	wp->bgw_flags = BGWORKER_SHMEM_ACCESS;
	wp->bgw_start_time = BgWorkerStart_RecoveryFinished;
	wp->bgw_restart_time = BGW_NEVER_RESTART;
	if (strlen(argv[2]) >= sizeof(wp->bgw_library_name))
	{
		printf("FAIL: library name does not fit\n");
		return 1;
	}
	strcpy(wp->bgw_library_name, argv[2]);
	snprintf(wp->bgw_function_name, BGW_MAXLEN, "mj_main");
	wp->bgw_main_arg = (Datum) 1;
	snprintf(wp->bgw_extra, BGW_EXTRALEN, "extra of the host's");
	if (!RegisterDynamicBackgroundWorker(wp, &h))
	{
		printf("FAIL: register: %s\n", bgw_last_error());
		return 1;
	}
	printf("host: registered, bgw_type=\"%s\"\n", wp->bgw_type);
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
