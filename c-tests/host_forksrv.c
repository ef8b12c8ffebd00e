/*
 * host_forksrv.c
 *		An embedding host with a fork server (bgw_host_start_fork_server):
 *		what its workers inherit, who their parent is, and that requests and
 *		shutdown reach the supervisor in the server. Linked with -rdynamic,
 *		so that workers of library "postgres" find forksrv_worker_main here.
 *
 * usage: host_forksrv RUNDIR
 *
 *	1. sets before_fork = 1, a global, and opens /dev/null as descriptor
 *	   "fd_before"; bgw_host_start_fork_server(); prints
 *		host: server pid=S host=H
 *	   then a second call, which must fail:
 *		host: second start rc=-1 error=...
 *	2. sets after_fork = 1 and opens "fd_after"; bgw_host_set
 *	   max_worker_processes=3 and an invalid setting (its error printed:
 *	   "host: bad set rc=-1 error=..."); registers the static worker
 *	   forksrv_a (restart 1 s), and forksrv_b (never restarted) with a
 *	   policy given by bgw_set_next_policy (stop_timeout_ms 45000);
 *	   changes its working directory to RUNDIR's parent and calls
 *	   bgw_host_run with RUNDIR's last component, a relative path (which
 *	   names RUNDIR for the host, not for the server, whose working
 *	   directory stays the one it was started in). SIGUSR2 asks for a fast
 *	   shutdown from a signal handler. Afterwards:
 *		host: run returned rc=N
 *
 * The worker prints
 *		marker: start name=forksrv_a pid=P ppid=Q before=1 after=0
 *			fd_before=1 fd_after=0
 * (fd_X: whether that descriptor number is open in the worker) and waits
 * for SIGTERM.
 *
 * Everything goes to stderr, one line per write(2).
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "bgworker.h"
#include "bgworker_supervision.h"

#define LC_OUT_FD 2
#include "lc_common.h"

void		forksrv_worker_main(Datum main_arg);

/* volatile: written by the host, read by the worker after forks */
static volatile int before_fork = 0;
static volatile int after_fork = 0;
static int	fd_before = -1;
static int	fd_after = -1;

static int
fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

void
forksrv_worker_main(Datum main_arg)
{
	sigset_t	none;

	(void) main_arg;
	lc_out("marker: start name=%s pid=%d ppid=%d before=%d after=%d fd_before=%d fd_after=%d",
		   MyBgworkerEntry->bgw_name, (int) getpid(), (int) getppid(),
		   before_fork, after_fork, fd_open(fd_before), fd_open(fd_after));
	BackgroundWorkerUnblockSignals();
	sigemptyset(&none);
	for (;;)
		sigsuspend(&none);
}

static void
on_sigusr2(int signo)
{
	(void) signo;
	bgw_host_request_shutdown(BGW_SHUTDOWN_FAST);
}

int
main(int argc, char **argv)
{
	BackgroundWorker w;
	BgwPolicy	p;
	int			server,
				rc;

	if (argc != 2)
		FAIL("usage: host_forksrv RUNDIR");
	lc_set_handler(SIGUSR2, on_sigusr2, SA_RESTART);

	before_fork = 1;
	fd_before = open("/dev/null", O_RDONLY);
	server = bgw_host_start_fork_server();
	if (server <= 0)
		FAIL("bgw_host_start_fork_server: %s", lc_last_error());
	lc_out("host: server pid=%d host=%d", server, (int) getpid());
	rc = bgw_host_start_fork_server();
	lc_out("host: second start rc=%d error=%s", rc, lc_last_error());

	after_fork = 1;
	fd_after = open("/dev/null", O_RDONLY);
	if (bgw_host_set("max_worker_processes", "3") != 0)
		FAIL("set max_worker_processes: %s", lc_last_error());
	rc = bgw_host_set("max_worker_processes", "many");
	lc_out("host: bad set rc=%d error=%s", rc, lc_last_error());

	lc_fill_worker(&w, "forksrv_a", NULL, "postgres", "forksrv_worker_main", "");
	w.bgw_restart_time = 1;
	RegisterBackgroundWorker(&w);
	lc_fill_worker(&w, "forksrv_b", NULL, "postgres", "forksrv_worker_main", "");
	w.bgw_restart_time = BGW_NEVER_RESTART;
	if (bgw_policy_init(&p) != 0)
		FAIL("bgw_policy_init: %s", lc_last_error());
	p.set = BGW_POLICY_STOP_TIMEOUT;
	p.stop_timeout_ms = 45000;
	if (bgw_set_next_policy(&p) != 0)
		FAIL("bgw_set_next_policy: %s", lc_last_error());
	RegisterBackgroundWorker(&w);

	{
		char	   *slash = strrchr(argv[1], '/');

		if (slash == NULL || slash == argv[1])
			FAIL("RUNDIR must be an absolute path below /: %s", argv[1]);
		*slash = '\0';
		if (chdir(argv[1]) != 0)
			FAIL("chdir %s failed", argv[1]);
		rc = bgw_host_run(slash + 1);
	}
	lc_out("host: run returned rc=%d", rc);
	return 0;
}
