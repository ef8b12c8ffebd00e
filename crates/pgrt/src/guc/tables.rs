//! The settings as PostgreSQL's own records (utils/guc_tables.h):
//! `get_guc_variables`, `GetNumConfigOptions` (15), `find_option` (16 and
//! later), for modules that walk or search PostgreSQL's table of
//! `struct config_generic` records, read their fields, and rebind a
//! record's `variable` (pg_wait_sampling moves its settings into shared
//! memory this way) or its hooks.
//!
//! Records are made on first demand, one per setting, in the layout of
//! the process's major (15's `config_generic`, or 16's and later, which
//! gained three list links), and live as long as the process (PostgreSQL
//! never frees a record either). The registry stays the authority on
//! values; the records mirror it both ways:
//! - before every registry access, a record's `variable`, `check_hook`,
//!   `assign_hook` and `show_hook` are taken over by the registry entry if
//!   a module changed them (see [`adopt`]), so stores, shows and reloads
//!   go to the new variable;
//! - after every store, and whenever the table is handed out, the record's
//!   source, contexts and reset value are written from the registry
//!   (see [`publish`]).
//!
//! The table also has records for settings bgworkerd itself keeps
//! (`max_worker_processes`, `log_min_messages`, ... : their current value,
//! rewritten whenever the table is handed out; rebinding them has no
//! effect) and for placeholders: configured `a.b` names no module defined
//! yet (`GUC_CUSTOM_PLACEHOLDER`, string, as PostgreSQL's).
//!
//! Differences from PostgreSQL, documented: the built-in settings'
//! `short_desc`/`long_desc` are empty strings and their `group` is
//! UNGROUPED (pg_settings' texts are not carried); built-in settings have
//! no check/assign/show hooks of PostgreSQL's in their records; `scontext`
//! is PGC_INTERNAL for defaults, PGC_POSTMASTER for values from the
//! configuration and the setting's own context otherwise; `extra` and
//! `stack` are NULL; settings PostgreSQL hides from pg_settings
//! (GUC_NO_SHOW_ALL) are not in the table.
//!
//! Lock order: the registry, then the table (see `registry()` in mod.rs).

use super::*;
use std::sync::atomic::AtomicBool;

crate::c_export! {
    get_guc_variables => bgw_c_get_guc_variables,
    GetNumConfigOptions => bgw_c_GetNumConfigOptions,
    find_option => bgw_c_find_option,
}

/// BOOTSTRAP_SUPERUSERID (catalog/pg_authid.h): the role of values set by
/// the server itself.
const BOOTSTRAP_SUPERUSERID: u32 = 10;

/// GUC_CUSTOM_PLACEHOLDER | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE in 15's
/// numbering (translated per major when written).
pub(super) const PLACEHOLDER_FLAGS_15: c_int = 0x0080 | 0x0004 | 0x0020;

/// enum config_type.
const PGC_BOOL: c_int = 0;
const PGC_INT: c_int = 1;
const PGC_REAL: c_int = 2;
const PGC_STRING: c_int = 3;
const PGC_ENUM: c_int = 4;

/// enum config_group's CUSTOM_OPTIONS in each major's utils/guc_tables.h.
fn custom_options_group(major: u32) -> c_int {
    match major {
        ..=15 => 41,
        16 | 17 => 43,
        _ => 46,
    }
}

