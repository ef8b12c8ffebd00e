//! Unmodified PostgreSQL modules (c-tests/compat/*.c, built with PGXS flags
//! against PostgreSQL 15's headers) under bgworkerd: what they log, how they
//! react to signals, settings and reloads, and, wherever the same module
//! can run under a real PostgreSQL 15 server too, the same observations
//! made there and compared line by line.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::pg::{message_of, pid_of, PgServer};
use common::*;

// `per_major!(name, body)` (tests/common/majors.rs): the tests
// `name::pg15`, `name::pg17` and `name::pg18`, each `body(major)`: the same
// modules built against that major's real headers, compared with that
// major's real server.

/// Every module source in c-tests/compat.
fn compat_modules() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(c_tests_dir().join("compat"))
        .expect("c-tests/compat")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    v.sort();
    v
}

per_major!(
    census_every_module_symbol_is_exported,
    census_every_module_symbol_is_exported_for
);

/// Census: every symbol a test module leaves undefined (except weak ones
/// and the C library's) is exported by bgworkerd and by libbgworker_pg.so.
fn census_every_module_symbol_is_exported_for(major: u32) {
    let _w = watchdog(240, &format!("census {major}"));
    let daemon = defined_dynamic_symbols(&bgworkerd_path());
    let lib = defined_dynamic_symbols(&libbgworker_pg_path());
    let mut missing = Vec::new();
    let mut checked = 0;
    for src in compat_modules() {
        let so = pgxs_module_for(src.to_str().unwrap(), major);
        let out = Command::new("nm")
            .arg("-u")
            .arg(&so)
            .output()
            .expect("run nm -u");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut parts = line.split_whitespace();
            let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if kind != "U" || name.contains('@') {
                continue; // weak references, and versioned C library symbols
            }
            checked += 1;
            for (what, set) in [("bgworkerd", &daemon), ("libbgworker_pg.so", &lib)] {
                if !set.contains(name) {
                    missing.push(format!(
                        "{} needs {name}: not exported by {what}",
                        so.display()
                    ));
                }
            }
        }
    }
    assert!(
        checked > 40,
        "the modules reference only {checked} symbols?"
    );
    assert!(
        missing.is_empty(),
        "unresolved symbols:\n{}",
        missing.join("\n")
    );
}

/// The layouts modules compile in, from PostgreSQL 15's own headers,
/// against the runtime's.
#[test]
fn abi_layouts_match_postgresql_headers() {
    let _w = watchdog(120, "layouts");
    let pg_probe = r#"
#include "postgres.h"
#include "lib/stringinfo.h"
#include "nodes/memnodes.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/elog.h"
#undef printf
#include <stdio.h>
int main(void) {
  printf("PGPROC %zu %zu %zu %zu %zu\n", sizeof(PGPROC), offsetof(PGPROC, procLatch),
         offsetof(PGPROC, pid), offsetof(PGPROC, pgprocno), offsetof(PGPROC, backendId));
  printf("Latch %zu %zu %zu %zu %zu\n", sizeof(Latch), offsetof(Latch, is_set),
         offsetof(Latch, maybe_sleeping), offsetof(Latch, is_shared), offsetof(Latch, owner_pid));
  printf("ErrorData %zu %zu %zu %zu %zu %zu %zu %zu\n", sizeof(ErrorData), offsetof(ErrorData, elevel),
         offsetof(ErrorData, sqlerrcode), offsetof(ErrorData, message), offsetof(ErrorData, detail),
         offsetof(ErrorData, hint), offsetof(ErrorData, context), offsetof(ErrorData, saved_errno));
  printf("StringInfoData %zu %zu %zu %zu\n", sizeof(StringInfoData), offsetof(StringInfoData, len),
         offsetof(StringInfoData, maxlen), offsetof(StringInfoData, cursor));
  printf("ErrorContextCallback %zu %zu %zu\n", sizeof(ErrorContextCallback),
         offsetof(ErrorContextCallback, callback), offsetof(ErrorContextCallback, arg));
  printf("MemoryContextData %zu %d %zu %zu %zu\n", sizeof(MemoryContextData), (int) T_AllocSetContext,
         offsetof(MemoryContextData, parent), offsetof(MemoryContextData, firstchild),
         offsetof(MemoryContextData, name));
  return 0;
}
"#;
    let ours_probe = format!(
        r#"
#include "{}"
#include <stddef.h>
#include <stdio.h>
int main(void) {{
  printf("ErrorData %zu %zu %zu %zu %zu %zu %zu %zu\n", sizeof(ErrorData), offsetof(ErrorData, elevel),
         offsetof(ErrorData, sqlerrcode), offsetof(ErrorData, message), offsetof(ErrorData, detail),
         offsetof(ErrorData, hint), offsetof(ErrorData, context), offsetof(ErrorData, saved_errno));
  printf("StringInfoData %zu %zu %zu %zu\n", sizeof(StringInfoData), offsetof(StringInfoData, len),
         offsetof(StringInfoData, maxlen), offsetof(StringInfoData, cursor));
  printf("ErrorContextCallback %zu %zu %zu\n", sizeof(ErrorContextCallback),
         offsetof(ErrorContextCallback, callback), offsetof(ErrorContextCallback, arg));
  return 0;
}}
"#,
        repo_root().join("crates/pgrt/src/c/pgcompat.h").display()
    );
    let dir = fresh_dir("layouts");
    let run = |name: &str, text: &str, pg: bool| -> BTreeMap<String, String> {
        let src = dir.join(format!("{name}.c"));
        std::fs::write(&src, text).unwrap();
        let exe = dir.join(name);
        let mut cmd = Command::new("cc");
        if pg {
            let server = String::from_utf8(
                Command::new(
                    std::env::var("PG_CONFIG")
                        .unwrap_or("/usr/lib/postgresql/15/bin/pg_config".into()),
                )
                .arg("--includedir-server")
                .output()
                .expect("pg_config")
                .stdout,
            )
            .unwrap();
            cmd.arg(format!("-I{}", server.trim()));
        }
        let out = cmd.arg("-o").arg(&exe).arg(&src).output().expect("cc");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(&exe).output().expect("run probe");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                l.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect()
    };
    let pg = run("pg_probe", pg_probe, true);
    let ours = run("ours_probe", &ours_probe, false);
    for key in ["ErrorData", "StringInfoData", "ErrorContextCallback"] {
        assert_eq!(
            ours.get(key),
            pg.get(key),
            "{key} layout (ours vs PostgreSQL 15)"
        );
    }
    use bgworker_pgrt::latch::{PROC_LATCH_OFFSET, PROC_SIZE};
    let proc: Vec<usize> = pg["PGPROC"]
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(
        (proc[0], proc[1]),
        (PROC_SIZE, PROC_LATCH_OFFSET),
        "PGPROC size / procLatch offset"
    );
    assert_eq!(
        &proc[2..],
        &[64, 72, 76],
        "PGPROC pid / pgprocno / backendId offsets"
    );
    assert_eq!(pg["Latch"], "16 0 4 8 12", "Latch layout");
    assert_eq!(
        std::mem::size_of::<bgworker_pgrt::latch::Latch>(),
        16,
        "our Latch is PostgreSQL's size"
    );
    let mc: Vec<usize> = pg["MemoryContextData"]
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(
        mc[0],
        std::mem::size_of::<bgworker_pgrt::mcxt::ContextData>(),
        "MemoryContextData size"
    );
    assert_eq!(mc[1], 223, "T_AllocSetContext");
    assert_eq!(
        &mc[2..],
        &[24, 32, 56],
        "MemoryContextData parent / firstchild / name offsets"
    );
}

