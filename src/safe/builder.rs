//! [`WorkerBuilder`]: checks every value of a worker definition against
//! PostgreSQL's limits (and its own sanity check) and makes a
//! [`WorkerDefinition`].

use bgworker_core::abi::{
    self, fixed_str, set_fixed_str, BackgroundWorker, BGW_EXTRALEN, BGW_MAXLEN,
};

use super::definition::{Restart, StartTime, WorkerDefinition, WorkerFlags, MAX_RESTART_INTERVAL};
use super::entry::EntryPoint;
use super::policy::Policy;
use super::Error;

/// Builds a [`WorkerDefinition`], checking each value against PostgreSQL's
/// limits: names at most `BGW_MAXLEN - 1` (95) bytes of printable ASCII
/// (what the supervisor stores and logs unchanged), a function name that is
/// a C identifier, `bgw_extra` at most [`BGW_EXTRALEN`] bytes, a restart
/// interval of whole seconds up to [`MAX_RESTART_INTERVAL`]. Defaults:
/// flags `SHMEM_ACCESS`, start at `RecoveryFinished`, never restart, the
/// type named as the worker, the library empty (a function of the program
/// that runs the supervisor).
///
/// ```
/// use bgworker::safe::{Restart, StartTime, WorkerBuilder, WorkerFlags};
/// use std::time::Duration;
/// let def = WorkerBuilder::new("ingest 1")
///     .worker_type("ingest")
///     .library("ingest_module")
///     .function("ingest_main")
///     .flags(WorkerFlags::SHMEM_ACCESS)
///     .start_time(StartTime::ConsistentState)
///     .restart(Restart::After(Duration::from_secs(10)))
///     .main_arg(1)
///     .extra(b"queue=a")
///     .unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(def.type_name(), "ingest");
/// ```
#[derive(Clone, Debug)]
pub struct WorkerBuilder {
    name: String,
    worker_type: Option<String>,
    library: String,
    function: Option<String>,
    flags: WorkerFlags,
    start_time: StartTime,
    restart: Restart,
    main_arg: usize,
    extra: [u8; BGW_EXTRALEN],
    notify_pid: i32,
    policy: Policy,
}

impl WorkerBuilder {
    /// A definition of the worker called `name` (`bgw_name`).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("ticker");
    /// # let _ = b;
    /// ```
    pub fn new(name: &str) -> Self {
        WorkerBuilder {
            name: name.to_string(),
            worker_type: None,
            library: String::new(),
            function: None,
            flags: WorkerFlags::SHMEM_ACCESS,
            start_time: StartTime::RecoveryFinished,
            restart: Restart::Never,
            main_arg: 0,
            extra: [0; BGW_EXTRALEN],
            notify_pid: 0,
            policy: Policy::new(),
        }
    }

    /// `bgw_type`, which groups workers in logs and status (default: the name).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("ticker 1").worker_type("ticker");
    /// # let _ = b;
    /// ```
    pub fn worker_type(mut self, t: &str) -> Self {
        self.worker_type = Some(t.to_string());
        self
    }

    /// `bgw_library_name`: the module holding the entry function, found as
    /// PostgreSQL finds it (`dynamic_library_path`, `$libdir`, optional
    /// `.so`). Empty (the default) or "postgres": the program that runs the
    /// supervisor.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("w").library("$libdir/my_module");
    /// # let _ = b;
    /// ```
    pub fn library(mut self, library: &str) -> Self {
        self.library = library.to_string();
        self
    }

    /// `bgw_function_name`: the entry function's symbol name.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("w").function("w_main");
    /// # let _ = b;
    /// ```
    pub fn function(mut self, function: &str) -> Self {
        self.function = Some(function.to_string());
        self
    }

    /// The entry point declared with [`entry_point!`](crate::entry_point):
    /// its name, in the program that runs the supervisor (library empty).
    ///
    /// ```
    /// use bgworker::safe::{Worker, WorkerBuilder};
    /// fn hello(_w: Worker) -> Result<(), bgworker::safe::Error> { Ok(()) }
    /// bgworker::entry_point!(HELLO = hello);
    /// let def = WorkerBuilder::new("hello").entry(&HELLO).build().unwrap();
    /// assert_eq!(def.function(), "hello");
    /// assert_eq!(def.library(), "");
    /// ```
    pub fn entry(mut self, entry: &EntryPoint) -> Self {
        self.library = String::new();
        self.function = Some(entry.name().to_string());
        self
    }

