//! POSIX TZ strings ("EST5EDT,M3.2.0,M11.1.0", "<+05>-05", the footer
//! of a TZif file), read as PostgreSQL's time zone library reads them:
//! a standard abbreviation (letters, or anything between < and >) and
//! offset (hours west, up to 167, [+-]hh[:mm[:ss]]); optionally a daylight
//! abbreviation, offset (an hour less by default) and the two rules
//! (Jn, n or Mm.w.d, each with an optional /time, which may be negative
//! or past 24 hours). A daylight zone without rules gets the default
//! rules ",M3.2.0,M11.1.0".
//!
//! The result is a transition table as the library builds it: two
//! transitions a year from 1770 on, continued while transitions keep
//! coming for 400 more years and at most TZ_MAX_TIMES of them, with times
//! outside the table mapped into it by whole 400-year cycles.

use super::calendar::{is_leap, month_len, year_len, SECS_PER_DAY, YEARS_PER_REPEAT};
use super::{State, TType, TZ_MAX_CHARS, TZ_MAX_TIMES};

const EPOCH_YEAR: i64 = 1970;
const DEFAULT_RULES: &[u8] = b",M3.2.0,M11.1.0";

#[derive(Clone, Copy)]
enum Rule {
    /// Jn: day 1..365, February 29 never counted.
    Julian(i64, i64),
    /// n: day 0..365, February 29 counted.
    DayOfYear(i64, i64),
    /// Mm.w.d: weekday d of week w (5: the last) of month m.
    MonthWeekDay(i64, i64, i64, i64),
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }

    fn num(&mut self, min: i64, max: i64) -> Option<i64> {
        if !self.peek().is_ascii_digit() {
            return None;
        }
        let mut n = 0i64;
        while self.peek().is_ascii_digit() {
            n = n * 10 + i64::from(self.peek() - b'0');
            if n > max {
                return None;
            }
            self.i += 1;
        }
        (n >= min).then_some(n)
    }

    /// hh[:mm[:ss]], hours up to 167.
    fn secs(&mut self) -> Option<i64> {
        let mut s = self.num(0, 24 * 7 - 1)? * 3600;
        if self.peek() == b':' {
            self.i += 1;
            s += self.num(0, 59)? * 60;
            if self.peek() == b':' {
                self.i += 1;
                s += self.num(0, 60)?;
            }
        }
        Some(s)
    }

    fn offset(&mut self) -> Option<i64> {
        let neg = match self.peek() {
            b'-' => {
                self.i += 1;
                true
            }
            b'+' => {
                self.i += 1;
                false
            }
            _ => false,
        };
        let s = self.secs()?;
        Some(if neg { -s } else { s })
    }

    /// An abbreviation: <...> or a run of characters that are not digits,
    /// commas or signs. Returns its bytes.
    fn name(&mut self) -> Option<&[u8]> {
        if self.peek() == b'<' {
            self.i += 1;
            let start = self.i;
            while self.peek() != 0 && self.peek() != b'>' {
                self.i += 1;
            }
            if self.peek() != b'>' {
                return None;
            }
            let end = self.i;
            self.i += 1;
            Some(&self.s[start..end])
        } else {
            let start = self.i;
            while !matches!(self.peek(), 0 | b'0'..=b'9' | b',' | b'-' | b'+') {
                self.i += 1;
            }
            Some(&self.s[start..self.i])
        }
    }

    fn rule(&mut self) -> Option<Rule> {
        let r = match self.peek() {
            b'J' => {
                self.i += 1;
                (Some(self.num(1, 365)?), 0, 0, 0u8)
            }
            b'M' => {
                self.i += 1;
                let m = self.num(1, 12)?;
                if self.peek() != b'.' {
                    return None;
                }
                self.i += 1;
                let w = self.num(1, 5)?;
                if self.peek() != b'.' {
                    return None;
                }
                self.i += 1;
                let d = self.num(0, 6)?;
                (Some(m), w, d, 1)
            }
            c if c.is_ascii_digit() => (Some(self.num(0, 365)?), 0, 0, 2),
            _ => return None,
        };
        let time = if self.peek() == b'/' {
            self.i += 1;
            self.offset()?
        } else {
            2 * 3600
        };
        let a = r.0?;
        Some(match r.3 {
            0 => Rule::Julian(a, time),
            1 => Rule::MonthWeekDay(a, r.1, r.2, time),
            _ => Rule::DayOfYear(a, time),
        })
    }
}

/// Seconds from January 1 00:00 UT of `year` to the moment `rule` takes
/// effect, the UT offset then in force being `offset` (seconds west).
fn transtime(year: i64, rule: Rule, offset: i64) -> i64 {
    let leap = is_leap(year);
    let (value, time) = match rule {
        Rule::Julian(day, time) => {
            let mut v = (day - 1) * SECS_PER_DAY;
            if leap && day >= 60 {
                v += SECS_PER_DAY;
            }
            (v, time)
        }
        Rule::DayOfYear(day, time) => (day * SECS_PER_DAY, time),
        Rule::MonthWeekDay(mon, week, wday, time) => {
            // Zeller's congruence: the weekday of the month's first day.
            let m1 = (mon + 9) % 12 + 1;
            let yy0 = if mon <= 2 { year - 1 } else { year };
            let yy1 = yy0 / 100;
            let yy2 = yy0 % 100;
            let mut dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
            if dow < 0 {
                dow += 7;
            }
            let mut d = wday - dow;
            if d < 0 {
                d += 7;
            }
            for _ in 1..week {
                if d + 7 >= month_len(leap, (mon - 1) as usize) {
                    break;
                }
                d += 7;
            }
            let mut v = d * SECS_PER_DAY;
            for i in 0..(mon - 1) as usize {
                v += month_len(leap, i) * SECS_PER_DAY;
            }
            (v, time)
        }
    };
    value + time + offset
}