/// Log lines of one process, as messages (prefix stripped, PIDs masked);
/// the tab-indented continuation lines of a multi-line message belong to
/// the line before them.
fn messages_by_pid(lines: &[String]) -> BTreeMap<i32, Vec<String>> {
    let mut m: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut last = None;
    for l in lines {
        if let Some(pid) = pid_of(l) {
            m.entry(pid).or_default().push(message_of(l));
            last = Some(pid);
        } else if let (Some(pid), Some(rest)) = (last, l.strip_prefix('\t')) {
            if let Some(prev) = m.get_mut(&pid).and_then(|v| v.last_mut()) {
                prev.push_str("\n\t");
                prev.push_str(rest);
            }
        }
    }
    m
}

/// The message sequences of the processes whose lines mention `marker`,
/// sorted (process start order differs between runs).
fn worker_transcripts(lines: &[String], supervisor: i32, marker: &str) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = messages_by_pid(lines)
        .into_iter()
        .filter(|(pid, msgs)| *pid != supervisor && msgs.iter().any(|m| m.contains(marker)))
        .map(|(_, msgs)| msgs)
        .collect();
    v.sort();
    v
}

/// The supervisor's lines about workers of type `bgw_type`, sorted.
fn exit_reports(lines: &[String], supervisor: i32, bgw_type: &str) -> Vec<String> {
    let needle = format!("background worker \"{bgw_type}\"");
    let mut v: Vec<String> = lines
        .iter()
        .filter(|l| pid_of(l) == Some(supervisor) && l.contains(&needle))
        .map(|l| message_of(l))
        .collect();
    v.sort();
    v
}

/// A bgworkerd preloading `module`, which finds itself on
/// dynamic_library_path (its bgw_library_name is its bare name), as the
/// PostgreSQL servers of these tests are set up.
fn module_daemon(name: &str, module: &Path) -> DaemonBuilder {
    Daemon::builder(name).preload(&[module]).set(
        "dynamic_library_path",
        module.parent().unwrap().to_str().unwrap(),
    )
}

fn cx_worker(major: u32) -> PathBuf {
    pgxs_module_for("compat/cx_worker.c", major)
}

per_major!(
    errors_and_exits_match_postgresql,
    errors_and_exits_match_postgresql_for
);

/// The lifecycle module's short-lived workers: a caught and an uncaught
/// ERROR (with DETAIL/HINT/CONTEXT, %m, SQLSTATE, CopyErrorData), FATAL,
/// and a normal return; exit callbacks and exit statuses. Same transcript
/// as PostgreSQL 15.
fn errors_and_exits_match_postgresql_for(major: u32) {
    let _w = watchdog(180, &format!("errors_and_exits {major}"));
    let m = cx_worker(major);
    // A non-default max_worker_processes, which mode 4 prints from the
    // variable of that name.
    let d = module_daemon(&format!("cx_errors_{major}"), &m)
        .set("max_worker_processes", "12")
        .start();
    d.wait_log("cx exit callback: code 0, arg 4", secs(20));
    d.wait_log_count("background worker \"cx\" (PID", 2, secs(20));
    let ours = d.log_lines();

    // What the module saw, checked directly.
    assert!(ours.iter().any(|l| l.contains(
        "cx caught: \"could not open file \"/nonexistent\": No such file or directory\" sqlstate 58P01 elevel 21"
    )));

    let pg = PgServer::start_major(major, "cx_errors", &[&m], &[("max_worker_processes", "12")]);
    pg.wait_log("cx exit callback: code 0, arg 4", secs(30));
    pg.wait_log_count("background worker \"cx\" (PID", 2, secs(30));
    let theirs = pg.log_lines();

    let mine = worker_transcripts(&ours, d.pid(), "cx ");
    let real = worker_transcripts(&theirs, pg.pid(), "cx ");
    // The looping worker (mode 0) is still running: compare the others.
    let finished = |v: &Vec<Vec<String>>| -> Vec<Vec<String>> {
        v.iter()
            .filter(|t| t.iter().any(|m| m.contains("exit callback")))
            .cloned()
            .collect()
    };
    assert_eq!(
        finished(&mine),
        finished(&real),
        "worker transcripts (ours vs PostgreSQL {major})"
    );
    assert_eq!(finished(&mine).len(), 3);
    for line in [
        "LOG:  cx memory: len=12000 tail=2999 chunk_context=cx context parent_is_top=1 valid=1",
        "LOG:  cx reset callback: cx context",
        "LOG:  cx memory after reset: is_reset=1",
        "LOG:  cx timestamps: diff=2.500000 ms=2 exceeds=1/0",
        "LOG:  cx wait event in MyProc: 1",
        "LOG:  cx 1 apple",
        "LOG:  cx 3 apples",
        "DETAIL:  internal detail text",
        "LOG:  cx recovery in progress: 0",
    ] {
        assert!(
            mine.iter().flatten().any(|m| m == line),
            "{line:?} missing: {mine:?}"
        );
    }
    assert!(
        mine.iter()
            .flatten()
            .any(|m| m == "LOG:  cx returning: max_worker_processes=12"),
        "max_worker_processes as modules read it: {mine:?}"
    );
    assert!(
        mine.iter()
            .flatten()
            .any(|m| m == "WARNING:  cx warning with 2 lines\n\tsecond line"),
        "multi-line message: {mine:?}"
    );
    assert_eq!(
        exit_reports(&ours, d.pid(), "cx"),
        exit_reports(&theirs, pg.pid(), "cx"),
        "supervisor's exit reports"
    );
    pg.stop();
}

per_major!(
    signals_and_title_match_postgresql,
    signals_and_title_match_postgresql_for
);

