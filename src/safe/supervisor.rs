//! [`Supervisor`]: the supervisor (bgworkerd's role) embedded in a Rust
//! program: settings, modules, static workers, then [`Supervisor::run`] in
//! the calling thread; [`Control`] asks it to shut down or to advance its
//! start phase from any thread.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use bgworker_core::backend;
use bgworker_core::log;
use bgworker_core::process::loader;
use bgworker_core::settings;
use bgworker_core::supervisor::{self, registry};

use super::definition::{StartTime, WorkerDefinition};
use super::entry::resolve_self;
use super::Error;

/// One supervisor per process, ever: static registration closes for good
/// once it has run.
static CREATED: AtomicBool = AtomicBool::new(false);

/// How to shut the supervisor down (the postmaster's SIGTERM, SIGINT and
/// SIGQUIT).
///
/// ```
/// use bgworker::safe::ShutdownMode;
/// let m = ShutdownMode::Fast;
/// # let _ = m;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownMode {
    /// No worker starts any more and running ones get SIGTERM (what
    /// PostgreSQL's smart shutdown does to background workers once no
    /// client session is left; here there are none).
    Smart,
    /// SIGTERM every worker, then stop.
    Fast,
    /// SIGQUIT every worker (SIGKILL after 5 s), then stop.
    Immediate,
}

/// Asks a [`Supervisor`] from any thread (or a signal handler: both calls
/// are async-signal-safe); a request made before it runs is acted on as
/// soon as it does.
///
/// ```no_run
/// use bgworker::safe::{ShutdownMode, Supervisor};
/// let sup = Supervisor::new()?;
/// let control = sup.control();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(60));
///     control.shutdown(ShutdownMode::Fast);
/// });
/// sup.run(Some("/tmp/my-run-dir".as_ref()))?;
/// # Ok::<(), bgworker::safe::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Control {
    _private: (),
}

impl Control {
    /// Ask the supervisor to shut down.
    ///
    /// ```no_run
    /// # use bgworker::safe::{ShutdownMode, Supervisor};
    /// # let sup = Supervisor::new()?;
    /// sup.control().shutdown(ShutdownMode::Smart);
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn shutdown(&self, mode: ShutdownMode) {
        supervisor::request_shutdown(match mode {
            ShutdownMode::Smart => supervisor::SHUTDOWN_SMART,
            ShutdownMode::Fast => supervisor::SHUTDOWN_FAST,
            ShutdownMode::Immediate => supervisor::SHUTDOWN_IMMEDIATE,
        })
    }

    /// Let the supervisor start workers up to `phase` (see
    /// [`Supervisor::set_start_phase`]).
    ///
    /// ```no_run
    /// # use bgworker::safe::{StartTime, Supervisor};
    /// # let sup = Supervisor::new()?;
    /// sup.control().set_start_phase(StartTime::RecoveryFinished);
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn set_start_phase(&self, phase: StartTime) {
        supervisor::set_phase_limit(phase.raw())
    }
}

/// The supervisor embedded in this program (what `bgw_host_*` offer C
/// hosts). Configure it, register its static workers, then
/// [`run`](Self::run) it. Workers whose library is empty run functions of
/// this program declared with [`entry_point!`](crate::entry_point); the
/// program must be linked with `-rdynamic` so the supervisor finds them.
///
/// ```no_run
/// use bgworker::safe::{Event, Restart, Supervisor, Worker, WorkerBuilder};
/// use std::time::Duration;
///
/// fn ticker(mut w: Worker) -> Result<(), bgworker::safe::Error> {
///     while !w.wait(Some(Duration::from_secs(1)))?.is_shutdown() {
///         eprintln!("tick");
///     }
///     Ok(())
/// }
/// bgworker::entry_point!(TICKER = ticker);
///
/// let mut sup = Supervisor::new()?;
/// sup.set("max_worker_processes", "4")?;
/// sup.register(
///     &WorkerBuilder::new("ticker")
///         .entry(&TICKER)
///         .restart(Restart::After(Duration::from_secs(1)))
///         .build()?,
/// )?;
/// sup.run(Some("/tmp/ticker-run".as_ref()))?;
/// # Ok::<(), bgworker::safe::Error>(())
/// ```
#[derive(Debug)]
pub struct Supervisor {
    /// Not Send: settings and registrations belong to the thread that runs
    /// it (the C API's rule for bgw_host_*).
    _thread: std::marker::PhantomData<*const ()>,
}

impl Supervisor {
    /// The process's supervisor: [`Error::SupervisorExists`] on a second
    /// call, [`Error::AlreadyConnected`] in a worker or attached process.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Error, Supervisor};
    /// let sup = Supervisor::new()?;
    /// assert!(matches!(Supervisor::new(), Err(Error::SupervisorExists)));
    /// # drop(sup);
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn new() -> Result<Supervisor, Error> {
        if backend::current().is_some() {
            return Err(Error::AlreadyConnected);
        }
        if CREATED.swap(true, Ordering::SeqCst) {
            return Err(Error::SupervisorExists);
        }
        Ok(Supervisor {
            _thread: std::marker::PhantomData,
        })
    }

