//! PostgreSQL's own settings (`work_mem`, `application_name`, ...) in the
//! registry, so that `GetConfigOption`, `GetConfigOptionByName`,
//! `SetConfigOption` and `set_config_option` know them as the server does:
//! type, context, unit, range, enum values and boot value of the process's
//! major, from exports/pgMAJOR/settings (the real servers' pg_settings,
//! generated at build time into OUT_DIR/builtin_settings.rs).
//!
//! Where PostgreSQL has a C variable behind a setting that this library
//! exports as storage (`work_mem`, `application_name`, `XactIsoLevel`, ...),
//! the registry entry points at that variable: registering writes the
//! major's boot value into it, and setting the value updates it, as in
//! PostgreSQL. Other settings keep their value in storage of their own.
//!
//! bgworkerd's own settings (`max_worker_processes`, `log_min_messages`,
//! ...; settings.rs) keep their own path and are not registered here.
//! Registered once per process, when its major is decided (before
//! `_PG_init`), or at the first lookup; forked workers inherit the registry.

use super::*;

/// Which kind of setting (pg_settings' vartype).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    Bool,
    Int,
    Real,
    Str,
    Enum,
}

/// One built-in setting of one major.
pub struct Builtin {
    pub name: &'static str,
    pub ty: BuiltinType,
    /// GucContext.
    pub context: c_int,
    /// GUC_UNIT_* (PostgreSQL 15's values).
    pub flags: c_int,
    /// The boot value as pg_settings shows it (base unit), None for NULL.
    pub boot: Option<&'static str>,
    pub min: f64,
    pub max: f64,
    /// Enum values: name, C value, hidden.
    pub options: &'static [(&'static str, i32, bool)],
    /// The exported C variable behind it, if any.
    pub var: Option<fn() -> *mut u8>,
}

include!(concat!(env!("OUT_DIR"), "/builtin_settings.rs"));

/// The major whose settings are registered (0: none yet).
static REGISTERED: AtomicI32 = AtomicI32::new(0);

/// The built-in settings of `major` (PostgreSQL 15's for a major not
/// served).
pub fn builtins(major: u32) -> &'static [Builtin] {
    BUILTINS
        .iter()
        .find(|(m, _)| *m == major)
        .or_else(|| BUILTINS.first())
        .map(|(_, b)| *b)
        .unwrap_or(&[])
}

/// Storage for a setting without a C variable: never freed (the registry
/// keeps its address for the life of the process).
fn own_storage(size: usize) -> *mut u8 {
    Box::leak(vec![0u64; size.div_ceil(8)].into_boxed_slice()).as_mut_ptr() as *mut u8
}