    /// `bgw_flags` (default `SHMEM_ACCESS`, which every worker needs).
    ///
    /// ```
    /// # use bgworker::safe::{WorkerBuilder, WorkerFlags};
    /// let b = WorkerBuilder::new("w").flags(WorkerFlags::SHMEM_ACCESS);
    /// # let _ = b;
    /// ```
    pub fn flags(mut self, flags: WorkerFlags) -> Self {
        self.flags = flags;
        self
    }

    /// `bgw_start_time` (default `RecoveryFinished`).
    ///
    /// ```
    /// # use bgworker::safe::{StartTime, WorkerBuilder};
    /// let b = WorkerBuilder::new("w").start_time(StartTime::PostmasterStart);
    /// # let _ = b;
    /// ```
    pub fn start_time(mut self, t: StartTime) -> Self {
        self.start_time = t;
        self
    }

    /// `bgw_restart_time` (default `Never`).
    ///
    /// ```
    /// # use bgworker::safe::{Restart, WorkerBuilder};
    /// # use std::time::Duration;
    /// let b = WorkerBuilder::new("w").restart(Restart::After(Duration::from_secs(1)));
    /// # let _ = b;
    /// ```
    pub fn restart(mut self, r: Restart) -> Self {
        self.restart = r;
        self
    }

    /// `bgw_main_arg`, passed to the entry point.
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("w").main_arg(42);
    /// # let _ = b;
    /// ```
    pub fn main_arg(mut self, arg: usize) -> Self {
        self.main_arg = arg;
        self
    }

    /// `bgw_extra`: up to [`BGW_EXTRALEN`] bytes, the rest zero.
    ///
    /// ```
    /// # use bgworker::safe::{Error, WorkerBuilder};
    /// assert!(WorkerBuilder::new("w").extra(&[1, 2, 3]).is_ok());
    /// assert!(matches!(
    ///     WorkerBuilder::new("w").extra(&[0; 129]),
    ///     Err(Error::InvalidDefinition(_))
    /// ));
    /// ```
    pub fn extra(mut self, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > BGW_EXTRALEN {
            return Err(Error::InvalidDefinition(format!(
                "bgw_extra holds at most {BGW_EXTRALEN} bytes, {} given",
                bytes.len()
            )));
        }
        self.extra = [0; BGW_EXTRALEN];
        self.extra[..bytes.len()].copy_from_slice(bytes);
        Ok(self)
    }

    /// `bgw_notify_pid`: SIGUSR1 this process when the worker starts and
    /// stops (dynamic workers only; the waits of [`Handle`](super::Handle)
    /// need none).
    ///
    /// ```
    /// # use bgworker::safe::WorkerBuilder;
    /// let b = WorkerBuilder::new("w").notify_pid(std::process::id() as i32);
    /// # let _ = b;
    /// ```
    pub fn notify_pid(mut self, pid: i32) -> Self {
        self.notify_pid = pid;
        self
    }

