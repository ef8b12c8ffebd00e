/*
 * cx_socket.c -- a background worker serving a TCP socket through
 * WaitLatchOrSocket, as extensions with a network listener do: it listens
 * on 127.0.0.1 (port from cxs.port, 0 = any), logs the port, and answers
 * each line a client sends with the line upper-cased, one client at a time,
 * until SIGTERM.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxs_main(Datum main_arg);

static int	cxs_port = 0;

static void
cxs_serve(int client)
{
	char		buf[512];
	int			used = 0;

	for (;;)
	{
		int			rc = WaitLatchOrSocket(MyLatch,
										   WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
										   client, -1L, PG_WAIT_EXTENSION);
		ssize_t		n;

		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (!(rc & WL_SOCKET_READABLE))
			continue;
		n = recv(client, buf + used, sizeof(buf) - used - 1, 0);
		if (n <= 0)
		{
			elog(LOG, "cxs client gone");
			return;
		}
		used += (int) n;
		for (;;)
		{
			char	   *nl = memchr(buf, '\n', used);
			int			len;

			if (nl == NULL)
				break;
			len = (int) (nl - buf) + 1;
			for (int i = 0; i < len; i++)
				buf[i] = (char) toupper((unsigned char) buf[i]);
			if (send(client, buf, len, 0) != len)
				ereport(ERROR, (errcode_for_socket_access(),
								errmsg("could not send to client: %m")));
			memmove(buf, buf + len, used - len);
			used -= len;
		}
		if (used == (int) sizeof(buf) - 1)
			used = 0;
	}
}

void
cxs_main(Datum main_arg)
{
	struct sockaddr_in addr;
	socklen_t	alen = sizeof(addr);
	int			one = 1;
	int			lsock;

	(void) main_arg;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	lsock = socket(AF_INET, SOCK_STREAM, 0);
	if (lsock < 0)
		ereport(ERROR, (errcode_for_socket_access(),
						errmsg("could not create socket: %m")));
	setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16) cxs_port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lsock, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
		listen(lsock, 4) < 0 ||
		getsockname(lsock, (struct sockaddr *) &addr, &alen) < 0)
		ereport(ERROR, (errcode_for_socket_access(),
						errmsg("could not listen on port %d: %m", cxs_port)));
	elog(LOG, "cxs listening on port %d", (int) ntohs(addr.sin_port));

	for (;;)
	{
		int			rc = WaitLatchOrSocket(MyLatch,
										   WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
										   lsock, -1L, PG_WAIT_EXTENSION);

		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & WL_SOCKET_READABLE)
		{
			int			client = accept(lsock, NULL, NULL);

			if (client < 0)
				continue;
			elog(LOG, "cxs client connected");
			cxs_serve(client);
			close(client);
		}
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("cxs.port", "Port to listen on.", NULL, &cxs_port,
							0, 0, 65535, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_socket");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxs_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxs listener");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxs");
	RegisterBackgroundWorker(&worker);
}
