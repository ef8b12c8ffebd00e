//! The one error type of the safe API.

use std::fmt;

/// Why a call of the safe API failed. Every fallible call returns
/// `Result<_, Error>`; nothing in the safe API panics across the C
/// boundary (a worker's panic is caught at its entry point, see
/// [`entry_point!`](crate::entry_point)).
///
/// ```
/// use bgworker::safe::{Error, WorkerBuilder};
/// let err = WorkerBuilder::new("").function("f").build().unwrap_err();
/// assert!(matches!(err, Error::InvalidName { field: "name", .. }));
/// assert_eq!(err.to_string(), "invalid worker name: it is empty");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A name of the definition (`name`, `type`, `library`, `function`)
    /// breaks PostgreSQL's limits or cannot be stored as given.
    InvalidName {
        /// Which field: "name", "type", "library" or "function".
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A value of the definition is out of range (`bgw_extra` longer than
    /// `BGW_EXTRALEN`, a restart interval PostgreSQL refuses, ...), or the
    /// definition fails PostgreSQL's own sanity check (its message).
    InvalidDefinition(String),
    /// A supervisor setting was refused (PostgreSQL's message).
    InvalidSetting(String),
    /// A supervision policy value is out of range (negative, absurd, not
    /// a number); the message names it and its range.
    InvalidPolicy(String),
    /// The supervisor's state refuses the request (a stale handle, a
    /// relaunch of a worker that has not failed, no exit record left).
    Rejected(String),
    /// The worker exited before it declared itself ready.
    ExitedBeforeReady,
    /// The worker was killed for exceeding its start timeout before ready.
    StartTimeout,
    /// The process is not attached to a supervisor, nor one of its workers.
    NotConnected,
    /// The call is only meaningful in a worker started by a supervisor.
    NotAWorker,
    /// This process already has a connection to a supervisor (it is
    /// attached, a worker, or runs a supervisor).
    AlreadyConnected,
    /// A supervisor was already created in this process (one per process).
    SupervisorExists,
    /// The supervisor's own process cannot register dynamic workers (as
    /// PostgreSQL's postmaster): register static ones before it runs.
    SupervisorProcess,
    /// Static registration is closed (the supervisor runs already), or the
    /// supervisor refused the definition (its log line says why).
    StaticRegistration(String),
    /// No free worker slot (`max_worker_processes`, or
    /// `max_parallel_workers` for parallel workers).
    NoFreeSlot,
    /// The registration lock stayed held too long (its holder is named).
    LockTimeout(String),
    /// Attaching to a supervisor failed (no daemon, stale pid file, ...).
    Attach(String),
    /// Loading a library failed (PostgreSQL's message and DETAIL).
    Load {
        /// PostgreSQL's message.
        message: String,
        /// PostgreSQL's DETAIL, if any.
        detail: Option<String>,
    },
    /// A worker's entry function is not found in this program: it was not
    /// declared with [`entry_point!`](crate::entry_point), or the program
    /// does not export its symbols (link it with `-rdynamic`).
    EntryNotFound(String),
    /// A wait ran out of time (the worker's state is unchanged).
    Timeout,
    /// The worker stopped (or was never started) while a start was awaited.
    WorkerStopped,
    /// The supervisor is gone.
    SupervisorGone,
    /// The supervisor ended other than by a clean shutdown.
    SupervisorFailed,
    /// What was asked cannot be done in this kind of process (the message
    /// says why).
    Unsupported(String),
    /// A system call failed.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidName { field, reason } => write!(f, "invalid worker {field}: {reason}"),
            Error::InvalidDefinition(m) => write!(f, "invalid worker definition: {m}"),
            Error::InvalidSetting(m) => write!(f, "invalid setting: {m}"),
            Error::InvalidPolicy(m) => write!(f, "invalid supervision policy: {m}"),
            Error::Rejected(m) => f.write_str(m),
            Error::ExitedBeforeReady => {
                f.write_str("the background worker exited before it was ready")
            }
            Error::StartTimeout => f.write_str(
                "the background worker was killed: not ready within its start timeout",
            ),
            Error::NotConnected => {
                f.write_str("this process is not attached to a background worker supervisor")
            }
            Error::NotAWorker => f.write_str("this process is not a background worker"),
            Error::AlreadyConnected => {
                f.write_str("this process is already connected to a background worker supervisor")
            }
            Error::SupervisorExists => {
                f.write_str("a supervisor was already created in this process")
            }
            Error::SupervisorProcess => f.write_str(
                "the supervisor process cannot register dynamic background workers",
            ),
            Error::StaticRegistration(m) => write!(f, "static registration failed: {m}"),
            Error::NoFreeSlot => f.write_str(
                "no free background worker slot (max_worker_processes or max_parallel_workers reached)",
            ),
            Error::LockTimeout(m) => f.write_str(m),
            Error::Attach(m) => write!(f, "could not attach: {m}"),
            Error::Load { message, detail } => match detail {
                Some(d) => write!(f, "{message} ({d})"),
                None => f.write_str(message),
            },
            Error::EntryNotFound(m) => f.write_str(m),
            Error::Timeout => f.write_str("timed out"),
            Error::WorkerStopped => f.write_str("the background worker is stopped"),
            Error::SupervisorGone => f.write_str("the background worker supervisor is gone"),
            Error::SupervisorFailed => f.write_str("the supervisor did not shut down cleanly"),
            Error::Unsupported(m) => f.write_str(m),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
