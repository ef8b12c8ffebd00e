/*
 * preload.c -- two calls that _PG_init of preloaded modules makes and that
 * need no database, with PostgreSQL 15's semantics (also 17's and 18's):
 *
 * EnableQueryId (nodes/queryjumble.c; pg_stat_statements): a module asks
 * for query identifiers; with compute_query_id = auto (its boot value)
 * they are then computed, which IsQueryIdEnabled() reports.
 *
 * pg_bindtextdomain (utils/init/miscinit.c; plpgsql, plpgsql_check): binds
 * a module's message catalogue domain to the locale directory next to the
 * server's executable, which PostgreSQL derives from my_exec_path; with no
 * executable path known (my_exec_path empty, as in bgworkerd) it does
 * nothing, as PostgreSQL's. PostgreSQL then binds the domain's codeset to
 * the database encoding, which for a process without a database is
 * SQL_ASCII, for which it binds none; so neither is done here.
 *
 * Both are called from _PG_init in the supervisor or from a worker; each
 * process has its own state (single-threaded module code).
 */
#include "pgcompat.h"

#include <libintl.h>

/* PostgreSQL's MAXPGPATH. */
#define BGW_MAXPGPATH 1024

/* utils/queryjumble.h: ComputeQueryIdType. */
#define COMPUTE_QUERY_ID_OFF 0

/* The runtime's storage of PostgreSQL's variables of these names. */
extern int	compute_query_id;
extern bool query_id_enabled;
extern char my_exec_path[BGW_MAXPGPATH];

/* libpgport's (linked in, PostgreSQL's own code). */
extern void get_locale_path(const char *my_exec_path, char *ret_path);

void
bgw_c_EnableQueryId(void)
{
	if (compute_query_id != COMPUTE_QUERY_ID_OFF)
		query_id_enabled = true;
}

void
bgw_c_pg_bindtextdomain(const char *domain)
{
	if (my_exec_path[0] != '\0')
	{
		char		locale_path[BGW_MAXPGPATH];

		get_locale_path(my_exec_path, locale_path);
		bindtextdomain(domain, locale_path);
	}
}
