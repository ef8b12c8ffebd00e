//! The Rust side of error reporting: the server-log writer behind
//! `EmitErrorReport`, the pending-error hand-off for Rust bodies that must
//! raise ERROR (see the module docs of the crate root), and the exports
//! of `c/elog.c`.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::AtomicPtr;

use crate::log;

/// `sigjmp_buf *PG_exception_stack`: the innermost PG_TRY (or the worker's
/// own handler); NULL when an ERROR has nowhere to go.
#[unsafe(no_mangle)]
pub static PG_exception_stack: AtomicPtr<libc::c_void> = AtomicPtr::new(std::ptr::null_mut());

/// `ErrorContextCallback *error_context_stack`, maintained by modules.
#[unsafe(no_mangle)]
pub static error_context_stack: AtomicPtr<libc::c_void> = AtomicPtr::new(std::ptr::null_mut());

super::c_export! {
    errstart => bgw_c_errstart,
    errstart_cold => bgw_c_errstart_cold,
    errfinish => bgw_c_errfinish,
    errmsg => bgw_c_errmsg,
    errmsg_internal => bgw_c_errmsg_internal,
    errmsg_plural => bgw_c_errmsg_plural,
    errdetail => bgw_c_errdetail,
    errdetail_internal => bgw_c_errdetail_internal,
    errdetail_log => bgw_c_errdetail_log,
    errdetail_plural => bgw_c_errdetail_plural,
    errdetail_log_plural => bgw_c_errdetail_log_plural,
    errhint => bgw_c_errhint,
    errhint_plural => bgw_c_errhint_plural,
    errcontext_msg => bgw_c_errcontext_msg,
    set_errcontext_domain => bgw_c_set_errcontext_domain,
    errcode => bgw_c_errcode,
    errcode_for_file_access => bgw_c_errcode_for_file_access,
    errcode_for_socket_access => bgw_c_errcode_for_socket_access,
    errhidestmt => bgw_c_errhidestmt,
    errhidecontext => bgw_c_errhidecontext,
    geterrcode => bgw_c_geterrcode,
    errposition => bgw_c_errposition,
    internalerrposition => bgw_c_internalerrposition,
    internalerrquery => bgw_c_internalerrquery,
    geterrposition => bgw_c_geterrposition,
    getinternalerrposition => bgw_c_getinternalerrposition,
    err_generic_string => bgw_c_err_generic_string,
    error_severity => bgw_c_error_severity,
    GetErrorContextStack => bgw_c_GetErrorContextStack,
    ThrowErrorData => bgw_c_ThrowErrorData,
    in_error_recursion_trouble => bgw_c_in_error_recursion_trouble,
    message_level_is_interesting => bgw_c_message_level_is_interesting,
    EmitErrorReport => bgw_c_EmitErrorReport,
    FlushErrorState => bgw_c_FlushErrorState,
    CopyErrorData => bgw_c_CopyErrorData,
    FreeErrorData => bgw_c_FreeErrorData,
    ReThrowError => bgw_c_ReThrowError,
    pg_re_throw => bgw_c_pg_re_throw,
    write_stderr => bgw_c_write_stderr,
    unpack_sql_state => bgw_c_unpack_sql_state,
    pre_format_elog_string => bgw_c_pre_format_elog_string,
    format_elog_string => bgw_c_format_elog_string,
    pg_snprintf => bgw_c_pg_snprintf,
    pg_vsnprintf => bgw_c_pg_vsnprintf,
    pg_sprintf => bgw_c_pg_sprintf,
    pg_vsprintf => bgw_c_pg_vsprintf,
    pg_fprintf => bgw_c_pg_fprintf,
    pg_vfprintf => bgw_c_pg_vfprintf,
    pg_printf => bgw_c_pg_printf,
    pg_vprintf => bgw_c_pg_vprintf,
    pg_strerror => bgw_c_pg_strerror,
    pg_strerror_r => bgw_c_pg_strerror_r,
    psprintf => bgw_c_psprintf,
    pvsnprintf => bgw_c_pvsnprintf,
    initStringInfo => bgw_c_initStringInfo,
    makeStringInfo => bgw_c_makeStringInfo,
    resetStringInfo => bgw_c_resetStringInfo,
    enlargeStringInfo => bgw_c_enlargeStringInfo,
    appendStringInfo => bgw_c_appendStringInfo,
    appendStringInfoVA => bgw_c_appendStringInfoVA,
    appendStringInfoString => bgw_c_appendStringInfoString,
    appendStringInfoChar => bgw_c_appendStringInfoChar,
    appendStringInfoSpaces => bgw_c_appendStringInfoSpaces,
    appendBinaryStringInfo => bgw_c_appendBinaryStringInfo,
    appendBinaryStringInfoNT => bgw_c_appendBinaryStringInfoNT,
    appendStringInfoStringQuoted => bgw_c_appendStringInfoStringQuoted,
}

