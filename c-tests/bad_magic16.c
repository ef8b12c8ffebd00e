/*
 * bad_magic16.c
 *		A module whose magic block claims it was built for PostgreSQL 16, a
 *		major this library does not serve (see bad_magic.h): a supervisor
 *		must refuse to load it, before its _PG_init runs.
 */
#include "postgres.h"

#define BAD_MAGIC_VERSION 1600
#define BAD_MAGIC_TAG magic16
#include "bad_magic.h"
