/*
 * bench_host.h - what the libbgworker host programs of the benchmarks
 * (bgw_bench.c, bgw_scale.c) share: allocation that cannot fail, the
 * give-up path, the SIGUSR1 handler of a bgw_notify_pid target, and
 * bench_core.h's hooks for a libbgworker host.
 *
 * Include after bench_core.h, with BENCH_PROG (the program's name for its
 * messages) and WATCHDOG_S defined. Only the host programs include it; the
 * PostgreSQL side (pg15/) has its own hooks.
 */
#ifndef BENCH_HOST_H
#define BENCH_HOST_H

static void *
xmalloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, BENCH_PROG ": out of memory\n");
		exit(1);
	}
	return p;
}

/* Give up: terminate the live handles, remove the stamp file, exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt,...)
{
	va_list		ap;

	fflush(stdout);
	fprintf(stderr, BENCH_PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (int i = 0; i < n_live_handles; i++)
		if (live_handles[i] != NULL)
			TerminateBackgroundWorker(live_handles[i]);
	remove_stamp_file();
	exit(1);
}

/* bgw_notify_pid target: the library does the waiting, nothing to do here */
static void
on_sigusr1(int signo)
{
	(void) signo;
}

/* bench_core.h's hooks for a libbgworker host */
static void bench_free(void *p) { free(p); }

/* libbgworker's handles are malloc()ed: the caller frees them */
static void bench_free_handle(BackgroundWorkerHandle *h) { free(h); }

static void
bench_emit_line(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void bench_watchdog_rearm(void) { alarm(WATCHDOG_S); }
static const char *bench_register_failure_reason(void) { return bgw_last_error(); }

#endif							/* BENCH_HOST_H */