/// Parse the TZ string `spec` into a zone state; None if it is not one.
pub fn tzparse(spec: &[u8]) -> Option<State> {
    let mut c = Cursor { s: spec, i: 0 };
    let stdname = c.name()?.to_vec();
    if c.peek() == 0 {
        // An offset is required (an empty abbreviation is allowed).
        return None;
    }
    let stdoffset = c.offset()?;
    let mut charcnt = stdname.len() + 1;
    if charcnt > TZ_MAX_CHARS {
        return None;
    }
    let mut sp = State::default();
    let mut chars = stdname.clone();
    chars.push(0);
    if c.peek() == 0 {
        sp.ttis.push(TType::new(-stdoffset, false, 0));
        sp.chars = chars;
        return Some(sp);
    }
    let dstname = c.name()?.to_vec();
    if dstname.is_empty() {
        return None;
    }
    charcnt += dstname.len() + 1;
    if charcnt > TZ_MAX_CHARS {
        return None;
    }
    let dstoffset = if !matches!(c.peek(), 0 | b',' | b';') {
        c.offset()?
    } else {
        stdoffset - 3600
    };
    let rest: Vec<u8> = if c.peek() == 0 {
        DEFAULT_RULES.to_vec()
    } else {
        spec[c.i..].to_vec()
    };
    let mut c = Cursor { s: &rest, i: 0 };
    if !matches!(c.peek(), b',' | b';') {
        return None;
    }
    c.i += 1;
    let start = c.rule()?;
    if c.peek() != b',' {
        return None;
    }
    c.i += 1;
    let end = c.rule()?;
    if c.peek() != 0 {
        return None;
    }
    sp.ttis.push(TType::new(-stdoffset, false, 0));
    sp.ttis
        .push(TType::new(-dstoffset, true, stdname.len() + 1));
    chars.extend_from_slice(&dstname);
    chars.push(0);
    sp.chars = chars;

    // January 1 of the first year, 200 years before 1970.
    let mut yearbeg = EPOCH_YEAR;
    let mut janfirst: i64 = 0;
    loop {
        janfirst -= year_len(yearbeg - 1) * SECS_PER_DAY;
        yearbeg -= 1;
        if yearbeg <= EPOCH_YEAR - YEARS_PER_REPEAT / 2 {
            break;
        }
    }
    let mut yearlim = yearbeg + YEARS_PER_REPEAT + 1;
    let mut year = yearbeg;
    while year < yearlim {
        let mut starttime = transtime(year, start, stdoffset);
        let mut endtime = transtime(year, end, dstoffset);
        let yearsecs = year_len(year) * SECS_PER_DAY;
        let reversed = endtime < starttime;
        if reversed {
            std::mem::swap(&mut starttime, &mut endtime);
        }
        if reversed
            || (starttime < endtime && endtime - starttime < yearsecs + (stdoffset - dstoffset))
        {
            if TZ_MAX_TIMES - 2 < sp.ats.len() {
                break;
            }
            sp.ats.push(janfirst + starttime);
            sp.types.push(usize::from(!reversed));
            sp.ats.push(janfirst + endtime);
            sp.types.push(usize::from(reversed));
            yearlim = year + YEARS_PER_REPEAT + 1;
        }
        janfirst += yearsecs;
        year += 1;
    }
    if sp.ats.is_empty() {
        // Daylight time all year.
        sp.ttis[0] = sp.ttis[1];
        sp.ttis.truncate(1);
    } else if YEARS_PER_REPEAT < year - yearbeg {
        sp.goback = true;
        sp.goahead = true;
    }
    Some(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_names_and_rules() {
        let sp = tzparse(b"<+05>-05").unwrap();
        assert_eq!(sp.ttis.len(), 1);
        assert_eq!(sp.ttis[0].utoff, 5 * 3600);
        assert_eq!(&sp.chars, b"+05\0");
        let sp = tzparse(b"EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(sp.ttis[1].utoff, -4 * 3600);
        assert!(sp.goahead && sp.goback);
        // 2007-03-11 07:00 UT: second Sunday of March, 02:00 EST.
        assert!(sp.ats.contains(&1_173_596_400));
        // 2007-11-04 06:00 UT: first Sunday of November, 02:00 EDT.
        assert!(sp.ats.contains(&1_194_156_000));
        assert!(tzparse(b"EST").is_none());
        assert!(tzparse(b"FOO168").is_none());
        assert!(tzparse(b"FOO167").is_some());
        assert!(tzparse(b"<+05-05").is_none());
        assert!(tzparse(b"EST5EDT,M3.2.0").is_none());
    }
}