/// The looping worker: SIGUSR1 (the default handler) does not set the
/// latch, SIGHUP (through SignalHandlerForConfigReload) does, SIGTERM
/// through die ends it at CHECK_FOR_INTERRUPTS with
/// PostgreSQL's FATAL after which the exit callback runs; the process
/// title shows the worker's name and activity. Same under PostgreSQL 15.
fn signals_and_title_match_postgresql_for(major: u32) {
    let _w = watchdog(180, &format!("signals_and_title {major}"));
    let m = cx_worker(major);
    let d = module_daemon(&format!("cx_signals_{major}"), &m).start();
    let pg = PgServer::start_major(major, "cx_signals", &[&m], &[]);

    let drive = |name: &str,
                 wait: &dyn Fn(&str) -> String,
                 sig: &dyn Fn(i32, i32),
                 lines: &dyn Fn() -> Vec<String>|
     -> (Vec<String>, (String, SignalMasks)) {
        let started = wait("cx loop started");
        let pid = pid_of(&started).expect("pid");
        // MyProcPid and the latch owner are the worker's pid, and the latch
        // starts out set (PostgreSQL sets it when the process takes it over).
        assert!(
            started.ends_with(&format!(
                "pid {pid}, MyProcPid {pid}, latch owner {pid}, is_set 1"
            )),
            "{name}: {started}"
        );
        // ... so the first wait returns at once.
        wait("cx tick 1");
        // The title, once the worker has set its activity.
        assert!(
            wait_until(secs(10), || ps_args(pid).ends_with("cx mode 0 idle")),
            "{name} title: {:?}",
            ps_args(pid)
        );
        let title = ps_args(pid);
        let dispositions = signal_dispositions(pid);
        // Had SIGUSR1 set the latch, a tick would come before "got SIGHUP".
        sig(pid, libc::SIGUSR1);
        std::thread::sleep(millis(500));
        sig(pid, libc::SIGHUP);
        wait("cx tick 2");
        sig(pid, libc::SIGTERM);
        wait("cx exit callback: code 1, arg 0");
        let mut mine: Vec<String> = lines()
            .iter()
            .filter(|l| pid_of(l) == Some(pid))
            .map(|l| message_of(l))
            .collect();
        // The first line carries pids, which differ.
        mine.remove(0);
        (mine, (title, dispositions))
    };
    let (ours, (our_title, our_signals)) = drive(
        "bgworkerd",
        &|n| d.wait_log(n, secs(20)),
        // SAFETY: kill(2) on the worker pid read from the log line above.
        &|p, s| unsafe {
            libc::kill(p, s);
        },
        &|| d.log_lines(),
    );
    let (theirs, (their_title, their_signals)) = drive(
        "postgres",
        &|n| pg.wait_log(n, secs(20)),
        // SAFETY: kill(2) on the worker pid read from the log line above.
        &|p, s| unsafe {
            libc::kill(p, s);
        },
        &|| pg.log_lines(),
    );
    assert_eq!(
        ours, theirs,
        "worker transcript after SIGUSR1, SIGHUP, SIGTERM (ours vs PostgreSQL {major})"
    );
    assert_eq!(
        ours,
        vec![
            "LOG:  cx tick 1".to_string(),
            "LOG:  cx got SIGHUP".into(),
            "LOG:  cx tick 2".into(),
            "FATAL:  terminating background worker \"cx\" due to administrator command".into(),
            "LOG:  cx exit callback: code 1, arg 0".into(),
        ]
    );
    assert_eq!(
        our_title.strip_prefix("bgworkerd: "),
        their_title.strip_prefix("postgres: "),
        "process titles"
    );
    // The standard signals (1-31; the real-time ones above belong to the C
    // library's threading) each side ignores, catches and blocks, the
    // same but for three documented differences: SIGUSR1 is caught here
    // (PostgreSQL 15 ignores it in workers without a database connection,
    // so their Wait* calls hang; ours must wake), SIGALRM (PostgreSQL's
    // timeout handler; no timeouts here) and SIGPWR are caught there.
    let deliberate = [libc::SIGUSR1, libc::SIGALRM, libc::SIGPWR]
        .iter()
        .fold(0u64, |m, s| m | 1 << (s - 1));
    let standard = |masks: &[(String, u64)]| -> Vec<(String, u64)> {
        masks
            .iter()
            .map(|(k, v)| (k.clone(), v & 0x7fff_ffff & !deliberate))
            .collect()
    };
    assert_eq!(
        standard(&our_signals),
        standard(&their_signals),
        "signals the worker ignores, catches and blocks (ours vs PostgreSQL {major}): {our_signals:x?} vs {their_signals:x?}"
    );
    let caught = |masks: &[(String, u64)], sig: i32| {
        masks
            .iter()
            .any(|(k, v)| k == "SigCgt" && v & (1 << (sig - 1)) != 0)
    };
    assert!(caught(&our_signals, libc::SIGUSR1), "{our_signals:x?}");
    for sig in [libc::SIGSEGV, libc::SIGBUS] {
        assert!(
            !caught(&our_signals, sig),
            "signal {sig} caught: {our_signals:x?}"
        );
    }
    pg.stop();
}

/// Signal masks by /proc name (SigBlk, SigIgn, SigCgt).
type SignalMasks = Vec<(String, u64)>;

/// A process's signal dispositions as /proc shows them: the masks of the
/// signals it blocks, ignores and catches.
fn signal_dispositions(pid: i32) -> SignalMasks {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k, "SigBlk" | "SigIgn" | "SigCgt").then(|| {
                (
                    k.to_string(),
                    u64::from_str_radix(v.trim(), 16).unwrap_or(0),
                )
            })
        })
        .collect()
}

/// What ps shows as the process's command line.
fn ps_args(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

per_major!(
    panic_starts_a_crash_cycle_like_postgresql,
    panic_starts_a_crash_cycle_like_postgresql_for
);

/// PANIC in a worker: logged, the worker dies by SIGABRT, and the
/// supervisor runs PostgreSQL's crash cycle.
fn panic_starts_a_crash_cycle_like_postgresql_for(major: u32) {
    let _w = watchdog(180, &format!("panic {major}"));
    let m = cx_worker(major);
    let d = module_daemon(&format!("cx_panic_{major}"), &m)
        .set("cx.with_panic", "on")
        .start();
    d.wait_log("all server processes terminated; reinitializing", secs(30));
    let pg = PgServer::start_major(major, "cx_panic", &[&m], &[("cx.with_panic", "on")]);
    pg.wait_log("all server processes terminated; reinitializing", secs(60));
    for needle in [
        "PANIC:  cx panic on purpose",
        "background worker \"cx\" (PID N) was terminated by signal 6: Aborted",
        "terminating any other active server processes",
        "all server processes terminated; reinitializing",
    ] {
        for (who, lines) in [("bgworkerd", d.log_lines()), ("postgres", pg.log_lines())] {
            assert!(
                lines.iter().any(|l| message_of(l).ends_with(needle)),
                "{who} log lacks {needle:?}"
            );
        }
    }
    // The server is dropped (killed by pid): after a crash PostgreSQL
    // replays WAL before it honours a shutdown request.
}

fn cx_guc(major: u32) -> PathBuf {
    pgxs_module_for("compat/cx_guc.c", major)
}

/// The lines of a run that concern settings: startup warnings, the
/// workers' view, reload reports (file names masked).
fn settings_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .filter(|m| {
            m.contains("cxg")
                || m.contains("parameter \"")
                || m.contains("configuration file")
                || m.starts_with("HINT:")
                || m.starts_with("DETAIL:")
        })
        .filter(|m| {
            !m.starts_with("LOG:  background worker") && !m.contains("exited with exit code")
        })
        .map(|m| match m.find("configuration file \"") {
            Some(i) => {
                let rest = &m[i + 20..];
                let end = rest.find('"').map(|e| e + 1).unwrap_or(0);
                format!("{}configuration file \"F\"{}", &m[..i], &rest[end..])
            }
            None => m,
        })
        .collect()
}

