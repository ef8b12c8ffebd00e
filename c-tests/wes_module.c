/*
 * wes_module.c -- wait event sets: a worker waits at once on its latch, the
 * server's death and the two ends of a socket pair, and prints what each
 * wait reports (positions, events, whose socket, user data) and the ERRORs
 * for bad use. Run under the real PostgreSQL servers and under bgworkerd
 * (tests/wait_event_set_postgresql.rs compares the "wes:" lines).
 */
#include "postgres.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#if PG_VERSION_NUM >= 180000
#include "storage/waiteventset.h"
#endif

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void wes_main(Datum arg);

static int	sv[2];
static MemoryContext mcxt;

static void
show(const char *what, WaitEventSet *set, long timeout)
{
	WaitEvent	occurred[8];
	TimestampTz start = GetCurrentTimestamp();
	int			n = WaitEventSetWait(set, timeout, occurred, lengthof(occurred), 0);
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < n; i++)
		appendStringInfo(&out, " [pos %d events %u fd %s data %s]", occurred[i].pos,
						 occurred[i].events,
						 occurred[i].fd == sv[0] ? "a" : occurred[i].fd == sv[1] ? "b" :
						 occurred[i].fd == PGINVALID_SOCKET ? "none" : "other",
						 occurred[i].user_data ? (char *) occurred[i].user_data : "null");
	elog(LOG, "wes: %s: %d%s%s", what, n, out.data,
		 n == 0 && TimestampDifferenceExceeds(start, GetCurrentTimestamp(), (int) timeout - 1) ?
		 " (after the timeout)" : "");
}

static void
caught(const char *what)
{
	ErrorData  *e;

	MemoryContextSwitchTo(mcxt);
	e = CopyErrorData();
	FlushErrorState();
	elog(LOG, "wes: %s: ERROR \"%s\"", what, e->message);
	FreeErrorData(e);
}

#define TRY_ERR(what, stmt) \
	PG_TRY(); { stmt; elog(LOG, "wes: %s: no error", what); } \
	PG_CATCH(); { caught(what); } PG_END_TRY()

void
wes_main(Datum arg)
{
	WaitEventSet *set;
	char		c;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	mcxt = CurrentMemoryContext;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		elog(ERROR, "wes: socketpair: %m");
#if PG_VERSION_NUM >= 170000
	set = CreateWaitEventSet(NULL, 8);
#else
	set = CreateWaitEventSet(CurrentMemoryContext, 8);
#endif
	elog(LOG, "wes: latch at %d", AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch,
												  "latch"));
	elog(LOG, "wes: death at %d", AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET,
												  NULL, "death"));
	elog(LOG, "wes: a readable at %d", AddWaitEventToSet(set, WL_SOCKET_READABLE, sv[0], NULL,
													   "a"));
	elog(LOG, "wes: b writeable at %d", AddWaitEventToSet(set, WL_SOCKET_WRITEABLE, sv[1], NULL,
														"b"));
	elog(LOG, "wes: %d events, can report closed %d", GetNumRegisteredWaitEvents(set),
		 (int) WaitEventSetCanReportClosed());

	SetLatch(MyLatch);
	show("latch set, b writeable", set, 1000);
	ResetLatch(MyLatch);
	show("b writeable", set, 1000);
	ModifyWaitEvent(set, 3, WL_SOCKET_READABLE, NULL);
	show("nothing ready", set, 100);
	if (write(sv[1], "x", 1) != 1)
		elog(ERROR, "wes: write: %m");
	show("a readable", set, 1000);
	if (read(sv[0], &c, 1) != 1)
		elog(ERROR, "wes: read: %m");
	show("drained", set, 100);
	if (write(sv[0], "y", 1) != 1)
		elog(ERROR, "wes: write: %m");
	show("b readable", set, 1000);
	if (read(sv[1], &c, 1) != 1)
		elog(ERROR, "wes: read: %m");

	/* the latch left out, then back */
	ModifyWaitEvent(set, 0, WL_LATCH_SET, NULL);
	SetLatch(MyLatch);
	show("latch not waited for", set, 100);
	ModifyWaitEvent(set, 0, WL_LATCH_SET, MyLatch);
	show("latch waited for again", set, 1000);
	ResetLatch(MyLatch);

	/* the other end closed */
	ModifyWaitEvent(set, 2, WL_SOCKET_READABLE | WL_SOCKET_CLOSED, NULL);
	close(sv[1]);
	sv[1] = -1;
	show("b closed", set, 1000);

	/* a socket closed while in the set: nothing to report, no spinning */
	{
		struct rusage before,
					after;
		long		cpu_us;

		getrusage(RUSAGE_SELF, &before);
		close(sv[0]);
		show("a closed while in the set", set, 300);
		getrusage(RUSAGE_SELF, &after);
		cpu_us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1000000L +
			(after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
			(after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1000000L +
			(after.ru_stime.tv_usec - before.ru_stime.tv_usec);
		elog(LOG, "wes: the wait slept (under 100 ms of CPU) %d", cpu_us < 100000L);
		/* its number is free now: not a socket */
		TRY_ERR("a socket that is not open",
				AddWaitEventToSet(set, WL_SOCKET_READABLE, sv[0], NULL, NULL));
		elog(LOG, "wes: counted anyway: %d events", GetNumRegisteredWaitEvents(set));
	}
	TRY_ERR("a second latch", AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL));
	TRY_ERR("a latch event without a latch",
			AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, NULL, NULL));
	TRY_ERR("a socket event without a socket",
			AddWaitEventToSet(set, WL_SOCKET_READABLE, PGINVALID_SOCKET, NULL, NULL));
	TRY_ERR("modify the latch event", ModifyWaitEvent(set, 0, WL_SOCKET_READABLE, NULL));
	TRY_ERR("modify the death event", ModifyWaitEvent(set, 1, WL_SOCKET_READABLE, NULL));
	TRY_ERR("modify to the same", ModifyWaitEvent(set, 1, WL_POSTMASTER_DEATH, NULL));
	TRY_ERR("modify with the exit alias", ModifyWaitEvent(set, 1, WL_EXIT_ON_PM_DEATH, NULL));
	elog(LOG, "wes: still %d events", GetNumRegisteredWaitEvents(set));
	FreeWaitEventSet(set);
	elog(LOG, "wes: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("wes_module", "wes_main", "wes worker", "wes worker");
}
