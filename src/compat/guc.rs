//! Custom settings for modules (utils/guc.h): `DefineCustom*Variable`,
//! `MarkGUCPrefixReserved`, `GetConfigOption`, `SetConfigOption` and
//! `ProcessConfigFile`, with PostgreSQL 15's parsing (units included),
//! range checks, hooks and messages.
//!
//! Values come from bgworkerd's settings: `-c prefix.name=value` and
//! `prefix.name = value` lines of `RUNDIR/bgworker.conf` (see
//! settings.rs), which are kept as placeholders until a module defines the
//! variable. Defining applies the placeholder's value; an invalid one is a
//! WARNING and the boot value stays, as in PostgreSQL.
//!
//! The registry is per process: a preloaded module defines its variables in
//! the supervisor (`_PG_init`), and workers inherit them at fork. A reload
//! (`ProcessConfigFile(PGC_SIGHUP)`, run by a worker after SIGHUP and by
//! the supervisor itself) re-reads the file and applies changed values to
//! variables whose context allows it.
//!
//! Module hooks (check/assign/show) are called with no lock held, since
//! they may call back into this module (GetConfigOption).

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::sync::Mutex;

use super::elog::{
    raise, ERRCODE_CANT_CHANGE_RUNTIME_PARAM, ERRCODE_INTERNAL_ERROR, ERRCODE_INVALID_NAME,
    ERRCODE_INVALID_PARAMETER_VALUE, ERRCODE_UNDEFINED_OBJECT,
};
use crate::log::{self, DEBUG2, ERROR, FATAL, LOG, WARNING};
use crate::settings;

// GucContext (utils/guc.h).
pub const PGC_INTERNAL: c_int = 0;
pub const PGC_POSTMASTER: c_int = 1;
pub const PGC_SIGHUP: c_int = 2;

// GucSource.
const PGC_S_DEFAULT: c_int = 0;
const PGC_S_FILE: c_int = 3;
const PGC_S_ARGV: c_int = 4;

const GUC_UNIT_KB: c_int = 0x1000;
const GUC_UNIT_BLOCKS: c_int = 0x2000;
const GUC_UNIT_XBLOCKS: c_int = 0x3000;
const GUC_UNIT_MB: c_int = 0x4000;
const GUC_UNIT_BYTE: c_int = 0x8000;
const GUC_UNIT_MEMORY: c_int = 0xF000;
const GUC_UNIT_MS: c_int = 0x10000;
const GUC_UNIT_S: c_int = 0x20000;
const GUC_UNIT_MIN: c_int = 0x30000;
const GUC_UNIT_TIME: c_int = 0xF0000;

type BoolCheck = Option<unsafe extern "C" fn(*mut bool, *mut *mut c_void, c_int) -> bool>;
type IntCheck = Option<unsafe extern "C" fn(*mut c_int, *mut *mut c_void, c_int) -> bool>;
type RealCheck = Option<unsafe extern "C" fn(*mut f64, *mut *mut c_void, c_int) -> bool>;
type StringCheck = Option<unsafe extern "C" fn(*mut *mut c_char, *mut *mut c_void, c_int) -> bool>;
type BoolAssign = Option<unsafe extern "C" fn(bool, *mut c_void)>;
type IntAssign = Option<unsafe extern "C" fn(c_int, *mut c_void)>;
type RealAssign = Option<unsafe extern "C" fn(f64, *mut c_void)>;
type StringAssign = Option<unsafe extern "C" fn(*const c_char, *mut c_void)>;
type ShowHook = Option<unsafe extern "C" fn() -> *const c_char>;

/// `struct config_enum_entry`.
#[repr(C)]
pub struct EnumEntry {
    name: *const c_char,
    val: c_int,
    hidden: bool,
}

#[derive(Clone)]
enum Kind {
    Bool {
        addr: *mut bool,
        boot: bool,
        check: BoolCheck,
        assign: BoolAssign,
    },
    Int {
        addr: *mut c_int,
        boot: c_int,
        min: c_int,
        max: c_int,
        check: IntCheck,
        assign: IntAssign,
    },
    Real {
        addr: *mut f64,
        boot: f64,
        min: f64,
        max: f64,
        check: RealCheck,
        assign: RealAssign,
    },
    Str {
        addr: *mut *mut c_char,
        boot: Option<CString>,
        check: StringCheck,
        assign: StringAssign,
    },
    Enum {
        addr: *mut c_int,
        boot: c_int,
        options: Vec<(String, c_int, bool)>,
        check: IntCheck,
        assign: IntAssign,
    },
}

