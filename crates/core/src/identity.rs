//! What this process is to a supervisor: its [`Role`], and in a worker its
//! own definition (`MyBgworkerEntry`). The lowest layer of the core after
//! the ABI types, so that log lines (log/prefix.rs's `%b`) and the runtime can
//! name the process without reaching into the backend or the API.
//!
//! Written by backend.rs when a connection is installed or removed, and by
//! process/child.rs in a new worker before its entry point; read anywhere,
//! signal handlers included (plain atomic loads).
//!
//! Also the process's PostgreSQL major version ([`pg_major`]): the major of
//! the modules it serves, which decides the layout the plain-name exports
//! read `BackgroundWorker` with and the meaning of the runtime's names. It
//! is a fixed property: decided once ([`set_pg_major`], by the loader from
//! the preloaded modules' magic blocks or from the `postgresql_major`
//! setting), before any module's `_PG_init` runs, and inherited by every
//! worker the process forks.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use crate::abi::{BackgroundWorker, CallerWorker};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Supervisor,
    Worker,
    Attached,
}

/// 0: not connected; else 1 + the Role's index.
static ROLE: AtomicU8 = AtomicU8::new(0);

/// The worker's own copy of its definition, in the layout of the process's
/// major ([`pg_major`]); NULL outside a worker. Modules may read and (as
/// PostgreSQL allows) overwrite this pointer.
#[no_mangle]
pub static mut MyBgworkerEntry: *mut CallerWorker = std::ptr::null_mut();

/// The worker's own definition in PostgreSQL 15's layout, whatever the
/// process's major: what include/bgworker.h names `MyBgworkerEntry` for a
/// program compiled with `BGW_PG_MAJOR` 15 (the default), so that such code
/// reads its own layout even in a worker of a 17 or 18 daemon. NULL outside
/// a worker. Set with the others by process/child.rs.
#[no_mangle]
pub static mut bgw_pg15_MyBgworkerEntry: *mut crate::abi::BackgroundWorker15 = std::ptr::null_mut();

/// As [`bgw_pg15_MyBgworkerEntry`], in PostgreSQL 17's and 18's layout
/// (`BGW_PG_MAJOR` 17 or 18).
#[no_mangle]
pub static mut bgw_pg17_MyBgworkerEntry: *mut crate::abi::BackgroundWorker17 = std::ptr::null_mut();

/// This process's role, or None when it is not connected to a supervisor.
pub fn role() -> Option<Role> {
    match ROLE.load(Ordering::Acquire) {
        1 => Some(Role::Supervisor),
        2 => Some(Role::Worker),
        3 => Some(Role::Attached),
        _ => None,
    }
}

/// In a worker: its slot and its own pid (process/child.rs sets them as
/// the worker starts); -1 elsewhere. A process the worker forks inherits
/// them, and tells itself apart by its pid.
static WORKER_SLOT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(-1);
static WORKER_PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Called once in a new worker process, before its entry point.
pub fn set_worker_slot(slot: usize, pid: i32) {
    WORKER_SLOT.store(slot as i64, Ordering::Release);
    WORKER_PID.store(pid, Ordering::Release);
}

/// This worker's slot, if this process is a worker's own process (not a
/// child it forked).
pub fn worker_slot() -> Option<usize> {
    let slot = WORKER_SLOT.load(Ordering::Acquire);
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    (slot >= 0 && WORKER_PID.load(Ordering::Acquire) == me && role() == Some(Role::Worker))
        .then_some(slot as usize)
}

/// Record this process's role (backend.rs, as its connection changes).
pub fn set_role(r: Option<Role>) {
    let v = match r {
        None => 0,
        Some(Role::Supervisor) => 1,
        Some(Role::Worker) => 2,
        Some(Role::Attached) => 3,
    };
    ROLE.store(v, Ordering::Release);
}

