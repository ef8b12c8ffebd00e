//! The `DefineCustom*Variable` exports and `MarkGUCPrefixReserved`: the
//! registry's entries, with the configured value applied at definition.

use super::*;

/// PostgreSQL's valid_custom_variable_name: two or more identifiers
/// joined by dots.
pub(super) fn valid_custom_name(name: &str) -> bool {
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

/// The value bgworkerd's settings give `name` (command line over file),
/// with its source.
pub(super) fn configured(s: &settings::Settings, name: &str) -> Option<(String, c_int)> {
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

/// Common part of the DefineCustom*Variable functions.
pub(super) fn define(
    name: *const c_char,
    desc: [usize; 2],
    context: c_int,
    flags: c_int,
    kind: Kind,
    show: ShowHook,
) {
    // The flags as PostgreSQL 15 spells them, whatever the module's major.
    let flags = flags_as_15(flags, bgworker_core::identity::pg_major());
    if kind.addr_is_null() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "custom variable address is NULL".into(),
            None,
        );
        return;
    }
    let Some(name) = crate::misc::c_str(name) else {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "custom variable name is NULL".into(),
            None,
        );
        return;
    };
    // No check of the name's form: PostgreSQL's DefineCustom*Variable
    // takes any name (modules such as rum define names without a dot);
    // only placeholders for not-yet-defined names need the dotted form.
    let preloading = crate::misc::process_shared_preload_libraries_in_progress
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
        reset: None,
        desc,
        rec: 0,
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
    short_desc: *const c_char,
    long_desc: *const c_char,
    value_addr: *mut bool,
    boot: bool,
    context: c_int,
    flags: c_int,
    check: BoolCheck,
    assign: BoolAssign,
    show: ShowHook,
) {
    crate::guard("bgw_rs_DefineCustomBoolVariable", (), || {
        define(
            name,
            [short_desc as usize, long_desc as usize],
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
    short_desc: *const c_char,
    long_desc: *const c_char,
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
    crate::guard("bgw_rs_DefineCustomIntVariable", (), || {
        define(
            name,
            [short_desc as usize, long_desc as usize],
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
    short_desc: *const c_char,
    long_desc: *const c_char,
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
    crate::guard("bgw_rs_DefineCustomRealVariable", (), || {
        define(
            name,
            [short_desc as usize, long_desc as usize],
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
    short_desc: *const c_char,
    long_desc: *const c_char,
    value_addr: *mut *mut c_char,
    boot: *const c_char,
    context: c_int,
    flags: c_int,
    check: StringCheck,
    assign: StringAssign,
    show: ShowHook,
) {
    crate::guard("bgw_rs_DefineCustomStringVariable", (), || {
        // SAFETY: NULL or a NUL-terminated string (the boot value).
        let boot = (!boot.is_null()).then(|| unsafe { CStr::from_ptr(boot) }.to_owned());
        define(
            name,
            [short_desc as usize, long_desc as usize],
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
    short_desc: *const c_char,
    long_desc: *const c_char,
    value_addr: *mut c_int,
    boot: c_int,
    options: *const EnumEntry,
    context: c_int,
    flags: c_int,
    check: IntCheck,
    assign: IntAssign,
    show: ShowHook,
) {
    crate::guard("bgw_rs_DefineCustomEnumVariable", (), || {
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
            [short_desc as usize, long_desc as usize],
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
    crate::guard("MarkGUCPrefixReserved", (), || {
        bgworker_core::api::boundary("MarkGUCPrefixReserved", (), || {
            let Some(class) = crate::misc::c_str(class_name) else {
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
                crate::elog::report(
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

/// The bits of a GUC flags word whose values moved between PostgreSQL 15
/// and 17 (the same in 18), as (15's, 17's) pairs, from the real headers'
/// utils/guc.h. Units are fields, translated separately.
pub(super) const FLAG_BITS_15_17: &[(c_int, c_int)] = &[
    (0x0001, 0x0001),   // GUC_LIST_INPUT
    (0x0002, 0x0002),   // GUC_LIST_QUOTE
    (0x0004, 0x0004),   // GUC_NO_SHOW_ALL
    (0x0008, 0x0010),   // GUC_NO_RESET_ALL (17's GUC_NO_RESET 0x8 has no 15 bit)
    (0x0010, 0x0040),   // GUC_REPORT
    (0x0020, 0x0080),   // GUC_NOT_IN_SAMPLE
    (0x0040, 0x0100),   // GUC_DISALLOW_IN_FILE
    (0x0080, 0x0200),   // GUC_CUSTOM_PLACEHOLDER
    (0x0100, 0x0400),   // GUC_SUPERUSER_ONLY
    (0x0200, 0x0800),   // GUC_IS_NAME
    (0x0400, 0x1000),   // GUC_NOT_WHILE_SEC_REST
    (0x100000, 0x0020), // GUC_EXPLAIN
    (0x200000, 0x4000), // GUC_RUNTIME_COMPUTED
    (0x400000, 0x8000), // GUC_ALLOW_IN_PARALLEL
];

/// A module's GUC flags word in PostgreSQL 15's values, the runtime's own.
/// 15's words pass unchanged; 17's and 18's move their bits and units
/// (memory: 17's 1 KB, 2 BLOCKS, 3 XBLOCKS, 4 MB, 5 BYTE in bits 24-27 ->
/// 15's 1, 2, 3, 4, 8 in bits 12-15; time: 1 MS, 2 S, 3 MIN in bits 28-30
/// -> bits 16-19). Unknown bits are dropped, as the runtime ignores them.
pub fn flags_as_15(flags: c_int, major: u32) -> c_int {
    if major < 17 {
        return flags;
    }
    let mut out = 0;
    for &(f15, f17) in FLAG_BITS_15_17 {
        if flags & f17 != 0 {
            out |= f15;
        }
    }
    let mem = match (flags >> 24) & 0xF {
        5 => 8,
        m => m,
    };
    let time = (flags >> 28) & 0x7;
    out | (mem << 12) | (time << 16)
}
