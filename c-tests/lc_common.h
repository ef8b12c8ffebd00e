/*
 * lc_common.h
 *		Helpers shared by the test modules and host programs in c-tests/.
 *
 * Include it after bgworker.h (host programs, built against the library's
 * include/bgworker.h) or after postgres.h and postmaster/bgworker.h
 * (modules, built with PostgreSQL's PGXS flags). It uses only libc and the
 * bgworker API, so that the tests built on it exercise the bgworker.h
 * layer alone (the PostgreSQL runtime has its own tests, c-tests/compat):
 * the pg_* redirections that port.h installs for the printf family are
 * undone here.
 *
 * Output convention: one line per write(2), short enough to be atomic on a
 * pipe, "marker: ..." for workers and "host: ..." / "step: ..." for hosts,
 * with key=value tokens that the Rust tests parse. lc_out() writes to
 * LC_OUT_FD: stderr in modules (it lands in bgworkerd's log stream), stdout
 * in host programs unless the program defines LC_OUT_FD before including
 * this header.
 *
 * Sections: always (output, words of bgw_extra, SigBlk, signal handlers,
 * worker lists in the environment, time, worker definitions and the
 * running worker's entry); modules only (the path of the module's own
 * shared object); host programs only (library errors, FAIL, steps,
 * registration with retry, start/stop, attach).
 */
#ifndef LC_COMMON_H
#define LC_COMMON_H

#if defined(LIBBGWORKER_BGWORKER_H)
#define LC_HOST 1
#elif defined(BGWORKER_H)
#define LC_MODULE 1
#else
#error "include bgworker.h (host programs) or postmaster/bgworker.h (modules) before lc_common.h"
#endif

/* Undo port.h's printf-family redirections (modules). */
#undef snprintf
#undef vsnprintf
#undef sprintf
#undef vsprintf
#undef fprintf
#undef vfprintf
#undef printf
#undef vprintf
#undef strerror
#undef strerror_r

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef LC_OUT_FD
#ifdef LC_HOST
#define LC_OUT_FD 1
#else
#define LC_OUT_FD 2
#endif
#endif

/* ---- output ---- */

/*
 * Write one formatted line (a newline is appended) to fd with a single
 * write(2), retried on EINTR. Returns -1 if the write failed, else 0.
 */