/// Declares a `struct config_generic` layout: the fields every major
/// has, with `$links` (the list links 16 added) between `extra` and
/// `last_reported`.
macro_rules! config_generic {
    ($(#[$doc:meta])* $name:ident { $($link:ident: $lt:ty,)* }) => {
        $(#[$doc])*
        #[repr(C)]
        struct $name {
            name: *const c_char,
            context: c_int,
            group: c_int,
            short_desc: *const c_char,
            long_desc: *const c_char,
            flags: c_int,
            vartype: c_int,
            status: c_int,
            source: c_int,
            reset_source: c_int,
            scontext: c_int,
            reset_scontext: c_int,
            srole: u32,
            reset_srole: u32,
            stack: *mut c_void,
            extra: *mut c_void,
            $($link: $lt,)*
            last_reported: *mut c_char,
            sourcefile: *mut c_char,
            sourceline: c_int,
        }
    };
}

config_generic!(
    /// `struct config_generic` of PostgreSQL 15.
    Gen15 {}
);

config_generic!(
    /// `struct config_generic` of PostgreSQL 16 and later: 15's with the
    /// `nondef_link` (dlist_node), `stack_link` and `report_link`
    /// (slist_node) list links after `extra`.
    Gen16 {
        nondef_link: [*mut c_void; 2],
        stack_link: *mut c_void,
        report_link: *mut c_void,
    }
);

/// What [`Header::set`] writes into a record's generic part.
struct Common {
    name: *const c_char,
    context: c_int,
    group: c_int,
    short_desc: *const c_char,
    long_desc: *const c_char,
    flags: c_int,
    vartype: c_int,
    source: c_int,
    reset_source: c_int,
    scontext: c_int,
    reset_scontext: c_int,
    sourcefile: *mut c_char,
}

/// The two layouts of `struct config_generic`.
trait Header {
    /// A zeroed header.
    fn zero() -> Self;
    fn set(&mut self, c: &Common);
}

macro_rules! header_impl {
    ($t:ty) => {
        impl Header for $t {
            fn zero() -> Self {
                // SAFETY: every field is an integer or a raw pointer, for
                // which all-zero bits are valid (0 / NULL).
                unsafe { std::mem::zeroed() }
            }
            fn set(&mut self, c: &Common) {
                self.name = c.name;
                self.context = c.context;
                self.group = c.group;
                self.short_desc = c.short_desc;
                self.long_desc = c.long_desc;
                self.flags = c.flags;
                self.vartype = c.vartype;
                self.source = c.source;
                self.reset_source = c.reset_source;
                self.scontext = c.scontext;
                self.reset_scontext = c.reset_scontext;
                self.srole = BOOTSTRAP_SUPERUSERID;
                self.reset_srole = BOOTSTRAP_SUPERUSERID;
                self.sourcefile = c.sourcefile;
                self.sourceline = 0;
            }
        }
    };
}
header_impl!(Gen15);
header_impl!(Gen16);

/// `struct config_bool`.
#[repr(C)]
struct BoolRec<G> {
    gen: G,
    variable: *mut bool,
    boot_val: bool,
    check_hook: BoolCheck,
    assign_hook: BoolAssign,
    show_hook: ShowHook,
    reset_val: bool,
    reset_extra: *mut c_void,
}

/// `struct config_int`.
#[repr(C)]
struct IntRec<G> {
    gen: G,
    variable: *mut c_int,
    boot_val: c_int,
    min: c_int,
    max: c_int,
    check_hook: IntCheck,
    assign_hook: IntAssign,
    show_hook: ShowHook,
    reset_val: c_int,
    reset_extra: *mut c_void,
}

/// `struct config_real`.
#[repr(C)]
struct RealRec<G> {
    gen: G,
    variable: *mut f64,
    boot_val: f64,
    min: f64,
    max: f64,
    check_hook: RealCheck,
    assign_hook: RealAssign,
    show_hook: ShowHook,
    reset_val: f64,
    reset_extra: *mut c_void,
}

/// `struct config_string`.
#[repr(C)]
struct StrRec<G> {
    gen: G,
    variable: *mut *mut c_char,
    boot_val: *const c_char,
    check_hook: StringCheck,
    assign_hook: StringAssign,
    show_hook: ShowHook,
    reset_val: *mut c_char,
    reset_extra: *mut c_void,
}

/// `struct config_enum` (its check and assign hooks take int).
#[repr(C)]
struct EnumRec<G> {
    gen: G,
    variable: *mut c_int,
    boot_val: c_int,
    options: *const EnumEntry,
    check_hook: IntCheck,
    assign_hook: IntAssign,
    show_hook: ShowHook,
    reset_val: c_int,
    reset_extra: *mut c_void,
}

/// Where a record's value lives when no module variable backs it.
enum Own {
    /// A registry entry's record: the value is the entry's variable.
    None,
    /// A placeholder's or a bgworkerd setting's storage (8 bytes, or a
    /// string pointer the table allocated).
    Storage(*mut u64),
}

/// One record of the table.
struct Entry {
    /// Lower-case name (the key).
    key: String,
    /// The record (its `struct config_generic` is at the start).
    rec: *mut c_void,
    vartype: c_int,
    own: Own,
    /// The strings a record points at, kept alive with it.
    name: CString,
    _texts: Vec<CString>,
    /// A placeholder's record (replaced by a new record once defined).
    placeholder: bool,
    /// Enum options handed to the record (the entry array), kept alive.
    _options: Vec<EnumEntry>,
}

struct Table {
    entries: Vec<Entry>,
    /// The sorted array `get_guc_variables` returns (15: the array itself,
    /// stable while its length fits its capacity, as PostgreSQL's
    /// guc_variables; 16+: copied into a palloc'd array).
    sorted: Vec<*mut c_void>,
}

// SAFETY: the raw pointers are records and strings this module allocated
// for the process's life; the Mutex serialises all access.
unsafe impl Send for Table {}

static TABLE: Mutex<Table> = Mutex::new(Table {
    entries: Vec::new(),
    sorted: Vec::new(),
});

/// Set once the first record exists: until then there is nothing to
/// adopt and registry accesses skip the table entirely.
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    let mut g = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

fn major() -> u32 {
    bgworker_core::identity::pg_major()
}

fn leak<T>(v: T) -> *mut c_void {
    Box::into_raw(Box::new(v)) as *mut c_void
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// The flags word of `flags15` (the registry's 15 numbering) in the
/// process major's numbering.
pub(super) fn flags_for_major(flags15: c_int, major: u32) -> c_int {
    if major < 17 {
        return flags15;
    }
    let mut out = 0;
    for &(f15, f17) in FLAG_BITS_15_17 {
        if flags15 & f15 != 0 {
            out |= f17;
        }
    }
    let mem = match (flags15 >> 12) & 0xF {
        8 => 5,
        m => m,
    };
    let time = (flags15 >> 16) & 0xF;
    out | (mem << 24) | (time << 28)
}

/// The registry's scontext for a value from `source` (see the module
/// comment).
fn scontext_of(source: c_int, context: c_int) -> c_int {
    if source == PGC_S_DEFAULT {
        PGC_INTERNAL
    } else if source <= PGC_S_ARGV {
        PGC_POSTMASTER
    } else {
        context
    }
}

/// The configuration file's path, for `sourcefile` (allocated once).
fn conf_path() -> *mut c_char {
    static PATH: Mutex<Option<usize>> = Mutex::new(None);
    let mut g = PATH.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        let p = settings::rundir()
            .map(|d| d.join("bgworker.conf").display().to_string())
            .unwrap_or_default();
        *g = Some(cstring(&p).into_raw() as usize);
    }
    g.unwrap_or(0) as *mut c_char
}

/// A new record for registry entry `v` in layout `G`.
fn new_record<G: Header>(v: &Var) -> Entry {
    let name = cstring(&v.name);
    let mut texts = Vec::new();
    let mut options = Vec::new();
    let (rec, vartype) = match &v.kind {
        Kind::Bool {
            addr,
            boot,
            check,
            assign,
        } => (
            leak(BoolRec {
                gen: G::zero(),
                variable: *addr,
                boot_val: *boot,
                check_hook: *check,
                assign_hook: *assign,
                show_hook: v.show,
                reset_val: *boot,
                reset_extra: std::ptr::null_mut(),
            }),
            PGC_BOOL,
        ),
        Kind::Int {
            addr,
            boot,
            min,
            max,
            check,
            assign,
        } => (
            leak(IntRec {
                gen: G::zero(),
                variable: *addr,
                boot_val: *boot,
                min: *min,
                max: *max,
                check_hook: *check,
                assign_hook: *assign,
                show_hook: v.show,
                reset_val: *boot,
                reset_extra: std::ptr::null_mut(),
            }),
            PGC_INT,
        ),
        Kind::Real {
            addr,
            boot,
            min,
            max,
            check,
            assign,
        } => (
            leak(RealRec {
                gen: G::zero(),
                variable: *addr,
                boot_val: *boot,
                min: *min,
                max: *max,
                check_hook: *check,
                assign_hook: *assign,
                show_hook: v.show,
                reset_val: *boot,
                reset_extra: std::ptr::null_mut(),
            }),
            PGC_REAL,
        ),
        Kind::Str {
            addr,
            boot,
            check,
            assign,
        } => {
            let boot_val = match boot {
                Some(b) => {
                    texts.push(b.clone());
                    texts[texts.len() - 1].as_ptr()
                }
                None => std::ptr::null(),
            };
            (
                leak(StrRec {
                    gen: G::zero(),
                    variable: *addr,
                    boot_val,
                    check_hook: *check,
                    assign_hook: *assign,
                    show_hook: v.show,
                    reset_val: std::ptr::null_mut(),
                    reset_extra: std::ptr::null_mut(),
                }),
                PGC_STRING,
            )
        }
        Kind::Enum {
            addr,
            boot,
            options: opts,
            check,
            assign,
        } => {
            for (n, val, hidden) in opts {
                texts.push(cstring(n));
                options.push(EnumEntry {
                    name: texts[texts.len() - 1].as_ptr(),
                    val: *val,
                    hidden: *hidden,
                });
            }
            options.push(EnumEntry {
                name: std::ptr::null(),
                val: 0,
                hidden: false,
            });
            (
                leak(EnumRec {
                    gen: G::zero(),
                    variable: *addr,
                    boot_val: *boot,
                    options: options.as_ptr(),
                    check_hook: *check,
                    assign_hook: *assign,
                    show_hook: v.show,
                    reset_val: *boot,
                    reset_extra: std::ptr::null_mut(),
                }),
                PGC_ENUM,
            )
        }
    };
    // SAFETY: rec was just made; its first field is the name.
    unsafe { *(rec as *mut *const c_char) = name.as_ptr() };
    Entry {
        key: v.name.to_ascii_lowercase(),
        rec,
        vartype,
        own: Own::None,
        name,
        _texts: texts,
        placeholder: false,
        _options: options,
    }
}

/// PostgreSQL's config_type of a registry entry.
fn vartype_of(k: &Kind) -> c_int {
    match k {
        Kind::Bool { .. } => PGC_BOOL,
        Kind::Int { .. } => PGC_INT,
        Kind::Real { .. } => PGC_REAL,
        Kind::Str { .. } => PGC_STRING,
        Kind::Enum { .. } => PGC_ENUM,
    }
}

/// Write `v`'s generic fields and reset value into its record `rec`
/// (layout G, made for `v`'s type; its name already set).
fn publish_var<G: Header>(rec: *mut c_void, v: &Var) {
    let major = major();
    let (reset, reset_source) = store::reset_value(v);
    let builtin = v.desc[0] == 0 && builtin::is_builtin(&v.name);
    let empty = c"".as_ptr();
    let (short_desc, long_desc) = if builtin {
        (empty, std::ptr::null())
    } else {
        (v.desc[0] as *const c_char, v.desc[1] as *const c_char)
    };
    // SAFETY: every record starts with its name (struct config_generic).
    let name = unsafe { *(rec as *const *const c_char) };
    let common = Common {
        name,
        context: v.context,
        group: if builtin {
            0
        } else {
            custom_options_group(major)
        },
        short_desc,
        long_desc,
        flags: flags_for_major(v.flags, major),
        vartype: vartype_of(&v.kind),
        source: v.source,
        reset_source,
        scontext: scontext_of(v.source, v.context),
        reset_scontext: scontext_of(reset_source, v.context),
        sourcefile: if v.source == PGC_S_FILE {
            conf_path()
        } else {
            std::ptr::null_mut()
        },
    };
    // SAFETY: rec is a record of layout G made by new_record for v's
    // type; the registry's lock is held (the only writer).
    unsafe {
        (*(rec as *mut G)).set(&common);
        match reset {
            Value::Bool(b) => (*(rec as *mut BoolRec<G>)).reset_val = b,
            Value::Int(i) => (*(rec as *mut IntRec<G>)).reset_val = i,
            Value::Enum(i) => (*(rec as *mut EnumRec<G>)).reset_val = i,
            Value::Real(r) => (*(rec as *mut RealRec<G>)).reset_val = r,
            Value::Str(s) => {
                let r = &mut (*(rec as *mut StrRec<G>)).reset_val;
                let same = match (&s, r.is_null()) {
                    (None, true) => true,
                    (Some(c), false) => CStr::from_ptr(*r) == c.as_c_str(),
                    _ => false,
                };
                if !same {
                    // The previous reset string stays allocated: a module
                    // may hold it (PostgreSQL's lives until replaced, too,
                    // but nothing here can tell when it is unused).
                    *r = s.map(|c| c.into_raw()).unwrap_or(std::ptr::null_mut());
                }
            }
        }
    }
}

/// Take over what a module changed in `v`'s record: its variable (unless
/// set to NULL, on which PostgreSQL would crash; the old one stays in use
/// then) and its hooks.
fn adopt_var<G: Header>(rec: *const c_void, v: &mut Var) {
    macro_rules! take {
        ($rec:ty, $addr:expr, $check:expr, $assign:expr) => {{
            // SAFETY: rec is v's record, of layout G and v's type;
            // modules write it only from the thread that runs them, which
            // holds no reference into it.
            let r = unsafe { &*(rec as *const $rec) };
            if !r.variable.is_null() {
                *$addr = r.variable;
            }
            *$check = r.check_hook;
            *$assign = r.assign_hook;
            v.show = r.show_hook;
        }};
    }
    match &mut v.kind {
        Kind::Bool {
            addr,
            check,
            assign,
            ..
        } => take!(BoolRec<G>, addr, check, assign),
        Kind::Int {
            addr,
            check,
            assign,
            ..
        } => take!(IntRec<G>, addr, check, assign),
        Kind::Real {
            addr,
            check,
            assign,
            ..
        } => take!(RealRec<G>, addr, check, assign),
        Kind::Str {
            addr,
            check,
            assign,
            ..
        } => take!(StrRec<G>, addr, check, assign),
        Kind::Enum {
            addr,
            check,
            assign,
            ..
        } => take!(EnumRec<G>, addr, check, assign),
    }
}

/// Called by `registry()` with its lock held, before the caller sees the
/// registry: adopt what modules changed in the records (see the module
/// comment). A pointer read per setting that has a record.
pub(super) fn adopt(vars: &mut [Var]) {
    if !ACTIVE.load(Ordering::Acquire) {
        return;
    }
    let sixteen = major() >= 16;
    for v in vars.iter_mut().filter(|v| v.rec != 0) {
        if sixteen {
            adopt_var::<Gen16>(v.rec as *const c_void, v)
        } else {
            adopt_var::<Gen15>(v.rec as *const c_void, v)
        }
    }
}

/// Called after a store (with the registry's lock held): rewrite `v`'s
/// record, if it has one.
pub(super) fn publish(v: &Var) {
    if v.rec == 0 {
        return;
    }
    if major() >= 16 {
        publish_var::<Gen16>(v.rec as *mut c_void, v)
    } else {
        publish_var::<Gen15>(v.rec as *mut c_void, v)
    }
}

/// Write a string value into an own-storage string record.
fn set_own_string(slot: *mut u64, value: &str) {
    // SAFETY: slot is this table's 8-byte storage holding a char * that
    // this function allocated (or NULL).
    unsafe {
        let p = slot as *mut *mut c_char;
        if !(*p).is_null() && CStr::from_ptr(*p).to_bytes() == value.as_bytes() {
            return;
        }
        // The old string stays allocated: a module may have read the
        // pointer (it is the setting's current value).
        *p = cstring(value).into_raw();
    }
}

/// A record for a setting bgworkerd keeps itself (`b` of the process's
/// major), or a placeholder (`b` None), whose value is `value`.
fn own_record<G: Header>(name: &str, b: Option<&builtin::Builtin>) -> Entry {
    let slot = Box::into_raw(Box::new(0u64));
    let v = Var {
        name: name.to_string(),
        context: b.map(|b| b.context).unwrap_or(PGC_USERSET),
        flags: b.map(|b| b.flags).unwrap_or(PLACEHOLDER_FLAGS_15),
        kind: match b.map(|b| b.ty) {
            Some(builtin::BuiltinType::Bool) => Kind::Bool {
                addr: slot as *mut bool,
                boot: b.and_then(|b| b.boot) == Some("on"),
                check: None,
                assign: None,
            },
            Some(builtin::BuiltinType::Int) => Kind::Int {
                addr: slot as *mut c_int,
                boot: b
                    .and_then(|b| b.boot)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                min: b.map(|b| b.min as c_int).unwrap_or(0),
                max: b.map(|b| b.max as c_int).unwrap_or(0),
                check: None,
                assign: None,
            },
            Some(builtin::BuiltinType::Real) => Kind::Real {
                addr: slot as *mut f64,
                boot: b
                    .and_then(|b| b.boot)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0),
                min: b.map(|b| b.min).unwrap_or(0.0),
                max: b.map(|b| b.max).unwrap_or(0.0),
                check: None,
                assign: None,
            },
            Some(builtin::BuiltinType::Enum) => {
                let options: Vec<(String, c_int, bool)> = b
                    .map(|b| b.options)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&(n, v, h)| (n.to_string(), v, h))
                    .collect();
                Kind::Enum {
                    addr: slot as *mut c_int,
                    boot: b
                        .and_then(|b| b.boot)
                        .and_then(|s| options.iter().find(|o| o.0 == s).map(|o| o.1))
                        .unwrap_or(0),
                    options,
                    check: None,
                    assign: None,
                }
            }
            Some(builtin::BuiltinType::Str) | None => Kind::Str {
                addr: slot as *mut *mut c_char,
                boot: b.and_then(|b| b.boot).map(cstring),
                check: None,
                assign: None,
            },
        },
        show: None,
        source: PGC_S_DEFAULT,
        reset: None,
        desc: [0, 0],
        rec: 0,
    };
    let mut e = new_record::<G>(&v);
    e.own = Own::Storage(slot);
    e.placeholder = b.is_none();
    publish_var::<G>(e.rec, &v);
    e
}

