/*
 * timestamp.c -- the timestamp helpers modules call without a database
 * (utils/timestamp.h, utils/datetime.h), written from their documented
 * behaviour (PostgreSQL's timestamp.c and datetime.c are not copied):
 *
 * - timestamptz_to_time_t / time_t_to_timestamptz: microseconds since
 *   2000-01-01 00:00 UTC to and from Unix seconds (truncating).
 * - timestamp_cmp_internal: -1, 0 or 1.
 * - date2j / j2date: the Julian day number of a proleptic Gregorian date
 *   (astronomical years: 0 is 1 BC) and back, for Julian days from 0.
 * - timestamptz_to_str: the ISO form PostgreSQL's log and messages use,
 *   "YYYY-MM-DD HH:MM:SS[.ffffff]+TZ" (trailing zeros of the fraction
 *   dropped, " BC" for years before 1, the offset as +HH, +HH:MM or
 *   +HH:MM:SS), "infinity" / "-infinity" for the special values and
 *   "(timestamp out of range)" outside Julian days 0 .. INT_MAX (UTC), in the
 *   session's zone (session_timezone, through pg_localtime). The result is
 *   a static buffer, valid until the next call.
 *
 * One thread per process, as module code is.
 */
#include "pgcompat.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t TimestampTz;

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define SECS_PER_DAY 86400
#define POSTGRES_EPOCH_JDATE 2451545	/* 2000-01-01 */
#define UNIX_EPOCH_JDATE 2440588	/* 1970-01-01 */
#define DT_NOBEGIN INT64_MIN
#define DT_NOEND INT64_MAX

/* The time zone library (pgtz/): pgtime.h's struct pg_tm. */
struct bgw_tz_fields
{
	int			tm_sec,
				tm_min,
				tm_hour,
				tm_mday,
				tm_mon,
				tm_year,
				tm_wday,
				tm_yday,
				tm_isdst;
	long		tm_gmtoff;
	const char *tm_zone;
};
typedef struct bgw_pg_tz bgw_pg_tz;
extern struct bgw_tz_fields *bgw_rs_pg_localtime(const int64_t *timep, const bgw_pg_tz *tz);
extern bgw_pg_tz *bgw_rs_session_timezone(void);

int64_t
bgw_c_timestamptz_to_time_t(TimestampTz t)
{
	return t / USECS_PER_SEC +
		(int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

TimestampTz
bgw_c_time_t_to_timestamptz(int64_t tm)
{
	return (tm - (int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
		USECS_PER_SEC;
}

int
bgw_c_timestamp_cmp_internal(int64_t dt1, int64_t dt2)
{
	return dt1 < dt2 ? -1 : dt1 > dt2 ? 1 : 0;
}

/* Julian day number of a Gregorian date (astronomical year). */
int
bgw_c_date2j(int year, int month, int day)
{
	int64_t		a = (14 - month) / 12;
	int64_t		y = (int64_t) year + 4800 - a;
	int64_t		m = month + 12 * a - 3;

	return (int) (day + (153 * m + 2) / 5 + 365 * y + y / 4 - y / 100 + y / 400 - 32045);
}

/* The Gregorian date of Julian day jd (from a little below 0). */
void
bgw_c_j2date(int jd, int *year, int *month, int *day)
{
	int64_t		j = jd;
	int64_t		f = j + 1401 + (((4 * j + 274277) / 146097) * 3) / 4 - 38;
	int64_t		e = 4 * f + 3;
	int64_t		g = (e % 1461) / 4;
	int64_t		h = 5 * g + 2;

	*day = (int) ((h % 153) / 5 + 1);
	*month = (int) (((h / 153 + 2) % 12) + 1);
	*year = (int) (e / 1461 - 4716 + (12 + 2 - *month) / 12);
}

/*
 * Seconds east of UTC in the session's zone (session_timezone, which the
 * TimeZone setting keeps) at Unix time t, as pg_localtime gives it; 0 for
 * a year it cannot place.
 */
static long
zone_offset(int64_t t)
{
	struct bgw_tz_fields *lt = bgw_rs_pg_localtime(&t, bgw_rs_session_timezone());

	return lt ? lt->tm_gmtoff : 0;
}

static char *
put_num(char *p, int64_t v, int width)
{
	char		digits[24];
	int			n = 0;

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

const char *
bgw_c_timestamptz_to_str(TimestampTz t)
{
	static char buf[128];
	int64_t		date,
				time,
				local,
				usec;
	long		off;
	int			year,
				month,
				day;
	char	   *p = buf;

	if (t == DT_NOBEGIN)
		return strcpy(buf, "-infinity");
	if (t == DT_NOEND)
		return strcpy(buf, "infinity");
	/* The zone's offset at that second (whole seconds). */
	off = zone_offset(t / USECS_PER_SEC - (t % USECS_PER_SEC < 0 ? 1 : 0) +
					  (int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
	/* The range is the UTC date's: Julian days 0 .. INT_MAX. */
	date = t / USECS_PER_DAY - (t % USECS_PER_DAY < 0 ? 1 : 0) + POSTGRES_EPOCH_JDATE;
	if (date < 0 || date > INT_MAX)
		return strcpy(buf, "(timestamp out of range)");
	if ((off > 0 && t > INT64_MAX - off * USECS_PER_SEC) ||
		(off < 0 && t < INT64_MIN - off * USECS_PER_SEC))
		return strcpy(buf, "(timestamp out of range)");
	local = t + (int64_t) off * USECS_PER_SEC;
	date = local / USECS_PER_DAY;
	time = local - date * USECS_PER_DAY;
	if (time < 0)
	{
		time += USECS_PER_DAY;
		date -= 1;
	}
	date += POSTGRES_EPOCH_JDATE;
	bgw_c_j2date((int) date, &year, &month, &day);
	usec = time % USECS_PER_SEC;
	time /= USECS_PER_SEC;
	p = put_num(p, year > 0 ? year : -(year - 1), 4);
	*p++ = '-';
	p = put_num(p, month, 2);
	*p++ = '-';
	p = put_num(p, day, 2);
	*p++ = ' ';
	p = put_num(p, time / 3600, 2);
	*p++ = ':';
	p = put_num(p, (time / 60) % 60, 2);
	*p++ = ':';
	p = put_num(p, time % 60, 2);
	if (usec != 0)
	{
		*p++ = '.';
		p = put_num(p, usec, 6);
		while (p[-1] == '0')
			p--;
	}
	{
		long		a = off < 0 ? -off : off;

		*p++ = off >= 0 ? '+' : '-';
		p = put_num(p, a / 3600, 2);
		if (a % 60 != 0)
		{
			*p++ = ':';
			p = put_num(p, (a / 60) % 60, 2);
			*p++ = ':';
			p = put_num(p, a % 60, 2);
		}
		else if ((a / 60) % 60 != 0)
		{
			*p++ = ':';
			p = put_num(p, (a / 60) % 60, 2);
		}
	}
	if (year <= 0)
	{
		memcpy(p, " BC", 3);
		p += 3;
	}
	*p = '\0';
	return buf;
}
