/*
 * mq_host.c
 *		A plain C host streaming messages to and from dynamic workers through
 *		message queues in a dynamic shared memory segment: attach to a
 *		running bgworkerd, create a segment with two queues per worker,
 *		start the workers of examples/mq_worker.c with the segment's handle
 *		in bgw_main_arg, send each of them messages of 1 byte to three times
 *		a queue's ring and check the echoes, then kill one worker and notice
 *		it through its queue (BGW_MQ_DETACHED), and clean up.
 *
 * usage: mq_host RUNDIR [WORKERS [MESSAGES]]
 *
 * RUNDIR is the run directory of a running bgworkerd whose
 * dynamic_library_path finds mq_worker (`make examples` builds both into
 * target/examples). Defaults: 2 workers, 1000 messages each.
 *
 * Build (after `make install`):
 *		cc -o mq_host mq_host.c $(pkg-config --cflags --libs bgworker)
 *
 * Every call reports failure through its return value and bgw_last_error();
 * the library never ends this process. Exit status 0 when every echo was
 * right and the killed worker was noticed, 1 otherwise.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bgworker.h>
#include <bgworker_mq.h>

#include "mq_example.h"

#define MAX_WORKERS 8

/* Message m to worker w: its length and its bytes. */
static size_t
message_length(int w, long m)
{
	return 1 + (size_t) ((m * 7919 + w * 104729) % (3 * MQ_EXAMPLE_QUEUE_SIZE));
}

static void
fill_message(char *buf, size_t len, int w, long m)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char) (i * 31 + m * 7 + w);
}

