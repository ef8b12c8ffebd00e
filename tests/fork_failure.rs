//! Fork failure: logged, retried later, not in a tight loop.
//!
//! bgworkerd runs as an unprivileged user with RLIMIT_NPROC = 3 (itself,
//! its sentinel and one worker), so two of its three static workers cannot
//! be forked at first. The limit counts every process of that user, so the
//! user is one no account and no running process has (see `unused_uid`),
//! not nobody, whose processes other tests may run at the same time. Once
//! the test lets the running worker finish, the retries succeed
//! one after the other.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[test]
fn fork_failure_is_logged_and_retried() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Switching to another user needs root; CI runs the suite as root.
        eprintln!(
            "fork_failure_is_logged_and_retried: skipped (needs root to run bgworkerd as another user)"
        );
        return;
    }
    let _w = watchdog(60, "fork_failure_is_logged_and_retried");
    // The unprivileged user runs copies of the daemon and the module from a directory it
    // can reach wherever the checkout is.
    let scratch = shared_scratch_dir("fork_failure");
    let _cleanup_scratch = RemoveOnDrop(scratch.clone());
    let daemon = scratch.join("bgworkerd");
    std::fs::copy(bgworkerd_path(), &daemon).expect("copy bgworkerd");
    std::fs::copy(pgxs_module("ff_module.c"), scratch.join("ff_module.so"))
        .expect("copy the module");
    let rundir = scratch.join("run");
    std::fs::create_dir(&rundir).unwrap();
    let _cleanup = RemoveOnDrop(rundir.clone());
    std::fs::set_permissions(&rundir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let libdir = scratch.to_str().unwrap().to_string();
    let uid = unused_uid();
    let args: Vec<String> = vec![
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "--".into(),
        "prlimit".into(),
        "--nproc=3".into(),
        "--".into(),
        daemon.to_str().unwrap().into(),
        "-D".into(),
        rundir.to_str().unwrap().into(),
        "-c".into(),
        format!("dynamic_library_path={libdir}"),
        "-c".into(),
        "shared_preload_libraries=ff_module".into(),
        "-c".into(),
        "log_min_messages=debug1".into(),
    ];
    let release = rundir.join("release");
    let env = [("FF_RELEASE", release.to_str().unwrap())];
    let p = Proc::spawn(
        Path::new("/usr/bin/setpriv"),
        &args,
        &env,
        "bgworkerd-unprivileged",
    );
    p.wait_line("bgworkerd ready", secs(20));
    p.wait_line("ff: worker", secs(20));
    // Two workers cannot be forked: both fail in the first round, and each
    // is retried about a second later (PostgreSQL retries a failed fork
    // after its restart interval, here 1 s), not at once.
    let fails = p.wait_line_count(
        "could not fork worker process: Resource temporarily unavailable",
        4,
        secs(20),
    );
    let t: Vec<i64> = fails.iter().map(|l| log_timestamp_ms(l)).collect();
    for (first, retry) in [(0, 2), (1, 3)] {
        let gap = t[retry] - t[first];
        assert!(
            (900..=3000).contains(&gap),
            "fork failure {} logged {gap} ms after failure {} (expected about \
             1000 ms: one retry per second); log:\n{}",
            retry + 1,
            first + 1,
            p.text()
        );
    }
    // No tight loop: with two workers waiting, no more than two failures
    // fall within any 900 ms of the whole log so far.
    let all: Vec<i64> = p
        .lines()
        .iter()
        .filter(|l| l.contains("could not fork worker process"))
        .map(|l| log_timestamp_ms(l))
        .collect();
    for w in all.windows(3) {
        assert!(
            w[2] - w[0] >= 900,
            "three fork failures within {} ms: retried in a tight loop; log:\n{}",
            w[2] - w[0],
            p.text()
        );
    }
    assert_eq!(p.count_lines("ff: worker"), 1, "{}", p.text());

    // Let the running worker finish: each retry then finds room.
    std::fs::write(&release, b"go").unwrap();
    p.wait_line_count("ff: worker", 3, secs(20));
    for i in 1..=3 {
        assert_eq!(
            p.count_lines(&format!("ff: worker {i} started")),
            1,
            "{}",
            p.text()
        );
    }
    p.wait_line_count("exited with exit code 0", 3, secs(20));

    p.signal(libc::SIGINT);
    let status = p.wait_exit(secs(20));
    assert_eq!(status.code(), Some(0), "{}", p.text());
    p.wait_line("bgworkerd shut down", secs(5));
}

/// A uid that no account in /etc/passwd names and no running process has,
/// so that RLIMIT_NPROC counts only the daemon under test and its workers.
/// Starts from a point derived from this process's pid so that concurrent
/// runs of the suite pick different ones.
fn unused_uid() -> u32 {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let named: std::collections::HashSet<u32> = passwd
        .lines()
        .filter_map(|l| l.split(':').nth(2)?.parse().ok())
        .collect();
    let mut running = std::collections::HashSet::new();
    for e in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        if let Ok(status) = std::fs::read_to_string(e.path().join("status")) {
            for l in status.lines().filter(|l| l.starts_with("Uid:")) {
                running.extend(
                    l.split_whitespace()
                        .skip(1)
                        .filter_map(|u| u.parse::<u32>().ok()),
                );
            }
        }
    }
    let start = 40_000 + std::process::id() % 10_000;
    (start..start + 10_000)
        .find(|u| !named.contains(u) && !running.contains(u))
        .expect("a free uid between 40000 and 60000")
}

/// Removes the run directory, and the daemon's segment if a failed run
/// left it behind, when the test ends either way.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Ok(text) = std::fs::read_to_string(self.0.join("bgworkerd.pid")) {
            if let Some(seg) = text.lines().nth(1) {
                let _ = std::fs::remove_file(format!("/dev/shm{}", seg.trim()));
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The timestamp parser the retry check relies on, across a day boundary.
#[test]
fn log_timestamps_parse_to_epoch_milliseconds() {
    assert_eq!(
        log_timestamp_ms("2026-11-22 19:50:22.550 UTC [23758] LOG:  x"),
        1_795_377_022_550
    );
    assert_eq!(
        log_timestamp_ms("2024-03-01 00:00:00.100 UTC [1] LOG:  x")
            - log_timestamp_ms("2024-02-29 23:59:59.900 UTC [1] LOG:  x"),
        200
    );
}
