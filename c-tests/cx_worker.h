/*
 * cx_worker.h -- the one static worker a module (c-tests/compat/ and the
 * comparison modules beside it)
 * registers from _PG_init when preloaded: shared memory access, started
 * once recovery has finished, never restarted. Included by one module
 * each; `library` is the module's own file name.
 */
#ifndef CX_WORKER_H
#define CX_WORKER_H

#include "postmaster/bgworker.h"

static void
cx_register_worker(const char *library, const char *function, const char *name,
				   const char *type)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "%s", library);
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	RegisterBackgroundWorker(&worker);
}

#endif
