//! Static registrations (before the supervisor runs) and the supervisor's
//! private record of every registered worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::abi::*;
use crate::backend::{self, Role};
use crate::log;
use crate::process::loader;
use crate::settings;

/// Static workers registered so far, in registration order.
static STATIC_WORKERS: Mutex<Vec<BackgroundWorker>> = Mutex::new(Vec::new());
/// The policy set for each of them before its registration
/// (bgw_set_next_policy), in the same order.
static STATIC_POLICIES: Mutex<Vec<crate::policy::Policy>> = Mutex::new(Vec::new());

/// Set once a supervisor runs in this process: static registration closes.
pub static SUPERVISOR_RUNNING: AtomicBool = AtomicBool::new(false);

/// RegisterBackgroundWorker, with PostgreSQL's rules: allowed while
/// preload libraries load, or before an embedding host starts the
/// supervisor; in a worker or attached process silently ignored
/// (PostgreSQL's `IsUnderPostmaster`); otherwise logged and ignored.
/// Every rejection is logged at LOG and the worker ignored.
pub fn register_static(def: &mut BackgroundWorker) {
    // A policy set for the next registration is consumed here, whatever
    // becomes of the registration.
    let own = crate::policy::take_next().unwrap_or_default();
    let under_postmaster = matches!(backend::role(), Some(Role::Worker | Role::Attached));
    let mut w = *def;
    w.terminate_strings();
    if !under_postmaster {
        crate::elog!(
            log::DEBUG1,
            "registering background worker \"{}\"",
            w.name()
        );
    }
    let preload = loader::PRELOAD_IN_PROGRESS.load(Ordering::SeqCst);
    let before_start = !under_postmaster && !SUPERVISOR_RUNNING.load(Ordering::SeqCst);
    if !preload && !before_start && !loader::is_self(&w.library()) {
        if !under_postmaster {
            log::emit(
                log::LOG,
                &format!(
                    "background worker \"{}\": must be registered in shared_preload_libraries",
                    w.name()
                ),
            );
        }
        return;
    }
    if under_postmaster {
        return;
    }
    let mut checked = *def;
    if let Err(msg) = backend::sanity_check(&mut checked) {
        log::emit(log::LOG, &msg);
        return;
    }
    // As PostgreSQL, the defaulted bgw_type is visible in the caller's copy.
    def.bgw_type = checked.bgw_type;
    if checked.bgw_notify_pid != 0 {
        log::emit(
            log::LOG,
            &format!("background worker \"{}\": only dynamic background workers can request notification", w.name()),
        );
        return;
    }
    let max = settings::current().max_worker_processes;
    let mut list = STATIC_WORKERS.lock().unwrap_or_else(|e| e.into_inner());
    if list.len() >= max.max(0) as usize {
        let detail = if max == 1 {
            format!("Up to {max} background worker can be registered with the current settings.")
        } else {
            format!("Up to {max} background workers can be registered with the current settings.")
        };
        log::emit_full(
            log::LOG,
            "too many background workers",
            Some(&detail),
            Some("Consider increasing the configuration parameter \"max_worker_processes\"."),
        );
        return;
    }
    list.push(checked);
    let mut pol = STATIC_POLICIES.lock().unwrap_or_else(|e| e.into_inner());
    pol.resize(list.len() - 1, crate::policy::Policy::default());
    pol.push(own);
}

/// The policies of the static workers, in the order of [`static_workers`].
pub fn static_policies() -> Vec<crate::policy::Policy> {
    STATIC_POLICIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Take a static registration another process of this library has already
/// checked (an embedding host's, handed to its fork server: see
/// host/fork_server.rs), with the policy set for it, as the last one so
/// far, if there is room.
pub fn adopt_static(w: BackgroundWorker, own: crate::policy::Policy) {
    let max = settings::current().max_worker_processes;
    let mut list = STATIC_WORKERS.lock().unwrap_or_else(|e| e.into_inner());
    if list.len() < max.max(0) as usize {
        list.push(w);
        let mut pol = STATIC_POLICIES.lock().unwrap_or_else(|e| e.into_inner());
        pol.resize(list.len() - 1, crate::policy::Policy::default());
        pol.push(own);
    }
}

/// The static workers, for the supervisor to copy into its segment.
pub fn static_workers() -> Vec<BackgroundWorker> {
    STATIC_WORKERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The supervisor's private record of one registered worker (PostgreSQL's
/// RegisteredBgWorker). Never shared: built from a sanitised copy.
pub struct Registered {
    pub def: BackgroundWorker,
    /// Running process, or 0.
    pub pid: i32,
    /// Set when the worker exited and must wait before it starts again.
    pub restart_at: Option<Instant>,
    /// Do not (re)start; forget once stopped.
    pub terminate: bool,
    /// Sitting in the start queue.
    pub queued: bool,
    pub notify_pid: i32,
    /// The opt-in supervision's record (supervision.rs).
    pub sv: super::supervision::WorkerSupervision,
}

impl Registered {
    pub fn new(def: BackgroundWorker) -> Self {
        let notify_pid = def.bgw_notify_pid;
        Registered {
            def,
            pid: 0,
            restart_at: None,
            terminate: false,
            queued: false,
            notify_pid,
            sv: Default::default(),
        }
    }

    pub fn never_restart(&self) -> bool {
        self.def.bgw_restart_time == BGW_NEVER_RESTART
    }

    pub fn parallel(&self) -> bool {
        self.def.flags().contains(WorkerFlags::CLASS_PARALLEL)
    }
}
