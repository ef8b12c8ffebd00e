//! Children of bgworkerd that are not workers (a module forks in
//! `_PG_init`): reaped like PostgreSQL's postmaster reaps a child it does
//! not know. Exit 0 or 1 is forgotten; anything else is a crash.

mod common;

use common::*;

fn forked_child(d: &Daemon) -> i32 {
    let line = d.wait_log("zc forked child ", secs(20));
    line.rsplit(' ')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

#[test]
fn a_child_that_exits_is_reaped_not_left_a_zombie() {
    let _w = watchdog(60, "a_child_that_exits_is_reaped");
    let m = pgxs_module("zc_module.c");
    let d = Daemon::builder("zc-exit")
        .preload(&[&m])
        .env("ZC_MODE", "exit")
        .set("log_min_messages", "debug1")
        .start();
    let child = forked_child(&d);
    d.wait_log(
        &format!("server process (PID {child}) exited with exit code 0"),
        secs(20),
    );
    assert!(
        wait_until(secs(10), || !std::path::Path::new(&format!(
            "/proc/{child}"
        ))
        .exists()),
        "child {child} was not reaped: {}",
        std::fs::read_to_string(format!("/proc/{child}/status")).unwrap_or_default()
    );
    assert!(!d
        .log_text()
        .contains("terminating any other active server processes"));
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}

#[test]
fn a_child_killed_by_a_signal_starts_a_crash_cycle() {
    let _w = watchdog(60, "a_child_killed_by_a_signal");
    let m = pgxs_module("zc_module.c");
    let d = Daemon::builder("zc-kill")
        .preload(&[&m])
        .env("ZC_MODE", "kill")
        .start();
    let child = forked_child(&d);
    d.wait_log(
        &format!("server process (PID {child}) was terminated by signal 9: Killed"),
        secs(20),
    );
    d.wait_log("terminating any other active server processes", secs(20));
    d.wait_log("all server processes terminated; reinitializing", secs(20));
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}
