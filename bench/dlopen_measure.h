/*
 * dlopen_measure.h
 *		Time dlopen(RTLD_NOW) of modules, shared by the plain C host
 *		(dlopen_host.c, linked with libbgworker) and the module that measures
 *		inside bgworkerd (dlopen_probe.c).
 *
 * dlopen_measure(path, iterations, stats) opens the module with
 * RTLD_NOW | RTLD_LOCAL, closes it, checks with RTLD_NOLOAD that it was
 * really unloaded (so the next open relocates it again), and repeats;
 * stats gets the minimum, median, 90th percentile and mean in microseconds.
 * Returns 0, or -1 with the failure text in stats->error (dlerror()'s, or
 * "still loaded after dlclose").
 *
 * Single-threaded callers only (dlerror() state, the static sample buffer).
 */
#ifndef DLOPEN_MEASURE_H
#define DLOPEN_MEASURE_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DLOPEN_MEASURE_MAX 10000

typedef struct dlopen_stats
{
	double		min_us;
	double		median_us;
	double		p90_us;
	double		mean_us;
	int			n;
	char		error[512];
} dlopen_stats;

static double dlopen_measure_samples[DLOPEN_MEASURE_MAX];

static int
dlopen_measure_cmp(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static int
dlopen_measure(const char *path, int iterations, dlopen_stats *stats)
{
	double		sum = 0;
	int			i;

	memset(stats, 0, sizeof(*stats));
	if (iterations < 1 || iterations > DLOPEN_MEASURE_MAX)
	{
		snprintf(stats->error, sizeof(stats->error), "iterations must be 1..%d", DLOPEN_MEASURE_MAX);
		return -1;
	}
	for (i = 0; i < iterations; i++)
	{
		struct timespec t0,
					t1;
		void	   *h;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (h == NULL)
		{
			const char *e = dlerror();

			snprintf(stats->error, sizeof(stats->error), "%s", e ? e : "dlopen failed");
			return -1;
		}
		dlclose(h);
		if (dlopen(path, RTLD_NOW | RTLD_NOLOAD) != NULL)
		{
			snprintf(stats->error, sizeof(stats->error), "%s still loaded after dlclose", path);
			return -1;
		}
		dlopen_measure_samples[i] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
		sum += dlopen_measure_samples[i];
	}
	qsort(dlopen_measure_samples, iterations, sizeof(double), dlopen_measure_cmp);
	stats->n = iterations;
	stats->min_us = dlopen_measure_samples[0];
	stats->median_us = dlopen_measure_samples[iterations / 2];
	stats->p90_us = dlopen_measure_samples[(iterations * 9) / 10];
	stats->mean_us = sum / iterations;
	return 0;
}

#endif							/* DLOPEN_MEASURE_H */
