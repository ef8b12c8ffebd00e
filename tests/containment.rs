//! worker_containment: with `descendants`, what a worker leaves behind (a
//! child, a double-forked setsid() grandchild) goes when the worker exits
//! and at daemon stop; with the default `none`, PostgreSQL's behaviour:
//! they live on. The supervisor's own children (a module forks in
//! `_PG_init`) keep PostgreSQL's rules either way (tests/children.rs).
//! The worker is c-tests/cn_module.c's cn_forker.

mod common;

use common::*;

/// Processes a test must end whatever happens (they may have escaped the
/// daemon's process group with setsid): SIGKILL by pid on drop.
struct KillOnDrop(Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &p in &self.0 {
            if pid_alive(p) {
                // SAFETY: kill by pid of a process this test made.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
    }
}

fn marker_pid(d: &Daemon, needle: &str) -> i32 {
    let l = d.wait_log(needle, secs(20));
    field(&l, "pid")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {l:?}"))
}

/// The forker's child and grandchild, once the forker said it is done.
fn left_behind(d: &Daemon) -> (i32, i32, i32) {
    let child = marker_pid(d, "marker: cn child pid=");
    let grandchild = marker_pid(d, "marker: cn grandchild pid=");
    let forker = marker_pid(d, "marker: cn forker done pid=");
    (forker, child, grandchild)
}

fn daemon(name: &str, mode: &str, containment: Option<&str>) -> Daemon {
    let m = pgxs_module("cn_module.c");
    let mut b = Daemon::builder(name)
        .preload(&[&m])
        .env("CN_MODE", mode)
        .set("log_min_messages", "debug1");
    if let Some(c) = containment {
        b = b.set("worker_containment", c);
    }
    b.start()
}

#[test]
fn with_descendants_a_double_forked_grandchild_goes_when_its_worker_exits() {
    let _w = watchdog(60, "containment_worker_exit");
    let d = daemon("cn-exit", "exit", Some("descendants"));
    let (forker, child, grandchild) = left_behind(&d);
    let _k = KillOnDrop(vec![child, grandchild]);
    // The grandchild left the daemon's session: only containment finds it.
    let l = d.wait_log("marker: cn grandchild pid=", secs(1));
    // SAFETY: getsid has no preconditions.
    let daemon_sid = unsafe { libc::getsid(d.pid()) };
    assert_ne!(field_i64(&l, "sid"), daemon_sid as i64, "{l}");
    d.wait_log(
        &format!("background worker \"cn_forker\" (PID {forker}) exited with exit code 0"),
        secs(20),
    );
    let left = wait_pids_gone(&[child, grandchild], secs(10));
    assert!(
        left.is_empty(),
        "left behind by the exited worker: {left:?}"
    );
    // Reaped by bgworkerd (no zombie), silently: no crash cycle.
    assert!(
        wait_until(secs(10), || !std::path::Path::new(&format!(
            "/proc/{grandchild}"
        ))
        .exists()),
        "grandchild {grandchild} not reaped"
    );
    assert_no_crash_cycle(&d);
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}

#[test]
fn with_descendants_what_a_crashed_worker_left_goes_too() {
    let _w = watchdog(60, "containment_worker_crash");
    let d = daemon("cn-crash", "crash", Some("descendants"));
    let (forker, child, grandchild) = left_behind(&d);
    let _k = KillOnDrop(vec![child, grandchild]);
    d.wait_log(
        &format!("background worker \"cn_forker\" (PID {forker}) exited with exit code 2"),
        secs(20),
    );
    d.wait_log("all server processes terminated; reinitializing", secs(20));
    let left = wait_pids_gone(&[child, grandchild], secs(10));
    assert!(
        left.is_empty(),
        "left behind by the crashed worker: {left:?}"
    );
    // One crash cycle (the worker's), none for the processes killed.
    std::thread::sleep(millis(300));
    assert_eq!(
        d.count_log("terminating any other active server processes"),
        1,
        "{}",
        d.log_text()
    );
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}

#[test]
fn with_descendants_what_a_running_worker_left_goes_at_daemon_stop() {
    let _w = watchdog(60, "containment_daemon_stop");
    let d = daemon("cn-stop", "stay", Some("descendants"));
    let (forker, child, grandchild) = left_behind(&d);
    let _k = KillOnDrop(vec![child, grandchild]);
    // While the worker runs, what it started is its own business.
    std::thread::sleep(millis(300));
    assert!(pid_alive(child) && pid_alive(grandchild));
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
    // Gone before bgworkerd exited.
    assert!(!pid_alive(forker));
    assert!(!pid_alive(child), "child {child} outlived bgworkerd");
    assert!(
        !pid_alive(grandchild),
        "grandchild {grandchild} outlived bgworkerd"
    );
    assert_no_crash_cycle(&d);
}

#[test]
fn without_containment_what_a_worker_left_outlives_it_as_under_a_postmaster() {
    let _w = watchdog(60, "containment_none");
    let d = daemon("cn-none", "exit", None);
    let (forker, child, grandchild) = left_behind(&d);
    let _k = KillOnDrop(vec![child, grandchild]);
    d.wait_log(
        &format!("background worker \"cn_forker\" (PID {forker}) exited with exit code 0"),
        secs(20),
    );
    std::thread::sleep(millis(500));
    assert!(pid_alive(child) && pid_alive(grandchild));
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
    std::thread::sleep(millis(200));
    assert!(
        pid_alive(grandchild),
        "PostgreSQL's behaviour: the setsid grandchild outlives the daemon"
    );
}

#[test]
fn with_descendants_the_supervisors_own_child_keeps_the_postmaster_rules() {
    let _w = watchdog(60, "containment_own_child");
    let m = pgxs_module("zc_module.c");
    let d = Daemon::builder("cn-own")
        .preload(&[&m])
        .env("ZC_MODE", "kill")
        .set("worker_containment", "descendants")
        .start();
    let line = d.wait_log("zc forked child ", secs(20));
    let child: i32 = line
        .rsplit(' ')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    // Not killed as a worker's descendant: it dies by its own SIGKILL
    // after 300 ms, and that is a crash (the postmaster's rule for a child it does not know), not a silent reap.
    d.wait_log(
        &format!("server process (PID {child}) was terminated by signal 9: Killed"),
        secs(20),
    );
    d.wait_log("all server processes terminated; reinitializing", secs(20));
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}

#[test]
fn worker_containment_takes_only_none_or_descendants() {
    let _w = watchdog(60, "worker_containment_values");
    let d = Daemon::builder("cn-bad")
        .set("worker_containment", "cgroup")
        .spawn();
    let st = d.wait_exit(secs(10));
    assert!(!st.success());
    d.wait_log(
        "invalid value for parameter \"worker_containment\": \"cgroup\"",
        secs(1),
    );
    d.wait_log("Available values: none, descendants.", secs(1));
    assert!(!d.pid_file().exists());
}
