//! Reload: `ProcessConfigFile` in a worker, and the supervisor's
//! re-application of fresh settings to the variables defined in it.

use super::*;

/// `ProcessConfigFile(context)`: re-read bgworkerd's configuration (file,
/// then command line) and apply it. Workers report problems at DEBUG2 and
/// the supervisor at LOG, as PostgreSQL's backends and postmaster do.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_ProcessConfigFile(_context: c_int) {
    crate::guard("bgw_rs_ProcessConfigFile", (), || {
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
            bgworker_core::log::prefix::set(&fresh.log_line_prefix);
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
    // Variables the configuration no longer names come first, as
    // PostgreSQL resets removed settings before it applies the file.
    let removed: Vec<Var> = defined
        .iter()
        .filter(|v| !vars.iter().any(|x| x.name == v.name))
        .cloned()
        .collect();
    vars.splice(0..0, removed);
    let mut error = false;
    for v in vars {
        let (text, src) = match configured(fresh, &v.name) {
            Some(x) => x,
            None => {
                // Only values that came from the configuration go back to
                // the default when it no longer names them; one a process
                // set itself (SetConfigOption, PGC_S_SESSION, ...) stays,
                // and so does one set from the environment at start
                // (max_stack_depth from the stack's limit).
                if v.source < PGC_S_FILE || v.source > PGC_S_ARGV {
                    continue;
                }
                // Removed from the configuration: back to the default,
                // which for a setting fixed at start needs a restart.
                if v.context == PGC_POSTMASTER || v.context == PGC_INTERNAL {
                    error = true;
                    crate::elog::report(
                        level,
                        &format!(
                            "parameter \"{}\" cannot be changed without restarting the server",
                            v.name
                        ),
                        None,
                        None,
                        None,
                    );
                } else {
                    crate::elog::report(
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
        if v.context == PGC_INTERNAL {
            // PostgreSQL refuses any value for these, changed or not.
            error = true;
            crate::elog::report(
                level,
                &format!("parameter \"{}\" cannot be changed", v.name),
                None,
                None,
                None,
            );
            continue;
        }
        if v.context == PGC_POSTMASTER {
            if show(&v) != text_of(&v, &parsed) {
                error = true;
                crate::elog::report(
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
        if v.source > src {
            // Set since by a source that outranks the file (SetConfigOption
            // with PGC_S_SESSION, ...): as PostgreSQL, the value stays and
            // the file's becomes the one RESET goes back to.
            registry(|r| {
                if let Some(x) = r.vars.iter_mut().find(|x| x.name == v.name) {
                    x.reset = Some((parsed, src));
                }
            });
            continue;
        }
        match store(&v, parsed, src) {
            Ok(true) if announce => crate::elog::report(
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
pub(super) fn text_of(v: &Var, val: &Value) -> String {
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
