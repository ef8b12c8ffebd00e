//! What this process is to a supervisor: its [`Role`], and in a worker its
//! own definition (`MyBgworkerEntry`). The lowest layer of the core after
//! the ABI types, so that log lines (log/prefix.rs's `%b`) and the runtime can
//! name the process without reaching into the backend or the API.
//!
//! Written by backend.rs when a connection is installed or removed, and by
//! process/child.rs in a new worker before its entry point; read anywhere,
//! signal handlers included (plain atomic loads).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::abi::BackgroundWorker;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Supervisor,
    Worker,
    Attached,
}

/// 0: not connected; else 1 + the Role's index.
static ROLE: AtomicU8 = AtomicU8::new(0);

/// The worker's own copy of its definition; NULL outside a worker. Modules
/// may read and (as PostgreSQL allows) overwrite this pointer.
#[no_mangle]
pub static mut MyBgworkerEntry: *mut BackgroundWorker = std::ptr::null_mut();

/// This process's role, or None when it is not connected to a supervisor.
pub fn role() -> Option<Role> {
    match ROLE.load(Ordering::Acquire) {
        1 => Some(Role::Supervisor),
        2 => Some(Role::Worker),
        3 => Some(Role::Attached),
        _ => None,
    }
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

/// This worker's own definition, or None outside a worker.
pub fn my_entry() -> Option<&'static BackgroundWorker> {
    // SAFETY: MyBgworkerEntry is NULL or this worker's own copy of its
    // definition, set before the entry point runs and never freed (a module
    // that overwrites it must point it at a definition that lives as long).
    unsafe { std::ptr::addr_of!(MyBgworkerEntry).read().as_ref() }
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
