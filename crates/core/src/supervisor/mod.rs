//! The supervisor: PostgreSQL's postmaster, for background workers only.
//!
//! One thread runs [`run`]: signal handlers are replaced by a signalfd, so
//! signals only record what happened and the loop does the work: reap
//! children, notice slot changes, advance timers, run the crash and shutdown
//! state machines, start workers whose time has come, publish the changes to
//! waiters, then sleep until the next signal, host request or deadline. No
//! lock on shared memory is ever taken here, and nothing read from it is
//! trusted (see shmem/slots.rs).

mod event_loop;
mod intake;
mod leftover;
mod lifecycle;
mod notify_pids;
pub mod pidfile;
pub mod registry;
mod reload;
pub mod sd_notify;
mod setup;
/// cbindgen:ignore
pub mod supervision;
#[cfg(test)]
mod tests;

pub use setup::{arm_preload_cleanup, emergency_cleanup, run};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::eventfd::EventFd;
use nix::sys::signal::SigSet;
use nix::sys::signalfd::SignalFd;

use crate::abi::*;
use crate::backend::{self, Connection, Role};
use crate::log;
use crate::pidfd::Pidfd;
use crate::process::child::{self, ChildContext};
use crate::process::loader;
use crate::settings::{self, Settings};
use crate::shmem::facts::{self, STATE_NOT_STARTED, STATE_STOPPED, STATE_TERMINATING};
use crate::shmem::slots::PID_NOT_STARTED;
use crate::shmem::Segment;
use pidfile::PidFile;
use registry::{Registered, SUPERVISOR_RUNNING};

/// Shutdown modes, in escalating order (values of `bgw_host_request_shutdown`).
pub const SHUTDOWN_NONE: i32 = 0;
pub const SHUTDOWN_SMART: i32 = 1;
pub const SHUTDOWN_FAST: i32 = 2;
pub const SHUTDOWN_IMMEDIATE: i32 = 3;

/// Shutdown requested by the host (async-signal-safe to set).
static REQUESTED_SHUTDOWN: AtomicI32 = AtomicI32::new(SHUTDOWN_NONE);
/// Latest start phase the supervisor may reach.
static PHASE_LIMIT: AtomicU32 = AtomicU32::new(BgWorkerStart_RecoveryFinished);
/// eventfd that wakes the loop for host requests, or -1.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// After a crash or immediate shutdown, workers that ignore SIGQUIT get
/// SIGKILL after this long (PostgreSQL: SIGKILL_CHILDREN_AFTER_SECS).
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Most attached processes notified at once (one pidfd each).
const ATTACHED_CACHE_MAX: usize = 4096;
/// Delay before retrying a failed fork.
const FORK_RETRY: Duration = Duration::from_secs(1);

fn wake_loop() {
    let fd = WAKE_FD.load(Ordering::Acquire);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: write(2) of 8 bytes to an eventfd; async-signal-safe.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

/// In a new worker: the supervisor's eventfd is not ours to write.
fn forget_wake_fd() {
    WAKE_FD.store(-1, Ordering::Release);
}

/// Ask the running supervisor to shut down (async-signal-safe).
pub fn request_shutdown(mode: i32) {
    if (SHUTDOWN_SMART..=SHUTDOWN_IMMEDIATE).contains(&mode) {
        REQUESTED_SHUTDOWN.fetch_max(mode, Ordering::SeqCst);
        wake_loop();
    }
}

/// Let the supervisor advance up to `phase` (async-signal-safe).
pub fn set_phase_limit(phase: BgWorkerStartTime) {
    PHASE_LIMIT.store(phase.min(BgWorkerStart_RecoveryFinished), Ordering::SeqCst);
    wake_loop();
}

/// Send `sig` to one of our workers (or, for notifications, a process
/// proven to be the registrant); pids of 0 and below are never signalled.
fn kill(pid: i32, sig: i32) {
    if pid > 0 {
        if let Ok(sig) = nix::sys::signal::Signal::try_from(sig) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
        }
    }
}

struct Supervisor {
    seg: Arc<Segment>,
    settings: Settings,
    pidfile: Option<PidFile>,
    workers: Vec<Option<Registered>>,
    by_pid: HashMap<i32, usize>,
    /// Our own pid (never read back from shared memory).
    my_pid: i32,
    /// pidfds of attached processes known to be valid notify targets.
    attached: HashMap<i32, Pidfd>,
    /// How many registered workers name each notify pid.
    notify_refs: HashMap<i32, u32>,
    start_queue: VecDeque<usize>,
    restarts: BinaryHeap<Reverse<(Instant, usize)>>,
    phase: BgWorkerStartTime,
    /// A crash is being handled (PostgreSQL's FatalError).
    fatal_error: bool,
    shutdown: i32,
    kill_deadline: Option<Instant>,
    /// Slot state changed since waiters were last woken.
    changed: bool,
    /// The supervisor's signals, blocked in its thread, arrive here.
    sigfd: SignalFd,
    /// Host requests (bgw_host_request_shutdown, phase changes) write here;
    /// WAKE_FD holds its number for signal handlers while the loop runs.
    wake: EventFd,
    /// The death-watch pipe: workers hold the read end, which reports EOF
    /// once the supervisor (the only holder of the write end) is gone.
    death_r: OwnedFd,
    death_w: OwnedFd,
    /// The supervisor lock on the segment's file (see shmem/segment.rs):
    /// held while this supervisor runs, released when it is dropped.
    seg_lock: OwnedFd,
    exit_code: Option<i32>,
    got_slot_signal: bool,
    got_child_signal: bool,
    got_reload: bool,
    /// The signalfd / the host's wake-up eventfd became readable.
    sig_pending: bool,
    wake_pending: bool,
    /// Timers of the opt-in supervision (supervision.rs).
    sv: supervision::Timers,
}
