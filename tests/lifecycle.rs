//! Lifecycle rules of background workers under bgworkerd (DESIGN.md §5, the
//! contract's "Lifecycle (PostgreSQL 15)" section).
//!
//! The workers come from c-tests/lc_workers.c, a module built like a
//! PostgreSQL 15 extension; its static workers are described by the LC_STATIC
//! environment variable given to the daemon (see the comment at the top of
//! that file), and each worker's behaviour is a word list in bgw_extra.
//! Dynamic workers are driven by c-tests/lc_host.c, a host program that
//! attaches by RUNDIR. Each test owns its daemon and RUNDIR and runs under a
//! watchdog.
//!
//! Every test runs once per PostgreSQL major served (`name::pg15`,
//! `name::pg17`, `name::pg18`): lc_workers built against that major's real
//! headers, lc_host compiled with that `BGW_PG_MAJOR`. The rules are the
//! same in 15, 17 and 18.

mod common;

use common::*;
use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

thread_local! {
    /// The major the running test exercises (each test runs in its own
    /// thread; set by `per_major!`).
    static MAJOR: Cell<u32> = const { Cell::new(15) };
}

/// `per_major!(name, body)`: the tests `name::pg15`, `name::pg17` and
/// `name::pg18`, each running `body` with that major's module and host.
macro_rules! per_major {
    ($name:ident, $body:ident) => {
        mod $name {
            fn with(major: u32) {
                super::MAJOR.with(|m| m.set(major));
                super::$body()
            }
            #[test]
            fn pg15() {
                with(15)
            }
            #[test]
            fn pg17() {
                with(17)
            }
            #[test]
            fn pg18() {
                with(18)
            }
        }
    };
}

fn major() -> u32 {
    MAJOR.with(|m| m.get())
}

fn workers_so() -> PathBuf {
    pgxs_module_for("lc_workers.c", major())
}

fn host_exe() -> PathBuf {
    host_program_with("lc_host.c", &[&format!("-DBGW_PG_MAJOR={}", major())])
}

/// A daemon with lc_workers preloaded and the given static workers.
fn lc_daemon(name: &str, statics: &str, settings: &[(&str, &str)]) -> Daemon {
    let m = workers_so();
    Daemon::builder(name)
        .preload(&[&m])
        .env("LC_STATIC", statics)
        .settings(settings)
        .start()
}

/// A daemon without preloaded libraries serving the test's major (its
/// workers load lc_workers, which must be of the daemon's major).
fn plain_daemon(name: &str, settings: &[(&str, &str)]) -> Daemon {
    let major = major().to_string();
    Daemon::builder(name)
        .set("postgresql_major", &major)
        .settings(settings)
        .start()
}

/// Run lc_host SCENARIO RUNDIR MODULE args... against `d`.
fn lc_host(d: &Daemon, scenario: &str, args: &[&str]) -> Proc {
    let exe = host_exe();
    let m = workers_so();
    let mut v: Vec<String> = vec![
        scenario.to_string(),
        d.rundir().display().to_string(),
        m.display().to_string(),
    ];
    v.extend(args.iter().map(|s| s.to_string()));
    Proc::spawn(&exe, &v, &[], &format!("lc_host-{scenario}"))
}

/// The next start marker of worker `name` at or after line `from`:
/// (line index, pid).
fn wait_start(d: &Daemon, name: &str, from: usize, t: Duration) -> (usize, i32) {
    let (i, line) = d.wait_log_from(from, &start_needle(name), t);
    (i, field_i64(&line, "pid") as i32)
}

fn exit_line(ty: &str, pid: i32, code: i32) -> String {
    format!("background worker \"{ty}\" (PID {pid}) exited with exit code {code}")
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a worker pid this test learned from the daemon's log.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Milliseconds since midnight of a log line's "%m" timestamp
/// ("2026-11-22 18:49:52.123 UTC [pid] ...").
fn log_time_ms(line: &str) -> i64 {
    let t = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no timestamp in log line {line:?}"));
    let (hms, frac) = t.split_once('.').unwrap_or((t, "0"));
    let parts: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap_or(0)).collect();
    assert_eq!(parts.len(), 3, "bad timestamp in log line {line:?}");
    let ms: i64 = format!("{:0<3}", &frac[..frac.len().min(3)])
        .parse()
        .unwrap_or(0);
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + ms
}

fn assert_line_order(d: &Daemon, earlier: usize, later: usize, what: &str) {
    assert!(
        earlier < later,
        "{what}: expected line {earlier} before line {later}; log:\n{}",
        d.log_text()
    );
}

// ---------------------------------------------------------------------------
// 1. exit 0: logged at DEBUG1, forgotten, slot freed
// ---------------------------------------------------------------------------

per_major!(
    static_worker_exit0_is_forgotten_and_its_slot_reused,
    static_worker_exit0_is_forgotten_and_its_slot_reused_body
);
fn static_worker_exit0_is_forgotten_and_its_slot_reused_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_worker_exit0_is_forgotten_and_its_slot_reused",
    );
    // One slot only, and a restart interval of 1 s: if the worker were kept
    // for a restart, its slot would stay in use and it would come back.
    let d = lc_daemon(
        "exit0",
        "lc_once|lc_once_type|1|7|exit=0",
        &[
            ("log_min_messages", "debug1"),
            ("max_worker_processes", "1"),
        ],
    );
    let reg = d.wait_log("registering background worker \"lc_once\"", secs(5));
    assert!(
        reg.contains("DEBUG"),
        "registration not at DEBUG level: {reg}"
    );
    let (start_idx, pid) = wait_start(&d, "lc_once", 0, secs(10));
    let ready_line_idx = d
        .log_lines()
        .iter()
        .position(|l| l.contains("bgworkerd ready"))
        .unwrap();
    assert_line_order(
        &d,
        ready_line_idx,
        start_idx,
        "worker starts once the daemon is ready",
    );

    let line = d.wait_log(&exit_line("lc_once_type", pid, 0), secs(10));
    assert!(
        line.contains("DEBUG"),
        "exit 0 must be logged at DEBUG1: {line}"
    );
    assert!(
        !line.contains("LOG:"),
        "exit 0 must not be logged at LOG: {line}"
    );
    d.wait_log("unregistering background worker \"lc_once\"", secs(10));

    // The freed slot takes a dynamic worker.
    let h = lc_host(&d, "one", &["lc_reuse", "lc_reuse_type", "exit=0", "-1"]);
    let st = h.wait_exit(secs(20));
    let reg = h.wait_line("host: register ", secs(1));
    assert_eq!(
        field(&reg, "ok").as_deref(),
        Some("1"),
        "slot not freed: {reg}\n{}",
        h.text()
    );
    let started = h.wait_line("host: startup ", secs(1));
    let s = field(&started, "status").unwrap();
    assert!(s == "STARTED" || s == "STOPPED", "startup: {started}");
    h.expect_field("host: shutdown ", "status", "STOPPED", secs(1), "");
    assert_eq!(st.code(), Some(0), "host failed:\n{}", h.text());
    wait_start(&d, "lc_reuse", 0, secs(5));

    // Not restarted: a worker kept for a restart keeps its slot, so the
    // dynamic worker getting the only slot proves lc_once was forgotten.
    assert_eq!(
        d.count_log(&start_needle("lc_once")),
        1,
        "exit-0 worker restarted; log:\n{}",
        d.log_text()
    );
    assert!(d.try_exit().is_none(), "daemon exited");
}