impl Kind {
    /// Did the module pass a NULL valueAddr?
    fn addr_is_null(&self) -> bool {
        match self {
            Kind::Bool { addr, .. } => addr.is_null(),
            Kind::Int { addr, .. } | Kind::Enum { addr, .. } => addr.is_null(),
            Kind::Real { addr, .. } => addr.is_null(),
            Kind::Str { addr, .. } => addr.is_null(),
        }
    }
}

#[derive(Clone)]
struct Var {
    name: String,
    context: c_int,
    flags: c_int,
    kind: Kind,
    show: ShowHook,
    /// Where the current value came from (PGC_S_*).
    source: c_int,
}

// SAFETY: the raw pointers are addresses of the module's variables, used
// only by the process's module thread; the Mutex serialises the registry.
unsafe impl Send for Var {}

struct Registry {
    vars: Vec<Var>,
    reserved: Vec<String>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    vars: Vec::new(),
    reserved: Vec::new(),
});

fn registry<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut g = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

fn find(name: &str) -> Option<Var> {
    registry(|r| {
        r.vars
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .cloned()
    })
}

fn set_source(name: &str, source: c_int) {
    registry(|r| {
        if let Some(v) = r
            .vars
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            v.source = source;
        }
    })
}

/// Addresses of the string values this code allocated that a module's
/// variable still holds. Only these are ever freed: a variable's initial
/// value (`static char *x = "literal";` in most extensions) was not
/// allocated here, and PostgreSQL likewise frees only the values it
/// allocated itself. Values a check hook substitutes are malloc'd by the
/// hook's contract (guc_malloc/guc_strdup) and become ours too.
static ALLOCATED_STRINGS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A variable's value changes from `old` to `new` (allocated here, or
/// NULL): record `new` as ours and say whether `old` was ours to free.
fn adopt_string(old: *mut c_char, new: *mut c_char) -> bool {
    let mut a = ALLOCATED_STRINGS.lock().unwrap_or_else(|e| e.into_inner());
    let owned = match a.iter().position(|&x| x == old as usize) {
        Some(i) if !old.is_null() => {
            a.swap_remove(i);
            true
        }
        _ => false,
    };
    if !new.is_null() {
        a.push(new as usize);
    }
    owned
}

/// PostgreSQL's valid_custom_variable_name: two or more identifiers
/// joined by dots.
fn valid_custom_name(name: &str) -> bool {
    let mut saw_sep = false;
    let mut name_start = true;
    for b in name.bytes() {
        if b == b'.' {
            if name_start {
                return false;
            }
            saw_sep = true;
            name_start = true;
        } else if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            name_start = false;
        } else if !name_start && (b.is_ascii_digit() || b == b'$') {
        } else {
            return false;
        }
    }
    !name_start && saw_sep
}

/// A parse or check failure: message, optional detail and hint, SQLSTATE.
/// `caught`: a hook raised an ERROR itself, which is still on the error
/// stack (see elog::call_caught); the rest is then empty.
struct Invalid {
    message: String,
    hint: Option<String>,
    detail: Option<String>,
    code: i32,
    caught: bool,
}

impl Invalid {
    fn new(message: String, hint: Option<String>) -> Invalid {
        Invalid {
            message,
            hint,
            detail: None,
            code: ERRCODE_INVALID_PARAMETER_VALUE,
            caught: false,
        }
    }

    fn caught() -> Invalid {
        Invalid {
            caught: true,
            ..Invalid::new(String::new(), None)
        }
    }
}

/// Call a module hook, turning an ERROR it raises into `Invalid::caught`.
fn hook<R: Default>(mut f: impl FnMut() -> R) -> Result<R, Invalid> {
    let mut out = R::default();
    if super::elog::call_caught(&mut || out = f()) {
        Ok(out)
    } else {
        Err(Invalid::caught())
    }
}

/// What a check hook says about a value it rejects, set with
/// `GUC_check_errmsg()` / `GUC_check_errdetail()` / `GUC_check_errhint()`
/// (macros that assign these palloc'd strings) and `GUC_check_errcode()`.
/// Cleared before each check hook runs.
#[unsafe(no_mangle)]
pub static GUC_check_errmsg_string: AtomicPtr<c_char> = AtomicPtr::new(std::ptr::null_mut());
#[unsafe(no_mangle)]
pub static GUC_check_errdetail_string: AtomicPtr<c_char> = AtomicPtr::new(std::ptr::null_mut());
#[unsafe(no_mangle)]
pub static GUC_check_errhint_string: AtomicPtr<c_char> = AtomicPtr::new(std::ptr::null_mut());
static GUC_CHECK_ERRCODE: AtomicI32 = AtomicI32::new(ERRCODE_INVALID_PARAMETER_VALUE);

