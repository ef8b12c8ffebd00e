//! The seam between the core and a runtime that sits on top of it.
//!
//! The core (ABI, segment and slot protocol, backend side, supervisor,
//! process start, settings, log) knows nothing of PostgreSQL's backend
//! runtime. What a runtime adds to a process's life it adds through the
//! [`Hooks`] installed here: how a new worker is set up and its entry point
//! run, how a process exits, how an ERROR reaches module code, how module
//! settings follow a reload, what the supervisor sets up before its first
//! fork and again after a crash cycle.
//!
//! Without an installed runtime every hook has its plain-host meaning
//! ([`Hooks::PLAIN`]): workers call their entry point directly and exit
//! with `exit()`, errors are failure values plus `bgw_last_error()`.
//!
//! # Who may call
//!
//! [`install`] is called once per process image, before the supervisor
//! starts or the process attaches, by the program or library that links
//! the runtime (bgworkerd's `main`, libbgworker's load-time constructor).
//! Forked workers inherit the installed hooks. [`get`] may be called from
//! anywhere, signal handlers included (one atomic load).

use std::sync::atomic::{AtomicPtr, Ordering};

use crate::settings::{SettingError, Settings};

/// A worker's entry point (`bgworker_main_type`).
pub type WorkerMain = unsafe extern "C" fn(usize);

/// What became of an ERROR the core reported through [`Hooks::raise_error`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Raised {
    /// The runtime recorded it; the exported C function that is returning
    /// raises it in C once the Rust body has returned (see
    /// `bgw_c_raise_pending` in core's `c/raise.c`). Module code sees
    /// PostgreSQL's ERROR and may catch it with PG_TRY.
    Deferred,
    /// No error context to raise into (a plain C host, or a process with no
    /// runtime): the core logs it and the call returns its failure value.
    NotRaised,
}

/// The runtime's part in process life. Each field documents when the core
/// calls it; every function must be callable in the context named there.
pub struct Hooks {
    /// Name of the runtime, for log lines and `--describe` output.
    pub name: &'static str,
    /// Supervisor, before its first fork, after the segment exists: set up
    /// what workers inherit for `nslots` slots. False when that failed (the
    /// runtime has logged a FATAL line): the supervisor shuts down.
    pub supervisor_start: fn(nslots: usize) -> bool,
    /// Supervisor, after a crash cycle, before workers start again: what
    /// PostgreSQL reinitialises. False: as for `supervisor_start`.
    pub after_crash_reset: fn(nslots: usize) -> bool,
    /// bgworkerd only, once, single-threaded, before its first fork.
    pub prepare_daemon: fn(),
    /// A new worker's child process, single-threaded, after the fork and
    /// before its signal set-up and entry point: process identity for `slot`
    /// and the worker named `name`.
    pub worker_start: fn(slot: usize, name: &str),
    /// Run the worker's entry point; returning from it ends the worker with
    /// status 0. Never returns.
    pub run_worker_entry: fn(entry: WorkerMain, arg: usize) -> !,
    /// End the process as PostgreSQL's proc_exit does (exit callbacks,
    /// then exit). Not from a signal handler.
    pub exit_process: fn(code: i32) -> !,
    /// End the process from a signal handler. Must be async-signal-safe
    /// as far as the runtime goes (module exit callbacks are the module's).
    pub exit_from_handler: fn(code: i32) -> !,
    /// Run a loaded library's `_PG_init` (or another module hook the
    /// supervisor calls) under the runtime's error handling. False: it
    /// raised an ERROR, which the runtime has logged.
    pub call_module_init: fn(init: unsafe extern "C" fn()) -> bool,
    /// Shared preload libraries start (true: the process's major is
    /// decided, no `_PG_init` has run yet) or finish (false) loading.
    pub preload_in_progress: fn(bool),
    /// Supervisor reload: apply `fresh` to the module settings defined in
    /// this process. True when some change needs a restart to take effect.
    pub reload_module_settings: fn(fresh: &Settings) -> bool,
    /// Is `name` (lower case, not one of the core's own) a setting the
    /// runtime knows (PostgreSQL's built-in settings)? The core then keeps
    /// its value from the file or `-c` as it keeps module settings
    /// (`prefix.name`), for the runtime to apply. Any thread.
    pub extra_setting: fn(name: &str) -> bool,
    /// Start-up (bgworkerd, or a host loading its first library), once the
    /// process's major is decided and before the first `_PG_init`: apply
    /// the kept values of extra settings. Err: PostgreSQL's FATAL (the
    /// problems it sums up are logged already); start-up stops.
    pub apply_extra_settings: fn() -> Result<(), SettingError>,
    /// The signal masks of `BackgroundWorkerBlockSignals` and
    /// `BackgroundWorkerUnblockSignals`, as (block, unblock): PostgreSQL's
    /// BlockSig and UnBlockSig, which modules may read. None: the core's
    /// own (every catchable signal but SIGQUIT; none).
    pub signal_masks: Option<fn() -> (libc::sigset_t, libc::sigset_t)>,
    /// An exported bgworker.h function reports PostgreSQL's ERROR with
    /// SQLSTATE `sqlstate` (five characters) and `message`; see [`Raised`].
    pub raise_error: fn(sqlstate: &[u8; 5], message: &str) -> Raised,
    /// Supervisor, as it sends a `bgw_notify_pid` notification to the
    /// worker in `slot` (process `pid`): wake that process as PostgreSQL's
    /// procsignal SIGUSR1 handler would (the runtime sets its latch).
    pub notify_worker: fn(slot: usize, pid: i32),
    /// Raise, from C, the ERROR that `raise_error` deferred. Called by the
    /// export's C shim after its Rust body has returned, so that the
    /// runtime's longjmp crosses no Rust frame; never called otherwise.
    pub throw_deferred: unsafe extern "C" fn(),
    /// Loader, single-threaded, after a library's dlopen failed on an
    /// undefined symbol: make the shared libraries the runtime's server
    /// program links visible to modules (`RTLD_GLOBAL`), as they are in
    /// that program's processes. True when that made any library visible
    /// that was not before; the loader then tries the library once more.
    pub server_libraries: fn() -> bool,
    /// Supervisor, as it reaps the worker of `slot`, process `pid`
    /// (whatever the exit): the runtime forgets the process in what other
    /// processes read of it (its process entry names no pid), so that a
    /// worker that died without its own clean-up is never taken for a live
    /// one, nor its pid, once reused, for a worker. True when the process
    /// left shared state behind that only a crash cycle repairs (it left
    /// without its clean-up while on a wait list other processes walk):
    /// the supervisor then handles the exit as a crash, whatever its
    /// status, as PostgreSQL handles any worker that skips its clean-up.
    pub worker_exited: fn(slot: usize, pid: i32) -> bool,
}

