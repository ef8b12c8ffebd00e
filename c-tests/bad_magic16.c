/*
 * bad_magic16.c
 *		A module whose magic block claims it was built for PostgreSQL 16, a
 *		major this library does not serve:
 *		Pg_magic_func is written out by hand (PG_MODULE_MAGIC would stamp
 *		the version of the headers, 15) with version 1400. A supervisor
 *		must refuse to load it, before its _PG_init runs.
 *
 * _PG_init prints "marker: magic16 _PG_init pid=<pid>" on stderr and
 * registers a worker "bad_magic16_worker"; neither may ever happen.
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#undef snprintf
#undef vsnprintf

#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern PGDLLEXPORT const Pg_magic_struct *Pg_magic_func(void);

const Pg_magic_struct *
Pg_magic_func(void)
{
	static const Pg_magic_struct data = {
		sizeof(Pg_magic_struct),
		1600,					/* PostgreSQL 16 (a major this library does not serve) */
		FUNC_MAX_ARGS,
		INDEX_MAX_KEYS,
		NAMEDATALEN,
		FLOAT8PASSBYVAL,
		FMGR_ABI_EXTRA,
	};

	return &data;
}

void		_PG_init(void);
PGDLLEXPORT void magic16_main(Datum main_arg);

void
magic16_main(Datum main_arg)
{
	(void) main_arg;
}

void
_PG_init(void)
{
	char		buf[128];
	int			n;
	BackgroundWorker w;

	n = snprintf(buf, sizeof(buf), "marker: magic16 _PG_init pid=%d\n", (int) getpid());
	if (n > 0 && write(2, buf, (size_t) n) < 0)
		return;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "bad_magic16_worker");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "bad_magic16");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "magic16_main");
	RegisterBackgroundWorker(&w);
}
