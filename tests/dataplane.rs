//! The data plane under bgworkerd, for modules built against PostgreSQL
//! 15's, 17's and 18's headers (c-tests/dp_module.c; the same scenarios are
//! compared with the real servers in tests/dataplane_postgresql.rs): the
//! dsm/shm_toc/shm_mq calls and their errors, the segment limit
//! (64 + 5 × MaxBackends, MaxBackends = max_worker_processes + 100), a child
//! that fails mid-stream, never starts, or is ended by SIGTERM while blocked
//! in receive or send, a crash cycle with segments in use, a SIGKILLed
//! bgworkerd's segments removed by the next one, and a full /dev/shm.

mod common;

use std::path::Path;

use common::pg::pid_of;
use common::*;

fn daemon(major: u32, scenario: &str) -> DaemonBuilder {
    let m = pgxs_module_for("dp_module.c", major);
    Daemon::builder(&format!("dp-{scenario}-{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .set("max_worker_processes", "8")
        .env("DP_SCENARIO", scenario)
}

const API: &[&str] = &[
    "dp: attach 0: NULL",
    "dp: create 0 bytes: ERROR: could not resize shared memory segment \"SEGMENT\" to 0 bytes: Invalid argument",
    "dp: create SIZE_MAX bytes: ERROR: could not resize shared memory segment \"SEGMENT\" to 18446744073709551615 bytes: Invalid argument",
    "dp: attach never created: NULL",
    "dp: created: handle set, length 10000, address set, found same",
    "dp: attach twice: ERROR: can't attach the same segment more than once",
    "dp: unpin not pinned: ERROR: cannot unpin a segment that is not pinned",
    "dp: pin twice: ERROR: cannot pin a segment that is already pinned",
    "dp: on_dsm_detach callback 3",
    "dp: on_dsm_detach callback 1",
    "dp: pinned, attached again: mapped, contents kept",
    "dp: unpinned and detached, attach: NULL",
    "dp: unpin unknown: ERROR: cannot unpin unknown segment handle",
    "dp: on_dsm_detach callback 4",
    "dp: owner released: owned gone, pinned mapping mapped",
    "dp: toc estimate 1248",
    "dp: toc free 1184",
    "dp: toc free 0, attach same, lookup 1 \"chunk\", lookup 3 NULL",
    "dp: toc attach wrong magic: NULL",
    "dp: toc full: ERROR: out of shared memory",
    "dp: queue receiver is me: yes, sender is me: yes, BackendPidGetProc(me): MyProc, BackendPidGetProc(0): NULL",
    "dp: get_queue same: yes, wait_for_attach 0",
    "dp: receive from empty queue: 1",
    "dp: receive: 0, 6 bytes \"hello\"",
    "dp: sendv receive: 0, 13 bytes \"abcdefghijkl\"",
    "dp: large message: 0, 5000 bytes, intact, sender blocked: yes",
    "dp: message too large: ERROR: cannot send a message of size 1073741824 via shared memory queue",
    "dp: receive after the sender detached: 2",
    "dp: segments before the limit: 604",
    "dp: one more: ERROR: too many dynamic shared memory segments",
    "dp: after detaching them all, create: ok",
    "dp: done",
];

/// The API scenario, line for line; afterwards only the control segment
/// is left, and a shutdown removes it too.
fn api_for(major: u32) {
    let _w = watchdog(120, &format!("dataplane api {major}"));
    let d = daemon(major, "api").start();
    d.wait_log("dp: done", secs(60));
    assert_eq!(dp_lines(&d.log_lines()), API, "{}", d.log_text());
    assert_eq!(
        dynamic_segments(d.pid()),
        vec![format!("bgworker.{}.dsm", d.pid())]
    );
    // The segments are the user's alone.
    let meta = std::fs::metadata(format!("/dev/shm/bgworker.{}.dsm", d.pid())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(60)).success(), "{}", d.log_text());
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
}
per_major!(api, api_for);

/// Run a scenario with a child; `signal_child`: the child's message after
/// which (and after the registrant has seen it attach) the child gets
/// SIGTERM. Returns the registrant's and the child's "dp:" lines.
pub fn child_scenario(
    major: u32,
    scenario: &str,
    signal_child: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let d = daemon(major, scenario).start();
    if let Some(needle) = signal_child {
        let line = d.wait_log(needle, secs(60));
        d.wait_log(&format!("dp: {scenario}: child attached"), secs(60));
        let pid = pid_of(&line).expect("child pid");
        // SAFETY: kill(2) of a worker of the daemon this test started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    d.wait_log("dp: done", secs(60));
    let lines = dp_lines(&d.log_lines());
    assert_eq!(d.count_log("terminated by signal"), 0, "{}", d.log_text());
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(60)).success(), "{}", d.log_text());
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
    split_child(lines)
}

