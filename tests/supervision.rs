//! Supervision beyond PostgreSQL (opt-in), end to end through C: restart
//! backoff and the give-up limit, readiness and the start timeout, the stop
//! timeout, the watchdog, exit records after slot reuse, how a crash cycle
//! counts, a policy by bgw_type for an unchanged module's static worker,
//! and bad input.
//!
//! Programs: c-tests/sv_host.c (attaches and drives workers through
//! include/bgworker_supervision.h, printing "host: key=value" lines) and
//! c-tests/sv_workers.c (the workers, a PGXS module). Times are checked
//! with generous bounds: a delay is at least the configured one and at most
//! twice it plus a second. Every test runs under a watchdog; the intervals
//! are short so that the whole file takes seconds.

mod common;

use common::*;
use std::path::PathBuf;

fn workers_so() -> PathBuf {
    pgxs_module("sv_workers.c")
}

fn host_exe() -> PathBuf {
    host_program("sv_host.c")
}

fn plain_daemon(name: &str, settings: &[(&str, &str)]) -> Daemon {
    Daemon::builder(name).settings(settings).start()
}

/// Run sv_host SCENARIO against `d` to completion; its "host:" lines.
fn sv_host(d: &Daemon, scenario: &str, args: &[&str]) -> Vec<String> {
    let m = workers_so();
    let mut v: Vec<String> = vec![
        scenario.to_string(),
        d.rundir().display().to_string(),
        m.display().to_string(),
    ];
    v.extend(args.iter().map(|s| s.to_string()));
    let p = Proc::spawn(&host_exe(), &v, &[], &format!("sv_host-{scenario}"));
    let st = p.wait_exit(secs(60));
    let lines = p.lines();
    assert!(
        st.success() && !lines.iter().any(|l| l.contains("FAIL:")),
        "sv_host {scenario}: {}\n{}\ndaemon log:\n{}",
        describe_status(&st),
        lines.join("\n"),
        d.log_text()
    );
    lines
        .into_iter()
        .filter(|l| l.starts_with("host: "))
        .collect()
}

/// The host line starting with "host: PREFIX".
fn line<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    let want = format!("host: {prefix}");
    lines
        .iter()
        .find(|l| l.starts_with(&want))
        .unwrap_or_else(|| panic!("no line \"{want}\" in:\n{}", lines.join("\n")))
}

fn num(l: &str, key: &str) -> i64 {
    field_i64(l, key)
}

/// The t= of each start marker of worker `name`, in log order.
fn start_times(d: &Daemon, name: &str) -> Vec<i64> {
    d.log_lines()
        .iter()
        .filter(|l| l.contains(&start_needle(name)))
        .map(|l| field_i64(l, "t"))
        .collect()
}

const EXIT_NORMAL: i64 = 0;
const EXIT_CRASH: i64 = 1;
const EXIT_START_TIMEOUT: i64 = 2;
const EXIT_STOP_TIMEOUT: i64 = 3;
const EXIT_WATCHDOG: i64 = 4;
const EXIT_STOPPED: i64 = 5;
const STATE_RUNNING: i64 = 2;
const STATE_STOPPED: i64 = 5;
const STATE_FAILED: i64 = 6;

#[test]
fn backoff_delays_grow_to_the_cap_and_the_give_up_count_is_exact() {
    let _w = watchdog(
        90,
        "backoff_delays_grow_to_the_cap_and_the_give_up_count_is_exact",
    );
    let d = plain_daemon("sv-backoff", &[]);
    // 300, 600, then 1200 capped at 1000; the 4th exit is the 4th restart
    // within the window, more than 3: failed.
    let lines = sv_host(&d, "backoff", &["300", "2", "1000", "3"]);
    let failed = line(&lines, "failed exited=");
    assert_eq!(
        (
            num(failed, "starts"),
            num(failed, "state"),
            num(failed, "code"),
            num(failed, "crash"),
            num(failed, "reason")
        ),
        (4, STATE_FAILED, 1, 0, EXIT_NORMAL),
        "{failed}"
    );
    assert!(line(&lines, "failed status=").contains("status=STOPPED"));
    // Its last process exited before it was ready.
    assert_eq!(num(line(&lines, "failed wait_ready="), "wait_ready"), 2);
    let t = start_times(&d, "sv_backoff");
    // 4 starts up to the give-up, then one more after the relaunch.
    assert!(t.len() >= 5, "starts: {t:?}\n{}", d.log_text());
    for (k, want) in [300i64, 600, 1000].into_iter().enumerate() {
        let gap = t[k + 1] - t[k];
        assert!(
            gap >= want && gap <= 2 * want + 1000,
            "restart {} came {gap} ms after the previous start, configured {want} ms: {t:?}",
            k + 1
        );
    }
    let give_up = d.wait_log("giving up on background worker \"sv_backoff\"", secs(5));
    assert!(
        give_up.contains("4 restarts within 60000 ms exceed give_up_restarts = 3"),
        "{give_up}"
    );
    assert_eq!(num(line(&lines, "relaunch rc="), "rc"), 0);
    assert_eq!(num(line(&lines, "relaunched starts="), "starts"), 5);
    d.wait_log(
        "relaunching failed background worker \"sv_backoff\"",
        secs(5),
    );
    assert!(line(&lines, "after terminate").contains("status=STOPPED"));
    let stale = line(&lines, "relaunch stale");
    assert!(num(stale, "rc") == -1 && stale.contains("stale"), "{stale}");
    assert_no_crash_cycle(&d);
}

