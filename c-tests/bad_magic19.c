/*
 * bad_magic19.c
 *		A module whose magic block, in PostgreSQL 18's form (72 bytes: len,
 *		then the ABI fields, then PG_MODULE_MAGIC_EXT's name and version
 *		pointers), claims it was built for PostgreSQL 19, a major this
 *		library does not serve. Pg_magic_func and the block are written out
 *		by hand (PG_MODULE_MAGIC would stamp the version of the headers), so
 *		the file builds against any major's headers. A supervisor must refuse
 *		to load it, before its _PG_init runs.
 *
 * _PG_init prints "marker: magic19 _PG_init pid=<pid>" on stderr; it may
 * never happen.
 */
#include "postgres.h"
#include "fmgr.h"

#undef snprintf

#include <stdio.h>
#include <unistd.h>

/* PostgreSQL 18's Pg_magic_struct (fmgr.h), field for field. */
typedef struct
{
	int			len;
	int			version;
	int			funcmaxargs;
	int			indexmaxkeys;
	int			namedatalen;
	int			float8byval;
	char		abi_extra[32];
	const char *name;
	const char *module_version;
} Magic18;

extern PGDLLEXPORT const Magic18 *Pg_magic_func(void);

const Magic18 *
Pg_magic_func(void)
{
	static const Magic18 data = {
		sizeof(Magic18),		/* 72 */
		1900,					/* PostgreSQL 19 */
		FUNC_MAX_ARGS,
		INDEX_MAX_KEYS,
		NAMEDATALEN,
		FLOAT8PASSBYVAL,
		"PostgreSQL",
		"bad_magic19",
		"1.0",
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
