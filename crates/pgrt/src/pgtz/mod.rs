//! PostgreSQL's time zone library (pgtime.h): zones by name from the
//! system's zone database, fixed offsets, local and UT calendar fields,
//! DST boundaries, abbreviations, `pg_strftime`, and the process's
//! `session_timezone` and `log_timezone` (kept by the TimeZone and
//! log_timezone settings' hooks, guc/timezone.rs).
//!
//! Written from the library's documented behaviour (PostgreSQL's
//! src/timezone is not copied). Zones come from the TZif files under
//! /usr/share/zoneinfo, the directory Debian's PostgreSQL is built to use
//! (--with-system-tzdata), read here directly and never through the C
//! library's global TZ:
//!
//! * `pg_tzset(name)`: names are found case-insensitively, one directory
//!   level at a time, skipping entries that start with a dot, and the
//!   zone's name is then the file's own spelling; a name that is no file
//!   is tried as a POSIX TZ string (upper-cased, so its abbreviations are
//!   upper case); "GMT" is always the built-in UT zone. Loaded zones are
//!   kept for the life of the process (as PostgreSQL caches them), so a
//!   `pg_tz *` and the `tm_zone` strings it hands out stay valid. NULL for
//!   an unknown name, a NULL name, or one longer than TZ_STRLEN_MAX.
//! * `pg_tzset_offset(gmtoffset)`: the zone "<+hh[:mm[:ss]]>-hh[:mm[:ss]]"
//!   of that offset (seconds WEST of UTC), NULL beyond 167 hours.
//! * `pg_localtime` / `pg_gmtime`: one static `struct pg_tm` that both
//!   return and the next call of either overwrites; NULL when the year
//!   does not fit an int, or (instead of a crash) for a NULL argument.
//!
//! * Times past a zone file's table follow its footer's rules, and times
//!   beyond the generated table repeat it in 400-year cycles, as
//!   PostgreSQL's; `pg_interpret_timezone_abbrev` follows the process's
//!   major (18 also looks at the type before the first transition).
//!
//! Each export is a C wrapper (c/pgtz.c) around its Rust body here
//! (`bgw_rs_NAME`). Module code runs in one thread per process, as in
//! PostgreSQL: the static result buffer is the process's.

mod calendar;
mod posix;
mod strftime;
mod tzif;

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_long, CStr, CString};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

pub use calendar::PgTm;

// The exports: C wrappers (c/pgtz.c) that run the Rust bodies below
// (bgw_rs_NAME) and raise what they recorded.
super::c_export! {
    pg_tzset => bgw_c_pg_tzset,
    pg_tzset_offset => bgw_c_pg_tzset_offset,
    pg_localtime => bgw_c_pg_localtime,
    pg_gmtime => bgw_c_pg_gmtime,
    pg_strftime => bgw_c_pg_strftime,
    pg_get_timezone_name => bgw_c_pg_get_timezone_name,
    pg_get_timezone_offset => bgw_c_pg_get_timezone_offset,
    pg_tz_acceptable => bgw_c_pg_tz_acceptable,
    pg_timezone_initialize => bgw_c_pg_timezone_initialize,
    pg_next_dst_boundary => bgw_c_pg_next_dst_boundary,
    pg_interpret_timezone_abbrev => bgw_c_pg_interpret_timezone_abbrev,
    pg_timezone_abbrev_is_known => bgw_c_pg_timezone_abbrev_is_known,
}

/// Longest zone name (pgtime.h).
pub const TZ_STRLEN_MAX: usize = 255;
const TZ_MAX_TIMES: usize = 2000;
const TZ_MAX_TYPES: usize = 256;
const TZ_MAX_CHARS: usize = 50;
const TZ_MAX_LEAPS: usize = 50;

/// Where the zone files are (Debian's PostgreSQL: --with-system-tzdata).
const TZDIR: &str = "/usr/share/zoneinfo";

/// One local time type: UT offset (seconds east), daylight flag, and the
/// abbreviation's index in `State::chars`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TType {
    pub utoff: i64,
    pub isdst: bool,
    pub abbr: usize,
    pub ttisstd: bool,
    pub ttisut: bool,
}