/// `GUC_check_errcode(sqlerrcode)`: the SQLSTATE of the coming rejection.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GUC_check_errcode(sqlerrcode: c_int) {
    super::guard("GUC_check_errcode", (), || {
        GUC_CHECK_ERRCODE.store(sqlerrcode, Ordering::Relaxed);
    })
}

fn clear_check_messages() {
    for s in [
        &GUC_check_errmsg_string,
        &GUC_check_errdetail_string,
        &GUC_check_errhint_string,
    ] {
        s.store(std::ptr::null_mut(), Ordering::Relaxed);
    }
    GUC_CHECK_ERRCODE.store(ERRCODE_INVALID_PARAMETER_VALUE, Ordering::Relaxed);
}

/// A rejection by a check hook, with what the hook said (PostgreSQL's
/// call_*_check_hook), or `default` as the message.
fn check_rejection(default: String) -> Invalid {
    let take = |s: &AtomicPtr<c_char>| super::misc::c_str(s.load(Ordering::Relaxed));
    Invalid {
        message: take(&GUC_check_errmsg_string).unwrap_or(default),
        detail: take(&GUC_check_errdetail_string),
        hint: take(&GUC_check_errhint_string),
        code: GUC_CHECK_ERRCODE.load(Ordering::Relaxed),
        caught: false,
    }
}

const MEMORY_UNITS_HINT: &str =
    "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".";
const TIME_UNITS_HINT: &str =
    "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";

