//! Breaking a Unix time into calendar fields (the `struct pg_tm` of
//! pgtime.h), as PostgreSQL's time zone library does: proleptic Gregorian
//! calendar, `tm_year` counted from 1900, `tm_mon` from 0, leap-second
//! corrections for zones whose data has them.

use super::State;

pub const SECS_PER_DAY: i64 = 86_400;
/// The Gregorian calendar repeats every 400 years, 146097 days.
pub const YEARS_PER_REPEAT: i64 = 400;
pub const AVG_SECS_PER_YEAR: i64 = 31_556_952;
pub const SECS_PER_REPEAT: i64 = YEARS_PER_REPEAT * AVG_SECS_PER_YEAR;

const MON_LENGTHS: [[i64; 12]; 2] = [
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];

/// pgtime.h's `struct pg_tm`, field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PgTm {
    pub tm_sec: i32,
    pub tm_min: i32,
    pub tm_hour: i32,
    pub tm_mday: i32,
    pub tm_mon: i32,
    pub tm_year: i32,
    pub tm_wday: i32,
    pub tm_yday: i32,
    pub tm_isdst: i32,
    pub tm_gmtoff: std::ffi::c_long,
    pub tm_zone: *const std::ffi::c_char,
}

impl PgTm {
    pub const ZERO: PgTm = PgTm {
        tm_sec: 0,
        tm_min: 0,
        tm_hour: 0,
        tm_mday: 0,
        tm_mon: 0,
        tm_year: 0,
        tm_wday: 0,
        tm_yday: 0,
        tm_isdst: 0,
        tm_gmtoff: 0,
        tm_zone: std::ptr::null(),
    };
}

pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub fn year_len(y: i64) -> i64 {
    if is_leap(y) {
        366
    } else {
        365
    }
}

pub fn month_len(leap: bool, mon0: usize) -> i64 {
    MON_LENGTHS[leap as usize][mon0]
}

/// The civil date of `days` since 1970-01-01: (year, month 1..12, day).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days from 1970-01-01 to January 1 of year `y`.
pub fn days_to_year(y: i64) -> i64 {
    let y1 = y - 1;
    365 * (y - 1970) + (y1.div_euclid(4) - y1.div_euclid(100) + y1.div_euclid(400)) - 477
}

/// Fields of Unix time `t` at UT offset `offset` (seconds east), with
/// the leap-second correction of `sp` (None for plain UT): tzcode's
/// timesub. None when the year does not fit an int.
pub fn timesub(t: i64, offset: i64, sp: Option<&State>) -> Option<PgTm> {
    let mut corr: i64 = 0;
    let mut since_posleap = i64::MAX;
    if let Some(sp) = sp {
        for i in (0..sp.leaps.len()).rev() {
            let (trans, c) = sp.leaps[i];
            if trans <= t {
                corr = c;
                let prev = if i > 0 { sp.leaps[i - 1].1 } else { 0 };
                if prev < c {
                    since_posleap = t - trans;
                }
                break;
            }
        }
    }
    let local = (t as i128) + (offset as i128) - (corr as i128);
    let days = local.div_euclid(SECS_PER_DAY as i128);
    let mut rem = local.rem_euclid(SECS_PER_DAY as i128) as i64;
    let days = i64::try_from(days).ok()?;
    // civil() is exact for any i64 day count that does not overflow its
    // intermediate sums; beyond +-2^60 days the year is out of int range.
    if days.abs() > 1 << 40 {
        return None;
    }
    let (y, m, d) = civil(days);
    let tm_year = i32::try_from(y - 1900).ok()?;
    let yday = days - days_to_year(y);
    let hour = rem / 3600;
    rem %= 3600;
    let mut sec = (rem % 60) as i32;
    if since_posleap <= i64::from(sec) {
        sec += 1;
    }
    Some(PgTm {
        tm_sec: sec,
        tm_min: (rem / 60) as i32,
        tm_hour: hour as i32,
        tm_mday: d as i32,
        tm_mon: (m - 1) as i32,
        tm_year,
        tm_wday: (days + 4).rem_euclid(7) as i32,
        tm_yday: yday as i32,
        tm_isdst: 0,
        tm_gmtoff: offset as std::ffi::c_long,
        tm_zone: std::ptr::null(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_far_dates() {
        let tm = timesub(0, 0, None).unwrap();
        assert_eq!(
            (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_wday, tm.tm_yday),
            (70, 0, 1, 4, 0)
        );
        // 2000-03-01 00:00:00 UT, a Wednesday, day 60 of a leap year.
        let tm = timesub(951_868_800, 0, None).unwrap();
        assert_eq!(
            (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_wday, tm.tm_yday),
            (100, 2, 1, 3, 60)
        );
        // 1900-01-01 00:00:00 UT, a Monday.
        let tm = timesub(-2_208_988_800, 0, None).unwrap();
        assert_eq!(
            (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_wday),
            (0, 0, 1, 1)
        );
        assert_eq!(days_to_year(2000), 10_957);
        assert_eq!(days_to_year(1900), -25_567);
        assert!(timesub(i64::MAX, 0, None).is_none());
    }
}