impl TType {
    pub fn new(utoff: i64, isdst: bool, abbr: usize) -> TType {
        TType {
            utoff,
            isdst,
            abbr,
            ttisstd: false,
            ttisut: false,
        }
    }
}

/// A zone: transition times and the type each starts, the types, their
/// abbreviations (NUL-separated), leap seconds (time, correction), and
/// whether times before the first (`goback`) or after the last
/// (`goahead`) transition repeat the table in 400-year cycles.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub ats: Vec<i64>,
    pub types: Vec<usize>,
    pub ttis: Vec<TType>,
    pub chars: Vec<u8>,
    pub leaps: Vec<(i64, i64)>,
    pub goback: bool,
    pub goahead: bool,
    pub defaulttype: usize,
}

impl State {
    /// The abbreviation starting at `at` (without its NUL).
    pub fn abbr(&self, at: usize) -> &[u8] {
        let rest = self.chars.get(at..).unwrap_or(&[]);
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    fn zone_ptr(&self, at: usize) -> *const c_char {
        match self.chars.get(at) {
            Some(c) => c as *const u8 as *const c_char,
            None => c"".as_ptr(),
        }
    }

    /// The built-in UT zone "GMT".
    fn gmt() -> State {
        State {
            ttis: vec![TType::new(0, false, 0)],
            chars: b"GMT\0".to_vec(),
            ..State::default()
        }
    }
}

/// `pg_tz`: opaque to modules; lives for the rest of the process.
pub struct PgTz {
    name: CString,
    state: State,
}

/// Loaded zones by upper-cased name (PostgreSQL's zone cache).
static CACHE: Mutex<Vec<(Vec<u8>, &'static PgTz)>> = Mutex::new(Vec::new());

/// The file under TZDIR matching `name` case-insensitively, one level at a
/// time (entries starting with a dot never match); with its spelling.
fn find_file(name: &[u8]) -> Option<(std::path::PathBuf, String)> {
    let mut path = std::path::PathBuf::from(TZDIR);
    let mut canon: Vec<String> = Vec::new();
    for part in name.split(|&c| c == b'/') {
        let dir = std::fs::read_dir(&path).ok()?;
        let mut found = None;
        for e in dir.flatten() {
            let f = e.file_name();
            let fb = f.as_encoded_bytes();
            if fb.first() == Some(&b'.') || fb.len() != part.len() {
                continue;
            }
            if fb.eq_ignore_ascii_case(part) {
                found = Some(f.to_string_lossy().into_owned());
                break;
            }
        }
        let f = found?;
        path.push(&f);
        canon.push(f);
    }
    Some((path, canon.join("/")))
}

/// Load `upper` (an upper-cased name): file, else POSIX TZ string.
fn load(upper: &[u8]) -> Option<PgTz> {
    if upper == b"GMT" {
        return Some(PgTz {
            name: CString::new("GMT").ok()?,
            state: State::gmt(),
        });
    }
    let file = upper.strip_prefix(b":").unwrap_or(upper);
    if let Some((path, canon)) = find_file(file) {
        if let Some(state) = std::fs::read(&path).ok().and_then(|b| tzif::load(&b)) {
            return Some(PgTz {
                name: CString::new(canon).ok()?,
                state,
            });
        }
    }
    if upper.first() == Some(&b':') {
        return None;
    }
    let state = posix::tzparse(upper)?;
    Some(PgTz {
        name: CString::new(upper).ok()?,
        state,
    })
}

/// `pg_tzset` in Rust: the cached zone of `name`, loading it if needed.
pub fn tzset(name: &[u8]) -> Option<&'static PgTz> {
    if name.len() > TZ_STRLEN_MAX || name.contains(&0) {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, tz)) = cache.iter().find(|(n, _)| *n == upper) {
        return Some(tz);
    }
    let tz: &'static PgTz = Box::leak(Box::new(load(&upper)?));
    cache.push((upper, tz));
    Some(tz)
}

