/*
 * cx_pgtz.c -- PostgreSQL's time zone library from a worker: zones by name
 * (odd case, bad names, POSIX strings, fixed offsets), local and UT fields
 * and pg_strftime around DST transitions and far from now (1800, 1900,
 * 2100, 2400), DST boundaries and abbreviations, timestamp2tm in a given
 * zone; the TimeZone / log_timezone hooks called directly, through
 * SetConfigOption, as hooks of a setting of the module's own (as orafce
 * defines one), and the zones the configuration sets at start and after
 * a reload (SIGHUP). Every line starts "cxz ".
 */
#include "postgres.h"

#if PG_VERSION_NUM >= 160000
#include "utils/guc_hooks.h"
#else
#include "commands/variable.h"
#endif
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "pgtime.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "cx_worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxz_main(Datum main_arg);

static char *cxz_zone;

#define S(y) ((pg_time_t) (y))

static const char *const zones[] = {
	"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
	"Australia/Lord_Howe", "eUROPE/bERLIN", "Etc/GMT+5", "GMT", "EST5EDT",
	"<+0530>-05:30", "foo3bar,M10.1.0/2,M3.5.0/3",
};

static const pg_time_t times[] = {
	S(-5364662400),				/* 1800-01-01 00:00 UT */
	S(-2208988800),				/* 1900-01-01 */
	S(-2193350400),				/* 1900-07-01 */
	S(0),
	S(1616893199), S(1616893200),	/* Berlin 2021-03-28 01:00 UT */
	S(1615705199), S(1615705200),	/* New York 2021-03-14 07:00 UT */
	S(1636264799), S(1636264800),	/* New York 2021-11-07 06:00 UT */
	S(1617458399), S(1617458400),	/* Lord Howe 2021-04-03 15:00 UT */
	S(1633186799), S(1633186800),	/* Lord Howe 2021-10-02 15:30 UT */
	S(4118083200),				/* 2100-07-01 */
	S(13569465600),				/* 2400-01-01 */
	S(13585190400),				/* 2400-07-01 */
	S(253402300799),			/* 9999-12-31 23:59:59 */
};

static const char *
str(const char *s)
{
	return s ? s : "(null)";
}

static void
fields(const char *what, struct pg_tm *tm)
{
	char		buf[200];
	size_t		n;

	if (tm == NULL)
	{
		elog(LOG, "cxz %s: NULL", what);
		return;
	}
	n = pg_strftime(buf, sizeof(buf),
					"%Y-%m-%d %H:%M:%S %Z %z|%a %A %b %B %e %j %U %W %V %G %g %u %w %C %y|%c|%D %F %R %r %T %x %X %k %l %p %%%Q%E", tm);
	elog(LOG, "cxz %s: %d-%d-%d %d:%d:%d wday=%d yday=%d isdst=%d gmtoff=%ld zone=%s | %zu %s",
		 what, tm->tm_year, tm->tm_mon, tm->tm_mday, tm->tm_hour, tm->tm_min,
		 tm->tm_sec, tm->tm_wday, tm->tm_yday, tm->tm_isdst, tm->tm_gmtoff,
		 str(tm->tm_zone), n, buf);
}

static void
one_zone(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);
	long		off = 12345;
	bool		fixed;
	int			i;

	if (tz == NULL)
	{
		elog(LOG, "cxz zone %s: NULL", name);
		return;
	}
	fixed = pg_get_timezone_offset(tz, &off);
	elog(LOG, "cxz zone %s: name=%s acceptable=%d fixed=%d off=%ld same=%d",
		 name, pg_get_timezone_name(tz), pg_tz_acceptable(tz), fixed,
		 fixed ? off : 0, tz == pg_tzset(name));
	for (i = 0; i < (int) lengthof(times); i++)
	{
		char		what[128];
		long		bg = 0,
					ag = 0;
		int			bd = 0,
					ad = 0,
					r;
		pg_time_t	boundary = 0;

		snprintf(what, sizeof(what), "%s " INT64_FORMAT, name, (int64) times[i]);
		fields(what, pg_localtime(&times[i], tz));
		r = pg_next_dst_boundary(&times[i], &bg, &bd, &boundary, &ag, &ad, tz);
		elog(LOG, "cxz %s next: r=%d before=%ld/%d boundary=" INT64_FORMAT " after=%ld/%d",
			 what, r, bg, bd, r == 1 ? (int64) boundary : (int64) 0,
			 r == 1 ? ag : 0, r == 1 ? ad : 0);
	}
}

