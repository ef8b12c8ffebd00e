/*
 * nd_module.c -- named dynamic shared memory segments (GetNamedDSMSegment,
 * storage/dsm_registry.h, 17 and later), as autoprewarm uses them, run the
 * same way under bgworkerd and under a real PostgreSQL server
 * (tests/dsm_registry_postgresql.rs compares the "nd:" lines).
 *
 * A worker gets a segment by name twice (created and initialized by the
 * first call only, the same memory the second time), tries the calls
 * PostgreSQL refuses (an empty name, a name of 64 bytes, size 0), then
 * starts a second worker, which finds the segment by name, reads what the
 * first wrote and adds one; the first waits for that, and last asks for the
 * segment with another size.
 */
#include "postgres.h"

#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#endif
#include "storage/ipc.h"
#include "utils/memutils.h"

#include "tagged_catch.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM >= 170000

void		_PG_init(void);
PGDLLEXPORT void nd_main(Datum arg);
PGDLLEXPORT void nd_reader(Datum arg);

typedef struct NdState
{
	int			inits;
	int			value;
} NdState;

static int	init_calls = 0;

static void
nd_init(void *ptr)
{
	NdState    *s = ptr;

	init_calls++;
	s->inits++;
	s->value = 4242;
}

#define CATCH(what, stmt) TAGGED_CATCH("nd", what, stmt)

void
nd_reader(Datum arg)
{
	bool		found = false;
	NdState    *s = GetNamedDSMSegment("nd_state", sizeof(NdState), nd_init, &found);

	(void) arg;
	elog(LOG, "nd: reader: found %d inits %d value %d init calls here %d",
		 found, s->inits, s->value, init_calls);
	s->value++;
	proc_exit(0);
}

void
nd_main(Datum arg)
{
	bool		found = true;
	NdState    *a;
	NdState    *b;
	char		longname[65];
	BackgroundWorker w;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	a = GetNamedDSMSegment("nd_state", sizeof(NdState), nd_init, &found);
	elog(LOG, "nd: first: found %d inits %d value %d init calls %d",
		 found, a->inits, a->value, init_calls);
	b = GetNamedDSMSegment("nd_state", sizeof(NdState), nd_init, &found);
	elog(LOG, "nd: second: found %d same memory %d init calls %d",
		 found, a == b, init_calls);
	b = GetNamedDSMSegment("nd_other", 8192, NULL, &found);
	elog(LOG, "nd: other without callback: found %d zeroed %d", found,
		 ((char *) b)[0] == 0 && ((char *) b)[8191] == 0);

	CATCH("empty name", GetNamedDSMSegment("", 16, NULL, &found));
	memset(longname, 'x', 64);
	longname[64] = '\0';
	CATCH("64-byte name", GetNamedDSMSegment(longname, 16, NULL, &found));
	longname[63] = '\0';
	CATCH("63-byte name", GetNamedDSMSegment(longname, 16, NULL, &found));
	CATCH("size 0", GetNamedDSMSegment("nd_zero", 0, NULL, &found));

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nd_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nd_reader");
	snprintf(w.bgw_name, BGW_MAXLEN, "nd reader");
	snprintf(w.bgw_type, BGW_MAXLEN, "nd reader");
	if (!RegisterDynamicBackgroundWorker(&w, NULL))
		elog(ERROR, "nd: could not register the reader");
	/* The reader adds one when it has read the segment (60 s at most). */
	for (int i = 0; i < 6000 && ((volatile NdState *) a)->value == 4242; i++)
		pg_usleep(10000L);
	elog(LOG, "nd: after the reader: value %d", a->value);
	/* Last: PostgreSQL raises this one with the registry's lock held. */
	CATCH("another size", GetNamedDSMSegment("nd_state", sizeof(NdState) + 1, nd_init, &found));
	elog(LOG, "nd: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "nd_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "nd_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "nd worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "nd worker");
	RegisterBackgroundWorker(&w);
}

#else							/* PG_VERSION_NUM < 170000 */

/* Before 17 there is no DSM registry: nothing to run (the file still
 * compiles with 15's headers, as tests/c_warnings.rs checks). */
void		_PG_init(void);

void
_PG_init(void)
{
}

#endif