unsafe extern "C" {
    /// Run a module hook with an error handler around it (c/ipc.c).
    fn bgw_c_call_guarded(hook: unsafe extern "C" fn()) -> bool;
}

/// Call a module's hook (shmem hooks, `_PG_init`) from the supervisor: an
/// ERROR inside it is logged and gives `false` instead of unwinding into
/// Rust frames.
pub fn call_guarded(hook: unsafe extern "C" fn()) -> bool {
    // SAFETY: the guard sets up sigsetjmp around the call; the hook is the
    // module's function of type void(void).
    unsafe { bgw_c_call_guarded(hook) }
}

struct Pending {
    level: i32,
    sqlstate: i32,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Record an error for the C wrapper of the current export to raise when
/// the Rust body returns (the body must return promptly, with a harmless
/// value). A second call before the first is raised keeps the first.
pub fn raise(level: i32, sqlstate: i32, message: String, detail: Option<String>) {
    raise_full(level, sqlstate, message, detail, None);
}

/// Re-throw, once the Rust body has returned, the ERROR that
/// [`call_caught`] caught (it is still on the error stack).
pub fn rethrow_caught() {
    raise_full(-1, 0, String::new(), None, None);
}

unsafe extern "C" {
    fn bgw_c_call_caught(
        f: unsafe extern "C" fn(*mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> bool;
    fn bgw_c_report_caught();
}

/// Run `f`, which calls into module code, catching an ERROR raised there:
/// returns false with the error left on the error stack, for
/// [`rethrow_caught`] or [`report_caught`]. `f` must own nothing that
/// needs dropping while the module code runs: the unwinding skips its
/// frame (and this function's trampoline), which is defined behaviour only
/// for such plain frames.
pub fn call_caught(f: &mut dyn FnMut()) -> bool {
    unsafe extern "C" fn trampoline(arg: *mut libc::c_void) {
        // SAFETY: arg is the &mut &mut dyn FnMut() passed below, alive for
        // the call.
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut()) };
        f();
    }
    let mut f = f;
    // SAFETY: the guard calls trampoline(arg) once, with arg pointing to
    // `f` on this frame.
    unsafe {
        bgw_c_call_caught(
            trampoline,
            &mut f as *mut &mut dyn FnMut() as *mut libc::c_void,
        )
    }
}

/// Log the error [`call_caught`] caught and forget it. Only after
/// `call_caught` returned false.
pub fn report_caught() {
    // SAFETY: the caught error is on the error stack (caller's contract).
    unsafe { bgw_c_report_caught() }
}

/// As [`raise`], with a HINT too.
pub fn raise_full(
    level: i32,
    sqlstate: i32,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) {
    // try_: a signal handler's guard may record while the code it
    // interrupted holds the cell; that record is dropped, not a panic.
    let _ = PENDING.try_with(|p| {
        let Ok(mut p) = p.try_borrow_mut() else {
            return;
        };
        if p.is_none() {
            *p = Some(Pending {
                level,
                sqlstate,
                message,
                detail,
                hint,
            });
        }
    });
}

/// SQLSTATE packing (elog.h's MAKE_SQLSTATE).
pub const fn sqlstate(code: &[u8; 5]) -> i32 {
    let mut v = 0;
    let mut i = 0;
    while i < 5 {
        v += ((code[i].wrapping_sub(b'0') & 0x3f) as i32) << (6 * i);
        i += 1;
    }
    v
}

pub const ERRCODE_INTERNAL_ERROR: i32 = sqlstate(b"XX000");
pub const ERRCODE_OUT_OF_MEMORY: i32 = sqlstate(b"53200");
pub const ERRCODE_INVALID_PARAMETER_VALUE: i32 = sqlstate(b"22023");
pub const ERRCODE_UNDEFINED_OBJECT: i32 = sqlstate(b"42704");
pub const ERRCODE_CANT_CHANGE_RUNTIME_PARAM: i32 = sqlstate(b"55P02");
pub const ERRCODE_FEATURE_NOT_SUPPORTED: i32 = sqlstate(b"0A000");
pub const ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE: i32 = sqlstate(b"55000");
pub const ERRCODE_PROGRAM_LIMIT_EXCEEDED: i32 = sqlstate(b"54000");
pub const ERRCODE_CONFIG_FILE_ERROR: i32 = sqlstate(b"F0000");
pub const ERRCODE_INVALID_NAME: i32 = sqlstate(b"42602");

/// Hand the recorded error to C (which frees the strings with free()).
///
/// # Safety
/// The four pointers point to writable locals of the C caller.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_take_error(
    level: *mut c_int,
    code: *mut c_int,
    message: *mut *mut c_char,
    detail: *mut *mut c_char,
    hint: *mut *mut c_char,
) -> bool {
    super::guard("bgw_rs_take_error", false, || {
        let Some(p) = PENDING.with(|p| p.borrow_mut().take()) else {
            return false;
        };
        // SAFETY: the C caller passes pointers to its locals.
        unsafe {
            *level = p.level;
            *code = p.sqlstate;
            *message = malloc_str(&p.message);
            *detail = p.detail.as_deref().map_or(std::ptr::null_mut(), malloc_str);
            *hint = p.hint.as_deref().map_or(std::ptr::null_mut(), malloc_str);
        }
        true
    })
}

