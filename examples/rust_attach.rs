//! A Rust program that attaches to a running supervisor (bgworkerd, or the
//! `rust_supervisor` example), registers a worker, waits for it to start,
//! terminates it and waits for it to stop -- with the safe API.
//!
//!     cargo run --release --example rust_attach -- RUNDIR [LIBRARY FUNCTION]
//!
//! Without LIBRARY and FUNCTION it registers `job` of the supervisor
//! program itself (library ""), which `rust_supervisor` defines.

use std::time::Duration;

use bgworker::safe::{Attachment, WorkerBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rundir = args
        .next()
        .ok_or("usage: rust_attach RUNDIR [LIBRARY FUNCTION]")?;
    let library = args.next();
    let function = args.next();
    // rust_supervisor's own job declares itself ready; other functions may
    // not (PostgreSQL's modules never do), so for them "started" is all.
    let wait_ready = library.is_none();
    let library = library.unwrap_or_default();
    let function = function.unwrap_or_else(|| "job".into());

    let sup = Attachment::attach(&rundir)?;
    println!("attached: supervisor pid={}", sup.supervisor_pid());
    let def = WorkerBuilder::new("attached job")
        .worker_type("job")
        .library(&library)
        .function(&function)
        .extra(b"from rust_attach")?
        .build()?;
    let h = sup.register(&def)?;
    let pid = h.wait_for_startup(Duration::from_secs(20))?;
    println!(
        "started: pid={pid} slot={} status={:?}",
        h.slot(),
        h.status()
    );
    if wait_ready {
        // Beyond PostgreSQL: "started" is not "ready".
        let pid = h.wait_for_ready(Duration::from_secs(20))?;
        println!("ready: pid={pid}");
    }
    h.terminate()?;
    h.wait_for_shutdown(Duration::from_secs(20))?;
    println!("stopped: status={:?}", h.status());
    // Beyond PostgreSQL: how it ended, readable even after its slot is reused.
    if let Some(e) = h.last_exit()? {
        println!(
            "last exit: outcome={:?} reason={:?} starts={}",
            e.outcome, e.reason, e.starts
        );
    }
    Ok(())
}
