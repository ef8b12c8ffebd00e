//! Worker definitions: [`WorkerDefinition`], PostgreSQL's
//! `BackgroundWorker` in the core's neutral form, which registration takes
//! as it is (made by [`WorkerBuilder`](super::WorkerBuilder), builder.rs),
//! and the enums of its fields.

use std::time::Duration;

/// `bgw_flags` as bitflags (`SHMEM_ACCESS`, which every worker needs;
/// `BACKEND_DATABASE_CONNECTION`; `CLASS_PARALLEL`).
///
/// ```
/// use bgworker::safe::{WorkerBuilder, WorkerFlags};
/// let def = WorkerBuilder::new("par")
///     .function("par_main")
///     .flags(WorkerFlags::SHMEM_ACCESS | WorkerFlags::CLASS_PARALLEL)
///     .build()
///     .unwrap();
/// assert!(def.flags().contains(WorkerFlags::CLASS_PARALLEL));
/// ```
pub use bgworker_core::abi::WorkerFlags;
use bgworker_core::abi::{self, BackgroundWorker, BGW_EXTRALEN};

use super::policy::{Backoff, Policy};

/// When the supervisor starts a worker (PostgreSQL's `BgWorkerStartTime`).
/// Without a database server every phase is reached at once, unless an
/// embedding program holds the supervisor back
/// ([`Supervisor::set_start_phase`](super::Supervisor::set_start_phase)).
///
/// ```
/// use bgworker::safe::{StartTime, WorkerBuilder};
/// let def = WorkerBuilder::new("early")
///     .function("early_main")
///     .start_time(StartTime::PostmasterStart)
///     .build()
///     .unwrap();
/// assert_eq!(def.start_time(), StartTime::PostmasterStart);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartTime {
    /// `BgWorkerStart_PostmasterStart`.
    PostmasterStart,
    /// `BgWorkerStart_ConsistentState`.
    ConsistentState,
    /// `BgWorkerStart_RecoveryFinished` (the default).
    RecoveryFinished,
}

impl StartTime {
    pub(crate) fn raw(self) -> abi::BgWorkerStartTime {
        match self {
            StartTime::PostmasterStart => abi::BgWorkerStart_PostmasterStart,
            StartTime::ConsistentState => abi::BgWorkerStart_ConsistentState,
            StartTime::RecoveryFinished => abi::BgWorkerStart_RecoveryFinished,
        }
    }
}

/// Longest restart interval PostgreSQL accepts (`USECS_PER_DAY / 1000`
/// seconds, as its sanity check).
///
/// ```
/// use bgworker::safe::{Restart, WorkerBuilder, MAX_RESTART_INTERVAL};
/// let b = WorkerBuilder::new("w").function("f");
/// assert!(b.clone().restart(Restart::After(MAX_RESTART_INTERVAL)).build().is_ok());
/// let longer = MAX_RESTART_INTERVAL + std::time::Duration::from_secs(1);
/// assert!(b.restart(Restart::After(longer)).build().is_err());
/// ```
pub const MAX_RESTART_INTERVAL: Duration = Duration::from_secs(86_400_000);

/// What the supervisor does when a worker exits with a status other than
/// 0 (PostgreSQL's `bgw_restart_time`). Exit status 0 always means "done"
/// and unregisters the worker; a crash (a signal, or a status other than
/// 0 and 1) restarts every worker after a crash cycle, as PostgreSQL.
///
/// ```
/// use bgworker::safe::{Restart, WorkerBuilder};
/// use std::time::Duration;
/// let def = WorkerBuilder::new("flaky")
///     .function("flaky_main")
///     .restart(Restart::After(Duration::from_secs(5)))
///     .build()
///     .unwrap();
/// assert_eq!(def.restart(), Restart::After(Duration::from_secs(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Restart {
    /// `BGW_NEVER_RESTART`: an exit ends the registration.
    Never,
    /// Restart this long after an exit: whole seconds, at most
    /// [`MAX_RESTART_INTERVAL`].
    After(Duration),
    /// Restart with exponential backoff (beyond PostgreSQL, opt-in; see
    /// [`Backoff`]). `bgw_restart_time` is set to the initial delay in
    /// whole seconds (rounded up), what a supervisor without the feature
    /// would use.
    Backoff(Backoff),
}

/// A validated worker definition, made by [`WorkerBuilder::build`] and
/// registered statically ([`Supervisor::register`](super::Supervisor::register))
/// or dynamically ([`Attachment::register`](super::Attachment::register),
/// [`Worker::register`](super::Worker::register)).
///
/// ```
/// use bgworker::safe::WorkerBuilder;
/// let def = WorkerBuilder::new("ticker").function("ticker_main").build().unwrap();
/// assert_eq!(def.name(), "ticker");
/// assert_eq!(def.type_name(), "ticker"); // defaults to the name
/// ```
#[derive(Clone, Copy)]
pub struct WorkerDefinition {
    pub(crate) raw: BackgroundWorker,
    /// Its own supervision policy (validated; empty: none).
    pub(crate) policy: Policy,
}

