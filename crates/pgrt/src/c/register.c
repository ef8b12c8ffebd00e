/*
 * register.c -- add_reloption_kind, the one registration call that can
 * raise ERROR (PostgreSQL 15's limit on user-defined relation option
 * kinds). The kind it returns is PostgreSQL's: the next bit after
 * RELOPT_KIND_LAST_DEFAULT, so a module that compares kinds sees the same
 * numbers. No relation ever gets options here, so nothing reads the kind.
 * Called from _PG_init in the supervisor (single-threaded).
 */
#include "pgcompat.h"

#define RELOPT_KIND_LAST_DEFAULT (1 << 11)
#define RELOPT_KIND_MAX (1 << 30)

static uint32_t last_assigned_kind = RELOPT_KIND_LAST_DEFAULT;

int
bgw_c_add_reloption_kind(void)
{
	/* don't hand out the last bit, as PostgreSQL */
	if (last_assigned_kind >= RELOPT_KIND_MAX)
		bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							bgw_c_errmsg_internal("user-defined relation parameter types limit exceeded")));
	last_assigned_kind <<= 1;
	bgw_ereport(DEBUG1, bgw_c_errmsg_internal("add_reloption_kind: kind %u accepted; relations and their options need the database server",
											   last_assigned_kind));
	return (int) last_assigned_kind;
}