#[test]
fn ready_comes_strictly_after_started_and_failures_before_ready_are_reported() {
    let _w = watchdog(60, "ready_comes_strictly_after_started");
    let d = plain_daemon("sv-ready", &[]);
    let lines = sv_host(&d, "ready", &[]);
    let r = line(&lines, "ready startup=");
    assert!(
        r.contains("startup=STARTED") && num(r, "rc") == 0 && num(r, "same_pid") == 1,
        "{r}"
    );
    // The worker sleeps 300 ms between its start and bgw_notify_ready, and
    // it starts after its registration (both times count from there): so
    // ready comes at least 300 ms in, and after the startup the host saw
    // (which a loaded machine may let the host see late, so the gap
    // between the two is not bounded from below).
    let (started, ready) = (num(r, "started_ms"), num(r, "ready_ms"));
    assert!(
        ready > started && ready >= 300,
        "ready {ready} ms, started {started} ms after registration: ready must come \
         after the startup and after the worker's 300 ms"
    );
    let marker = d.wait_log("marker: ready name=sv_ready", secs(5));
    assert!(
        num(&marker, "rc") == 0 && num(&marker, "rc2") == 0,
        "{marker}"
    );
    assert_eq!(num(line(&lines, "ready again"), "rc"), 0);
    assert_eq!(
        num(line(&lines, "early rc="), "rc"),
        2,
        "exited before ready"
    );
    let slow = line(&lines, "slow rc=");
    assert_eq!(num(slow, "rc"), 3, "start timeout: {slow}");
    assert!(num(slow, "elapsed_ms") >= 400, "{slow}");
    let se = line(&lines, "slow exited=");
    assert_eq!(
        (
            num(se, "reason"),
            num(se, "signal"),
            num(se, "crash"),
            num(se, "ready")
        ),
        (EXIT_START_TIMEOUT, 9, 0, 0),
        "{se}"
    );
    d.wait_log("background worker \"sv_slow\" (PID", secs(5));
    assert!(d
        .log_text()
        .contains("was not ready within 400 ms (start_timeout); sending SIGKILL"));
    let never = line(&lines, "never startup=");
    // A worker that never declares itself ready is "started" as in
    // PostgreSQL; the waiter's own timeout ends its wait for ready.
    assert!(
        never.contains("startup=STARTED") && num(never, "rc") == 1,
        "{never}"
    );
    assert!(num(never, "elapsed_ms") >= 200, "{never}");
    assert_no_crash_cycle(&d);
}

#[test]
fn stop_timeout_kills_no_earlier_than_the_timeout_and_is_no_crash() {
    let _w = watchdog(60, "stop_timeout_kills_no_earlier_than_the_timeout");
    let d = plain_daemon("sv-stop", &[]);
    let lines = sv_host(&d, "stop", &[]);
    let s = line(&lines, "stop status=");
    let ms = num(s, "elapsed_ms");
    assert!(
        s.contains("status=STOPPED") && (700..=2400).contains(&ms),
        "{s}"
    );
    let e = line(&lines, "stop exited=");
    assert_eq!(
        (
            num(e, "reason"),
            num(e, "signal"),
            num(e, "crash"),
            num(e, "code")
        ),
        (EXIT_STOP_TIMEOUT, 9, 0, -1),
        "{e}"
    );
    let kill = d.wait_log(
        "did not stop within 700 ms of SIGTERM (stop_timeout); sending SIGKILL",
        secs(5),
    );
    assert!(
        kill.contains("LOG:") && kill.contains("\"sv_stubborn\""),
        "{kill}"
    );
    assert_no_crash_cycle(&d);
}

