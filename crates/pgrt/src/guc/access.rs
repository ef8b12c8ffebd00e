//! `GetConfigOption` and `SetConfigOption`.

use super::*;

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
    crate::guard("bgw_rs_GetConfigOption", std::ptr::null(), || {
        let Some(name) = crate::misc::c_str(name) else {
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
                            crate::elog::rethrow_caught();
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
pub(super) fn set_level(source: c_int) -> i32 {
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
pub(super) fn complain(level: i32, code: i32, message: String, detail: Option<String>) {
    if level >= ERROR {
        raise(level, code, message, detail);
    } else {
        crate::elog::report(level, &message, detail.as_deref(), None, None);
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
    crate::guard("bgw_rs_SetConfigOption", (), || {
        let Some(name) = crate::misc::c_str(name) else {
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
                let value = crate::misc::c_str(value).unwrap_or_default();
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
        let parsed = match crate::misc::c_str(value) {
            Some(text) => parse_value(&v, &text),
            None => Ok(boot_value(&v)),
        };
        if let Err(e) = parsed.and_then(|val| store(&v, val, source)) {
            if e.caught {
                // The hook's own ERROR goes on to the caller.
                crate::elog::rethrow_caught();
            } else if level >= ERROR {
                crate::elog::raise_full(level, e.code, e.message, e.detail, e.hint);
            } else {
                report_invalid(level, &e);
            }
        }
    })
}