/// Multiplier from `unit` to the base unit of `flags` (negative: divide).
fn unit_factor(unit: &str, flags: c_int) -> Option<f64> {
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

fn unit_name(flags: c_int) -> Option<&'static str> {
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

fn units_hint(flags: c_int) -> Option<String> {
    if flags & GUC_UNIT_MEMORY != 0 {
        Some(MEMORY_UNITS_HINT.into())
    } else if flags & GUC_UNIT_TIME != 0 {
        Some(TIME_UNITS_HINT.into())
    } else {
        None
    }
}

/// The leading number of `s` as strtol(…, 0) / strtod read it, and the rest.
fn split_number(s: &str, real: bool) -> Option<(f64, &str)> {
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
fn parse_number(value: &str, flags: c_int, real: bool) -> Result<f64, Option<String>> {
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

fn invalid(name: &str, value: &str, hint: Option<String>) -> Invalid {
    Invalid::new(
        format!("invalid value for parameter \"{name}\": \"{value}\""),
        hint,
    )
}

fn fmt_g(v: f64) -> String {
    let c = CString::new("%g").unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: snprintf into a local buffer with its size.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut c_char, buf.len(), c.as_ptr(), v) };
    String::from_utf8_lossy(&buf[..(n.max(0) as usize).min(63)]).into_owned()
}

/// A parsed value, ready to store.
enum Value {
    Bool(bool),
    Int(c_int),
    Real(f64),
    Str(Option<CString>),
    Enum(c_int),
}

fn parse_value(v: &Var, value: &str) -> Result<Value, Invalid> {
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
                return Err(Invalid::new(
                    format!(
                        "{x}{unit} is outside the valid range for parameter \"{name}\" ({min} .. {max})"
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
                return Err(Invalid::new(
                    format!(
                        "{}{unit} is outside the valid range for parameter \"{name}\" ({} .. {})",
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
fn show(v: &Var) -> String {
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

/// Run the check hook and, if it accepts, store the value and run the
/// assign hook. Returns whether the variable's shown value changed.
fn store(v: &Var, value: Value, source: c_int) -> Result<bool, Invalid> {
    let before = show(v);
    let mut extra: *mut c_void = std::ptr::null_mut();
    let rejected = |shown: String| {
        check_rejection(format!(
            "invalid value for parameter \"{}\": {shown}",
            v.name
        ))
    };
    clear_check_messages();
    // SAFETY: hooks and addresses come from the module's DefineCustom*
    // call; values passed are valid for the hook's type.
    unsafe {
        match (&v.kind, value) {
            (
                Kind::Bool {
                    addr,
                    check,
                    assign,
                    ..
                },
                Value::Bool(mut b),
            ) => {
                if let Some(c) = check {
                    if !hook(|| c(&mut b, &mut extra, source))? {
                        return Err(rejected((b as i32).to_string()));
                    }
                }
                **addr = b;
                if let Some(a) = assign {
                    hook(|| a(b, extra))?;
                }
            }
            (
                Kind::Int {
                    addr,
                    check,
                    assign,
                    ..
                },
                Value::Int(mut i),
            )
            | (
                Kind::Enum {
                    addr,
                    check,
                    assign,
                    ..
                },
                Value::Enum(mut i),
            ) => {
                if let Some(c) = check {
                    if !hook(|| c(&mut i, &mut extra, source))? {
                        return Err(rejected(i.to_string()));
                    }
                }
                **addr = i;
                if let Some(a) = assign {
                    hook(|| a(i, extra))?;
                }
            }
            (
                Kind::Real {
                    addr,
                    check,
                    assign,
                    ..
                },
                Value::Real(mut r),
            ) => {
                if let Some(c) = check {
                    if !hook(|| c(&mut r, &mut extra, source))? {
                        return Err(rejected(fmt_g(r)));
                    }
                }
                **addr = r;
                if let Some(a) = assign {
                    hook(|| a(r, extra))?;
                }
            }
            (
                Kind::Str {
                    addr,
                    check,
                    assign,
                    ..
                },
                Value::Str(s),
            ) => {
                // The module's variable gets a malloc'd copy (PostgreSQL's
                // guc_strdup); the previous one is freed only if this code
                // allocated it (see ALLOCATED_STRINGS).
                let mut p = match &s {
                    Some(c) => libc::strdup(c.as_ptr()),
                    None => std::ptr::null_mut(),
                };
                if let Some(c) = check {
                    let accepted = match hook(|| c(&mut p, &mut extra, source)) {
                        Ok(ok) => ok,
                        Err(e) => {
                            libc::free(p as *mut c_void);
                            return Err(e);
                        }
                    };
                    if !accepted {
                        let shown = s
                            .as_ref()
                            .map(|c| c.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        libc::free(p as *mut c_void);
                        return Err(rejected(format!("\"{shown}\"")));
                    }
                }
                let old = **addr;
                **addr = p;
                if adopt_string(old, p) && !old.is_null() && old != p {
                    libc::free(old as *mut c_void);
                }
                if let Some(a) = assign {
                    hook(|| a(p, extra))?;
                }
            }
            _ => unreachable!("value parsed for this variable's kind"),
        }
    }
    set_source(&v.name, source);
    Ok(show(v) != before)
}

/// Log a rejected value at `level` (an ERROR a hook raised itself is
/// logged as it stands, and cleared).
fn report_invalid(level: i32, e: &Invalid) {
    if e.caught {
        super::elog::report_caught();
    } else {
        super::elog::report(
            level,
            &e.message,
            e.detail.as_deref(),
            e.hint.as_deref(),
            None,
        );
    }
}

/// The value bgworkerd's settings give `name` (command line over file),
/// with its source.
fn configured(s: &settings::Settings, name: &str) -> Option<(String, c_int)> {
    let lname = name.to_ascii_lowercase();
    let v = s.custom.get(&lname)?;
    let src = if settings::command_line()
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        PGC_S_ARGV
    } else {
        PGC_S_FILE
    };
    Some((v.clone(), src))
}

fn boot_value(v: &Var) -> Value {
    match &v.kind {
        Kind::Bool { boot, .. } => Value::Bool(*boot),
        Kind::Int { boot, .. } => Value::Int(*boot),
        Kind::Real { boot, .. } => Value::Real(*boot),
        Kind::Str { boot, .. } => Value::Str(boot.clone()),
        Kind::Enum { boot, .. } => Value::Enum(*boot),
    }
}

/// Common part of the DefineCustom*Variable functions.
fn define(name: *const c_char, context: c_int, flags: c_int, kind: Kind, show: ShowHook) {
    if kind.addr_is_null() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "custom variable address is NULL".into(),
            None,
        );
        return;
    }
    let Some(name) = super::misc::c_str(name) else {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "custom variable name is NULL".into(),
            None,
        );
        return;
    };
    if !valid_custom_name(&name) {
        raise(
            ERROR,
            ERRCODE_INVALID_NAME,
            format!("invalid configuration parameter name \"{name}\""),
            Some(
                "Custom parameter names must be two or more simple identifiers separated by dots."
                    .into(),
            ),
        );
        return;
    }
    let preloading = super::misc::process_shared_preload_libraries_in_progress
        .load(std::sync::atomic::Ordering::Relaxed);
    if context == PGC_POSTMASTER && !preloading {
        raise(
            FATAL,
            ERRCODE_INTERNAL_ERROR,
            "cannot create PGC_POSTMASTER variables after startup".into(),
            None,
        );
        return;
    }
    if find(&name).is_some() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            format!("attempt to redefine parameter \"{name}\""),
            None,
        );
        return;
    }
    let var = Var {
        name: name.clone(),
        context,
        flags,
        kind,
        show,
        source: PGC_S_DEFAULT,
    };
    registry(|r| r.vars.push(var.clone()));
    // The boot value first (PostgreSQL: a boot value the check hook
    // rejects is a FATAL error), then the configured one, if any.
    if let Err(e) = store(&var, boot_value(&var), PGC_S_DEFAULT) {
        registry(|r| r.vars.retain(|v| !v.name.eq_ignore_ascii_case(&name)));
        raise(
            FATAL,
            ERRCODE_INTERNAL_ERROR,
            format!("failed to initialize {name}: {}", e.message),
            None,
        );
        return;
    }
    if let Some((value, src)) = configured(&settings::current(), &name) {
        match parse_value(&var, &value).and_then(|v| store(&var, v, src)) {
            Ok(_) => {}
            Err(e) => report_invalid(WARNING, &e),
        }
    }
}

/// # Safety
/// The pointers are NULL or what PostgreSQL's DefineCustom*Variable
/// takes: NUL-terminated strings, the module's variable, a
/// NULL-terminated option array.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn bgw_rs_DefineCustomBoolVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    value_addr: *mut bool,
    boot: bool,
    context: c_int,
    flags: c_int,
    check: BoolCheck,
    assign: BoolAssign,
    show: ShowHook,
) {
    super::guard("bgw_rs_DefineCustomBoolVariable", (), || {
        define(
            name,
            context,
            flags,
            Kind::Bool {
                addr: value_addr,
                boot,
                check,
                assign,
            },
            show,
        );
    })
}

/// # Safety
/// The pointers are NULL or what PostgreSQL's DefineCustom*Variable
/// takes: NUL-terminated strings, the module's variable, a
/// NULL-terminated option array.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn bgw_rs_DefineCustomIntVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    value_addr: *mut c_int,
    boot: c_int,
    min: c_int,
    max: c_int,
    context: c_int,
    flags: c_int,
    check: IntCheck,
    assign: IntAssign,
    show: ShowHook,
) {
    super::guard("bgw_rs_DefineCustomIntVariable", (), || {
        define(
            name,
            context,
            flags,
            Kind::Int {
                addr: value_addr,
                boot,
                min,
                max,
                check,
                assign,
            },
            show,
        );
    })
}

/// # Safety
/// The pointers are NULL or what PostgreSQL's DefineCustom*Variable
/// takes: NUL-terminated strings, the module's variable, a
/// NULL-terminated option array.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn bgw_rs_DefineCustomRealVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    value_addr: *mut f64,
    boot: f64,
    min: f64,
    max: f64,
    context: c_int,
    flags: c_int,
    check: RealCheck,
    assign: RealAssign,
    show: ShowHook,
) {
    super::guard("bgw_rs_DefineCustomRealVariable", (), || {
        define(
            name,
            context,
            flags,
            Kind::Real {
                addr: value_addr,
                boot,
                min,
                max,
                check,
                assign,
            },
            show,
        );
    })
}

/// # Safety
/// The pointers are NULL or what PostgreSQL's DefineCustom*Variable
/// takes: NUL-terminated strings, the module's variable, a
/// NULL-terminated option array.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn bgw_rs_DefineCustomStringVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    value_addr: *mut *mut c_char,
    boot: *const c_char,
    context: c_int,
    flags: c_int,
    check: StringCheck,
    assign: StringAssign,
    show: ShowHook,
) {
    super::guard("bgw_rs_DefineCustomStringVariable", (), || {
        // SAFETY: NULL or a NUL-terminated string (the boot value).
        let boot = (!boot.is_null()).then(|| unsafe { CStr::from_ptr(boot) }.to_owned());
        define(
            name,
            context,
            flags,
            Kind::Str {
                addr: value_addr,
                boot,
                check,
                assign,
            },
            show,
        );
    })
}