// ---------------------------------------------------------------------------
// 2. exit 1: restarted after bgw_restart_time, or forgotten with NEVER_RESTART
// ---------------------------------------------------------------------------

per_major!(
    exit1_worker_is_restarted_after_its_interval,
    exit1_worker_is_restarted_after_its_interval_body
);
fn exit1_worker_is_restarted_after_its_interval_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "exit1_worker_is_restarted_after_its_interval",
    );
    let d = lc_daemon("exit1", "lc_flaky|lc_flaky_type|1|0|exit=1", &[]);
    let starts = d.wait_log_count(&start_needle("lc_flaky"), 3, secs(20));
    let pids: Vec<i32> = starts.iter().map(|l| field_i64(l, "pid") as i32).collect();
    assert!(
        pids[0] != pids[1] && pids[1] != pids[2] && pids[0] != pids[2],
        "restarts must be new processes: {pids:?}"
    );
    let mut times = Vec::new();
    for &p in &pids[..2] {
        let line = d.wait_log(&exit_line("lc_flaky_type", p, 1), secs(10));
        assert!(
            line.contains("LOG:"),
            "exit 1 must be logged at LOG: {line}"
        );
        times.push(log_time_ms(&line));
    }
    // The next incarnation starts no earlier than bgw_restart_time (1 s)
    // after the previous one exited, so consecutive exits are >= ~1 s apart.
    let gap = times[1] - times[0];
    assert!(
        gap >= 900,
        "restarted {gap} ms after exit, restart interval is 1 s; log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

per_major!(
    exit1_worker_with_never_restart_is_forgotten,
    exit1_worker_with_never_restart_is_forgotten_body
);
fn exit1_worker_with_never_restart_is_forgotten_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "exit1_worker_with_never_restart_is_forgotten",
    );
    let d = lc_daemon(
        "exit1never",
        "lc_quitter|lc_quitter_type|-1|0|exit=1",
        &[
            ("log_min_messages", "debug1"),
            ("max_worker_processes", "1"),
        ],
    );
    let (_, pid) = wait_start(&d, "lc_quitter", 0, secs(10));
    let line = d.wait_log(&exit_line("lc_quitter_type", pid, 1), secs(10));
    assert!(line.contains("LOG:"), "{line}");
    d.wait_log("unregistering background worker \"lc_quitter\"", secs(10));

    // Its slot (the only one) is free.
    let h = lc_host(&d, "one", &["lc_after", "lc_after_type", "exit=0", "-1"]);
    assert_eq!(h.wait_exit(secs(20)).code(), Some(0), "{}", h.text());
    h.expect_field(
        "host: register ",
        "ok",
        "1",
        secs(1),
        "slot of a forgotten worker not freed",
    );

    // A worker kept for a restart would still hold the only slot, so the
    // registration above proves lc_quitter is gone for good.
    assert_eq!(
        d.count_log(&start_needle("lc_quitter")),
        1,
        "NEVER_RESTART worker restarted; log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

// ---------------------------------------------------------------------------
// 3. crashes
// ---------------------------------------------------------------------------

const CRASH_STATICS: &str = "lc_crasher|lc_crasher_type|-1|0|loop crash=KIND;\
lc_victim_r|lc_victim_r_type|1|0|loop quitmark;\
lc_victim_n|lc_victim_n_type|-1|0|loop quitmark";

fn crash_cycle(kind: &str, expected_exit: &dyn Fn(i32) -> String) {
    let statics = CRASH_STATICS.replace("KIND", kind);
    let d = lc_daemon(
        &format!("crash-{kind}"),
        &statics,
        &[("log_min_messages", "debug1")],
    );
    let crasher = wait_ready(&d, "lc_crasher", secs(10));
    let vr = wait_ready(&d, "lc_victim_r", secs(10));
    let vn = wait_ready(&d, "lc_victim_n", secs(10));
    for p in [crasher, vr, vn] {
        assert_eq!(
            ppid(p),
            Some(d.pid()),
            "worker {p} is not a child of bgworkerd"
        );
    }

    kill(crasher, SIGUSR2);
    let (exit_idx, line) = d.wait_log_from(0, &expected_exit(crasher), secs(10));
    assert!(line.contains("LOG:"), "{line}");
    let (term_idx, _) =
        d.wait_log_from(0, "terminating any other active server processes", secs(10));
    assert_line_order(
        &d,
        exit_idx,
        term_idx,
        "crash logged before the SIGQUIT round",
    );
    // The others are sent SIGQUIT and die.
    let (q1, _) = d.wait_log_from(
        0,
        &format!("marker: got SIGQUIT name=lc_victim_r pid={vr}"),
        secs(10),
    );
    let (q2, _) = d.wait_log_from(
        0,
        &format!("marker: got SIGQUIT name=lc_victim_n pid={vn}"),
        secs(10),
    );
    let left = wait_pids_gone(&[crasher, vr, vn], secs(10));
    assert!(
        left.is_empty(),
        "workers still alive after the crash: {left:?}"
    );
    let (reinit_idx, _) = d.wait_log_from(
        0,
        "all server processes terminated; reinitializing",
        secs(10),
    );
    assert_line_order(&d, term_idx, reinit_idx, "reinitialize after terminating");
    assert_line_order(
        &d,
        q1.max(q2),
        reinit_idx,
        "reinitialize only once all workers are gone",
    );

    // The restartable worker comes back as a new process.
    let (_, vr2) = wait_start(&d, "lc_victim_r", reinit_idx, secs(10));
    assert_ne!(vr2, vr, "restarted worker must be a new process");
    wait_ready_from(&d, "lc_victim_r", reinit_idx, secs(10));
    assert!(pid_alive(vr2));
    assert_eq!(ppid(vr2), Some(d.pid()));

    // NEVER_RESTART workers (crasher included) do not: reinitialisation
    // forgets them (and frees their slots).
    for name in ["lc_victim_n", "lc_crasher"] {
        d.wait_log_from(
            reinit_idx,
            &format!("unregistering background worker \"{name}\""),
            secs(10),
        );
    }
    assert_eq!(
        d.count_log(&start_needle("lc_victim_n")),
        1,
        "NEVER_RESTART victim restarted; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log(&start_needle("lc_crasher")),
        1,
        "NEVER_RESTART crasher restarted; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log(&start_needle("lc_victim_r")),
        2,
        "log:\n{}",
        d.log_text()
    );
    assert!(
        d.try_exit().is_none(),
        "daemon exited after a crash with restart_after_crash=on"
    );
}

per_major!(
    crash_exit2_triggers_crash_cycle,
    crash_exit2_triggers_crash_cycle_body
);
fn crash_exit2_triggers_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "crash_exit2_triggers_crash_cycle");
    crash_cycle("exit2", &|p| exit_line("lc_crasher_type", p, 2));
}