#[test]
fn stop_timeout_applies_to_a_fast_shutdown_from_the_settings() {
    let _w = watchdog(60, "stop_timeout_applies_to_a_fast_shutdown");
    let m = workers_so();
    let d = Daemon::builder("sv-shutdown")
        .preload(&[&m])
        .env("SV_STATIC", "sv_static_stubborn||-1|ignterm loop")
        .set("worker_stop_timeout", "600ms")
        .start();
    d.wait_log(&start_needle("sv_static_stubborn"), secs(10));
    std::thread::sleep(millis(200));
    let t0 = std::time::Instant::now();
    d.signal(libc::SIGINT);
    let st = d.wait_exit(secs(20));
    let ms = t0.elapsed().as_millis();
    assert!(st.success(), "{}\n{}", describe_status(&st), d.log_text());
    assert!((600..=2200).contains(&ms), "shut down after {ms} ms");
    assert!(d
        .log_text()
        .contains("did not stop within 600 ms of SIGTERM (stop_timeout); sending SIGKILL"));
}

#[test]
fn watchdog_kill_counts_as_exit_1_when_so_configured() {
    let _w = watchdog(60, "watchdog_kill_counts_as_exit_1");
    let d = plain_daemon("sv-wd-exit", &[]);
    let lines = sv_host(&d, "watchdog", &["exit"]);
    // Five check-ins 100 ms apart, then silence: killed no earlier than
    // 500 ms after the last one.
    let ms = num(line(&lines, "watchdog elapsed_ms="), "elapsed_ms");
    assert!((800..=2500).contains(&ms), "killed after {ms} ms");
    let e = line(&lines, "watchdog exited=");
    assert_eq!(
        (num(e, "reason"), num(e, "signal"), num(e, "crash")),
        (EXIT_WATCHDOG, 9, 0),
        "{e}"
    );
    let done = d
        .wait_log_from(0, "marker: checkins done name=sv_wd_exit", secs(5))
        .0;
    let (kill, _) = d.wait_log_from(0, "missed its watchdog check-in", secs(5));
    assert!(
        kill > done,
        "killed before its last check-in:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
}

#[test]
fn watchdog_kill_counts_as_a_crash_by_default() {
    let _w = watchdog(60, "watchdog_kill_counts_as_a_crash");
    let d = plain_daemon("sv-wd-crash", &[]);
    let lines = sv_host(&d, "watchdog", &["crash"]);
    let e = line(&lines, "watchdog exited=");
    assert_eq!(
        (num(e, "reason"), num(e, "signal"), num(e, "crash")),
        (EXIT_WATCHDOG, 9, 1),
        "{e}"
    );
    d.wait_log("terminating any other active server processes", secs(5));
}

#[test]
fn exit_reasons_are_read_through_the_handle_after_slot_reuse() {
    let _w = watchdog(60, "exit_reasons_after_slot_reuse");
    let d = plain_daemon("sv-reuse", &[("max_worker_processes", "1")]);
    let lines = sv_host(&d, "reuse", &[]);
    let g = line(&lines, "gone exited=");
    assert_eq!(
        (
            num(g, "code"),
            num(g, "starts"),
            num(g, "state"),
            num(g, "reason"),
            num(g, "time_ok")
        ),
        (1, 1, STATE_STOPPED, EXIT_NORMAL, 1),
        "{g}"
    );
    // The slot's only slot was reused k times; the first tenant's record is
    // kept for the last 4 generations (BGW_EXIT_RECORDS).
    for k in 1..=3 {
        let l = line(&lines, &format!("reuse k={k} "));
        assert_eq!(
            (
                num(l, "rc"),
                num(l, "code"),
                num(l, "starts"),
                num(l, "state")
            ),
            (0, 1, 1, STATE_STOPPED),
            "{l}"
        );
    }
    let gone = line(&lines, "reuse k=4 ");
    assert!(
        num(gone, "rc") == -1 && gone.contains("no exit record of slot 0"),
        "{gone}"
    );
    let n = line(&lines, "newest exited=");
    assert_eq!((num(n, "code"), num(n, "starts")), (0, 1), "{n}");
}

#[test]
fn a_crash_cycle_counts_toward_the_crasher_only() {
    let _w = watchdog(90, "a_crash_cycle_counts_toward_the_crasher_only");
    let d = plain_daemon("sv-crashcount", &[]);
    let lines = sv_host(&d, "crashcount", &[]);
    let c = line(&lines, "crasher exited=");
    // One restart allowed: the second crash makes it fail.
    assert_eq!(
        (
            num(c, "starts"),
            num(c, "state"),
            num(c, "crash"),
            num(c, "code"),
            num(c, "reason")
        ),
        (2, STATE_FAILED, 1, 2, EXIT_CRASH),
        "{c}"
    );
    let b = line(&lines, "bystander exited=");
    // Stopped by both cycles, restarted each time, never counted.
    assert_eq!(
        (num(b, "starts"), num(b, "state"), num(b, "reason")),
        (3, STATE_RUNNING, EXIT_STOPPED),
        "{b}"
    );
    assert_eq!(
        d.count_log("terminating any other active server processes"),
        2
    );
    assert!(d
        .log_text()
        .contains("giving up on background worker \"sv_crasher\": 2 restarts within 60000 ms exceed give_up_restarts = 1"));
    // The crasher's restart waited for its backoff after the cycle.
    let t = start_times(&d, "sv_crasher");
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t[1] - t[0] >= 300, "{t:?}");
    assert!(line(&lines, "crasher terminated").contains("status=STOPPED"));
}

