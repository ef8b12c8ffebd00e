//! bgworkerctl against a real bgworkerd: every command and exit status,
//! the facts behind `status` (crash, restart at T, start counts), a
//! terminal session under tmux for `status --watch`, systemd's notify
//! protocol, `log_line_prefix` and `log_file`.

mod common;

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use common::*;

// ------------------------------------------------------------------ JSON

/// Just enough JSON to check `status --json` strictly: a parse error fails
/// the test, so the output must be well-formed.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let b = text.trim().as_bytes();
        let mut i = 0;
        let v = parse_value(b, &mut i);
        assert_eq!(i, b.len(), "trailing bytes after JSON value in {text}");
        v
    }

    fn get(&self, k: &str) -> &Json {
        match self {
            Json::Obj(m) => m
                .get(k)
                .unwrap_or_else(|| panic!("no key {k:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }

    fn num(&self) -> i64 {
        match self {
            Json::Num(n) => *n as i64,
            _ => panic!("not a number: {self:?}"),
        }
    }

    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }

    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => panic!("not an array: {self:?}"),
        }
    }
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn parse_value(b: &[u8], i: &mut usize) -> Json {
    skip_ws(b, i);
    let c = *b.get(*i).expect("unexpected end of JSON");
    let v = match c {
        b'{' => {
            *i += 1;
            let mut m = BTreeMap::new();
            skip_ws(b, i);
            if b[*i] == b'}' {
                *i += 1;
            } else {
                loop {
                    skip_ws(b, i);
                    let Json::Str(k) = parse_value(b, i) else {
                        panic!("object key is not a string")
                    };
                    skip_ws(b, i);
                    assert_eq!(b[*i], b':', "expected ':' at {}", *i);
                    *i += 1;
                    let v = parse_value(b, i);
                    assert!(m.insert(k.clone(), v).is_none(), "duplicate key {k}");
                    skip_ws(b, i);
                    match b[*i] {
                        b',' => *i += 1,
                        b'}' => {
                            *i += 1;
                            break;
                        }
                        x => panic!("expected ',' or '}}', got {:?}", x as char),
                    }
                }
            }
            Json::Obj(m)
        }
        b'[' => {
            *i += 1;
            let mut a = Vec::new();
            skip_ws(b, i);
            if b[*i] == b']' {
                *i += 1;
            } else {
                loop {
                    a.push(parse_value(b, i));
                    skip_ws(b, i);
                    match b[*i] {
                        b',' => *i += 1,
                        b']' => {
                            *i += 1;
                            break;
                        }
                        x => panic!("expected ',' or ']', got {:?}", x as char),
                    }
                }
            }
            Json::Arr(a)
        }
        b'"' => {
            *i += 1;
            let mut s = String::new();
            loop {
                let c = b[*i];
                *i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = b[*i];
                        *i += 1;
                        match e {
                            b'"' => s.push('"'),
                            b'\\' => s.push('\\'),
                            b'/' => s.push('/'),
                            b'n' => s.push('\n'),
                            b't' => s.push('\t'),
                            b'u' => {
                                let h = std::str::from_utf8(&b[*i..*i + 4]).unwrap();
                                s.push(
                                    char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap(),
                                );
                                *i += 4;
                            }
                            x => panic!("bad escape {:?}", x as char),
                        }
                    }
                    c if c < 0x20 => panic!("control byte in JSON string"),
                    c => s.push(c as char),
                }
            }
            Json::Str(s)
        }
        b't' | b'f' | b'n' => {
            let word = [&b"true"[..], b"false", b"null"]
                .into_iter()
                .find(|w| b[*i..].starts_with(w))
                .expect("bad literal");
            *i += word.len();
            match word {
                b"true" => Json::Bool(true),
                b"false" => Json::Bool(false),
                _ => Json::Null,
            }
        }
        _ => {
            let start = *i;
            while *i < b.len() && matches!(b[*i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                *i += 1;
            }
            Json::Num(
                std::str::from_utf8(&b[start..*i])
                    .unwrap()
                    .parse()
                    .expect("bad number"),
            )
        }
    };
    v
}

// --------------------------------------------------------------- helpers

fn lc_module() -> PathBuf {
    pgxs_module("lc_workers.c")
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// `launch` an lc_workers worker named `name` behaving as `behaviour`.
fn launch(d: &Daemon, name: &str, behaviour: &str, extra: &[&str]) -> CtlRun {
    let lib = lc_module();
    let h = hex(behaviour);
    let mut args = vec![
        "launch",
        "--name",
        name,
        "--library",
        lib.to_str().unwrap(),
        "--function",
        "lc_main",
        "--extra-hex",
        &h,
    ];
    args.extend_from_slice(extra);
    run_ctl(d.rundir(), &args)
}

/// The worker of `status --json` in `slot`.
fn worker_json(d: &Daemon, slot: i64) -> Json {
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    Json::parse(&r.stdout)
        .get("workers")
        .arr()
        .iter()
        .find(|w| w.get("slot").num() == slot)
        .cloned()
        .unwrap_or_else(|| panic!("no slot {slot} in {}", r.stdout))
}

/// Poll `status --json` until `cond` holds for the worker in `slot`.
fn wait_worker(d: &Daemon, slot: i64, what: &str, cond: impl Fn(&Json) -> bool) -> Json {
    let mut last = Json::Null;
    let ok = wait_until(secs(20), || {
        last = worker_json(d, slot);
        cond(&last)
    });
    assert!(ok, "slot {slot} never became {what}; last: {last:?}");
    last
}

/// `key=value` of a launch/terminate output line.
fn out_field(r: &CtlRun, key: &str) -> i64 {
    let line = r
        .stdout
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no output: {r:?}"));
    field_i64(line, key)
}

fn one_line_error(r: &CtlRun, code: i32, needle: &str) {
    assert_eq!(r.code, code, "exit status; {r:?}");
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "exactly one line on stderr; {r:?}"
    );
    assert!(r.stderr.starts_with("bgworkerctl: "), "{r:?}");
    assert!(
        r.stderr.contains(needle),
        "stderr should contain {needle:?}; {r:?}"
    );
}

// ----------------------------------------------------------------- tests