impl Hooks {
    /// The plain-host meaning of every hook.
    pub const PLAIN: Hooks = Hooks {
        name: "plain",
        supervisor_start: |_| true,
        after_crash_reset: |_| true,
        prepare_daemon: || {},
        worker_start: |_, _| {},
        run_worker_entry: plain_run_entry,
        exit_process: plain_exit,
        exit_from_handler: plain_exit_from_handler,
        call_module_init: plain_call_init,
        preload_in_progress: |_| {},
        reload_module_settings: |_| false,
        extra_setting: |_| false,
        apply_extra_settings: || Ok(()),
        signal_masks: None,
        raise_error: |_, _| Raised::NotRaised,
        notify_worker: |_, _| {},
        throw_deferred: plain_throw,
        server_libraries: || false,
        worker_exited: |_, _| false,
    };
}

static PLAIN_HOOKS: Hooks = Hooks::PLAIN;
static CURRENT: AtomicPtr<Hooks> = AtomicPtr::new(std::ptr::null_mut());

/// Install `hooks` for this process and the workers it forks. A second
/// call replaces the first (the library's constructor and bgworkerd's main
/// both install the same runtime).
pub fn install(hooks: &'static Hooks) {
    CURRENT.store(hooks as *const Hooks as *mut Hooks, Ordering::Release);
    crate::settings::set_extra_names(hooks.extra_setting);
}

/// The installed hooks, or [`Hooks::PLAIN`]. Async-signal-safe.
pub fn get() -> &'static Hooks {
    let p = CURRENT.load(Ordering::Acquire);
    // SAFETY: CURRENT is null or was stored from a `&'static Hooks`.
    unsafe { p.as_ref() }.unwrap_or(&PLAIN_HOOKS)
}

unsafe extern "C" fn plain_throw() {}

fn plain_run_entry(entry: WorkerMain, arg: usize) -> ! {
    // SAFETY: the entry point is the module's bgworker_main_type function.
    unsafe { entry(arg) };
    plain_exit(0)
}

fn plain_exit(code: i32) -> ! {
    crate::identity::final_exit(code)
}

fn plain_exit_from_handler(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(code) }
}

fn plain_call_init(init: unsafe extern "C" fn()) -> bool {
    // SAFETY: `void _PG_init(void)`, the module's own contract.
    unsafe { init() };
    true
}