#[test]
fn static_worker_of_an_unchanged_module_gets_its_policy_by_type() {
    let _w = watchdog(60, "static_worker_gets_its_policy_by_type");
    let m = workers_so();
    let d = Daemon::builder("sv-bytype")
        .preload(&[&m])
        .env(
            "SV_STATIC",
            "sv_static|sv flaky|0|exit=1;sv_other|sv plain|-1|loop",
        )
        .conf_file(
            "worker_policy_by_type = 'sv flaky: backoff_initial=300ms, give_up_restarts=1'\n",
        )
        .start();
    d.wait_log(
        "giving up on background worker \"sv_static\": 2 restarts within 60000 ms exceed give_up_restarts = 1",
        secs(10),
    );
    let t = start_times(&d, "sv_static");
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t[1] - t[0] >= 300 && t[1] - t[0] <= 1600, "{t:?}");
    let st = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(st.code, 0, "{st:?}");
    // "state" keeps version 1's values; "failed" says why it is stopped.
    assert!(
        st.stdout.starts_with("{\"version\":1,")
            && st.stdout.contains("\"name\":\"sv_static\"")
            && st.stdout.contains("\"state\":\"stopped\"")
            && st.stdout.contains("\"failed\":true")
            && st.stdout.contains(
                "\"last_exit_reason\":\"normal\",\"backoff_step\":1,\"restarts_in_window\":2"
            ),
        "status --json: {}",
        st.stdout
    );
    // Its effective policy; the other worker has none (PostgreSQL's).
    assert!(
        st.stdout.contains(
            "\"policy\":{\"backoff\":{\"initial_ms\":300,\"factor\":2,\"cap_ms\":300000,\"jitter\":0,\"reset_after_ms\":60000},\"give_up\":{\"restarts\":1,\"window_ms\":60000},\"start_timeout_ms\":null,\"stop_timeout_ms\":null,\"watchdog\":null}"
        ) && st.stdout.contains("\"policy\":null"),
        "status --json: {}",
        st.stdout
    );
    let plain = run_ctl(d.rundir(), &["status"]);
    assert!(plain.stdout.contains("failed"), "{}", plain.stdout);
    // bgworkerctl restarts it: two more starts, then failed again.
    let r = run_ctl(d.rundir(), &["restart", "--name", "sv_static"]);
    assert_eq!(r.code, 0, "{r:?}");
    d.wait_log_count(&start_needle("sv_static"), 4, secs(10));
    // Not failed: refused.
    let r = run_ctl(d.rundir(), &["restart", "--name", "sv_other"]);
    assert!(r.code == 1 && r.stderr.contains("is not failed"), "{r:?}");
    // The other static worker of the same module has no policy: untouched.
    assert_eq!(start_times(&d, "sv_other").len(), 1);
}