static void
abbrev(const char *a, pg_time_t t, const char *zone)
{
	long		off = 0;
	int			isdst = 0;
	bool		ok = pg_interpret_timezone_abbrev(a, &t, &off, &isdst, pg_tzset(zone));

	elog(LOG, "cxz abbrev %s at " INT64_FORMAT " in %s: %d %ld %d",
		 a, (int64) t, zone, ok, ok ? off : 0, ok ? isdst : 0);
#if PG_VERSION_NUM >= 180000
	{
		bool		fixed = false;

		off = 0;
		isdst = 0;
		ok = pg_timezone_abbrev_is_known(a, &fixed, &off, &isdst, pg_tzset(zone));
		elog(LOG, "cxz abbrev %s known in %s: %d fixed=%d %ld %d",
			 a, zone, ok, ok ? fixed : 0, ok ? off : 0, ok ? isdst : 0);
	}
#endif
}

/* A check hook called directly, as a module's own check hook may. */
static void
check(const char *which, const char *value)
{
	char	   *v = strdup(value);
	void	   *extra = NULL;
	bool		ok;

	GUC_check_errmsg_string = NULL;
	GUC_check_errdetail_string = NULL;
	GUC_check_errhint_string = NULL;
	if (strcmp(which, "log") == 0)
		ok = check_log_timezone(&v, &extra, PGC_S_SESSION);
	else
		ok = check_timezone(&v, &extra, PGC_S_SESSION);
	elog(LOG, "cxz check_%stimezone(%s): %d extra=%s zone=%s msg=%s detail=%s hint=%s",
		 strcmp(which, "log") == 0 ? "log_" : "", value, ok,
		 extra ? "set" : "NULL",
		 extra ? str(pg_get_timezone_name(*(pg_tz **) extra)) : "-",
		 str(GUC_check_errmsg_string), str(GUC_check_errdetail_string),
		 str(GUC_check_errhint_string));
	free(v);
	/* extra is left alone: malloc'd in 15, in GUC's memory context later. */
}

/* SetConfigOption of `name`, its ERROR caught. */
static void
set(const char *name, const char *value)
{
	MemoryContext mcxt = CurrentMemoryContext;

	PG_TRY();
	{
		SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION);
		elog(LOG, "cxz set %s=%s: ok", name, value);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(mcxt);
		e = CopyErrorData();
		FlushErrorState();
		elog(LOG, "cxz set %s=%s: %s | %s | %s", name, value, e->message,
			 str(e->detail), str(e->hint));
		FreeErrorData(e);
	}
	PG_END_TRY();
}

static void
session(const char *when)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;
	const char *tzn = NULL;
	char		buf[MAXDATELEN + 1];

	memset(&tm, 0, sizeof(tm));
	/* 2021-07-01 12:00:00 UT */
	timestamp2tm(INT64CONST(678369600000000), &tz, &tm, &fsec, &tzn, NULL);
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_ISO_DATES, buf);
	elog(LOG, "cxz %s: TimeZone=%s show=%s session=%s log=%s show_log=%s cxz.zone=%s | %s %s",
		 when, str(GetConfigOption("TimeZone", false, false)), show_timezone(),
		 str(pg_get_timezone_name(session_timezone)),
		 str(pg_get_timezone_name(log_timezone)), show_log_timezone(),
		 str(cxz_zone), buf, str(tzn));
}

static void
at_zone(const char *zone, int64 t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;
	const char *tzn = NULL;
	char		buf[MAXDATELEN + 1];
	int			r;

	memset(&tm, 0, sizeof(tm));
	r = timestamp2tm(t, &tz, &tm, &fsec, &tzn, pg_tzset(zone));
	EncodeDateTime(&tm, fsec, true, tz, tzn, USE_ISO_DATES, buf);
	elog(LOG, "cxz timestamp2tm " INT64_FORMAT " at %s: r=%d tz=%d tzn=%s isdst=%d | %s | %s",
		 t, zone, r, tz, str(tzn), tm.tm_isdst, buf, timestamptz_to_str(t));
}