per_major!(
    crash_sigsegv_triggers_crash_cycle,
    crash_sigsegv_triggers_crash_cycle_body
);
fn crash_sigsegv_triggers_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "crash_sigsegv_triggers_crash_cycle");
    crash_cycle("segv", &|p| {
        format!("background worker \"lc_crasher_type\" (PID {p}) was terminated by signal 11: Segmentation fault")
    });
}

per_major!(
    crash_abort_triggers_crash_cycle,
    crash_abort_triggers_crash_cycle_body
);
fn crash_abort_triggers_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "crash_abort_triggers_crash_cycle");
    crash_cycle("abort", &|p| {
        format!(
            "background worker \"lc_crasher_type\" (PID {p}) was terminated by signal 6: Aborted"
        )
    });
}

per_major!(
    crash_with_restart_after_crash_off_shuts_down,
    crash_with_restart_after_crash_off_shuts_down_body
);
fn crash_with_restart_after_crash_off_shuts_down_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "crash_with_restart_after_crash_off_shuts_down",
    );
    let statics = CRASH_STATICS.replace("KIND", "exit2");
    let d = lc_daemon("crash-off", &statics, &[("restart_after_crash", "off")]);
    let crasher = wait_ready(&d, "lc_crasher", secs(10));
    let vr = wait_ready(&d, "lc_victim_r", secs(10));
    let vn = wait_ready(&d, "lc_victim_n", secs(10));

    kill(crasher, SIGUSR2);
    d.wait_log(&exit_line("lc_crasher_type", crasher, 2), secs(10));
    d.wait_log("shutting down because restart_after_crash is off", secs(10));
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(1),
        "daemon must exit 1, got {}; log:\n{}",
        describe_status(&st),
        d.log_text()
    );
    let left = wait_pids_gone(&[crasher, vr, vn], secs(5));
    assert!(
        left.is_empty(),
        "workers left after the daemon exited: {left:?}"
    );
    assert!(children_of(d.pid()).is_empty());
    d.wait_log_closed(secs(5));
    assert_eq!(d.count_log("reinitializing"), 0, "log:\n{}", d.log_text());
    assert_eq!(
        d.count_log(&start_needle("lc_victim_r")),
        1,
        "restarted despite restart_after_crash=off"
    );
}

// ---------------------------------------------------------------------------
// 4. shutdown modes
// ---------------------------------------------------------------------------

fn shutdown_mode(sig: i32, mode: &str) {
    let d = lc_daemon(
        &format!("shutdown-{mode}"),
        "lc_sd_a|lc_sd_a_type|1|0|loop quitmark;lc_sd_b|lc_sd_b_type|-1|0|loop",
        &[],
    );
    let a = wait_ready(&d, "lc_sd_a", secs(10));
    let b = wait_ready(&d, "lc_sd_b", secs(10));
    let pid_file = d.pid_file();
    assert!(pid_file.exists());
    let seg = d.segment_path().expect("segment name in the pid file");
    assert!(seg.exists(), "{} missing while running", seg.display());

    let cursor = d.log_len();
    d.signal(sig);
    d.wait_log_from(
        cursor,
        &format!("received {mode} shutdown request"),
        secs(10),
    );
    if mode == "immediate" {
        d.wait_log(
            &format!("marker: got SIGQUIT name=lc_sd_a pid={a}"),
            secs(10),
        );
    } else {
        for ty in ["lc_sd_a_type", "lc_sd_b_type"] {
            let l = d.wait_log(
                &format!("terminating background worker \"{ty}\" due to administrator command"),
                secs(10),
            );
            assert!(l.contains("FATAL:"), "{l}");
        }
    }
    let st = d.wait_exit(secs(30));
    assert_eq!(
        st.code(),
        Some(0),
        "{mode} shutdown exit status {}; log:\n{}",
        describe_status(&st),
        d.log_text()
    );
    let left = wait_pids_gone(&[a, b], secs(5));
    assert!(
        left.is_empty(),
        "workers alive after {mode} shutdown: {left:?}"
    );
    assert!(
        d.wait_log_closed(secs(5)),
        "log stream still open after shutdown"
    );
    let lines = d.log_lines();
    let last = lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .cloned()
        .unwrap_or_default();
    assert!(
        last.contains("LOG:  bgworkerd shut down"),
        "last line is {last:?}; log:\n{}",
        d.log_text()
    );
    assert!(!pid_file.exists(), "pid file left after {mode} shutdown");
    assert!(
        !seg.exists(),
        "segment {} left after {mode} shutdown",
        seg.display()
    );
    assert_eq!(
        d.count_log(&start_needle("lc_sd_a")),
        1,
        "worker restarted during shutdown"
    );
    assert_no_crash_cycle(&d);
}

per_major!(smart_shutdown_on_sigterm, smart_shutdown_on_sigterm_body);
fn smart_shutdown_on_sigterm_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "smart_shutdown_on_sigterm");
    shutdown_mode(SIGTERM, "smart");
}

per_major!(fast_shutdown_on_sigint, fast_shutdown_on_sigint_body);
fn fast_shutdown_on_sigint_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "fast_shutdown_on_sigint");
    shutdown_mode(SIGINT, "fast");
}

per_major!(
    immediate_shutdown_on_sigquit,
    immediate_shutdown_on_sigquit_body
);
fn immediate_shutdown_on_sigquit_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "immediate_shutdown_on_sigquit");
    shutdown_mode(SIGQUIT, "immediate");
}

per_major!(
    immediate_shutdown_kills_worker_ignoring_sigquit,
    immediate_shutdown_kills_worker_ignoring_sigquit_body
);
fn immediate_shutdown_kills_worker_ignoring_sigquit_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "immediate_shutdown_kills_worker_ignoring_sigquit",
    );
    let d = lc_daemon(
        "immediate-stubborn",
        "lc_stubborn|lc_stubborn_type|-1|0|loop ignquit",
        &[],
    );
    let p = wait_ready(&d, "lc_stubborn", secs(10));
    d.signal(SIGQUIT);
    d.wait_log("received immediate shutdown request", secs(10));
    let st = d.wait_exit(secs(40));
    assert_eq!(
        st.code(),
        Some(0),
        "exit status {}; log:\n{}",
        describe_status(&st),
        d.log_text()
    );
    assert!(
        !pid_alive(p),
        "worker ignoring SIGQUIT survived immediate shutdown"
    );
    d.wait_log_closed(secs(5));
    d.wait_log("bgworkerd shut down", secs(1));
}

// ---------------------------------------------------------------------------
// 5. supervisor death
// ---------------------------------------------------------------------------

