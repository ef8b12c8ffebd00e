/*
 * bad_magic14.c
 *		A module whose magic block claims it was built for PostgreSQL 14
 *		(see bad_magic.h): a supervisor must refuse to load it, before its
 *		_PG_init runs.
 */
#include "postgres.h"

#define BAD_MAGIC_VERSION 1400
#define BAD_MAGIC_TAG magic14
#include "bad_magic.h"
