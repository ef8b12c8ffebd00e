/*
 * zc_module.c -- a module that forks a child of its own in _PG_init, as
 * some extensions do: the supervisor must reap it like PostgreSQL's
 * postmaster reaps a child it does not know.
 *
 * ZC_MODE=exit: the child exits 0 at once (reaped, forgotten).
 * ZC_MODE=kill: the child kills itself with SIGKILL after 300 ms (reaped,
 *               handled as a crash: a crash cycle follows).
 */
#include "postgres.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	const char *mode = getenv("ZC_MODE");
	pid_t		pid;

	if (!process_shared_preload_libraries_in_progress)
		return;
	pid = fork();
	if (pid == 0)
	{
		if (mode && strcmp(mode, "kill") == 0)
		{
			usleep(300000);
			kill(getpid(), SIGKILL);
		}
		_exit(0);
	}
	elog(LOG, "zc forked child %d", (int) pid);
}
