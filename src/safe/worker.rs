//! The worker's side: [`Worker`], what a worker's Rust function gets from
//! [`entry_point!`](crate::entry_point): its own definition, its
//! `bgw_extra`, latch-style waiting with shutdown requests as values, and
//! dynamic registration of further workers.
//!
//! A worker runs in one of two kinds of process image:
//! - the program that runs the supervisor (an embedding Rust program):
//!   this crate's core *is* the process's core, whose connection the
//!   supervisor installed before calling the entry point ([`Core::Local`]);
//! - a module (a cdylib) that bgworkerd, or another supervisor, loaded:
//!   the cdylib carries a copy of the core that nobody connected. The
//!   process's own core is then reached through what it exports
//!   (`bgw_pg17_MyBgworkerEntry`, found with dlsym), the supervisor's death
//!   through a pidfd of the parent ([`Core::Foreign`]); registration needs
//!   the process's connection and is refused with a clear error.

use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use bgworker_core::abi::{BackgroundWorker, BackgroundWorker17, BGW_EXTRALEN};
use bgworker_core::backend::{self, Role};
use bgworker_core::pidfd::{self, Pidfd};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::definition::WorkerDefinition;
use super::handle::{register_on, Handle};
use super::Error;

/// What ended a [`Worker::wait`]: PostgreSQL's latch wake-ups, as values.
///
/// ```
/// use bgworker::safe::Event;
/// let e = Event::Shutdown;
/// assert!(e.is_shutdown());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// SIGTERM: the supervisor (terminate, shutdown) asks the worker to
    /// finish. Sticky: see [`Worker::shutdown_requested`].
    Shutdown,
    /// SIGHUP: reread configuration.
    Reload,
    /// SIGUSR1: someone set the worker's latch (another process, or a
    /// `bgw_notify_pid` notification about a worker it registered).
    Wakeup,
    /// The timeout passed with nothing else happening.
    Timeout,
    /// The supervisor is gone (PostgreSQL's `WL_POSTMASTER_DEATH`): the
    /// worker should exit.
    SupervisorGone,
}

impl Event {
    /// Shutdown or SupervisorGone: the worker should return.
    ///
    /// ```
    /// # use bgworker::safe::Event;
    /// assert!(Event::SupervisorGone.is_shutdown());
    /// assert!(!Event::Wakeup.is_shutdown());
    /// ```
    pub fn is_shutdown(self) -> bool {
        matches!(self, Event::Shutdown | Event::SupervisorGone)
    }
}

/// The running worker, handed to the function an
/// [`entry_point!`](crate::entry_point) declares. There is one per worker
/// process; it owns the worker's signal delivery (SIGTERM, SIGHUP and
/// SIGUSR1 arrive as [`Event`]s instead of running handlers) and nothing
/// global is exposed: shutdown requests are values returned by
/// [`wait`](Self::wait).
///
/// ```no_run
/// use bgworker::safe::{Event, Worker};
/// use std::time::Duration;
///
/// fn echo(mut w: Worker) -> Result<(), bgworker::safe::Error> {
///     let text = String::from_utf8_lossy(w.extra()).trim_end_matches('\0').to_string();
///     eprintln!("{} says {text}", w.definition().name());
///     while !w.wait(Some(Duration::from_secs(5)))?.is_shutdown() {}
///     Ok(())
/// }
/// bgworker::entry_point!(ECHO = echo);
/// ```
///
/// It stays in the worker's own thread (it is not `Send`), whose signal
/// mask it set:
///
/// ```compile_fail,E0277
/// fn w(w: bgworker::safe::Worker) -> Result<(), bgworker::safe::Error> {
///     std::thread::spawn(move || drop(w)); // error: `Worker` is not `Send`
///     Ok(())
/// }
/// ```
pub struct Worker {
    core: Core,
    def: WorkerDefinition,
    extra: [u8; BGW_EXTRALEN],
    main_arg: usize,
    sigfd: SignalFd,
    shutdown: bool,
    /// Events read from the signalfd and not returned yet.
    pending: Vec<Event>,
    /// Not Send: the signal mask and descriptor belong to this thread.
    _thread: std::marker::PhantomData<*const ()>,
}

