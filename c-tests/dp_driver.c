/*
 * dp_driver.c -- runs PostgreSQL's own test_shm_mq (src/test/modules/
 * test_shm_mq, built unchanged with PGXS) under bgworkerd: a static worker
 * that loads test_shm_mq.so and calls its SQL functions test_shm_mq() and
 * test_shm_mq_pipelined() with a real FunctionCallInfo, once per case, the
 * way the executor calls them for SELECT test_shm_mq(...).
 *
 * Environment: DP_TEST_SHM_MQ, the path of test_shm_mq.so; DP_CASES, cases
 * separated by ';', each "FUNCTION QUEUE_SIZE MESSAGE_LENGTH LOOPS WORKERS"
 * (FUNCTION is mq or pipelined). Message i of length L is the text
 * chr(32 + (7 * k + L) % 95) for k = 0 .. L-1, which tests/dataplane_postgresql.rs
 * builds in SQL for the real server.
 *
 * Each case runs under its own resource owner, as a statement does; an
 * ERROR is caught and the owner released as an abort releases it (the
 * segment is detached, and test_shm_mq's on-detach callback terminates its
 * workers). Logs "case N: ok" or "case N: ERROR: <message>", then
 * "dp_driver: done".
 */
#include "postgres.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void dp_driver_main(Datum arg);

static text *
case_message(int len)
{
	text	   *t = palloc(VARHDRSZ + len);
	char	   *d = VARDATA(t);

	SET_VARSIZE(t, VARHDRSZ + len);
	for (int k = 0; k < len; k++)
		d[k] = (char) (32 + (7 * k + len) % 95);
	return t;
}

static void
run_case(int n, PGFunction mq, PGFunction pipelined, const char *spec)
{
	char		fn[32];
	long long	queue_size;
	int			len,
				loops,
				workers;
	ResourceOwner owner;
	MemoryContext cx = CurrentMemoryContext;

	if (sscanf(spec, " %31s %lld %d %d %d", fn, &queue_size, &len, &loops, &workers) != 5)
	{
		elog(LOG, "case %d: bad case \"%s\"", n, spec);
		return;
	}
	owner = ResourceOwnerCreate(NULL, "dp_driver case");
	CurrentResourceOwner = owner;
	PG_TRY();
	{
		LOCAL_FCINFO(fcinfo, 5);
		bool		is_pipelined = strcmp(fn, "pipelined") == 0;

		InitFunctionCallInfoData(*fcinfo, NULL, is_pipelined ? 5 : 4, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = Int64GetDatum(queue_size);
		fcinfo->args[1].value = PointerGetDatum(case_message(len));
		fcinfo->args[2].value = Int32GetDatum(loops);
		fcinfo->args[3].value = Int32GetDatum(workers);
		fcinfo->args[4].value = BoolGetDatum(true);
		for (int i = 0; i < 5; i++)
			fcinfo->args[i].isnull = false;
		(void) (is_pipelined ? pipelined : mq) (fcinfo);
		elog(LOG, "case %d: ok", n);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cx);
		e = CopyErrorData();
		FlushErrorState();
		elog(LOG, "case %d: ERROR: %s", n, e->message);
		FreeErrorData(e);
		ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, false, true);
	}
	PG_END_TRY();
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
}

void
dp_driver_main(Datum arg)
{
	const char *lib = getenv("DP_TEST_SHM_MQ");
	const char *cases = getenv("DP_CASES");
	void	   *h;
	PGFunction	mq,
				pipelined;
	char	   *list,
			   *save = NULL;
	int			n = 0;

	(void) arg;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (lib == NULL || cases == NULL)
		elog(FATAL, "DP_TEST_SHM_MQ and DP_CASES must be set");
	h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
	if (h == NULL)
		elog(FATAL, "could not load \"%s\": %s", lib, dlerror());
	mq = (PGFunction) dlsym(h, "test_shm_mq");
	pipelined = (PGFunction) dlsym(h, "test_shm_mq_pipelined");
	if (mq == NULL || pipelined == NULL)
		elog(FATAL, "test_shm_mq functions not found in \"%s\"", lib);
	list = pstrdup(cases);
	for (char *c = strtok_r(list, ";", &save); c; c = strtok_r(NULL, ";", &save))
		run_case(++n, mq, pipelined, c);
	elog(LOG, "dp_driver: done");
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "dp_driver");
	snprintf(w.bgw_function_name, sizeof(w.bgw_function_name), "dp_driver_main");
	snprintf(w.bgw_name, sizeof(w.bgw_name), "dp_driver");
	snprintf(w.bgw_type, sizeof(w.bgw_type), "dp_driver");
	RegisterBackgroundWorker(&w);
}
