//! `GetConfigOptionByName`: a setting's value as `SHOW` displays it
//! (PostgreSQL's ShowGUCOption with units): an integer or real setting
//! with a unit is shown in the largest unit that represents it exactly
//! (`2MB`, `90s`), zero and negative values without a unit; the C wrapper
//! returns a palloc'd copy and sets `*varname` to the setting's own name.

use super::*;

thread_local! {
    /// The shown value, until the C wrapper has copied it.
    static SHOWN: std::cell::RefCell<CString> = std::cell::RefCell::new(CString::default());
}

/// The names handed out through `*varname`, which PostgreSQL points at
/// the setting's own (permanent) name: one leaked copy per setting.
static NAMES: Mutex<Vec<&'static CStr>> = Mutex::new(Vec::new());

fn permanent_name(name: &str) -> *const c_char {
    let mut g = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = g.iter().find(|n| n.to_bytes() == name.as_bytes()) {
        return n.as_ptr();
    }
    let leaked: &'static CStr = Box::leak(
        CString::new(name.replace('\0', ""))
            .unwrap_or_default()
            .into_boxed_c_str(),
    );
    g.push(leaked);
    leaked.as_ptr()
}

/// PostgreSQL's units for showing, largest first, per kind.
const MEMORY: [&str; 5] = ["TB", "GB", "MB", "kB", "B"];
const TIME: [&str; 6] = ["d", "h", "min", "s", "ms", "us"];

fn candidates(flags: c_int) -> &'static [&'static str] {
    if flags & GUC_UNIT_MEMORY != 0 {
        &MEMORY
    } else if flags & GUC_UNIT_TIME != 0 {
        &TIME
    } else {
        &[]
    }
}

/// An integer in the base unit of `flags`, shown in the first (largest)
/// unit that divides it evenly (PostgreSQL's convert_int_from_base_unit).
fn show_int(value: i64, flags: c_int) -> String {
    if value <= 0 {
        return value.to_string();
    }
    for u in candidates(flags) {
        let Some(m) = unit_factor(u, flags) else {
            continue;
        };
        if m <= 1.0 || value % (m as i64) == 0 {
            return format!("{}{u}", (value as f64 / m).round() as i64);
        }
    }
    value.to_string()
}

/// A real in the base unit of `flags`, shown in the first unit in which it
/// is within 1e-8 of an integer, else the smallest
/// (convert_real_from_base_unit).
fn show_real(value: f64, flags: c_int) -> String {
    let units = candidates(flags);
    if value <= 0.0 || units.is_empty() {
        return fmt_g(value);
    }
    let mut shown = (value, "");
    for u in units {
        let Some(m) = unit_factor(u, flags) else {
            continue;
        };
        shown = (value / m, u);
        if shown.0 > 0.0 && ((shown.0.round() / shown.0) - 1.0).abs() <= 1e-8 {
            break;
        }
    }
    format!("{}{}", fmt_g(shown.0), shown.1)
}

/// The value of `v` as SHOW displays it.
fn show_with_units(v: &Var) -> String {
    // SAFETY: the addresses are the module's variables, valid for the life
    // of the process (PostgreSQL's contract for valueAddr).
    unsafe {
        match &v.kind {
            Kind::Int { addr, .. } => show_int(i64::from(**addr), v.flags),
            Kind::Real { addr, .. } => show_real(**addr, v.flags),
            _ => show(v),
        }
    }
}

/// The Rust body of `GetConfigOptionByName`: the shown value (valid until
/// the next call in this thread) and the permanent name, or NULL (with an
/// ERROR recorded unless `missing_ok`).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `varname` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_GetConfigOptionByName(
    name: *const c_char,
    varname: *mut *const c_char,
    missing_ok: bool,
) -> *const c_char {
    crate::guard("bgw_rs_GetConfigOptionByName", std::ptr::null(), || {
        let set_name = |p: *const c_char| {
            if !varname.is_null() {
                // SAFETY: the caller's writable pointer (contract).
                unsafe { *varname = p };
            }
        };
        set_name(std::ptr::null());
        let Some(name) = name_arg(name) else {
            return std::ptr::null();
        };
        let (canonical, text) = if let Some(v) = find(&name) {
            let text = match v.show {
                Some(h) => {
                    // SAFETY: the module's show hook returns a string it owns.
                    match hook(|| unsafe { h() } as usize) {
                        Ok(0) => String::new(),
                        // SAFETY: a NUL-terminated string the hook returned.
                        Ok(p) => unsafe { CStr::from_ptr(p as *const c_char) }
                            .to_string_lossy()
                            .into_owned(),
                        Err(_) => {
                            crate::elog::rethrow_caught();
                            return std::ptr::null();
                        }
                    }
                }
                None => show_with_units(&v),
            };
            (v.name.clone(), text)
        } else {
            let s = settings::current();
            let lname = name.to_ascii_lowercase();
            if let Some(c) = s.custom.get(&lname) {
                (lname, c.clone())
            } else if settings::is_known(&lname) {
                let text = if lname == "log_min_messages" {
                    log::level_word(s.log_min_messages).to_string()
                } else {
                    s.show(&lname)
                };
                (lname, text)
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
        set_name(permanent_name(&canonical));
        SHOWN.with(|b| {
            *b.borrow_mut() = CString::new(text.replace('\0', "")).unwrap_or_default();
            b.borrow().as_ptr()
        })
    })
}