#[test]
fn status_table_and_json_show_every_worker() {
    let _w = watchdog(DEFAULT_WATCHDOG, "status_table_and_json_show_every_worker");
    let m = lc_module();
    let d = Daemon::builder("ctl_status")
        .preload(&[&m])
        .env("LC_STATIC", "static_one|sone|5|7|loop")
        .set("max_worker_processes", "4")
        .set("max_parallel_workers", "3")
        .start();
    let pid = wait_ready(&d, "static_one", secs(10));
    // The worker may print its marker before the supervisor (descheduled
    // after fork) records the start.
    wait_worker(&d, 0, "running", |w| w.get("state").str() == "running");

    let r = run_ctl(d.rundir(), &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header, one worker, summary: {r:?}");
    for l in &lines {
        assert!(l.chars().count() <= 80, "wider than 80 columns: {l:?}");
    }
    let cols: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "SL",
            "PID",
            "NAME",
            "TYPE",
            "STATE",
            "UPTIME",
            "STARTS",
            "EXIT",
            "RESTART",
            "PG",
            "LIBRARY:FUNCTION"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], "0");
    assert_eq!(row[1], pid.to_string());
    assert_eq!(row[2], "static_one");
    assert_eq!(row[3], "sone");
    assert_eq!(row[4], "running");
    assert_eq!(row[6], "1", "starts");
    assert_eq!(row[7], "-", "never exited");
    assert_eq!(row[8], "-", "no restart pending");
    assert_eq!(row[9], "15", "the daemon's PostgreSQL major");
    // At 80 columns the library may be cut (marked ~) to fit; the
    // function is kept whole.
    let (lib, func) = row[10].split_once(':').expect("library:function");
    assert_eq!(func, "lc_main", "{}", row[10]);
    assert!(
        lib == "lc_workers"
            || (lib.ends_with('~') && "lc_workers".starts_with(lib.trim_end_matches('~'))),
        "{}",
        row[10]
    );
    assert!(
        lines[2].starts_with("slots 1/4, parallel 0/3, phase RecoveryFinished, up "),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(", crash restarts 0"), "{}", lines[2]);

    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = Json::parse(&r.stdout);
    assert_eq!(j.get("version").num(), 1);
    let dm = j.get("daemon");
    assert_eq!(dm.get("pid").num(), d.pid() as i64);
    assert_eq!(dm.get("phase").str(), "RecoveryFinished");
    assert_eq!(dm.get("shutdown"), &Json::Null);
    assert_eq!(dm.get("crash_restarts").num(), 0);
    assert_eq!(dm.get("slots_total").num(), 4);
    assert_eq!(dm.get("slots_used").num(), 1);
    assert_eq!(dm.get("parallel_used").num(), 0);
    assert_eq!(dm.get("parallel_max").num(), 3);
    assert!(dm.get("start_time").str().ends_with('Z'));
    let ws = j.get("workers").arr();
    assert_eq!(ws.len(), 1, "{}", r.stdout);
    let w = &ws[0];
    assert_eq!(w.get("slot").num(), 0);
    assert_eq!(w.get("state").str(), "running");
    assert_eq!(w.get("pid").num(), pid as i64);
    assert_eq!(w.get("name").str(), "static_one");
    assert_eq!(w.get("type").str(), "sone");
    assert_eq!(w.get("library").str(), m.to_str().unwrap());
    assert_eq!(w.get("function").str(), "lc_main");
    assert_eq!(w.get("main_arg").num(), 7);
    assert_eq!(w.get("major").num(), 15, "the daemon's PostgreSQL major");
    assert_eq!(w.get("restart_interval_s").num(), 5);
    assert_eq!(
        w.get("registered_by").num(),
        d.pid() as i64,
        "a static worker is registered by the daemon"
    );
    assert_eq!(w.get("starts").num(), 1);
    assert_eq!(w.get("last_exit_status"), &Json::Null);
    assert_eq!(w.get("last_exit"), &Json::Null);
    assert_eq!(w.get("last_exit_crash"), &Json::Bool(false));
    assert_eq!(w.get("restart_at"), &Json::Null);
    assert!(w.get("last_start").str() >= w.get("registered_at").str());

    // A dynamic worker: registered by the bgworkerctl process.
    let r = launch(&d, "dyn_one", "loop", &["--wait", "--type", "dtype"]);
    assert_eq!(r.code, 0, "{r:?}");
    let slot = out_field(&r, "slot");
    let w = worker_json(&d, slot);
    assert_eq!(w.get("name").str(), "dyn_one");
    assert_eq!(w.get("type").str(), "dtype");
    assert_eq!(
        w.get("restart_interval_s"),
        &Json::Null,
        "--restart defaults to never"
    );
    assert_eq!(w.get("pid").num(), out_field(&r, "pid"));
    let by = w.get("registered_by").num();
    assert!(
        by > 0 && by != d.pid() as i64,
        "registered by the tool, not the daemon: {by}"
    );
    assert_no_crash_cycle(&d);
}

