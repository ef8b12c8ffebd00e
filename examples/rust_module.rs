//! A worker written in Rust as a module (a cdylib) that bgworkerd loads,
//! the way it loads a PostgreSQL module: `bgw_library_name` names the
//! library (`librust_module`, found on `dynamic_library_path`),
//! `bgw_function_name` the entry point `entry_point!` exports.
//!
//!     cargo build --release --example rust_module
//!     bgworkerd -D RUNDIR -c dynamic_library_path=target/release/examples
//!     target/release/examples/rust_attach RUNDIR librust_module rust_module_main
//!
//! The worker logs who it is and its `bgw_extra`, declares itself ready,
//! then waits for SIGTERM.
//! With `bgw_main_arg` 1 it fails at once instead (an error is logged and
//! it exits with status 1, so bgworkerd restarts it after its restart
//! interval); with 2 it tries to register a worker of its own, which a
//! module's copy of the library cannot do, and reports the error. (Built
//! with crate-type cdylib, see Cargo.toml.)

use bgworker::safe::{Error, Event, Worker, WorkerBuilder};

fn rust_module_main(mut w: Worker) -> Result<(), Error> {
    match w.main_arg() {
        1 => return Err(Error::Unsupported("asked to fail (bgw_main_arg 1)".into())),
        2 => {
            let def = WorkerBuilder::new("child")
                .function("rust_module_main")
                .build()?;
            let e = w.register(&def).unwrap_err();
            eprintln!("rust_module: register: {e}");
            return Ok(());
        }
        _ => {}
    }
    let extra = String::from_utf8_lossy(w.extra())
        .trim_end_matches('\0')
        .to_string();
    eprintln!(
        "rust_module: \"{}\" started pid={} extra={extra}",
        w.definition().name(),
        w.pid()
    );
    // Beyond PostgreSQL: waiters of wait_for_ready return now.
    w.ready()?;
    loop {
        match w.wait(None)? {
            Event::Shutdown | Event::SupervisorGone => break,
            other => eprintln!("rust_module: got {other:?}"),
        }
    }
    eprintln!("rust_module: \"{}\" stopping", w.definition().name());
    Ok(())
}
bgworker::entry_point!(MAIN = rust_module_main);