per_major!(
    workers_die_with_sigkilled_bgworkerd_and_waiter_sees_postmaster_died,
    workers_die_with_sigkilled_bgworkerd_and_waiter_sees_postmaster_died_body
);
fn workers_die_with_sigkilled_bgworkerd_and_waiter_sees_postmaster_died_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "workers_die_with_sigkilled_bgworkerd");
    let d = lc_daemon(
        "sigkill",
        "lc_k1|lc_k|1|0|loop;lc_k2|lc_k|1|0|loop;lc_k3|lc_k|-1|0|loop",
        &[],
    );
    let mut pids = vec![
        wait_ready(&d, "lc_k1", secs(10)),
        wait_ready(&d, "lc_k2", secs(10)),
        wait_ready(&d, "lc_k3", secs(10)),
    ];
    let h = lc_host(&d, "waitdeath", &[]);
    let l = h.wait_line("host: waiting pid=", secs(10));
    let dynpid = field_i64(&l, "pid") as i32;
    pids.push(dynpid);
    for &p in &pids {
        assert_eq!(
            ppid(p),
            Some(d.pid()),
            "worker {p} is not a child of bgworkerd"
        );
    }
    // The host prints its line just before WaitForBackgroundWorkerShutdown,
    // which parks in futex(2) (waking every 100 ms to check the supervisor):
    // kill the supervisor only once the host is parked there, so the death
    // check inside the wait is what reports it.
    assert!(
        wait_until(secs(10), || blocked_in_futex(h.pid())),
        "host {} never blocked in WaitForBackgroundWorkerShutdown; output:\n{}",
        h.pid(),
        h.text()
    );
    d.signal(SIGKILL);
    let killed_at = Instant::now();
    let left = wait_pids_gone(&pids, secs(1));
    assert!(
        left.is_empty(),
        "workers alive 1 s after bgworkerd was SIGKILLed: {left:?}"
    );
    let l = h.wait_line("host: shutdown status=", secs(2));
    let took = killed_at.elapsed();
    assert!(
        took <= secs(2),
        "waiter learned of the supervisor's death after {took:?} (checks every 100 ms)"
    );
    assert_eq!(
        field(&l, "status").as_deref(),
        Some("POSTMASTER_DIED"),
        "{l}"
    );
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
}

// ---------------------------------------------------------------------------
// 6. worker process setup: signal mask, MyBgworkerEntry
// ---------------------------------------------------------------------------

fn expected_extra_hex(text: &str) -> String {
    let mut bytes = [0u8; 128];
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    for (i, b) in bytes.iter_mut().enumerate().skip(100) {
        *b = ((i * 37 + 11) & 0xff) as u8;
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

per_major!(
    worker_starts_with_signals_blocked_and_sees_its_own_entry,
    worker_starts_with_signals_blocked_and_sees_its_own_entry_body
);
fn worker_starts_with_signals_blocked_and_sees_its_own_entry_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "worker_starts_with_signals_blocked");
    let extra_a = "loop sigblk entry";
    let extra_b = "loop entry";
    let d = lc_daemon(
        "sigblk",
        &format!("lc_sig_a||-1|12345|{extra_a};lc_sig_b|lc_sig_b_type|1|987654321|{extra_b}"),
        &[],
    );
    let a = wait_ready(&d, "lc_sig_a", secs(10));
    let b = wait_ready(&d, "lc_sig_b", secs(10));

    let before = d.wait_log("marker: sigblk-before name=lc_sig_a ", secs(1));
    let mask = parse_mask(&field(&before, "mask").unwrap()).expect("hex mask");
    for (sig, name) in [
        (SIGTERM, "SIGTERM"),
        (SIGINT, "SIGINT"),
        (SIGHUP, "SIGHUP"),
        (SIGUSR1, "SIGUSR1"),
    ] {
        assert!(
            mask & sig_bit(sig) != 0,
            "{name} not blocked on entry: mask {mask:016x}"
        );
    }
    assert!(
        mask & sig_bit(SIGQUIT) == 0,
        "SIGQUIT blocked on entry: mask {mask:016x}"
    );
    for (sig, name) in [
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGILL, "SIGILL"),
    ] {
        assert!(
            mask & sig_bit(sig) == 0,
            "synchronous {name} blocked on entry: mask {mask:016x}"
        );
    }
    let after = d.wait_log("marker: sigblk-after name=lc_sig_a ", secs(1));
    let mask_after = parse_mask(&field(&after, "mask").unwrap()).expect("hex mask");
    // PostgreSQL 15's UnBlockSig keeps exactly SIGURG blocked: latch
    // wake-ups arrive through a signalfd.
    assert_eq!(
        mask_after,
        sig_bit(libc::SIGURG),
        "after BackgroundWorkerUnblockSignals only SIGURG stays blocked: {mask_after:016x}"
    );
    assert_eq!(
        sigmask(a, "SigBlk"),
        Some(sig_bit(libc::SIGURG)),
        "live worker's SigBlk"
    );

    // MyBgworkerEntry: each worker sees its own definition.
    let ea = d.expect_field(
        "marker: entry name=lc_sig_a ",
        "type",
        "lc_sig_a",
        secs(1),
        "bgw_type must default to bgw_name",
    );
    assert_eq!(field(&ea, "arg").as_deref(), Some("12345"), "{ea}");
    assert_eq!(field(&ea, "flags").as_deref(), Some("1"), "{ea}");
    assert_eq!(field(&ea, "restart").as_deref(), Some("-1"), "{ea}");
    assert_eq!(field(&ea, "func").as_deref(), Some("lc_main"), "{ea}");
    assert_eq!(field(&ea, "notify").as_deref(), Some("0"), "{ea}");
    assert_eq!(
        field(&ea, "self").as_deref(),
        Some("1"),
        "bgw_library_name differs: {ea}"
    );
    let xa = d.wait_log("marker: entry-extra name=lc_sig_a ", secs(1));
    assert_eq!(
        field(&xa, "hex").unwrap(),
        expected_extra_hex(extra_a),
        "bgw_extra bytes of lc_sig_a"
    );
    d.expect_field(
        &start_needle("lc_sig_a"),
        "arg",
        "12345",
        secs(1),
        "main_arg passed to the main function",
    );

    let eb = d.expect_field(
        "marker: entry name=lc_sig_b ",
        "type",
        "lc_sig_b_type",
        secs(1),
        "",
    );
    assert_eq!(field(&eb, "arg").as_deref(), Some("987654321"), "{eb}");
    assert_eq!(field(&eb, "restart").as_deref(), Some("1"), "{eb}");
    let xb = d.wait_log("marker: entry-extra name=lc_sig_b ", secs(1));
    assert_eq!(
        field(&xb, "hex").unwrap(),
        expected_extra_hex(extra_b),
        "bgw_extra bytes of lc_sig_b"
    );
    assert!(pid_alive(b));
}

// ---------------------------------------------------------------------------
// 7. dynamic workers from an attached host
// ---------------------------------------------------------------------------

