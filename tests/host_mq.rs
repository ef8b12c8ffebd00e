//! The host queue API (include/bgworker_mq.h) in plain C programs attached
//! to a real bgworkerd: examples/mq_host.c (built by `make examples`)
//! creates a segment with queues, starts workers of examples/mq_worker.c
//! with its handle, streams messages of 1 byte to three times a ring both
//! ways, and notices a worker it SIGKILLs through its queues; c-tests/
//! mq_bad.c feeds the API bad handles, sizes, places and roles and a peer
//! that never attaches, and each is a failure value with a message while
//! the program goes on. And the header declares exactly the export table's
//! rows of its block.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// `make examples`; the directory holding mq_host and mq_worker.so.
fn examples() -> PathBuf {
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
            let dir = repo_root().join("target/examples");
            for f in ["mq_host", "mq_worker.so"] {
                assert!(dir.join(f).is_file(), "make examples did not build {f}");
            }
            dir
        })
        .clone()
}

fn daemon(name: &str) -> Daemon {
    let dir = examples();
    Daemon::builder(name)
        .set("dynamic_library_path", dir.to_str().unwrap())
        .start()
}

/// Only the control segment is left once the crash cycle is over.
fn only_control_left(d: &Daemon) {
    let deadline = std::time::Instant::now() + secs(20);
    loop {
        let left = dynamic_segments(d.pid());
        if left.len() <= 1 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dynamic segments left behind: {left:?}\n{}",
            d.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn mq_host_streams_both_ways_and_notices_a_killed_worker() {
    let _w = watchdog(DEFAULT_WATCHDOG, "mq_host_streams_both_ways");
    let dir = examples();
    let d = daemon("mq-host");
    let rundir = d.rundir().display().to_string();
    let (st, out) = run_host(
        &dir.join("mq_host"),
        &[rundir.as_str(), "2", "300"],
        &[],
        secs(45),
    );
    assert_eq!(
        st.code(),
        Some(0),
        "{}:\n{out}\n{}",
        describe_status(&st),
        d.log_text()
    );
    for want in [
        "2 workers attached",
        "300 messages of 1 to 49152 bytes echoed by each worker",
        "worker 1 killed: its queues report it detached",
        "done",
    ] {
        assert!(out.lines().any(|l| l == want), "no {want:?} in:\n{out}");
    }
    assert!(out.contains("created segment "), "{out}");
    // The daemon lives on (the SIGKILL was a crash cycle), and the
    // segment is gone.
    assert!(pid_alive(d.pid()), "{}", d.log_text());
    only_control_left(&d);
}

#[test]
fn mq_bad_input_fails_with_messages_and_nothing_else_breaks() {
    let _w = watchdog(DEFAULT_WATCHDOG, "mq_bad_input");
    examples();
    let exe = host_program("mq_bad.c");
    let d = daemon("mq-bad");
    let rundir = d.rundir().display().to_string();
    let (st, out) = run_host(&exe, &[rundir.as_str()], &[], secs(45));
    assert_eq!(
        st.code(),
        Some(0),
        "{}:\n{out}\n{}",
        describe_status(&st),
        d.log_text()
    );
    let line = |prefix: &str| -> String {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{out}"))
            .to_string()
    };
    let cases: &[(&str, &str)] = &[
        ("create unattached: 0: ", "bgw_segment_create: this process is not a worker nor attached to a background worker supervisor (bgw_attach)"),
        ("attach handle 0: 0: ", "bgw_segment_attach: dynamic shared memory segment 0 does not exist (never created, or destroyed)"),
        ("attach never created: 0: ", "bgw_segment_attach: dynamic shared memory segment 2074996749 does not exist (never created, or destroyed)"),
        ("create 0 bytes: 0: ", "bgw_segment_create: cannot create a segment of 0 bytes"),
        ("create SIZE_MAX bytes: 0: ", "bgw_segment_create: cannot create a segment of 18446744073709551615 bytes"),
        ("handle of NULL: 0: ", "bgw_segment_handle: segment is NULL"),
        ("detach NULL: -1: ", "bgw_segment_detach: segment is NULL"),
        ("queue too small: -1: ", "shared memory queue of 56 bytes is smaller than shm_mq_minimum_size (64 bytes)"),
        ("queue misaligned: -1: ", "bgw_mq_create: offset 4 is not a multiple of 8"),
        ("queue beyond segment: -1: ", "bgw_mq_create: 1024 bytes at offset 32256 do not fit in a segment of 32768 bytes"),
        ("queue in NULL segment: -1: ", "bgw_mq_create: segment is NULL"),
        ("attach bad role: 0: ", "bgw_mq_attach: role 3 is neither BGW_MQ_SENDER nor BGW_MQ_RECEIVER"),
        ("sender twice: 0: ", "shared memory queue already has a sender"),
        ("send on NULL: -1: ", "bgw_mq_send: queue handle is NULL"),
        ("receive on NULL: -1: ", "bgw_mq_receive: queue handle is NULL"),
        ("send NULL data: -1: ", "bgw_mq_send: data is NULL"),
        ("send too large: -1: ", "cannot send a message of size 1073741824 via shared memory queue"),
        ("set peer twice: -1: ", "shared memory queue handle already has a background worker handle"),
    ];
    for (prefix, msg) in cases {
        assert_eq!(line(prefix), format!("{prefix}{msg}"), "\n{out}");
    }
    let destroyed = line("attach destroyed: 0: ");
    assert!(
        destroyed.ends_with("does not exist (never created, or destroyed)"),
        "{out}"
    );
    let unformatted = line("attach unformatted: 0: ");
    assert!(
        unformatted.starts_with("attach unformatted: 0: shared memory queue at ")
            && unformatted.ends_with(" is corrupt"),
        "{out}"
    );
    // No receiver yet and the ring cannot hold it: would block (1).
    assert!(out.contains("send nowait, no receiver: 1: "), "{out}");
    // The worker that never attaches: detached (2), through its handle.
    assert!(
        out.contains("wait for a worker that never attaches: 2\n"),
        "{out}"
    );
    assert!(
        out.contains("receive from a worker that never attaches: 2\n"),
        "{out}"
    );
    assert!(out.contains("receive nowait, nothing sent: 1\n"), "{out}");
    assert!(out.contains("roundtrip ok\n"), "{out}");
    // BGWH_STOPPED: the echo worker saw us leave and finished.
    assert!(out.contains("worker after we left: 2\n"), "{out}");
    assert!(pid_alive(d.pid()));
    d.wait_log("mq_worker 0: echoed 1 messages", secs(10));
    only_control_left(&d);
}

#[test]
fn header_declares_the_export_rows() {
    let text = std::fs::read_to_string(repo_root().join("include/bgworker_mq.h")).unwrap();
    let declared: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let (before, _) = l.split_once('(')?;
            let name = before.rsplit([' ', '\t', '*']).next()?;
            (name.starts_with("bgw_segment_") || name.starts_with("bgw_mq_"))
                .then(|| name.to_string())
        })
        .collect();
    let table = std::fs::read_to_string(repo_root().join("exports/bgworker.exports")).unwrap();
    let rows: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("bgw_segment_") || n.starts_with("bgw_mq_"))
        .map(str::to_string)
        .collect();
    assert_eq!(declared, rows);
    assert_eq!(rows.len(), 13);
}
