//! [`Handle`]: a dynamically registered worker, as PostgreSQL's
//! `BackgroundWorkerHandle` (slot and generation), with status, waits
//! bounded by a timeout, and terminate.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bgworker_core::abi::{BGWH_NOT_YET_STARTED, BGWH_STARTED, BGWH_STOPPED};
use bgworker_core::backend::{self, Connection, RegisterError, DEATH_CHECK};

use bgworker_core::backend::supervision::ReadyStatus;

use super::definition::WorkerDefinition;
use super::policy::{state_of, LastExit, Policy, WorkerState};
use super::Error;

/// A worker's state as its handle sees it (PostgreSQL's `BgwHandleStatus`).
///
/// ```
/// use bgworker::safe::Status;
/// let s = Status::Started { pid: 42 };
/// assert_eq!(s.pid(), Some(42));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Registered, not started yet (or waiting to be restarted after a
    /// crash cycle).
    NotYetStarted,
    /// Running as `pid`.
    Started {
        /// The worker's process id.
        pid: u32,
    },
    /// Stopped: exited and not (yet) restarted, terminated, or its slot was
    /// given to another registration.
    Stopped,
}

impl Status {
    /// The pid of a started worker.
    ///
    /// ```
    /// # use bgworker::safe::Status;
    /// assert_eq!(Status::Stopped.pid(), None);
    /// ```
    pub fn pid(self) -> Option<u32> {
        match self {
            Status::Started { pid } => Some(pid),
            _ => None,
        }
    }
}

/// A dynamically registered worker, valid as long as the [`Attachment`](super::Attachment)
/// or [`Worker`](super::Worker) it was registered through (the borrow
/// checker sees to it). Like PostgreSQL's handle it names one registration:
/// once the worker is gone and its slot reused, the handle reads
/// [`Status::Stopped`] and terminate does nothing. Dropping it leaves the
/// worker running.
///
/// ```no_run
/// use bgworker::safe::{Attachment, WorkerBuilder};
/// use std::time::Duration;
///
/// let sup = Attachment::attach("/run/bgworkerd")?;
/// let def = WorkerBuilder::new("job").library("my_module").function("job_main").build()?;
/// let h = sup.register(&def)?;
/// let pid = h.wait_for_startup(Duration::from_secs(10))?;
/// println!("job runs as {pid}");
/// h.terminate()?;
/// h.wait_for_shutdown(Duration::from_secs(10))?;
/// # Ok::<(), bgworker::safe::Error>(())
/// ```
///
/// A handle cannot outlive its attachment, so it can never be used on
/// another supervisor's table (an attachment made later):
///
/// ```compile_fail,E0597
/// use bgworker::safe::{Attachment, WorkerBuilder};
/// let def = WorkerBuilder::new("job").function("job_main").build().unwrap();
/// let h = {
///     let sup = Attachment::attach("/run/bgworkerd").unwrap();
///     sup.register(&def).unwrap()
/// }; // error: `sup` does not live long enough
/// let _other = Attachment::attach("/run/other-bgworkerd").unwrap();
/// h.terminate().unwrap();
/// ```
pub struct Handle<'c> {
    conn: &'c Connection,
    slot: usize,
    generation: u64,
}

impl std::fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("slot", &self.slot)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Register `def` on `conn` (RegisterDynamicBackgroundWorker's rules).
pub(crate) fn register_on<'c>(
    conn: &'c Connection,
    def: &WorkerDefinition,
) -> Result<Handle<'c>, Error> {
    let mut raw = def.raw;
    // The layout of this process's major (decided once; see identity.rs).
    raw.bgw_major = bgworker_core::identity::pg_major();
    let policy = if def.policy.is_empty() {
        None
    } else {
        Some(def.policy.to_core()?)
    };
    match conn.register_with_policy(&raw, policy.as_ref()) {
        Ok((slot, generation)) => Ok(Handle {
            conn,
            slot,
            generation,
        }),
        Err(RegisterError::NotConnected) => Err(Error::SupervisorProcess),
        Err(RegisterError::Invalid(m)) => Err(Error::InvalidDefinition(m)),
        Err(RegisterError::NoCapacity) => Err(Error::NoFreeSlot),
        Err(RegisterError::LockTimeout(m)) => Err(Error::LockTimeout(m)),
    }
}