per_major!(
    dynamic_workers_from_host_register_query_terminate_and_stale_handles,
    dynamic_workers_from_host_register_query_terminate_and_stale_handles_body
);
fn dynamic_workers_from_host_register_query_terminate_and_stale_handles_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "dynamic_workers_from_host");
    let d = plain_daemon("dynamic", &[("max_worker_processes", "2")]);
    let h = lc_host(&d, "basic", &[]);

    // registered, started, a child of bgworkerd, type by pid
    let l = h.expect_field("step: started ", "status", "STARTED", secs(15), "");
    assert_eq!(
        field(&l, "type").as_deref(),
        Some("lc_dyn_type"),
        "GetBackgroundWorkerTypeByPid: {l}"
    );
    let pid = field_i64(&l, "pid") as i32;
    assert!(pid_alive(pid), "worker {pid} not alive");
    assert_eq!(
        ppid(pid),
        Some(d.pid()),
        "worker {pid} is not a child of bgworkerd"
    );
    wait_start(&d, "lc_dyn", 0, secs(5));
    h.signal(SIGUSR2);

    let l = h.expect_field("host: getpid ", "status", "STARTED", secs(10), "");
    assert_eq!(field_i64(&l, "pid") as i32, pid, "{l}");
    h.expect_field("host: terminated ", "status", "STOPPED", secs(15), "");
    let l = h.expect_field("host: after-stop ", "getpid", "STOPPED", secs(1), "");
    assert_eq!(
        field(&l, "type").as_deref(),
        Some("(null)"),
        "type of a stopped worker's pid: {l}"
    );
    let f = d.wait_log(
        "terminating background worker \"lc_dyn_type\" due to administrator command",
        secs(5),
    );
    assert!(f.contains("FATAL:"), "{f}");
    assert!(wait_pids_gone(&[pid], secs(5)).is_empty());

    // terminate before start: the supervisor is stopped meanwhile
    h.wait_line("step: stop-daemon", secs(10));
    d.signal(libc::SIGSTOP);
    assert!(wait_until(secs(5), || status_field(d.pid(), "State")
        .is_some_and(|s| s.starts_with('T'))));
    h.signal(SIGUSR2);
    h.wait_line("step: cont-daemon", secs(10));
    h.expect_field(
        "host: never ",
        "before-terminate",
        "NOT_YET_STARTED",
        secs(1),
        "",
    );
    d.signal(libc::SIGCONT);
    h.signal(SIGUSR2);
    h.expect_field("host: never shutdown=", "shutdown", "STOPPED", secs(15), "");
    h.expect_field("host: never startup=", "startup", "STOPPED", secs(5), "");
    assert_eq!(
        d.count_log(&start_needle("lc_never")),
        0,
        "terminated-before-start worker ran; log:\n{}",
        d.log_text()
    );

    // stale handle after slot reuse
    h.expect_field(
        "host: full ",
        "third-ok",
        "0",
        secs(15),
        "both slots should be in use",
    );
    h.expect_field(
        "host: stale getpid=",
        "getpid",
        "STOPPED",
        secs(15),
        "stale handle after reuse",
    );
    h.expect_field("host: stale wait=", "wait", "STOPPED", secs(5), "");
    let l = h.wait_line("step: stale-done ", secs(15));
    let b = field_i64(&l, "b") as i32;
    assert_eq!(
        field(&l, "b_status").as_deref(),
        Some("STARTED"),
        "new tenant touched by a stale terminate: {l}"
    );
    assert_eq!(field_i64(&l, "b_pid") as i32, b, "{l}");
    assert!(pid_alive(b), "new tenant {b} died after a stale terminate");
    assert_eq!(
        d.count_log("terminating background worker \"lc_stale_b_type\""),
        0,
        "stale terminate reached the new tenant; log:\n{}",
        d.log_text()
    );
    h.signal(SIGUSR2);
    h.wait_line("host: done", secs(15));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    assert_no_crash_cycle(&d);
}

// ---------------------------------------------------------------------------
// 8. slot exhaustion and reuse
// ---------------------------------------------------------------------------

per_major!(slot_exhaustion_and_reuse, slot_exhaustion_and_reuse_body);
fn slot_exhaustion_and_reuse_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "slot_exhaustion_and_reuse");
    let d = plain_daemon("slots", &[("max_worker_processes", "4")]);
    let h = lc_host(&d, "slots", &["4"]);
    h.expect_field(
        "host: overflow ",
        "ok",
        "0",
        secs(20),
        "5th registration with 4 slots succeeded",
    );
    let l = h.wait_line("step: full ", secs(5));
    let pids: Vec<i32> = field(&l, "pids")
        .unwrap()
        .split(',')
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 4);
    for &p in &pids {
        assert!(pid_alive(p), "worker {p} died after a failed registration");
        assert_eq!(ppid(p), Some(d.pid()));
    }
    h.signal(SIGUSR2);
    h.wait_line("host: all still running", secs(10));
    h.expect_field(
        "host: reuse ok=",
        "ok",
        "1",
        secs(15),
        "freed slot not reusable",
    );
    h.expect_field("host: reuse startup=", "startup", "STARTED", secs(15), "");
    h.wait_line("host: done", secs(20));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    assert_no_crash_cycle(&d);
    assert!(d.try_exit().is_none());
}

// ---------------------------------------------------------------------------
// 9. max_parallel_workers
// ---------------------------------------------------------------------------

per_major!(
    parallel_worker_limit_and_restart_rule,
    parallel_worker_limit_and_restart_rule_body
);
fn parallel_worker_limit_and_restart_rule_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "parallel_worker_limit_and_restart_rule");
    let d = plain_daemon(
        "parallel",
        &[("max_parallel_workers", "2"), ("max_worker_processes", "8")],
    );
    let h = lc_host(&d, "parallel", &["2"]);
    h.wait_line("host: parallel started=2", secs(20));
    h.expect_field(
        "host: parallel-over ",
        "ok",
        "0",
        secs(5),
        "third parallel worker accepted with max_parallel_workers=2",
    );
    h.expect_field(
        "host: plain-while-full ",
        "ok",
        "1",
        secs(5),
        "non-parallel worker refused by the parallel limit",
    );
    h.expect_field(
        "host: parallel-after-stop ok=",
        "ok",
        "1",
        secs(20),
        "parallel allowance not given back after a stop",
    );
    h.expect_field(
        "host: parallel-after-stop startup=",
        "startup",
        "STARTED",
        secs(10),
        "",
    );
    let l = h.expect_field(
        "host: parallel-restart ",
        "ok",
        "0",
        secs(20),
        "restartable parallel worker accepted",
    );
    assert!(
        l.contains("parallel workers may not be configured for restart"),
        "bgw_last_error: {l}"
    );
    // ... and reported at ERROR on the host's own stderr.
    h.wait_line_all(
        &[
            "ERROR:  background worker \"lc_par_restart\": parallel workers may not be configured for restart",
        ],
        secs(5),
    );
    h.wait_line("host: done", secs(5));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    assert_no_crash_cycle(&d);
}

// ---------------------------------------------------------------------------
// 10. bgw_notify_pid
// ---------------------------------------------------------------------------

per_major!(
    notify_pid_gets_sigusr1_on_start_and_stop,
    notify_pid_gets_sigusr1_on_start_and_stop_body
);
fn notify_pid_gets_sigusr1_on_start_and_stop_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "notify_pid_gets_sigusr1_on_start_and_stop",
    );
    let d = plain_daemon("notify", &[]);
    let h = lc_host(&d, "notify", &[]);
    let l = h.expect_field("host: notify-start ", "status", "STARTED", secs(20), "");
    let c_start = field_i64(&l, "count");
    assert!(c_start >= 1, "no SIGUSR1 when the worker started: {l}");
    let l = h.expect_field("host: notify-stop ", "status", "STOPPED", secs(20), "");
    let c_stop = field_i64(&l, "count");
    assert!(
        c_stop > c_start,
        "no SIGUSR1 when the worker stopped: start {c_start}, after stop {c_stop}"
    );
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
}

