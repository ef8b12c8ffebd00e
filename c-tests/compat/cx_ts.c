/*
 * cx_ts.c -- the timestamp helpers modules call without a database:
 * Unix time conversions, comparison, Julian days, and timestamptz_to_str
 * in UTC and in zones with whole-hour, half-hour and daylight-saving
 * offsets, the special values, BC dates and the out-of-range text.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxt_main(Datum main_arg);

static const TimestampTz values[] = {
	0, 1234567, -1, INT64CONST(86400000000), INT64CONST(-946684800000000),
	INT64CONST(1733475133250000), INT64CONST(1752000000000000),
	INT64CONST(-63200000000000000), INT64CONST(9000000000000000000),
	INT64CONST(-211813488000000000), DT_NOBEGIN, DT_NOEND,
};

static void
show_all(const char *zone)
{
	SetConfigOption("TimeZone", zone, PGC_USERSET, PGC_S_SESSION);
	for (int i = 0; i < (int) lengthof(values); i++)
		elog(LOG, "cxt %s %lld: %s", zone, (long long) values[i], timestamptz_to_str(values[i]));
}

void
cxt_main(Datum main_arg)
{
	int			y,
				m,
				d;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxt to time_t: %lld %lld %lld",
		 (long long) timestamptz_to_time_t(0), (long long) timestamptz_to_time_t(-1),
		 (long long) timestamptz_to_time_t(INT64CONST(1733475133999999)));
	elog(LOG, "cxt from time_t: %lld %lld",
		 (long long) time_t_to_timestamptz(0), (long long) time_t_to_timestamptz(1733475133));
	elog(LOG, "cxt cmp: %d %d %d", timestamp_cmp_internal(1, 2),
		 timestamp_cmp_internal(2, 2), timestamp_cmp_internal(DT_NOEND, 0));
	elog(LOG, "cxt date2j: %d %d %d %d", date2j(2000, 1, 1), date2j(1970, 1, 1),
		 date2j(-4713, 11, 24), date2j(2024, 2, 29));
	for (int jd = 0; jd < 5000000; jd += 123457)
	{
		j2date(jd, &y, &m, &d);
		if (date2j(y, m, d) != jd)
			elog(LOG, "cxt j2date/date2j disagree at %d", jd);
	}
	j2date(2451545, &y, &m, &d);
	elog(LOG, "cxt j2date 2451545: %d-%d-%d", y, m, d);
	j2date(0, &y, &m, &d);
	elog(LOG, "cxt j2date 0: %d-%d-%d", y, m, d);
	show_all("UTC");
	show_all("Asia/Kolkata");
	show_all("America/St_Johns");
	elog(LOG, "cxt done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_ts", "cxt_main", "cxt worker", "cxt");
}
