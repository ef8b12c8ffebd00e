/*
 * mq_bad.c -- bad input to the host queue API (include/bgworker_mq.h),
 * for tests/host_mq.rs: every case prints "CASE: RESULT: bgw_last_error()"
 * and the program goes on; at the end a good queue still carries a
 * message both ways through a worker of examples/mq_worker.c, to show that
 * nothing else broke.
 *
 * usage: mq_bad RUNDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bgworker.h>
#include <bgworker_mq.h>

#include "../examples/mq_example.h"

static void
report(const char *what, long r)
{
	printf("%s: %ld: %s\n", what, r, bgw_last_error());
}

static int
start_echo(bgw_segment *seg, uint32_t handle, int index, BackgroundWorkerHandle **h)
{
	BackgroundWorker w;

	(void) seg;
	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "mq echo %d", index);
	snprintf(w.bgw_type, BGW_MAXLEN, "mq echo");
	snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "mq_worker");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "mq_echo_main");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	w.bgw_main_arg = (Datum) handle;
	memcpy(w.bgw_extra, &index, sizeof(index));
	return RegisterDynamicBackgroundWorker(&w, h) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	bgw_segment *seg;
	bgw_mq_handle *mqh;
	bgw_mq_handle *to;
	bgw_mq_handle *from;
	BackgroundWorkerHandle *peer = NULL;
	void	   *data;
	size_t		len;
	int			r;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);

	/* Before bgw_attach: no supervisor. */
	report("create unattached", (long) (bgw_segment_create(4096) != NULL));

	if (bgw_attach(argv[1]) != 0)
	{
		printf("attach failed: %s\n", bgw_last_error());
		return 1;
	}

	/* Segments: bad handles and sizes. */
	report("attach handle 0", (long) (bgw_segment_attach(0) != NULL));
	report("attach never created", (long) (bgw_segment_attach(0x7badf00d) != NULL));
	report("create 0 bytes", (long) (bgw_segment_create(0) != NULL));
	report("create SIZE_MAX bytes", (long) (bgw_segment_create((size_t) -1) != NULL));
	report("handle of NULL", (long) bgw_segment_handle(NULL));
	report("detach NULL", bgw_segment_detach(NULL));

	seg = bgw_segment_create(MQ_EXAMPLE_SEGMENT_SIZE(1));
	if (seg == NULL)
	{
		printf("create failed: %s\n", bgw_last_error());
		return 1;
	}
	{
		uint32_t	gone;
		bgw_segment *other = bgw_segment_create(4096);

		gone = bgw_segment_handle(other);
		bgw_segment_detach(other);
		report("attach destroyed", (long) (bgw_segment_attach(gone) != NULL));
	}

	/* Queues: too small, misplaced, bad roles, bad handles. */
	report("queue too small", bgw_mq_create(seg, 0, BGW_MQ_MINIMUM_SIZE - 8));
	report("queue misaligned", bgw_mq_create(seg, 4, 1024));
	report("queue beyond segment", bgw_mq_create(seg, MQ_EXAMPLE_SEGMENT_SIZE(1) - 512, 1024));
	report("queue in NULL segment", bgw_mq_create(NULL, 0, 1024));
	report("attach bad role", (long) (bgw_mq_attach(seg, 0, 3, NULL) != NULL));
	/* A queue nobody laid out: the magic is missing. */
	report("attach unformatted", (long) (bgw_mq_attach(seg, 8192, BGW_MQ_SENDER, NULL) != NULL));
	if (bgw_mq_create(seg, 0, 1024) != 0)
	{
		printf("create queue failed: %s\n", bgw_last_error());
		return 1;
	}
	mqh = bgw_mq_attach(seg, 0, BGW_MQ_SENDER, NULL);
	report("sender twice", (long) (bgw_mq_attach(seg, 0, BGW_MQ_SENDER, NULL) != NULL));
	report("send on NULL", bgw_mq_send(NULL, "x", 1, 0));
	report("receive on NULL", bgw_mq_receive(NULL, &data, &len, 0));
	report("send NULL data", bgw_mq_send(mqh, NULL, 5, 0));
	report("send too large", bgw_mq_send(mqh, "x", (size_t) BGW_MQ_MAX_MESSAGE + 1, 0));
	/* The receiver never came: a small message fits, nowait says so
	 * when it does not. */
	{
		static char big[4096];

		report("send nowait, no receiver", bgw_mq_send(mqh, big, sizeof(big), BGW_MQ_NOWAIT));
	}
	bgw_mq_detach(mqh);

	/* Peer gone: a worker that never attaches (the segment handle it gets
	 * does not exist) is noticed through its handle. */
	if (bgw_mq_create(seg, MQ_EXAMPLE_TO_WORKER(0), MQ_EXAMPLE_QUEUE_SIZE) != 0 ||
		bgw_mq_create(seg, MQ_EXAMPLE_FROM_WORKER(0), MQ_EXAMPLE_QUEUE_SIZE) != 0)
	{
		printf("create queue failed: %s\n", bgw_last_error());
		return 1;
	}
	from = bgw_mq_attach(seg, MQ_EXAMPLE_FROM_WORKER(0), BGW_MQ_RECEIVER, NULL);
	if (from == NULL || start_echo(seg, 0x7badf00d, 0, &peer) != 0 ||
		bgw_mq_set_peer(from, peer) != 0)
	{
		printf("setup failed: %s\n", bgw_last_error());
		return 1;
	}
	report("set peer twice", bgw_mq_set_peer(from, peer));
	r = bgw_mq_wait_for_attach(from);
	printf("wait for a worker that never attaches: %d\n", r);
	r = bgw_mq_receive(from, &data, &len, 0);
	printf("receive from a worker that never attaches: %d\n", r);
	bgw_mq_detach(from);
	free(peer);

	/* Nothing else broke: a fresh segment, a real worker, both ways. */
	bgw_segment_detach(seg);
	seg = bgw_segment_create(MQ_EXAMPLE_SEGMENT_SIZE(1));
	if (seg == NULL ||
		bgw_mq_create(seg, MQ_EXAMPLE_TO_WORKER(0), MQ_EXAMPLE_QUEUE_SIZE) != 0 ||
		bgw_mq_create(seg, MQ_EXAMPLE_FROM_WORKER(0), MQ_EXAMPLE_QUEUE_SIZE) != 0 ||
		(to = bgw_mq_attach(seg, MQ_EXAMPLE_TO_WORKER(0), BGW_MQ_SENDER, NULL)) == NULL ||
		(from = bgw_mq_attach(seg, MQ_EXAMPLE_FROM_WORKER(0), BGW_MQ_RECEIVER, NULL)) == NULL ||
		start_echo(seg, bgw_segment_handle(seg), 0, &peer) != 0 ||
		bgw_mq_set_peer(to, peer) != 0 || bgw_mq_set_peer(from, peer) != 0)
	{
		printf("roundtrip setup failed: %s\n", bgw_last_error());
		return 1;
	}
	/* Nothing is read yet: a nowait receive would block. */
	printf("receive nowait, nothing sent: %d\n", bgw_mq_receive(from, &data, &len, BGW_MQ_NOWAIT));
	r = bgw_mq_send(to, "hello", 5, 0);
	if (r == BGW_MQ_SUCCESS)
		r = bgw_mq_receive(from, &data, &len, 0);
	if (r == BGW_MQ_SUCCESS && len == 5 && memcmp(data, "hello", 5) == 0)
		printf("roundtrip ok\n");
	else
		printf("roundtrip failed: %d %s\n", r, r < 0 ? bgw_last_error() : "");
	/* Our leaving ends the worker: it sees BGW_MQ_DETACHED. */
	bgw_mq_detach(to);
	bgw_mq_detach(from);
	printf("worker after we left: %d\n", WaitForBackgroundWorkerShutdown(peer));
	free(peer);
	bgw_segment_detach(seg);
	bgw_detach();
	return 0;
}
