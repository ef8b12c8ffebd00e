//! The TimeZone and log_timezone settings' hooks (commands/variable.h):
//! `check_timezone`, `assign_timezone`, `show_timezone`,
//! `check_log_timezone`, `assign_log_timezone`, `show_log_timezone`, as
//! PostgreSQL's. The registry gives the two built-in settings these
//! hooks, so `session_timezone` and `log_timezone` follow every change
//! (start-up configuration, reload, SetConfigOption); modules may pass
//! them as hooks of their own settings (orafce does).
//!
//! * check_timezone accepts a number of hours (east of UTC, as strtod
//!   reads it, fractions allowed) as a fixed-offset zone, else a zone name
//!   or POSIX TZ string (pgtz/mod.rs). A zone counting leap seconds is
//!   refused with PostgreSQL's message, an offset beyond 167 hours with
//!   "UTC timezone offset is out of range.". The SQL-standard
//!   `INTERVAL '...'` form needs PostgreSQL's interval parser, which this
//!   library does not have: it is refused with a detail saying so.
//! * check_log_timezone accepts zone names (and TZ strings) only.
//! * Both pass the zone to their assign hook in a malloc'd `pg_tz *`
//!   (`*extra`, as guc_malloc gives it); the show hooks give the zone's
//!   name ("unknown" without one).

use super::*;

use crate::pgtz::{self, PgTz};

// The exports: C wrappers (c/pgtz.c) that run the Rust bodies below
// (bgw_rs_NAME) and raise what they recorded.
crate::c_export! {
    check_timezone => bgw_c_check_timezone,
    assign_timezone => bgw_c_assign_timezone,
    show_timezone => bgw_c_show_timezone,
    check_log_timezone => bgw_c_check_log_timezone,
    assign_log_timezone => bgw_c_assign_log_timezone,
    show_log_timezone => bgw_c_show_log_timezone,
}

/// Set a check-hook message (`GUC_check_errmsg` and friends): a palloc'd
/// copy in the current memory context, as PostgreSQL's macros make.
fn set_message(slot: &AtomicPtr<c_char>, text: &str) {
    let bytes = text.as_bytes();
    let p = crate::mcxt::bgw_rs_palloc(bytes.len() + 1, 0) as *mut u8;
    if p.is_null() {
        return;
    }
    // SAFETY: p has bytes.len() + 1 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    slot.store(p as *mut c_char, Ordering::Relaxed);
}

/// Hand `tz` to the assign hook through `*extra`; false if out of memory.
///
/// # Safety
/// `extra` is NULL or writable.
unsafe fn pass_zone(extra: *mut *mut c_void, tz: &'static PgTz) -> bool {
    if extra.is_null() {
        return true;
    }
    // SAFETY: malloc of a pointer's size; written before use.
    let p = unsafe { libc::malloc(std::mem::size_of::<*const PgTz>()) } as *mut *const PgTz;
    if p.is_null() {
        return false;
    }
    // SAFETY: p is a fresh allocation of that size; extra is writable.
    unsafe {
        *p = tz as *const PgTz;
        *extra = p as *mut c_void;
    }
    true
}

/// A named zone for either check hook: the zone, or false with the
/// messages set.
fn named_zone(name: &[u8]) -> Option<&'static PgTz> {
    let tz = pgtz::tzset(name)?;
    if !pgtz::acceptable(tz) {
        set_message(
            &GUC_check_errmsg_string,
            &format!(
                "time zone \"{}\" appears to use leap seconds",
                String::from_utf8_lossy(name)
            ),
        );
        set_message(
            &GUC_check_errdetail_string,
            "PostgreSQL does not support leap seconds.",
        );
        return None;
    }
    Some(tz)
}

/// The value of a string setting's check-hook argument.
///
/// # Safety
/// `newval` is NULL or points to NULL or a NUL-terminated string.
unsafe fn value_of<'a>(newval: *mut *mut c_char) -> Option<&'a [u8]> {
    // SAFETY: per the contract.
    let p = unsafe { newval.as_ref() }?;
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL, NUL-terminated per the contract.
    Some(unsafe { CStr::from_ptr(*p) }.to_bytes())
}

/// The zone a TimeZone value names, or None with the messages set.
fn timezone_value(v: &[u8]) -> Option<&'static PgTz> {
    if v.len() >= 8 && v[..8].eq_ignore_ascii_case(b"interval") {
        set_message(
            &GUC_check_errdetail_string,
            "The INTERVAL form of a time zone is not available in libbgworker.",
        );
        return None;
    }
    // A number of hours, as strtod reads the whole value.
    let c = CString::new(v).ok()?;
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: c is NUL-terminated; end receives a pointer into it.
    let hours = unsafe { libc::strtod(c.as_ptr(), &mut end) };
    // SAFETY: end points into c (at most its NUL).
    let whole = !std::ptr::eq(end, c.as_ptr()) && unsafe { *end } == 0;
    let tz = if whole {
        // SQL's sign convention (east positive) to POSIX's (west).
        let west = -hours * 3600.0;
        let west = if west.is_finite() && west.abs() < 9.0e18 {
            west as i64
        } else {
            i64::MIN
        };
        pgtz::tzset_offset(west)
    } else {
        return named_zone(v);
    };
    if tz.is_none() {
        set_message(
            &GUC_check_errdetail_string,
            "UTC timezone offset is out of range.",
        );
    }
    tz
}

