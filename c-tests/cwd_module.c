/*
 * cwd_module.c -- a module whose worker writes a file by a relative name,
 * as autoprewarm writes "autoprewarm.blocks": under PostgreSQL it lands in
 * the data directory, under bgworkerd in the run directory
 * (tests/rundir_cwd.rs).
 */
#include "postgres.h"

#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cwd_main(Datum arg);

void
cwd_main(Datum arg)
{
	char		dir[1024];
	FILE	   *f;

	(void) arg;
	f = AllocateFile("cwd_probe", "w");
	if (f == NULL)
		elog(ERROR, "cwd: could not write cwd_probe: %m");
	fputs("probe\n", f);
	FreeFile(f);
	elog(LOG, "cwd: wrote cwd_probe in %s", getcwd(dir, sizeof(dir)) ? dir : "?");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cwd_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cwd_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "cwd worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "cwd worker");
	RegisterBackgroundWorker(&w);
}