void
cxz_main(Datum main_arg)
{
	static const char *const bad[] = {
		"No/Such_Zone", "", "Europe", "../../etc/passwd", "/etc/localtime",
		":Europe/Berlin", ":nonsense", "Europe//Berlin", "EST", "foo", "5",
		"<+05", "FOO168", "FOO167", "A\001B5",
	};
	static const char *const values[] = {
		"Europe/Berlin", "america/NEW_york", "5", "-3.5", "+5.25", " 7", "1e1",
		"200", "-167", "167.9", "UTC", "No/Such_Zone", "right/UTC", "",
		"<+03>-3", "Etc/GMT-14",
	};
	pg_time_t	t;
	int			i;

	(void) main_arg;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	session("start");

	for (i = 0; i < (int) lengthof(zones); i++)
		one_zone(zones[i]);
	for (i = 0; i < (int) lengthof(bad); i++)
		elog(LOG, "cxz bad %s: %s", bad[i], pg_tzset(bad[i]) ? "found" : "NULL");
	{
		static const long offs[] = {0, -18000, 18000, 19800, -34200, 3723, 601200, 603000, -604800};

		for (i = 0; i < (int) lengthof(offs); i++)
		{
			pg_tz	   *tz = pg_tzset_offset(offs[i]);
			char		what[64];

			snprintf(what, sizeof(what), "offset %ld", offs[i]);
			if (tz == NULL)
			{
				elog(LOG, "cxz %s: NULL", what);
				continue;
			}
			t = 1625140800;
			elog(LOG, "cxz %s: %s", what, pg_get_timezone_name(tz));
			fields(what, pg_localtime(&t, tz));
		}
	}
	for (i = 0; i < (int) lengthof(times); i++)
	{
		char		what[64];

		snprintf(what, sizeof(what), "gmtime " INT64_FORMAT, (int64) times[i]);
		fields(what, pg_gmtime(&times[i]));
	}
	abbrev("CEST", S(1625140800), "Europe/Berlin");
	abbrev("CET", S(-2208988800), "Europe/Berlin");
	abbrev("LMT", S(1625140800), "America/New_York");
	abbrev("EWT", S(0), "America/New_York");
	abbrev("EDT", S(-5364662400), "America/New_York");
	abbrev("IST", S(1625140800), "Asia/Kolkata");
	abbrev("+11", S(1625140800), "Australia/Lord_Howe");
	abbrev("XYZ", S(0), "Europe/Berlin");
	abbrev("BAR", S(0), "foo3bar,M10.1.0/2,M3.5.0/3");
	abbrev("EST", S(0), "America/New_York");
	abbrev("IST", S(0), "Europe/Dublin");

	for (i = 0; i < (int) lengthof(values); i++)
	{
		check("", values[i]);
		check("log", values[i]);
	}
	check("", "interval '+05:00'");
	for (i = 0; i < (int) lengthof(values); i++)
	{
		set("TimeZone", values[i]);
		session(values[i]);
		set("log_timezone", values[i]);
		session(values[i]);
	}
	set("TimeZone", NULL);
	set("log_timezone", NULL);
	session("reset");

	/* A setting of the module's own with the hooks (orafce's way). */
	DefineCustomStringVariable("cxz.zone", "zone", NULL, &cxz_zone, "GMT",
							   PGC_USERSET, 0, check_timezone, NULL, show_timezone);
	set("cxz.zone", "europe/berlin");
	set("cxz.zone", "Not/AZone");
	set("cxz.zone", "300");
	session("cxz.zone");

	at_zone("Australia/Lord_Howe", INT64CONST(678369600000000));
	at_zone("America/New_York", INT64CONST(-3155673600000000));	/* 1900 */
	at_zone("Asia/Kolkata", INT64CONST(12624667200000000));	/* 2400 */
	at_zone("<+0530>-05:30", INT64CONST(0));

	elog(LOG, "cxz waiting for reload");
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			break;
		}
	}
	session("reloaded");
	elog(LOG, "cxz done");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("cx_pgtz", "cxz_main", "cxz worker", "cxz");
}
