//! Parsing and showing values: numbers with PostgreSQL's memory and time
//! units, booleans, enums and strings, with PostgreSQL's messages.

use super::*;

pub(super) const MEMORY_UNITS_HINT: &str =
    "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".";

pub(super) const TIME_UNITS_HINT: &str =
    "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";

/// Multiplier from `unit` to the base unit of `flags` (negative: divide).
pub(super) fn unit_factor(unit: &str, flags: c_int) -> Option<f64> {
    let mem = flags & GUC_UNIT_MEMORY;
    let time = flags & GUC_UNIT_TIME;
    if mem != 0 {
        let bytes: f64 = match unit {
            "B" => 1.0,
            "kB" => 1024.0,
            "MB" => 1024.0 * 1024.0,
            "GB" => 1024.0 * 1024.0 * 1024.0,
            "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        let base: f64 = match mem {
            GUC_UNIT_BYTE => 1.0,
            GUC_UNIT_KB => 1024.0,
            GUC_UNIT_BLOCKS | GUC_UNIT_XBLOCKS => 8192.0,
            GUC_UNIT_MB => 1024.0 * 1024.0,
            _ => return None,
        };
        return Some(bytes / base);
    }
    if time != 0 {
        let ms: f64 = match unit {
            "us" => 0.001,
            "ms" => 1.0,
            "s" => 1000.0,
            "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        let base: f64 = match time {
            GUC_UNIT_MS => 1.0,
            GUC_UNIT_S => 1000.0,
            GUC_UNIT_MIN => 60_000.0,
            _ => return None,
        };
        return Some(ms / base);
    }
    None
}

pub(super) fn unit_name(flags: c_int) -> Option<&'static str> {
    Some(match flags & (GUC_UNIT_MEMORY | GUC_UNIT_TIME) {
        GUC_UNIT_BYTE => "B",
        GUC_UNIT_KB => "kB",
        GUC_UNIT_BLOCKS | GUC_UNIT_XBLOCKS => "8kB",
        GUC_UNIT_MB => "MB",
        GUC_UNIT_MS => "ms",
        GUC_UNIT_S => "s",
        GUC_UNIT_MIN => "min",
        _ => return None,
    })
}

pub(super) fn units_hint(flags: c_int) -> Option<String> {
    if flags & GUC_UNIT_MEMORY != 0 {
        Some(MEMORY_UNITS_HINT.into())
    } else if flags & GUC_UNIT_TIME != 0 {
        Some(TIME_UNITS_HINT.into())
    } else {
        None
    }
}

/// The leading number of `s` as strtol(…, 0) / strtod read it, and the rest.
pub(super) fn split_number(s: &str, real: bool) -> Option<(f64, &str)> {
    if real {
        // strtod itself, as PostgreSQL's parse_real: hexadecimal, "inf",
        // "nan" and exponents as the C library reads them. Out of range
        // (ERANGE) is not a number.
        let c = CString::new(s).ok()?;
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: c is NUL-terminated; errno is this thread's.
        let (v, used, erange) = unsafe {
            *libc::__errno_location() = 0;
            let v = libc::strtod(c.as_ptr(), &mut end);
            let erange = *libc::__errno_location() == libc::ERANGE;
            (v, end.offset_from(c.as_ptr()) as usize, erange)
        };
        if used == 0 || erange {
            return None;
        }
        return Some((v, &s[used..]));
    }
    let t = s.trim_start();
    let bytes = t.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        i += 1;
    }
    let neg = t.starts_with('-');
    let digits = &t[i..];
    if !real && (digits.starts_with("0x") || digits.starts_with("0X")) {
        let hex: String = digits[2..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        let v = i64::from_str_radix(&hex, 16).ok()? as f64;
        return Some((if neg { -v } else { v }, &digits[2 + hex.len()..]));
    }
    let mut end = i;
    let mut seen_digit = false;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
        seen_digit = true;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
            seen_digit = true;
        }
    }
    if !seen_digit {
        return None;
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut e = end + 1;
        if e < bytes.len() && (bytes[e] == b'+' || bytes[e] == b'-') {
            e += 1;
        }
        if e < bytes.len() && bytes[e].is_ascii_digit() {
            while e < bytes.len() && bytes[e].is_ascii_digit() {
                e += 1;
            }
            end = e;
        }
    }
    let text = &t[..end];
    // A leading 0 with only digits is octal for strtol(…, 0).
    let v = if !real
        && !text.contains(['.', 'e', 'E'])
        && text.trim_start_matches(['+', '-']).len() > 1
        && text.trim_start_matches(['+', '-']).starts_with('0')
    {
        let o = i64::from_str_radix(text.trim_start_matches(['+', '-']), 8).ok()? as f64;
        if neg {
            -o
        } else {
            o
        }
    } else {
        text.parse::<f64>().ok()?
    };
    Some((v, &t[end..]))
}

