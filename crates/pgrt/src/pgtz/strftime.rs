//! `pg_strftime`: PostgreSQL's own strftime, independent of the C
//! library's locale: C-locale names, `%Z` from `tm_zone` (nothing when
//! NULL), `%z` from `tm_gmtoff` (nothing when `tm_isdst` < 0), the
//! ISO 8601 week conversions `%G %g %V`, `%E`/`%O` modifiers ignored, and
//! any other character after `%` written as it stands. 0 when the result
//! and its NUL do not fit `maxsize` bytes; else its length.

use std::ffi::{c_char, CStr};

use super::PgTm;

const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTH: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WDAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const WEEKDAY: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const TM_YEAR_BASE: i32 = 1900;

/// The output, never longer than `lim` bytes.
struct Out {
    buf: Vec<u8>,
    lim: usize,
}

impl Out {
    fn add(&mut self, s: &[u8]) {
        for &c in s {
            if self.buf.len() >= self.lim || c == 0 {
                return;
            }
            self.buf.push(c);
        }
    }

    fn conv(&mut self, n: i32, width: usize, zero: bool) {
        let s = if zero {
            format!("{n:0width$}")
        } else {
            format!("{n:width$}")
        };
        self.add(s.as_bytes());
    }
}

fn name(table: &[&'static str], i: i32) -> &'static str {
    usize::try_from(i)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("?")
}

fn is_leap_sum(a: i32, b: i32) -> bool {
    let y = i64::from(a) + i64::from(b);
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Year `a + b` as century (`top`) and/or two digits (`yy`).
fn yconv(out: &mut Out, a: i32, b: i32, top: bool, yy: bool) {
    let mut trail = a % 100 + b % 100;
    let mut lead = a / 100 + b / 100 + trail / 100;
    trail %= 100;
    if trail < 0 && lead > 0 {
        trail += 100;
        lead -= 1;
    } else if lead < 0 && trail > 0 {
        trail -= 100;
        lead += 1;
    }
    if top {
        if lead == 0 && trail < 0 {
            out.add(b"-0");
        } else {
            out.conv(lead, 2, true);
        }
    }
    if yy {
        out.conv(trail.abs(), 2, true);
    }
}

fn fmt(format: &[u8], t: &PgTm, out: &mut Out) {
    let mut i = 0;
    while i < format.len() {
        let c = format[i];
        if c == b'%' {
            i += 1;
            // %E and %O modify nothing here.
            while i < format.len() && matches!(format[i], b'E' | b'O') {
                i += 1;
            }
            let Some(&k) = format.get(i) else {
                // At the end: the last character read (%, E or O) is
                // written as it stands.
                out.add(&[format[i - 1]]);
                return;
            };
            let handled = conversion(k, t, out);
            if !handled {
                out.add(&[k]);
            }
        } else {
            out.add(&[c]);
        }
        i += 1;
    }
}

/// Write conversion `k`; false for a character that is written as is.
fn conversion(k: u8, t: &PgTm, out: &mut Out) -> bool {
    match k {
        b'A' => out.add(name(&WEEKDAY, t.tm_wday).as_bytes()),
        b'a' => out.add(name(&WDAY, t.tm_wday).as_bytes()),
        b'B' => out.add(name(&MONTH, t.tm_mon).as_bytes()),
        b'b' | b'h' => out.add(name(&MON, t.tm_mon).as_bytes()),
        b'C' => yconv(out, t.tm_year, TM_YEAR_BASE, true, false),
        b'c' => fmt(b"%a %b %e %T %Y", t, out),
        b'D' => fmt(b"%m/%d/%y", t, out),
        b'd' => out.conv(t.tm_mday, 2, true),
        b'e' => out.conv(t.tm_mday, 2, false),
        b'F' => fmt(b"%Y-%m-%d", t, out),
        b'H' => out.conv(t.tm_hour, 2, true),
        b'I' => out.conv(hour12(t.tm_hour), 2, true),
        b'j' => out.conv(t.tm_yday + 1, 3, true),
        b'k' => out.conv(t.tm_hour, 2, false),
        b'l' => out.conv(hour12(t.tm_hour), 2, false),
        b'M' => out.conv(t.tm_min, 2, true),
        b'm' => out.conv(t.tm_mon + 1, 2, true),
        b'n' => out.add(b"\n"),
        b'p' => out.add(if t.tm_hour >= 12 { b"PM" } else { b"AM" }),
        b'R' => fmt(b"%H:%M", t, out),
        b'r' => fmt(b"%I:%M:%S %p", t, out),
        b'S' => out.conv(t.tm_sec, 2, true),
        b'T' => fmt(b"%H:%M:%S", t, out),
        b't' => out.add(b"\t"),
        b'U' => out.conv((t.tm_yday + 7 - t.tm_wday) / 7, 2, true),
        b'u' => out.conv(if t.tm_wday == 0 { 7 } else { t.tm_wday }, 1, false),
        b'V' | b'G' | b'g' => iso_week(k, t, out),
        b'v' => fmt(b"%e-%b-%Y", t, out),
        b'W' => {
            let monday_based = if t.tm_wday != 0 { t.tm_wday - 1 } else { 6 };
            out.conv((t.tm_yday + 7 - monday_based) / 7, 2, true)
        }
        b'w' => out.conv(t.tm_wday, 1, false),
        b'X' => fmt(b"%H:%M:%S", t, out),
        b'x' => fmt(b"%m/%d/%y", t, out),
        b'y' => yconv(out, t.tm_year, TM_YEAR_BASE, false, true),
        b'Y' => yconv(out, t.tm_year, TM_YEAR_BASE, true, true),
        b'Z' => {
            if !t.tm_zone.is_null() {
                // SAFETY: tm_zone is a NUL-terminated string (the
                // caller's struct pg_tm).
                out.add(unsafe { CStr::from_ptr(t.tm_zone) }.to_bytes());
            }
        }
        b'z' => {
            if t.tm_isdst >= 0 {
                let mut diff: i64 = t.tm_gmtoff;
                let mut negative = diff < 0;
                if diff == 0 && !t.tm_zone.is_null() {
                    // SAFETY: as for %Z.
                    negative = unsafe { *t.tm_zone } as u8 == b'-';
                }
                out.add(if negative { b"-" } else { b"+" });
                diff = diff.abs() / 60;
                let v = (diff / 60) * 100 + diff % 60;
                out.add(format!("{v:04}").as_bytes());
            }
        }
        b'+' => fmt(b"%a %b %e %H:%M:%S %Z %Y", t, out),
        _ => return false,
    }
    true
}

fn hour12(h: i32) -> i32 {
    if h % 12 != 0 {
        h % 12
    } else {
        12
    }
}

/// %V (ISO week number), %G (ISO year), %g (its last two digits).
fn iso_week(k: u8, t: &PgTm, out: &mut Out) {
    let year = t.tm_year;
    let mut base = TM_YEAR_BASE;
    let mut yday = t.tm_yday;
    let wday = t.tm_wday;
    let w;
    loop {
        let len = if is_leap_sum(year, base) { 366 } else { 365 };
        let bot = ((yday + 11 - wday) % 7) - 3;
        let mut top = bot - (len % 7);
        if top < -3 {
            top += 7;
        }
        top += len;
        if yday >= top {
            base += 1;
            w = 1;
            break;
        }
        if yday >= bot {
            w = 1 + (yday - bot) / 7;
            break;
        }
        base -= 1;
        yday += if is_leap_sum(year, base) { 366 } else { 365 };
    }
    match k {
        b'V' => out.conv(w, 2, true),
        b'g' => yconv(out, year, base, false, true),
        _ => yconv(out, year, base, true, true),
    }
}

/// `size_t pg_strftime(char *s, size_t maxsize, const char *format, const
/// struct pg_tm *tm)`. 0 (and nothing written) for NULL arguments.
///
/// # Safety
/// `s` is NULL or has `maxsize` writable bytes; `format` is NULL or a
/// NUL-terminated string; `tm` is NULL or a `struct pg_tm`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_strftime(
    s: *mut c_char,
    maxsize: usize,
    format: *const c_char,
    tm: *const PgTm,
) -> usize {
    crate::guard("bgw_rs_pg_strftime", 0, || {
        if s.is_null() || format.is_null() || maxsize == 0 {
            return 0;
        }
        // SAFETY: per the contract.
        let Some(t) = (unsafe { tm.as_ref() }) else {
            return 0;
        };
        // SAFETY: per the contract.
        let f = unsafe { CStr::from_ptr(format) }.to_bytes();
        let mut out = Out {
            buf: Vec::new(),
            lim: maxsize,
        };
        fmt(f, t, &mut out);
        // SAFETY: out.buf holds at most maxsize bytes, s has that many.
        unsafe { std::ptr::copy_nonoverlapping(out.buf.as_ptr(), s as *mut u8, out.buf.len()) };
        if out.buf.len() == maxsize {
            return 0;
        }
        // SAFETY: len < maxsize.
        unsafe { *s.add(out.buf.len()) = 0 };
        out.buf.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: &str, t: &PgTm, max: usize) -> (usize, String) {
        let mut buf = vec![0 as c_char; max.max(1)];
        let cf = std::ffi::CString::new(f).unwrap();
        // SAFETY: buffer of max bytes, NUL-terminated format, a valid tm.
        let n = unsafe { bgw_rs_pg_strftime(buf.as_mut_ptr(), max, cf.as_ptr(), t) };
        let s: Vec<u8> = buf.iter().take(n).map(|&c| c as u8).collect();
        (n, String::from_utf8(s).unwrap())
    }

    #[test]
    fn conversions() {
        let mut t = crate::pgtz::calendar::timesub(1_136_214_245, -7 * 3600, None).unwrap();
        t.tm_zone = c"MST".as_ptr();
        assert_eq!(
            run("%Y-%m-%d %H:%M:%S %Z %z|%a %A %b %B %e %j %p %I %u %w %U %W %V %G %g %C %y %%%Q", &t, 200).1,
            "2006-01-02 08:04:05 MST -0700|Mon Monday Jan January  2 002 AM 08 1 1 01 01 01 2006 06 20 06 %Q"
        );
        assert_eq!(run("%F", &t, 10), (0, String::new()));
        assert_eq!(run("%F", &t, 11).0, 10);
    }
}
