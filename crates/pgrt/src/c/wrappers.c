/*
 * wrappers.c -- exports whose body is Rust but which may raise ERROR: each
 * calls the Rust body, then raises whatever it recorded (see
 * src/compat/mod.rs), so that no siglongjmp ever crosses a Rust frame.
 * Also the process title (ps display).
 */
#include "pgcompat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define MCXT_ALLOC_HUGE 0x01
#define MCXT_ALLOC_NO_OOM 0x02
#define MCXT_ALLOC_ZERO 0x04

extern void *bgw_rs_context_alloc(MemoryContext context, Size size, int flags);
extern int	bgw_rs_WaitLatchOrSocket(void *latch, int wakeEvents, int sock,
									 long timeout, uint32_t wait_event_info);
extern void bgw_rs_OwnLatch(void *latch);
extern void bgw_rs_MemoryContextReset(MemoryContext context);
extern void bgw_rs_MemoryContextDelete(MemoryContext context);
extern void bgw_rs_MemoryContextDeleteChildren(MemoryContext context);

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

void *
bgw_c_palloc(Size size)
{
	return RAISING(bgw_rs_palloc(size, 0));
}

void *
bgw_c_palloc0(Size size)
{
	return RAISING(bgw_rs_palloc(size, MCXT_ALLOC_ZERO));
}

void *
bgw_c_palloc_extended(Size size, int flags)
{
	return RAISING(bgw_rs_palloc(size, flags));
}

void *
bgw_c_repalloc(void *pointer, Size size)
{
	return RAISING(bgw_rs_repalloc(pointer, size));
}

void *
bgw_c_MemoryContextAlloc(MemoryContext context, Size size)
{
	return RAISING(bgw_rs_context_alloc(context, size, 0));
}

void *
bgw_c_MemoryContextAllocZero(MemoryContext context, Size size)
{
	return RAISING(bgw_rs_context_alloc(context, size, MCXT_ALLOC_ZERO));
}

void *
bgw_c_MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return RAISING(bgw_rs_context_alloc(context, size, flags));
}

void *
bgw_c_MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return RAISING(bgw_rs_context_alloc(context, size, MCXT_ALLOC_HUGE));
}

char *
bgw_c_MemoryContextStrdup(MemoryContext context, const char *string)
{
	size_t		len = strlen(string) + 1;
	char	   *n = bgw_c_MemoryContextAlloc(context, len);

	memcpy(n, string, len);
	return n;
}