// ---------------------------------------------------------------------------
// 11. dynamic workers registered by a worker; they survive a crash cycle
// ---------------------------------------------------------------------------

per_major!(
    dynamic_workers_from_a_worker_come_back_after_crash_cycle,
    dynamic_workers_from_a_worker_come_back_after_crash_cycle_body
);
fn dynamic_workers_from_a_worker_come_back_after_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "dynamic_workers_from_a_worker");
    let d = lc_daemon(
        "dyn-in-worker",
        "lc_parent|lc_parent_type|-1|0|loop register=3;lc_crasher|lc_crasher_type|-1|0|loop crash=exit2",
        &[("log_min_messages", "debug1")],
    );
    let crasher = wait_ready(&d, "lc_crasher", secs(10));
    let parent = wait_ready(&d, "lc_parent", secs(20));
    let mut old = Vec::new();
    for i in 0..3 {
        let l = d.expect_field(
            &format!("marker: child started i={i} "),
            "status",
            "0",
            secs(1),
            "WaitForBackgroundWorkerStartup in a worker",
        );
        let p = field_i64(&l, "pid") as i32;
        let (_, sp) = wait_start(&d, &format!("lc_child_{i}"), 0, secs(5));
        assert_eq!(sp, p);
        wait_ready(&d, &format!("lc_child_{i}"), secs(5));
        assert!(pid_alive(p));
        assert_eq!(
            ppid(p),
            Some(d.pid()),
            "dynamic worker {p} is not a child of bgworkerd"
        );
        old.push(p);
    }

    kill(crasher, SIGUSR2);
    d.wait_log(&exit_line("lc_crasher_type", crasher, 2), secs(10));
    let (reinit, _) = d.wait_log_from(
        0,
        "all server processes terminated; reinitializing",
        secs(15),
    );
    for (i, &p) in old.iter().enumerate() {
        d.wait_log(
            &format!("marker: got SIGQUIT name=lc_child_{i} pid={p}"),
            secs(1),
        );
    }
    assert!(wait_pids_gone(&old, secs(5)).is_empty());
    assert!(!pid_alive(parent));
    for i in 0..3 {
        let name = format!("lc_child_{i}");
        let (_, np) = wait_start(&d, &name, reinit, secs(15));
        assert!(!old.contains(&np), "{name} did not get a new process");
        wait_ready_from(&d, &name, reinit, secs(5));
        assert!(pid_alive(np));
        assert_eq!(ppid(np), Some(d.pid()));
    }
    // The NEVER_RESTART parent was forgotten by the reinitialisation.
    d.wait_log_from(
        reinit,
        "unregistering background worker \"lc_parent\"",
        secs(10),
    );
    assert_eq!(
        d.count_log(&start_needle("lc_parent")),
        1,
        "NEVER_RESTART parent restarted; log:\n{}",
        d.log_text()
    );
    for i in 0..3 {
        assert_eq!(
            d.count_log(&start_needle(&format!("lc_child_{i}"))),
            2,
            "log:\n{}",
            d.log_text()
        );
    }
}

// ---------------------------------------------------------------------------
// 12. many short-lived dynamic workers
// ---------------------------------------------------------------------------

