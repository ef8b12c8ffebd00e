//! guc.c's small lookups and parsers that modules call on their own:
//! `GetConfigOptionFlags`, `parse_int`, `parse_real`,
//! `config_enum_lookup_by_value` and `config_enum_lookup_by_name`.
//! Flags words are the caller's major's numbering (the registry keeps
//! 15's; see define.rs' `flags_as_15`).

use super::*;

crate::c_export! {
    GetConfigOptionFlags => bgw_c_GetConfigOptionFlags,
    parse_int => bgw_c_parse_int,
    parse_real => bgw_c_parse_real,
    config_enum_lookup_by_value => bgw_c_config_enum_lookup_by_value,
    config_enum_lookup_by_name => bgw_c_config_enum_lookup_by_name,
    // utils/builtins.h's boolean reader (c/parse_bool.c).
    parse_bool => bgw_c_parse_bool,
    parse_bool_with_len => bgw_c_parse_bool_with_len,
}

/// `GetConfigOptionFlags(name, missing_ok)`: the setting's flags word, 0
/// for an unknown name when `missing_ok`, else PostgreSQL's ERROR.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GetConfigOptionFlags(name: *const c_char, missing_ok: bool) -> c_int {
    crate::guard("GetConfigOptionFlags", 0, || {
        let Some(n) = name_arg(name) else {
            return 0;
        };
        let major = bgworker_core::identity::pg_major();
        if let Some(v) = find(&n) {
            return tables::flags_for_major(v.flags, major);
        }
        // Settings bgworkerd keeps itself (PostgreSQL's flags from the
        // major's list), and placeholders (configured custom names).
        let key = n.to_ascii_lowercase();
        if let Some(b) = builtin::builtins(major)
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&key))
        {
            return tables::flags_for_major(b.flags, major);
        }
        if key.contains('.') && settings::current().custom.contains_key(&key) {
            return tables::flags_for_major(tables::PLACEHOLDER_FLAGS_15, major);
        }
        if !missing_ok {
            raise(
                ERROR,
                ERRCODE_UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{n}\""),
                None,
            );
        }
        0
    })
}

/// Hints handed to a caller of parse_int / parse_real: static strings,
/// as PostgreSQL's (gettext_noop constants).
static MEMORY_HINT: &CStr =
    c"Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".";
static TIME_HINT: &CStr =
    c"Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";
static RANGE_HINT: &CStr = c"Value exceeds integer range.";

fn hint_ptr(h: Option<String>) -> *const c_char {
    match h.as_deref() {
        Some(units::MEMORY_UNITS_HINT) => MEMORY_HINT.as_ptr(),
        Some(units::TIME_UNITS_HINT) => TIME_HINT.as_ptr(),
        Some(_) => RANGE_HINT.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Parse `value` as PostgreSQL's parse_int / parse_real: a number with an
/// optional unit the flags allow, in the flags' base unit.
fn parse(
    value: *const c_char,
    flags: c_int,
    hintmsg: *mut *const c_char,
    real: bool,
) -> Option<f64> {
    if !hintmsg.is_null() {
        // SAFETY: the caller's out parameter.
        unsafe { *hintmsg = std::ptr::null() };
    }
    let text = crate::misc::c_str(value)?;
    let flags = flags_as_15(flags, bgworker_core::identity::pg_major());
    match parse_number(&text, flags, real) {
        Ok(x) => Some(x),
        Err(h) => {
            if !hintmsg.is_null() {
                // SAFETY: as above.
                unsafe { *hintmsg = hint_ptr(h) };
            }
            None
        }
    }
}

/// `parse_int(value, result, flags, hintmsg)`: true and `*result` for a
/// valid integer (rounded after unit conversion); false, with the hint
/// PostgreSQL gives, otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_parse_int(
    value: *const c_char,
    result: *mut c_int,
    flags: c_int,
    hintmsg: *mut *const c_char,
) -> bool {
    crate::guard("parse_int", false, || {
        if !result.is_null() {
            // SAFETY: the caller's out parameter (PostgreSQL zeroes it).
            unsafe { *result = 0 };
        }
        let Some(x) = parse(value, flags, hintmsg, false) else {
            return false;
        };
        let x = x.round();
        if x.is_nan() || !(i32::MIN as f64..=i32::MAX as f64).contains(&x) {
            if !hintmsg.is_null() {
                // SAFETY: the caller's out parameter.
                unsafe { *hintmsg = RANGE_HINT.as_ptr() };
            }
            return false;
        }
        if !result.is_null() {
            // SAFETY: as above.
            unsafe { *result = x as c_int };
        }
        true
    })
}

/// `parse_real(value, result, flags, hintmsg)`: as parse_int for a
/// double; NaN is refused as PostgreSQL does.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_parse_real(
    value: *const c_char,
    result: *mut f64,
    flags: c_int,
    hintmsg: *mut *const c_char,
) -> bool {
    crate::guard("parse_real", false, || {
        if !result.is_null() {
            // SAFETY: the caller's out parameter (PostgreSQL zeroes it).
            unsafe { *result = 0.0 };
        }
        let Some(x) = parse(value, flags, hintmsg, true) else {
            return false;
        };
        if x.is_nan() || x.is_infinite() {
            return false;
        }
        if !result.is_null() {
            // SAFETY: as above.
            unsafe { *result = x };
        }
        true
    })
}

