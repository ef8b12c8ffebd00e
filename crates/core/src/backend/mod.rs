//! This process's connection to a supervisor, and the backend side of the
//! slot protocol (shmem/slots.rs): registering dynamic workers, reading their
//! status, waiting and terminating.
//!
//! A process is in one of four roles: not connected, the supervisor itself,
//! a worker (forked by the supervisor, which installs its connection before
//! the entry point runs), or an attached process (`bgw_attach`). The
//! connection is a process-wide value published through an atomic pointer;
//! it is replaced only by `bgw_attach`/`bgw_detach` (which callers must not
//! race with other calls into the library) and in a freshly forked worker.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use crate::abi::*;
use crate::log;
use crate::shmem::Segment;

pub use crate::identity::Role;

mod attach;
pub(crate) mod futex;
mod lock;
mod slot_ops;
/// cbindgen:ignore
pub mod supervision;
#[cfg(test)]
mod tests;
mod validate;

pub use attach::{attach, read_pid_file};
pub use futex::{futex_wait, futex_wake_all};
pub use slot_ops::{RegisterError, DEATH_CHECK, SPIN_LIMIT};
pub use validate::sanity_check;

pub struct Connection {
    pub seg: Arc<Segment>,
    pub role: Role,
    pub supervisor_pid: i32,
    /// pidfd of the supervisor (attached processes).
    pub pidfd: Option<crate::pidfd::Pidfd>,
    /// Read end of the supervisor's death-watch pipe (workers).
    pub death_fd: Option<OwnedFd>,
    /// This process's own descriptor of the segment's file, to test the
    /// supervisor lock (shmem::segment::supervisor_lock_held): attached
    /// processes, and the supervisor's own process for its host threads.
    pub lock_fd: Option<OwnedFd>,
}

static CONNECTION: AtomicPtr<Connection> = AtomicPtr::new(std::ptr::null_mut());

/// The current connection, if any.
///
/// The reference is `'static` because a published connection is freed
/// only by the unsafe [`uninstall`] and [`drop_connection`], whose callers
/// guarantee that no reference obtained here is used any more.
pub fn current() -> Option<&'static Connection> {
    let p = CONNECTION.load(Ordering::Acquire);
    // SAFETY: a non-null pointer was produced by Box::into_raw in install()
    // and is freed only by uninstall() or drop_connection(), whose safety
    // contracts exclude any remaining use of references handed out here.
    unsafe { p.as_ref() }
}

/// Install `c` as this process's connection; returns the previous one,
/// which the caller frees with `drop_connection` when nothing can use it.
pub fn install(c: Connection) -> *mut Connection {
    crate::identity::set_role(Some(c.role));
    CONNECTION.swap(Box::into_raw(Box::new(c)), Ordering::AcqRel)
}

/// Remove the connection without freeing it: other threads may still be
/// using it (the supervisor, when bgw_host_run returns). Its mapping stays.
pub fn unpublish() {
    crate::identity::set_role(None);
    CONNECTION.swap(std::ptr::null_mut(), Ordering::AcqRel);
}

/// Remove the connection and free it (closing its descriptors).
///
/// # Safety
/// No reference returned by [`current`] may be used after this call, by
/// any thread: no other thread is inside the library (bgw_detach's
/// documented contract), and the caller holds no such reference itself.
///
/// A safe call does not compile:
/// ```compile_fail
/// bgworker_core::backend::uninstall();
/// ```
pub unsafe fn uninstall() {
    crate::identity::set_role(None);
    let p = CONNECTION.swap(std::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: p was published by install() and is now unpublished; the
    // caller guarantees no reference to it is used any more.
    unsafe { drop_connection(p) };
}

/// Free a connection returned by [`install`] (NULL is fine).
///
/// # Safety
/// `p` is NULL or came from `install` and is no longer published nor used.
pub unsafe fn drop_connection(p: *mut Connection) {
    if !p.is_null() {
        // SAFETY: p came from Box::into_raw in install() (caller's contract).
        drop(unsafe { Box::from_raw(p) });
    }
}

pub fn role() -> Option<Role> {
    crate::identity::role()
}

thread_local! {
    static LAST_ERROR: std::cell::RefCell<std::ffi::CString> =
        std::cell::RefCell::new(std::ffi::CString::default());
}

/// Remember `msg` as this thread's last error (see `bgw_last_error`).
pub fn set_last_error(msg: &str) {
    let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

pub fn last_error_ptr() -> *const std::os::raw::c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

thread_local! {
    /// An ERROR the runtime deferred (hooks::Raised::Deferred) that the
    /// current export's C shim has not raised yet.
    static DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Report an error of the kind PostgreSQL raises with `ereport(ERROR)`,
/// from the body of an exported bgworker.h function (api.rs) only: the
/// message is kept for `bgw_last_error`, and
/// - where the runtime has an error context (a module's worker, or module
///   code in the supervisor), it becomes PostgreSQL's ERROR, raised in C by
///   the export's shim once the body has returned: the module's PG_TRY
///   catches it, or the worker's outermost handler logs it and exits 1;
/// - elsewhere (a plain C host) it is logged and the caller returns its
///   failure value; a worker with no runtime exits with status 1, as a
///   PostgreSQL worker does on an uncaught ERROR.
pub fn raise_error(msg: &str) {
    raise_error_code(b"XX000", msg);
}

/// [`raise_error`] with PostgreSQL's SQLSTATE `sqlstate`.
pub fn raise_error_code(sqlstate: &[u8; 5], msg: &str) {
    set_last_error(msg);
    let hooks = crate::hooks::get();
    match (hooks.raise_error)(sqlstate, msg) {
        crate::hooks::Raised::Deferred => DEFERRED.with(|d| d.set(true)),
        crate::hooks::Raised::NotRaised => {
            log::emit(log::ERROR, msg);
            if role() == Some(Role::Worker) {
                (hooks.exit_process)(1);
            }
        }
    }
}

/// An error of the supervision API (supervision.rs): PostgreSQL's ERROR
/// where the runtime has an error context (a module), raised by the
/// export's C shim; elsewhere only the message for `bgw_last_error` and
/// the caller's failure value: never the end of a plain host's process.
pub fn raise_error_or_fail(sqlstate: &[u8; 5], msg: &str) {
    set_last_error(msg);
    if let crate::hooks::Raised::Deferred = (crate::hooks::get().raise_error)(sqlstate, msg) {
        DEFERRED.with(|d| d.set(true));
    }
}

/// For the export shims of c/raise.c, after the Rust body returned: the
/// runtime's function that raises the deferred ERROR, or NULL.
#[no_mangle]
extern "C" fn bgw_rs_take_deferred_raise() -> Option<unsafe extern "C" fn()> {
    DEFERRED
        .with(|d| d.replace(false))
        .then_some(crate::hooks::get().throw_deferred)
}

/// End this process the way PostgreSQL's proc_exit does, after the exit
/// callbacks (see [`crate::identity::final_exit`]).
pub fn exit_process(code: i32) -> ! {
    crate::identity::final_exit(code)
}