    /// The worker's own supervision policy (beyond PostgreSQL, opt-in):
    /// give-up limit, start timeout, stop timeout, watchdog, and a backoff
    /// (which needs a restart: [`Restart::Backoff`] says both at once).
    /// Checked by [`build`](Self::build).
    ///
    /// ```
    /// # use bgworker::safe::{Policy, Restart, WorkerBuilder};
    /// # use std::time::Duration;
    /// let def = WorkerBuilder::new("w")
    ///     .function("w_main")
    ///     .restart(Restart::After(Duration::from_secs(1)))
    ///     .policy(Policy::new().give_up(3, Duration::from_secs(60)))
    ///     .build()
    ///     .unwrap();
    /// # let _ = def;
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Check everything and make the definition.
    ///
    /// ```
    /// # use bgworker::safe::{Error, WorkerBuilder};
    /// assert!(WorkerBuilder::new("w").function("w_main").build().is_ok());
    /// let long = "x".repeat(96);
    /// assert!(matches!(
    ///     WorkerBuilder::new(&long).function("f").build(),
    ///     Err(Error::InvalidName { field: "name", .. })
    /// ));
    /// assert!(matches!(
    ///     WorkerBuilder::new("w").build(),
    ///     Err(Error::InvalidName { field: "function", .. })
    /// ));
    /// ```
    pub fn build(self) -> Result<WorkerDefinition, Error> {
        check_name("name", &self.name, false)?;
        let worker_type = self.worker_type.as_deref().unwrap_or(&self.name);
        check_name("type", worker_type, false)?;
        check_name("library", &self.library, true)?;
        let function = self.function.as_deref().unwrap_or("");
        check_function(function)?;
        if self.notify_pid < 0 {
            return Err(Error::InvalidDefinition(format!(
                "notify pid {} is negative",
                self.notify_pid
            )));
        }
        let mut policy = self.policy;
        let restart = match self.restart {
            Restart::Never => {
                if policy.backoff_part().is_some() {
                    return Err(Error::InvalidPolicy(
                        "a backoff needs a restart, but the restart is Never (use Restart::Backoff)"
                            .into(),
                    ));
                }
                abi::BGW_NEVER_RESTART
            }
            Restart::Backoff(b) => {
                policy = policy.backoff(b);
                // What a supervisor without backoff would wait: the initial
                // delay in whole seconds, rounded up.
                b.initial
                    .as_millis()
                    .div_ceil(1000)
                    .min(MAX_RESTART_INTERVAL.as_secs() as u128) as i32
            }
            Restart::After(d) => {
                if d.subsec_nanos() != 0 || d > MAX_RESTART_INTERVAL {
                    return Err(Error::InvalidDefinition(format!(
                        "restart interval {d:?} is not a whole number of seconds up to {}",
                        MAX_RESTART_INTERVAL.as_secs()
                    )));
                }
                d.as_secs() as i32
            }
        };
        let mut raw = BackgroundWorker::zeroed();
        set_fixed_str(&mut raw.bgw_name, &self.name);
        set_fixed_str(&mut raw.bgw_type, worker_type);
        set_fixed_str(&mut raw.bgw_library_name, &self.library);
        set_fixed_str(&mut raw.bgw_function_name, function);
        raw.bgw_flags = self.flags.bits();
        raw.bgw_start_time = self.start_time.raw();
        raw.bgw_restart_time = restart;
        raw.bgw_main_arg = self.main_arg;
        raw.bgw_extra = self.extra.map(|b| b as std::os::raw::c_char);
        raw.bgw_notify_pid = self.notify_pid;
        raw.bgw_major = bgworker_core::identity::pg_major();
        // PostgreSQL's own rules, with its messages.
        let mut checked = raw;
        bgworker_core::backend::sanity_check(&mut checked).map_err(Error::InvalidDefinition)?;
        debug_assert_eq!(fixed_str(&checked.bgw_name), self.name);
        policy.to_core()?;
        Ok(WorkerDefinition {
            raw: checked,
            policy,
        })
    }
}

/// A name field: at most BGW_MAXLEN - 1 bytes, printable ASCII (the
/// supervisor turns anything else into '?'), not empty unless `may_be_empty`.
fn check_name(field: &'static str, s: &str, may_be_empty: bool) -> Result<(), Error> {
    let bad = |reason: String| Err(Error::InvalidName { field, reason });
    if s.is_empty() && !may_be_empty {
        return bad("it is empty".into());
    }
    if s.len() > BGW_MAXLEN - 1 {
        return bad(format!(
            "\"{s}\" is {} bytes long, at most {} fit (BGW_MAXLEN)",
            s.len(),
            BGW_MAXLEN - 1
        ));
    }
    if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
        return bad(format!(
            "\"{}\" contains {c:?}; only printable ASCII is kept as given",
            s.escape_debug()
        ));
    }
    Ok(())
}

/// The entry function's name: a C identifier the loader can look up.
fn check_function(s: &str) -> Result<(), Error> {
    check_name("function", s, false)?;
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::InvalidName {
            field: "function",
            reason: format!("\"{s}\" is not a C identifier"),
        });
    }
    Ok(())
}