/// # Safety
/// The pointers are NULL or what PostgreSQL's DefineCustom*Variable
/// takes: NUL-terminated strings, the module's variable, a
/// NULL-terminated option array.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn bgw_rs_DefineCustomEnumVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    value_addr: *mut c_int,
    boot: c_int,
    options: *const EnumEntry,
    context: c_int,
    flags: c_int,
    check: IntCheck,
    assign: IntAssign,
    show: ShowHook,
) {
    super::guard("bgw_rs_DefineCustomEnumVariable", (), || {
        // (A NULL valueAddr is reported by define.)
        if options.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "custom variable options are NULL".into(),
                None,
            );
            return;
        }
        let mut list = Vec::new();
        // SAFETY: options is an array terminated by an entry with a NULL name
        // (PostgreSQL's contract).
        unsafe {
            let mut p = options;
            while !(*p).name.is_null() && list.len() < 10_000 {
                list.push((
                    CStr::from_ptr((*p).name).to_string_lossy().into_owned(),
                    (*p).val,
                    (*p).hidden,
                ));
                p = p.add(1);
            }
        }
        define(
            name,
            context,
            flags,
            Kind::Enum {
                addr: value_addr,
                boot,
                options: list,
                check,
                assign,
            },
            show,
        );
    })
}

/// `MarkGUCPrefixReserved(className)`: configured names under the prefix
/// that no module defined are reported and dropped.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_MarkGUCPrefixReserved(class_name: *const c_char) {
    super::guard("MarkGUCPrefixReserved", (), || {
        super::super::api::boundary("MarkGUCPrefixReserved", (), || {
            let Some(class) = super::misc::c_str(class_name) else {
                return;
            };
            let prefix = format!("{}.", class.to_ascii_lowercase());
            let placeholders: Vec<String> = settings::current()
                .custom
                .keys()
                .filter(|k| k.starts_with(&prefix) && find(k).is_none())
                .cloned()
                .collect();
            for name in placeholders {
                super::elog::report(
                    WARNING,
                    &format!("invalid configuration parameter name \"{name}\", removing it"),
                    Some(&format!("\"{class}\" is now a reserved prefix.")),
                    None,
                    None,
                );
                settings::with_current(|s| s.custom.remove(&name));
            }
            registry(|r| r.reserved.push(class));
        })
    })
}