/// `pg_tzset_offset` in Rust (`gmtoffset` seconds west of UTC).
pub fn tzset_offset(gmtoffset: i64) -> Option<&'static PgTz> {
    let mut abs = gmtoffset.unsigned_abs();
    let mut s = format!("{:02}", abs / 3600);
    abs %= 3600;
    if abs != 0 {
        s.push_str(&format!(":{:02}", abs / 60));
        abs %= 60;
        if abs != 0 {
            s.push_str(&format!(":{abs:02}"));
        }
    }
    let name = if gmtoffset > 0 {
        format!("<-{s}>+{s}")
    } else {
        format!("<+{s}>-{s}")
    };
    tzset(name.as_bytes())
}

/// Local calendar fields of `t` in zone `sp` (tzcode's localsub).
fn localsub(sp: &State, t: i64) -> Option<PgTm> {
    let n = sp.ats.len();
    if n > 0 && ((sp.goback && t < sp.ats[0]) || (sp.goahead && t > sp.ats[n - 1])) {
        let seconds = if t < sp.ats[0] {
            sp.ats[0] - t
        } else {
            t - sp.ats[n - 1]
        } - 1;
        let years = (seconds / calendar::SECS_PER_REPEAT + 1) * calendar::YEARS_PER_REPEAT;
        let shift = years.checked_mul(calendar::AVG_SECS_PER_YEAR)?;
        let newt = if t < sp.ats[0] {
            t.checked_add(shift)?
        } else {
            t.checked_sub(shift)?
        };
        if newt < sp.ats[0] || newt > sp.ats[n - 1] {
            return None;
        }
        let mut r = localsub(sp, newt)?;
        let y = i64::from(r.tm_year) + if t < sp.ats[0] { -years } else { years };
        r.tm_year = i32::try_from(y).ok()?;
        return Some(r);
    }
    let i = if n == 0 || t < sp.ats[0] {
        sp.defaulttype
    } else {
        let idx = sp.ats.partition_point(|&a| a <= t);
        sp.types[idx - 1]
    };
    let tt = sp.ttis.get(i)?;
    let mut r = calendar::timesub(t, tt.utoff, Some(sp))?;
    r.tm_isdst = i32::from(tt.isdst);
    r.tm_zone = sp.zone_ptr(tt.abbr);
    Some(r)
}

/// The static result of `pg_localtime` and `pg_gmtime` (PostgreSQL's).
struct TmBuf(UnsafeCell<PgTm>);

// SAFETY: module code runs in one thread per process (see the module
// docs); only the calls below touch the buffer, from that thread.
unsafe impl Sync for TmBuf {}

static TM: TmBuf = TmBuf(UnsafeCell::new(PgTm::ZERO));

fn put_tm(tm: PgTm) -> *mut PgTm {
    let p = TM.0.get();
    // SAFETY: see TmBuf; the caller reads it before its next call.
    unsafe { *p = tm };
    p
}

/// The UT zone pg_gmtime names its fields with.
fn gmt_state() -> &'static State {
    static GMT: std::sync::OnceLock<State> = std::sync::OnceLock::new();
    GMT.get_or_init(State::gmt)
}

/// Local fields of Unix time `t` in `tz`, as `pg_localtime` gives them.
pub fn localtime(t: i64, tz: &PgTz) -> Option<PgTm> {
    localsub(&tz.state, t)
}

/// `pg_tz *session_timezone`: the TimeZone setting's zone.
#[unsafe(no_mangle)]
pub static session_timezone: AtomicPtr<PgTz> = AtomicPtr::new(std::ptr::null_mut());

/// `pg_tz *log_timezone`: the log_timezone setting's zone.
#[unsafe(no_mangle)]
pub static log_timezone: AtomicPtr<PgTz> = AtomicPtr::new(std::ptr::null_mut());

fn as_mut_ptr(tz: Option<&'static PgTz>) -> *mut PgTz {
    tz.map_or(std::ptr::null_mut(), |t| t as *const PgTz as *mut PgTz)
}

/// # Safety
/// `tz` is NULL or a zone this library handed out.
unsafe fn zone<'a>(tz: *const PgTz) -> Option<&'a PgTz> {
    // SAFETY: per the contract, a non-NULL tz points to a leaked PgTz.
    unsafe { tz.as_ref() }
}

