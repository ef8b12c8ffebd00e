/*
 * lc_common.h
 *		Small helpers shared by the lifecycle test modules and host programs.
 *
 * Include it after postgres.h (modules) or bgworker.h (hosts). It only uses
 * libc: the library does not provide PostgreSQL's elog/palloc/snprintf, so
 * the pg_* redirections that port.h installs for the printf family are
 * undone here.
 *
 * Output convention: one line per write(2) on stderr (modules; it lands in
 * bgworkerd's log stream) or stdout (hosts), short enough to be atomic on a
 * pipe, "marker: ..." for workers and "host: ..." / "step: ..." for hosts,
 * with key=value tokens that the Rust tests parse.
 */
#ifndef LC_COMMON_H
#define LC_COMMON_H

#undef snprintf
#undef vsnprintf
#undef fprintf
#undef vfprintf
#undef sprintf
#undef vsprintf
#undef strerror

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Write one formatted line to fd with a single write(2). */
static inline void lc_writef(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void
lc_writef(int fd, const char *fmt, ...)
{
	char		buf[1024];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int) sizeof(buf) - 2)
		n = (int) sizeof(buf) - 2;
	buf[n++] = '\n';
	while (write(fd, buf, (size_t) n) < 0 && errno == EINTR)
		;
}

/*
 * The SigBlk mask of the calling process, read from /proc/self/status, as
 * the 16 hex digits the kernel prints. Returns 0 on success.
 */
static inline int
lc_read_sigblk(char *out, size_t outlen)
{
	FILE	   *f = fopen("/proc/self/status", "r");
	char		line[256];
	int			rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		if (strncmp(line, "SigBlk:", 7) == 0)
		{
			char	   *p = line + 7;
			size_t		n;

			while (*p == ' ' || *p == '\t')
				p++;
			n = strcspn(p, "\n");
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Sleep for ms milliseconds (returns early if a signal handler runs). */
static inline void
lc_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* Monotonic clock in milliseconds. */
static inline long long
lc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Byte i of the pattern every lc_workers static registration puts in
 * bgw_extra[LC_PATTERN_START .. BGW_EXTRALEN); the text part of bgw_extra
 * (NUL-terminated) must end before LC_PATTERN_START.
 */
#define LC_PATTERN_START 100
#define LC_PATTERN_BYTE(i) ((unsigned char) (((i) * 37 + 11) & 0xff))

#endif							/* LC_COMMON_H */