thread_local! {
    /// GetConfigOption's result buffer (valid until the next call, as
    /// PostgreSQL's static buffer).
    static SHOWN: std::cell::RefCell<CString> = std::cell::RefCell::new(CString::default());
}

/// `GetConfigOption(name, missing_ok, restrict_privileged)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GetConfigOption(
    name: *const c_char,
    missing_ok: bool,
    _restrict: bool,
) -> *const c_char {
    super::guard("bgw_rs_GetConfigOption", std::ptr::null(), || {
        let Some(name) = super::misc::c_str(name) else {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "configuration parameter name is NULL".into(),
                None,
            );
            return std::ptr::null();
        };
        let text = if let Some(v) = find(&name) {
            match v.show {
                Some(h) => {
                    // SAFETY: the module's show hook returns a string it owns.
                    return match hook(|| unsafe { h() } as usize) {
                        Ok(p) => p as *const c_char,
                        Err(_) => {
                            super::elog::rethrow_caught();
                            std::ptr::null()
                        }
                    };
                }
                None => show(&v),
            }
        } else {
            let s = settings::current();
            let lname = name.to_ascii_lowercase();
            if let Some(c) = s.custom.get(&lname) {
                c.clone()
            } else if settings::is_known(&lname) {
                if lname == "log_min_messages" {
                    log::level_word(s.log_min_messages).to_string()
                } else {
                    s.show(&lname)
                }
            } else {
                if !missing_ok {
                    raise(
                        ERROR,
                        ERRCODE_UNDEFINED_OBJECT,
                        format!("unrecognized configuration parameter \"{name}\""),
                        None,
                    );
                }
                return std::ptr::null();
            }
        };
        SHOWN.with(|b| {
            *b.borrow_mut() = CString::new(text.replace('\0', "")).unwrap_or_default();
            b.borrow().as_ptr()
        })
    })
}

/// How loudly SetConfigOption reports a problem, by source (PostgreSQL's
/// set_config_option with elevel 0): values "from the file" are the
/// postmaster's business, so a worker reports them at DEBUG3; per-database
/// and per-user sources warn; anything else is an ERROR.
fn set_level(source: c_int) -> i32 {
    match source {
        PGC_S_DEFAULT | PGC_S_FILE => {
            if crate::backend::role() == Some(crate::backend::Role::Worker) {
                log::DEBUG3
            } else {
                LOG
            }
        }
        5..=8 => WARNING,
        _ => ERROR,
    }
}