/// Bring an own-storage record's value up to `text` (the value
/// bgworkerd shows for it), parsed as the record's type.
fn refresh_own<G: Header>(e: &mut Entry, text: &str, b: Option<&builtin::Builtin>) {
    let Own::Storage(slot) = e.own else {
        return;
    };
    // SAFETY: slot is this entry's 8-byte storage; the record's variable
    // points at it and its type is e.vartype.
    unsafe {
        match e.vartype {
            PGC_BOOL => *(slot as *mut bool) = settings::parse_bool(text).unwrap_or(false),
            PGC_INT => {
                let flags = b.map(|b| b.flags).unwrap_or(0);
                *(slot as *mut c_int) = parse_number(text, flags, false)
                    .map(|x| x.round() as c_int)
                    .unwrap_or(0)
            }
            PGC_REAL => {
                let flags = b.map(|b| b.flags).unwrap_or(0);
                *(slot as *mut f64) = parse_number(text, flags, true).unwrap_or(0.0)
            }
            PGC_ENUM => {
                if let Some(o) = b.and_then(|b| {
                    b.options
                        .iter()
                        .find(|(n, _, _)| n.eq_ignore_ascii_case(text))
                }) {
                    *(slot as *mut c_int) = o.1;
                }
            }
            _ => set_own_string(slot, text),
        }
        if e.placeholder {
            // A placeholder's value came from the configuration.
            let g = &mut *(e.rec as *mut G);
            g.set(&Common {
                name: e.name.as_ptr(),
                context: PGC_USERSET,
                group: custom_options_group(major()),
                short_desc: std::ptr::null(),
                long_desc: std::ptr::null(),
                flags: flags_for_major(PLACEHOLDER_FLAGS_15, major()),
                vartype: PGC_STRING,
                source: PGC_S_FILE,
                reset_source: PGC_S_FILE,
                scontext: PGC_POSTMASTER,
                reset_scontext: PGC_POSTMASTER,
                sourcefile: conf_path(),
            });
        }
    }
}

