//! The safe Rust API: everything the C API offers, with typed values,
//! `Result`s and lifetimes instead of raw pointers and errno-style
//! failures. The C exports are unchanged; this module sits on the same
//! core.
//!
//! - Definitions: [`WorkerBuilder`] (names checked against PostgreSQL's
//!   limits, [`WorkerFlags`] as bitflags, [`StartTime`] and [`Restart`] as
//!   enums) makes a [`WorkerDefinition`].
//! - Static registration and embedding: [`Supervisor`] (settings, modules,
//!   static workers, [`Supervisor::run`]) with [`Control`] for shutdown.
//! - Dynamic registration: [`Attachment`] (attach to a running bgworkerd
//!   or embedded supervisor) or, inside a worker, [`Worker::register`],
//!   both returning a [`Handle`]: [`Status`], waits bounded by a timeout,
//!   terminate.
//! - Entry points: [`entry_point!`](crate::entry_point) exports a Rust
//!   function `fn(Worker) -> Result<(), E>` under the name the supervisor
//!   looks up; [`Worker`] gives it its definition, `bgw_extra`, and
//!   latch-style waiting that returns [`Event`]s (shutdown requests
//!   included) instead of setting globals.
//! - Supervision beyond PostgreSQL, opt-in: [`Restart::Backoff`] and a
//!   [`Policy`] (give-up limit, start timeout, stop timeout, watchdog) per
//!   worker; [`Worker::ready`] and [`Handle::wait_for_ready`];
//!   [`Worker::watchdog_checkin`]; [`Handle::last_exit`] (even after the
//!   slot was reused); [`Handle::relaunch`] of a failed worker.
//! - Errors: one [`Error`] enum (std::error::Error).
//!
//! A program that runs the supervisor and its workers:
//!
//! ```no_run
//! use bgworker::safe::{Event, Restart, Supervisor, Worker, WorkerBuilder};
//! use std::time::Duration;
//!
//! fn ticker(mut w: Worker) -> Result<(), bgworker::safe::Error> {
//!     loop {
//!         match w.wait(Some(Duration::from_secs(1)))? {
//!             Event::Shutdown | Event::SupervisorGone => return Ok(()),
//!             _ => eprintln!("{}: tick", w.definition().name()),
//!         }
//!     }
//! }
//! bgworker::entry_point!(TICKER = ticker);
//!
//! fn main() -> Result<(), bgworker::safe::Error> {
//!     let mut sup = Supervisor::new()?;
//!     sup.register(
//!         &WorkerBuilder::new("ticker")
//!             .entry(&TICKER)
//!             .restart(Restart::After(Duration::from_secs(5)))
//!             .build()?,
//!     )?;
//!     sup.run(Some("/tmp/ticker-run".as_ref()))
//! }
//! ```
//!
//! (Link such a program with `-rdynamic`, see
//! [`entry_point!`](crate::entry_point).)

mod attach;
mod builder;
mod definition;
mod entry;
mod error;
mod handle;
mod policy;
mod supervisor;
mod worker;

pub use attach::Attachment;
pub use builder::WorkerBuilder;
pub use definition::{Restart, StartTime, WorkerDefinition, WorkerFlags, MAX_RESTART_INTERVAL};
#[doc(hidden)]
pub use entry::run as __run_entry;
pub use entry::EntryPoint;
pub use error::Error;
pub use handle::{Handle, Status};
pub use policy::{
    Backoff, ExitReason, LastExit, Outcome, Policy, WatchdogAction, WorkerState, MAX_DELAY,
};
pub use supervisor::{Control, ShutdownMode, Supervisor};
pub use worker::{Event, Worker};

/// `bgw_extra`'s size (PostgreSQL's `BGW_EXTRALEN`).
///
/// ```
/// assert_eq!(bgworker::safe::BGW_EXTRALEN, 128);
/// ```
pub const BGW_EXTRALEN: usize = bgworker_core::abi::BGW_EXTRALEN;

/// The longest name field plus its terminator (PostgreSQL's `BGW_MAXLEN`).
///
/// ```
/// assert_eq!(bgworker::safe::BGW_MAXLEN, 96);
/// ```
pub const BGW_MAXLEN: usize = bgworker_core::abi::BGW_MAXLEN;
