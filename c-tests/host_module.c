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

#include "lc_common.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void host_mod_main(Datum main_arg);

void
host_mod_main(Datum main_arg)
{
	lc_out("marker: start name=%s type=%s pid=%d ppid=%d arg=%lu",
		   MyBgworkerEntry ? MyBgworkerEntry->bgw_name : "(null)",
		   MyBgworkerEntry ? MyBgworkerEntry->bgw_type : "(null)",
		   (int) getpid(), (int) getppid(), (unsigned long) main_arg);
	BackgroundWorkerUnblockSignals();
	lc_out("marker: ready name=host_mod_worker pid=%d", (int) getpid());
	for (;;)
		lc_sleep_ms(50);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	lc_out("marker: host_module _PG_init pid=%d", (int) getpid());
	lc_fill_worker(&w, "host_mod_worker", "host_mod_type",
				   lc_so_path((void *) &host_mod_main, "host_module"),
				   "host_mod_main", "");
	w.bgw_main_arg = (Datum) 77;
	RegisterBackgroundWorker(&w);
}