/// The body of `pg_tz *pg_tzset(const char *tzname)`.
///
/// # Safety
/// `tzname` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_tzset(tzname: *const c_char) -> *mut PgTz {
    crate::guard("bgw_rs_pg_tzset", std::ptr::null_mut(), || {
        if tzname.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let name = unsafe { CStr::from_ptr(tzname) };
        as_mut_ptr(tzset(name.to_bytes()))
    })
}

/// The body of `pg_tz *pg_tzset_offset(long gmtoffset)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_pg_tzset_offset(gmtoffset: c_long) -> *mut PgTz {
    crate::guard("bgw_rs_pg_tzset_offset", std::ptr::null_mut(), || {
        as_mut_ptr(tzset_offset(gmtoffset))
    })
}

/// The body of `struct pg_tm *pg_localtime(const pg_time_t *timep, const pg_tz *tz)`.
///
/// # Safety
/// `timep` is NULL or points to a pg_time_t; `tz` is NULL or a zone.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_localtime(timep: *const i64, tz: *const PgTz) -> *mut PgTm {
    crate::guard("bgw_rs_pg_localtime", std::ptr::null_mut(), || {
        // SAFETY: per the contract.
        let (Some(t), Some(tz)) = (unsafe { timep.as_ref() }, unsafe { zone(tz) }) else {
            return std::ptr::null_mut();
        };
        localtime(*t, tz).map_or(std::ptr::null_mut(), put_tm)
    })
}

/// The body of `struct pg_tm *pg_gmtime(const pg_time_t *timep)`: UT, named "GMT".
///
/// # Safety
/// `timep` is NULL or points to a pg_time_t.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_gmtime(timep: *const i64) -> *mut PgTm {
    crate::guard("bgw_rs_pg_gmtime", std::ptr::null_mut(), || {
        // SAFETY: per the contract.
        let Some(t) = (unsafe { timep.as_ref() }) else {
            return std::ptr::null_mut();
        };
        let sp = gmt_state();
        match calendar::timesub(*t, 0, Some(sp)) {
            Some(mut tm) => {
                tm.tm_zone = sp.zone_ptr(0);
                put_tm(tm)
            }
            None => std::ptr::null_mut(),
        }
    })
}

/// The body of `const char *pg_get_timezone_name(pg_tz *tz)`: the zone's name (the
/// file's spelling, or the upper-cased TZ string), NULL for NULL.
///
/// # Safety
/// `tz` is NULL or a zone.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_get_timezone_name(tz: *const PgTz) -> *const c_char {
    crate::guard("bgw_rs_pg_get_timezone_name", std::ptr::null(), || {
        // SAFETY: per the contract.
        unsafe { zone(tz) }.map_or(std::ptr::null(), |z| z.name.as_ptr())
    })
}

/// The body of `bool pg_get_timezone_offset(const pg_tz *tz, long *gmtoff)`: true
/// and the offset (seconds east) if every type of the zone has the same.
///
/// # Safety
/// `tz` is NULL or a zone; `gmtoff` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_get_timezone_offset(
    tz: *const PgTz,
    gmtoff: *mut c_long,
) -> bool {
    crate::guard("bgw_rs_pg_get_timezone_offset", false, || {
        // SAFETY: per the contract.
        let Some(z) = (unsafe { zone(tz) }) else {
            return false;
        };
        let t = &z.state.ttis;
        if t.is_empty() || t.iter().any(|x| x.utoff != t[0].utoff) || gmtoff.is_null() {
            return false;
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *gmtoff = t[0].utoff as c_long };
        true
    })
}

/// The body of `bool pg_tz_acceptable(pg_tz *tz)`: false for a zone that counts leap
/// seconds (its 2000-01-01 00:00:00 UT does not fall on a whole minute).
///
/// # Safety
/// `tz` is NULL or a zone.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_tz_acceptable(tz: *const PgTz) -> bool {
    crate::guard("bgw_rs_pg_tz_acceptable", false, || {
        // SAFETY: per the contract.
        unsafe { zone(tz) }.is_some_and(acceptable)
    })
}

pub fn acceptable(z: &PgTz) -> bool {
    localtime(946_684_800, z).is_some_and(|tm| tm.tm_sec == 0)
}

