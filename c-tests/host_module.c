/*
 * host_module.c
 *		A PostgreSQL 15-style module that an embedding host loads with
 *		bgw_host_load_library(): its _PG_init prints
 *			marker: host_module _PG_init pid=<pid>
 *		and registers one static worker, "host_mod_worker", whose entry
 *		point host_mod_main (in this file) prints
 *			marker: start name=host_mod_worker ... pid=<pid> ppid=<ppid>
 *		unblocks signals, prints "marker: ready name=host_mod_worker" and
 *		waits until it is told to stop (default SIGTERM handling).
 */
#include "postgres.h"
#include "fmgr.h"
#include "postmaster/bgworker.h"

#undef snprintf
#undef vsnprintf

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void host_mod_main(Datum main_arg);

static void
say(const char *text)
{
	if (write(2, text, strlen(text)) < 0)
		return;
}

void
host_mod_main(Datum main_arg)
{
	char		buf[256];

	snprintf(buf, sizeof(buf), "marker: start name=%s type=%s pid=%d ppid=%d arg=%lu\n",
			 MyBgworkerEntry ? MyBgworkerEntry->bgw_name : "(null)",
			 MyBgworkerEntry ? MyBgworkerEntry->bgw_type : "(null)",
			 (int) getpid(), (int) getppid(), (unsigned long) main_arg);
	say(buf);
	BackgroundWorkerUnblockSignals();
	snprintf(buf, sizeof(buf), "marker: ready name=host_mod_worker pid=%d\n", (int) getpid());
	say(buf);
	for (;;)
	{
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

void
_PG_init(void)
{
	BackgroundWorker w;
	Dl_info		info;
	char		buf[128];

	snprintf(buf, sizeof(buf), "marker: host_module _PG_init pid=%d\n", (int) getpid());
	say(buf);

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "host_mod_worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "host_mod_type");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	if (dladdr((void *) &host_mod_main, &info) != 0 && info.dli_fname != NULL)
		snprintf(w.bgw_library_name, BGW_MAXLEN, "%s", info.dli_fname);
	else
		snprintf(w.bgw_library_name, BGW_MAXLEN, "host_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "host_mod_main");
	w.bgw_main_arg = (Datum) 77;
	RegisterBackgroundWorker(&w);
}
