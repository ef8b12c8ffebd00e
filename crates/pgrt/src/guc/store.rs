//! Storing a value into a module's variable, through its check and
//! assign hooks, and what a check hook may say about a rejection.

use super::*;

/// Addresses of the string values this code allocated that a module's
/// variable still holds. Only these are ever freed: a variable's initial
/// value (`static char *x = "literal";` in most extensions) was not
/// allocated here, and PostgreSQL likewise frees only the values it
/// allocated itself. Values a check hook substitutes are malloc'd by the
/// hook's contract (guc_malloc/guc_strdup) and become ours too.
pub(super) static ALLOCATED_STRINGS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A variable's value changes from `old` to `new` (allocated here, or
/// NULL): record `new` as ours and say whether `old` was ours to free.
pub(super) fn adopt_string(old: *mut c_char, new: *mut c_char) -> bool {
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

/// Call a module hook, turning an ERROR it raises into `Invalid::caught`.
pub(super) fn hook<R: Default>(mut f: impl FnMut() -> R) -> Result<R, Invalid> {
    let mut out = R::default();
    if crate::elog::call_caught(&mut || out = f()) {
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

pub(super) static GUC_CHECK_ERRCODE: AtomicI32 = AtomicI32::new(ERRCODE_INVALID_PARAMETER_VALUE);

/// `GUC_check_errcode(sqlerrcode)`: the SQLSTATE of the coming rejection.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GUC_check_errcode(sqlerrcode: c_int) {
    crate::guard("GUC_check_errcode", (), || {
        GUC_CHECK_ERRCODE.store(sqlerrcode, Ordering::Relaxed);
    })
}

pub(super) fn clear_check_messages() {
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
pub(super) fn check_rejection(default: String) -> Invalid {
    let take = |s: &AtomicPtr<c_char>| crate::misc::c_str(s.load(Ordering::Relaxed));
    Invalid {
        message: take(&GUC_check_errmsg_string).unwrap_or(default),
        detail: take(&GUC_check_errdetail_string),
        hint: take(&GUC_check_errhint_string),
        code: GUC_CHECK_ERRCODE.load(Ordering::Relaxed),
        caught: false,
    }
}

/// Run the check hook and, if it accepts, store the value and run the
/// assign hook. Returns whether the variable's shown value changed.
pub(super) fn store(v: &Var, value: Value, source: c_int) -> Result<bool, Invalid> {
    let before = show(v);
    let keep = (source <= PGC_S_OVERRIDE).then(|| value.clone());
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
    set_source(&v.name, source, keep);
    Ok(show(v) != before)
}

/// Log a rejected value at `level` (an ERROR a hook raised itself is
/// logged as it stands, and cleared).
pub(super) fn report_invalid(level: i32, e: &Invalid) {
    if e.caught {
        crate::elog::report_caught();
    } else {
        crate::elog::report(
            level,
            &e.message,
            e.detail.as_deref(),
            e.hint.as_deref(),
            None,
        );
    }
}

/// The value RESET gives `v`, and its source.
pub(super) fn reset_value(v: &Var) -> (Value, c_int) {
    v.reset
        .clone()
        .unwrap_or_else(|| (boot_value(v), PGC_S_DEFAULT))
}

pub(super) fn boot_value(v: &Var) -> Value {
    match &v.kind {
        Kind::Bool { boot, .. } => Value::Bool(*boot),
        Kind::Int { boot, .. } => Value::Int(*boot),
        Kind::Real { boot, .. } => Value::Real(*boot),
        Kind::Str { boot, .. } => Value::Str(boot.clone()),
        Kind::Enum { boot, .. } => Value::Enum(*boot),
    }
}