/// The body of `void pg_timezone_initialize(void)`: both zones to GMT.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_pg_timezone_initialize() {
    crate::guard("bgw_rs_pg_timezone_initialize", (), || {
        let gmt = as_mut_ptr(tzset(b"GMT"));
        session_timezone.store(gmt, Ordering::Relaxed);
        log_timezone.store(gmt, Ordering::Relaxed);
    })
}

/// The session's zone for the library's own callers: the TimeZone
/// setting's (registering the settings first if nothing has yet), GMT
/// until there is one.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_session_timezone() -> *mut PgTz {
    crate::guard("bgw_rs_session_timezone", std::ptr::null_mut(), || {
        if session_timezone.load(Ordering::Relaxed).is_null() {
            crate::guc::builtin::ensure_registered();
        }
        let z = session_timezone.load(Ordering::Relaxed);
        if z.is_null() {
            as_mut_ptr(tzset(b"GMT"))
        } else {
            z
        }
    })
}

/// One (gmtoff, isdst) of type `i`.
fn type_info(sp: &State, i: usize) -> (c_long, c_int) {
    let t = &sp.ttis[i];
    (t.utoff as c_long, c_int::from(t.isdst))
}

/// `pg_next_dst_boundary` in Rust: (result, before, boundary, after).
fn next_boundary(sp: &State, t: i64) -> (c_int, (c_long, c_int), i64, (c_long, c_int)) {
    let n = sp.ats.len();
    let none = (0, 0);
    if n == 0 {
        return (0, type_info(sp, sp.defaulttype), 0, none);
    }
    if (sp.goback && t < sp.ats[0]) || (sp.goahead && t > sp.ats[n - 1]) {
        let seconds = if t < sp.ats[0] {
            sp.ats[0] - t
        } else {
            t - sp.ats[n - 1]
        } - 1;
        let cycles = seconds / calendar::YEARS_PER_REPEAT / calendar::AVG_SECS_PER_YEAR + 1;
        let Some(shift) = cycles
            .checked_mul(calendar::YEARS_PER_REPEAT)
            .and_then(|y| y.checked_mul(calendar::AVG_SECS_PER_YEAR))
        else {
            return (-1, none, 0, none);
        };
        let newt = if t < sp.ats[0] { t + shift } else { t - shift };
        if newt < sp.ats[0] || newt > sp.ats[n - 1] {
            return (-1, none, 0, none);
        }
        let (r, b, at, a) = next_boundary(sp, newt);
        let at = if t < sp.ats[0] {
            at - shift
        } else {
            at + shift
        };
        return (r, b, at, a);
    }
    if t >= sp.ats[n - 1] {
        return (0, type_info(sp, sp.types[n - 1]), 0, none);
    }
    if t < sp.ats[0] {
        return (
            1,
            type_info(sp, sp.defaulttype),
            sp.ats[0],
            type_info(sp, sp.types[0]),
        );
    }
    let i = sp.ats.partition_point(|&a| a <= t).max(1);
    (
        1,
        type_info(sp, sp.types[i - 1]),
        sp.ats[i],
        type_info(sp, sp.types[i]),
    )
}

/// The body of `int pg_next_dst_boundary(const pg_time_t *timep, long *before_gmtoff,
/// int *before_isdst, pg_time_t *boundary, long *after_gmtoff, int
/// *after_isdst, const pg_tz *tz)`: 1 and the next transition after
/// *timep with the state before and after it; 0 and the state at *timep
/// when no transition follows; -1 on failure (and for NULL arguments).
///
/// # Safety
/// Every pointer is NULL or valid for its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_next_dst_boundary(
    timep: *const i64,
    before_gmtoff: *mut c_long,
    before_isdst: *mut c_int,
    boundary: *mut i64,
    after_gmtoff: *mut c_long,
    after_isdst: *mut c_int,
    tz: *const PgTz,
) -> c_int {
    crate::guard("bgw_rs_pg_next_dst_boundary", -1, || {
        // SAFETY: per the contract.
        let (Some(t), Some(z)) = (unsafe { timep.as_ref() }, unsafe { zone(tz) }) else {
            return -1;
        };
        if before_gmtoff.is_null() || before_isdst.is_null() {
            return -1;
        }
        let (r, before, at, after) = next_boundary(&z.state, *t);
        if r == 1 && (boundary.is_null() || after_gmtoff.is_null() || after_isdst.is_null()) {
            return -1;
        }
        // SAFETY: checked non-NULL above; valid per the contract.
        unsafe {
            if r >= 0 {
                *before_gmtoff = before.0;
                *before_isdst = before.1;
            }
            if r == 1 {
                *boundary = at;
                *after_gmtoff = after.0;
                *after_isdst = after.1;
            }
        }
        r
    })
}