const GUC_FILE_1: &str = "cxg.naptime = '5s'\ncxg.mode = fast\ncxg.ratio = 1.5\ncxg.bogus = 1\ncxg.even = 3\ncxg.verbose = on\n";
const GUC_FILE_2: &str = "cxg.naptime = '7s'\ncxg.mode = slow\ncxg.slots = 9\ncxg.label = 'new label'\ncxg.verbose = on\n";

per_major!(
    custom_settings_match_postgresql,
    custom_settings_match_postgresql_for
);

/// Custom settings: every kind, units, ranges, check hooks, enum values,
/// the reserved prefix, GetConfigOption/SetConfigOption, and a reload that
/// changes some values, cannot change a PGC_POSTMASTER one and resets a
/// removed one. Same lines as PostgreSQL 15.
fn custom_settings_match_postgresql_for(major: u32) {
    let _w = watchdog(180, &format!("custom_settings {major}"));
    let m = cx_guc(major);
    let d = module_daemon(&format!("cx_guc_{major}"), &m)
        .conf_file(GUC_FILE_1)
        .start();
    d.wait_log_count("cxg values (start)", 2, secs(20));
    d.wait_log("background worker \"cxg\" (PID", secs(20));
    let cur = d.log_len();
    std::fs::write(d.rundir().join("bgworker.conf"), GUC_FILE_2).unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log_from(cur, "cxg values (reload)", secs(20));
    let ours = settings_lines(&d.log_lines());

    let pg = PgServer::start_with_conf_major(major, "cx_guc", &[&m], GUC_FILE_1);
    pg.wait_log_count("cxg values (start)", 2, secs(30));
    pg.wait_log("background worker \"cxg\" (PID", secs(30));
    let cur = pg.log_len();
    pg.rewrite_extra_conf(GUC_FILE_2);
    pg.signal(libc::SIGHUP);
    pg.wait_log_from(cur, "cxg values (reload)", secs(30));
    let theirs = settings_lines(&pg.log_lines());
    let sorted = |v: &Vec<String>| {
        let mut v = v.clone();
        v.sort();
        v
    };
    // Startup lines come from two processes in either order: compare as
    // sets, then the reload section in order.
    assert_eq!(
        sorted(&ours),
        sorted(&theirs),
        "settings lines (ours vs PostgreSQL {major})"
    );
    let reload = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .skip_while(|m| !m.contains("parameter \"cxg.naptime\" changed"))
            .cloned()
            .collect()
    };
    assert_eq!(reload(&ours), reload(&theirs), "reload lines in order");
    for needle in [
        "WARNING:  1.5 is outside the valid range for parameter \"cxg.ratio\" (0 .. 1)",
        "WARNING:  invalid value for parameter \"cxg.even\": 3",
        "WARNING:  invalid configuration parameter name \"cxg.bogus\", removing it",
        "ERROR:  parameter \"cxg.verbose\" requires a Boolean value",
        "HINT:  Available values: slow, normal, fast.",
        "ERROR:  cxg.strict check hook refuses 13",
        "LOG:  cxg strict after the refused value: 7",
        "LOG:  cxg check hook said: \"cxg.even cannot be 5\" detail \"Only even numbers are accepted.\" hint \"Try 6.\" sqlstate 0A000",
        "ERROR:  unrecognized configuration parameter \"cxg.nonexistent\"",
        "LOG:  parameter \"cxg.slots\" cannot be changed without restarting the server",
        "LOG:  cxg values (reload): naptime=7000 verbose=on ratio=0.5 label=new label mode=0 slots=4 even=2 show_naptime=7000",
    ] {
        assert!(ours.iter().any(|m| m == needle), "missing {needle:?} in\n{}", ours.join("\n"));
    }
    pg.stop();
}

/// A worker serving TCP through WaitLatchOrSocket: answers clients, and
/// still ends promptly on SIGTERM while parked in the wait.
#[test]
fn socket_worker_serves_and_stops() {
    let _w = watchdog(120, "socket_worker");
    let m = pgxs_module("compat/cx_socket.c");
    let d = module_daemon("cx_socket", &m).start();
    let line = d.wait_log("cxs listening on port", secs(20));
    let port: u16 = line.rsplit(' ').next().unwrap().parse().expect("port");
    let pid = pid_of(&line).unwrap();
    for round in 0..2 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(secs(10))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        for text in ["hello\n", "second line\n"] {
            s.write_all(text.as_bytes()).unwrap();
            let mut got = String::new();
            r.read_line(&mut got).expect("reply");
            assert_eq!(got, text.to_uppercase(), "round {round}");
        }
    }
    d.wait_log_count("cxs client gone", 2, secs(10));
    // SAFETY: signalling the worker this test's daemon started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    d.wait_log(
        "terminating background worker \"cxs\" due to administrator command",
        secs(10),
    );
    d.wait_log(
        &format!("background worker \"cxs\" (PID {pid}) exited with exit code 1"),
        secs(10),
    );
}

/// A module using SPI and transactions loads and runs up to its first
/// database call, which ends it with a FATAL that names the call.
#[test]
fn database_calls_end_the_worker_with_a_clear_fatal() {
    let _w = watchdog(60, "database_calls");
    let m = pgxs_module("compat/cx_nodb.c");
    let d = module_daemon("cx_nodb", &m).start();
    let before = d.wait_log("cxn before the database part", secs(20));
    let pid = pid_of(&before).unwrap();
    d.wait_log(
        "FATAL:  background worker \"cxn\": StartTransactionCommand needs the database \
         server, which is not available in libbgworker",
        secs(10),
    );
    d.wait_log(
        &format!("background worker \"cxn\" (PID {pid}) exited with exit code 1"),
        secs(10),
    );
    assert_eq!(d.count_log("cxn not reached"), 0);
    // Nothing else was disturbed: the daemon still takes a clean shutdown.
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success());
}