/// Whose core runs this worker (see the module comment).
enum Core {
    /// This crate's core, connected by the supervisor.
    Local,
    /// Another copy's (the process that loaded this module); the pidfd of
    /// the supervisor (the worker's parent, `ppid` at start) tells its
    /// death, or, where no pidfd could be had, a change of parent.
    Foreign { parent: Option<Pidfd>, ppid: i32 },
}

/// The process's own definition of this worker, read through the name its
/// core exports, when that core is not this crate's (a module loaded by
/// bgworkerd): None outside a worker.
fn foreign_entry() -> Option<BackgroundWorker> {
    // SAFETY: RTLD_DEFAULT lookup of a NUL-terminated name.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"bgw_pg17_MyBgworkerEntry".as_ptr()) };
    if sym.is_null() {
        return None;
    }
    // SAFETY: the symbol is the core's exported
    // `BackgroundWorker17 *bgw_pg17_MyBgworkerEntry` (identity.rs): a
    // pointer variable, NULL outside a worker, else the worker's own copy
    // of its definition, set before the entry point and never freed.
    let p = unsafe { std::ptr::read(sym as *const *const BackgroundWorker17) };
    if p.is_null() {
        return None;
    }
    // SAFETY: see above: a live BackgroundWorker17.
    Some(BackgroundWorker::from_17(unsafe { &*p }, 17))
}

/// Call the process's own `int NAME(void)` export (bgw_notify_ready,
/// bgw_watchdog_checkin) in a module's worker. They fail only outside a
/// worker (with ERROR in a module), which a Worker never is, so no ERROR
/// can unwind through this frame.
fn call_foreign(name: &std::ffi::CStr) -> Result<(), Error> {
    // SAFETY: RTLD_DEFAULT lookup of a NUL-terminated name.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if f.is_null() {
        return Err(Error::Unsupported(format!(
            "this supervisor does not offer {}",
            name.to_string_lossy()
        )));
    }
    // SAFETY: the export's C type is `int NAME(void)`
    // (include/bgworker_supervision.h).
    let f: extern "C" fn() -> std::os::raw::c_int = unsafe { std::mem::transmute(f) };
    if f() == 0 {
        Ok(())
    } else {
        Err(Error::Rejected(format!(
            "{} failed",
            name.to_string_lossy()
        )))
    }
}

/// This process's parent.
fn parent_pid() -> i32 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

/// The signals a Worker takes as events.
fn event_signals() -> SigSet {
    let mut s = SigSet::empty();
    s.add(Signal::SIGTERM);
    s.add(Signal::SIGHUP);
    s.add(Signal::SIGUSR1);
    s
}