/// Report at `level`: raised for ERROR and above, logged below.
fn complain(level: i32, code: i32, message: String, detail: Option<String>) {
    if level >= ERROR {
        raise(level, code, message, detail);
    } else {
        super::elog::report(level, &message, detail.as_deref(), None, None);
    }
}

/// `SetConfigOption(name, value, context, source)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_SetConfigOption(
    name: *const c_char,
    value: *const c_char,
    context: c_int,
    source: c_int,
) {
    super::guard("bgw_rs_SetConfigOption", (), || {
        let Some(name) = super::misc::c_str(name) else {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "configuration parameter name is NULL".into(),
                None,
            );
            return;
        };
        let level = set_level(source);
        let Some(v) = find(&name) else {
            // Not defined: a placeholder, if the name is a custom one.
            let reserved = registry(|r| {
                r.reserved
                    .iter()
                    .find(|p| {
                        name.to_ascii_lowercase()
                            .starts_with(&format!("{}.", p.to_ascii_lowercase()))
                    })
                    .cloned()
            });
            if let Some(p) = reserved {
                complain(
                    level,
                    ERRCODE_INVALID_NAME,
                    format!("invalid configuration parameter name \"{name}\""),
                    Some(format!("\"{p}\" is a reserved prefix.")),
                );
            } else if valid_custom_name(&name) {
                let value = super::misc::c_str(value).unwrap_or_default();
                settings::with_current(|s| s.custom.insert(name.to_ascii_lowercase(), value));
            } else {
                complain(
                    level,
                    ERRCODE_UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                    None,
                );
            }
            return;
        };
        if v.context == PGC_INTERNAL || (v.context == PGC_POSTMASTER && context != PGC_POSTMASTER) {
            let msg = if v.context == PGC_INTERNAL {
                format!("parameter \"{}\" cannot be changed", v.name)
            } else {
                format!(
                    "parameter \"{}\" cannot be changed without restarting the server",
                    v.name
                )
            };
            complain(level, ERRCODE_CANT_CHANGE_RUNTIME_PARAM, msg, None);
            return;
        }
        if v.context == PGC_SIGHUP && context > PGC_SIGHUP {
            complain(
                level,
                ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{}\" cannot be changed now", v.name),
                None,
            );
            return;
        }
        let parsed = match super::misc::c_str(value) {
            Some(text) => parse_value(&v, &text),
            None => Ok(boot_value(&v)),
        };
        if let Err(e) = parsed.and_then(|val| store(&v, val, source)) {
            if e.caught {
                // The hook's own ERROR goes on to the caller.
                super::elog::rethrow_caught();
            } else if level >= ERROR {
                super::elog::raise_full(level, e.code, e.message, e.detail, e.hint);
            } else {
                report_invalid(level, &e);
            }
        }
    })
}

/// `ProcessConfigFile(context)`: re-read bgworkerd's configuration (file,
/// then command line) and apply it. Workers report problems at DEBUG2 and
/// the supervisor at LOG, as PostgreSQL's backends and postmaster do.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_ProcessConfigFile(_context: c_int) {
    super::guard("bgw_rs_ProcessConfigFile", (), || {
        let in_supervisor = crate::backend::role() == Some(crate::backend::Role::Supervisor);
        let level = if in_supervisor { LOG } else { DEBUG2 };
        let Some(mut fresh) = settings::reread(level) else {
            return;
        };
        // Settings that need a restart keep their values here too.
        let now = settings::current();
        fresh.max_worker_processes = now.max_worker_processes;
        fresh.shared_preload_libraries = now.shared_preload_libraries;
        if !in_supervisor {
            // The worker's own copies of the log settings (its log file is
            // the descriptor it inherited).
            log::set_min_level(fresh.log_min_messages);
            crate::log_prefix::set(&fresh.log_line_prefix);
        }
        if apply_settings(&fresh, level, in_supervisor) {
            settings::report_unaffected(level);
        }
        if !in_supervisor {
            settings::with_current(|s| *s = fresh);
        }
    })
}

