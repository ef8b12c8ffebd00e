//! Supervision beyond PostgreSQL, opt-in (the core's policy.rs has the
//! state machine): [`Policy`] for a worker (restart backoff, give-up limit,
//! start timeout for readiness, stop timeout, watchdog), and what a handle
//! reads back: [`LastExit`]. With no policy every behaviour is
//! PostgreSQL's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgworker_core::backend::supervision::LastExit as CoreLastExit;
use bgworker_core::policy::{self as core_policy, Policy as CorePolicy, MAX_DELAY_MS};
use bgworker_core::shmem::{facts, supervision as sv};

use super::Error;

/// Exponential restart backoff (instead of a fixed `bgw_restart_time`):
/// the k-th consecutive restart waits `min(cap, initial × factor^(k−1))`
/// plus up to `jitter` × that at random, never more than
/// [`MAX_DELAY`]; k starts over once the worker has run for
/// `reset_after` (zero: never). Used as [`Restart::Backoff`](super::Restart::Backoff)
/// or in a [`Policy`].
///
/// ```
/// use bgworker::safe::Backoff;
/// use std::time::Duration;
/// let b = Backoff::new(Duration::from_millis(500)).factor(2.0).cap(Duration::from_secs(30));
/// assert_eq!(b.initial, Duration::from_millis(500));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// Growth per restart (1 ..= 1000).
    pub factor: f64,
    /// The longest delay.
    pub cap: Duration,
    /// Random extra, as a fraction of the delay (0 ..= 1).
    pub jitter: f64,
    /// Uptime after which the delay starts over (zero: never).
    pub reset_after: Duration,
}

/// The longest delay, timeout or interval any policy may name (24 hours);
/// a backoff stops growing there.
///
/// ```
/// assert_eq!(bgworker::safe::MAX_DELAY.as_secs(), 86_400);
/// ```
pub const MAX_DELAY: Duration = Duration::from_millis(MAX_DELAY_MS as u64);

impl Backoff {
    /// A backoff starting at `initial`, with the defaults: factor 2, cap
    /// 5 minutes, no jitter, starting over after a minute up.
    ///
    /// ```
    /// # use bgworker::safe::Backoff;
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1));
    /// assert_eq!(b.factor, 2.0);
    /// ```
    pub fn new(initial: Duration) -> Self {
        Backoff {
            initial,
            factor: core_policy::DEFAULT_FACTOR,
            cap: Duration::from_millis(core_policy::DEFAULT_CAP_MS as u64),
            jitter: 0.0,
            reset_after: Duration::from_millis(core_policy::DEFAULT_RESET_AFTER_MS as u64),
        }
    }

    /// With another factor.
    ///
    /// ```
    /// # use bgworker::safe::Backoff;
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1)).factor(3.0);
    /// # let _ = b;
    /// ```
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// With another cap.
    ///
    /// ```
    /// # use bgworker::safe::Backoff;
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1)).cap(Duration::from_secs(60));
    /// # let _ = b;
    /// ```
    pub fn cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// With jitter (a fraction, 0 ..= 1).
    ///
    /// ```
    /// # use bgworker::safe::Backoff;
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1)).jitter(0.1);
    /// # let _ = b;
    /// ```
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Starting over after this long up (zero: never).
    ///
    /// ```
    /// # use bgworker::safe::Backoff;
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1)).reset_after(Duration::from_secs(300));
    /// # let _ = b;
    /// ```
    pub fn reset_after(mut self, d: Duration) -> Self {
        self.reset_after = d;
        self
    }
}

/// What a watchdog kill counts as.
///
/// ```
/// use bgworker::safe::WatchdogAction;
/// let a = WatchdogAction::Exit1;
/// # let _ = a;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchdogAction {
    /// A crash: PostgreSQL's crash cycle (systemd's WatchdogSec).
    Crash,
    /// A plain exit with code 1: restarted after its delay, nothing else
    /// stops.
    Exit1,
}

