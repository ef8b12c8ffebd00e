/*
 * bgw_bighost.c
 *		An embedding host for the benchmark: a program that holds a heap of
 *		HEAP_MB megabytes (allocated and written, so every page is resident
 *		and mapped) and then runs the supervisor itself (bgw_host_run), as a
 *		big application embedding libbgworker would.  Its workers are forked
 *		from it, so each fork copies the page tables of that heap.
 *
 * usage: bgw_bighost [-f] RUNDIR HEAP_MB SLOTS [MODULE]
 *	 MODULE, if given, is loaded as a shared_preload_libraries entry
 *	 (bgw_host_load_library) before the supervisor starts.
 *	 -f: start a fork server first (bgw_host_start_fork_server), before the
 *	 heap exists, so that the supervisor and the workers live in a small
 *	 process.
 *
 * A client (bench/bgw_scale.c) attaches to RUNDIR and registers the
 * workers.  SIGTERM or SIGINT asks for a fast shutdown.  Prints
 * "bgw_bighost ready heap_kb=N" on stderr once the heap is in place (the
 * library logs "bgworkerd ready" when the supervisor is).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgworker.h"

static void
on_shutdown_signal(int signo)
{
	(void) signo;
	bgw_host_request_shutdown(BGW_SHUTDOWN_FAST);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	size_t		heap_bytes;
	char	   *heap = NULL;
	long		page = sysconf(_SC_PAGESIZE);
	unsigned long sum = 0;

	if (argc > 1 && strcmp(argv[1], "-f") == 0)
	{
		if (bgw_host_start_fork_server() < 0)
		{
			fprintf(stderr, "bgw_bighost: %s\n", bgw_last_error());
			return 1;
		}
		argv++;
		argc--;
	}
	if (argc < 4 || argc > 5)
	{
		fprintf(stderr, "usage: bgw_bighost [-f] RUNDIR HEAP_MB SLOTS [MODULE]\n");
		return 2;
	}
	heap_bytes = (size_t) strtoul(argv[2], NULL, 10) << 20;
	if (heap_bytes > 0)
	{
		heap = malloc(heap_bytes);
		if (heap == NULL)
		{
			fprintf(stderr, "bgw_bighost: could not allocate %s MB\n", argv[2]);
			return 1;
		}
		/* every page written: resident, and mapped in the page tables */
		for (size_t off = 0; off < heap_bytes; off += (size_t) page)
			heap[off] = (char) off;
		for (size_t off = 0; off < heap_bytes; off += (size_t) page * 64)
			sum += (unsigned char) heap[off];
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_shutdown_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (bgw_host_set("max_worker_processes", argv[3]) != 0)
	{
		fprintf(stderr, "bgw_bighost: max_worker_processes: %s\n", bgw_last_error());
		return 1;
	}
	if (argc == 5 && bgw_host_load_library(argv[4]) != 0)
	{
		fprintf(stderr, "bgw_bighost: could not load %s: %s\n", argv[4], bgw_last_error());
		return 1;
	}
	fprintf(stderr, "bgw_bighost ready heap_kb=%zu (check %lu)\n", heap_bytes >> 10, sum & 1);
	return bgw_host_run(argv[1]);
}
