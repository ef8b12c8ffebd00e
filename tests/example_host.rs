//! examples/host_example.c, built by `make examples` (part of `make`),
//! against a real bgworkerd running examples/lifecycle_demo.c: it attaches,
//! registers a worker, sees it start, terminates it, sees it stop and
//! detaches; and where the library refuses, it prints bgw_last_error() and
//! exits 1 while the daemon carries on. (tests/install.rs builds the same
//! program against an installed library with pkg-config.) And `make run`
//! in a terminal: Ctrl-C stops bgworkerd cleanly and make reports no
//! interrupted recipe.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build the example with the Makefile's own target; its path.
fn example() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Command::new("make")
                .current_dir(repo_root())
                .args(["-s", "examples"])
                .output()
                .expect("run make examples");
            assert!(
                out.status.success(),
                "make examples failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let exe = repo_root().join("target/examples/host_example");
            assert!(
                exe.is_file(),
                "make examples did not build {}",
                exe.display()
            );
            exe
        })
        .clone()
}

/// A daemon running lifecycle_demo as `make run` does.
fn demo_daemon(name: &str, settings: &[(&str, &str)]) -> Daemon {
    let m = pgxs_module(
        repo_root()
            .join("examples/lifecycle_demo.c")
            .to_str()
            .unwrap(),
    );
    let libdir = m.parent().unwrap().display().to_string();
    Daemon::builder(name)
        .set("dynamic_library_path", &libdir)
        .set("shared_preload_libraries", "lifecycle_demo")
        .settings(settings)
        .start()
}

#[test]
fn host_example_starts_and_stops_a_worker() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_example_starts_and_stops_a_worker");
    let exe = example();
    let d = demo_daemon("example-host", &[]);
    let rundir = d.rundir().display().to_string();
    let (st, out) = run_host(&exe, &[rundir.as_str()], &[], secs(30));
    assert_eq!(st.code(), Some(0), "{}:\n{out}", describe_status(&st));
    let pid: i32 = out
        .lines()
        .find_map(|l| l.split("worker started, pid ").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in:\n{out}"));
    let want = [
        format!("attached to the bgworkerd on {rundir}"),
        "registered worker \"host example worker\" (lifecycle_demo:demo_flaky_main)".to_string(),
        format!("worker started, pid {pid}"),
        "terminate requested".to_string(),
        "worker stopped".to_string(),
        "detached".to_string(),
    ];
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, want, "output:\n{out}");
    // bgworkerd's side: the worker ran and ended through SIGTERM.
    d.wait_log_all(
        &[
            "FATAL:  terminating background worker \"host example\" due to administrator command",
            &format!("[{pid}]"),
        ],
        secs(5),
    );
    d.wait_log(
        &format!("background worker \"host example\" (PID {pid}) exited with exit code 1"),
        secs(5),
    );
    assert!(!pid_alive(pid), "worker {pid} still runs");
    assert_no_crash_cycle(&d);
}

#[test]
fn host_example_reports_errors_and_exits_1() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_example_reports_errors_and_exits_1");
    let exe = example();
    // No daemon on that directory.
    let empty = Scratch::new("example-nodaemon");
    let shown = empty.display().to_string();
    let (st, out) = run_host(&exe, &[shown.as_str()], &[], secs(10));
    assert_eq!(st.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "host_example: cannot attach: no bgworkerd is running on \"{shown}\""
        )),
        "{out}"
    );
    // No free slot: the registration is refused, the host detaches.
    let d = plain_daemon("example-noslot", &[("max_worker_processes", "0")]);
    let rundir = d.rundir().display().to_string();
    let (st, out) = run_host(&exe, &[rundir.as_str()], &[], secs(10));
    assert_eq!(st.code(), Some(1), "{out}");
    assert!(
        out.contains("host_example: cannot register the worker: no free background worker slot"),
        "{out}"
    );
    assert!(out.contains("detached"), "{out}");
    assert!(
        d.try_exit().is_none(),
        "bgworkerd exited:\n{}",
        d.log_text()
    );
    // Wrong usage.
    let (st, out) = run_host(&exe, &["a", "b"], &[], secs(10));
    assert_eq!(st.code(), Some(2), "{out}");
    assert!(out.contains("usage:"), "{out}");
}