/// A worker's supervision policy; every part optional (unset parts fall
/// back to the `worker_policy_by_type` setting of its type, then the
/// daemon-wide `worker_*` settings, then PostgreSQL's behaviour).
/// Given to [`WorkerBuilder::policy`](super::WorkerBuilder::policy) before
/// registration, or to [`Handle::set_policy`](super::Handle::set_policy)
/// after. Values out of range are refused with [`Error::InvalidPolicy`].
///
/// ```
/// use bgworker::safe::{Backoff, Policy, WatchdogAction};
/// use std::time::Duration;
/// let p = Policy::new()
///     .backoff(Backoff::new(Duration::from_secs(1)))
///     .give_up(5, Duration::from_secs(60))
///     .start_timeout(Duration::from_secs(10))
///     .stop_timeout(Duration::from_secs(5))
///     .watchdog(Duration::from_secs(2), WatchdogAction::Crash);
/// assert!(p.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Policy {
    backoff: Option<Backoff>,
    give_up: Option<(u32, Duration)>,
    start_timeout: Option<Duration>,
    stop_timeout: Option<Duration>,
    watchdog: Option<(Duration, WatchdogAction)>,
}

fn ms(what: &str, d: Duration) -> Result<u32, Error> {
    if d > MAX_DELAY {
        return Err(Error::InvalidPolicy(format!(
            "{what} {d:?} is out of range (at most {MAX_DELAY_MS} ms)"
        )));
    }
    Ok(d.as_millis() as u32)
}