int
main(int argc, char **argv)
{
	int			nworkers = 2;
	long		nmessages = 1000;
	bgw_segment *seg = NULL;
	bgw_mq_handle *to[MAX_WORKERS] = {0};
	bgw_mq_handle *from[MAX_WORKERS] = {0};
	BackgroundWorkerHandle *handle[MAX_WORKERS] = {0};
	char	   *buf = NULL;
	int			ok = 0;
	int			i;
	pid_t		pid;

	if (argc < 2 || argc > 4)
	{
		fprintf(stderr, "usage: %s RUNDIR [WORKERS [MESSAGES]]\n", argv[0]);
		return 2;
	}
	if (argc >= 3)
		nworkers = atoi(argv[2]);
	if (argc >= 4)
		nmessages = atol(argv[3]);
	if (nworkers < 1 || nworkers > MAX_WORKERS || nmessages < 0)
	{
		fprintf(stderr, "mq_host: 1 to %d workers, 0 or more messages\n", MAX_WORKERS);
		return 2;
	}
	buf = malloc(3 * MQ_EXAMPLE_QUEUE_SIZE);
	if (buf == NULL)
		return 1;

	/* 1. Become a backend of the bgworkerd running on RUNDIR. */
	if (bgw_attach(argv[1]) != 0)
	{
		fprintf(stderr, "mq_host: cannot attach: %s\n", bgw_last_error());
		free(buf);
		return 1;
	}

	/* 2. A segment with two queues per worker; our ends of them. */
	seg = bgw_segment_create(MQ_EXAMPLE_SEGMENT_SIZE(nworkers));
	if (seg == NULL)
	{
		fprintf(stderr, "mq_host: %s\n", bgw_last_error());
		goto done;
	}
	printf("created segment %u of %zu bytes\n", bgw_segment_handle(seg), bgw_segment_size(seg));
	for (i = 0; i < nworkers; i++)
	{
		if (bgw_mq_create(seg, MQ_EXAMPLE_TO_WORKER(i), MQ_EXAMPLE_QUEUE_SIZE) != 0 ||
			bgw_mq_create(seg, MQ_EXAMPLE_FROM_WORKER(i), MQ_EXAMPLE_QUEUE_SIZE) != 0 ||
			(to[i] = bgw_mq_attach(seg, MQ_EXAMPLE_TO_WORKER(i), BGW_MQ_SENDER, NULL)) == NULL ||
			(from[i] = bgw_mq_attach(seg, MQ_EXAMPLE_FROM_WORKER(i), BGW_MQ_RECEIVER, NULL)) == NULL)
		{
			fprintf(stderr, "mq_host: %s\n", bgw_last_error());
			goto done;
		}
	}

	/* 3. Start the workers with the segment's handle; tell the queues. */
	for (i = 0; i < nworkers; i++)
	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		snprintf(w.bgw_name, BGW_MAXLEN, "mq echo %d", i);
		snprintf(w.bgw_type, BGW_MAXLEN, "mq echo");
		snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "mq_worker");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "mq_echo_main");
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		w.bgw_main_arg = (Datum) bgw_segment_handle(seg);
		memcpy(w.bgw_extra, &i, sizeof(i));
		if (!RegisterDynamicBackgroundWorker(&w, &handle[i]))
		{
			fprintf(stderr, "mq_host: cannot register worker %d: %s\n", i, bgw_last_error());
			goto done;
		}
		if (bgw_mq_set_peer(to[i], handle[i]) != 0 || bgw_mq_set_peer(from[i], handle[i]) != 0)
		{
			fprintf(stderr, "mq_host: %s\n", bgw_last_error());
			goto done;
		}
	}
	for (i = 0; i < nworkers; i++)
	{
		if (bgw_mq_wait_for_attach(to[i]) != BGW_MQ_SUCCESS ||
			bgw_mq_wait_for_attach(from[i]) != BGW_MQ_SUCCESS)
		{
			fprintf(stderr, "mq_host: worker %d did not attach to its queues\n", i);
			goto done;
		}
	}
	printf("%d workers attached\n", nworkers);

	/* 4. Stream: each message to every worker, each echo checked. */
	for (long m = 0; m < nmessages; m++)
	{
		for (i = 0; i < nworkers; i++)
		{
			size_t		len = message_length(i, m);
			void	   *data;
			size_t		got;
			int			r;

			fill_message(buf, len, i, m);
			r = bgw_mq_send(to[i], buf, len, 0);
			if (r != BGW_MQ_SUCCESS)
			{
				fprintf(stderr, "mq_host: send %ld to worker %d: %s\n", m, i,
						r < 0 ? bgw_last_error() : "detached");
				goto done;
			}
			r = bgw_mq_receive(from[i], &data, &got, 0);
			if (r != BGW_MQ_SUCCESS)
			{
				fprintf(stderr, "mq_host: receive %ld from worker %d: %s\n", m, i,
						r < 0 ? bgw_last_error() : "detached");
				goto done;
			}
			if (got != len || memcmp(data, buf, len) != 0)
			{
				fprintf(stderr, "mq_host: echo %ld of worker %d differs (%zu bytes, sent %zu)\n",
						m, i, got, len);
				goto done;
			}
		}
	}
	printf("%ld messages of 1 to %d bytes echoed by each worker\n", nmessages,
		   3 * MQ_EXAMPLE_QUEUE_SIZE);

	/* 5. Kill the last worker while we wait for its answer. */
	i = nworkers - 1;
	if (GetBackgroundWorkerPid(handle[i], &pid) != BGWH_STARTED)
	{
		fprintf(stderr, "mq_host: worker %d is not running\n", i);
		goto done;
	}
	kill(pid, SIGKILL);
	{
		void	   *data;
		size_t		got;
		int			r = bgw_mq_receive(from[i], &data, &got, 0);

		if (r != BGW_MQ_DETACHED)
		{
			fprintf(stderr, "mq_host: receive from the killed worker returned %d\n", r);
			goto done;
		}
		/* A message the ring cannot hold: the send must wait, and notices. */
		fill_message(buf, 3 * MQ_EXAMPLE_QUEUE_SIZE, i, 0);
		r = bgw_mq_send(to[i], buf, 3 * MQ_EXAMPLE_QUEUE_SIZE, 0);
		if (r != BGW_MQ_DETACHED)
		{
			fprintf(stderr, "mq_host: send to the killed worker returned %d\n", r);
			goto done;
		}
	}
	printf("worker %d killed: its queues report it detached\n", i);
	ok = 1;

done:
	/* 6. Leave the queues (workers still running see BGW_MQ_DETACHED and
	 * finish), the segment, and the daemon. */
	for (i = 0; i < nworkers; i++)
	{
		if (to[i] != NULL)
			bgw_mq_detach(to[i]);
		if (from[i] != NULL)
			bgw_mq_detach(from[i]);
	}
	if (seg != NULL)
		bgw_segment_detach(seg);
	for (i = 0; i < nworkers; i++)
		free(handle[i]);
	bgw_detach();
	free(buf);
	printf("%s\n", ok ? "done" : "failed");
	return ok ? 0 : 1;
}
