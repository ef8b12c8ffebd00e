/*
 * datetime.c -- breaking a timestamp into fields and printing them, as
 * modules do for their own messages without a database (utils/datetime.h,
 * utils/timestamp.h), written from PostgreSQL's documented behaviour (its
 * datetime.c and timestamp.c are not copied):
 *
 * - timestamp2tm(dt, tzp, tm, fsec, tzn, attimezone): 0, or -1 outside
 *   Julian days 0 .. INT_MAX. tm_mon counts from 1 and tm_year is the
 *   astronomical year (0 is 1 BC); fsec the microseconds. Without tzp the
 *   fields are UTC's and tm_isdst is -1; with it they are local time in
 *   the zone attimezone (a pg_tz from pg_tzset), or when that is NULL the
 *   session's (session_timezone, which the TimeZone setting keeps), as
 *   pg_localtime gives it (pgtz/); *tzp is the offset in seconds WEST of
 *   UTC, tm_zone and *tzn the zone's abbreviation (valid for the life of
 *   the process). A year pg_localtime cannot place: UTC and no zone.
 *   tm_wday and tm_yday are left as they were, as in PostgreSQL.
 * - EncodeDateTime(tm, fsec, print_tz, tz, tzn, style, str): the text of
 *   the DateStyle `style` (ISO, SQL, Postgres, German, XSD) into str (at
 *   least MAXDATELEN + 1 bytes), day/month order from DateOrder, fractional
 *   seconds with trailing zeros dropped, the zone as a numeric offset (ISO,
 *   XSD, or where no abbreviation is given) or the abbreviation, " BC"
 *   for years before 1; no zone when tm_isdst < 0.
 * - GetSQLCurrentTimestamp(typmod): the start time of the current
 *   transaction, as PostgreSQL's CURRENT_TIMESTAMP. A process here never
 *   starts one, and PostgreSQL's background worker without a connection
 *   never does either: its transaction start time is still 0 (2000-01-01
 *   00:00:00 UTC). typmod outside -1 .. 6 is PostgreSQL's ERROR.
 */
#include "pgcompat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bgw_pg_tm
{
	int			tm_sec;
	int			tm_min;
	int			tm_hour;
	int			tm_mday;
	int			tm_mon;
	int			tm_year;
	int			tm_wday;
	int			tm_yday;
	int			tm_isdst;
	long		tm_gmtoff;
	const char *tm_zone;
};

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define SECS_PER_DAY 86400
#define POSTGRES_EPOCH_JDATE 2451545
#define UNIX_EPOCH_JDATE 2440588
#define MAXTZLEN 10

#define USE_POSTGRES_DATES 0
#define USE_ISO_DATES 1
#define USE_SQL_DATES 2
#define USE_GERMAN_DATES 3
#define USE_XSD_DATES 4
#define DATEORDER_DMY 1

/* PostgreSQL's variables (storage the runtime exports). */
extern int	DateOrder;

/* The time zone library (pgtz/). */
typedef struct bgw_pg_tz bgw_pg_tz;
extern struct bgw_pg_tm *bgw_rs_pg_localtime(const int64_t *timep, const bgw_pg_tz *tz);
extern bgw_pg_tz *bgw_rs_session_timezone(void);

extern void bgw_c_j2date(int jd, int *year, int *month, int *day);
extern int	bgw_c_date2j(int year, int month, int day);
extern void bgw_rs_datetime_error(int kind, int value);

