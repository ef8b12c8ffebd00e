/*
 * bad_magic.h
 *		The body of a test module whose magic block, in PostgreSQL 15's
 *		56-byte form, carries the version BAD_MAGIC_VERSION instead of the
 *		one of the headers it is built with (PG_MODULE_MAGIC would stamp
 *		15). A supervisor must refuse such a module before its _PG_init
 *		runs.
 *
 * Define before including it:
 *	 BAD_MAGIC_VERSION	the version in the block (PG_VERSION_NUM / 100)
 *	 BAD_MAGIC_TAG		the module's tag, e.g. magic16: _PG_init prints
 *						"marker: <tag> _PG_init pid=<pid>" on stderr and
 *						registers a worker "bad_<tag>_worker" of library
 *						"bad_<tag>" with entry point <tag>_main; neither may
 *						ever happen.
 *
 * As in every PostgreSQL module, the including .c file includes
 * "postgres.h" first.
 */
#include "fmgr.h"
#include "postmaster/bgworker.h"

#undef snprintf
#undef vsnprintf

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAD_MAGIC_STR2(x) #x
#define BAD_MAGIC_STR(x) BAD_MAGIC_STR2(x)
#define BAD_MAGIC_CAT2(a, b) a##b
#define BAD_MAGIC_CAT(a, b) BAD_MAGIC_CAT2(a, b)
#define BAD_MAGIC_MAIN BAD_MAGIC_CAT(BAD_MAGIC_TAG, _main)

extern PGDLLEXPORT const Pg_magic_struct *Pg_magic_func(void);

const Pg_magic_struct *
Pg_magic_func(void)
{
	static const Pg_magic_struct data = {
		sizeof(Pg_magic_struct),
		BAD_MAGIC_VERSION,
		FUNC_MAX_ARGS,
		INDEX_MAX_KEYS,
		NAMEDATALEN,
		FLOAT8PASSBYVAL,
		FMGR_ABI_EXTRA,
	};

	return &data;
}

void		_PG_init(void);
PGDLLEXPORT void BAD_MAGIC_MAIN(Datum main_arg);

void
BAD_MAGIC_MAIN(Datum main_arg)
{
	(void) main_arg;
}

void
_PG_init(void)
{
	char		buf[128];
	int			n;
	BackgroundWorker w;

	n = snprintf(buf, sizeof(buf), "marker: %s _PG_init pid=%d\n",
				 BAD_MAGIC_STR(BAD_MAGIC_TAG), (int) getpid());
	if (n > 0 && write(2, buf, (size_t) n) < 0)
		return;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "bad_%s_worker", BAD_MAGIC_STR(BAD_MAGIC_TAG));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "bad_%s", BAD_MAGIC_STR(BAD_MAGIC_TAG));
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s_main", BAD_MAGIC_STR(BAD_MAGIC_TAG));
	RegisterBackgroundWorker(&w);
}
