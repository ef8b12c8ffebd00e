/*
 * mj_bgwh_module.c
 *		A module written against include/bgworker.h alone (no PostgreSQL
 *		headers, no magic block), compiled with -DBGW_PG_MAJOR=N or without
 *		it (15's layout). Its _PG_init registers the static worker
 *		"mj bgwh", whose entry point prints what MyBgworkerEntry holds in
 *		the module's own layout:
 *			marker: mj bgwh major=N size=S name="…" library="…" function="…" extra="…"
 *		then returns. Whatever the daemon's major, the header's per-layout
 *		names give the module its own layout.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bgworker.h"

void		_PG_init(void);
void		mj_bgwh_main(Datum main_arg);

void
mj_bgwh_main(Datum main_arg)
{
	char		buf[512];
	int			n;

	(void) main_arg;
	n = snprintf(buf, sizeof(buf),
				 "marker: mj bgwh major=%d size=%zu name=\"%s\" library=\"%s\" function=\"%s\" extra=\"%s\"\n",
				 BGW_PG_MAJOR, sizeof(BackgroundWorker), MyBgworkerEntry->bgw_name,
				 MyBgworkerEntry->bgw_library_name, MyBgworkerEntry->bgw_function_name,
				 MyBgworkerEntry->bgw_extra);
	if (n > 0 && write(2, buf, (size_t) n) < 0)
		return;
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "mj bgwh");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "mj_bgwh_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "mj_bgwh_main");
	snprintf(w.bgw_extra, BGW_EXTRALEN, "extra of the bgworker.h module");
	RegisterBackgroundWorker(&w);
}
