//! `GetConfigOptionResetString`: the value RESET would give a setting, as
//! PostgreSQL 15 shows it (no unit: an integer or real in its base unit).

use super::*;

thread_local! {
    /// The result buffer (valid until the next call, as PostgreSQL's static
    /// buffer).
    static RESET_SHOWN: std::cell::RefCell<Option<CString>> = const { std::cell::RefCell::new(None) };
}

/// `GetConfigOptionResetString(name)`: ERROR for a name that is not a
/// setting; NULL for a string setting whose reset value is NULL (15).
/// A module setting not defined yet (a placeholder) shows its configured
/// value, as PostgreSQL's placeholder string setting does.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GetConfigOptionResetString(name: *const c_char) -> *const c_char {
    crate::guard(
        "bgw_rs_GetConfigOptionResetString",
        std::ptr::null(),
        || {
            let Some(name) = name_arg(name) else {
                return std::ptr::null();
            };
            let text: Option<String> = match find(&name) {
                Some(v) => {
                    let (val, _) = reset_value(&v);
                    match val {
                        Value::Str(None) => None,
                        val => Some(reload::text_of(&v, &val)),
                    }
                }
                None => {
                    let lname = name.to_ascii_lowercase();
                    match settings::current().custom.get(&lname) {
                        Some(c) if lname.contains('.') => Some(c.clone()),
                        _ => {
                            raise(
                                ERROR,
                                ERRCODE_UNDEFINED_OBJECT,
                                format!("unrecognized configuration parameter \"{name}\""),
                                None,
                            );
                            return std::ptr::null();
                        }
                    }
                }
            };
            let Some(text) = text else {
                return std::ptr::null();
            };
            RESET_SHOWN.with(|b| {
                let c = CString::new(text.replace('\0', "")).unwrap_or_default();
                let p = c.as_ptr();
                *b.borrow_mut() = Some(c);
                p
            })
        },
    )
}
