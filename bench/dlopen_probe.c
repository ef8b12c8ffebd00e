/*
 * dlopen_probe.c
 *		Times dlopen(RTLD_NOW) of modules inside bgworkerd, where modules are
 *		really loaded: preloaded (shared_preload_libraries), its _PG_init runs
 *		in the supervisor and measures the modules named by the environment,
 *		logging one LOG line per module (see bench/dlopen.sh).
 *
 * Environment: BGW_DLOPEN_ITERATIONS, BGW_DLOPEN_MODULES ("NAME=PATH ..."),
 * BGW_DLOPEN_GLOBAL (optional library opened first with RTLD_GLOBAL).
 * Log: "dlopen NAME min_us=.. median_us=.. p90_us=.. mean_us=.. n=.." or
 * "dlopen NAME error=...". Nothing is registered; no worker is started.
 */
#include "postgres.h"

#include "fmgr.h"

/* port.h maps these to pg_* implementations; the measurement uses libc's */
#undef snprintf
#undef printf
#undef qsort

#include "dlopen_measure.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	const char *it = getenv("BGW_DLOPEN_ITERATIONS");
	const char *mods = getenv("BGW_DLOPEN_MODULES");
	const char *global = getenv("BGW_DLOPEN_GLOBAL");
	char		list[8192];
	char	   *save = NULL;
	char	   *tok;

	if (it == NULL || mods == NULL || strlen(mods) >= sizeof(list))
	{
		elog(LOG, "dlopen probe: BGW_DLOPEN_ITERATIONS or BGW_DLOPEN_MODULES not set (or too long)");
		return;
	}
	if (global != NULL && global[0] != '\0' && dlopen(global, RTLD_NOW | RTLD_GLOBAL) == NULL)
	{
		elog(LOG, "dlopen probe: %s: %s", global, dlerror());
		return;
	}
	strcpy(list, mods);
	for (tok = strtok_r(list, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
	{
		char	   *eq = strchr(tok, '=');
		dlopen_stats st;

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (dlopen_measure(eq + 1, atoi(it), &st) == 0)
			elog(LOG, "dlopen %s min_us=%.1f median_us=%.1f p90_us=%.1f mean_us=%.1f n=%d",
				 tok, st.min_us, st.median_us, st.p90_us, st.mean_us, st.n);
		else
			elog(LOG, "dlopen %s error=%s", tok, st.error);
	}
}