#[test]
fn a_static_workers_own_policy_wins_field_by_field_over_its_type() {
    let _w = watchdog(60, "a_static_workers_own_policy_wins");
    let m = workers_so();
    // The module sets give_up_restarts = 2 before registering sv_prec; the
    // configuration gives its type 0 restarts and a 200 ms backoff.
    let d = Daemon::builder("sv-prec")
        .preload(&[&m])
        .env("SV_STATIC", "sv_prec|sv prec|0|exit=1|2")
        .conf_file(
            "worker_policy_by_type = 'sv prec: give_up_restarts=0, backoff_initial=200ms, backoff_factor=1'\n",
        )
        .start();
    d.wait_log(
        "giving up on background worker \"sv_prec\": 3 restarts within 60000 ms exceed give_up_restarts = 2",
        secs(10),
    );
    let t = start_times(&d, "sv_prec");
    assert_eq!(t.len(), 3, "{t:?}");
    for k in 0..2 {
        let gap = t[k + 1] - t[k];
        assert!((200..=1400).contains(&gap), "{t:?}");
    }
}

#[test]
fn bad_input_gets_clear_errors_and_changes_nothing() {
    let _w = watchdog(60, "bad_input_gets_clear_errors");
    let d = plain_daemon("sv-bad", &[]);
    let lines = sv_host(&d, "bad", &[]);
    let expect = [
        ("negative", "backoff_initial_ms -5 is out of range"),
        ("absurd", "stop_timeout_ms 1000000000 is out of range"),
        ("factor", "backoff_factor 0.5 is out of range"),
        ("jitter", "backoff_jitter 2 is out of range"),
        ("give_up", "give_up_restarts -2 is out of range"),
        ("action", "watchdog_action 7 is not"),
        ("bits", "unknown bits"),
        ("size", "BgwPolicy.size is 0"),
        ("null_handle", "handle is NULL"),
        ("null_policy", "policy is NULL"),
        ("next", "stop_timeout_ms -1 is out of range"),
        ("wait_timeout", "timeout -5 ms is out of range"),
        (
            "ready_in_host",
            "bgw_notify_ready: this process is not a background worker",
        ),
        (
            "checkin_in_host",
            "bgw_watchdog_checkin: this process is not a background worker",
        ),
        ("exit_null", "info is NULL"),
        ("relaunch_running", "is not failed (it is running)"),
        ("over_max", "backoff_initial_ms 86400001 is out of range"),
    ];
    for (case, msg) in expect {
        let l = line(&lines, &format!("bad case={case} "));
        assert!(num(l, "rc") == -1 && l.contains(msg), "case {case}: {l}");
    }
    // The documented maximum is accepted; its arithmetic cannot overflow.
    assert_eq!(num(line(&lines, "bad case=at_max "), "rc"), 0);
    let v = line(&lines, "victim status=");
    assert!(
        v.contains("status=STARTED") && num(v, "same_pid") == 1 && num(v, "starts") == 1,
        "{v}"
    );
    // A child the worker forked is not the worker: in a module, each call
    // raises PostgreSQL's ERROR, which the child catches with PG_TRY.
    let child = d.wait_log("marker: child ready=", secs(5));
    assert!(
        child.contains("ready=-2") && child.contains("checkin=-2"),
        "{child}"
    );
    line(&lines, "bad done");
    assert_no_crash_cycle(&d);
}

#[test]
fn a_handle_of_another_daemon_is_refused() {
    let _w = watchdog(60, "a_handle_of_another_daemon_is_refused");
    let a = plain_daemon("sv-home", &[]);
    let b = plain_daemon("sv-away", &[]);
    let lines = sv_host(&a, "foreign", &[&b.rundir().display().to_string()]);
    for case in ["foreign_exit", "foreign_policy", "foreign_ready"] {
        let l = line(&lines, &format!("bad case={case} "));
        assert!(
            num(l, "rc") == -1 && l.contains("belongs to another supervisor"),
            "{l}"
        );
    }
    let p = line(&lines, "foreign pid status=");
    assert!(
        p.contains("status=STOPPED") && p.contains("belongs to another supervisor"),
        "{p}"
    );
    assert!(line(&lines, "home status=").contains("status=STARTED"));
}