fn malloc_str(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    // SAFETY: a fresh allocation of len + 1 bytes, filled and terminated;
    // interior NULs only shorten the C string.
    unsafe {
        let p = libc::malloc(bytes.len() + 1) as *mut u8;
        if p.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
        p as *mut c_char
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_log_enabled(level: c_int) -> bool {
    super::guard("bgw_rs_log_enabled", true, || log::enabled(level))
}

/// Write a report to the server log the way PostgreSQL's
/// send_message_to_server_log does with the default verbosity: one
/// `LEVEL:  message` line, then DETAIL, HINT and CONTEXT lines; the
/// continuation lines of a multi-line text are indented with a tab. The
/// whole report goes out in one write.
///
/// # Safety
/// Each pointer is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_log_report(
    level: c_int,
    message: *const c_char,
    detail: *const c_char,
    hint: *const c_char,
    query: *const c_char,
    context: *const c_char,
) {
    super::guard("bgw_rs_log_report", (), || {
        let text = |p: *const c_char| {
            // SAFETY: NULL or NUL-terminated strings owned by the error stack.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy())
        };
        let message = text(message).unwrap_or_default();
        report_with_query(
            level,
            &message,
            text(detail).as_deref(),
            text(hint).as_deref(),
            text(query).as_deref(),
            text(context).as_deref(),
        );
    })
}

/// Log a report now (no filtering by caller needed: applies
/// `log_min_messages`). For FATAL or ERROR that ends the process, the
/// caller exits afterwards.
pub fn report(
    level: i32,
    message: &str,
    detail: Option<&str>,
    hint: Option<&str>,
    context: Option<&str>,
) {
    report_with_query(level, message, detail, hint, None, context);
}

/// [`report`] with the QUERY line of an error in an internally generated
/// query (`internalerrquery`), between HINT and CONTEXT as PostgreSQL
/// prints it.
pub fn report_with_query(
    level: i32,
    message: &str,
    detail: Option<&str>,
    hint: Option<&str>,
    query: Option<&str>,
    context: Option<&str>,
) {
    if !log::enabled(level) {
        return;
    }
    let mut out: Vec<u8> = Vec::with_capacity(256);
    let mut part = |label: &str, body: &str| {
        let mut prefix = log::Line::new();
        prefix.push_prefix();
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b":  ");
        for (i, line) in body.split('\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\n\t");
            }
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
    };
    part(log::level_name(level), message);
    if let Some(d) = detail {
        part("DETAIL", d);
    }
    if let Some(h) = hint {
        part("HINT", h);
    }
    if let Some(q) = query {
        part("QUERY", q);
    }
    if let Some(c) = context {
        part("CONTEXT", c);
    }
    log::write_all(&out);
}
