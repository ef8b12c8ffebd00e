//! The worker side of a fork: from the supervisor's `fork()` to the module's
//! entry point.
//!
//! Runs in the new child only, and never returns to the supervisor's code.
//! The supervisor may live in a threaded host, so the child must not need a
//! lock another thread could have held at the fork: malloc is safe (glibc
//! resets its locks in the child), and the entry point of a preloaded or
//! built-in function is resolved before the fork, so such a worker takes no
//! other lock on its way in. A worker whose library was not preloaded loads
//! it here, as in PostgreSQL.

use std::os::fd::FromRawFd;

use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::getppid;
use std::sync::Arc;

use crate::abi::{
    layout_of, BackgroundWorker, BackgroundWorker15, BackgroundWorker17, CallerWorker, Layout,
};
use crate::backend::{self, Connection, Role};
use crate::log;
use crate::process::{loader, signals};
use crate::shmem::Segment;

/// What the child needs from the supervisor.
pub struct ChildContext<'a> {
    pub seg: &'a Arc<Segment>,
    pub supervisor_pid: i32,
    /// Read end of the death-watch pipe (kept open by the worker).
    pub death_read: i32,
    /// Supervisor descriptors the worker must not keep (signalfd, wake fd,
    /// the pipe's write end, the pid file lock, the segment's lock
    /// descriptors).
    pub close_fds: &'a [i32],
    /// The entry point, when the supervisor could resolve it before the
    /// fork (see loader::resolve_loaded).
    pub entry: Option<unsafe extern "C" fn(usize)>,
    /// The worker's slot (its entry in the shared process array).
    pub slot: usize,
    /// Called first in the child: the supervisor's process-global state
    /// that is not the worker's (its wake-up descriptor).
    pub forget_supervisor_state: fn(),
    /// worker_containment = descendants: the worker becomes a child
    /// subreaper, so that its subtree's orphans stay with it until it
    /// exits (see supervisor/containment.rs).
    pub subreaper: bool,
}

/// Become the worker described by `def`, run its entry point and exit.
pub fn run(ctx: ChildContext<'_>, def: &BackgroundWorker) -> ! {
    // Die with the supervisor: the kernel sends SIGKILL when the forking
    // thread exits. If it is already gone, the signal would never come.
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    if getppid().as_raw() != ctx.supervisor_pid {
        // SAFETY: _exit has no preconditions; nothing of the worker ran.
        unsafe { libc::_exit(1) };
    }
    if ctx.subreaper {
        // SAFETY: prctl with integer arguments only. A failure leaves the
        // worker's orphans to bgworkerd, which then takes them down early.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    // The supervisor's wake-up descriptor is closed below: a host signal
    // handler calling bgw_host_request_shutdown in this process must not
    // write to whatever file reuses its number.
    (ctx.forget_supervisor_state)();
    for &fd in ctx.close_fds {
        if fd >= 0 {
            // SAFETY: these descriptors belong to the supervisor's image,
            // which this process no longer runs.
            unsafe { libc::close(fd) };
        }
    }
    // SAFETY: getpid has no preconditions.
    crate::identity::set_worker_slot(ctx.slot, unsafe { libc::getpid() });
    let hooks = crate::hooks::get();
    (hooks.worker_start)(ctx.slot, &def.name());
    signals::setup_worker(&def.type_name());

    // Our own copies of the definition, which live as long as the process:
    // one per layout, for include/bgworker.h's per-layout names, and
    // MyBgworkerEntry pointing at the one of this process's major (the
    // layout of the worker's module, checked against it when it loads).
    let entry: BackgroundWorker = *def;
    let v15: *mut BackgroundWorker15 = Box::leak(Box::new(entry.to_15()));
    let v17: *mut BackgroundWorker17 = Box::leak(Box::new(entry.to_17()));
    let mine: *mut CallerWorker = match layout_of(crate::identity::pg_major()) {
        Layout::Pg15 => v15 as *mut CallerWorker,
        Layout::Pg17 => v17 as *mut CallerWorker,
    };
    // SAFETY: single-threaded child; modules read these pointers only from
    // the worker's code, which has not started yet.
    unsafe {
        crate::identity::bgw_pg15_MyBgworkerEntry = v15;
        crate::identity::bgw_pg17_MyBgworkerEntry = v17;
        crate::identity::MyBgworkerEntry = mine;
    }

    let old = backend::install(Connection {
        seg: Arc::clone(ctx.seg),
        role: Role::Worker,
        supervisor_pid: ctx.supervisor_pid,
        pidfd: None,
        // SAFETY: this process's copy of the supervisor's pipe read end;
        // the supervisor's owner of it is never dropped here (run never
        // returns), so the worker's connection is its only owner.
        death_fd: Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(ctx.death_read) }),
        lock_fd: None,
    });
    // The supervisor's own connection record (if any) is an inherited copy;
    // it is not freed here because its descriptors were closed above.
    let _ = old;

    set_process_title(&entry.name());

    let found = match ctx.entry {
        Some(f) => Ok(f),
        None => loader::lookup_entry(&entry.library(), &entry.function()),
    };
    let main = match found {
        Ok(f) => f,
        Err(e) => {
            log::emit_full(log::ERROR, &e.message, e.detail.as_deref(), None);
            (hooks.exit_process)(1);
        }
    };
    // The entry point runs under PostgreSQL's outermost error handler;
    // returning from it means "done": proc_exit(0).
    (hooks.run_worker_entry)(main, entry.bgw_main_arg);
}

/// Name the process after its worker (what `ps -o comm` and `top` show;
/// the kernel keeps 15 bytes).
fn set_process_title(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // Up to the first NUL (a name is NUL-terminated in its definition).
    if let Ok(c) = std::ffi::CStr::from_bytes_until_nul(&buf) {
        let _ = prctl::set_name(c);
    }
}