impl WorkerDefinition {
    /// A definition as the core keeps it (the neutral form of
    /// `BackgroundWorker`), copied from a worker's own entry. Its policy
    /// is not part of the entry and reads as empty.
    pub(crate) fn from_raw(raw: BackgroundWorker) -> Self {
        WorkerDefinition {
            raw,
            policy: Policy::new(),
        }
    }

    /// Its own supervision policy (empty: none; then the settings' defaults
    /// or PostgreSQL's behaviour apply). In a worker's own
    /// [`definition`](super::Worker::definition) it reads as empty.
    ///
    /// ```
    /// # use bgworker::safe::{Policy, WorkerBuilder};
    /// # use std::time::Duration;
    /// let def = WorkerBuilder::new("n")
    ///     .function("f")
    ///     .policy(Policy::new().stop_timeout(Duration::from_secs(3)))
    ///     .build()
    ///     .unwrap();
    /// assert!(!def.policy().is_empty());
    /// ```
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// `bgw_name`.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.name(), "n");
    /// ```
    pub fn name(&self) -> String {
        self.raw.name()
    }

    /// `bgw_type` (the name, when none was given).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").worker_type("t").function("f").build().unwrap();
    /// assert_eq!(def.type_name(), "t");
    /// ```
    pub fn type_name(&self) -> String {
        self.raw.type_name()
    }

    /// `bgw_library_name`: empty for a function of the program that runs
    /// the supervisor.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").library("my_module").function("f").build().unwrap();
    /// assert_eq!(def.library(), "my_module");
    /// ```
    pub fn library(&self) -> String {
        self.raw.library()
    }

    /// `bgw_function_name`.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.function(), "f");
    /// ```
    pub fn function(&self) -> String {
        self.raw.function()
    }

    /// `bgw_flags`.
    ///
    /// ```
    /// # use bgworker::safe::{WorkerBuilder, WorkerFlags};
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.flags(), WorkerFlags::SHMEM_ACCESS);
    /// ```
    pub fn flags(&self) -> WorkerFlags {
        self.raw.flags()
    }

    /// `bgw_start_time`.
    ///
    /// ```
    /// # use bgworker::safe::{StartTime, WorkerBuilder};
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.start_time(), StartTime::RecoveryFinished);
    /// ```
    pub fn start_time(&self) -> StartTime {
        match self.raw.bgw_start_time {
            abi::BgWorkerStart_PostmasterStart => StartTime::PostmasterStart,
            abi::BgWorkerStart_ConsistentState => StartTime::ConsistentState,
            _ => StartTime::RecoveryFinished,
        }
    }

    /// `bgw_restart_time`.
    ///
    /// ```
    /// # use bgworker::safe::{Restart, WorkerBuilder};
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.restart(), Restart::Never);
    /// ```
    pub fn restart(&self) -> Restart {
        match (self.raw.bgw_restart_time, self.policy.backoff_part()) {
            (t, _) if t < 0 => Restart::Never,
            (_, Some(b)) => Restart::Backoff(b),
            (t, None) => Restart::After(Duration::from_secs(t as u64)),
        }
    }

    /// `bgw_main_arg`, the entry point's argument.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").function("f").main_arg(7).build().unwrap();
    /// assert_eq!(def.main_arg(), 7);
    /// ```
    pub fn main_arg(&self) -> usize {
        self.raw.bgw_main_arg
    }

    /// `bgw_extra`, all [`BGW_EXTRALEN`] bytes (what was not given is 0).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").function("f").extra(b"hi").unwrap().build().unwrap();
    /// assert_eq!(&def.extra()[..3], b"hi\0");
    /// ```
    pub fn extra(&self) -> [u8; BGW_EXTRALEN] {
        self.raw.bgw_extra.map(|c| c as u8)
    }

    /// `bgw_notify_pid` (0: none).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let def = WorkerBuilder::new("n").function("f").build().unwrap();
    /// assert_eq!(def.notify_pid(), 0);
    /// ```
    pub fn notify_pid(&self) -> i32 {
        self.raw.bgw_notify_pid
    }
}

impl std::fmt::Debug for WorkerDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerDefinition")
            .field("name", &self.name())
            .field("type", &self.type_name())
            .field("library", &self.library())
            .field("function", &self.function())
            .field("flags", &self.flags())
            .field("start_time", &self.start_time())
            .field("restart", &self.restart())
            .field("main_arg", &self.main_arg())
            .field("notify_pid", &self.notify_pid())
            .field("policy", &self.policy)
            .finish()
    }
}
