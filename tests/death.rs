//! A supervisor that dies without warning is noticed by the processes
//! waiting on its workers at once, not at their periodic check: its
//! sentinel (supervisor/sentinel.rs) wakes them and they ask the process
//! itself. And nothing of the sentinel stays: not after a normal stop, not
//! after a SIGKILL (c-tests/death_host.c checks), not in an embedding host
//! (tests/host_embed.rs checks).

mod common;

use common::*;

/// The periodic check a waiter falls back on (backend::DEATH_CHECK).
const PERIODIC_CHECK_MS: f64 = 100.0;

#[test]
fn a_waiter_learns_of_a_killed_supervisor_well_within_its_periodic_check() {
    let _w = watchdog(120, "a_waiter_learns_of_a_killed_supervisor");
    let module = pgxs_module("lc_workers.c");
    let exe = host_program_with("death_host.c", &["-pthread"]);
    let scratch = Scratch::new("death-detect");
    let rounds = 7;
    let (st, out) = run_host(
        &exe,
        &[
            bgworkerd_path().display().to_string(),
            scratch.display().to_string(),
            module.display().to_string(),
            "lc_main".into(),
            "0".into(),
            "loop".into(),
            rounds.to_string(),
        ],
        &[],
        secs(100),
    );
    assert!(st.success(), "death_host: {}\n{out}", describe_status(&st));
    let mut lat: Vec<f64> = out
        .lines()
        .filter(|l| l.contains("round "))
        .map(|l| {
            assert!(l.contains("status=POSTMASTER_DIED"), "{l}");
            field(l, "latency_ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no latency in {l}"))
        })
        .collect();
    assert_eq!(lat.len(), rounds, "{out}");
    lat.sort_by(f64::total_cmp);
    let median = lat[rounds / 2];
    // Generous (a loaded machine): a poll would give about 100 ms.
    assert!(
        median < PERIODIC_CHECK_MS / 2.0,
        "median {median} ms to notice a SIGKILLed supervisor (all: {lat:?})\n{out}"
    );
    assert!(
        out.contains("leftover_processes 0 count"),
        "a worker or sentinel outlived its supervisor:\n{out}"
    );
}

#[test]
fn the_sentinel_is_gone_after_a_normal_stop() {
    let _w = watchdog(60, "the_sentinel_is_gone_after_a_normal_stop");
    let d = plain_daemon("sentinel-stop", &[]);
    let s = sentinel_of(&d);
    // It holds nothing of the supervisor's: no pid-file lock, no terminal.
    // (It closes the rest just after naming itself.)
    let fds = || -> Vec<_> {
        std::fs::read_dir(format!("/proc/{s}/fd"))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    wait_until(secs(10), || fds().len() == 2);
    let fds = fds();
    assert_eq!(fds.len(), 2, "the sentinel keeps 2 descriptors: {fds:?}");
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
    assert!(
        wait_pids_gone(&[s], secs(5)).is_empty(),
        "sentinel {s} outlived a clean stop"
    );
}

#[test]
fn a_killed_sentinel_is_replaced_and_is_no_crash() {
    let _w = watchdog(60, "a_killed_sentinel_is_replaced");
    let d = plain_daemon("sentinel-kill", &[]);
    let s = sentinel_of(&d);
    // SAFETY: kill of the test's own grandchild, by pid.
    unsafe { libc::kill(s, libc::SIGKILL) };
    d.wait_log(
        &format!("supervisor sentinel (PID {s}) was terminated by signal 9"),
        secs(20),
    );
    assert!(
        wait_until(secs(10), || child_named(d.pid(), "bgw_sentinel")
            .is_some_and(|n| n != s)),
        "no new sentinel"
    );
    assert_no_crash_cycle(&d);
    // Signals to the whole process group (a terminal's Ctrl-C) leave it
    // alone: the supervisor stops, the sentinel goes with it.
    let s2 = child_named(d.pid(), "bgw_sentinel").unwrap();
    // SAFETY: the daemon's own process group (the harness gives it one).
    unsafe { libc::kill(-d.pid(), libc::SIGINT) };
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
    assert_eq!(
        d.count_log("supervisor sentinel"),
        1,
        "the group's SIGINT ended the sentinel:\n{}",
        d.log_text()
    );
    assert!(wait_pids_gone(&[s2], secs(5)).is_empty());
}

/// The daemon's sentinel child. It names itself just after it is cloned,
/// so a look right after "ready" may still see the supervisor's name: wait
/// for it (generous, for a loaded machine or a sanitizer build).
fn sentinel_of(d: &Daemon) -> i32 {
    let mut found = None;
    wait_until(secs(10), || {
        found = child_named(d.pid(), "bgw_sentinel");
        found.is_some()
    });
    found.expect("bgworkerd has a sentinel child")
}

#[test]
fn a_worker_keeps_none_of_the_supervisors_descriptors_but_the_death_pipe() {
    let _w = watchdog(60, "a_worker_keeps_none_of_the_supervisors_descriptors");
    let module = pgxs_module("lc_workers.c");
    // With log_file, the supervisor also keeps its original stderr aside.
    let d = Daemon::builder("worker-fds")
        .preload(&[&module])
        .env("LC_STATIC", "fds_a||-1|0|loop")
        .set("log_file", "bgworkerd.log")
        .spawn();
    let log = d.rundir().join("bgworkerd.log");
    assert!(
        wait_until(secs(20), || std::fs::read_to_string(&log)
            .is_ok_and(|t| t.contains(&start_needle("fds_a")))),
        "worker fds_a did not start; stderr: {}",
        d.log_text()
    );
    let worker = child_named(d.pid(), "fds_a").expect("worker fds_a runs");
    let held = supervisor_fds_in(worker, d.pid());
    assert!(
        held.is_empty(),
        "worker {worker} holds descriptors of supervisor {}: {held:?}",
        d.pid()
    );
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}
