//! The shared libraries PostgreSQL's server program links (OpenSSL, zstd,
//! LZ4, libxml2, ICU, ...), made visible to modules when one needs them.
//!
//! In PostgreSQL's processes those libraries are part of the program, so
//! a module built for Debian's server may call, say, `SSL_get_error` or
//! `ZSTD_createCCtx_advanced` without linking the library itself, and it
//! loads. bgworkerd and libbgworker_pg link none of them. When a module's
//! dlopen fails on an undefined symbol, the core's loader calls
//! [`make_global`] (the `server_libraries` hook): each library of
//! exports/pg15/server.libraries (Debian's server's DT_NEEDED list,
//! generated from the real binary) that this system has is opened
//! `RTLD_GLOBAL`, which puts its symbols where later dlopens look, and the
//! loader tries the module once more. Modules that need none of them never
//! pay for it.
//!
//! Who may call: the loader, single-threaded (the supervisor at start, a
//! worker or a host while it loads a library).

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::log::DEBUG1;

/// The list, as generated: one soname per line, `#` lines are comments.
const LIST: &str = include_str!("../../../exports/pg15/server.libraries");

/// Set once the list has been gone through in this process image (forked
/// workers inherit both the flag and the libraries).
static DONE: AtomicBool = AtomicBool::new(false);

/// The sonames of the list.
pub fn sonames() -> impl Iterator<Item = &'static str> {
    LIST.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Open every library of the list this system has with `RTLD_GLOBAL`
/// (for one already loaded, as libc or the runtime's own LZ4, that makes
/// its symbols global if they were not), the first time only. True when
/// any was opened, so that the loader's retry can succeed; false on later
/// calls, when nothing can have changed.
pub fn make_global() -> bool {
    if DONE.swap(true, Ordering::AcqRel) {
        return false;
    }
    let mut opened = 0;
    for name in sonames() {
        let Ok(c) = CString::new(name) else { continue };
        // SAFETY: c is a NUL-terminated soname; the handle is kept for the
        // life of the process, as the server's own NEEDED libraries are.
        let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if h.is_null() {
            crate::log::emit(
                DEBUG1,
                &format!("server library \"{name}\" is not available on this system"),
            );
        } else {
            opened += 1;
            crate::log::emit(
                DEBUG1,
                &format!(
                    "server library \"{name}\" made visible to modules, as in PostgreSQL's server"
                ),
            );
        }
    }
    opened > 0
}