/// A module whose `_PG_init` calls a function that needs the database
/// server loads (every PostgreSQL 15 export resolves), and the call stops
/// bgworkerd with the FATAL naming it, as the postmaster stops on an error
/// in `_PG_init`; nothing is left behind.
#[test]
fn database_call_in_pg_init_stops_bgworkerd() {
    let _w = watchdog(60, "missing_function");
    let m = pgxs_module("compat/unsupported/cx_missing.c");
    let d = Daemon::builder("cx_missing").preload(&[&m]).spawn();
    let st = d.wait_exit(secs(20));
    assert_eq!(st.code(), Some(1), "{}", d.log_text());
    d.wait_log(
        "FATAL:  this process: get_database_name needs the database server, \
         which is not available in libbgworker",
        secs(1),
    );
    assert!(!d.log_text().contains("undefined symbol"));
    assert!(!d.log_text().contains("cxm database"));
    assert!(!d.pid_file().exists(), "pid file left behind");
    assert!(!d.log_text().contains("bgworkerd ready"));
}

/// Registration calls of real extensions' `_PG_init` (transaction,
/// subtransaction, relcache, syscache and resource-release callbacks,
/// relation option kinds and options) are accepted with a DEBUG line each
/// and never fire; hook variables are storage the module chains into;
/// server variables hold PostgreSQL 15's boot values, or zero. The worker then runs up to its first
/// call that needs the database server, and the FATAL names that call.
/// The relation option kinds are PostgreSQL 15's (the bits after
/// RELOPT_KIND_LAST_DEFAULT).
#[test]
fn registrations_are_accepted_and_the_first_server_call_is_named() {
    let _w = watchdog(60, "registrations");
    let m = pgxs_module("compat/cx_surface.c");
    let d = module_daemon("cx_surface", &m)
        .set("log_min_messages", "debug1")
        .start();
    d.wait_log("cxs2 reloption kind 4096, then 8192", secs(20));
    for f in [
        "RegisterXactCallback",
        "RegisterSubXactCallback",
        "CacheRegisterRelcacheCallback",
        "CacheRegisterSyscacheCallback",
        "RegisterResourceReleaseCallback",
        "add_int_reloption",
    ] {
        d.wait_log(&format!("DEBUG:  {f}: accepted; "), secs(1));
    }
    let w = d.wait_log(
        "cxs2 worker: SPI_processed=0 SPI_tuptable=NULL ExecutorStart_hook=ours",
        secs(20),
    );
    let pid = pid_of(&w).unwrap();
    // PostgreSQL 15's boot values (XACT_READ_COMMITTED, USE_ISO_DATES).
    d.wait_log(
        "cxs2 settings: work_mem=4096 maintenance_work_mem=65536 MaxConnections=100 \
         XactIsoLevel=1 application_name=\"\" DateStyle=1",
        secs(10),
    );
    d.wait_log("cxs2 text=boot", secs(10));
    // pglogical reads bgworkerd's own settings this way in its shmem hook.
    d.wait_log("cxs2 max_worker_processes 8", secs(10));
    // Activity and statistics reports are accepted; nothing is pending.
    d.wait_log("cxs2 pgstat_report_stat 0", secs(10));
    d.wait_log(
        "FATAL:  background worker \"cxs2\": GetUserId needs the database server, \
         which is not available in libbgworker",
        secs(10),
    );
    d.wait_log(
        &format!("background worker \"cxs2\" (PID {pid}) exited with exit code 1"),
        secs(10),
    );
    assert_eq!(d.count_log("cxs2 not reached"), 0);
    assert_eq!(d.count_log("callback fired"), 0);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success());
}

/// PostgreSQL's own libpgport/libpgcommon code, linked in: a sample of
/// string, sort, random, checksum, hash, path, bit, encoding, keyword,
/// compression and socket helpers gives the same transcript as under
/// PostgreSQL 15; so do settings with units shown by
/// GetConfigOptionByName.
#[test]
fn port_and_common_functions_match_postgresql() {
    let _w = watchdog(120, "port_common");
    let m = pgxs_module("compat/cx_port.c");
    let d = module_daemon("cx_port", &m).start();
    d.wait_log("cxp done", secs(20));
    let pg = PgServer::start("cx_port", &[&m], &[]);
    pg.wait_log("cxp done", secs(30));
    let mine = worker_transcripts(&d.log_lines(), d.pid(), "cxp ");
    let real = worker_transcripts(&pg.log_lines(), pg.pid(), "cxp ");
    assert_eq!(
        mine, real,
        "port/common transcripts (ours vs PostgreSQL 15)"
    );
    assert_eq!(mine.len(), 1);
    assert!(mine[0].len() >= 12, "{mine:#?}");
    for line in [
        "LOG:  cxp noblock 1 1",
        "LOG:  cxp pglz 13 back 400 same 1",
        "LOG:  cxp setting cxp.mem: 2MB (varname cxp.mem)",
        "LOG:  cxp setting cxp.nosuch: NULL (varname NULL)",
    ] {
        assert!(mine[0].contains(&line.to_string()), "{mine:#?}");
    }
    pg.stop();
}

/// PostgreSQL's List: built by appending and prepending, grown past its
/// initial cells (the allocated lengths are PostgreSQL's), sorted with
/// PostgreSQL's own qsort, searched, cut, concatenated, copied and freed,
/// in its own memory context: same transcript as PostgreSQL 15.
#[test]
fn lists_match_postgresql() {
    let _w = watchdog(120, "lists");
    let m = pgxs_module("compat/cx_list.c");
    let d = module_daemon("cx_list", &m).start();
    d.wait_log("cxl2 done", secs(20));
    let pg = PgServer::start("cx_list", &[&m], &[]);
    pg.wait_log("cxl2 done", secs(30));
    let mine = worker_transcripts(&d.log_lines(), d.pid(), "cxl2 ");
    let real = worker_transcripts(&pg.log_lines(), pg.pid(), "cxl2 ");
    assert_eq!(mine, real, "List transcripts (ours vs PostgreSQL 15)");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].len() >= 20, "{mine:#?}");
    assert!(
        mine[0]
            .iter()
            .any(|l| l.contains("ints after 40: tag=int len=40 max=64 separate=1")),
        "{mine:#?}"
    );
    pg.stop();
}