static inline int lc_vwritef(int fd, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static inline int
lc_vwritef(int fd, const char *fmt, va_list ap)
{
	char		buf[1024];
	int			n;

	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	if (n < 0)
		return 0;
	if (n > (int) sizeof(buf) - 2)
		n = (int) sizeof(buf) - 2;
	buf[n++] = '\n';
	while (write(fd, buf, (size_t) n) < 0)
	{
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static inline int lc_writef(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline int
lc_writef(int fd, const char *fmt, ...)
{
	va_list		ap;
	int			rc;

	va_start(ap, fmt);
	rc = lc_vwritef(fd, fmt, ap);
	va_end(ap);
	return rc;
}

/* One line on LC_OUT_FD. */
static inline void lc_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
lc_out(const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	(void) lc_vwritef(LC_OUT_FD, fmt, ap);
	va_end(ap);
}

/* ---- words of bgw_extra ("exit=0 loop crash=segv") ---- */

/*
 * The next space-separated word at or after *pos: returns its start and
 * sets *len, and moves *pos past it; NULL when no word is left.
 */
static inline const char *
lc_next_word(const char **pos, size_t *len)
{
	const char *p = *pos;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	*len = strcspn(p, " ");
	*pos = p + *len;
	return p;
}

/* True if the bare word w occurs among the words of s. */
static inline int
lc_has_word(const char *s, const char *w)
{
	size_t		wlen = strlen(w);
	size_t		n;
	const char *word;

	while ((word = lc_next_word(&s, &n)) != NULL)
	{
		if (n == wlen && strncmp(word, w, wlen) == 0)
			return 1;
	}
	return 0;
}

/*
 * The value of the first "key=value" word of s (not NUL-terminated: it
 * ends at a space or at the end of s), its length in *vlen; NULL if none.
 */
static inline const char *
lc_word_find(const char *s, const char *key, size_t *vlen)
{
	size_t		klen = strlen(key);
	size_t		n;
	const char *word;

	while ((word = lc_next_word(&s, &n)) != NULL)
	{
		if (n > klen && strncmp(word, key, klen) == 0 && word[klen] == '=')
		{
			*vlen = n - klen - 1;
			return word + klen + 1;
		}
	}
	return NULL;
}

/* Value of "key=value" among the words of s, copied into out; 0 if found. */
static inline int
lc_word_value(const char *s, const char *key, char *out, size_t outlen)
{
	size_t		vlen;
	const char *v = lc_word_find(s, key, &vlen);

	if (v == NULL)
		return -1;
	if (vlen >= outlen)
		vlen = outlen - 1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

/* Integer value of "key=N" among the words of s; 0 if found. */
static inline int
lc_word_int(const char *s, const char *key, int *out)
{
	size_t		vlen;
	const char *v = lc_word_find(s, key, &vlen);

	if (v == NULL)
		return -1;
	*out = atoi(v);
	return 0;
}

/* ---- signal masks ---- */

/*
 * The SigBlk mask in a /proc status file, as the 16 hex digits the kernel
 * prints. Returns 0 on success.
 */
static inline int
lc_read_sigblk_from(const char *status_path, char *out, size_t outlen)
{
	FILE	   *f = fopen(status_path, "r");
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

/* The SigBlk mask of the calling process (/proc/self/status). */
static inline int
lc_read_sigblk(char *out, size_t outlen)
{
	return lc_read_sigblk_from("/proc/self/status", out, outlen);
}

/* Install fn as the handler of signo, with sa_flags = flags. */
static inline void
lc_set_handler(int signo, void (*fn) (int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(signo, &sa, NULL);
}

/* ---- static worker lists in the environment ---- */

/*
 * Call fn on every ';'-separated entry of the environment variable env (on
 * a writable copy, so fn may split the entry further). Nothing happens if
 * env is unset or empty.
 */
static inline void
lc_each_env_entry(const char *env, void (*fn) (char *entry))
{
	const char *spec = getenv(env);
	char	   *copy;
	char	   *save = NULL;
	char	   *entry;

	if (spec == NULL || *spec == '\0')
		return;
	copy = strdup(spec);
	if (copy == NULL)
		return;
	for (entry = strtok_r(copy, ";", &save); entry != NULL;
		 entry = strtok_r(NULL, ";", &save))
		fn(entry);
	free(copy);
}

/* ---- time ---- */

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

/* ---- worker definitions ---- */

/*
 * A valid definition: every field zero but the given strings (type NULL
 * means "<name>_type"), BGWORKER_SHMEM_ACCESS, start at RecoveryFinished,
 * never restarted. Callers change what their test needs afterwards.
 */
static inline void
lc_fill_worker(BackgroundWorker *w, const char *name, const char *type,
			   const char *library, const char *function, const char *extra)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->bgw_name, BGW_MAXLEN, "%s", name);
	if (type != NULL)
		snprintf(w->bgw_type, BGW_MAXLEN, "%s", type);
	else
		snprintf(w->bgw_type, BGW_MAXLEN, "%s_type", name);
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "%s", library);
	snprintf(w->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(w->bgw_extra, BGW_EXTRALEN, "%s", extra);
}

static inline const char *
lc_status_name(BgwHandleStatus st)
{
	switch (st)
	{
		case BGWH_STARTED:
			return "STARTED";
		case BGWH_NOT_YET_STARTED:
			return "NOT_YET_STARTED";
		case BGWH_STOPPED:
			return "STOPPED";
		case BGWH_POSTMASTER_DIED:
			return "POSTMASTER_DIED";
	}
	return "UNKNOWN";
}

/*
 * The running worker's bgw_name and bgw_extra, NUL-terminated, copied into
 * name[BGW_MAXLEN] and extra[BGW_EXTRALEN]. A process without
 * MyBgworkerEntry prints "marker: MyBgworkerEntry is NULL pid=N" on stderr
 * and exits 3.
 */
static inline void
lc_worker_entry(char *name, char *extra)
{
	if (MyBgworkerEntry == NULL)
	{
		lc_writef(2, "marker: MyBgworkerEntry is NULL pid=%d", (int) getpid());
		exit(3);
	}
	memcpy(name, MyBgworkerEntry->bgw_name, BGW_MAXLEN);
	name[BGW_MAXLEN - 1] = '\0';
	memcpy(extra, MyBgworkerEntry->bgw_extra, BGW_EXTRALEN);
	extra[BGW_EXTRALEN - 1] = '\0';
}

/*
 * Byte i of the pattern every lc_workers static registration puts in
 * bgw_extra[LC_PATTERN_START .. BGW_EXTRALEN); the text part of bgw_extra
 * (NUL-terminated) must end before LC_PATTERN_START.
 */
#define LC_PATTERN_START 100
#define LC_PATTERN_BYTE(i) ((unsigned char) (((i) * 37 + 11) & 0xff))

#ifdef LC_MODULE

#include <dlfcn.h>

/*
 * Absolute path of the shared object that holds symbol (a function of the
 * calling module), or fallback if dladdr cannot tell.
 */
static inline const char *
lc_so_path(void *symbol, const char *fallback)
{
	Dl_info		info;

	if (dladdr(symbol, &info) != 0 && info.dli_fname != NULL)
		return info.dli_fname;
	return fallback;
}

#endif							/* LC_MODULE */

#ifdef LC_HOST

/* bgw_last_error(), with "(null)" and "(empty)" spelled out. */
static inline const char *
lc_last_error(void)
{
	const char *e = bgw_last_error();

	if (e == NULL)
		return "(null)";
	if (*e == '\0')
		return "(empty)";
	return e;
}

/* An unexpected API result: print "FAIL: ..." and exit 1. */
#define FAIL(...) do { lc_out("FAIL: " __VA_ARGS__); exit(1); } while (0)

/*
 * Steps: lc_step_init() blocks SIGUSR2 (call it first in main, before any
 * thread exists); lc_step() prints "step: ..." and waits for SIGUSR2 from
 * the test, which meanwhile inspects processes or stops the daemon.
 */
static inline void
lc_step_init(void)
{
	sigset_t	s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static inline void lc_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
lc_step(const char *fmt, ...)
{
	char		buf[900];
	va_list		ap;
	sigset_t	s;
	int			sig;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lc_out("step: %s", buf);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	if (sigwait(&s, &sig) != 0)
		FAIL("sigwait");
}

/*
 * Register a copy of *w, retrying for up to ms milliseconds: a slot (or a
 * parallel-worker allowance) is given back by the supervisor just after the
 * stopped worker's state is published, so a registration right after a
 * Wait* can race with it. *attempts (if not NULL) gets the number of tries.
 */
static inline bool
lc_register_retry(const BackgroundWorker *w, BackgroundWorkerHandle **h,
				  long ms, int *attempts)
{
	long long	deadline = lc_now_ms() + ms;
	int			n = 0;

	for (;;)
	{
		BackgroundWorker copy = *w;

		n++;
		if (RegisterDynamicBackgroundWorker(&copy, h))
		{
			if (attempts)
				*attempts = n;
			return true;
		}
		if (lc_now_ms() >= deadline)
		{
			if (attempts)
				*attempts = n;
			return false;
		}
		lc_sleep_ms(5);
	}
}

/* Register *w (retrying for 3 s) and wait until it runs; returns its pid. */
static inline pid_t
lc_start_worker(const BackgroundWorker *w, BackgroundWorkerHandle **h)
{
	pid_t		pid = 0;
	BgwHandleStatus st;

	if (!lc_register_retry(w, h, 3000, NULL))
		FAIL("register %s: %s", w->bgw_name, lc_last_error());
	st = WaitForBackgroundWorkerStartup(*h, &pid);
	if (st != BGWH_STARTED)
		FAIL("startup %s: status=%s", w->bgw_name, lc_status_name(st));
	return pid;
}

/* Terminate a worker and wait until it has stopped. */
static inline void
lc_stop_worker(const char *name, BackgroundWorkerHandle *h)
{
	BgwHandleStatus st;

	TerminateBackgroundWorker(h);
	st = WaitForBackgroundWorkerShutdown(h);
	if (st != BGWH_STOPPED)
		FAIL("shutdown %s: status=%s", name, lc_status_name(st));
}

/* bgw_attach(target), then "host: attached pid=N"; FAIL if it fails. */
static inline void
lc_attach_or_fail(const char *target)
{
	if (bgw_attach(target) != 0)
		FAIL("bgw_attach(%s): %s", target, lc_last_error());
	lc_out("host: attached pid=%d", (int) getpid());
}

#endif							/* LC_HOST */

#endif							/* LC_COMMON_H */
