//! A Rust program that is its own background-worker supervisor, with a few
//! workers written in Rust (the safe API, `bgworker::safe`).
//!
//!     cargo run --release --example rust_supervisor -- RUNDIR
//!
//! Workers:
//! - "ticker": a static worker that logs a tick every second until asked to
//!   shut down; restarted 1 s after an unclean exit.
//! - "counter": a static worker that counts to `bgw_main_arg` and is done
//!   (exit 0: not restarted).
//! - "job": registered by nothing here; `rust_attach RUNDIR` (the other
//!   example) attaches to this program and registers it dynamically.
//!
//! Ctrl-C (SIGINT) is a fast shutdown, SIGTERM a smart one, as for
//! bgworkerd. Linked with -rdynamic (see build.rs), so the supervisor finds
//! the entry points by name.

use std::time::Duration;

use bgworker::safe::{Error, Event, Restart, Supervisor, Worker, WorkerBuilder};

fn ticker(mut w: Worker) -> Result<(), Error> {
    let name = w.definition().name();
    eprintln!("example: {name} started pid={}", w.pid());
    let mut n = 0u64;
    loop {
        match w.wait(Some(Duration::from_secs(1)))? {
            Event::Shutdown | Event::SupervisorGone => {
                eprintln!("example: {name} stopping after {n} ticks");
                return Ok(());
            }
            Event::Timeout => {
                n += 1;
                eprintln!("example: {name} tick {n}");
            }
            other => eprintln!("example: {name} got {other:?}"),
        }
    }
}
bgworker::entry_point!(TICKER = ticker);

fn counter(mut w: Worker) -> Result<(), Error> {
    let upto = w.main_arg();
    for i in 1..=upto {
        if w.wait(Some(Duration::from_millis(100)))?.is_shutdown() {
            return Ok(());
        }
        eprintln!("example: counter {i}/{upto}");
    }
    eprintln!("example: counter done");
    Ok(())
}
bgworker::entry_point!(COUNTER = counter);

/// The worker `rust_attach` registers: reports its `bgw_extra`, declares
/// itself ready and waits to be terminated.
fn job(mut w: Worker) -> Result<(), Error> {
    let extra = String::from_utf8_lossy(w.extra());
    eprintln!(
        "example: job \"{}\" started pid={} extra={}",
        w.definition().name(),
        w.pid(),
        extra.trim_end_matches('\0')
    );
    // Beyond PostgreSQL: waiters of wait_for_ready return now.
    w.ready()?;
    while !w.wait(None)?.is_shutdown() {}
    eprintln!("example: job \"{}\" terminated", w.definition().name());
    Ok(())
}
bgworker::entry_point!(pub JOB = job);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rundir = std::env::args()
        .nth(1)
        .ok_or("usage: rust_supervisor RUNDIR")?;
    let mut sup = Supervisor::new()?;
    sup.set("max_worker_processes", "8")?;
    sup.register(
        &WorkerBuilder::new("ticker")
            .entry(&TICKER)
            .restart(Restart::After(Duration::from_secs(1)))
            .build()?,
    )?;
    sup.register(
        &WorkerBuilder::new("counter")
            .entry(&COUNTER)
            .main_arg(3)
            .build()?,
    )?;
    // JOB is registered by rust_attach; the supervisor finds it by name.
    assert!(JOB.is_exported(), "link with -rdynamic");
    eprintln!("example: supervisor starting, run directory {rundir}");
    sup.run(Some(rundir.as_ref()))?;
    eprintln!("example: supervisor shut down");
    Ok(())
}