/// Number with optional unit, converted to the variable's base unit.
pub(super) fn parse_number(value: &str, flags: c_int, real: bool) -> Result<f64, Option<String>> {
    let (v, rest) = split_number(value, real).ok_or(None)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(v);
    }
    if flags & (GUC_UNIT_MEMORY | GUC_UNIT_TIME) == 0 {
        return Err(None);
    }
    match unit_factor(rest, flags) {
        Some(f) => Ok(v * f),
        None => Err(units_hint(flags)),
    }
}

pub(super) fn invalid(name: &str, value: &str, hint: Option<String>) -> Invalid {
    Invalid::new(
        format!("invalid value for parameter \"{name}\": \"{value}\""),
        hint,
    )
}

pub(super) fn fmt_g(v: f64) -> String {
    let c = CString::new("%g").unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: snprintf into a local buffer with its size.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut c_char, buf.len(), c.as_ptr(), v) };
    String::from_utf8_lossy(&buf[..(n.max(0) as usize).min(63)]).into_owned()
}

pub(super) fn parse_value(v: &Var, value: &str) -> Result<Value, Invalid> {
    let name = &v.name;
    match &v.kind {
        Kind::Bool { .. } => settings::parse_bool(value).map(Value::Bool).ok_or_else(|| {
            Invalid::new(
                format!("parameter \"{name}\" requires a Boolean value"),
                None,
            )
        }),
        Kind::Int { min, max, .. } => {
            let x = parse_number(value, v.flags, false).map_err(|h| invalid(name, value, h))?;
            let x = x.round();
            if !(i32::MIN as f64..=i32::MAX as f64).contains(&x) {
                return Err(Invalid::new(
                    format!("invalid value for parameter \"{name}\": \"{value}\""),
                    Some("Value exceeds integer range.".into()),
                ));
            }
            let x = x as c_int;
            if x < *min || x > *max {
                let unit = unit_name(v.flags)
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default();
                // PostgreSQL 16 and later show the unit in the range too.
                let ru = if bgworker_core::identity::pg_major() >= 16 {
                    unit.as_str()
                } else {
                    ""
                };
                return Err(Invalid::new(
                    format!(
                        "{x}{unit} is outside the valid range for parameter \"{name}\" ({min}{ru} .. {max}{ru})"
                    ),
                    None,
                ));
            }
            Ok(Value::Int(x))
        }
        Kind::Real { min, max, .. } => {
            let x = parse_number(value, v.flags, true).map_err(|h| invalid(name, value, h))?;
            if x.is_nan() || x < *min || x > *max {
                let unit = unit_name(v.flags)
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default();
                let ru = if bgworker_core::identity::pg_major() >= 16 {
                    unit.as_str()
                } else {
                    ""
                };
                return Err(Invalid::new(
                    format!(
                        "{}{unit} is outside the valid range for parameter \"{name}\" ({}{ru} .. {}{ru})",
                        fmt_g(x),
                        fmt_g(*min),
                        fmt_g(*max)
                    ),
                    None,
                ));
            }
            Ok(Value::Real(x))
        }
        Kind::Str { .. } => Ok(Value::Str(Some(
            CString::new(value.replace('\0', "")).unwrap_or_default(),
        ))),
        Kind::Enum { options, .. } => options
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(value.trim()))
            .map(|(_, val, _)| Value::Enum(*val))
            .ok_or_else(|| {
                let shown: Vec<&str> = options
                    .iter()
                    .filter(|(_, _, hidden)| !hidden)
                    .map(|(n, _, _)| n.as_str())
                    .collect();
                invalid(
                    name,
                    value,
                    Some(format!("Available values: {}.", shown.join(", "))),
                )
            }),
    }
}

/// Current value as GetConfigOption shows it.
pub(super) fn show(v: &Var) -> String {
    // SAFETY: the addresses are the module's variables, valid for the
    // life of the process (PostgreSQL's contract for valueAddr).
    unsafe {
        match &v.kind {
            Kind::Bool { addr, .. } => if **addr { "on" } else { "off" }.into(),
            Kind::Int { addr, .. } => (**addr).to_string(),
            Kind::Real { addr, .. } => fmt_g(**addr),
            Kind::Str { addr, .. } => {
                if (**addr).is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(**addr).to_string_lossy().into_owned()
                }
            }
            Kind::Enum { addr, options, .. } => options
                .iter()
                .find(|(_, val, _)| *val == **addr)
                .map(|(n, _, _)| n.clone())
                .unwrap_or_else(|| (**addr).to_string()),
        }
    }
}
