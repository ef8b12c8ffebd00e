/*
 * bad_magic19.c
 *		A module whose magic block, in PostgreSQL 18's form (72 bytes, with
 *		PG_MODULE_MAGIC_EXT's name and version), claims it was built for
 *		PostgreSQL 19, a major this library does not serve. Built against
 *		18's headers; Pg_magic_func is written out by hand with version 1900.
 *		A supervisor must refuse to load it, before its _PG_init runs.
 *
 * _PG_init prints "marker: magic19 _PG_init pid=<pid>" on stderr; it may
 * never happen.
 */
#include "postgres.h"
#include "fmgr.h"

#include <stdio.h>
#include <unistd.h>

#undef snprintf

extern PGDLLEXPORT const Pg_magic_struct *Pg_magic_func(void);

const Pg_magic_struct *
Pg_magic_func(void)
{
	static const Pg_magic_struct data = {
		.len = sizeof(Pg_magic_struct),
		.abi_fields = {
			1900,				/* PostgreSQL 19 */
			FUNC_MAX_ARGS,
			INDEX_MAX_KEYS,
			NAMEDATALEN,
			FLOAT8PASSBYVAL,
			FMGR_ABI_EXTRA,
		},
		.name = "bad_magic19",
		.version = "1.0",
	};

	return &data;
}

void		_PG_init(void);

void
_PG_init(void)
{
	char		buf[128];
	int			n;

	n = snprintf(buf, sizeof(buf), "marker: magic19 _PG_init pid=%d\n", (int) getpid());
	if (n > 0 && write(2, buf, (size_t) n) < 0)
		return;
}