/// (registrant's lines, child's lines): their order across the two
/// processes is not fixed.
pub fn split_child(lines: Vec<String>) -> (Vec<String>, Vec<String>) {
    lines.into_iter().partition(|l| !l.contains("dp: child"))
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn children_for(major: u32) {
    let _w = watchdog(180, &format!("dataplane children {major}"));
    assert_eq!(
        child_scenario(major, "error", None),
        (
            v(&[
                "dp: error: received 50 messages, then 2",
                "dp: error: child status 2",
                "dp: done"
            ]),
            v(&["ERROR:  dp: child fails half-way"])
        )
    );
    assert_eq!(
        child_scenario(major, "never", None),
        (
            v(&[
                "dp: never: wait_for_attach 2",
                "dp: never: receive 2",
                "dp: never: send 0",
                "dp: never: child status 2",
                "dp: done"
            ]),
            vec![]
        )
    );
    assert_eq!(
        child_scenario(major, "recv", Some("dp: child blocks in receive")),
        (
            v(&[
                "dp: recv: child attached: 0",
                "dp: recv: receive 2",
                "dp: recv: child status 2",
                "dp: done"
            ]),
            v(&["dp: child blocks in receive"])
        )
    );
    assert_eq!(
        child_scenario(major, "keep", Some("dp: child keeps the segment")),
        (
            v(&[
                "dp: keep: child attached: 0",
                "dp: keep: registrant detached",
                "dp: keep: child status 2",
                "dp: keep: attach after the child's exit: NULL",
                "dp: done"
            ]),
            v(&["dp: child keeps the segment"])
        )
    );
    assert_eq!(
        child_scenario(major, "send", Some("dp: child blocks in send")),
        (
            v(&[
                "dp: send: child attached: 0",
                "dp: send: child gone, send 2",
                "dp: send: child status 2",
                "dp: done"
            ]),
            v(&["dp: child blocks in send"])
        )
    );
}
per_major!(children, children_for);

/// A worker killed while segments are in use (one pinned, too): a crash
/// cycle, and every dynamic segment goes with it (the control segment
/// stays, emptied).
#[test]
fn crash_cycle_destroys_segments_in_use() {
    let _w = watchdog(120, "crash_cycle_destroys_segments_in_use");
    let d = daemon(15, "hold").start();
    let line = d.wait_log("dp: child holds the segment", secs(60));
    let pid = pid_of(&line).expect("child pid");
    assert_eq!(
        dynamic_segments(d.pid()).len(),
        2,
        "control and one segment"
    );
    // SAFETY: kill(2) of a worker of the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    d.wait_log("all server processes terminated; reinitializing", secs(60));
    assert_eq!(
        dynamic_segments(d.pid()),
        vec![format!("bgworker.{}.dsm", d.pid())]
    );
    d.signal(libc::SIGTERM);
    d.wait_exit(secs(60));
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
}

/// A SIGKILLed bgworkerd leaves its segments (its control segment, and a
/// pinned one; its workers, which notice its death, detach from the rest
/// as they exit); the next one on the same run directory removes them and
/// says so.
#[test]
fn next_bgworkerd_removes_a_killed_ones_segments() {
    let _w = watchdog(120, "next_bgworkerd_removes_a_killed_ones_segments");
    let dir = Scratch::new("dp-leftover");
    let d = daemon(15, "hold").rundir(&dir).start();
    d.wait_log("dp: child holds the segment", secs(60));
    let old = d.pid();
    assert_eq!(dynamic_segments(old).len(), 2);
    d.signal(libc::SIGKILL);
    d.wait_exit(secs(60));
    assert_eq!(dynamic_segments(old).len(), 2, "left behind");
    let next = Daemon::builder("dp-leftover-next")
        .rundir(&dir)
        .set("max_worker_processes", "8")
        .start();
    next.wait_log(
        &format!("removed 2 dynamic shared memory segments left behind by process {old}"),
        secs(30),
    );
    assert_eq!(dynamic_segments(old), Vec::<String>::new());
    drop(d);
}

/// /dev/shm full (a private 64 kB tmpfs): dsm_create is an ERROR naming
/// the segment and the cause, nothing is left of it, and a small segment
/// still works. Needs root (mount namespaces).
#[test]
fn full_dev_shm_is_an_error_and_leaves_nothing() {
    let _w = watchdog(120, "full_dev_shm_is_an_error_and_leaves_nothing");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("full_dev_shm_is_an_error_and_leaves_nothing: skipped (needs root for a mount namespace)");
        return;
    }
    let dir = Scratch::new("dp-shm-full");
    let m = pgxs_module_for("dp_module.c", 15);
    let script = "mount -t tmpfs -o size=64k bgw-dp-full-shm /dev/shm || exit 99; \
                  \"$0\" \"$@\" & pid=$!; \
                  while ! grep -q 'dp: done' \"$LOG\" 2>/dev/null; do sleep 0.1; done; \
                  echo \"during: [$(ls -A /dev/shm | sed \"s/$pid/P/g\" | tr '\\n' ' ')]\"; \
                  kill -TERM $pid; wait $pid; rc=$?; echo \"left in /dev/shm: [$(ls -A /dev/shm)]\"; exit $rc";
    let log = dir.join("log");
    let daemon = bgworkerd_path();
    let args = [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        daemon.to_str().unwrap(),
        "-D",
        dir.to_str().unwrap(),
        "-c",
        "max_worker_processes=2",
        "-c",
        &format!("shared_preload_libraries={}", m.display()),
        "-c",
        &format!("dynamic_library_path={}", m.parent().unwrap().display()),
        "-c",
        &format!("log_file={}", log.display()),
    ];
    let p = Proc::spawn(
        Path::new("/usr/bin/unshare"),
        &args,
        &[("DP_SCENARIO", "full"), ("LOG", log.to_str().unwrap())],
        "dp-shm-full",
    );
    let st = p.wait_exit(secs(60));
    let text = std::fs::read_to_string(&log).unwrap_or_default() + &p.text();
    assert_eq!(st.code(), Some(0), "{}:\n{text}", describe_status(&st));
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(
        dp_lines(&lines),
        [
            "dp: create 1 MB: ERROR: could not resize shared memory segment \"SEGMENT\" to 1048576 bytes: No space left on device",
            "dp: then 4 kB: ok",
            "dp: done"
        ],
        "{text}"
    );
    // While it ran: the main and control segments only; then nothing.
    assert!(
        text.contains("during: [bgworker.P bgworker.P.dsm ]"),
        "{text}"
    );
    assert!(text.contains("left in /dev/shm: []"), "{text}");
}