per_major!(
    thousand_short_lived_dynamic_workers,
    thousand_short_lived_dynamic_workers_body
);
fn thousand_short_lived_dynamic_workers_body() {
    let _w = watchdog(240, "thousand_short_lived_dynamic_workers");
    let slots = 20;
    let d = plain_daemon("many", &[("max_worker_processes", &slots.to_string())]);
    let started = Instant::now();
    let h = lc_host(&d, "many", &["1000", "16", &slots.to_string()]);
    let st = h.wait_exit(secs(200));
    eprintln!("1000 workers took {:?}", started.elapsed());
    assert_eq!(st.code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    let l = h.expect_field("host: many ", "registered", "1000", secs(1), "");
    assert_eq!(field(&l, "stopped").as_deref(), Some("1000"), "{l}");
    let starts = d.wait_log_count("marker: start name=lc_many_", 1000, secs(10));
    let names: std::collections::HashSet<String> =
        starts.iter().map(|l| field(l, "name").unwrap()).collect();
    assert_eq!(starts.len(), 1000, "some worker started more than once");
    assert_eq!(names.len(), 1000, "distinct workers started");
    h.expect_field(
        "host: all-slots ",
        "ok",
        slots.to_string().as_str(),
        secs(1),
        "slots not all free afterwards",
    );
    assert_no_crash_cycle(&d);
    assert!(d.try_exit().is_none());
}

// ---------------------------------------------------------------------------
// 13. SIGHUP is forwarded
// ---------------------------------------------------------------------------

per_major!(
    sighup_is_forwarded_to_workers,
    sighup_is_forwarded_to_workers_body
);
fn sighup_is_forwarded_to_workers_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "sighup_is_forwarded_to_workers");
    let d = lc_daemon(
        "sighup",
        "lc_hup|lc_hup_type|-1|0|loop hup;lc_nohup|lc_nohup_type|-1|0|loop",
        &[],
    );
    let p = wait_ready(&d, "lc_hup", secs(10));
    let q = wait_ready(&d, "lc_nohup", secs(10));
    d.signal(SIGHUP);
    d.wait_log("received SIGHUP, reloading configuration files", secs(10));
    d.wait_log(&format!("marker: got SIGHUP name=lc_hup pid={p}"), secs(10));
    // A worker without its own handler is not killed by the forwarded
    // SIGHUP: it runs with SIGHUP ignored (as PostgreSQL's workers do).
    let ign = sigmask(q, "SigIgn").expect("SigIgn of lc_nohup");
    assert!(
        ign & sig_bit(SIGHUP) != 0,
        "SIGHUP not ignored in a worker without a handler: SigIgn {ign:016x}"
    );
    assert!(
        pid_alive(p) && pid_alive(q),
        "worker died on SIGHUP; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log("was terminated by signal"),
        0,
        "log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

// ---------------------------------------------------------------------------
// 14. TerminateBackgroundWorker on a restartable worker
// ---------------------------------------------------------------------------

per_major!(
    terminated_restartable_worker_is_never_restarted_and_frees_its_slot,
    terminated_restartable_worker_is_never_restarted_and_frees_its_slot_body
);
fn terminated_restartable_worker_is_never_restarted_and_frees_its_slot_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "terminated_restartable_worker_is_never_restarted",
    );
    // Two slots: the sentinel (exit 1, restarted every second, so it keeps
    // its slot) and the dynamic worker the host terminates.
    let d = lc_daemon(
        "term-restartable",
        "lc_sentinel|lc_sentinel_type|1|0|exit=1",
        &[("max_worker_processes", "2")],
    );
    wait_start(&d, "lc_sentinel", 0, secs(10));
    let h = lc_host(&d, "termrestart", &[]);
    let l = h.wait_line("host: started pid=", secs(15));
    let pid = field_i64(&l, "pid") as i32;
    // The host terminates it at once, so it may be gone already; then the
    // daemon's exit report below (it reports only its own children) is
    // the proof of parentage. A process being reaped that moment reads
    // parent 0 in /proc (the kernel's view once it is no longer alive).
    if let Some(parent) = ppid(pid).filter(|&p| p != 0) {
        assert_eq!(parent, d.pid(), "worker {pid} is not a child of bgworkerd");
    }
    h.expect_field("step: terminated ", "status", "STOPPED", secs(15), "");
    // It got SIGTERM (default handling: FATAL, exit 1).
    let (term_idx, f) = d.wait_log_from(
        0,
        "terminating background worker \"lc_term_r_type\" due to administrator command",
        secs(5),
    );
    assert!(f.contains("FATAL:"), "{f}");
    let (exit_idx, _) = d.wait_log_from(term_idx, &exit_line("lc_term_r_type", pid, 1), secs(5));
    assert!(wait_pids_gone(&[pid], secs(5)).is_empty());
    // The sentinel starts twice after that exit: its starts are at least its
    // 1 s restart interval apart, so lc_term_r's own 1 s has passed too.
    let (s1, _) = wait_start(&d, "lc_sentinel", exit_idx, secs(10));
    wait_start(&d, "lc_sentinel", s1 + 1, secs(10));
    assert_eq!(
        d.count_log(&start_needle("lc_term_r")),
        1,
        "terminated worker restarted; log:\n{}",
        d.log_text()
    );
    h.signal(SIGUSR2);
    h.expect_field("host: after getpid=", "getpid", "STOPPED", secs(5), "");
    h.expect_field(
        "host: reuse ok=",
        "ok",
        "1",
        secs(10),
        "slot of the terminated worker not freed",
    );
    h.expect_field("host: reuse startup=", "startup", "STARTED", secs(10), "");
    h.wait_line("host: done", secs(10));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    assert_eq!(
        d.count_log(&start_needle("lc_term_r")),
        1,
        "log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

// ---------------------------------------------------------------------------
// 15. SIGQUIT with the worker's default handling; _exit(0)
// ---------------------------------------------------------------------------

per_major!(
    default_sigquit_in_a_worker_exits_2_and_starts_a_crash_cycle,
    default_sigquit_in_a_worker_exits_2_and_starts_a_crash_cycle_body
);
fn default_sigquit_in_a_worker_exits_2_and_starts_a_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "default_sigquit_in_a_worker_exits_2");
    let d = lc_daemon(
        "default-sigquit",
        "lc_plainq|lc_plainq_type|1|0|loop;lc_other|lc_other_type|1|0|loop quitmark",
        &[],
    );
    let p = wait_ready(&d, "lc_plainq", secs(10));
    let o = wait_ready(&d, "lc_other", secs(10));
    kill(p, SIGQUIT);
    let (exit_idx, line) = d.wait_log_from(0, &exit_line("lc_plainq_type", p, 2), secs(10));
    assert!(line.contains("LOG:"), "{line}");
    let (term_idx, _) =
        d.wait_log_from(0, "terminating any other active server processes", secs(10));
    assert_line_order(
        &d,
        exit_idx,
        term_idx,
        "exit 2 logged before the SIGQUIT round",
    );
    d.wait_log(
        &format!("marker: got SIGQUIT name=lc_other pid={o}"),
        secs(10),
    );
    let (reinit_idx, _) = d.wait_log_from(
        term_idx,
        "all server processes terminated; reinitializing",
        secs(10),
    );
    // Both are restartable: they come back as new processes.
    let (_, p2) = wait_start(&d, "lc_plainq", reinit_idx, secs(10));
    assert_ne!(p2, p);
    assert!(d.try_exit().is_none());
}

per_major!(
    underscore_exit_0_is_a_normal_exit,
    underscore_exit_0_is_a_normal_exit_body
);
fn underscore_exit_0_is_a_normal_exit_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "underscore_exit_0_is_a_normal_exit");
    // Restartable (1 s) and a second worker running: a crash would SIGQUIT
    // lc_bystander and keep lc_uexit registered for a restart.
    let d = lc_daemon(
        "underscore-exit0",
        "lc_uexit|lc_uexit_type|1|0|_exit=0;lc_bystander|lc_bystander_type|-1|0|loop quitmark",
        &[("log_min_messages", "debug1")],
    );
    let b = wait_ready(&d, "lc_bystander", secs(10));
    let (_, pid) = wait_start(&d, "lc_uexit", 0, secs(10));
    let line = d.wait_log(&exit_line("lc_uexit_type", pid, 0), secs(10));
    assert!(
        line.contains("DEBUG"),
        "_exit(0) must be logged at DEBUG1: {line}"
    );
    assert!(
        !line.contains("LOG:"),
        "_exit(0) must not be logged at LOG: {line}"
    );
    d.wait_log("unregistering background worker \"lc_uexit\"", secs(10));
    assert_no_crash_cycle(&d);
    assert_eq!(
        d.count_log("marker: got SIGQUIT"),
        0,
        "log:\n{}",
        d.log_text()
    );
    assert!(pid_alive(b), "bystander died after a normal exit");
    assert_eq!(
        d.count_log(&start_needle("lc_uexit")),
        1,
        "log:\n{}",
        d.log_text()
    );
}

// ---------------------------------------------------------------------------
// 16. shutdown with special workers
// ---------------------------------------------------------------------------

fn shutdown_with_pending_restart_waiter(how: &str) {
    let d = plain_daemon(&format!("pending-{how}"), &[]);
    let h = lc_host(&d, "pending", &[how]);
    h.wait_line("step: pending", secs(15));
    // The worker ran and exited 1: it now waits 60 s for its restart.
    let (_, start) = d.wait_log_from(0, &start_needle("lc_pending"), secs(10));
    let pid = field_i64(&start, "pid") as i32;
    d.wait_log(&exit_line("lc_pending_type", pid, 1), secs(10));
    h.signal(SIGUSR2);
    h.wait_line("host: waiting ", secs(5));
    // The wait either reads STOPPED at once (as in PostgreSQL, a worker
    // waiting for its restart has pid 0: stopped) or parks until the
    // shutdown forgets the worker; either way it must not outlive the
    // daemon or report its death.
    assert!(
        wait_until(secs(10), || h.count_lines("host: wait status=") > 0
            || blocked_in_futex(h.pid())),
        "host neither returned nor parked; output:\n{}",
        h.text()
    );
    d.signal(SIGTERM);
    d.wait_log("received smart shutdown request", secs(10));
    h.expect_field(
        "host: wait status=",
        "status",
        "STOPPED",
        secs(10),
        "waiter of a worker pending restart at shutdown",
    );
    // Exits well before the 60 s restart interval: the pending restart is
    // dropped, not waited for.
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "exit status {}; log:\n{}",
        describe_status(&st),
        d.log_text()
    );
    d.wait_log("bgworkerd shut down", secs(5));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("POSTMASTER_DIED"), 0, "{}", h.text());
    assert_eq!(
        d.count_log(&start_needle("lc_pending")),
        1,
        "log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

per_major!(
    shutdown_wakes_shutdown_waiter_of_worker_pending_restart,
    shutdown_wakes_shutdown_waiter_of_worker_pending_restart_body
);
fn shutdown_wakes_shutdown_waiter_of_worker_pending_restart_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "shutdown_wakes_shutdown_waiter_of_pending",
    );
    shutdown_with_pending_restart_waiter("shutdown");
}

