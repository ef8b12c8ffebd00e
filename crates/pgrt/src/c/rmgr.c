/*
 * rmgr.c -- RegisterCustomRmgr (access/xlog_internal.h), a registration:
 * _PG_init of a module with its own WAL records registers a custom
 * resource manager. There is no WAL here, so its callbacks never run, but
 * the registration is PostgreSQL 15's (also 17's and 18's): the same
 * checks and errors (a name, an ID between RM_MIN_CUSTOM_ID and
 * RM_MAX_CUSTOM_ID, only while shared_preload_libraries load, no second
 * registration of an ID, no name already taken, case-insensitively,
 * by a built-in or a custom resource manager), the record copied into
 * RmgrTable[rmid] (the runtime's storage of PostgreSQL's variable, so
 * GetRmgr and RmgrIdExists, inline in modules, see it as in PostgreSQL),
 * and PostgreSQL's LOG line.
 *
 * Called from _PG_init in the supervisor (single-threaded); a worker's
 * call fails as outside preloading in PostgreSQL.
 */
#include "pgcompat.h"

#include <string.h>

#define RM_MAX_ID 255
#define RM_MIN_CUSTOM_ID 128
#define RM_MAX_CUSTOM_ID 255

/* The start of RmgrData: the name, then the callbacks (64 bytes in all). */
typedef struct BgwRmgrData
{
	const char *rm_name;
	void	   *callbacks[7];
} BgwRmgrData;

_Static_assert(sizeof(BgwRmgrData) == 64, "RmgrData is 64 bytes on LP64");

extern BgwRmgrData RmgrTable[RM_MAX_ID + 1];
extern int	pg_strcasecmp(const char *s1, const char *s2);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errdetail(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errhint(const char *fmt,...) BGW_FMT(1, 2);
extern bool process_shared_preload_libraries_in_progress;

/*
 * PostgreSQL's built-in resource managers, by ID (access/rmgrlist.h, the
 * same in 15, 17 and 18; a unit test of rmgr.rs compares this list with
 * the real header). Their entries of RmgrTable stay zero here (the real ones
 * hold addresses inside postgres), so their names are checked from here.
 */
static const char *const builtin_rmgr_names[] = {
	"XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace",
	"MultiXact", "RelMap", "Standby", "Heap2", "Heap", "Btree", "Hash",
	"Gin", "Gist", "Sequence", "SPGist", "BRIN", "CommitTs",
	"ReplicationOrigin", "Generic", "LogicalMessage",
};

#define N_BUILTIN ((int) (sizeof(builtin_rmgr_names) / sizeof(builtin_rmgr_names[0])))

/* bgw_rmgr_builtin_names: the list above, for the test that checks it. */
const char *const *bgw_rmgr_builtin_names(int *n);

const char *const *
bgw_rmgr_builtin_names(int *n)
{
	*n = N_BUILTIN;
	return builtin_rmgr_names;
}

static const char *
rmgr_name(int rmid)
{
	if (rmid < N_BUILTIN)
		return builtin_rmgr_names[rmid];
	return RmgrTable[rmid].rm_name;
}

void
bgw_c_RegisterCustomRmgr(uint8_t rmid, const BgwRmgrData *rmgr)
{
	if (rmgr->rm_name == NULL || strlen(rmgr->rm_name) == 0)
		bgw_ereport(ERROR, (bgw_c_errmsg("custom resource manager name is invalid"),
							bgw_c_errhint("Provide a non-empty name for the custom resource manager.")));
	if (rmid < RM_MIN_CUSTOM_ID)
		bgw_ereport(ERROR, (bgw_c_errmsg("custom resource manager ID %d is out of range", rmid),
							bgw_c_errhint("Provide a custom resource manager ID between %d and %d.",
										  RM_MIN_CUSTOM_ID, RM_MAX_CUSTOM_ID)));
	if (!process_shared_preload_libraries_in_progress)
		bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom resource manager \"%s\" with ID %d",
										 rmgr->rm_name, rmid),
							bgw_c_errdetail("Custom resource manager must be registered while initializing modules in shared_preload_libraries.")));
	if (RmgrTable[rmid].rm_name != NULL)
		bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom resource manager \"%s\" with ID %d",
										 rmgr->rm_name, rmid),
							bgw_c_errdetail("Custom resource manager \"%s\" already registered with the same ID.",
											RmgrTable[rmid].rm_name)));
	for (int existing = 0; existing <= RM_MAX_ID; existing++)
	{
		const char *name = rmgr_name(existing);

		if (name != NULL && pg_strcasecmp(name, rmgr->rm_name) == 0)
			bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom resource manager \"%s\" with ID %d",
											 rmgr->rm_name, rmid),
								bgw_c_errdetail("Existing resource manager with ID %d has the same name.", existing)));
	}
	RmgrTable[rmid] = *rmgr;
	bgw_ereport(LOG, bgw_c_errmsg("registered custom resource manager \"%s\" with ID %d",
								  rmgr->rm_name, rmid));
}
