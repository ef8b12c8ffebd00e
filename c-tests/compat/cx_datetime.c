/*
 * cx_datetime.c -- timestamp2tm and EncodeDateTime in every DateStyle, in
 * three time zones (whole hours, half hours, and a zone's local mean time
 * in 1800 with its offset in seconds), with fractions, BC dates and the
 * range's edge; GetSQLCurrentTimestamp outside a transaction.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxd_main(Datum main_arg);

static const int64 stamps[] = {
	0,
	INT64CONST(205335045123450),	/* 2006-07-04 13:30:45.12345 UTC */
	INT64CONST(-31536000000001),	/* 1999-01-01, a microsecond before */
	INT64CONST(-6311433600000000),	/* 1799-12-31 00:00 UTC */
	INT64CONST(-63198633600000000), /* 3 BC */
	INT64CONST(-211813488000000000) - 1,	/* before Julian day 0 */
};

static void
one(const char *zone, int64 t)
{
	struct pg_tm tm;
	fsec_t		fsec = 0;
	int			tz = 0;
	const char *tzn = NULL;
	int			r;
	char		iso[MAXDATELEN + 1],
				sql[MAXDATELEN + 1],
				pgs[MAXDATELEN + 1],
				ger[MAXDATELEN + 1],
				xsd[MAXDATELEN + 1],
				num[MAXDATELEN + 1],
				utc[MAXDATELEN + 1];

	memset(&tm, 0, sizeof(tm));
	r = timestamp2tm(t, &tz, &tm, &fsec, &tzn, NULL);
	if (r != 0)
	{
		elog(LOG, "cxd %s " INT64_FORMAT ": r=%d", zone, t, r);
		return;
	}
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_ISO_DATES, iso);
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_SQL_DATES, sql);
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_POSTGRES_DATES, pgs);
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_GERMAN_DATES, ger);
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_XSD_DATES, xsd);
	EncodeDateTime(&tm, fsec, true, tz, NULL, USE_POSTGRES_DATES, num);
	elog(LOG, "cxd %s " INT64_FORMAT ": r=%d tz=%d tzn=%s isdst=%d gmtoff=%ld fsec=%d "
		 "ymd=%d-%d-%d hms=%d:%d:%d | %s | %s | %s | %s | %s | %s",
		 zone, t, r, tz, tzn ? tzn : "(null)", tm.tm_isdst, tm.tm_gmtoff, fsec,
		 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 iso, sql, pgs, ger, xsd, num);
	memset(&tm, 0, sizeof(tm));
	r = timestamp2tm(t, NULL, &tm, &fsec, &tzn, NULL);
	EncodeDateTime(&tm, fsec, true, 3600, "XYZ", USE_SQL_DATES, utc);
	elog(LOG, "cxd %s " INT64_FORMAT " no zone: r=%d isdst=%d tzn=%s | %s",
		 zone, t, r, tm.tm_isdst, tzn ? tzn : "(null)", utc);
}

void
cxd_main(Datum main_arg)
{
	static const char *const zones[] = {"UTC", "America/New_York", "Asia/Kolkata"};
	int			z;
	int			i;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	for (z = 0; z < 3; z++)
	{
		SetConfigOption("TimeZone", zones[z], PGC_USERSET, PGC_S_SESSION);
		for (i = 0; i < (int) lengthof(stamps); i++)
			one(zones[z], stamps[i]);
	}
	elog(LOG, "cxd now: " INT64_FORMAT " " INT64_FORMAT,
		 GetSQLCurrentTimestamp(-1), GetSQLCurrentTimestamp(3));
	PG_TRY();
	{
		(void) GetSQLCurrentTimestamp(7);
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxd caught: %s", e->message);
	}
	PG_END_TRY();
	elog(LOG, "cxd done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_datetime", "cxd_main", "cxd worker", "cxd");
}
