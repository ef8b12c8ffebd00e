/*
 * bad_magic_len.c
 *		A module whose magic block says PostgreSQL 18 in PostgreSQL 15's and
 *		17's 56-byte form (18's is 72 bytes): Pg_magic_func is written out by
 *		hand, built against 15's headers. A supervisor serving 18 must
 *		refuse it as a magic block mismatch, before its _PG_init runs, and
 *		read nothing of it past its version.
 *
 * _PG_init prints "marker: magic_len _PG_init pid=<pid>" on stderr and
 * registers a worker "bad_magic_len_worker"; neither may ever happen.
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
		1800,					/* PostgreSQL 18, in a 56-byte block */
		FUNC_MAX_ARGS,
		INDEX_MAX_KEYS,
		NAMEDATALEN,
		FLOAT8PASSBYVAL,
		FMGR_ABI_EXTRA,
	};

	return &data;
}

void		_PG_init(void);
PGDLLEXPORT void magic_len_main(Datum main_arg);

void
magic_len_main(Datum main_arg)
{
	(void) main_arg;
}

void
_PG_init(void)
{
	char		buf[128];
	int			n;
	BackgroundWorker w;

	n = snprintf(buf, sizeof(buf), "marker: magic_len _PG_init pid=%d\n", (int) getpid());
	if (n > 0 && write(2, buf, (size_t) n) < 0)
		return;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "bad_magic_len_worker");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "bad_magic_len");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "magic_len_main");
	RegisterBackgroundWorker(&w);
}
