//! Loading a library from module code (fmgr/dfmgr.c): `_PG_init` of some
//! modules finds functions of another library this way (plpgsql_check
//! looks up plpgsql's), which needs no database. `load_external_function`
//! loads the library with the core's loader (PostgreSQL's rules for
//! `dynamic_library_path`, `$libdir` and `.so`, the magic block check, and
//! `_PG_init` on first load in this process) and looks the function up;
//! `lookup_external_function` looks up a function in a library loaded
//! so. PostgreSQL's errors: a file that cannot be found or opened, or a
//! function that is not there when the caller asks for an error (else
//! NULL). The C half (c/dfmgr.c) raises what the body records. Called from
//! module code in the supervisor (during `_PG_init`) or a worker.

use std::ffi::{c_char, c_void, CString};

use crate::elog::{raise, sqlstate, ERRCODE_INTERNAL_ERROR};
use crate::log::ERROR;
use bgworker_core::process::loader;

super::c_export! {
    load_external_function => bgw_c_load_external_function,
    lookup_external_function => bgw_c_lookup_external_function,
}

const ERRCODE_UNDEFINED_FILE: i32 = sqlstate(b"58P01");
const ERRCODE_UNDEFINED_FUNCTION: i32 = sqlstate(b"42883");

/// The body of `load_external_function(filename, funcname, signalNotFound,
/// filehandle)`: the function's address, or NULL (an ERROR recorded when
/// the library failed, or when the function is missing and
/// `signal_not_found`).
///
/// # Safety
/// `filename` and `funcname` are NULL or NUL-terminated; `filehandle` is
/// NULL or points to a place for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_load_external_function(
    filename: *const c_char,
    funcname: *const c_char,
    signal_not_found: bool,
    filehandle: *mut *mut c_void,
) -> *mut c_void {
    super::guard("load_external_function", std::ptr::null_mut(), || {
        let (Some(file), Some(func)) = (crate::misc::c_str(filename), crate::misc::c_str(funcname))
        else {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "load_external_function: file or function name is NULL".into(),
                None,
            );
            return std::ptr::null_mut();
        };
        let handle = match loader::load(&file) {
            Ok(h) => h,
            Err(e) => {
                let code = if e.message.starts_with("could not access file") {
                    ERRCODE_UNDEFINED_FILE
                } else {
                    ERRCODE_INTERNAL_ERROR
                };
                raise(ERROR, code, e.message, e.detail);
                return std::ptr::null_mut();
            }
        };
        if !filehandle.is_null() {
            // SAFETY: the caller passes NULL or a place for the handle.
            unsafe { *filehandle = handle };
        }
        let Ok(cf) = CString::new(func.clone()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: handle is a live dlopen handle; cf is NUL-terminated.
        let f = unsafe { libc::dlsym(handle, cf.as_ptr()) };
        if f.is_null() && signal_not_found {
            raise(
                ERROR,
                ERRCODE_UNDEFINED_FUNCTION,
                format!(
                    "could not find function \"{func}\" in file \"{}\"",
                    loader::expand_name(&file)
                ),
                None,
            );
        }
        f
    })
}

/// The body of `lookup_external_function(filehandle, funcname)`: the
/// function's address in a library `load_external_function` loaded, or
/// NULL.
///
/// # Safety
/// `filehandle` is a handle `load_external_function` returned; `funcname`
/// is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_lookup_external_function(
    filehandle: *mut c_void,
    funcname: *const c_char,
) -> *mut c_void {
    super::guard("lookup_external_function", std::ptr::null_mut(), || {
        if funcname.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: filehandle is a handle load_external_function returned
        // (PostgreSQL's contract); funcname is NUL-terminated.
        unsafe { libc::dlsym(filehandle, funcname) }
    })
}
