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
        let Some(name) = name_arg(name) else {
            return std::ptr::null();
        };
        let text = if let Some(v) = find(&name) {
            // The variable as it stands, never through a show hook (those
            // are for SHOW and GetConfigOptionByName), as PostgreSQL's. A
            // string setting's value is returned as the variable holds it
            // (valid until the setting changes, not only until the next
            // call); PostgreSQL 15 returns NULL for one without a value
            // (external_pid_file, ...), 16 and later "".
            if let Kind::Str { addr, .. } = &v.kind {
                // SAFETY: the variable's address, valid for the process
                // (registry contract).
                let p = unsafe { **addr };
                if !p.is_null() {
                    return p;
                }
                if bgworker_core::identity::pg_major() < 16 {
                    return std::ptr::null();
                }
            }
            show(&v)
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
        set_option(name, value, context, source, 0, true, 0);
    })
}

/// `set_config_option(name, value, context, source, action, changeVal,
/// elevel, is_reload)` and `set_config_option_ext` (whose role argument
/// has nothing to check against here): 1 when applied (or, with
/// `changeVal` false, when it would be), 0 when refused at an `elevel`
/// below ERROR, -1 when ignored because the current value comes from a
/// source of higher priority. Without transactions every action (SET,
/// SET LOCAL, save) sets the value.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_set_config_option(
    name: *const c_char,
    value: *const c_char,
    context: c_int,
    source: c_int,
    action: c_int,
    change_val: bool,
    elevel: c_int,
) -> c_int {
    crate::guard("bgw_rs_set_config_option", 0, || {
        set_option(name, value, context, source, elevel, change_val, action)
    })
}

const PGC_S_SESSION: c_int = 13;

/// PostgreSQL's set_config_option_ext without transactions: the checks of
/// the setting's context against the caller's, source priority, parsing,
/// range and hooks; reports at `elevel` (0: by source, see [`set_level`]).
fn set_option(
    name: *const c_char,
    value: *const c_char,
    context: c_int,
    source: c_int,
    elevel: c_int,
    change_val: bool,
    action: c_int,
) -> c_int {
    let Some(name) = name_arg(name) else {
        return 0;
    };
    let level = if elevel == 0 {
        set_level(source)
    } else {
        elevel
    };
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
            return 0;
        } else if valid_custom_name(&name) {
            if change_val {
                let value = crate::misc::c_str(value).unwrap_or_default();
                settings::with_current(|s| s.custom.insert(name.to_ascii_lowercase(), value));
            }
            return 1;
        }
        complain(
            level,
            ERRCODE_UNDEFINED_OBJECT,
            format!("unrecognized configuration parameter \"{name}\""),
            None,
        );
        return 0;
    };
    let refuse = |code: i32, msg: String| {
        complain(level, code, msg, None);
        0
    };
    match v.context {
        PGC_INTERNAL if context != PGC_INTERNAL => {
            return refuse(
                ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{}\" cannot be changed", v.name),
            );
        }
        PGC_POSTMASTER if context != PGC_POSTMASTER => {
            return refuse(
                ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                format!(
                    "parameter \"{}\" cannot be changed without restarting the server",
                    v.name
                ),
            );
        }
        PGC_SIGHUP if context != PGC_SIGHUP && context != PGC_POSTMASTER => {
            return refuse(
                ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{}\" cannot be changed now", v.name),
            );
        }
        PGC_SU_BACKEND | PGC_BACKEND => {
            if context == PGC_SIGHUP {
                // PostgreSQL ignores these on a reload, silently.
                return -1;
            }
            if context != PGC_POSTMASTER
                && context != PGC_BACKEND
                && context != PGC_SU_BACKEND
                && source != 9
            {
                // A background worker is under the postmaster: past its
                // connection start.
                return refuse(
                    ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                    format!(
                        "parameter \"{}\" cannot be set after connection start",
                        v.name
                    ),
                );
            }
        }
        // PostgreSQL asks pg_parameter_acl (a catalog) whether the role may;
        // without a database no role was granted it.
        PGC_SUSET if context == PGC_USERSET || context == PGC_BACKEND => {
            return refuse(
                crate::elog::sqlstate(b"42501"),
                format!("permission denied to set parameter \"{}\"", v.name),
            );
        }
        _ => {}
    }
    if v.source > source && source < PGC_S_SESSION {
        if change_val {
            crate::elog::report(
                log::DEBUG3,
                &format!(
                    "\"{}\": setting ignored because previous source is higher priority",
                    v.name
                ),
                None,
                None,
                None,
            );
        }
        return -1;
    }
    // No value: the boot value for PGC_S_DEFAULT, else the reset value
    // with its own source, as PostgreSQL's RESET.
    let mut source = source;
    let parsed = match crate::misc::c_str(value) {
        Some(text) => parse_value(&v, &text),
        None if source == PGC_S_DEFAULT => Ok(boot_value(&v)),
        None => {
            let (val, src) = reset_value(&v);
            source = src;
            Ok(val)
        }
    };
    let result = if change_val {
        parsed.and_then(|val| {
            let prior = nest::current(&v);
            let r = store(&v, val, source);
            if r.is_ok() {
                nest::push(&v, prior, source, action);
            }
            r
        })
    } else {
        parsed.map(|_| false)
    };
    match result {
        // PostgreSQL: -1 for a value only checked, not applied.
        Ok(_) if !change_val => -1,
        Ok(_) => 1,
        Err(e) => {
            if e.caught {
                // The hook's own ERROR goes on to the caller.
                crate::elog::rethrow_caught();
            } else if level >= ERROR {
                crate::elog::raise_full(level, e.code, e.message, e.detail, e.hint);
            } else {
                report_invalid(level, &e);
            }
            0
        }
    }
}