char *
bgw_c_pstrdup(const char *in)
{
	return bgw_c_MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
bgw_c_pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = bgw_c_palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

void
bgw_c_pfree(void *pointer)
{
	bgw_rs_pfree(pointer);
	bgw_c_raise_pending();
}

/* A reset callback's ERROR is re-thrown once the Rust body has returned. */
void
bgw_c_MemoryContextReset(MemoryContext context)
{
	bgw_rs_MemoryContextReset(context);
	bgw_c_raise_pending();
}

void
bgw_c_MemoryContextDelete(MemoryContext context)
{
	bgw_rs_MemoryContextDelete(context);
	bgw_c_raise_pending();
}

void
bgw_c_MemoryContextDeleteChildren(MemoryContext context)
{
	bgw_rs_MemoryContextDeleteChildren(context);
	bgw_c_raise_pending();
}

int
bgw_c_WaitLatchOrSocket(void *latch, int wakeEvents, int sock, long timeout,
						uint32_t wait_event_info)
{
	return RAISING(bgw_rs_WaitLatchOrSocket(latch, wakeEvents, sock, timeout,
											wait_event_info));
}

int
bgw_c_WaitLatch(void *latch, int wakeEvents, long timeout,
				uint32_t wait_event_info)
{
	return bgw_c_WaitLatchOrSocket(latch, wakeEvents, -1, timeout,
								   wait_event_info);
}

void
bgw_c_OwnLatch(void *latch)
{
	bgw_rs_OwnLatch(latch);
	bgw_c_raise_pending();
}

/* ---- process title (utils/misc/ps_status.c) ----
 *
 * What ps(1) shows is the memory of the original argv strings, which on
 * Linux is followed by the environment strings. To rewrite it we need its
 * address, which glibc hands to constructors; the environment is moved
 * elsewhere the first time the title is set, so the whole area is ours.
 */
static char **saved_argv;
static int	saved_argc;
static char *ps_buffer;
static size_t ps_buffer_size;
static char ps_fixed[256];
static char ps_activity[256];

__attribute__((constructor))
static void
capture_argv(int argc, char **argv, char **envp)
{
	(void) envp;
	saved_argc = argc;
	saved_argv = argv;
}

extern char **environ;

static void claim_ps_area(void);

/*
 * Bytes at the start of the area that ps may still show from before: the
 * original command line at first (Linux shows the argument strings, not
 * the environment after them, as long as the last argument byte is NUL),
 * then the previous title.
 */
static size_t ps_last_len;

/*
 * Called once by bgworkerd before its first fork (as PostgreSQL's postmaster
 * saves its ps display arguments), so that every worker inherits the moved
 * environment instead of copying it again; otherwise a worker claims the
 * area itself on first use. The area itself is left as it is: the daemon's
 * own command line still shows.
 */
void
bgw_c_claim_ps_area(void)
{
	claim_ps_area();
}

static void
claim_ps_area(void)
{
	char	   *end = NULL;
	int			i;
	char	  **new_environ;
	int			n;

	if (ps_buffer != NULL || saved_argv == NULL || saved_argc <= 0)
		return;
	/* The argv and environ strings must be contiguous to be claimed. */
	for (i = 0; i < saved_argc; i++)
	{
		if (i == 0 || end + 1 == saved_argv[i])
			end = saved_argv[i] + strlen(saved_argv[i]);
	}
	ps_last_len = (size_t) (end - saved_argv[0]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		;
	new_environ = malloc(sizeof(char *) * (n + 1));
	if (new_environ == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		if (end + 1 == environ[i])
			end = environ[i] + strlen(environ[i]);
		new_environ[i] = strdup(environ[i]);
	}
	new_environ[n] = NULL;
	environ = new_environ;
	ps_buffer = saved_argv[0];
	ps_buffer_size = (size_t) (end - saved_argv[0]);
	/* Other argv entries point into the area: make them empty. */
	for (i = 1; i < saved_argc; i++)
		saved_argv[i] = ps_buffer + ps_buffer_size;
}

/* Append s to the title being built at *pos (cut at the area's end). */
static void
title_append(size_t *pos, const char *s)
{
	size_t		n = strlen(s);

	if (*pos + n > ps_buffer_size - 1)
		n = ps_buffer_size - 1 - *pos;
	memcpy(ps_buffer + *pos, s, n);
	*pos += n;
}

/*
 * Rewrite the title in place. Plain copies, no printf: this runs in every
 * new worker, where each stack page printf's machinery touches is a page
 * fault.
 */
static void
update_title(void)
{
	size_t		len = 0;

	claim_ps_area();
	if (ps_buffer == NULL || ps_buffer_size < 2)
		return;
	title_append(&len, "bgworkerd: ");
	title_append(&len, ps_fixed);
	if (ps_activity[0])
	{
		title_append(&len, " ");
		title_append(&len, ps_activity);
	}
	ps_buffer[len] = '\0';
	/* Clear what the previous title (or the command line) left after
	 * the NUL, so ps does not show it. */
	if (ps_last_len > ps_buffer_size)
		ps_last_len = ps_buffer_size;
	if (ps_last_len > len + 1)
		memset(ps_buffer + len + 1, 0, ps_last_len - len - 1);
	ps_last_len = len + 1;
}

static void
copy_bounded(char *dst, size_t size, const char *src)
{
	size_t		n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* init_ps_display(fixed_part): "bgworkerd: <fixed_part>" */
void
bgw_c_init_ps_display(const char *fixed_part)
{
	copy_bounded(ps_fixed, sizeof(ps_fixed), fixed_part);
	ps_activity[0] = '\0';
	update_title();
}

/* set_ps_display(activity): "bgworkerd: <fixed_part> <activity>" */
void
bgw_c_set_ps_display(const char *activity)
{
	copy_bounded(ps_activity, sizeof(ps_activity), activity);
	update_title();
}

/* set_ps_display_with_len(activity, len) (PostgreSQL 17 on: the inline
 * set_ps_display calls it): the first len bytes of activity, at most up to
 * a NUL. */
void
bgw_c_set_ps_display_with_len(const char *activity, size_t len)
{
	size_t		n = activity ? strnlen(activity, len) : 0;

	if (n > sizeof(ps_activity) - 1)
		n = sizeof(ps_activity) - 1;
	if (n)
		memcpy(ps_activity, activity, n);
	ps_activity[n] = '\0';
	update_title();
}

/*
 * strlcpy/strlcat as PostgreSQL's src/port supplies them where libc lacks
 * them: PostgreSQL 17's and 18's headers declare none (they were configured
 * for a libc that has them), so their modules call these.
 */
size_t
bgw_c_strlcpy(char *dst, const char *src, size_t siz)
{
	size_t		n = strlen(src);

	if (siz > 0)
	{
		size_t		c = n < siz - 1 ? n : siz - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t
bgw_c_strlcat(char *dst, const char *src, size_t siz)
{
	size_t		dlen = strnlen(dst, siz);

	if (dlen == siz)
		return siz + strlen(src);
	return dlen + bgw_c_strlcpy(dst + dlen, src, siz - dlen);
}

const char *
bgw_c_get_ps_display(int *displen)
{
	*displen = (int) strlen(ps_activity);
	return ps_activity;
}

/* ---- custom settings (src/compat/guc.rs) ---- */

typedef struct config_enum_entry config_enum_entry;

extern void bgw_rs_DefineCustomBoolVariable(const char *, const char *, const char *,
											bool *, bool, int, int, void *, void *, void *);
extern void bgw_rs_DefineCustomIntVariable(const char *, const char *, const char *,
										   int *, int, int, int, int, int, void *, void *, void *);
extern void bgw_rs_DefineCustomRealVariable(const char *, const char *, const char *,
											double *, double, double, double, int, int,
											void *, void *, void *);
extern void bgw_rs_DefineCustomStringVariable(const char *, const char *, const char *,
											  char **, const char *, int, int,
											  void *, void *, void *);
extern void bgw_rs_DefineCustomEnumVariable(const char *, const char *, const char *,
											int *, int, const config_enum_entry *, int, int,
											void *, void *, void *);
extern const char *bgw_rs_GetConfigOption(const char *name, bool missing_ok,
										  bool restrict_privileged);
extern void bgw_rs_SetConfigOption(const char *name, const char *value,
								   int context, int source);
extern void bgw_rs_ProcessConfigFile(int context);
extern volatile sig_atomic_t ConfigReloadPending;
extern volatile sig_atomic_t ShutdownRequestPending;

void
bgw_c_DefineCustomBoolVariable(const char *name, const char *short_desc,
							   const char *long_desc, bool *valueAddr,
							   bool bootValue, int context, int flags,
							   void *check_hook, void *assign_hook, void *show_hook)
{
	bgw_rs_DefineCustomBoolVariable(name, short_desc, long_desc, valueAddr,
									bootValue, context, flags, check_hook,
									assign_hook, show_hook);
	bgw_c_raise_pending();
}

void
bgw_c_DefineCustomIntVariable(const char *name, const char *short_desc,
							  const char *long_desc, int *valueAddr,
							  int bootValue, int minValue, int maxValue,
							  int context, int flags, void *check_hook,
							  void *assign_hook, void *show_hook)
{
	bgw_rs_DefineCustomIntVariable(name, short_desc, long_desc, valueAddr,
								   bootValue, minValue, maxValue, context,
								   flags, check_hook, assign_hook, show_hook);
	bgw_c_raise_pending();
}

void
bgw_c_DefineCustomRealVariable(const char *name, const char *short_desc,
							   const char *long_desc, double *valueAddr,
							   double bootValue, double minValue,
							   double maxValue, int context, int flags,
							   void *check_hook, void *assign_hook,
							   void *show_hook)
{
	bgw_rs_DefineCustomRealVariable(name, short_desc, long_desc, valueAddr,
									bootValue, minValue, maxValue, context,
									flags, check_hook, assign_hook, show_hook);
	bgw_c_raise_pending();
}

void
bgw_c_DefineCustomStringVariable(const char *name, const char *short_desc,
								 const char *long_desc, char **valueAddr,
								 const char *bootValue, int context, int flags,
								 void *check_hook, void *assign_hook,
								 void *show_hook)
{
	bgw_rs_DefineCustomStringVariable(name, short_desc, long_desc, valueAddr,
									  bootValue, context, flags, check_hook,
									  assign_hook, show_hook);
	bgw_c_raise_pending();
}

void
bgw_c_DefineCustomEnumVariable(const char *name, const char *short_desc,
							   const char *long_desc, int *valueAddr,
							   int bootValue, const config_enum_entry *options,
							   int context, int flags, void *check_hook,
							   void *assign_hook, void *show_hook)
{
	bgw_rs_DefineCustomEnumVariable(name, short_desc, long_desc, valueAddr,
									bootValue, options, context, flags,
									check_hook, assign_hook, show_hook);
	bgw_c_raise_pending();
}

const char *
bgw_c_GetConfigOption(const char *name, bool missing_ok, bool restrict_privileged)
{
	return RAISING(bgw_rs_GetConfigOption(name, missing_ok, restrict_privileged));
}

extern const char *bgw_rs_GetConfigOptionResetString(const char *name);

const char *
bgw_c_GetConfigOptionResetString(const char *name)
{
	return RAISING(bgw_rs_GetConfigOptionResetString(name));
}

extern const char *bgw_rs_GetConfigOptionByName(const char *name, const char **varname,
												 bool missing_ok);

/* GetConfigOptionByName: a palloc'd copy of the value as SHOW shows it. */
char *
bgw_c_GetConfigOptionByName(const char *name, const char **varname, bool missing_ok)
{
	const char *shown = bgw_rs_GetConfigOptionByName(name, varname, missing_ok);

	bgw_c_raise_pending();
	return shown ? bgw_c_pstrdup(shown) : NULL;
}

void
bgw_c_SetConfigOption(const char *name, const char *value, int context, int source)
{
	bgw_rs_SetConfigOption(name, value, context, source);
	bgw_c_raise_pending();
}

extern int	bgw_rs_set_config_option(const char *name, const char *value, int context,
									 int source, int action, bool changeVal, int elevel);

/*
 * set_config_option (utils/guc.h): the action decides what the end of a
 * nesting level does to the value (guc/nest.rs); is_reload changes nothing
 * without a configuration file of the server's own.
 */
int
bgw_c_set_config_option(const char *name, const char *value, int context, int source,
						int action, bool changeVal, int elevel, bool is_reload)
{
	int			r = bgw_rs_set_config_option(name, value, context, source, action, changeVal,
												 elevel);

	bgw_c_raise_pending();
	return r;
}

/* set_config_option_ext: srole names the role; no catalog to check it in. */
int
bgw_c_set_config_option_ext(const char *name, const char *value, int context, int source,
							unsigned int srole, int action, bool changeVal, int elevel,
							bool is_reload)
{
	int			r = bgw_rs_set_config_option(name, value, context, source, action, changeVal,
												 elevel);

	bgw_c_raise_pending();
	return r;
}

extern int	bgw_rs_NewGUCNestLevel(void);
extern void bgw_rs_AtEOXact_GUC(bool isCommit, int nestLevel);

int
bgw_c_NewGUCNestLevel(void)
{
	return RAISING(bgw_rs_NewGUCNestLevel());
}

/* AtEOXact_GUC: restoring a value runs module hooks, which may raise. */
void
bgw_c_AtEOXact_GUC(bool isCommit, int nestLevel)
{
	bgw_rs_AtEOXact_GUC(isCommit, nestLevel);
	bgw_c_raise_pending();
}

void
bgw_c_ProcessConfigFile(int context)
{
	bgw_rs_ProcessConfigFile(context);
	bgw_c_raise_pending();
}

/*
 * HandleMainLoopInterrupts (postmaster/interrupt.c): reload the settings
 * after SIGHUP, exit 0 after a shutdown request.
 */
void
bgw_c_HandleMainLoopInterrupts(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		bgw_c_ProcessConfigFile(2 /* PGC_SIGHUP */ );
	}
	if (ShutdownRequestPending)
		bgw_c_proc_exit(0);
}

/* PostgreSQL 18's name for HandleMainLoopInterrupts (same behaviour). */
void
bgw_c_ProcessMainLoopInterrupts(void)
{
	bgw_c_HandleMainLoopInterrupts();
}

extern uint32_t bgw_rs_WaitEventExtensionNew(const char *name);
extern uint32_t bgw_rs_WaitEventInjectionPointNew(const char *name);
extern char **bgw_rs_GetWaitEventCustomNames(uint32_t classId, int *nwaitevents);

uint32_t
bgw_c_WaitEventExtensionNew(const char *name)
{
	return RAISING(bgw_rs_WaitEventExtensionNew(name));
}

uint32_t
bgw_c_WaitEventInjectionPointNew(const char *name)
{
	return RAISING(bgw_rs_WaitEventInjectionPointNew(name));
}

char	  **
bgw_c_GetWaitEventCustomNames(uint32_t classId, int *nwaitevents)
{
	return RAISING(bgw_rs_GetWaitEventCustomNames(classId, nwaitevents));
}