int
bgw_c_timestamp2tm(int64_t dt, int *tzp, struct bgw_pg_tm *tm, int32_t *fsec,
				   const char **tzn, void *attimezone)
{
	int64_t		date,
				time,
				secs;
	struct bgw_pg_tm *lt;

	date = dt / USECS_PER_DAY;
	time = dt - date * USECS_PER_DAY;
	if (time < 0)
	{
		time += USECS_PER_DAY;
		date -= 1;
	}
	date += POSTGRES_EPOCH_JDATE;
	if (date < 0 || date > INT_MAX)
		return -1;
	bgw_c_j2date((int) date, &tm->tm_year, &tm->tm_mon, &tm->tm_mday);
	tm->tm_hour = (int) (time / (3600 * USECS_PER_SEC));
	tm->tm_min = (int) (time / (60 * USECS_PER_SEC) % 60);
	tm->tm_sec = (int) (time / USECS_PER_SEC % 60);
	*fsec = (int32_t) (time % USECS_PER_SEC);
	if (tzp == NULL)
	{
		tm->tm_isdst = -1;
		tm->tm_gmtoff = 0;
		tm->tm_zone = NULL;
		if (tzn)
			*tzn = NULL;
		return 0;
	}
	/* Whole seconds since the Unix epoch (dt - fsec divides exactly). */
	secs = (dt - *fsec) / USECS_PER_SEC +
		(int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	lt = bgw_rs_pg_localtime(&secs, attimezone ? (const bgw_pg_tz *) attimezone
					  : bgw_rs_session_timezone());
	if (lt != NULL)
	{
		tm->tm_year = lt->tm_year + 1900;
		tm->tm_mon = lt->tm_mon + 1;
		tm->tm_mday = lt->tm_mday;
		tm->tm_hour = lt->tm_hour;
		tm->tm_min = lt->tm_min;
		tm->tm_sec = lt->tm_sec;
		tm->tm_isdst = lt->tm_isdst;
		tm->tm_gmtoff = lt->tm_gmtoff;
		tm->tm_zone = lt->tm_zone;
		*tzp = (int) -lt->tm_gmtoff;
		if (tzn)
			*tzn = tm->tm_zone;
	}
	else
	{
		*tzp = 0;
		tm->tm_isdst = -1;
		tm->tm_gmtoff = 0;
		tm->tm_zone = NULL;
		if (tzn)
			*tzn = NULL;
	}
	return 0;
}

/* v as at least `width` decimal digits. */
static char *
zero_pad(char *p, long v, int width)
{
	char		digits[24];
	int			n = 0;

	if (v < 0)
	{
		*p++ = '-';
		v = -v;
	}
	do
	{
		digits[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n < width)
		digits[n++] = '0';
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Seconds, and the fraction without trailing zeros. */
static char *
put_seconds(char *p, int sec, int32_t fsec)
{
	p = zero_pad(p, sec, 2);
	if (fsec != 0)
	{
		long		f = fsec < 0 ? -(long) fsec : fsec;

		*p++ = '.';
		p = zero_pad(p, f, 6);
		while (p[-1] == '0')
			p--;
	}
	return p;
}

/* The offset tz (seconds west of UTC) as +HH, +HH:MM or +HH:MM:SS. */
static char *
put_zone(char *p, int tz, int style)
{
	int			s = abs(tz);
	int			hour = s / 3600,
				min = s / 60 % 60,
				sec = s % 60;

	*p++ = tz <= 0 ? '+' : '-';
	p = zero_pad(p, hour, 2);
	if (sec != 0)
	{
		*p++ = ':';
		p = zero_pad(p, min, 2);
		*p++ = ':';
		p = zero_pad(p, sec, 2);
	}
	else if (min != 0 || style == USE_XSD_DATES)
	{
		*p++ = ':';
		p = zero_pad(p, min, 2);
	}
	return p;
}

static char *
put_time(char *p, const struct bgw_pg_tm *tm, int32_t fsec)
{
	p = zero_pad(p, tm->tm_hour, 2);
	*p++ = ':';
	p = zero_pad(p, tm->tm_min, 2);
	*p++ = ':';
	return put_seconds(p, tm->tm_sec, fsec);
}

/* The zone after SQL, German and Postgres styles: name, else offset. */
static char *
put_named_zone(char *p, int tz, const char *tzn, int style, bool space)
{
	if (tzn)
		return p + sprintf(p, " %.*s", MAXTZLEN, tzn);
	if (space)
		*p++ = ' ';
	return put_zone(p, tz, style);
}

void
bgw_c_EncodeDateTime(struct bgw_pg_tm *tm, int32_t fsec, bool print_tz, int tz,
					 const char *tzn, int style, char *str)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char	   *p = str;
	long		year = tm->tm_year > 0 ? tm->tm_year : -((long) tm->tm_year - 1);

	if (tm->tm_isdst < 0)
		print_tz = false;
	switch (style)
	{
		case USE_ISO_DATES:
		case USE_XSD_DATES:
			p = zero_pad(p, year, 4);
			*p++ = '-';
			p = zero_pad(p, tm->tm_mon, 2);
			*p++ = '-';
			p = zero_pad(p, tm->tm_mday, 2);
			*p++ = style == USE_ISO_DATES ? ' ' : 'T';
			p = put_time(p, tm, fsec);
			if (print_tz)
				p = put_zone(p, tz, style);
			break;
		case USE_SQL_DATES:
			if (DateOrder == DATEORDER_DMY)
			{
				p = zero_pad(p, tm->tm_mday, 2);
				*p++ = '/';
				p = zero_pad(p, tm->tm_mon, 2);
			}
			else
			{
				p = zero_pad(p, tm->tm_mon, 2);
				*p++ = '/';
				p = zero_pad(p, tm->tm_mday, 2);
			}
			*p++ = '/';
			p = zero_pad(p, year, 4);
			*p++ = ' ';
			p = put_time(p, tm, fsec);
			if (print_tz)
				p = put_named_zone(p, tz, tzn, style, false);
			break;
		case USE_GERMAN_DATES:
			p = zero_pad(p, tm->tm_mday, 2);
			*p++ = '.';
			p = zero_pad(p, tm->tm_mon, 2);
			*p++ = '.';
			p = zero_pad(p, year, 4);
			*p++ = ' ';
			p = put_time(p, tm, fsec);
			if (print_tz)
				p = put_named_zone(p, tz, tzn, style, false);
			break;
		case USE_POSTGRES_DATES:
		default:
			{
				/* Julian day 0 was a Monday. */
				int			wday = (bgw_c_date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) + 1) % 7;

				if (wday < 0)
					wday += 7;
				tm->tm_wday = wday;
				memcpy(p, days[wday], 3);
				p += 3;
				*p++ = ' ';
				if (DateOrder == DATEORDER_DMY)
				{
					p = zero_pad(p, tm->tm_mday, 2);
					*p++ = ' ';
					memcpy(p, months[tm->tm_mon - 1], 3);
					p += 3;
				}
				else
				{
					memcpy(p, months[tm->tm_mon - 1], 3);
					p += 3;
					*p++ = ' ';
					p = zero_pad(p, tm->tm_mday, 2);
				}
				*p++ = ' ';
				p = put_time(p, tm, fsec);
				*p++ = ' ';
				p = zero_pad(p, year, 4);
				if (print_tz)
					p = put_named_zone(p, tz, tzn, style, true);
			}
			break;
	}
	if (tm->tm_year <= 0)
	{
		memcpy(p, " BC", 3);
		p += 3;
	}
	*p = '\0';
}

int64_t
bgw_c_GetSQLCurrentTimestamp(int32_t typmod)
{
	if (typmod < -1 || typmod > 6)
	{
		bgw_rs_datetime_error(2, typmod);
		bgw_c_raise_pending();
	}
	return 0;
}

int
bgw_c_timestamp2tm_raising(int64_t dt, int *tzp, struct bgw_pg_tm *tm, int32_t *fsec,
						   const char **tzn, void *attimezone)
{
	int			r = bgw_c_timestamp2tm(dt, tzp, tm, fsec, tzn, attimezone);

	bgw_c_raise_pending();
	return r;
}