/// A copy of this worker's own definition (neutral form), or None outside
/// a worker.
pub fn my_entry() -> Option<BackgroundWorker> {
    // SAFETY: MyBgworkerEntry is NULL or this worker's own copy of its
    // definition in the process major's layout, set before the entry point
    // runs and never freed (a module that overwrites it must point it at a
    // definition of its own major's layout that lives as long).
    let p = unsafe { std::ptr::addr_of!(MyBgworkerEntry).read() };
    if p.is_null() {
        return None;
    }
    // SAFETY: see above.
    Some(unsafe { BackgroundWorker::read_caller(p, pg_major()) })
}

pub use crate::abi::{serves, DEFAULT_MAJOR, SERVED_MAJORS};

/// This process's major; 0 until decided (then [`DEFAULT_MAJOR`] is read).
static PG_MAJOR: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL major version of this process. Async-signal-safe.
pub fn pg_major() -> u32 {
    match PG_MAJOR.load(Ordering::Acquire) {
        0 => DEFAULT_MAJOR,
        m => m,
    }
}

/// Has this process's major been decided (see [`set_pg_major`])?
pub fn pg_major_decided() -> bool {
    PG_MAJOR.load(Ordering::Acquire) != 0
}

/// Decide this process's major. Called by the loader before the first
/// `_PG_init` (single-threaded start-up, or an embedding host before its
/// supervisor runs); `major` must be served (callers check, with the
/// user-facing error). Later calls with another major are refused: the
/// major never changes once decided. Returns whether `major` is now the
/// process's major.
pub fn set_pg_major(major: u32) -> bool {
    debug_assert!(serves(major));
    match PG_MAJOR.compare_exchange(0, major, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => true,
        Err(cur) => cur == major,
    }
}

/// `MyBgworkerEntry->bgw_type` in place (NUL-terminated: sanity-checked at
/// registration), or None outside a worker. The field has the same offset
/// and size in every major's layout, so the pointer is valid whatever the
/// process's major, for as long as the definition lives.
pub fn my_entry_type_ptr() -> Option<*const std::os::raw::c_char> {
    // SAFETY: as in my_entry.
    let p = unsafe { std::ptr::addr_of!(MyBgworkerEntry).read() };
    if p.is_null() {
        return None;
    }
    let p = p as *const crate::abi::BackgroundWorker15;
    // SAFETY: p points at a definition of 15's or 17's layout, both of
    // which start with bgw_name and bgw_type as in BackgroundWorker15.
    Some(unsafe { std::ptr::addr_of!((*p).bgw_type) } as *const std::os::raw::c_char)
}

/// Set by bgworkerd's main before anything else: this process image is
/// bgworkerd (not a host program embedding or attaching to a supervisor).
static DAEMON_IMAGE: AtomicBool = AtomicBool::new(false);

/// Called once by bgworkerd's main (see [`final_exit`]).
pub fn mark_daemon_image() {
    DAEMON_IMAGE.store(true, Ordering::Relaxed);
}

/// Is this process image bgworkerd (its supervisor or one of its
/// workers), rather than a host program?
pub fn is_daemon_image() -> bool {
    DAEMON_IMAGE.load(Ordering::Relaxed)
}

/// End this process the way PostgreSQL's proc_exit does, after the exit
/// callbacks: stdio is flushed, and
/// * in bgworkerd (supervisor and workers) and in any process that is not
///   a worker, with exit(): atexit handlers run, as in PostgreSQL, whose
///   workers run the postmaster's handlers;
/// * in a worker forked from an embedding host, with _exit() after
///   flushing stdio: the host's atexit handlers belong to the host's own
///   process (a host is not the postmaster; its handlers may remove its
///   files, talk to its peers or flush its own state), so they do not run
///   once more in every worker.
pub fn final_exit(code: i32) -> ! {
    if role() == Some(Role::Worker) && !DAEMON_IMAGE.load(Ordering::Relaxed) {
        // SAFETY: fflush(NULL) flushes every output stream; _exit has no
        // preconditions.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            libc::_exit(code)
        }
    }
    // SAFETY: exit has no preconditions.
    unsafe { libc::exit(code) }
}