/// Register the process major's built-in settings, once. Any thread may
/// call it; the first call decides (the supervisor's, before `_PG_init`).
pub fn ensure_registered() {
    let major = bgworker_core::identity::pg_major();
    if REGISTERED
        .compare_exchange(0, major as i32, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    for b in builtins(major) {
        if settings::is_known(b.name) {
            continue;
        }
        let addr = match b.var {
            Some(f) => f(),
            None => own_storage(8),
        };
        let kind = match b.ty {
            BuiltinType::Bool => Kind::Bool {
                addr: addr as *mut bool,
                boot: b.boot == Some("on"),
                check: None,
                assign: None,
            },
            BuiltinType::Int => Kind::Int {
                addr: addr as *mut c_int,
                boot: b.boot.and_then(|s| s.parse().ok()).unwrap_or(0),
                min: b.min as c_int,
                max: b.max as c_int,
                check: None,
                assign: None,
            },
            BuiltinType::Real => Kind::Real {
                addr: addr as *mut f64,
                boot: b.boot.and_then(|s| s.parse().ok()).unwrap_or(0.0),
                min: b.min,
                max: b.max,
                check: None,
                assign: None,
            },
            BuiltinType::Str => Kind::Str {
                addr: addr as *mut *mut c_char,
                boot: b.boot.map(|s| CString::new(s).unwrap_or_default()),
                check: super::timezone::builtin_hooks(b.name).0,
                assign: super::timezone::builtin_hooks(b.name).1,
            },
            BuiltinType::Enum => {
                let options: Vec<(String, c_int, bool)> = b
                    .options
                    .iter()
                    .map(|&(n, v, h)| (n.to_string(), v, h))
                    .collect();
                let boot = b
                    .boot
                    .and_then(|s| options.iter().find(|o| o.0 == s).map(|o| o.1))
                    .unwrap_or(0);
                Kind::Enum {
                    addr: addr as *mut c_int,
                    boot,
                    options,
                    check: None,
                    assign: None,
                }
            }
        };
        let var = Var {
            name: b.name.to_string(),
            context: b.context,
            flags: b.flags,
            kind,
            show: super::timezone::builtin_hooks(b.name).2,
            source: PGC_S_DEFAULT,
            reset: None,
            desc: [0, 0],
            rec: 0,
        };
        // A string variable's initial value is the build's constant (or
        // NULL), not ours to free: PostgreSQL's boot value is assigned as
        // a fresh copy, as guc.c's InitializeOneGUCOption does.
        let _ = store(&var, boot_value(&var), PGC_S_DEFAULT);
        registry(|r| r.vars.push(var));
    }
    super::stack_limit::apply_stack_rlimit();
    let applied = apply_configured();
    *START_RESULT.lock().unwrap_or_else(|e| e.into_inner()) = Some(applied);
}

/// What applying the configured values at registration gave, until the
/// start-up hook takes it.
static START_RESULT: Mutex<Option<Result<(), settings::SettingError>>> = Mutex::new(None);

/// The start-up hook (hooks.rs' `apply_extra_settings`): register the
/// major's settings with the configured values, and say whether that went
/// wrong (once; later calls find nothing to report).
pub fn apply_at_start() -> Result<(), settings::SettingError> {
    ensure_registered();
    START_RESULT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or(Ok(()))
}

/// Is `name` (lower case) a built-in setting of any served major? The core
/// keeps such values while the process's major is still undecided; one
/// that is not a setting of the major decided is reported when applied.
pub fn is_builtin_of_any(name: &str) -> bool {
    BUILTINS
        .iter()
        .any(|(_, b)| b.iter().any(|x| x.name.eq_ignore_ascii_case(name)))
}

/// Set a registered built-in setting `name` from the configuration at
/// start-up, as PostgreSQL's postmaster does (every context may be set but
/// `internal`).
fn apply_one(name: &str, value: &str, source: c_int) -> Result<(), Invalid> {
    let found = registry(|r| {
        r.vars
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .cloned()
    });
    let Some(v) = found else {
        return Err(Invalid {
            code: ERRCODE_UNDEFINED_OBJECT,
            ..Invalid::new(
                format!("unrecognized configuration parameter \"{name}\""),
                None,
            )
        });
    };
    if v.context == PGC_INTERNAL {
        return Err(Invalid {
            code: ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
            ..Invalid::new(format!("parameter \"{}\" cannot be changed", v.name), None)
        });
    }
    let parsed = parse_value(&v, value)?;
    store(&v, parsed, source).map(|_| ())
}

/// Apply the values the configuration gives PostgreSQL's own settings:
/// `-c` options first, the first bad one being PostgreSQL's FATAL (as the
/// postmaster applies its options before it reads its file); then the
/// file's, in file order, each bad one logged and the whole a FATAL naming
/// the file, as PostgreSQL's start-up ProcessConfigFile does.
fn apply_configured() -> Result<(), settings::SettingError> {
    let s = settings::current();
    let mut from_command_line: Vec<String> = Vec::new();
    for (n, _) in settings::command_line() {
        let l = n.to_ascii_lowercase();
        if l.contains('.') || from_command_line.contains(&l) {
            continue;
        }
        let Some(value) = s.custom.get(&l) else {
            continue;
        };
        from_command_line.push(l.clone());
        apply_one(&l, value, PGC_S_ARGV).map_err(|e| settings::SettingError {
            message: e.message,
            hint: e.hint,
        })?;
    }
    let mut error = false;
    for l in &s.custom_order {
        if l.contains('.') || from_command_line.contains(l) {
            continue;
        }
        let Some(value) = s.custom.get(l) else {
            continue;
        };
        if let Err(e) = apply_one(l, value, PGC_S_FILE) {
            report_invalid(LOG, &e);
            error = true;
        }
    }
    if !error {
        return Ok(());
    }
    let shown = settings::rundir()
        .map(|d| d.join("bgworker.conf").display().to_string())
        .unwrap_or_default();
    Err(format!("configuration file \"{shown}\" contains errors").into())
}

/// Is `name` one of PostgreSQL's own settings of this process's major?
pub fn is_builtin(name: &str) -> bool {
    builtins(bgworker_core::identity::pg_major())
        .iter()
        .any(|b| b.name.eq_ignore_ascii_case(name))
}
