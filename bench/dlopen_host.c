/*
 * dlopen_host.c
 *		A plain C host linked with libbgworker: times dlopen(RTLD_NOW) of the
 *		modules named on the command line (see bench/dlopen.sh).
 *
 * Usage: dlopen_host ITERATIONS [--global LIB] NAME=MODULE.so ...
 *	 --global LIB is opened first with RTLD_NOW | RTLD_GLOBAL, so its symbols
 *	 join the global lookup scope after libbgworker's.
 * Output: one line per module, "dlopen NAME min_us=.. median_us=..
 * p90_us=.. mean_us=.. n=..", or "dlopen NAME error=...". Exit status 1 if a
 * module could not be measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bgworker.h>

#include "dlopen_measure.h"

int
main(int argc, char **argv)
{
	int			iterations;
	int			i = 2;
	int			failed = 0;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s ITERATIONS [--global LIB] NAME=MODULE.so ...\n", argv[0]);
		return 2;
	}
	iterations = atoi(argv[1]);
	/* libbgworker is linked on purpose: its exports are the lookup scope. */
	(void) bgw_last_error();
	if (strcmp(argv[i], "--global") == 0 && i + 1 < argc)
	{
		if (dlopen(argv[i + 1], RTLD_NOW | RTLD_GLOBAL) == NULL)
		{
			fprintf(stderr, "dlopen %s: %s\n", argv[i + 1], dlerror());
			return 1;
		}
		i += 2;
	}
	for (; i < argc; i++)
	{
		char	   *eq = strchr(argv[i], '=');
		dlopen_stats st;

		if (eq == NULL)
		{
			fprintf(stderr, "not NAME=MODULE.so: %s\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (dlopen_measure(eq + 1, iterations, &st) == 0)
			printf("dlopen %s min_us=%.1f median_us=%.1f p90_us=%.1f mean_us=%.1f n=%d\n",
				   argv[i], st.min_us, st.median_us, st.p90_us, st.mean_us, st.n);
		else
		{
			printf("dlopen %s error=%s\n", argv[i], st.error);
			failed = 1;
		}
	}
	return failed;
}