/// PostgreSQL's hash tables: local ones with string and binary keys grown
/// from a small start, searched, emptied (also during a scan) and scanned,
/// and a shared one (ShmemInitHash, sized with hash_estimate_size in the
/// request hook, attached again by the worker): the same entries in the
/// same scan order and the same size estimates as PostgreSQL 15.
#[test]
fn hash_tables_match_postgresql() {
    let _w = watchdog(120, "hash_tables");
    let m = pgxs_module("compat/cx_hash.c");
    let d = module_daemon("cx_hash", &m).start();
    d.wait_log("cxh2 done", secs(20));
    let pg = PgServer::start("cx_hash", &[&m], &[]);
    pg.wait_log("cxh2 done", secs(30));
    let mine = worker_transcripts(&d.log_lines(), d.pid(), "cxh2 ");
    let real = worker_transcripts(&pg.log_lines(), pg.pid(), "cxh2 ");
    assert_eq!(mine, real, "hash table transcripts (ours vs PostgreSQL 15)");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].len() >= 10, "{mine:#?}");
    assert!(
        mine[0]
            .iter()
            .any(|l| l.contains("cxh2 shared removed 5: 1, now 89")),
        "{mine:#?}"
    );
    pg.stop();
}
/// What `_PG_init` of modules users preload does (the census's second
/// group): option names kept in TopMemoryContext, a custom setting without
/// a dot in its name, rendezvous variables (one slot per name, NULL at
/// first, 63-byte keys, inherited by the worker), EnableQueryId,
/// pg_bindtextdomain, a base backup target, and SplitIdentifierString
/// (quoting, downcasing, blanks, syntax errors, 63-byte names, another
/// separator), and load_external_function/lookup_external_function
/// (found, missing with and without an error, no such library), and
/// RegisterCustomRmgr (registered, then each of PostgreSQL's errors). Same
/// worker transcript as
/// PostgreSQL 15; the registration is a DEBUG line here.
#[test]
fn preload_calls_match_postgresql() {
    let _w = watchdog(120, "preload_calls");
    let m = pgxs_module("compat/cx_preload.c");
    let d = module_daemon("cx_preload", &m)
        .set("log_min_messages", "debug1")
        .start();
    d.wait_log("cxpl done", secs(20));
    d.wait_log("DEBUG:  BaseBackupAddTarget: accepted; ", secs(1));
    let pg = PgServer::start("cx_preload", &[&m], &[]);
    pg.wait_log("cxpl done", secs(30));
    // The library's directory differs (the server has its own copy).
    let dirless = |l: String| -> String {
        match (l.find("in file \""), l.rfind('/')) {
            (Some(a), Some(b)) if b > a => format!("{}DIR{}", &l[..a + 9], &l[b..]),
            _ => l,
        }
    };
    let keep = |t: Vec<Vec<String>>| -> Vec<Vec<String>> {
        t.into_iter()
            .map(|v| {
                v.into_iter()
                    .filter(|l| l.contains("cxpl "))
                    .map(dirless)
                    .collect()
            })
            .collect()
    };
    let mine = keep(worker_transcripts(&d.log_lines(), d.pid(), "cxpl "));
    let real = keep(worker_transcripts(&pg.log_lines(), pg.pid(), "cxpl "));
    assert_eq!(mine, real, "preload transcripts (ours vs PostgreSQL 15)");
    assert_eq!(mine.len(), 1);
    for line in [
        "LOG:  cxpl name 2: col3 in TopMemoryContext",
        "LOG:  cxpl dotless setting: 7",
        "LOG:  cxpl query id: before 0 after 1 now 1 compute_query_id 2",
        "LOG:  cxpl rendezvous: same slot 1, long names share one 1, other starts NULL 1",
        "LOG:  cxpl rendezvous in the worker: same slot 1, value 42",
        "LOG:  cxpl split '  Read, WRITE ,ddl ' by ',': ok, 3 names: [read](4) [write](5) [ddl](3)",
        "LOG:  cxpl split 'a,,b' by ',': invalid, 1 names: [a](1)",
        "LOG:  cxpl load cx_preload cxpl_main: cxpl_main, handle set, lookup same",
        "LOG:  cxpl rmgr error 1: failed to register custom resource manager \"HEAP\" with ID 201 | Existing resource manager with ID 10 has the same name. | -",
        "LOG:  cxpl rmgr 200 exists 1 named cxpl_rmgr, 201 exists 0, 202 exists 0",
        "LOG:  cxpl load cx_preload cxpl_nosuch caught: could not find function \"cxpl_nosuch\" in file \"DIR/cx_preload.so\" (42883)",
        "LOG:  cxpl load cx_nosuch_library cxpl_main caught: could not access file \"cx_nosuch_library\": No such file or directory (58P01)",
    ] {
        assert!(mine[0].contains(&line.to_string()), "{mine:#?}");
    }
    assert_eq!(d.count_log("cxpl target"), 0, "the target never fires");
    let registered = "LOG:  registered custom resource manager \"cxpl_rmgr\" with ID 200";
    assert_eq!(d.count_log(registered), 1);

    let count = |lines: Vec<String>| lines.iter().filter(|l| l.contains(registered)).count();
    assert_eq!(count(pg.log_lines()), 1);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success());
    pg.stop();
}

per_major!(
    latch_set_by_another_worker_matches_postgresql,
    latch_set_by_another_worker_matches_postgresql_for
);

/// One worker wakes another through a latch pointer published in add-in
/// shared memory; waits time out and return at once on a set latch. Same
/// transcript as PostgreSQL 15.
fn latch_set_by_another_worker_matches_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("latch_other_worker {major}"));
    let m = pgxs_module_for("compat/cx_latch.c", major);
    let d = module_daemon(&format!("cx_latch_{major}"), &m).start();
    d.wait_log("cxl setter done", secs(20));
    d.wait_log("cxl woken by the other worker: round 3", secs(20));
    let pg = PgServer::start_major(major, "cx_latch", &[&m], &[]);
    pg.wait_log("cxl setter done", secs(30));
    pg.wait_log("cxl woken by the other worker: round 3", secs(30));
    let mine = worker_transcripts(&d.log_lines(), d.pid(), "cxl ");
    let real = worker_transcripts(&pg.log_lines(), pg.pid(), "cxl ");
    assert_eq!(mine, real, "latch transcripts (ours vs PostgreSQL {major})");
    let waiter = mine
        .iter()
        .find(|t| t.iter().any(|m| m.contains("first wait")))
        .expect("waiter transcript");
    assert_eq!(
        waiter[..5],
        [
            "LOG:  cxl first wait: latch=1 timeout=0",
            "LOG:  cxl second wait: latch=0 timeout=1",
            "LOG:  cxl woken by the other worker: round 1, latch=1",
            "LOG:  cxl woken by the other worker: round 2, latch=1",
            "LOG:  cxl woken by the other worker: round 3, latch=1",
        ]
    );
    pg.stop();
}

per_major!(
    bgworker_function_errors_reach_pg_try_as_in_postgresql,
    bgworker_function_errors_reach_pg_try_as_in_postgresql_for
);