impl Policy {
    /// Nothing set: PostgreSQL's behaviour (or the settings' defaults).
    ///
    /// ```
    /// # use bgworker::safe::Policy;
    /// assert!(Policy::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Policy::default()
    }

    /// Is nothing set?
    ///
    /// ```
    /// # use bgworker::safe::Policy;
    /// # use std::time::Duration;
    /// assert!(!Policy::new().stop_timeout(Duration::from_secs(1)).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }

    /// Restart with exponential backoff.
    ///
    /// ```
    /// # use bgworker::safe::{Backoff, Policy};
    /// # use std::time::Duration;
    /// let p = Policy::new().backoff(Backoff::new(Duration::from_millis(200)));
    /// # let _ = p;
    /// ```
    pub fn backoff(mut self, b: Backoff) -> Self {
        self.backoff = Some(b);
        self
    }

    /// More than `restarts` restarts within `within` puts the worker in
    /// the `failed` state (not restarted; [`Handle::relaunch`](super::Handle::relaunch)
    /// starts it again).
    ///
    /// ```
    /// # use bgworker::safe::Policy;
    /// # use std::time::Duration;
    /// let p = Policy::new().give_up(3, Duration::from_secs(30));
    /// # let _ = p;
    /// ```
    pub fn give_up(mut self, restarts: u32, within: Duration) -> Self {
        self.give_up = Some((restarts, within));
        self
    }

    /// The longest time from start to [`Worker::ready`](super::Worker::ready);
    /// a worker that takes longer is killed and handled as an exit 1.
    ///
    /// ```
    /// # use bgworker::safe::Policy;
    /// # use std::time::Duration;
    /// let p = Policy::new().start_timeout(Duration::from_secs(10));
    /// # let _ = p;
    /// ```
    pub fn start_timeout(mut self, d: Duration) -> Self {
        self.start_timeout = Some(d);
        self
    }

    /// The longest time from SIGTERM (terminate, smart or fast shutdown)
    /// to exit; then SIGKILL, logged (zero: wait for ever, PostgreSQL's).
    ///
    /// ```
    /// # use bgworker::safe::Policy;
    /// # use std::time::Duration;
    /// let p = Policy::new().stop_timeout(Duration::from_secs(5));
    /// # let _ = p;
    /// ```
    pub fn stop_timeout(mut self, d: Duration) -> Self {
        self.stop_timeout = Some(d);
        self
    }

    /// A worker that does not [check in](super::Worker::watchdog_checkin)
    /// within `interval` is killed and handled as `action` says.
    ///
    /// ```
    /// # use bgworker::safe::{Policy, WatchdogAction};
    /// # use std::time::Duration;
    /// let p = Policy::new().watchdog(Duration::from_secs(2), WatchdogAction::Exit1);
    /// # let _ = p;
    /// ```
    pub fn watchdog(mut self, interval: Duration, action: WatchdogAction) -> Self {
        self.watchdog = Some((interval, action));
        self
    }

    /// The backoff part, if set.
    ///
    /// ```
    /// # use bgworker::safe::{Backoff, Policy};
    /// # use std::time::Duration;
    /// let b = Backoff::new(Duration::from_secs(1));
    /// assert_eq!(Policy::new().backoff(b).backoff_part(), Some(b));
    /// ```
    pub fn backoff_part(&self) -> Option<Backoff> {
        self.backoff
    }

    /// Check every part (the same rules as the C API and the settings).
    ///
    /// ```
    /// # use bgworker::safe::{Backoff, Error, Policy};
    /// # use std::time::Duration;
    /// let bad = Policy::new().backoff(Backoff::new(Duration::from_secs(1)).factor(f64::NAN));
    /// assert!(matches!(bad.validate(), Err(Error::InvalidPolicy(_))));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        self.to_core().map(|_| ())
    }

    /// The core's form, validated.
    pub(crate) fn to_core(self) -> Result<CorePolicy, Error> {
        let mut p = CorePolicy::default();
        if let Some(b) = self.backoff {
            let initial = ms("backoff initial", b.initial)?;
            if initial == 0 {
                return Err(Error::InvalidPolicy(
                    "backoff initial delay must be at least 1 ms".into(),
                ));
            }
            p.backoff_initial_ms = Some(initial);
            p.backoff_factor = Some(b.factor);
            p.backoff_cap_ms = Some(ms("backoff cap", b.cap)?);
            p.backoff_jitter = Some(b.jitter);
            p.backoff_reset_after_ms = Some(ms("backoff reset_after", b.reset_after)?);
        }
        if let Some((n, within)) = self.give_up {
            if n > core_policy::MAX_GIVE_UP_RESTARTS as u32 {
                return Err(Error::InvalidPolicy(format!(
                    "give_up restarts {n} is out of range (at most {})",
                    core_policy::MAX_GIVE_UP_RESTARTS
                )));
            }
            p.give_up_restarts = Some(n as i32);
            p.give_up_window_ms = Some(ms("give_up window", within)?);
        }
        if let Some(d) = self.start_timeout {
            p.start_timeout_ms = Some(ms("start timeout", d)?);
        }
        if let Some(d) = self.stop_timeout {
            p.stop_timeout_ms = Some(ms("stop timeout", d)?);
        }
        if let Some((interval, action)) = self.watchdog {
            p.watchdog_ms = Some(ms("watchdog interval", interval)?);
            p.watchdog_action = Some(match action {
                WatchdogAction::Crash => core_policy::WatchdogAction::Crash,
                WatchdogAction::Exit1 => core_policy::WatchdogAction::Exit1,
            });
        }
        p.validate().map_err(Error::InvalidPolicy)?;
        Ok(p)
    }
}

/// How a worker's process ended.
///
/// ```
/// use bgworker::safe::Outcome;
/// let o = Outcome::Signal(9);
/// # let _ = o;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this code.
    Code(i32),
    /// This signal ended it.
    Signal(i32),
}