#[test]
fn launch_wait_and_terminate_by_pid_slot_and_name() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "launch_wait_and_terminate_by_pid_slot_and_name",
    );
    let d = plain_daemon("ctl_launch", &[("max_worker_processes", "4")]);

    // launch without --wait prints the handle; with --wait also the pid.
    let r = launch(&d, "w_pid", "loop", &["--arg", "42"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (slot, generation) = (out_field(&r, "slot"), out_field(&r, "generation"));
    assert!(generation >= 1);
    let pid = wait_ready(&d, "w_pid", secs(10));
    d.expect_field(
        "marker: start name=w_pid ",
        "arg",
        "42",
        secs(5),
        "--arg is the main argument",
    );
    wait_worker(&d, slot, "running with its pid", |w| {
        w.get("pid") == &Json::Num(pid as f64)
    });

    // terminate --pid, --wait: stopped, process gone, never restarted.
    let r = run_ctl(
        d.rundir(),
        &["terminate", "--pid", &pid.to_string(), "--wait"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("terminating slot={slot} generation={generation}")),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains(&format!("stopped slot={slot} generation={generation}")),
        "{r:?}"
    );
    assert!(wait_pids_gone(&[pid], secs(5)).is_empty());
    d.wait_log(
        "terminating background worker \"w_pid\" due to administrator command",
        secs(5),
    );
    let w = worker_json(&d, slot);
    assert_eq!(w.get("state").str(), "stopped");
    assert_eq!(w.get("last_exit_status").get("code").num(), 1);

    // terminate --slot with a stale generation is refused; the right one works.
    let r = launch(&d, "w_slot", "loop", &["--wait", "--restart", "1"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (slot, generation, pid) = (
        out_field(&r, "slot"),
        out_field(&r, "generation"),
        out_field(&r, "pid"),
    );
    let stale = format!("{slot}:{}", generation - 1);
    let r = run_ctl(d.rundir(), &["terminate", "--slot", &stale]);
    one_line_error(&r, 1, "stale handle");
    assert!(
        pid_alive(pid as i32),
        "a stale handle must not terminate the slot's new tenant"
    );
    let r = run_ctl(
        d.rundir(),
        &[
            "terminate",
            "--slot",
            &format!("{slot}:{generation}"),
            "--wait",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(wait_pids_gone(&[pid as i32], secs(5)).is_empty());
    // restartable, but terminated: forgotten, not restarted
    assert_eq!(worker_json(&d, slot).get("state").str(), "stopped");

    // terminate --name, including a slot number without generation.
    let r = launch(&d, "w_name", "loop", &["--wait"]);
    let pid = out_field(&r, "pid");
    let r = run_ctl(d.rundir(), &["terminate", "--name", "w_name", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(wait_pids_gone(&[pid as i32], secs(5)).is_empty());
    let r = launch(&d, "w_bare_slot", "loop", &["--wait"]);
    let (slot, pid) = (out_field(&r, "slot"), out_field(&r, "pid"));
    let r = run_ctl(
        d.rundir(),
        &["terminate", "--slot", &slot.to_string(), "--wait"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(wait_pids_gone(&[pid as i32], secs(5)).is_empty());

    // No such worker: exit 1, one line.
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--name", "nobody"]),
        1,
        "no such worker",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--pid", "1"]),
        1,
        "no such worker",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--slot", "3"]),
        1,
        "slot 3 is free",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--slot", "99"]),
        1,
        "slot 99 does not exist",
    );
    // Usage errors: exit 2, one line.
    one_line_error(&run_ctl(d.rundir(), &["terminate"]), 2, "exactly one of");
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--pid", "x"]),
        2,
        "invalid pid",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["terminate", "--slot", "1:x"]),
        2,
        "invalid slot",
    );
    assert_no_crash_cycle(&d);
}

#[test]
fn every_command_has_its_own_help() {
    let _w = watchdog(DEFAULT_WATCHDOG, "every_command_has_its_own_help");
    let d = plain_daemon("ctl_help", &[("max_worker_processes", "2")]);
    let commands = ["status", "launch", "terminate", "stop", "reload"];
    for cmd in commands {
        for flag in ["--help", "-h", "-?"] {
            // Without -D, and with a command line that would act.
            let alone = run_ctl_raw(&[cmd, flag]);
            let full = match cmd {
                "launch" => run_ctl(
                    d.rundir(),
                    &[
                        cmd,
                        "--name",
                        "h",
                        "--library",
                        "l",
                        "--function",
                        "f",
                        flag,
                    ],
                ),
                "terminate" => run_ctl(d.rundir(), &[cmd, "--name", "h", flag]),
                "stop" => run_ctl(d.rundir(), &[cmd, flag, "--mode", "immediate"]),
                _ => run_ctl(d.rundir(), &[cmd, flag]),
            };
            for r in [&alone, &full] {
                assert_eq!(r.code, 0, "{cmd} {flag}: {r:?}");
                assert!(r.stderr.is_empty(), "{cmd} {flag}: {r:?}");
                assert!(
                    r.stdout
                        .contains(&format!("Usage:\n  bgworkerctl -D RUNDIR {cmd}")),
                    "{cmd} {flag} shows no usage of {cmd}: {r:?}"
                );
                assert!(r.stdout.contains("-h, --help"), "{r:?}");
                for other in commands.iter().filter(|o| **o != cmd) {
                    assert!(
                        !r.stdout.contains(&format!("bgworkerctl -D RUNDIR {other}")),
                        "{cmd} {flag} shows {other}'s usage too: {r:?}"
                    );
                }
            }
        }
    }
    // Each command's options are listed in its help.
    let launch_help = run_ctl_raw(&["launch", "--help"]).stdout;
    for o in [
        "--name",
        "--library",
        "--function",
        "--type",
        "--arg",
        "--extra-hex",
        "--restart",
        "--start-time",
        "--wait",
    ] {
        assert!(
            launch_help.contains(&format!("  {o} ")),
            "launch --help lacks {o}:\n{launch_help}"
        );
    }
    let terminate_help = run_ctl_raw(&["terminate", "-h"]).stdout;
    for o in ["--pid", "--slot", "--name", "--wait"] {
        assert!(
            terminate_help.contains(&format!("  {o} ")),
            "{terminate_help}"
        );
    }
    assert!(run_ctl_raw(&["status", "-h"])
        .stdout
        .contains("--watch[=SECONDS]"));
    assert!(run_ctl_raw(&["stop", "-h"]).stdout.contains("--mode MODE"));
    // The general help points at them.
    assert!(run_ctl_raw(&["-h"])
        .stdout
        .contains("bgworkerctl COMMAND --help"));
    // Asking for help did nothing: no worker, the daemon still runs.
    assert_eq!(worker_count(&d), 0, "help registered a worker");
    assert!(
        d.try_exit().is_none(),
        "help stopped bgworkerd:\n{}",
        d.log_text()
    );
    assert_eq!(d.count_log("shutdown request"), 0, "{}", d.log_text());
    assert_no_crash_cycle(&d);
}

#[test]
fn launch_refusals_and_usage_errors() {
    let _w = watchdog(DEFAULT_WATCHDOG, "launch_refusals_and_usage_errors");
    let d = plain_daemon("ctl_refusals", &[("max_worker_processes", "2")]);
    // The C API's validation and PostgreSQL's messages: refused (1).
    let r = launch(&d, "bad", "loop", &["--restart", "-5"]);
    one_line_error(&r, 1, "background worker \"bad\": invalid restart interval");
    let r = launch(&d, &"n".repeat(96), "loop", &[]);
    one_line_error(&r, 1, "bgw_name is not NUL-terminated within 96 bytes");
    let r = launch(&d, "bad", "loop", &["--restart", "86400001"]);
    one_line_error(&r, 1, "invalid restart interval");

    // The command line itself is wrong: usage (2), nothing registered.
    one_line_error(
        &run_ctl(d.rundir(), &["launch", "--name", "x"]),
        2,
        "launch needs --library",
    );
    one_line_error(
        &launch(&d, "x", "loop", &["--arg", "many"]),
        2,
        "invalid main argument",
    );
    one_line_error(
        &launch(&d, "x", "loop", &["--restart", "soon"]),
        2,
        "invalid restart interval \"soon\"",
    );
    one_line_error(
        &launch(&d, "x", "loop", &["--start-time", "later"]),
        2,
        "invalid start time",
    );
    one_line_error(
        &run_ctl(
            d.rundir(),
            &[
                "launch",
                "--name",
                "x",
                "--library",
                "l",
                "--function",
                "f",
                "--extra-hex",
                "zz",
            ],
        ),
        2,
        "invalid hex digits",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["frobnicate"]),
        2,
        "unknown command \"frobnicate\"",
    );
    one_line_error(
        &run_ctl(d.rundir(), &["status", "--bogus"]),
        2,
        "unrecognized argument \"--bogus\"",
    );
    one_line_error(&run_ctl_raw(&["status"]), 2, "no run directory specified");
    one_line_error(
        &run_ctl(d.rundir(), &["stop", "--mode", "gentle"]),
        2,
        "invalid shutdown mode",
    );
    let after = run_ctl_raw(&["status", "-D", d.rundir().to_str().unwrap(), "--json"]);
    assert_eq!(after.code, 0, "-D after the command: {after:?}");
    let r = run_ctl_raw(&["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Exit status: 0 done"), "{r:?}");
    assert_eq!(
        worker_count(&d),
        0,
        "nothing was registered by refused launches"
    );

    // Full slot table: refused (1).
    for n in ["fill_a", "fill_b"] {
        assert_eq!(launch(&d, n, "loop", &["--wait"]).code, 0);
    }
    let r = launch(&d, "one_too_many", "loop", &[]);
    one_line_error(&r, 1, "no free background worker slot: all 2 are in use");
    let st = run_ctl(d.rundir(), &["status"]);
    assert!(st.stdout.contains("slots 2/2,"), "{st:?}");
    assert_no_crash_cycle(&d);
}

fn worker_count(d: &Daemon) -> usize {
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    Json::parse(&r.stdout).get("workers").arr().len()
}

#[test]
fn facts_follow_a_restart_and_a_crash() {
    let _w = watchdog(DEFAULT_WATCHDOG, "facts_follow_a_restart_and_a_crash");
    let d = plain_daemon("ctl_facts", &[("max_worker_processes", "4")]);

    // Exit 1 (SIGTERM's default handling): restarting at T, then running
    // again with starts = 2.
    let r = launch(&d, "flaky", "loop", &["--restart", "5", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (slot, pid1) = (out_field(&r, "slot"), out_field(&r, "pid") as i32);
    wait_ready(&d, "flaky", secs(10));
    let cursor = d.log_len();
    // SAFETY: signalling the worker this test started through the daemon.
    unsafe { libc::kill(pid1, libc::SIGTERM) };
    d.wait_log_from(cursor, "background worker \"flaky\" (PID", secs(10));
    let w = wait_worker(&d, slot, "restarting", |w| {
        w.get("state").str() == "restarting"
    });
    assert_eq!(w.get("last_exit_status").get("code").num(), 1);
    assert_eq!(w.get("last_exit_crash"), &Json::Bool(false));
    assert_eq!(w.get("pid"), &Json::Null);
    assert_eq!(w.get("starts").num(), 1);
    let at = w.get("restart_at").str().to_string();
    assert!(
        at.as_str() > w.get("last_exit").str(),
        "restart_at {at} after the exit"
    );
    let table = run_ctl(d.rundir(), &["status"]);
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("flaky"))
        .unwrap_or_else(|| panic!("{table:?}"))
        .to_string();
    let cells: Vec<&str> = row.split_whitespace().collect();
    // SL PID NAME TYPE STATE UPTIME STARTS EXIT RESTART ("in Ns") LIB:FUNC
    assert_eq!(
        (cells[1], cells[4], cells[5], cells[6], cells[7], cells[8]),
        ("-", "restart", "-", "1", "1", "in"),
        "{row}"
    );
    let w = wait_worker(&d, slot, "running again", |w| {
        w.get("state").str() == "running"
    });
    assert_eq!(w.get("starts").num(), 2);
    let pid2 = w.get("pid").num() as i32;
    assert_ne!(pid2, pid1);
    assert_eq!(
        w.get("last_exit_status").get("code").num(),
        1,
        "the last exit is kept"
    );

    // A crash (SIGSEGV): counted as a crash, crash cycle, restarted at
    // once, starts = 2, and the daemon counts one crash restart.
    let r = launch(
        &d,
        "crasher",
        "loop crash=segv",
        &["--restart", "60", "--wait"],
    );
    let (cslot, cpid) = (out_field(&r, "slot"), out_field(&r, "pid") as i32);
    wait_ready(&d, "crasher", secs(10));
    // SAFETY: signalling the worker this test started through the daemon.
    unsafe { libc::kill(cpid, libc::SIGUSR2) };
    d.wait_log("all server processes terminated; reinitializing", secs(20));
    let w = wait_worker(&d, cslot, "restarted after the crash", |w| {
        w.get("state").str() == "running" && w.get("starts").num() == 2
    });
    let st = w.get("last_exit_status");
    assert_eq!(st.get("signal").num(), libc::SIGSEGV as i64);
    assert_eq!(st.get("signal_name").str(), "SIGSEGV");
    assert_eq!(w.get("last_exit_crash"), &Json::Bool(true));
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    let j = Json::parse(&r.stdout);
    assert_eq!(j.get("daemon").get("crash_restarts").num(), 1);
    let table = run_ctl(d.rundir(), &["status"]);
    assert!(table.stdout.contains("crash restarts 1"), "{table:?}");
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("crasher"))
        .unwrap()
        .to_string();
    assert!(
        row.split_whitespace().any(|c| c == "SEGV!"),
        "crash marked in the table: {row}"
    );
}

#[test]
fn stop_modes_and_reload() {
    let _w = watchdog(90, "stop_modes_and_reload");
    for (mode, word) in [
        ("smart", "smart"),
        ("fast", "fast"),
        ("immediate", "immediate"),
    ] {
        let d = plain_daemon(&format!("ctl_stop_{mode}"), &[]);
        assert_eq!(launch(&d, "victim", "loop", &["--wait"]).code, 0);
        let victim = wait_ready(&d, "victim", secs(10));
        let r = run_ctl(d.rundir(), &["stop", "--mode", mode, "--wait"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stdout.contains(&format!("{word} shutdown requested")),
            "{r:?}"
        );
        assert!(r.stdout.contains("stopped"), "{r:?}");
        d.wait_log(&format!("received {word} shutdown request"), secs(5));
        let st = d.wait_exit(secs(10));
        assert_eq!(st.code(), Some(0), "{mode}: {}", describe_status(&st));
        assert!(!pid_alive(victim));
    }
    // The default mode is fast; reload is SIGHUP.
    let d = plain_daemon("ctl_reload", &[]);
    let r = run_ctl(d.rundir(), &["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    d.wait_log("received SIGHUP, reloading configuration files", secs(5));
    let r = run_ctl(d.rundir(), &["stop"]);
    assert_eq!(r.code, 0, "{r:?}");
    d.wait_log("received fast shutdown request", secs(5));
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}

#[test]
fn no_daemon_and_stale_pid_file() {
    let _w = watchdog(DEFAULT_WATCHDOG, "no_daemon_and_stale_pid_file");
    // No pid file at all.
    let empty = Scratch::new("ctl_empty");
    let r = run_ctl(&empty, &["status"]);
    one_line_error(&r, 3, "no bgworkerd is running on");
    assert!(r.stderr.contains("bgworkerd.pid"), "{r:?}");
    one_line_error(
        &run_ctl(&empty.join("missing"), &["stop"]),
        3,
        "no such directory",
    );
    // A file where the run directory should be.
    std::fs::write(empty.join("file"), "x").unwrap();
    for dir in [empty.join("file"), PathBuf::from("/etc/passwd")] {
        let r = run_ctl(&dir, &["status"]);
        let want = format!(
            "no bgworkerd is running on \"{}\": not a directory",
            dir.display()
        );
        one_line_error(&r, 3, &want);
    }

    // A daemon killed by SIGKILL leaves its pid file: stale, said so.
    let d = plain_daemon("ctl_stale", &[]);
    let pid = d.pid();
    d.signal(SIGKILL);
    d.wait_exit(secs(10));
    assert!(d.pid_file().exists(), "SIGKILL leaves the pid file behind");
    for cmd in [
        &["status"][..],
        &["reload"],
        &["stop"],
        &["terminate", "--pid", "1"],
    ] {
        let r = run_ctl(d.rundir(), cmd);
        one_line_error(
            &r,
            3,
            &format!("stale pid file (process {pid} does not exist)"),
        );
    }
}

#[test]
fn corrupt_segment_is_reported_not_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "corrupt_segment_is_reported_not_fatal");
    let m = lc_module();
    let d = Daemon::builder("ctl_corrupt")
        .preload(&[&m])
        .env("LC_STATIC", "steady||5|0|loop")
        .start();
    wait_ready(&d, "steady", secs(10));
    // The supervisor's last write to slot 0's facts (the start) is done:
    // nothing repairs the sequence scribbled below.
    wait_worker(&d, 0, "running", |w| w.get("state").str() == "running");
    let name = d.segment_name().expect("segment name");
    let seg = bgworker::shmem::Segment::attach(&name).expect("attach");

    // Facts that never settle (a writer that died mid-update, or a
    // scribbler): reported, refused, no hang and no crash.
    seg.slot_facts(0).scribble_odd_sequence();
    let r = run_ctl(d.rundir(), &["status"]);
    one_line_error(&r, 1, "facts of slot 0 are unreadable");
    assert!(
        r.stdout.contains("unreadable"),
        "the table says so too: {r:?}"
    );
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = Json::parse(&r.stdout);
    assert!(j.get("workers").arr()[0]
        .get("error")
        .str()
        .contains("never settled"));

    // A header that is not ours any more: the tool cannot attach (3).
    let path = d.segment_path().unwrap();
    let saved = std::fs::read(&path).unwrap()[..8].to_vec();
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b"garbage!", 0).unwrap();
    }
    for cmd in [&["status"][..], &["status", "--json"]] {
        let r = run_ctl(d.rundir(), cmd);
        one_line_error(&r, 3, "is corrupt: bad magic number");
    }
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&saved, 0).unwrap();
    }
    // An impossible slot count.
    let h = seg.header();
    let total = h.total_slots.load(std::sync::atomic::Ordering::Relaxed);
    h.total_slots
        .store(-7, std::sync::atomic::Ordering::Relaxed);
    one_line_error(
        &run_ctl(d.rundir(), &["status"]),
        3,
        "invalid slot count -7",
    );
    h.total_slots
        .store(total, std::sync::atomic::Ordering::Relaxed);
    // The daemon was never disturbed.
    assert!(d.try_exit().is_none(), "bgworkerd is still running");
    assert_no_crash_cycle(&d);
}

#[test]
fn status_watch_redraws_in_a_terminal_and_exits_on_ctrl_c() {
    if !Tmux::available() {
        eprintln!("status_watch_redraws_in_a_terminal_and_exits_on_ctrl_c: skipped, tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "status_watch_redraws_in_a_terminal_and_exits_on_ctrl_c",
    );
    let d = plain_daemon("ctl_watch", &[("max_worker_processes", "4")]);
    let dir = Scratch::new("ctl_watch_tmux");
    let done = dir.join("done");
    let command = format!(
        "echo before-watch; {} -D {} status --watch=0.2; echo ctl-exit=$? > {}; sleep 60",
        bgworkerctl_path().display(),
        d.rundir().display(),
        done.display()
    );
    let t = Tmux::start(&dir, 80, 24, &command);
    let s = t.wait_screen("the status table", secs(10), |s| s.contains("slots 0/4,"));
    assert!(s.contains("SL") && s.contains("LIBRARY:FUNCTION"), "{s}");
    assert!(!s.contains("before-watch"), "drawn on its own screen: {s}");
    for l in s.lines() {
        assert!(l.chars().count() <= 80, "{l}");
    }
    // A change in the daemon shows up without any key press: it redraws.
    let r = launch(&d, "watched", "loop", &["--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = t.wait_screen("the launched worker", secs(10), |s| {
        s.contains("watched") && s.contains("running") && s.contains("slots 1/4,")
    });
    assert!(s.contains(&out_field(&r, "pid").to_string()), "{s}");
    // Ctrl-C: exits 0 and gives the terminal back as it was.
    t.send_keys(&["C-c"]);
    assert!(
        wait_until(secs(10), || done.exists()),
        "bgworkerctl did not exit on Ctrl-C:\n{}",
        t.screen()
    );
    assert!(
        wait_until(secs(5), || std::fs::read_to_string(&done)
            .is_ok_and(|s| s.trim() == "ctl-exit=0")),
        "exit status: {:?}",
        std::fs::read_to_string(&done)
    );
    let s = t.wait_screen("the original screen", secs(5), |s| {
        s.contains("before-watch")
    });
    assert!(
        !s.contains("LIBRARY:FUNCTION"),
        "the table was left on the screen: {s}"
    );
    let cursor = t.cmd(&["display-message", "-p", "#{cursor_flag}"]);
    assert_eq!(cursor.trim(), "1", "cursor visible again");
}

#[test]
fn systemd_notify_ready_and_stopping() {
    let _w = watchdog(DEFAULT_WATCHDOG, "systemd_notify_ready_and_stopping");
    let dir = Scratch::new("ctl_notify");
    let sock = dir.join("notify.sock");
    let rx = UnixDatagram::bind(&sock).expect("bind notify socket");
    rx.set_read_timeout(Some(secs(20))).unwrap();
    let d = Daemon::builder("ctl_notify")
        .env("NOTIFY_SOCKET", sock.to_str().unwrap())
        .set("max_worker_processes", "3")
        .start();
    let mut buf = [0u8; 512];
    let n = rx.recv(&mut buf).expect("READY message");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    let lines: Vec<&str> = msg.lines().collect();
    assert!(lines.contains(&"READY=1"), "{msg}");
    assert!(lines.contains(&"STATUS=ready: 3 worker slots"), "{msg}");
    assert!(
        lines.contains(&format!("MAINPID={}", d.pid()).as_str()),
        "{msg}"
    );
    let r = run_ctl(d.rundir(), &["stop", "--mode", "smart"]);
    assert_eq!(r.code, 0, "{r:?}");
    let n = rx.recv(&mut buf).expect("STOPPING message");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.lines().any(|l| l == "STOPPING=1"), "{msg}");
    assert!(msg.lines().any(|l| l == "STATUS=smart shutdown"), "{msg}");
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}

#[test]
fn log_line_prefix_escapes() {
    let _w = watchdog(DEFAULT_WATCHDOG, "log_line_prefix_escapes");
    let d = Daemon::builder("ctl_prefix")
        .set("log_line_prefix", "<%t|%p|%b|%l|%a%%> ")
        .start();
    let ready = d.wait_log("bgworkerd ready", secs(5));
    let want = format!("|{}|bgworkerd|", d.pid());
    assert!(ready.starts_with('<') && ready.contains(&want), "{ready}");
    let head = ready.split("> ").next().unwrap();
    let parts: Vec<&str> = head.trim_start_matches('<').split('|').collect();
    assert_eq!(parts.len(), 5, "{ready}");
    assert!(
        parts[0].ends_with(" UTC") && parts[0].len() == "2026-11-22 18:49:52 UTC".len(),
        "{ready}"
    );
    assert!(parts[3].parse::<u64>().is_ok_and(|n| n >= 1), "{ready}");
    assert_eq!(
        parts[4], "%",
        "%a is empty outside sessions, %% is a percent sign: {ready}"
    );
    assert!(ready.contains("> LOG:  bgworkerd ready"), "{ready}");
    // A worker's own lines: its pid and its bgw_type.
    let r = run_ctl(
        d.rundir(),
        &[
            "launch",
            "--name",
            "pfx",
            "--type",
            "prefixed",
            "--library",
            "postgres",
            "--function",
            "no_such_fn",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let line = d.wait_log("internal function \"no_such_fn\"", secs(10));
    assert!(
        line.contains("|prefixed|"),
        "worker line with its %b: {line}"
    );
    assert!(!line.contains(&format!("|{}|", d.pid())), "{line}");
    // Back to the default on reload.
    std::fs::write(d.rundir().join("bgworker.conf"), "").unwrap();
    let r = run_ctl(d.rundir(), &["reload"]);
    assert_eq!(r.code, 0);
    d.wait_log("received SIGHUP", secs(5));
    let cur = d.log_len();
    assert_eq!(run_ctl(d.rundir(), &["stop"]).code, 0);
    let (_, l) = d.wait_log_from(cur, "received fast shutdown request", secs(5));
    assert!(
        l.starts_with('<'),
        "-c wins over the file, the prefix stays: {l}"
    );
}

#[test]
fn log_file_is_reopened_on_sighup() {
    let _w = watchdog(DEFAULT_WATCHDOG, "log_file_is_reopened_on_sighup");
    let d = Daemon::builder("ctl_logfile")
        .set("log_file", "bgworkerd.log")
        .set("log_min_messages", "debug1")
        .spawn();
    let log = d.rundir().join("bgworkerd.log");
    let rotated = d.rundir().join("bgworkerd.log.1");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        wait_until(secs(10), || read(&log).contains("bgworkerd ready")),
        "no ready line in {}; stderr: {}",
        log.display(),
        d.log_text()
    );
    assert!(
        !d.log_text().contains("bgworkerd ready"),
        "the log went to the file, not stderr"
    );
    std::fs::rename(&log, &rotated).unwrap();
    let r = run_ctl(d.rundir(), &["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        wait_until(secs(10), || log.exists()),
        "log file not reopened"
    );
    let r = run_ctl(
        d.rundir(),
        &[
            "launch",
            "--name",
            "after_rotation",
            "--library",
            "postgres",
            "--function",
            "no_such_fn",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        wait_until(secs(10), || read(&log)
            .contains("background worker \"after_rotation\" (PID")),
        "new lines go to the new file:\n{}",
        read(&log)
    );
    let old = read(&rotated);
    assert!(
        old.contains("bgworkerd ready") && old.contains("received SIGHUP"),
        "{old}"
    );
    assert!(
        !old.contains("after_rotation"),
        "nothing new in the rotated file: {old}"
    );
    // The worker's own stderr followed too.
    assert!(
        read(&log).contains("internal function \"no_such_fn\""),
        "{}",
        read(&log)
    );
    assert_eq!(run_ctl(d.rundir(), &["stop", "--wait"]).code, 0);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}

/// The README's walkthrough, with the module `make run` uses: see every
/// worker, launch one, watch it restart after a failure, terminate it,
/// stop the daemon, all with bgworkerctl.
#[test]
fn readme_walkthrough_with_the_example_module() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "readme_walkthrough_with_the_example_module",
    );
    let so = pgxs_module(
        repo_root()
            .join("examples/lifecycle_demo.c")
            .to_str()
            .unwrap(),
    );
    let libdir = so.parent().unwrap().to_str().unwrap().to_string();
    let d = Daemon::builder("ctl_walkthrough")
        .set("dynamic_library_path", &libdir)
        .set("shared_preload_libraries", "lifecycle_demo")
        .start();
    d.wait_log("demo:  supervisor up", secs(10));

    // See every worker: the static one is in slot 0.
    let sup = wait_worker(&d, 0, "running", |w| w.get("state").str() == "running");
    assert_eq!(sup.get("name").str(), "lifecycle demo supervisor");
    assert_eq!(sup.get("function").str(), "demo_supervisor_main");
    assert_eq!(sup.get("registered_by").num(), d.pid() as i64);

    // Launch one that fails after a second and restarts a second later.
    let r = run_ctl(
        d.rundir(),
        &[
            "launch",
            "--name",
            "flaky",
            "--library",
            "lifecycle_demo",
            "--function",
            "demo_flaky_main",
            "--arg",
            "1",
            "--restart",
            "1",
            "--wait",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let slot = out_field(&r, "slot");
    let first = out_field(&r, "pid");
    d.wait_log("flaky: something went wrong: exit 1", secs(10));
    let w = wait_worker(&d, slot, "running again", |w| {
        w.get("state").str() == "running" && w.get("starts").num() >= 2
    });
    assert_ne!(w.get("pid").num(), first);
    assert_eq!(w.get("last_exit_status").get("code").num(), 1);
    d.wait_log("background worker \"flaky\" (PID", secs(5));

    // Terminate it, then stop the daemon.
    let r = run_ctl(d.rundir(), &["terminate", "--name", "flaky", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(worker_json(&d, slot).get("state").str(), "stopped");
    let r = run_ctl(d.rundir(), &["stop", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}

/// A worker asked to stop that has not stopped yet reads "terminating",
/// and a shutdown under way shows in the summary and the JSON.
#[test]
fn status_shows_terminating_workers_and_shutdown_mode() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "status_shows_terminating_workers_and_shutdown_mode",
    );
    let d = plain_daemon("ctl_terminating", &[("max_worker_processes", "3")]);
    let r = launch(&d, "deaf", "loop ignterm", &["--restart", "1", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (slot, pid) = (out_field(&r, "slot"), out_field(&r, "pid"));
    wait_ready(&d, "deaf", secs(10));

    // terminate without --wait: SIGTERM is ignored, the worker lives on.
    let r = run_ctl(d.rundir(), &["terminate", "--slot", &slot.to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    let w = wait_worker(&d, slot, "terminating", |w| {
        w.get("state").str() == "terminating"
    });
    assert_eq!(w.get("pid").num(), pid, "still running, pid shown");
    let t = run_ctl(d.rundir(), &["status"]);
    let row = t
        .stdout
        .lines()
        .find(|l| l.contains("deaf"))
        .unwrap_or_else(|| panic!("{t:?}"))
        .to_string();
    assert_eq!(row.split_whitespace().nth(4), Some("stopping"), "{row}");
    assert!(pid_alive(pid as i32));

    // A fast shutdown waits for it: the daemon says so.
    let r = run_ctl(d.rundir(), &["stop"]);
    assert_eq!(r.code, 0, "{r:?}");
    d.wait_log("received fast shutdown request", secs(5));
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = Json::parse(&r.stdout);
    assert_eq!(j.get("daemon").get("shutdown").str(), "fast");
    let t = run_ctl(d.rundir(), &["status"]);
    assert!(t.stdout.contains(", fast shutdown, up "), "{t:?}");

    // An immediate shutdown (SIGQUIT) ends it.
    let r = run_ctl(d.rundir(), &["stop", "--mode", "immediate", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(wait_pids_gone(&[pid as i32], secs(10)).is_empty());
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}

/// Under an embedding host that holds the start phase back, workers of a
/// later phase read "not started" (`waiting` in the table) and the summary
/// names the phase; raising it starts them.
#[test]
fn status_shows_workers_waiting_for_their_start_phase() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "status_shows_workers_waiting_for_their_start_phase",
    );
    let exe = pg_host_program_with("host_embed.c", &["-rdynamic", "-pthread"]);
    let rundir = Scratch::new("ctl_phase");
    let host = Proc::spawn(
        &exe,
        &["phase", rundir.to_str().unwrap()],
        &[],
        "host-phase",
    );
    host.wait_line("bgworkerd ready", secs(20));
    host.wait_line("marker: ready name=host_ph_pm ", secs(10));

    let by_name = |j: &Json, n: &str| {
        j.get("workers")
            .arr()
            .iter()
            .find(|w| w.get("name").str() == n)
            .cloned()
            .unwrap_or_else(|| panic!("no worker {n}: {j:?}"))
    };
    // The worker can print its marker before the supervisor has recorded
    // its pid: wait for the slot to say so.
    let mut r = run_ctl(&rundir, &["status", "--json"]);
    assert!(
        wait_until(secs(10), || {
            r = run_ctl(&rundir, &["status", "--json"]);
            r.code == 0
                && by_name(&Json::parse(&r.stdout), "host_ph_pm")
                    .get("state")
                    .str()
                    == "running"
        }),
        "{r:?}"
    );
    let j = Json::parse(&r.stdout);
    assert_eq!(j.get("daemon").get("pid").num(), host.pid() as i64);
    assert_eq!(j.get("daemon").get("phase").str(), "PostmasterStart");
    for n in ["host_ph_cs", "host_ph_rf"] {
        let w = by_name(&j, n);
        assert_eq!(w.get("state").str(), "not started", "{w:?}");
        assert_eq!(w.get("pid"), &Json::Null);
        assert_eq!(w.get("starts").num(), 0);
        assert_eq!(w.get("last_start"), &Json::Null);
        assert_eq!(w.get("registered_by").num(), host.pid() as i64);
    }
    assert_eq!(
        by_name(&j, "host_ph_cs").get("start_phase").str(),
        "ConsistentState"
    );
    assert_eq!(by_name(&j, "host_ph_pm").get("state").str(), "running");
    let t = run_ctl(&rundir, &["status"]);
    let row = t
        .stdout
        .lines()
        .find(|l| l.contains("host_ph_rf"))
        .unwrap_or_else(|| panic!("{t:?}"))
        .to_string();
    assert_eq!(row.split_whitespace().nth(4), Some("waiting"), "{row}");
    assert!(t.stdout.contains(", phase PostmasterStart, "), "{t:?}");

    // The host raises the phase to ConsistentState on SIGALRM.
    host.signal(libc::SIGALRM);
    host.wait_line("marker: ready name=host_ph_cs ", secs(10));
    let mut last = Json::Null;
    assert!(
        wait_until(secs(10), || {
            let r = run_ctl(&rundir, &["status", "--json"]);
            last = Json::parse(&r.stdout);
            last.get("daemon").get("phase").str() == "ConsistentState"
                && by_name(&last, "host_ph_cs").get("state").str() == "running"
        }),
        "{last:?}"
    );
    assert_eq!(
        by_name(&last, "host_ph_rf").get("state").str(),
        "not started"
    );

    let r = run_ctl(&rundir, &["stop", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(host.wait_exit(secs(20)).code(), Some(0), "{}", host.text());
}

/// examples/bgworkerd.service runs as a user its comments tell how to
/// create; the README gives the same line. Run as root, the line is run
/// against copies of the account files (useradd --prefix), so the system's
/// own accounts are untouched, and must create that user and group.
#[test]
fn service_unit_says_how_to_create_its_user() {
    let unit = std::fs::read_to_string(repo_root().join("examples/bgworkerd.service")).unwrap();
    let setting = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
            .trim()
            .to_string()
    };
    let (user, group) = (setting("User"), setting("Group"));
    let useradd = unit
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(str::trim)
        .find(|l| l.starts_with("useradd "))
        .expect("no useradd line in the unit's comments")
        .to_string();
    let words: Vec<&str> = useradd.split_whitespace().collect();
    assert_eq!(words.last(), Some(&user.as_str()), "{useradd}");
    assert!(
        group == user && words.contains(&"--user-group"),
        "{useradd}"
    );
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(
        readme.contains(&useradd),
        "README.md does not give {useradd:?}"
    );

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("service_unit_says_how_to_create_its_user: useradd not run (needs root)");
        return;
    }
    let _w = watchdog(DEFAULT_WATCHDOG, "service_unit_says_how_to_create_its_user");
    let root = Scratch::new("useradd");
    std::fs::create_dir(root.join("etc")).unwrap();
    for f in ["passwd", "group", "shadow", "gshadow", "login.defs"] {
        std::fs::copy(Path::new("/etc").join(f), root.join("etc").join(f))
            .unwrap_or_else(|e| panic!("copy /etc/{f}: {e}"));
    }
    let before = std::fs::read("/etc/passwd").unwrap();
    let out = std::process::Command::new(words[0])
        .arg("--prefix")
        .arg(&*root)
        .args(&words[1..])
        .output()
        .expect("run useradd");
    assert!(
        out.status.success(),
        "{useradd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let entry = passwd
        .lines()
        .find(|l| l.starts_with(&format!("{user}:")))
        .unwrap_or_else(|| panic!("{useradd} created no {user}:\n{passwd}"));
    assert!(entry.ends_with(":/usr/sbin/nologin"), "{entry}");
    assert!(Path::new("/usr/sbin/nologin").exists());
    let groups = std::fs::read_to_string(root.join("etc/group")).unwrap();
    assert!(
        groups.lines().any(|l| l.starts_with(&format!("{group}:"))),
        "{groups}"
    );
    assert_eq!(
        std::fs::read("/etc/passwd").unwrap(),
        before,
        "/etc/passwd changed"
    );
}

/// Liveness comes from the supervisor's process (its pidfd and its lock on
/// the segment file), not from a word in the segment: a scribbled
/// "supervisor exited" word neither makes a live daemon look dead to
/// bgworkerctl nor makes a waiter report BGWH_POSTMASTER_DIED; once the
/// daemon really stops, bgworkerctl says so. A segment no tool can attach
/// does not keep bgworkerctl from stopping the daemon either.
#[test]
fn a_forged_exit_word_does_not_make_a_live_daemon_look_dead() {
    let _w = watchdog(DEFAULT_WATCHDOG, "a_forged_exit_word");
    let m = lc_module();
    let d = Daemon::builder("ctl_forged_exit")
        .preload(&[&m])
        .env("LC_STATIC", "steady||5|0|loop")
        .start();
    wait_ready(&d, "steady", secs(10));
    let name = d.segment_name().expect("segment name");
    let seg = bgworker::shmem::Segment::attach(&name).expect("attach");
    seg.header()
        .supervisor_exited
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let r = run_ctl(d.rundir(), &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    // A waiter (launch --wait waits for the start) sees the worker start.
    let r = launch(&d, "after_forgery", "loop", &["--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    // A segment no tool can attach any more (bad magic): reload and stop
    // still reach the daemon, through the pid file and its lock.
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.segment_path().unwrap())
            .unwrap();
        f.write_all_at(b"garbage!", 0).unwrap();
    }
    one_line_error(&run_ctl(d.rundir(), &["status"]), 3, "bad magic number");
    let r = run_ctl(d.rundir(), &["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("using the pid file instead"), "{r:?}");
    d.wait_log("received SIGHUP, reloading configuration files", secs(10));
    let r = run_ctl(d.rundir(), &["stop", "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
    let r = run_ctl(d.rundir(), &["status"]);
    assert_eq!(r.code, 3, "{r:?}");
}

/// A registration-lock holder that is stopped (SIGSTOP) but alive: a
/// registrant gives up after the documented timeout (10 s) with a message
/// naming the holder, sleeping rather than spinning meanwhile; once the
/// lock is free, registration works again.
#[test]
fn a_stopped_lock_holder_makes_launch_fail_in_time_without_spinning() {
    let _w = watchdog(90, "a_stopped_lock_holder");
    let m = lc_module();
    let d = Daemon::builder("ctl_stopped_holder")
        .preload(&[&m])
        .env("LC_STATIC", "steady||5|0|loop")
        .start();
    wait_ready(&d, "steady", secs(10));
    // The holder: a live process, stopped; its lock identity is its thread
    // id with its start time (clock ticks after boot) in the high half.
    let mut holder = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let pid = holder.id() as i32;
    // SAFETY: kill(2) on the child this test just started.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = stat[stat.rfind(')').unwrap() + 1..]
        .split_ascii_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let seg = bgworker::shmem::Segment::attach(&d.segment_name().unwrap()).expect("attach");
    let word = &seg.header().backend_lock;
    word.store(
        ((start as u32 as u64) << 32) | pid as u32 as u64,
        std::sync::atomic::Ordering::SeqCst,
    );

    let lib = lc_module();
    let h = hex("loop");
    let mut cmd = std::process::Command::new(bgworkerctl_path());
    cmd.args([
        "-D",
        d.rundir().to_str().unwrap(),
        "launch",
        "--name",
        "blocked",
    ])
    .args(["--library", lib.to_str().unwrap(), "--function", "lc_main"])
    .args(["--extra-hex", &h])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let t0 = std::time::Instant::now();
    // Reaped below with wait4, which also reports its CPU time.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("start bgworkerctl");
    let cpid = child.id() as i32;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by wait4 for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for the child started above; valid out-pointers.
    let r = unsafe { libc::wait4(cpid, &mut status, 0, &mut ru) };
    let elapsed = t0.elapsed();
    assert_eq!(r, cpid);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.unwrap(), &mut err).unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1,
        "{status:#x}: {err}"
    );
    assert!(
        err.contains(&format!(
            "could not acquire the background worker registration lock within 10 s: it is held by process {pid}"
        )),
        "{err}"
    );
    assert!(
        elapsed >= secs(10) && elapsed < secs(20),
        "gave up after {elapsed:?}"
    );
    let cpu = ru.ru_utime.tv_sec as f64
        + ru.ru_utime.tv_usec as f64 / 1e6
        + ru.ru_stime.tv_sec as f64
        + ru.ru_stime.tv_usec as f64 / 1e6;
    assert!(cpu < 1.0, "the wait burned {cpu:.2} s of CPU");

    // The holder goes: registration works again, and nothing broke.
    word.store(0, std::sync::atomic::Ordering::SeqCst);
    let _ = holder.kill();
    let _ = holder.wait();
    let r = launch(&d, "after_holder", "loop", &["--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(d.try_exit().is_none(), "bgworkerd is still running");
}

/// bgworkerctl run by a user who may not open a daemon's files says it is a
/// permission problem, and whose files they are (exit 1: a daemon may be
/// running), instead of "no bgworkerd is running". Needs root (runs the
/// tool as nobody).
#[test]
fn a_permission_problem_is_named_as_one_with_the_owner() {
    let _w = watchdog(DEFAULT_WATCHDOG, "a_permission_problem_is_named");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("a_permission_problem_is_named_as_one_with_the_owner: skipped (needs root)");
        return;
    }
    // A run directory and a copy of the tool that nobody can reach.
    let scratch = shared_scratch_dir("ctl-perm");
    let rundir = scratch.join("run");
    std::fs::create_dir(&rundir).unwrap();
    let ctl = scratch.join("bgworkerctl");
    std::fs::copy(bgworkerctl_path(), &ctl).unwrap();
    let d = Daemon::builder("ctl_perm").rundir(&rundir).start();
    let out = std::process::Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&ctl)
        .args(["-D", rundir.to_str().unwrap(), "status"])
        .output()
        .expect("run bgworkerctl as nobody");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "permission denied: \"{}\" belongs to root (uid 0) and this user (nobody (uid 65534)) may not open it",
            rundir.join("bgworkerd.pid").display()
        )),
        "{err}"
    );
    assert!(!err.contains("no bgworkerd is running"), "{err}");
    // The daemon is undisturbed.
    assert_eq!(run_ctl(&rundir, &["status"]).code, 0);
    drop(d);
    let _ = std::fs::remove_dir_all(&scratch);
}
