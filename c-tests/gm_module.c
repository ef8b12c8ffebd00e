/*
 * gm_module.c -- guc.c's allocation functions of PostgreSQL 16 and later
 * (guc_malloc, guc_realloc, guc_strdup, guc_free) as modules built for 17
 * and 18 use them, run the same way under bgworkerd and under a real
 * PostgreSQL server (tests/guc_memory_postgresql.rs compares the "gm:"
 * lines).
 *
 * _PG_init defines two settings whose check hooks use them as plpgsql's
 * and pgaudit's do: an int whose hook hands its assign hook an "extra"
 * from guc_malloc, and a string whose hook replaces the value with an
 * upper-cased guc_strdup copy and guc_frees the one it was given. The
 * worker then reads both and calls the functions directly: a zero size,
 * a copy, a growing guc_realloc keeping its contents, guc_free(NULL), and
 * sizes over MaxAllocSize, which are PostgreSQL's ERROR whatever the
 * elevel.
 */
#include "postgres.h"

#include <ctype.h>
#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "tagged_catch.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM >= 170000

void		_PG_init(void);
PGDLLEXPORT void gm_main(Datum arg);

static int	gm_scale = 1;
static int	gm_scaled = 0;
static char *gm_name = NULL;

static bool
gm_scale_check(int *newval, void **extra, GucSource source)
{
	int		   *e = guc_malloc(LOG, sizeof(int));

	(void) source;
	if (e == NULL)
		return false;
	*e = *newval * 10;
	*extra = e;
	return true;
}

static void
gm_scale_assign(int newval, void *extra)
{
	(void) newval;
	gm_scaled = *(int *) extra;
}

static bool
gm_name_check(char **newval, void **extra, GucSource source)
{
	char	   *up;

	(void) extra;
	(void) source;
	if (*newval == NULL)
		return true;
	up = guc_strdup(LOG, *newval);
	if (up == NULL)
		return false;
	for (char *c = up; *c; c++)
		*c = toupper((unsigned char) *c);
	guc_free(*newval);
	*newval = up;
	return true;
}

#define CATCH(what, stmt) TAGGED_CATCH("gm", what, stmt)

void
gm_main(Datum arg)
{
	char	   *p;
	char	   *q;
	int			same = 1;

	(void) arg;
	elog(LOG, "gm: scale %d scaled by its extra %d", gm_scale, gm_scaled);
	elog(LOG, "gm: name \"%s\" shown \"%s\"", gm_name ? gm_name : "(null)",
		 GetConfigOption("gm.name", false, false));

	p = guc_malloc(WARNING, 0);
	elog(LOG, "gm: guc_malloc of 0 bytes gives memory %d", p != NULL);
	guc_free(p);

	p = guc_strdup(ERROR, "a setting's value");
	elog(LOG, "gm: guc_strdup \"%s\"", p);
	q = guc_realloc(ERROR, p, 2);
	elog(LOG, "gm: guc_realloc shrinks keeping \"%.2s\"", q);
	p = guc_realloc(ERROR, NULL, 16);
	memcpy(p, "0123456789abcdef", 16);
	p = guc_realloc(ERROR, p, 1 << 20);
	for (int i = 0; i < 16; i++)
		same &= p[i] == "0123456789abcdef"[i];
	elog(LOG, "gm: guc_realloc grows to 1 MB keeping its contents %d", same);
	p[(1 << 20) - 1] = 'x';
	guc_free(p);
	guc_free(q);
	guc_free(NULL);
	elog(LOG, "gm: guc_free(NULL) returns");

	CATCH("guc_malloc(LOG, MaxAllocSize + 1)", p = guc_malloc(LOG, MaxAllocSize + 1));
	CATCH("guc_realloc(LOG, NULL, MaxAllocSize + 1)", p = guc_realloc(LOG, NULL, MaxAllocSize + 1));
	q = guc_malloc(ERROR, 8);
	CATCH("guc_realloc(LOG, p, MaxAllocSize + 1)", p = guc_realloc(LOG, q, MaxAllocSize + 1));
	guc_free(q);
	CATCH("guc_malloc(LOG, MaxAllocSize)", guc_free(guc_malloc(LOG, MaxAllocSize)));

	elog(LOG, "gm: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("gm.scale", "an int whose check hook makes an extra", NULL,
							&gm_scale, 1, 0, 1000, PGC_SIGHUP, 0,
							gm_scale_check, gm_scale_assign, NULL);
	DefineCustomStringVariable("gm.name", "a string its check hook upper-cases", NULL,
							   &gm_name, "boot", PGC_SIGHUP, 0,
							   gm_name_check, NULL, NULL);

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "gm_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "gm_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "gm worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "gm worker");
	RegisterBackgroundWorker(&w);
}

#else							/* PG_VERSION_NUM < 170000 */

/* Before 16 guc.c's allocation functions are static: nothing to run (the
 * file still compiles with 15's headers, as tests/c_warnings.rs checks). */
void		_PG_init(void);

void
_PG_init(void)
{
}

#endif