/// The body of `bool check_timezone(char **newval, void **extra, GucSource source)`.
///
/// # Safety
/// `newval` points to the candidate value; `extra` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_check_timezone(
    newval: *mut *mut c_char,
    extra: *mut *mut c_void,
    _source: c_int,
) -> bool {
    crate::guard("bgw_rs_check_timezone", false, || {
        // SAFETY: per the contract.
        let Some(v) = (unsafe { value_of(newval) }) else {
            return false;
        };
        match timezone_value(v) {
            // SAFETY: extra per the contract.
            Some(tz) => unsafe { pass_zone(extra, tz) },
            None => false,
        }
    })
}

/// The body of `bool check_log_timezone(char **newval, void **extra, GucSource source)`.
///
/// # Safety
/// As check_timezone.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_check_log_timezone(
    newval: *mut *mut c_char,
    extra: *mut *mut c_void,
    _source: c_int,
) -> bool {
    crate::guard("bgw_rs_check_log_timezone", false, || {
        // SAFETY: per the contract.
        let Some(v) = (unsafe { value_of(newval) }) else {
            return false;
        };
        match named_zone(v) {
            // SAFETY: extra per the contract.
            Some(tz) => unsafe { pass_zone(extra, tz) },
            None => false,
        }
    })
}

/// The zone an assign hook's `extra` carries (NULL: none).
///
/// # Safety
/// `extra` is NULL or what a check hook above passed.
unsafe fn zone_of(extra: *mut c_void) -> *mut PgTz {
    if extra.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: per the contract, a malloc'd pg_tz pointer.
    unsafe { *(extra as *mut *mut PgTz) }
}

/// The body of `void assign_timezone(const char *newval, void *extra)`.
///
/// # Safety
/// `extra` is what check_timezone passed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_assign_timezone(_newval: *const c_char, extra: *mut c_void) {
    crate::guard("bgw_rs_assign_timezone", (), || {
        // SAFETY: per the contract.
        let tz = unsafe { zone_of(extra) };
        if !tz.is_null() {
            pgtz::session_timezone.store(tz, Ordering::Relaxed);
        }
    })
}

/// The body of `void assign_log_timezone(const char *newval, void *extra)`.
///
/// # Safety
/// `extra` is what check_log_timezone passed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_assign_log_timezone(_newval: *const c_char, extra: *mut c_void) {
    crate::guard("bgw_rs_assign_log_timezone", (), || {
        // SAFETY: per the contract.
        let tz = unsafe { zone_of(extra) };
        if !tz.is_null() {
            pgtz::log_timezone.store(tz, Ordering::Relaxed);
        }
    })
}

fn show(tz: *mut PgTz) -> *const c_char {
    // SAFETY: tz is NULL or a zone the library handed out.
    match unsafe { tz.as_ref() } {
        Some(z) => {
            // SAFETY: z is a zone.
            unsafe { pgtz::bgw_rs_pg_get_timezone_name(z) }
        }
        None => c"unknown".as_ptr(),
    }
}

/// The body of `const char *show_timezone(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_show_timezone() -> *const c_char {
    crate::guard("bgw_rs_show_timezone", c"unknown".as_ptr(), || {
        show(pgtz::session_timezone.load(Ordering::Relaxed))
    })
}

/// The body of `const char *show_log_timezone(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_show_log_timezone() -> *const c_char {
    crate::guard("bgw_rs_show_log_timezone", c"unknown".as_ptr(), || {
        show(pgtz::log_timezone.load(Ordering::Relaxed))
    })
}

/// The hooks the registry gives built-in setting `name`.
pub(super) fn builtin_hooks(name: &str) -> (StringCheck, StringAssign, ShowHook) {
    if name.eq_ignore_ascii_case("TimeZone") {
        (
            Some(bgw_rs_check_timezone),
            Some(bgw_rs_assign_timezone),
            Some(bgw_rs_show_timezone),
        )
    } else if name.eq_ignore_ascii_case("log_timezone") {
        (
            Some(bgw_rs_check_log_timezone),
            Some(bgw_rs_assign_log_timezone),
            Some(bgw_rs_show_log_timezone),
        )
    } else {
        (None, None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NULL value is refused (PostgreSQL's hooks would crash on it) and
    /// *extra stays untouched; a good one passes its zone to assign.
    #[test]
    fn hooks_refuse_null_and_pass_the_zone() {
        let mut extra: *mut c_void = std::ptr::null_mut();
        let mut null: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid pointers; the value pointer is NULL or a string.
        unsafe {
            assert!(!bgw_rs_check_timezone(std::ptr::null_mut(), &mut extra, 0));
            assert!(!bgw_rs_check_timezone(&mut null, &mut extra, 0));
            assert!(!bgw_rs_check_log_timezone(&mut null, &mut extra, 0));
            assert!(extra.is_null());
            let mut v = c"asia/KOLKATA".as_ptr() as *mut c_char;
            assert!(bgw_rs_check_timezone(&mut v, &mut extra, 0));
            assert!(!extra.is_null());
            let before = pgtz::session_timezone.load(Ordering::Relaxed);
            bgw_rs_assign_timezone(v, extra);
            let name = CStr::from_ptr(bgw_rs_show_timezone())
                .to_str()
                .unwrap()
                .to_string();
            assert_eq!(name, "Asia/Kolkata");
            pgtz::session_timezone.store(before, Ordering::Relaxed);
            libc::free(extra);
        }
    }
}