/// The option array of a `struct config_enum` record: after its generic
/// part, `int *variable` (8) and `int boot_val` (4, padded to 8).
///
/// # Safety
/// `record` is a `struct config_enum` of the process's major.
unsafe fn enum_options(record: *const u8) -> *const EnumEntry {
    let generic = if bgworker_core::identity::pg_major() >= 16 {
        tables::GEN16_SIZE
    } else {
        tables::GEN15_SIZE
    };
    // SAFETY: per the function's contract.
    unsafe { *(record.add(generic + 16) as *const *const EnumEntry) }
}

/// `config_enum_lookup_by_value(record, val)`: the option's name, or
/// PostgreSQL's ERROR "could not find enum option %d for %s".
///
/// # Safety
/// `record` is NULL or a `struct config_enum` (one of the table's records,
/// or a module's in the same layout).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_config_enum_lookup_by_value(
    record: *const u8,
    val: c_int,
) -> *const c_char {
    crate::guard("config_enum_lookup_by_value", std::ptr::null(), || {
        if record.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "configuration record is NULL".into(),
                None,
            );
            return std::ptr::null();
        }
        // SAFETY: per the function's contract; the option array ends with
        // a NULL name.
        unsafe {
            let mut p = enum_options(record);
            while !p.is_null() && !(*p).name.is_null() {
                if (*p).val == val {
                    return (*p).name;
                }
                p = p.add(1);
            }
            let name = CStr::from_ptr(*(record as *const *const c_char)).to_string_lossy();
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                format!("could not find enum option {val} for {name}"),
                None,
            );
        }
        std::ptr::null()
    })
}

/// `config_enum_lookup_by_name(record, value, retval)`: true and the
/// option's value for a name matching `value` in any case, else false.
///
/// # Safety
/// As [`bgw_rs_config_enum_lookup_by_value`]; `value` NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_config_enum_lookup_by_name(
    record: *const u8,
    value: *const c_char,
    retval: *mut c_int,
) -> bool {
    crate::guard("config_enum_lookup_by_name", false, || {
        let Some(want) = crate::misc::c_str(value) else {
            return false;
        };
        if record.is_null() {
            return false;
        }
        // SAFETY: per the function's contract.
        unsafe {
            let mut p = enum_options(record);
            while !p.is_null() && !(*p).name.is_null() {
                if CStr::from_ptr((*p).name)
                    .to_string_lossy()
                    .eq_ignore_ascii_case(&want)
                {
                    if !retval.is_null() {
                        *retval = (*p).val;
                    }
                    return true;
                }
                p = p.add(1);
            }
            if !retval.is_null() {
                *retval = 0;
            }
        }
        false
    })
}