/// `pg_interpret_timezone_abbrev` in Rust: the (gmtoff, isdst) of
/// abbreviation `abbrev` (matched exactly) in use at or last before `t`,
/// else of its first use after `t`; None if it is not used (see below
/// for the type before the first transition).
fn interpret_abbrev(sp: &State, abbrev: &[u8], t: i64) -> Option<(c_long, c_int)> {
    let idx = abbrev_index(sp, abbrev)?;
    let cutoff = sp.ats.partition_point(|&a| a <= t);
    let hit = |i: usize| (sp.ttis[i].abbr == idx).then(|| type_info(sp, i));
    // PostgreSQL 18 also looks at the type before the first transition
    // (a zone's local mean time, "LMT"); 15 and 17 only at the types
    // transitions lead to.
    let before_first = bgworker_core::identity::pg_major() >= 18;
    (0..cutoff)
        .rev()
        .find_map(|i| hit(sp.types[i]))
        .or_else(|| if before_first { hit(0) } else { None })
        .or_else(|| (cutoff..sp.ats.len()).find_map(|i| hit(sp.types[i])))
}

/// The body of `bool pg_interpret_timezone_abbrev(const char *abbrev, const pg_time_t
/// *timep, long *gmtoff, int *isdst, const pg_tz *tz)`.
///
/// # Safety
/// Every pointer is NULL or valid for its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_interpret_timezone_abbrev(
    abbrev: *const c_char,
    timep: *const i64,
    gmtoff: *mut c_long,
    isdst: *mut c_int,
    tz: *const PgTz,
) -> bool {
    crate::guard("bgw_rs_pg_interpret_timezone_abbrev", false, || {
        // SAFETY: per the contract.
        let (Some(t), Some(z)) = (unsafe { timep.as_ref() }, unsafe { zone(tz) }) else {
            return false;
        };
        if abbrev.is_null() || gmtoff.is_null() || isdst.is_null() {
            return false;
        }
        // SAFETY: non-NULL, NUL-terminated per the contract.
        let a = unsafe { CStr::from_ptr(abbrev) }.to_bytes();
        match interpret_abbrev(&z.state, a, *t) {
            Some((g, d)) => {
                // SAFETY: non-NULL, writable per the contract.
                unsafe {
                    *gmtoff = g;
                    *isdst = d;
                }
                true
            }
            None => false,
        }
    })
}

/// The index of abbreviation `abbrev` in the zone's list (only string
/// starts count), None if it is not there.
fn abbrev_index(sp: &State, abbrev: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < sp.chars.len().saturating_sub(1) {
        let a = sp.abbr(at);
        if a == abbrev {
            return Some(at);
        }
        at += a.len() + 1;
    }
    None
}

/// The body of `bool pg_timezone_abbrev_is_known(const char *abbrev, bool *isfixed,
/// long *gmtoff, int *isdst, const pg_tz *tz)` (PostgreSQL 18): whether
/// any type of the zone uses the abbreviation (matched exactly); if so,
/// the first such type's offset and daylight flag, and whether every use
/// has the same (`*isfixed`).
///
/// # Safety
/// Every pointer is NULL or valid for its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pg_timezone_abbrev_is_known(
    abbrev: *const c_char,
    isfixed: *mut bool,
    gmtoff: *mut c_long,
    isdst: *mut c_int,
    tz: *const PgTz,
) -> bool {
    crate::guard("bgw_rs_pg_timezone_abbrev_is_known", false, || {
        // SAFETY: per the contract.
        let Some(z) = (unsafe { zone(tz) }) else {
            return false;
        };
        if abbrev.is_null() || isfixed.is_null() || gmtoff.is_null() || isdst.is_null() {
            return false;
        }
        // SAFETY: non-NULL, NUL-terminated per the contract.
        let a = unsafe { CStr::from_ptr(abbrev) }.to_bytes();
        let sp = &z.state;
        let Some(idx) = abbrev_index(sp, a) else {
            return false;
        };
        let uses: Vec<(c_long, c_int)> = (0..sp.ttis.len())
            .filter(|&i| sp.ttis[i].abbr == idx)
            .map(|i| type_info(sp, i))
            .collect();
        let Some(&first) = uses.first() else {
            return false;
        };
        // SAFETY: non-NULL, writable per the contract.
        unsafe {
            *gmtoff = first.0;
            *isdst = first.1;
            *isfixed = uses.iter().all(|&u| u == first);
        }
        true
    })
}