/// ERRORs of the bgworker.h functions themselves: an invalid dynamic
/// registration raises PostgreSQL's ERROR (message, SQLSTATE), which the
/// module's PG_TRY catches and after which it goes on; uncaught, the
/// worker's outermost handler logs it and the worker exits 1 after its
/// exit callbacks. Same transcript as PostgreSQL 15.
fn bgworker_function_errors_reach_pg_try_as_in_postgresql_for(major: u32) {
    let _w = watchdog(180, &format!("bgworker_function_errors {major}"));
    let m = pgxs_module_for("compat/cx_register.c", major);
    let d = module_daemon(&format!("cx_register_{major}"), &m).start();
    d.wait_log("cxr child ran with arg 7", secs(20));
    d.wait_log("background worker \"cxr\" (PID", secs(20));
    let ours = d.log_lines();
    assert!(
        ours.iter().any(|l| l.contains(
            "cxr caught: \"background worker \"cxr bad\": invalid restart interval\" sqlstate 22023 elevel 21"
        )),
        "{ours:#?}"
    );
    assert!(ours
        .iter()
        .any(|l| l.contains("cxr valid registration after the caught ERROR: 1")));
    assert!(!ours.iter().any(|l| l.contains("not reached")));

    let pg = PgServer::start_major(major, "cx_register", &[&m], &[]);
    pg.wait_log("cxr child ran with arg 7", secs(30));
    pg.wait_log("background worker \"cxr\" (PID", secs(30));
    let theirs = pg.log_lines();
    assert_eq!(
        worker_transcripts(&ours, d.pid(), "cxr "),
        worker_transcripts(&theirs, pg.pid(), "cxr "),
        "worker transcripts (ours vs PostgreSQL {major})"
    );
    assert_eq!(
        exit_reports(&ours, d.pid(), "cxr"),
        exit_reports(&theirs, pg.pid(), "cxr"),
        "supervisor's exit reports"
    );
    pg.stop();
}

per_major!(
    string_setting_with_literal_initial_value_matches_postgresql,
    string_setting_with_literal_initial_value_matches_postgresql_for
);

/// String settings whose C variables start out pointing at string
/// literals: defining them keeps the literal alone (it was never
/// allocated by the settings code), a value from the file and later
/// SetConfigOption calls replace only what the settings code allocated.
/// Same lines as PostgreSQL 15.
fn string_setting_with_literal_initial_value_matches_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("guc_literal {major}"));
    let m = pgxs_module_for("compat/cx_gucboot.c", major);
    let conf = "cxb.target = 'target from the file'\n";
    let d = module_daemon(&format!("cx_gucboot_{major}"), &m)
        .conf_file(conf)
        .start();
    d.wait_log("cxb worker after SetConfigOption", secs(20));
    let pg = PgServer::start_with_conf_major(major, "cx_gucboot", &[&m], conf);
    pg.wait_log("cxb worker after SetConfigOption", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        let mut v: Vec<String> = v
            .iter()
            .map(|l| message_of(l))
            .filter(|m| m.contains("cxb") && !m.contains("background worker \""))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let ours = lines(d.log_lines());
    let theirs = lines(pg.log_lines());
    assert_eq!(ours, theirs, "cxb lines (ours vs PostgreSQL {major})");
    for needle in [
        "LOG:  cxb _PG_init: greeting=boot greeting target=target from the file",
        "LOG:  cxb worker: greeting=boot greeting target=target from the file",
        "LOG:  cxb worker after SetConfigOption: greeting=set again",
    ] {
        assert!(
            ours.iter().any(|m| m == needle),
            "missing {needle:?} in\n{}",
            ours.join("\n")
        );
    }
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(
    core_settings_match_postgresql,
    core_settings_match_postgresql_for
);

/// PostgreSQL's own settings (`work_mem`, `application_name`,
/// `statement_timeout`, `default_transaction_isolation`, `shared_buffers`):
/// boot values as C variables and by name, SetConfigOption and
/// set_config_option updating the variables, and their refusals. Same
/// lines as the real server of that major.
fn core_settings_match_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("core_guc {major}"));
    let m = pgxs_module_for("compat/cx_coreguc.c", major);
    let d = module_daemon(&format!("cx_coreguc_{major}"), &m).start();
    d.wait_log("cxc done", secs(20));
    let pg = PgServer::start_major(major, "cx_coreguc", &[&m], &[]);
    pg.wait_log("cxc done", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| message_of(l))
            .filter(|m| {
                m.contains("cxc ")
                    || m.contains("work_mem")
                    || m.contains("shared_buffers")
                    || m.contains("no_such_setting")
            })
            .filter(|m| !m.contains("background worker \""))
            .collect()
    };
    let ours = lines(d.log_lines());
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxc lines (ours vs PostgreSQL {major})"
    );
    for needle in [
        "LOG:  cxc set: work_mem=8192 StatementTimeout=90000 DefaultXactIsoLevel=3 application_name=cxc app",
        "LOG:  cxc work_mem: GetConfigOption=8192 ByName=8MB varname=work_mem",
    ] {
        assert!(
            ours.iter().any(|m| m == needle),
            "missing {needle:?} in\n{}",
            ours.join("\n")
        );
    }
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(
    file_access_matches_postgresql,
    file_access_matches_postgresql_for
);

/// storage/fd.h without a database (c-tests/compat/cx_fd.c): counted
/// files, directories and transient descriptors, durable_rename and
/// durable_unlink, their failures at the caller's level, the limit on
/// descriptors open at once (PostgreSQL's ERROR naming it), freeing what
/// was not allocated there, and an ERROR ending the worker with a file
/// still open. Same lines as the real server of that major.
fn file_access_matches_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("fd {major}"));
    let m = pgxs_module_for("compat/cx_fd.c", major);
    let dir = fresh_dir(&format!("cx_fd_{major}"));
    let d = module_daemon(&format!("cx_fd_{major}"), &m)
        .settings(&[("cxf.dir", dir.to_str().unwrap())])
        .start();
    d.wait_log("could not open directory \"cxf_nodir\"", secs(20));
    d.wait_log("exited with exit code 1", secs(20));
    let pg = PgServer::start_major(major, "cx_fd", &[&m], &[]);
    pg.wait_log("exited with exit code 1", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| message_of(l))
            .filter(|m| {
                (m.contains("cxf") || m.contains("was not obtained"))
                    && !m.contains("background worker \"")
            })
            .collect()
    };
    let ours = lines(d.log_lines());
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxf lines (ours vs PostgreSQL {major})"
    );
    for needle in [
        "LOG:  cxf durable_rename: 0",
        "LOG:  cxf OpenTransientFile read 6 bytes: hello",
        "WARNING:  file passed to FreeFile was not obtained from AllocateFile",
        "LOG:  cxf cxf_sub holds: b.txt (FreeDir 0)",
    ] {
        assert!(
            ours.iter().any(|m| m == needle),
            "missing {needle:?} in\n{}",
            ours.join("\n")
        );
    }
    assert!(
        ours.iter()
            .any(|m| m.contains("exceeded maxAllocatedDescs (#") && m.contains("number open: yes")),
        "{}",
        ours.join("\n")
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "the module left {left:?}");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

