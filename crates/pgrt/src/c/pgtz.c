/*
 * pgtz.c -- C wrappers of the time zone library's exports (pgtime.h) and
 * of the TimeZone / log_timezone hooks (commands/variable.h), whose bodies
 * are Rust (pgtz/, guc/timezone.rs, bgw_rs_NAME, each inside the runtime's
 * panic boundary): each calls its body and then raises whatever the body
 * recorded (an internal error if it panicked) once the Rust frames have
 * returned, as c/guarded.c does for the others.
 */
#include "pgcompat.h"

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

typedef struct bgw_pg_tz bgw_pg_tz;
struct bgw_pg_tm;

extern bgw_pg_tz *bgw_rs_pg_tzset(const char *tzname);
extern bgw_pg_tz *bgw_rs_pg_tzset_offset(long gmtoffset);
extern struct bgw_pg_tm *bgw_rs_pg_localtime(const int64_t *timep, const bgw_pg_tz *tz);
extern struct bgw_pg_tm *bgw_rs_pg_gmtime(const int64_t *timep);
extern size_t bgw_rs_pg_strftime(char *s, size_t max, const char *format, const struct bgw_pg_tm *tm);
extern const char *bgw_rs_pg_get_timezone_name(bgw_pg_tz *tz);
extern bool bgw_rs_pg_get_timezone_offset(const bgw_pg_tz *tz, long *gmtoff);
extern bool bgw_rs_pg_tz_acceptable(bgw_pg_tz *tz);
extern void bgw_rs_pg_timezone_initialize(void);
extern int	bgw_rs_pg_next_dst_boundary(const int64_t *timep, long *before_gmtoff, int *before_isdst,
										int64_t *boundary, long *after_gmtoff, int *after_isdst,
										const bgw_pg_tz *tz);
extern bool bgw_rs_pg_interpret_timezone_abbrev(const char *abbrev, const int64_t *timep, long *gmtoff,
												int *isdst, const bgw_pg_tz *tz);
extern bool bgw_rs_pg_timezone_abbrev_is_known(const char *abbrev, bool *isfixed, long *gmtoff,
											   int *isdst, const bgw_pg_tz *tz);
extern bool bgw_rs_check_timezone(char **newval, void **extra, int source);
extern void bgw_rs_assign_timezone(const char *newval, void *extra);
extern const char *bgw_rs_show_timezone(void);
extern bool bgw_rs_check_log_timezone(char **newval, void **extra, int source);
extern void bgw_rs_assign_log_timezone(const char *newval, void *extra);
extern const char *bgw_rs_show_log_timezone(void);

bgw_pg_tz *
bgw_c_pg_tzset(const char *tzname)
{
	return RAISING(bgw_rs_pg_tzset(tzname));
}

bgw_pg_tz *
bgw_c_pg_tzset_offset(long gmtoffset)
{
	return RAISING(bgw_rs_pg_tzset_offset(gmtoffset));
}

struct bgw_pg_tm *
bgw_c_pg_localtime(const int64_t *timep, const bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_localtime(timep, tz));
}

struct bgw_pg_tm *
bgw_c_pg_gmtime(const int64_t *timep)
{
	return RAISING(bgw_rs_pg_gmtime(timep));
}

size_t
bgw_c_pg_strftime(char *s, size_t max, const char *format, const struct bgw_pg_tm *tm)
{
	return RAISING(bgw_rs_pg_strftime(s, max, format, tm));
}

const char *
bgw_c_pg_get_timezone_name(bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_get_timezone_name(tz));
}

bool
bgw_c_pg_get_timezone_offset(const bgw_pg_tz *tz, long *gmtoff)
{
	return RAISING(bgw_rs_pg_get_timezone_offset(tz, gmtoff));
}

bool
bgw_c_pg_tz_acceptable(bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_tz_acceptable(tz));
}

void
bgw_c_pg_timezone_initialize(void)
{
	bgw_rs_pg_timezone_initialize();
	bgw_c_raise_pending();
}

int
bgw_c_pg_next_dst_boundary(const int64_t *timep, long *before_gmtoff, int *before_isdst,
						   int64_t *boundary, long *after_gmtoff, int *after_isdst,
						   const bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_next_dst_boundary(timep, before_gmtoff, before_isdst, boundary,
											   after_gmtoff, after_isdst, tz));
}

bool
bgw_c_pg_interpret_timezone_abbrev(const char *abbrev, const int64_t *timep, long *gmtoff,
								   int *isdst, const bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_interpret_timezone_abbrev(abbrev, timep, gmtoff, isdst, tz));
}

bool
bgw_c_pg_timezone_abbrev_is_known(const char *abbrev, bool *isfixed, long *gmtoff, int *isdst,
								  const bgw_pg_tz *tz)
{
	return RAISING(bgw_rs_pg_timezone_abbrev_is_known(abbrev, isfixed, gmtoff, isdst, tz));
}

bool
bgw_c_check_timezone(char **newval, void **extra, int source)
{
	return RAISING(bgw_rs_check_timezone(newval, extra, source));
}

void
bgw_c_assign_timezone(const char *newval, void *extra)
{
	bgw_rs_assign_timezone(newval, extra);
	bgw_c_raise_pending();
}

const char *
bgw_c_show_timezone(void)
{
	return RAISING(bgw_rs_show_timezone());
}

bool
bgw_c_check_log_timezone(char **newval, void **extra, int source)
{
	return RAISING(bgw_rs_check_log_timezone(newval, extra, source));
}

void
bgw_c_assign_log_timezone(const char *newval, void *extra)
{
	bgw_rs_assign_log_timezone(newval, extra);
	bgw_c_raise_pending();
}

const char *
bgw_c_show_log_timezone(void)
{
	return RAISING(bgw_rs_show_log_timezone());
}
