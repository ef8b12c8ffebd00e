//! What this process is to a supervisor: its [`Role`], and in a worker its
//! own definition (`MyBgworkerEntry`). The lowest layer of the core after
//! the ABI types, so that log lines (log/prefix.rs's `%b`) and the runtime can
//! name the process without reaching into the backend or the API.
//!
//! Written by backend.rs when a connection is installed or removed, and by
//! process/child.rs in a new worker before its entry point; read anywhere,
//! signal handlers included (plain atomic loads).

use std::sync::atomic::{AtomicU8, Ordering};

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
