/*
 * bad_magic_len.c
 *		A module whose magic block says PostgreSQL 18 in PostgreSQL 15's and
 *		17's 56-byte form (18's is 72 bytes; see bad_magic.h). A supervisor
 *		serving 18 must refuse it as a magic block mismatch, before its
 *		_PG_init runs, and read nothing of it past its version.
 */
#include "postgres.h"

#define BAD_MAGIC_VERSION 1800
#define BAD_MAGIC_TAG magic_len
#include "bad_magic.h"
