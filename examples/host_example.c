/*
 * host_example.c
 *		A complete host program: attach to a running bgworkerd, start one
 *		dynamic background worker, wait until it runs, stop it, wait until it
 *		is gone, detach.
 *
 * usage: host_example RUNDIR [LIBRARY FUNCTION [MAIN_ARG]]
 *
 * RUNDIR is the run directory of a running bgworkerd (`bgworkerd -D RUNDIR`).
 * The worker runs FUNCTION of LIBRARY, which bgworkerd finds on its
 * dynamic_library_path; the defaults fit `make run`: lifecycle_demo's
 * demo_flaky_main, which works MAIN_ARG seconds (default 60) before it fails,
 * so it is still running when this program terminates it.
 *
 * Build (after `make install`):
 *		cc -o host_example host_example.c $(pkg-config --cflags --libs bgworker)
 *
 * Every bgworker.h call reports failure through its return value; in a
 * program attached with bgw_attach, bgw_last_error() then says why (the
 * library never ends the calling process).  Exit status: 0 when the worker
 * ran and was stopped, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bgworker.h>

static const char *
status_name(BgwHandleStatus st)
{
	switch (st)
	{
		case BGWH_STARTED:
			return "started";
		case BGWH_NOT_YET_STARTED:
			return "not yet started";
		case BGWH_STOPPED:
			return "stopped";
		case BGWH_POSTMASTER_DIED:
			return "bgworkerd died";
	}
	return "unknown";
}

/* Copy s into a BGW_MAXLEN field; false (and a message) if it does not fit. */
static int
set_field(char *field, const char *what, const char *s)
{
	if (strlen(s) >= BGW_MAXLEN)
	{
		fprintf(stderr, "host_example: %s \"%s\" is longer than %d bytes\n",
				what, s, BGW_MAXLEN - 1);
		return 0;
	}
	strcpy(field, s);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *rundir;
	const char *library = "lifecycle_demo";
	const char *function = "demo_flaky_main";
	long		main_arg = 60;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle = NULL;
	BgwHandleStatus st;
	pid_t		pid = 0;
	int			ok = 0;

	if (argc != 2 && argc != 4 && argc != 5)
	{
		fprintf(stderr, "usage: %s RUNDIR [LIBRARY FUNCTION [MAIN_ARG]]\n", argv[0]);
		return 2;
	}
	rundir = argv[1];
	if (argc >= 4)
	{
		library = argv[2];
		function = argv[3];
	}
	if (argc == 5)
		main_arg = strtol(argv[4], NULL, 10);

	/* 1. Become a backend of the bgworkerd running on RUNDIR. */
	if (bgw_attach(rundir) != 0)
	{
		fprintf(stderr, "host_example: cannot attach: %s\n", bgw_last_error());
		return 1;
	}
	printf("attached to the bgworkerd on %s\n", rundir);

	/* 2. Describe and register a dynamic worker. */
	memset(&worker, 0, sizeof(worker));
	if (!set_field(worker.bgw_name, "name", "host example worker") ||
		!set_field(worker.bgw_type, "type", "host example") ||
		!set_field(worker.bgw_library_name, "library", library) ||
		!set_field(worker.bgw_function_name, "function", function))
		goto detach;
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_main_arg = (Datum) main_arg;
	worker.bgw_notify_pid = 0;	/* the Wait functions need no signal here */

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		fprintf(stderr, "host_example: cannot register the worker: %s\n",
				bgw_last_error());
		goto detach;
	}
	printf("registered worker \"%s\" (%s:%s)\n", worker.bgw_name, library, function);

	/* 3. Wait until bgworkerd has started it (or it failed to start). */
	st = WaitForBackgroundWorkerStartup(handle, &pid);
	if (st != BGWH_STARTED)
	{
		/* BGWH_STOPPED: it could not start; bgworkerd's log says why. */
		fprintf(stderr, "host_example: the worker did not start: %s\n",
				status_name(st));
		goto release;
	}
	printf("worker started, pid %d\n", (int) pid);

	/* 4. Ask it to stop (SIGTERM; it is not restarted), and wait. */
	TerminateBackgroundWorker(handle);
	printf("terminate requested\n");
	st = WaitForBackgroundWorkerShutdown(handle);
	if (st != BGWH_STOPPED)
	{
		fprintf(stderr, "host_example: waiting for the worker to stop: %s\n",
				status_name(st));
		goto release;
	}
	printf("worker stopped\n");
	ok = 1;

release:
	/* Handles are malloc()ed: free() them. */
	free(handle);
detach:
	/* 5. No longer a backend of that bgworkerd: handles become unusable. */
	bgw_detach();
	printf("detached\n");
	return ok ? 0 : 1;
}