#[test]
fn bad_settings_are_refused_with_the_field_named() {
    let _w = watchdog(60, "bad_settings_are_refused");
    let d = Daemon::builder("sv-badset")
        .set("worker_backoff_factor", "0.5")
        .spawn();
    let st = d.wait_exit(secs(20));
    assert!(!st.success());
    let log = d.log_text();
    assert!(
        log.contains("invalid value for parameter \"worker_backoff_factor\": \"0.5\"")
            && log.contains("backoff_factor 0.5 is out of range (1 .. 1000)"),
        "{log}"
    );
    let d = Daemon::builder("sv-badtype")
        .set("worker_policy_by_type", "x: stop_timeout=-3s")
        .spawn();
    let st = d.wait_exit(secs(20));
    assert!(!st.success());
    assert!(
        d.log_text()
            .contains("worker_policy_by_type: type \"x\": \"stop_timeout\" -3s is out of range"),
        "{}",
        d.log_text()
    );
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// `bgworkerctl launch` of an sv_workers worker behaving as `behaviour`.
fn ctl_launch(d: &Daemon, name: &str, behaviour: &str, extra: &[&str]) -> CtlRun {
    let lib = workers_so();
    let h = hex(behaviour);
    let mut args = vec![
        "launch",
        "--name",
        name,
        "--library",
        lib.to_str().unwrap(),
        "--function",
        "sv_main",
        "--extra-hex",
        &h,
    ];
    args.extend_from_slice(extra);
    run_ctl(d.rundir(), &args)
}

#[test]
fn bgworkerctl_launch_waits_for_ready_and_takes_a_policy() {
    let _w = watchdog(60, "bgworkerctl_launch_waits_for_ready");
    let d = plain_daemon("sv-ctl", &[]);
    let t0 = std::time::Instant::now();
    let r = ctl_launch(
        &d,
        "sv_ctl_ready",
        "sleep=300 ready loop",
        &[
            "--wait-ready",
            "--policy",
            "start_timeout=5s, stop_timeout=400ms",
        ],
    );
    assert!(r.code == 0 && r.stdout.ends_with(" ready\n"), "{r:?}");
    assert!(t0.elapsed().as_millis() >= 300);
    let pid = field_i64(&r.stdout, "pid");
    let marker = d.wait_log("marker: start name=sv_ctl_ready", secs(5));
    assert_eq!(field_i64(&marker, "pid"), pid);
    let st = run_ctl(d.rundir(), &["status"]);
    assert!(st.stdout.contains(" ready "), "{}", st.stdout);
    let j = run_ctl(d.rundir(), &["status", "--json"]);
    assert!(
        j.stdout.contains("\"ready\":true,\"ready_at\":\""),
        "{}",
        j.stdout
    );
    // Its policy came with it: the stop timeout applies to terminate.
    let r = run_ctl(
        d.rundir(),
        &["terminate", "--name", "sv_ctl_ready", "--wait"],
    );
    assert_eq!(r.code, 0, "{r:?}");

    let r = ctl_launch(&d, "sv_ctl_early", "exit=1", &["--wait-ready"]);
    assert!(
        r.code == 1 && r.stderr.contains("exited before it was ready"),
        "{r:?}"
    );
    let r = ctl_launch(
        &d,
        "sv_ctl_never",
        "loop",
        &["--wait-ready", "--ready-timeout", "0.3"],
    );
    assert!(
        r.code == 1 && r.stderr.contains("was not ready within the ready timeout"),
        "{r:?}"
    );
    let r = ctl_launch(
        &d,
        "sv_ctl_slow",
        "loop",
        &["--wait-ready", "--policy", "start_timeout=300ms"],
    );
    assert!(
        r.code == 1 && r.stderr.contains("within its start timeout and was killed"),
        "{r:?}"
    );
    // Bad policies are usage errors, and nothing is launched.
    for bad in [
        "backoff_factor=0",
        "stop_timeout=-1s",
        "nonsense=1",
        "stop_timeout",
    ] {
        let r = ctl_launch(&d, "sv_ctl_bad", "loop", &["--policy", bad]);
        assert!(r.code == 2 && r.stderr.contains("--policy"), "{bad}: {r:?}");
    }
    assert_eq!(d.count_log(&start_needle("sv_ctl_bad")), 0);
    let r = ctl_launch(&d, "sv_ctl_bad", "loop", &["--ready-timeout", "1"]);
    assert!(
        r.code == 2 && r.stderr.contains("needs --wait-ready"),
        "{r:?}"
    );
}

#[test]
fn a_reload_changes_the_policy_of_running_workers() {
    let _w = watchdog(60, "a_reload_changes_the_policy");
    let m = workers_so();
    let d = Daemon::builder("sv-reload")
        .preload(&[&m])
        .env("SV_STATIC", "sv_reloaded|sv flaky2|1|sleep=200 exit=1")
        .start();
    d.wait_log_count(&start_needle("sv_reloaded"), 2, secs(10));
    std::fs::write(
        d.rundir().join("bgworker.conf"),
        "worker_policy_by_type = 'sv flaky2: give_up_restarts=0'\n",
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log(
        "parameter \"worker_policy_by_type\" changed to \"sv flaky2: give_up_restarts=0\"",
        secs(5),
    );
    // Its next exit is one restart more than 0: failed.
    d.wait_log(
        "giving up on background worker \"sv_reloaded\": 1 restarts within 60000 ms exceed give_up_restarts = 0",
        secs(10),
    );
    let j = run_ctl(d.rundir(), &["status", "--json"]);
    assert!(
        j.stdout
            .contains("\"give_up\":{\"restarts\":0,\"window_ms\":60000}"),
        "{}",
        j.stdout
    );
    let n = d.count_log(&start_needle("sv_reloaded"));
    std::thread::sleep(millis(1500));
    assert_eq!(
        d.count_log(&start_needle("sv_reloaded")),
        n,
        "restarted after failing"
    );
}

/// include/bgworker_supervision.h declares exactly the functions of the
/// export table's supervision block.
#[test]
fn header_declares_exactly_the_supervision_exports() {
    let root = repo_root();
    let header = std::fs::read_to_string(root.join("include/bgworker_supervision.h")).unwrap();
    let mut declared: Vec<String> = header
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix("extern ")?;
            let open = rest.find('(')?;
            let name = rest[..open].split_whitespace().last()?;
            Some(name.trim_start_matches('*').to_string())
        })
        .collect();
    declared.sort();
    let table = std::fs::read_to_string(root.join("exports/bgworker.exports")).unwrap();
    let start = table
        .find("# Supervision beyond PostgreSQL")
        .expect("the supervision block");
    let mut rows: Vec<String> = table[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    rows.sort();
    assert_eq!(declared, rows);
    assert_eq!(rows.len(), 8);
}

#[test]
fn an_immediate_shutdown_does_not_apply_the_stop_timeout() {
    let _w = watchdog(60, "an_immediate_shutdown_does_not_apply_the_stop_timeout");
    let m = workers_so();
    let d = Daemon::builder("sv-immediate")
        .preload(&[&m])
        .env("SV_STATIC", "sv_deaf||-1|ignterm ignquit loop")
        .set("worker_stop_timeout", "300ms")
        .start();
    d.wait_log(&start_needle("sv_deaf"), secs(10));
    std::thread::sleep(millis(200));
    let t0 = std::time::Instant::now();
    d.signal(libc::SIGQUIT);
    d.wait_exit(secs(20));
    let ms = t0.elapsed().as_millis();
    // PostgreSQL's 5 s SIGKILL grace, not the 300 ms stop timeout.
    assert!(ms >= 4500, "killed after {ms} ms:\n{}", d.log_text());
    assert!(!d.log_text().contains("stop_timeout"), "{}", d.log_text());
}

#[test]
fn backoff_starts_over_after_reset_after_and_jitter_stays_in_bounds() {
    let _w = watchdog(60, "backoff_starts_over_after_reset_after");
    let m = workers_so();
    // Each run lasts 300 ms, longer than reset_after: every restart is the
    // first of its series, 200 ms plus up to 100 % jitter; without the
    // reset the second would wait 2 s or more.
    let d = Daemon::builder("sv-reset")
        .preload(&[&m])
        .env("SV_STATIC", "sv_reset|sv reset|0|sleep=300 exit=1")
        .set(
            "worker_policy_by_type",
            "sv reset: backoff_initial=200ms, backoff_factor=10, backoff_jitter=1, backoff_reset_after=250ms",
        )
        .start();
    d.wait_log_count(&start_needle("sv_reset"), 4, secs(15));
    let t = start_times(&d, "sv_reset");
    for k in 0..3 {
        let gap = t[k + 1] - t[k];
        assert!(
            (300 + 200..=300 + 2 * 200 + 1000).contains(&gap),
            "gap {k}: {gap} ms: {t:?}"
        );
    }
}