/// Apply `fresh` to every defined variable whose value changed, in the
/// order the configuration gives them; the supervisor logs "parameter ...
/// changed to ..." as PostgreSQL's postmaster does. Returns whether a value
/// could not be applied (invalid, or needing a restart).
pub fn apply_settings(fresh: &settings::Settings, level: i32, announce: bool) -> bool {
    let defined = registry(|r| r.vars.clone());
    let mut vars: Vec<Var> = fresh
        .custom_order
        .iter()
        .filter_map(|n| {
            defined
                .iter()
                .find(|v| v.name.eq_ignore_ascii_case(n))
                .cloned()
        })
        .collect();
    for v in &defined {
        if !vars.iter().any(|x| x.name == v.name) {
            vars.push(v.clone());
        }
    }
    let mut error = false;
    for v in vars {
        let (text, src) = match configured(fresh, &v.name) {
            Some(x) => x,
            None => {
                if v.source == PGC_S_DEFAULT {
                    continue;
                }
                // Removed from the configuration: back to the default.
                if v.context != PGC_POSTMASTER {
                    super::elog::report(
                        level,
                        &format!(
                            "parameter \"{}\" removed from configuration file, reset to default",
                            v.name
                        ),
                        None,
                        None,
                        None,
                    );
                    let _ = store(&v, boot_value(&v), PGC_S_DEFAULT);
                }
                continue;
            }
        };
        let parsed = match parse_value(&v, &text) {
            Ok(p) => p,
            Err(e) => {
                report_invalid(level, &e);
                error = true;
                continue;
            }
        };
        if v.context == PGC_POSTMASTER || v.context == PGC_INTERNAL {
            if show(&v) != text_of(&v, &parsed) {
                error = true;
                super::elog::report(
                    level,
                    &format!(
                        "parameter \"{}\" cannot be changed without restarting the server",
                        v.name
                    ),
                    None,
                    None,
                    None,
                );
            }
            continue;
        }
        match store(&v, parsed, src) {
            Ok(true) if announce => super::elog::report(
                LOG,
                &format!("parameter \"{}\" changed to \"{}\"", v.name, text),
                None,
                None,
                None,
            ),
            Ok(_) => {}
            Err(e) => {
                report_invalid(level, &e);
                error = true;
            }
        }
    }
    error
}

/// How `val` would show once stored (to compare with the current value).
fn text_of(v: &Var, val: &Value) -> String {
    match val {
        Value::Bool(b) => if *b { "on" } else { "off" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => fmt_g(*r),
        Value::Str(s) => s
            .as_ref()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Value::Enum(e) => match &v.kind {
            Kind::Enum { options, .. } => options
                .iter()
                .find(|(_, x, _)| x == e)
                .map(|(n, _, _)| n.clone())
                .unwrap_or_default(),
            _ => e.to_string(),
        },
    }
}

super::c_export! {
    DefineCustomBoolVariable => bgw_c_DefineCustomBoolVariable,
    DefineCustomIntVariable => bgw_c_DefineCustomIntVariable,
    DefineCustomRealVariable => bgw_c_DefineCustomRealVariable,
    DefineCustomStringVariable => bgw_c_DefineCustomStringVariable,
    DefineCustomEnumVariable => bgw_c_DefineCustomEnumVariable,
    GetConfigOption => bgw_c_GetConfigOption,
    SetConfigOption => bgw_c_SetConfigOption,
    ProcessConfigFile => bgw_c_ProcessConfigFile,
    HandleMainLoopInterrupts => bgw_c_HandleMainLoopInterrupts,
    GUC_check_errcode => bgw_c_GUC_check_errcode,
    MarkGUCPrefixReserved => bgw_c_MarkGUCPrefixReserved,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_names() {
        assert!(
            valid_custom_name("a.b")
                && valid_custom_name("cx.nap_time2")
                && valid_custom_name("a.b.c")
        );
        for bad in ["ab", ".a", "a.", "a..b", "1a.b", "a.b-c", ""] {
            assert!(!valid_custom_name(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_and_units() {
        assert_eq!(parse_number("42", 0, false), Ok(42.0));
        assert_eq!(parse_number("0x10", 0, false), Ok(16.0));
        assert_eq!(parse_number("010", 0, false), Ok(8.0));
        assert_eq!(parse_number(" 5 s", GUC_UNIT_MS, false), Ok(5000.0));
        assert_eq!(parse_number("2min", GUC_UNIT_S, false), Ok(120.0));
        assert_eq!(parse_number("1500ms", GUC_UNIT_S, false), Ok(1.5));
        assert_eq!(parse_number("1MB", GUC_UNIT_KB, false), Ok(1024.0));
        assert_eq!(parse_number("64kB", GUC_UNIT_BLOCKS, false), Ok(8.0));
        assert_eq!(
            parse_number("5 parsecs", GUC_UNIT_MS, false),
            Err(Some(TIME_UNITS_HINT.into()))
        );
        assert_eq!(parse_number("5s", 0, false), Err(None));
        assert_eq!(parse_number("abc", 0, false), Err(None));
        assert_eq!(parse_number("1.5e3", 0, true), Ok(1500.0));
    }
}