/// Kills (by the pid its pid file names, if that process is still a
/// bgworkerd) a daemon a failed test left running, and removes its segment.
struct RunDirGuard(PathBuf);

impl Drop for RunDirGuard {
    fn drop(&mut self) {
        let Ok(text) = std::fs::read_to_string(self.0.join("bgworkerd.pid")) else {
            return;
        };
        let mut lines = text.lines();
        if let Some(pid) = lines.next().and_then(|l| l.trim().parse::<i32>().ok()) {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe.file_name().is_some_and(|n| n == "bgworkerd") {
                // SAFETY: kill(2) of the pid the run directory's pid file names.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Some(seg) = lines.next() {
            let _ = std::fs::remove_file(format!("/dev/shm{}", seg.trim()));
        }
    }
}

#[test]
fn make_run_stops_quietly_on_ctrl_c() {
    if !Tmux::available() {
        panic!("tmux is needed for this test (make test installs it, or: apt-get install -y tmux)");
    }
    let _w = watchdog(120, "make_run_stops_quietly_on_ctrl_c");
    let dir = Scratch::new("make-run");
    let rundir = dir.join("run");
    let _guard = RunDirGuard(rundir.clone());
    let log = dir.join("make.log");
    let done = dir.join("done");
    // The wrapper's trap runs a command, so SIGINT keeps its default
    // disposition in make and below, as in an interactive shell; it lets
    // the wrapper outlive the Ctrl-C to record make's exit status.
    let command = format!(
        "bash -c 'trap \"echo wrapper-int\" INT; cd {root} && RUNDIR={run} make run > {log} 2>&1; echo make-exit=$? > {done}; sleep 60'",
        root = repo_root().display(),
        run = rundir.display(),
        log = log.display(),
        done = done.display()
    );
    let t = Tmux::start(&dir, 100, 30, &command);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(secs(90), || read().contains("bgworkerd ready")),
        "make run did not start bgworkerd:\n{}",
        read()
    );
    // The example module's supervisor is running: a worker exists.
    assert!(
        wait_until(secs(10), || read().contains("demo:  supervisor up")),
        "{}",
        read()
    );
    let pid = pid_in_rundir(&rundir);
    t.send_keys(&["C-c"]);
    assert!(
        wait_until(secs(20), || done.exists()),
        "make run did not end on Ctrl-C:\n{}\nscreen:\n{}",
        read(),
        t.screen()
    );
    assert!(wait_until(secs(5), || std::fs::read_to_string(&done)
        .is_ok_and(|s| s.ends_with('\n'))));
    let status = std::fs::read_to_string(&done).unwrap();
    let out = read();
    assert!(
        out.contains("received fast shutdown request") && out.contains("bgworkerd shut down"),
        "{out}"
    );
    assert!(out.contains("bgworkerd stopped (Ctrl-C)"), "{out}");
    assert!(
        !out.contains("make: ***") && !out.contains("Interrupt"),
        "make reported the recipe:\n{out}"
    );
    // make itself ends on the same SIGINT (130) once the recipe succeeded;
    // a failed recipe would be make's status 2.
    assert!(
        matches!(status.trim(), "make-exit=130" | "make-exit=0"),
        "{status}{out}"
    );
    assert!(!pid_alive(pid), "bgworkerd {pid} still runs");
    assert!(
        !rundir.join("bgworkerd.pid").exists(),
        "pid file left behind"
    );
    let seg = format!("/dev/shm/bgworker.{pid}");
    assert!(!Path::new(&seg).exists(), "{seg} left behind");
}
