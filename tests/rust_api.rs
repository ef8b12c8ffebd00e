//! The safe Rust API (`bgworker::safe`) end to end: this test binary is
//! also the program under test. Run with `RSAPI_HOST=SCENARIO`, it embeds
//! the supervisor ([`Supervisor`]) with workers written in Rust
//! ([`bgworker::entry_point!`], named `rsapi_*`, which build.rs exports
//! from the test binaries), and the tests attach to it ([`Attachment`]) to
//! register, watch and terminate dynamic workers: register, run, crash,
//! restart, stop, bad input. The examples (`rust_supervisor`,
//! `rust_attach`) run here too.
//!
//! A custom harness (`harness = false`): the supervisor must run in the
//! program's main thread, where process-directed signals (SIGINT, SIGTERM)
//! reach its signalfd, as in a real program. Tests run one after another,
//! each under the watchdog; names given on the command line select tests.
//!
//! Files: rust_api/program.rs (the program under test: workers and
//! supervisor scenarios), rust_api/basics.rs, rust_api/examples.rs and
//! rust_api/supervision.rs (the tests); here the harness and the host.

#[path = "rust_api/basics.rs"]
mod basics;
mod common;
#[path = "rust_api/examples.rs"]
mod examples;
#[path = "rust_api/program.rs"]
mod program;
#[path = "rust_api/supervision.rs"]
mod supervision;

use basics::*;
use common::*;
use examples::*;
use program::host_main;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use supervision::*;

use bgworker::safe::{
    Attachment, Backoff, Error, Event, ExitReason, Outcome, Policy, Restart, Status, Supervisor,
    WatchdogAction, Worker, WorkerBuilder, WorkerFlags, WorkerState, MAX_DELAY,
};

// ---------------------------------------------------------------------------
// The host the tests start
// ---------------------------------------------------------------------------

pub(crate) struct Host {
    pub(crate) proc_: Proc,
    pub(crate) dir: PathBuf,
}

impl Host {
    pub(crate) fn start(scenario: &str) -> Host {
        let dir = fresh_dir(&format!("rsapi-{scenario}"));
        let exe = std::env::current_exe().expect("current_exe");
        let d = dir.display().to_string();
        let proc_ = Proc::spawn(
            &exe,
            &[] as &[&str],
            &[("RSAPI_HOST", scenario), ("RSAPI_RUNDIR", &d)],
            &format!("rsapi-{scenario}"),
        );
        proc_.wait_line("bgworkerd ready", secs(20));
        Host { proc_, dir }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // SAFETY: kill(2) of the process group Proc made for the host.
        unsafe { libc::kill(-self.proc_.pid(), libc::SIGKILL) };
        let _ = self.proc_.wait_exit(secs(10));
        let _ = fs::remove_file(format!("/dev/shm/bgworker.{}", self.proc_.pid()));
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn send_signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) of a worker pid this test read from its own host.
    unsafe { libc::kill(pid, sig) };
}

fn main() {
    if let Ok(scenario) = std::env::var("RSAPI_HOST") {
        std::process::exit(host_main(&scenario));
    }
    let tests: &[(&str, fn())] = &[
        ("builder_refuses_bad_input", builder_refuses_bad_input),
        (
            "attach_refuses_without_supervisor",
            attach_refuses_without_supervisor,
        ),
        ("end_to_end", end_to_end),
        ("supervisor_refuses_bad_input", supervisor_refuses_bad_input),
        ("examples_run", examples_run),
        (
            "module_worker_under_bgworkerd",
            module_worker_under_bgworkerd,
        ),
        ("policy_refuses_bad_input", policy_refuses_bad_input),
        ("supervision_end_to_end", supervision_end_to_end),
    ];
    // As libtest: arguments select tests by substring, `--skip PATTERN`
    // leaves tests out, `--list` lists them; its other options
    // (--test-threads=N, --nocapture, ...) are accepted and ignored.
    let mut filters: Vec<String> = Vec::new();
    let mut skips: Vec<String> = Vec::new();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--skip" {
            skips.extend(args.next());
        } else if let Some(v) = a.strip_prefix("--skip=") {
            skips.push(v.to_string());
        } else if a == "--list" {
            list = true;
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    let tests: Vec<&(&str, fn())> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|x| name.contains(x.as_str())))
        .filter(|(name, _)| !skips.iter().any(|x| name.contains(x.as_str())))
        .collect();
    if list {
        for (name, _) in &tests {
            println!("{name}: test");
        }
        return;
    }
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, f) in tests {
        ran += 1;
        println!("test {name} ...");
        let t0 = std::time::Instant::now();
        match std::panic::catch_unwind(f) {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", t0.elapsed().as_secs_f64()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        ran - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(101);
    }
}