per_major!(bitmapsets_match_postgresql, bitmapsets_match_postgresql_for);

/// Every exported Bitmapset function (c-tests/compat/cx_bms.c): members,
/// nwords (15 keeps trailing words and empty sets, 16 and later trim them
/// and return NULL), results, hash values and ERRORs. Same lines as the
/// real server of that major.
fn bitmapsets_match_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("bms {major}"));
    let m = pgxs_module_for("compat/cx_bms.c", major);
    let d = module_daemon(&format!("cx_bms_{major}"), &m).start();
    d.wait_log("cxm done", secs(20));
    let pg = PgServer::start_major(major, "cx_bms", &[&m], &[]);
    pg.wait_log("cxm done", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| message_of(l))
            .filter(|m| m.contains("cxm ") && !m.contains("background worker \""))
            .collect()
    };
    let ours = lines(d.log_lines());
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxm lines (ours vs PostgreSQL {major})"
    );
    assert!(ours.len() > 40, "{}", ours.join("\n"));
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(timestamps_match_postgresql, timestamps_match_postgresql_for);

/// The timestamp helpers (c-tests/compat/cx_ts.c): Unix time conversions,
/// comparison, Julian days, timestamptz_to_str in three zones with the
/// special values, BC dates and out-of-range values. Same lines as the
/// real server of that major.
fn timestamps_match_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("ts {major}"));
    let m = pgxs_module_for("compat/cx_ts.c", major);
    let d = module_daemon(&format!("cx_ts_{major}"), &m).start();
    d.wait_log("cxt done", secs(20));
    let pg = PgServer::start_major(major, "cx_ts", &[&m], &[]);
    pg.wait_log("cxt done", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| message_of(l))
            .filter(|m| m.contains("cxt ") && !m.contains("background worker \""))
            .collect()
    };
    let ours = lines(d.log_lines());
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxt lines (ours vs PostgreSQL {major})"
    );
    assert!(
        ours.iter()
            .any(|l| l == "LOG:  cxt Asia/Kolkata 0: 2000-01-01 05:30:00+05:30"),
        "{}",
        ours.join("\n")
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(node_lists_match_postgresql, node_lists_match_postgresql_for);

/// Value nodes and the List functions that compare or copy them
/// (c-tests/compat/cx_nodes.c): equal, copyObject, IsA with the major's
/// tags, membership, deletion and set operations, and the cell layout
/// (`max_length`) of the lists they make. Same lines as the real server of
/// that major. Then, under bgworkerd only, comparing a node only the
/// server's node functions know ends the worker with the FATAL naming
/// `equal`.
fn node_lists_match_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("nodes {major}"));
    let m = pgxs_module_for("compat/cx_nodes.c", major);
    let d = module_daemon(&format!("cx_nodes_{major}"), &m)
        .settings(&[("cxn.unknown_node", "on")])
        .start();
    d.wait_log("needs the database server", secs(20));
    let pg = PgServer::start_major(major, "cx_nodes", &[&m], &[]);
    pg.wait_log("cxn done", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|l| message_of(l))
            .filter(|m| m.contains("cxn ") && !m.contains("background worker \""))
            .collect()
    };
    let mut ours = lines(d.log_lines());
    assert_eq!(
        ours.pop().as_deref(),
        Some("LOG:  cxn comparing a RangeVar"),
        "{}",
        d.log_text()
    );
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxn lines (ours vs PostgreSQL {major})"
    );
    assert!(ours.len() > 30, "{}", ours.join("\n"));
    assert!(
        d.log_text()
            .contains("FATAL:  background worker \"cxn\": equal needs the database server"),
        "{}",
        d.log_text()
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(
    module_pfrees_worker_handles_like_postgresql,
    module_pfrees_worker_handles_like_postgresql_for
);

/// A module pfree()s the handles RegisterDynamicBackgroundWorker gave it
/// (PostgreSQL pallocs them) and goes on allocating: no heap damage, same
/// lines as PostgreSQL 15.
fn module_pfrees_worker_handles_like_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("handle_pfree {major}"));
    let m = pgxs_module_for("compat/cx_handle.c", major);
    let d = module_daemon(&format!("cx_handle_{major}"), &m).start();
    d.wait_log("cxh main done", secs(20));
    d.wait_log("cxh child 2 ran", secs(20));
    let pg = PgServer::start_major(major, "cx_handle", &[&m], &[]);
    pg.wait_log("cxh main done", secs(30));
    pg.wait_log("cxh child 2 ran", secs(30));
    let lines = |v: Vec<String>| -> Vec<String> {
        let mut v: Vec<String> = v
            .iter()
            .map(|l| message_of(l))
            .filter(|m| m.contains("cxh") || m.contains("terminated by signal"))
            .collect();
        v.sort();
        v
    };
    let ours = lines(d.log_lines());
    assert_eq!(
        ours,
        lines(pg.log_lines()),
        "cxh lines (ours vs PostgreSQL {major})"
    );
    assert!(
        ours.contains(&"LOG:  cxh child 1 shutdown: 2".to_string()),
        "{ours:?}"
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}

per_major!(
    reset_callback_error_keeps_the_rest_like_postgresql,
    reset_callback_error_keeps_the_rest_like_postgresql_for
);

/// A memory-context reset callback that raises ERROR: the ones registered
/// before it stay registered and run at the next delete (PostgreSQL pops
/// them one at a time). Same transcript as PostgreSQL 15.
fn reset_callback_error_keeps_the_rest_like_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("mcxt_callbacks {major}"));
    let m = pgxs_module_for("compat/cx_mcxtcb.c", major);
    let d = module_daemon(&format!("cx_mcxtcb_{major}"), &m).start();
    d.wait_log("cxm done", secs(20));
    let pg = PgServer::start_major(major, "cx_mcxtcb", &[&m], &[]);
    pg.wait_log("cxm done", secs(30));
    let mine = worker_transcripts(&d.log_lines(), d.pid(), "cxm ");
    let real = worker_transcripts(&pg.log_lines(), pg.pid(), "cxm ");
    assert_eq!(mine, real, "cxm transcripts (ours vs PostgreSQL {major})");
    assert_eq!(
        mine,
        vec![vec![
            "LOG:  cxm callback 3",
            "LOG:  cxm callback 2",
            "ERROR:  cxm callback 2 fails",
            "LOG:  cxm deleting again",
            "LOG:  cxm callback 1",
            "LOG:  cxm done",
        ]]
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(10)).success(), "{}", d.log_text());
    pg.stop();
}