impl Worker {
    /// Called once, by the entry point's symbol, in the worker process
    /// before the worker's function runs (the signals are still blocked,
    /// as PostgreSQL starts its workers): event signals stay blocked and
    /// are read from a signalfd, every other signal is unblocked (SIGQUIT
    /// ends the worker at once, as PostgreSQL's).
    pub(crate) fn start(main_arg: usize) -> Result<Worker, Error> {
        let local = if backend::role() == Some(Role::Worker) {
            bgworker_core::identity::my_entry()
        } else {
            None
        };
        let (core, raw) = match local {
            Some(raw) => (Core::Local, raw),
            None => {
                let raw = foreign_entry().ok_or(Error::NotAWorker)?;
                // The parent is the supervisor (workers are its children).
                let ppid = parent_pid();
                let parent = Pidfd::open(ppid).ok();
                (Core::Foreign { parent, ppid }, raw)
            }
        };
        let set = event_signals();
        let sigfd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| Error::Io(e.into()))?;
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&set), None)
            .map_err(|e| Error::Io(e.into()))?;
        Ok(Worker {
            core,
            def: WorkerDefinition::from_raw(raw),
            extra: raw.bgw_extra.map(|c| c as u8),
            main_arg,
            sigfd,
            shutdown: false,
            pending: Vec::new(),
            _thread: std::marker::PhantomData,
        })
    }

    /// The worker's own definition (PostgreSQL's `MyBgworkerEntry`).
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn w(w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     eprintln!("I am {} of type {}", w.definition().name(), w.definition().type_name());
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn definition(&self) -> &WorkerDefinition {
        &self.def
    }

    /// `bgw_extra` as bytes (all [`BGW_EXTRALEN`] of them).
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn w(w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     let n = u32::from_le_bytes(w.extra()[..4].try_into().unwrap());
    ///     eprintln!("batch size {n}");
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn extra(&self) -> &[u8; BGW_EXTRALEN] {
        &self.extra
    }

    /// The argument the entry point was called with (`bgw_main_arg`).
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn w(w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     eprintln!("shard {}", w.main_arg());
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn main_arg(&self) -> usize {
        self.main_arg
    }

    /// Has a shutdown been requested (an [`Event::Shutdown`] or
    /// [`Event::SupervisorGone`] was seen)? Reads pending signals first,
    /// without waiting.
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn w(mut w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     while !w.shutdown_requested()? {
    ///         // one unit of work
    ///     }
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn shutdown_requested(&mut self) -> Result<bool, Error> {
        self.collect(Some(Duration::ZERO))?;
        Ok(self.shutdown)
    }

    /// Sleep until an event, or at most `timeout` (None: no limit), as
    /// PostgreSQL's WaitLatch with WL_LATCH_SET | WL_EXIT_ON_PM_DEATH
    /// would, but returning what happened. Events that arrive together are
    /// returned one per call, the most urgent first (SupervisorGone,
    /// Shutdown, Reload, Wakeup). Once a shutdown was requested, every
    /// later call returns [`Event::Shutdown`] at once.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Event, Worker};
    /// # use std::time::Duration;
    /// fn w(mut w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     loop {
    ///         match w.wait(Some(Duration::from_millis(500)))? {
    ///             Event::Shutdown | Event::SupervisorGone => return Ok(()),
    ///             Event::Reload => eprintln!("reloading"),
    ///             Event::Wakeup | Event::Timeout => eprintln!("working"),
    ///         }
    ///     }
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Event, Error> {
        if self.pending.is_empty() && !self.shutdown {
            self.collect(timeout)?;
        }
        if self.shutdown && self.pending.is_empty() {
            return Ok(Event::Shutdown);
        }
        Ok(self.take())
    }

    /// The most urgent pending event (Timeout when none).
    fn take(&mut self) -> Event {
        let rank = |e: &Event| match e {
            Event::SupervisorGone => 0,
            Event::Shutdown => 1,
            Event::Reload => 2,
            Event::Wakeup => 3,
            Event::Timeout => 4,
        };
        match self.pending.iter().enumerate().min_by_key(|(_, e)| rank(e)) {
            Some((i, _)) => self.pending.swap_remove(i),
            None => Event::Timeout,
        }
    }

    /// Wait up to `timeout` for a signal or the supervisor's death and
    /// queue what arrived.
    fn collect(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let conn = match self.core {
            Core::Local => Some(backend::current().ok_or(Error::NotConnected)?),
            Core::Foreign { .. } => None,
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            self.drain_signals()?;
            let alive = match (&self.core, conn) {
                (_, Some(c)) => c.supervisor_alive(),
                (
                    Core::Foreign {
                        parent: Some(p), ..
                    },
                    None,
                ) => !pidfd::readable_now(p.as_fd()),
                (Core::Foreign { parent: None, ppid }, None) => parent_pid() == *ppid,
                (Core::Local, None) => false,
            };
            if !alive {
                self.shutdown = true;
                if !self.pending.contains(&Event::SupervisorGone) {
                    self.pending.push(Event::SupervisorGone);
                }
            }
            if !self.pending.is_empty() {
                return Ok(());
            }
            let ms = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(());
                    }
                    // Rounded up, so that a wait never ends early.
                    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = vec![PollFd::new(self.sigfd.as_fd(), PollFlags::POLLIN)];
            let watch = match (&self.core, conn) {
                (_, Some(c)) => c.death_watch(),
                (
                    Core::Foreign {
                        parent: Some(p), ..
                    },
                    None,
                ) => Some(p.as_fd()),
                (_, None) => None,
            };
            if let Some(d) = watch {
                fds.push(PollFd::new(d, PollFlags::POLLIN));
            }
            match poll(&mut fds, ms) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::Io(e.into())),
            }
        }
    }

    /// Read every pending signal from the signalfd into events.
    fn drain_signals(&mut self) -> Result<(), Error> {
        loop {
            match self.sigfd.read_signal() {
                Ok(Some(info)) => {
                    let e = match info.ssi_signo as i32 {
                        libc::SIGTERM => {
                            self.shutdown = true;
                            Event::Shutdown
                        }
                        libc::SIGHUP => Event::Reload,
                        _ => Event::Wakeup,
                    };
                    if !self.pending.contains(&e) {
                        self.pending.push(e);
                    }
                }
                Ok(None) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::Io(e.into())),
            }
        }
    }

    /// Register a dynamic worker from this worker (as a PostgreSQL worker
    /// calls RegisterDynamicBackgroundWorker); the handle lives no longer
    /// than this `Worker`.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Worker, WorkerBuilder};
    /// # use std::time::Duration;
    /// fn parent(w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     let def = WorkerBuilder::new("child").function("child_main").build()?;
    ///     let h = w.register(&def)?;
    ///     let pid = h.wait_for_startup(Duration::from_secs(10))?;
    ///     eprintln!("child runs as {pid}");
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(PARENT = parent);
    /// ```
    ///
    /// A worker in a module loaded by bgworkerd gets
    /// [`Error::Unsupported`]: its copy of the library is not connected to
    /// the supervisor (the C API's RegisterDynamicBackgroundWorker is).
    pub fn register(&self, def: &WorkerDefinition) -> Result<Handle<'_>, Error> {
        if let Core::Foreign { .. } = self.core {
            return Err(Error::Unsupported(
                "a worker in a module loaded by its supervisor cannot register workers through the Rust API (the module's copy of libbgworker is not connected to the supervisor)".into(),
            ));
        }
        let conn = backend::current().ok_or(Error::NotConnected)?;
        register_on(conn, def)
    }

    /// True when this crate's core is the process's (the program runs the
    /// supervisor); false in a module loaded by it.
    pub(crate) fn is_local(&self) -> bool {
        matches!(self.core, Core::Local)
    }

    /// Declare the worker ready (as sd_notify's READY=1): waiters of
    /// [`Handle::wait_for_ready`](super::Handle::wait_for_ready) return, and
    /// its start timeout no longer runs. Repeating it does nothing.
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn server(mut w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     // ... open sockets, load state ...
    ///     w.ready()?;
    ///     while !w.wait(None)?.is_shutdown() {}
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(SERVER = server);
    /// ```
    pub fn ready(&self) -> Result<(), Error> {
        match self.core {
            Core::Local => {
                bgworker_core::backend::supervision::notify_ready().map_err(Error::Rejected)
            }
            Core::Foreign { .. } => call_foreign(c"bgw_notify_ready"),
        }
    }

    /// Check in with the worker's watchdog (see
    /// [`Policy::watchdog`](super::Policy::watchdog)).
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// # use std::time::Duration;
    /// fn w(mut w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     while !w.wait(Some(Duration::from_millis(500)))?.is_shutdown() {
    ///         w.watchdog_checkin()?;
    ///     }
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn watchdog_checkin(&self) -> Result<(), Error> {
        match self.core {
            Core::Local => {
                bgworker_core::backend::supervision::watchdog_checkin().map_err(Error::Rejected)
            }
            Core::Foreign { .. } => call_foreign(c"bgw_watchdog_checkin"),
        }
    }

    /// This worker's process id.
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// fn w(w: Worker) -> Result<(), bgworker::safe::Error> {
    ///     eprintln!("pid {}", w.pid());
    ///     Ok(())
    /// }
    /// bgworker::entry_point!(W = w);
    /// ```
    pub fn pid(&self) -> u32 {
        std::process::id()
    }
}

impl AsRawFd for Worker {
    /// The signalfd the worker's events arrive on, to poll together with
    /// descriptors of the worker's own (readable: call [`Worker::wait`]).
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sigfd.as_raw_fd()
    }
}
