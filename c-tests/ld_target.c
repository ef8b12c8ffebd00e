/*
 * ld_target.c -- a library another module loads by "$libdir/ld_target"
 * (tests/libdir.rs): one function, no _PG_init of its own work.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

PGDLLEXPORT const char *ld_target_word(void);

const char *
ld_target_word(void)
{
	return "found through dynamic_library_path";
}