per_major!(
    shutdown_wakes_startup_waiter_of_worker_pending_restart,
    shutdown_wakes_startup_waiter_of_worker_pending_restart_body
);
fn shutdown_wakes_startup_waiter_of_worker_pending_restart_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "shutdown_wakes_startup_waiter_of_pending");
    shutdown_with_pending_restart_waiter("startup");
}

per_major!(
    crash_during_smart_shutdown_exits_1,
    crash_during_smart_shutdown_exits_1_body
);
fn crash_during_smart_shutdown_exits_1_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "crash_during_smart_shutdown_exits_1");
    let d = lc_daemon(
        "crash-in-shutdown",
        "lc_termcrash|lc_termcrash_type|-1|0|loop termexit2",
        &[],
    );
    let p = wait_ready(&d, "lc_termcrash", secs(10));
    d.signal(SIGTERM);
    d.wait_log("received smart shutdown request", secs(10));
    d.wait_log(
        &format!("marker: got SIGTERM name=lc_termcrash pid={p}"),
        secs(10),
    );
    d.wait_log(&exit_line("lc_termcrash_type", p, 2), secs(10));
    d.wait_log("abnormal bgworkerd shutdown", secs(10));
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(1),
        "a crash during shutdown must make bgworkerd exit 1, got {}; log:\n{}",
        describe_status(&st),
        d.log_text()
    );
    assert!(!pid_alive(p));
    assert_eq!(d.count_log("reinitializing"), 0, "log:\n{}", d.log_text());
}

// ---------------------------------------------------------------------------
// 17. crash cycles seen from an attached host; SIGKILL escalation
// ---------------------------------------------------------------------------

per_major!(
    host_handles_survive_a_crash_cycle,
    host_handles_survive_a_crash_cycle_body
);
fn host_handles_survive_a_crash_cycle_body() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_handles_survive_a_crash_cycle");
    let d = lc_daemon(
        "crash-host-handles",
        "lc_crasher|lc_crasher_type|-1|0|loop crash=exit2",
        &[],
    );
    let crasher = wait_ready(&d, "lc_crasher", secs(10));
    let h = lc_host(&d, "crashsee", &[]);
    let l = h.wait_line("step: running ", secs(15));
    let n = field_i64(&l, "n") as i32;
    let r = field_i64(&l, "r") as i32;
    wait_ready(&d, "lc_cs_n", secs(5));
    wait_ready(&d, "lc_cs_r", secs(5));

    kill(crasher, SIGUSR2);
    d.wait_log(&exit_line("lc_crasher_type", crasher, 2), secs(10));
    let (reinit, _) = d.wait_log_from(
        0,
        "all server processes terminated; reinitializing",
        secs(15),
    );
    d.wait_log(
        &format!("marker: got SIGQUIT name=lc_cs_n pid={n}"),
        secs(1),
    );
    d.wait_log(
        &format!("marker: got SIGQUIT name=lc_cs_r pid={r}"),
        secs(1),
    );
    assert!(pid_alive(h.pid()), "attached host died in the crash cycle");
    // The supervisor logs "reinitializing" before it forgets the
    // never-restart worker; once the restartable one has started again,
    // that is done.
    let (_, sp) = wait_start(&d, "lc_cs_r", reinit, secs(15));
    h.signal(SIGUSR2);
    h.expect_field(
        "host: never getpid=",
        "getpid",
        "STOPPED",
        secs(10),
        "NEVER_RESTART handle after the crash cycle",
    );
    let l = h.expect_field(
        "host: restartable startup=",
        "startup",
        "STARTED",
        secs(15),
        "restartable handle after the crash cycle",
    );
    let r2 = field_i64(&l, "pid") as i32;
    assert_ne!(r2, r, "restarted worker must be a new process");
    assert_eq!(sp, r2, "the handle's pid is not the restarted worker's");
    h.wait_line("host: done", secs(15));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
    assert_eq!(
        d.count_log(&start_needle("lc_cs_n")),
        1,
        "log:\n{}",
        d.log_text()
    );
}

per_major!(
    crash_cycle_kills_worker_ignoring_sigquit_after_5_s,
    crash_cycle_kills_worker_ignoring_sigquit_after_5_s_body
);
fn crash_cycle_kills_worker_ignoring_sigquit_after_5_s_body() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "crash_cycle_kills_worker_ignoring_sigquit",
    );
    let d = lc_daemon(
        "crash-sigkill",
        "lc_crasher|lc_crasher_type|-1|0|loop crash=exit2;lc_stubborn|lc_stubborn_type|1|0|loop ignquit",
        &[],
    );
    let crasher = wait_ready(&d, "lc_crasher", secs(10));
    let s = wait_ready(&d, "lc_stubborn", secs(10));
    let ign = sigmask(s, "SigIgn").expect("SigIgn of lc_stubborn");
    assert!(
        ign & sig_bit(SIGQUIT) != 0,
        "SIGQUIT not ignored: {ign:016x}"
    );
    kill(crasher, SIGUSR2);
    d.wait_log(&exit_line("lc_crasher_type", crasher, 2), secs(10));
    let (term_idx, term) =
        d.wait_log_from(0, "terminating any other active server processes", secs(10));
    let round = Instant::now();
    // SIGQUIT does not stop it; only the SIGKILL 5 s later does.
    assert!(
        wait_pids_gone(&[s], secs(4)) == vec![s],
        "worker ignoring SIGQUIT died within 4 s of the SIGQUIT round; log:\n{}",
        d.log_text()
    );
    assert!(
        wait_pids_gone(&[s], secs(4)).is_empty(),
        "worker ignoring SIGQUIT still alive {:?} after the SIGQUIT round; log:\n{}",
        round.elapsed(),
        d.log_text()
    );
    let (reinit_idx, reinit) = d.wait_log_from(
        term_idx,
        "all server processes terminated; reinitializing",
        secs(10),
    );
    let gap = log_timestamp_ms(&reinit) - log_timestamp_ms(&term);
    assert!(
        (4500..=7000).contains(&gap),
        "reinitialized {gap} ms after the SIGQUIT round (SIGKILL is due after 5 s); log:\n{}",
        d.log_text()
    );
    // Like PostgreSQL's HandleChildCrash, only the first crash of a cycle
    // is logged: the SIGKILLed worker's exit is not.
    assert_eq!(
        d.count_log(&format!("(PID {s})")),
        0,
        "log:\n{}",
        d.log_text()
    );
    // Restartable: it comes back as a new process.
    let (_, s2) = wait_start(&d, "lc_stubborn", reinit_idx, secs(10));
    assert_ne!(s2, s);
    assert!(d.try_exit().is_none());
}