impl<'c> Handle<'c> {
    /// The worker's slot (its index in the supervisor's table; `bgworkerctl
    /// status` shows it).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// println!("slot {}", h.slot());
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The registration's generation in its slot.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// println!("slot {} generation {}", h.slot(), h.generation());
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The worker's state now (GetBackgroundWorkerPid).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Status, WorkerBuilder};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// if let Status::Started { pid } = h.status() {
    ///     println!("running as {pid}");
    /// }
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn status(&self) -> Status {
        let (st, pid) = self.conn.status(self.slot, self.generation);
        status_of(st, pid)
    }

    /// Wait until the worker has started, at most `timeout`
    /// (WaitForBackgroundWorkerStartup with a bound). Returns its pid;
    /// [`Error::WorkerStopped`] if it stopped or will never start,
    /// [`Error::SupervisorGone`], or [`Error::Timeout`].
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Error, WorkerBuilder};
    /// # use std::time::Duration;
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// match h.wait_for_startup(Duration::from_secs(5)) {
    ///     Ok(pid) => println!("started as {pid}"),
    ///     Err(Error::Timeout) => println!("not started within 5 s"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn wait_for_startup(&self, timeout: Duration) -> Result<u32, Error> {
        match self.wait(timeout, |st| st != BGWH_NOT_YET_STARTED)? {
            Status::Started { pid } => Ok(pid),
            _ => Err(Error::WorkerStopped),
        }
    }

    /// Wait until the worker has stopped, at most `timeout`
    /// (WaitForBackgroundWorkerShutdown with a bound).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// # use std::time::Duration;
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// h.terminate()?;
    /// h.wait_for_shutdown(Duration::from_secs(10))?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn wait_for_shutdown(&self, timeout: Duration) -> Result<(), Error> {
        self.wait(timeout, |st| st == BGWH_STOPPED).map(|_| ())
    }

    /// Ask the supervisor to stop the worker (SIGTERM if it runs) and not
    /// to restart it (TerminateBackgroundWorker). Does nothing once the
    /// registration is gone.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let def = WorkerBuilder::new("job").function("job_main").build()?;
    /// let h = sup.register(&def)?;
    /// h.terminate()?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn terminate(&self) -> Result<(), Error> {
        self.conn
            .terminate(self.slot, self.generation)
            .map(|_| ())
            .map_err(Error::LockTimeout)
    }

    /// Wait until the worker has declared itself ready
    /// ([`Worker::ready`](super::Worker::ready)), at most `timeout`.
    /// Returns its pid. A worker that never declares readiness is never
    /// ready: wait for startup instead. Errors:
    /// [`Error::ExitedBeforeReady`], [`Error::StartTimeout`] (it was killed
    /// for exceeding its start timeout), [`Error::WorkerStopped`]
    /// (unregistered or failed), [`Error::SupervisorGone`],
    /// [`Error::Timeout`].
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Policy, WorkerBuilder};
    /// # use std::time::Duration;
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// let def = WorkerBuilder::new("server")
    ///     .function("server_main")
    ///     .policy(Policy::new().start_timeout(Duration::from_secs(30)))
    ///     .build()?;
    /// let h = sup.register(&def)?;
    /// let pid = h.wait_for_ready(Duration::from_secs(60))?;
    /// println!("server {pid} accepts work");
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn wait_for_ready(&self, timeout: Duration) -> Result<u32, Error> {
        match self
            .conn
            .wait_for_ready(self.slot, self.generation, Some(timeout))
        {
            ReadyStatus::Ready(pid) => Ok(pid as u32),
            ReadyStatus::TimedOut => Err(Error::Timeout),
            ReadyStatus::Exited => Err(Error::ExitedBeforeReady),
            ReadyStatus::StartTimeout => Err(Error::StartTimeout),
            ReadyStatus::Stopped => Err(Error::WorkerStopped),
            ReadyStatus::SupervisorDied => Err(Error::SupervisorGone),
        }
    }

    /// Give the worker (the fields set in) `policy`, which replaces those
    /// fields of its own policy from its next decision on.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Policy, WorkerBuilder};
    /// # use std::time::Duration;
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let h = sup.register(&WorkerBuilder::new("j").function("j").build()?)?;
    /// h.set_policy(&Policy::new().stop_timeout(Duration::from_secs(2)))?;
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn set_policy(&self, policy: &Policy) -> Result<(), Error> {
        let p = policy.to_core()?;
        self.conn
            .set_policy(self.slot, self.generation, &p)
            .map_err(Error::Rejected)
    }

    /// Start a `failed` worker again (it gave up: see
    /// [`Policy::give_up`]); its restart history starts over.
    /// [`Error::Rejected`] when it is not failed.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder, WorkerState};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let h = sup.register(&WorkerBuilder::new("j").function("j").build()?)?;
    /// if h.state() == WorkerState::Failed {
    ///     h.relaunch()?;
    /// }
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn relaunch(&self) -> Result<(), Error> {
        self.conn
            .relaunch(self.slot, self.generation)
            .map_err(Error::Rejected)
    }

    /// The worker's state in the supervisor's table ([`WorkerState::Stopped`]
    /// once its slot was freed or given to another registration).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let h = sup.register(&WorkerBuilder::new("j").function("j").build()?)?;
    /// println!("{:?}", h.state());
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn state(&self) -> WorkerState {
        match self.conn.seg.slot_facts(self.slot).read() {
            Ok(f) if f.generation == self.generation => state_of(f.state),
            _ => WorkerState::Stopped,
        }
    }

    /// The worker's last exit within this registration (None: it has not
    /// exited yet), readable after the worker is gone and its slot reused,
    /// as long as the supervisor keeps the record (the slot's last few
    /// registrations; [`Error::Rejected`] after that).
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Outcome, WorkerBuilder};
    /// # use std::time::Duration;
    /// # let sup = Attachment::attach("/run/bgworkerd")?;
    /// # let h = sup.register(&WorkerBuilder::new("j").function("j").build()?)?;
    /// h.wait_for_shutdown(Duration::from_secs(60))?;
    /// match h.last_exit()? {
    ///     Some(e) if e.outcome == Some(Outcome::Code(0)) => println!("done"),
    ///     Some(e) => println!("ended: {:?} ({:?})", e.outcome, e.reason),
    ///     None => println!("never exited"),
    /// }
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn last_exit(&self) -> Result<Option<LastExit>, Error> {
        self.conn
            .last_exit(self.slot, self.generation)
            .map(LastExit::from_core)
            .map_err(Error::Rejected)
    }

    /// Sleep on the segment's change counter until `done(status)`, the
    /// supervisor is gone, or the deadline (the supervisor's liveness is
    /// checked at least every DEATH_CHECK).
    fn wait(&self, timeout: Duration, done: impl Fn(u32) -> bool) -> Result<Status, Error> {
        let deadline = Instant::now().checked_add(timeout);
        let h = self.conn.seg.header();
        loop {
            // Announce ourselves before sampling the counter (see the
            // core's Connection::wait_until).
            h.waiters.fetch_add(1, Ordering::SeqCst);
            let seq = h.change_seq.load(Ordering::SeqCst);
            let (st, pid) = self.conn.status(self.slot, self.generation);
            let outcome = if done(st) {
                Some(Ok(status_of(st, pid)))
            } else if !self.conn.supervisor_alive() {
                Some(Err(Error::SupervisorGone))
            } else {
                None
            };
            if let Some(r) = outcome {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return r;
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => DEATH_CHECK,
            };
            if left.is_zero() {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return Err(Error::Timeout);
            }
            backend::futex_wait(&h.change_seq, seq, left.min(DEATH_CHECK));
            h.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn status_of(st: u32, pid: i32) -> Status {
    match st {
        BGWH_STARTED => Status::Started { pid: pid as u32 },
        BGWH_NOT_YET_STARTED => Status::NotYetStarted,
        _ => Status::Stopped,
    }
}