    /// Set a setting, as bgworkerd's `-c NAME=VALUE` (PostgreSQL's parsing
    /// and messages).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Error, Supervisor};
    /// let mut sup = Supervisor::new()?;
    /// sup.set("max_worker_processes", "16")?;
    /// assert!(matches!(sup.set("max_worker_processes", "lots"), Err(Error::InvalidSetting(_))));
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), Error> {
        settings::set_from_command_line(name, value).map_err(Error::InvalidSetting)?;
        log::set_min_level(settings::current().log_min_messages);
        Ok(())
    }

    /// Load a module as one `shared_preload_libraries` entry: its
    /// `_PG_init` may register static workers.
    ///
    /// ```no_run
    /// # use bgworker::safe::Supervisor;
    /// let mut sup = Supervisor::new()?;
    /// sup.load_library("$libdir/my_module")?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn load_library(&mut self, name: &str) -> Result<(), Error> {
        loader::load_preload_libraries(&[name.to_string()]).map_err(|e| {
            log::emit_full(log::ERROR, &e.message, e.detail.as_deref(), None);
            Error::Load {
                message: e.message,
                detail: e.detail,
            }
        })
    }

    /// Register a static worker (RegisterBackgroundWorker before the
    /// supervisor runs). A worker of this program (library empty or
    /// "postgres") must have an exported entry point
    /// ([`Error::EntryNotFound`] otherwise); `max_worker_processes`
    /// bounds the number ([`Error::StaticRegistration`]); a notify pid is
    /// for dynamic workers only.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Supervisor, WorkerBuilder};
    /// let mut sup = Supervisor::new()?;
    /// sup.register(&WorkerBuilder::new("w").library("my_module").function("w_main").build()?)?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn register(&mut self, def: &WorkerDefinition) -> Result<(), Error> {
        let mut raw = def.raw;
        raw.bgw_major = bgworker_core::identity::pg_major();
        if raw.bgw_notify_pid != 0 {
            return Err(Error::StaticRegistration(format!(
                "background worker \"{}\": only dynamic background workers can request notification",
                def.name()
            )));
        }
        if loader::is_self(&def.library()) && resolve_self(&def.function()).is_none() {
            return Err(Error::EntryNotFound(format!(
                "function \"{}\" is not exported by this program (declare it with entry_point! and link the program with -rdynamic)",
                def.function()
            )));
        }
        let max = settings::current().max_worker_processes.max(0) as usize;
        let before = registry::static_workers().len();
        if before >= max {
            return Err(Error::StaticRegistration(format!(
                "too many background workers: up to {max} can be registered with the current settings (max_worker_processes)"
            )));
        }
        if !def.policy.is_empty() {
            // Consumed by the registration just below, whatever becomes of it.
            bgworker_core::policy::set_next(Some(def.policy.to_core()?));
        }
        registry::register_static(&mut raw);
        if registry::static_workers().len() == before {
            // register_static logged why at LOG.
            return Err(Error::StaticRegistration(format!(
                "background worker \"{}\" was not registered",
                def.name()
            )));
        }
        Ok(())
    }

    /// Hold workers back: the supervisor starts only those whose start
    /// time is at most `phase` until it is raised (default: all).
    ///
    /// ```no_run
    /// # use bgworker::safe::{StartTime, Supervisor};
    /// let sup = Supervisor::new()?;
    /// sup.set_start_phase(StartTime::PostmasterStart);
    /// // later, from any thread: sup.control().set_start_phase(StartTime::RecoveryFinished)
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn set_start_phase(&self, phase: StartTime) {
        self.control().set_start_phase(phase)
    }

    /// A [`Control`] for other threads (or signal handlers).
    ///
    /// ```no_run
    /// # use bgworker::safe::{ShutdownMode, Supervisor};
    /// let sup = Supervisor::new()?;
    /// let c = sup.control();
    /// # let _ = c;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn control(&self) -> Control {
        Control { _private: () }
    }

    /// Run the supervisor in this thread until it shuts down: creates the
    /// shared segment, writes `RUNDIR/bgworkerd.pid` (when `rundir` is
    /// given) so that other processes can attach, starts the static
    /// workers and supervises. SIGTERM, SIGINT and SIGQUIT to the process
    /// shut it down as they do bgworkerd (smart, fast, immediate); they,
    /// SIGCHLD, SIGUSR1 and SIGHUP are blocked in this thread while it
    /// runs (other threads should block them too). Workers are forked from
    /// this thread. `Ok` after a clean shutdown.
    ///
    /// ```no_run
    /// # use bgworker::safe::Supervisor;
    /// let sup = Supervisor::new()?;
    /// sup.run(Some("/tmp/run".as_ref()))?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn run(self, rundir: Option<&Path>) -> Result<(), Error> {
        // An Attachment made since new() (this process a backend of another
        // supervisor) and a supervisor of its own do not mix.
        if backend::current().is_some() {
            return Err(Error::AlreadyConnected);
        }
        if let Some(d) = rundir {
            let text = d.to_str().ok_or_else(|| {
                Error::InvalidSetting(format!("run directory {} is not valid UTF-8", d.display()))
            })?;
            CString::new(text)
                .map_err(|_| Error::InvalidSetting("run directory contains a NUL byte".into()))?;
        }
        match supervisor::run(rundir, None) {
            0 => Ok(()),
            _ => Err(Error::SupervisorFailed),
        }
    }
}