/// A queue header overwritten by a hostile process: a ring that does not
/// fit its segment is refused at attach, impossible counters and a length
/// word beyond any message are ERRORs for the reader and the writer, and
/// the worker goes on (nothing is read outside the segment). Then the
/// transaction memory contexts, usable outside any transaction.
#[test]
fn corrupted_queue_header_is_an_error() {
    let _w = watchdog(60, "corrupted_queue_header_is_an_error");
    let d = daemon(15, "corrupt").start();
    d.wait_log("dp: done", secs(30));
    let lines: Vec<String> = dp_lines(&d.log_lines())
        .into_iter()
        .map(|l| match l.find(" at 0x") {
            Some(i) => {
                let rest = &l[i + 4..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{} at ADDR{}", &l[..i], &rest[end..])
            }
            None => l,
        })
        .collect();
    assert_eq!(
        lines,
        [
            "dp: ring larger than the segment: ERROR: shared memory queue at ADDR is corrupt: its ring of 1099511627776 bytes does not lie inside its segment",
            "dp: bytes written beyond the ring: ERROR: shared memory queue at ADDR is corrupt: 1125899906842624 bytes written, 0 read, in a ring of 968 bytes",
            "dp: sender sees the same: ERROR: shared memory queue at ADDR is corrupt: 1125899906842624 bytes written, 0 read, in a ring of 968 bytes",
            "dp: huge length word: ERROR: invalid message size 1099511627776 in shared memory queue",
            "dp: transaction contexts: TopTransactionContext, TopTransactionContext, same: yes",
            "dp: done"
        ],
        "{}",
        d.log_text()
    );
    assert_eq!(d.count_log("terminated by signal"), 0);
}