/// Bring the table up to date with the registry and bgworkerd's settings
/// and sort it; returns the sorted array's address and length. Takes the
/// registry's lock, then the table's.
fn rebuild<G: Header>() -> (*mut *mut c_void, usize) {
    builtin::ensure_registered();
    let vars = registry(|r| r.vars.clone());
    let s = settings::current();
    let major = major();
    ACTIVE.store(true, Ordering::Release);
    let out = table(|t| {
        // Registry entries.
        for v in &vars {
            let key = v.name.to_ascii_lowercase();
            if let Some(i) = t.entries.iter().position(|e| e.key == key) {
                if t.entries[i].placeholder {
                    // Defined since: PostgreSQL replaces the placeholder's
                    // record by the definition's.
                    t.entries.remove(i);
                } else {
                    publish_var::<G>(t.entries[i].rec, v);
                    continue;
                }
            }
            let e = new_record::<G>(v);
            publish_var::<G>(e.rec, v);
            t.entries.push(e);
        }
        // Settings bgworkerd keeps itself.
        for b in builtin::builtins(major) {
            let key = b.name.to_ascii_lowercase();
            if !settings::is_known(&key) || vars.iter().any(|v| v.name.eq_ignore_ascii_case(b.name))
            {
                continue;
            }
            let text = if key == "log_min_messages" {
                log::level_word(s.log_min_messages).to_string()
            } else {
                s.show(&key)
            };
            let i = match t.entries.iter().position(|e| e.key == key) {
                Some(i) => i,
                None => {
                    t.entries.push(own_record::<G>(b.name, Some(b)));
                    t.entries.len() - 1
                }
            };
            refresh_own::<G>(&mut t.entries[i], &text, Some(b));
        }
        // Placeholders: configured custom names no module defined.
        for (key, value) in &s.custom {
            if !key.contains('.') || vars.iter().any(|v| v.name.eq_ignore_ascii_case(key)) {
                continue;
            }
            let i = match t.entries.iter().position(|e| &e.key == key) {
                Some(i) => i,
                None => {
                    t.entries.push(own_record::<G>(key, None));
                    t.entries.len() - 1
                }
            };
            refresh_own::<G>(&mut t.entries[i], value, None);
        }
        // Placeholders whose name is no longer configured go.
        t.entries
            .retain(|e| !e.placeholder || s.custom.contains_key(&e.key));
        t.entries.sort_by(|a, b| a.key.cmp(&b.key));
        let n = t.entries.len();
        if t.sorted.capacity() < n {
            t.sorted = Vec::with_capacity(n + 256);
        }
        t.sorted.clear();
        t.sorted.extend(t.entries.iter().map(|e| e.rec));
        let recs: Vec<(String, usize)> = t
            .entries
            .iter()
            .filter(|e| matches!(e.own, Own::None))
            .map(|e| (e.key.clone(), e.rec as usize))
            .collect();
        (t.sorted.as_mut_ptr(), n, recs)
    });
    // The registry entries learn their records (adopt and publish use them).
    registry(|r| {
        for v in r.vars.iter_mut().filter(|v| v.rec == 0) {
            let key = v.name.to_ascii_lowercase();
            if let Ok(i) = out.2.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
                v.rec = out.2[i].1;
            }
        }
    });
    (out.0, out.1)
}