/// Why a worker's process ended, as the supervisor saw it.
///
/// ```
/// use bgworker::safe::ExitReason;
/// assert_ne!(ExitReason::StopTimeout, ExitReason::Watchdog);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// It exited by itself, no crash.
    Normal,
    /// Any other exit or signal: a crash.
    Crash,
    /// Killed: not ready within its start timeout.
    StartTimeout,
    /// Killed: not stopped within its stop timeout.
    StopTimeout,
    /// Killed: missed its watchdog check-in.
    Watchdog,
    /// Ended by a signal the supervisor sent (SIGTERM, or the SIGQUIT of a
    /// crash cycle or immediate shutdown).
    Stopped,
    /// A reason this version does not know.
    Other(u32),
}

/// A registered worker's state (as `bgworkerctl status` shows it).
///
/// ```
/// use bgworker::safe::WorkerState;
/// let s = WorkerState::Failed;
/// # let _ = s;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerState {
    /// Registered, waiting for its start.
    NotStarted,
    /// Its process runs.
    Running,
    /// Exited; starts again after its delay or the crash cycle.
    Restarting,
    /// SIGTERM sent; its stop timeout runs.
    Terminating,
    /// Unregistered (its slot may have another tenant).
    Stopped,
    /// Gave up (give-up limit): kept until terminated or relaunched.
    Failed,
    /// A state this version does not know.
    Other(u32),
}

/// The last exit of a worker, read through its handle even after the
/// worker is gone and its slot reused (within the supervisor's record of
/// each slot's last few generations).
///
/// ```no_run
/// # use bgworker::safe::{Attachment, WorkerBuilder};
/// # let sup = Attachment::attach("/run/bgworkerd")?;
/// # let h = sup.register(&WorkerBuilder::new("j").function("j").build()?)?;
/// if let Some(e) = h.last_exit()? {
///     println!("{:?} ({:?}), started {} times", e.outcome, e.reason, e.starts);
/// }
/// # Ok::<(), bgworker::safe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastExit {
    /// Exit code or signal.
    pub outcome: Option<Outcome>,
    /// Handled as a crash (PostgreSQL's crash cycle).
    pub crash: bool,
    /// Why it ended.
    pub reason: ExitReason,
    /// Times started in this registration.
    pub starts: u32,
    /// When it exited.
    pub time: SystemTime,
    /// Its state now.
    pub state: WorkerState,
    /// It had declared itself ready.
    pub ready: bool,
}

impl LastExit {
    /// The safe form of the core's record (None: it has not exited yet).
    pub(crate) fn from_core(e: CoreLastExit) -> Option<LastExit> {
        if !e.exited {
            return None;
        }
        let outcome = match (e.code, e.signal) {
            (Some(c), _) => Some(Outcome::Code(c)),
            (None, Some(s)) => Some(Outcome::Signal(s)),
            _ => None,
        };
        let reason = match e.reason {
            sv::EXIT_NORMAL => ExitReason::Normal,
            sv::EXIT_CRASH => ExitReason::Crash,
            sv::EXIT_START_TIMEOUT => ExitReason::StartTimeout,
            sv::EXIT_STOP_TIMEOUT => ExitReason::StopTimeout,
            sv::EXIT_WATCHDOG => ExitReason::Watchdog,
            sv::EXIT_STOPPED => ExitReason::Stopped,
            r => ExitReason::Other(r),
        };
        Some(LastExit {
            outcome,
            crash: e.crash,
            reason,
            starts: e.starts,
            time: UNIX_EPOCH + Duration::from_millis(e.time_ms),
            state: state_of(e.state),
            ready: e.ready,
        })
    }
}

pub(crate) fn state_of(s: u32) -> WorkerState {
    match s {
        facts::STATE_NOT_STARTED => WorkerState::NotStarted,
        facts::STATE_RUNNING => WorkerState::Running,
        facts::STATE_RESTARTING => WorkerState::Restarting,
        facts::STATE_TERMINATING => WorkerState::Terminating,
        facts::STATE_STOPPED | facts::STATE_FREE => WorkerState::Stopped,
        facts::STATE_FAILED => WorkerState::Failed,
        other => WorkerState::Other(other),
    }
}
