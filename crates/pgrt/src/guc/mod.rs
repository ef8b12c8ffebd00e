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

use crate::elog::{
    raise, ERRCODE_CANT_CHANGE_RUNTIME_PARAM, ERRCODE_INTERNAL_ERROR, ERRCODE_INVALID_NAME,
    ERRCODE_INVALID_PARAMETER_VALUE, ERRCODE_UNDEFINED_OBJECT,
};
use crate::log::{self, DEBUG2, ERROR, FATAL, LOG, WARNING};
use crate::settings;

// GucContext (utils/guc.h).

mod access;
pub mod builtin;
mod byname;
mod define;
mod lookup;
mod memory;
mod nest;
mod reload;
mod reset;
mod stack_limit;
mod store;
mod tables;
#[cfg(test)]
mod tests;
mod timezone;
mod units;

pub use define::flags_as_15;
use define::*;
pub use reload::apply_settings;
use store::*;
use units::*;

pub const PGC_INTERNAL: c_int = 0;

pub const PGC_POSTMASTER: c_int = 1;

pub const PGC_SIGHUP: c_int = 2;

pub const PGC_SU_BACKEND: c_int = 3;

pub const PGC_BACKEND: c_int = 4;

pub const PGC_SUSET: c_int = 5;

pub const PGC_USERSET: c_int = 6;

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
    /// The value RESET goes back to and its source (PostgreSQL's reset_val
    /// and reset_source): the last value stored from a source up to
    /// PGC_S_OVERRIDE (the configuration, -c, ...). None: the boot value.
    reset: Option<(Value, c_int)>,
    /// The module's short and long descriptions (addresses of its
    /// strings, kept as PostgreSQL keeps them; 0 for none).
    desc: [usize; 2],
    /// Its record in PostgreSQL's layout (guc/tables.rs), once made; 0
    /// before.
    rec: usize,
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
    tables::adopt(&mut g.vars);
    f(&mut g)
}

fn find(name: &str) -> Option<Var> {
    builtin::ensure_registered();
    registry(|r| {
        r.vars
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .cloned()
    })
}

/// Record where `name`'s value came from and, for a value that becomes
/// the reset value (see [`Var::reset`]), that value.
fn set_source(name: &str, source: c_int, reset: Option<Value>) {
    registry(|r| {
        if let Some(v) = r
            .vars
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            v.source = source;
            if let Some(value) = reset {
                v.reset = Some((value, source));
            }
            tables::publish(v);
        }
    })
}

/// A setting's name as a module passed it; NULL is PostgreSQL's ERROR
/// (recorded here; the caller returns its failure value).
fn name_arg(name: *const c_char) -> Option<String> {
    let n = crate::misc::c_str(name);
    if n.is_none() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "configuration parameter name is NULL".into(),
            None,
        );
    }
    n
}

/// PGC_S_OVERRIDE: values from sources up to it become reset values.
const PGC_S_OVERRIDE: c_int = 10;

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

/// A parsed value, ready to store.
#[derive(Clone)]
enum Value {
    Bool(bool),
    Int(c_int),
    Real(f64),
    Str(Option<CString>),
    Enum(c_int),
}

super::c_export! {
    DefineCustomBoolVariable => bgw_c_DefineCustomBoolVariable,
    DefineCustomIntVariable => bgw_c_DefineCustomIntVariable,
    DefineCustomRealVariable => bgw_c_DefineCustomRealVariable,
    DefineCustomStringVariable => bgw_c_DefineCustomStringVariable,
    DefineCustomEnumVariable => bgw_c_DefineCustomEnumVariable,
    GetConfigOption => bgw_c_GetConfigOption,
    GetConfigOptionByName => bgw_c_GetConfigOptionByName,
    GetConfigOptionResetString => bgw_c_GetConfigOptionResetString,
    SetConfigOption => bgw_c_SetConfigOption,
    set_config_option => bgw_c_set_config_option,
    set_config_option_ext => bgw_c_set_config_option_ext,
    ProcessConfigFile => bgw_c_ProcessConfigFile,
    HandleMainLoopInterrupts => bgw_c_HandleMainLoopInterrupts,
    // PostgreSQL 18's name for it.
    ProcessMainLoopInterrupts => bgw_c_ProcessMainLoopInterrupts,
    GUC_check_errcode => bgw_c_GUC_check_errcode,
    NewGUCNestLevel => bgw_c_NewGUCNestLevel,
    // 16 and later (c/guc_name.c).
    guc_name_compare => bgw_c_guc_name_compare,
    AtEOXact_GUC => bgw_c_AtEOXact_GUC,
    MarkGUCPrefixReserved => bgw_c_MarkGUCPrefixReserved,
}