/// The sorted table (see [`rebuild`]) for the process's major.
pub(super) fn sorted_table() -> (*mut *mut c_void, usize) {
    if major() >= 16 {
        rebuild::<Gen16>()
    } else {
        rebuild::<Gen15>()
    }
}

/// `get_guc_variables`: 15's `get_guc_variables(void)` returns the
/// table's own sorted array (valid until the table changes, as
/// PostgreSQL's); 16's and later `get_guc_variables(int *num_vars)` a
/// copy, which the C half pallocs: here `num` gets the length and the
/// result is the array to copy.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_get_guc_variables(num: *mut c_int) -> *mut *mut c_void {
    crate::guard("get_guc_variables", std::ptr::null_mut(), || {
        let (p, n) = sorted_table();
        if !num.is_null() {
            // SAFETY: num is the C half's local.
            unsafe { *num = n as c_int };
        }
        p
    })
}

/// `GetNumConfigOptions()` (15): the table's length.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GetNumConfigOptions() -> c_int {
    crate::guard("GetNumConfigOptions", 0, || sorted_table().1 as c_int)
}

/// `find_option(name, create_placeholders, skip_errors, elevel)` (16 and
/// later): the record of `name` (any case), or NULL. An unknown valid
/// custom name becomes a placeholder when `create_placeholders`; an
/// unknown name is reported at `elevel` unless `skip_errors`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_find_option(
    name: *const c_char,
    create_placeholders: bool,
    skip_errors: bool,
    elevel: c_int,
) -> *mut c_void {
    crate::guard("find_option", std::ptr::null_mut(), || {
        let Some(name) = name_arg(name) else {
            return std::ptr::null_mut();
        };
        let key = name.to_ascii_lowercase();
        let lookup = || {
            sorted_table();
            table(|t| t.entries.iter().find(|e| e.key == key).map(|e| e.rec))
        };
        if let Some(r) = lookup() {
            return r;
        }
        if create_placeholders && valid_custom_name(&name) {
            let reserved = registry(|r| {
                r.reserved
                    .iter()
                    .find(|p| key.starts_with(&format!("{}.", p.to_ascii_lowercase())))
                    .cloned()
            });
            match reserved {
                Some(p) => {
                    if !skip_errors {
                        access::complain(
                            elevel,
                            ERRCODE_INVALID_NAME,
                            format!("invalid configuration parameter name \"{name}\""),
                            Some(format!("\"{p}\" is a reserved prefix.")),
                        );
                    }
                    return std::ptr::null_mut();
                }
                None => {
                    settings::with_current(|s| {
                        if !s.custom.contains_key(&key) {
                            s.custom.insert(key.clone(), String::new());
                        }
                    });
                    if let Some(r) = lookup() {
                        return r;
                    }
                }
            }
        }
        if !skip_errors {
            access::complain(
                elevel,
                ERRCODE_UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
                None,
            );
        }
        std::ptr::null_mut()
    })
}

/// Sizes of the two `struct config_generic` layouts (lookup.rs reads the
/// type-specific part that follows).
pub(super) const GEN15_SIZE: usize = std::mem::size_of::<Gen15>();
pub(super) const GEN16_SIZE: usize = std::mem::size_of::<Gen16>();