/// The zone's name as a Rust string (for messages).
pub fn name_of(z: &PgTz) -> String {
    z.name.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_from_the_system_database() {
        let ny = tzset(b"america/new_york").expect("New York");
        assert_eq!(name_of(ny), "America/New_York");
        // 2021-07-01 12:00 UT: EDT.
        let tm = localtime(1_625_140_800, ny).unwrap();
        assert_eq!((tm.tm_hour, tm.tm_isdst, tm.tm_gmtoff), (8, 1, -4 * 3600));
        // Far future: the footer's rules, 2400-07-01 12:00 UT.
        let t = (calendar::days_to_year(2400) + 182) * 86_400 + 12 * 3600;
        let tm = localtime(t, ny).unwrap();
        assert_eq!((tm.tm_year, tm.tm_hour, tm.tm_isdst), (500, 8, 1));
        assert!(tzset(b"No/Such_Zone").is_none());
        assert!(tzset(b"../etc/passwd").is_none());
        let five = tzset_offset(-5 * 3600).unwrap();
        assert_eq!(name_of(five), "<+05>-05");
        assert!(tzset_offset(168 * 3600).is_none());
        assert!(acceptable(ny));
        if let Some(r) = tzset(b"right/UTC") {
            assert!(!acceptable(r));
        }
    }

    /// NULL arguments (which PostgreSQL's functions would crash on) give
    /// the functions' failure values, and the library still works after.
    #[test]
    fn null_arguments_fail_cleanly() {
        let t: i64 = 0;
        let mut off: c_long = 7;
        let mut dst: c_int = 7;
        let mut at: i64 = 7;
        // SAFETY: NULL or valid pointers, as each function's contract says.
        unsafe {
            assert!(bgw_rs_pg_tzset(std::ptr::null()).is_null());
            assert!(bgw_rs_pg_localtime(&t, std::ptr::null()).is_null());
            assert!(
                bgw_rs_pg_localtime(std::ptr::null(), bgw_rs_pg_tzset(c"UTC".as_ptr())).is_null()
            );
            assert!(bgw_rs_pg_gmtime(std::ptr::null()).is_null());
            assert!(bgw_rs_pg_get_timezone_name(std::ptr::null()).is_null());
            assert!(!bgw_rs_pg_get_timezone_offset(std::ptr::null(), &mut off));
            assert!(!bgw_rs_pg_tz_acceptable(std::ptr::null()));
            let r = bgw_rs_pg_next_dst_boundary(
                &t,
                &mut off,
                &mut dst,
                &mut at,
                &mut off,
                &mut dst,
                std::ptr::null(),
            );
            assert_eq!(r, -1);
            assert!(!bgw_rs_pg_interpret_timezone_abbrev(
                std::ptr::null(),
                &t,
                &mut off,
                &mut dst,
                bgw_rs_pg_tzset(c"UTC".as_ptr())
            ));
            let mut buf = [0 as c_char; 8];
            assert_eq!(
                strftime::bgw_rs_pg_strftime(
                    buf.as_mut_ptr(),
                    8,
                    std::ptr::null(),
                    std::ptr::null()
                ),
                0
            );
            let tm = bgw_rs_pg_gmtime(&t);
            assert!(!tm.is_null());
            assert_eq!((*tm).tm_year, 70);
        }
        assert_eq!((off, dst, at), (7, 7, 7), "nothing written");
    }
}
