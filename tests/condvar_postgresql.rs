//! c-tests/cvb_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! condition variables (signal, broadcast, timed sleeps, cancelling) and
//! barriers (static elections and phases, a dynamic barrier) give the same
//! "cvb:" lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "cvb_module.c", "cvb:", "", &[]);
}
per_major!(
    condition_variables_and_barriers_match_postgresql,
    matches_for
);

/// Sleeping needs a worker's process entry: prepared in the supervisor's
/// shmem_startup_hook, it is an ERROR naming the call, which the supervisor
/// reports as FATAL (as the postmaster does with an ERROR) and stops as
/// on any error in the hook, and nothing is left behind.
#[test]
fn sleeping_outside_a_worker_is_an_error() {
    let _w = watchdog(60, "cvb sleep in startup");
    let m = pgxs_module("cvb_module.c");
    let d = Daemon::builder("cvb-startup")
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .set("cvb.sleep_in_startup", "on")
        .spawn();
    let st = d.wait_exit(secs(30));
    assert_eq!(st.code(), Some(1), "{}", d.log_text());
    d.wait_log(
        "FATAL:  ConditionVariablePrepareToSleep needs a background worker's process entry",
        secs(1),
    );
    assert_eq!(d.count_log("cvb: "), 0, "{}", d.log_text());
    assert!(!d.pid_file().exists(), "pid file left behind");
    assert!(!d.log_text().contains("bgworkerd ready"));
}

/// A worker that leaves with _exit(1), without its clean-up, while it is
/// prepared to sleep stays on the variable's wait list: the supervisor
/// makes that a crash cycle, as PostgreSQL does with any worker that skips
/// its clean-up, and no later signal goes to the departed process.
#[test]
fn worker_leaving_on_a_wait_list_is_a_crash() {
    let _w = watchdog(90, "cvb quit prepared");
    let m = pgxs_module("cvb_module.c");
    let d = Daemon::builder("cvb-quit")
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .set("cvb.quit_prepared", "on")
        .start();
    d.wait_log("exited with exit code 1", secs(30));
    // The leader either is ended by the crash cycle or reports its sleep.
    let deadline = std::time::Instant::now() + secs(30);
    while d.count_log("terminating any other active server processes") == 0
        && d.count_log("cvb: after the quitter") == 0
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        d.count_log("terminating any other active server processes"),
        1,
        "{}",
        d.log_text()
    );
    assert_eq!(d.count_log("cvb: after the quitter"), 0, "{}", d.log_text());
}
