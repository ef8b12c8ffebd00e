//! One library, three PostgreSQL majors: the same module source
//! (c-tests/mj_module.c) built unchanged against PostgreSQL 15's, 17's and
//! 18's real server headers runs under bgworkerd with its own major's
//! layout and values; a process's major is fixed by its modules (or the
//! postgresql_major setting) and modules or dynamic workers of another
//! major, or of a major not served, are refused with PostgreSQL's wording.

mod common;

use std::path::{Path, PathBuf};

use common::pg::{message_of, PgServer};
use common::*;

const MAJORS: [u32; 3] = [15, 17, 18];

fn mj(major: u32) -> PathBuf {
    pgxs_module_for("mj_module.c", major)
}

/// `sizeof(BackgroundWorker)` in each major's real header.
fn bgw_size(major: u32) -> usize {
    if major >= 17 {
        1472
    } else {
        544
    }
}

/// A directory holding `lib` as `mj_module.so`, so that workers name it
/// "mj_module" through dynamic_library_path.
fn libdir(name: &str, lib: &Path) -> Scratch {
    let d = Scratch::new(name);
    std::fs::copy(lib, d.join("mj_module.so")).expect("copy module");
    d
}

fn start(name: &str, dir: &Path, extra: &[(&str, &str)]) -> Daemon {
    start_with(name, dir, "mj_module", extra)
}

fn start_with(name: &str, dir: &Path, preload: &str, extra: &[(&str, &str)]) -> Daemon {
    let mut b = Daemon::builder(name)
        .set("shared_preload_libraries", preload)
        .set("dynamic_library_path", &dir.display().to_string())
        .set("mj.nap", "2s");
    for (k, v) in extra {
        b = b.env(k, v);
    }
    b.start()
}

/// Every served major's module: its static worker sees its own layout
/// (every field, after the moved bgw_library_name), the unit-carrying GUC
/// reads 2s as 2000 ms (17's and 18's flag values differ from 15's), its
/// backend type and chunk context are right, and a dynamic worker it
/// registers with its own layout starts and stops.
#[test]
fn each_major_module_runs_with_its_own_layout() {
    let _w = watchdog(120, "each_major_module_runs_with_its_own_layout");
    for major in MAJORS {
        let dir = libdir(&format!("mj-run-{major}"), &mj(major));
        let d = start(&format!("mj-run-{major}"), &dir, &[]);
        let l = d.wait_log("name=\"mj static\"", secs(10));
        assert!(
            l.contains(&format!(
                "mj {major}: sizeof(BackgroundWorker)={} name=\"mj static\" type=\"mj type\" \
                 library=\"mj_module\" function=\"mj_main\" arg=0 extra=\"extra of the static one\" notify=0",
                bgw_size(major)
            )),
            "{l}"
        );
        let l = d.wait_log(&format!("mj {major}: nap="), secs(10));
        assert!(
            l.contains("nap=2000 ms, is_bgworker=1, chunk_context_is_current=1, ps=\"mj-ps-t\""),
            "{l}"
        );
        let l = d.wait_log("mj: dynamic bgw_type defaulted to", secs(10));
        assert!(l.ends_with("\"mj dynamic\""), "{l}");
        let l = d.wait_log("name=\"mj dynamic\"", secs(10));
        assert!(
            l.contains("function=\"mj_main\" arg=1 extra=\"extra of the dynamic one\" notify="),
            "{l}"
        );
        let l = d.wait_log(
            &format!("mj {major}: main loop interrupts handled"),
            secs(10),
        );
        assert!(l.ends_with("reload pending 0, nap=2000 ms"), "{l}");
        d.wait_log("mj: dynamic started", secs(10));
        // Terminated by its registrant: die() ends it as PostgreSQL's does.
        d.wait_log(
            "terminating background worker \"mj dynamic\" due to administrator command",
            secs(10),
        );
        d.wait_log("mj: dynamic stopped", secs(10));
        assert_eq!(d.count_log("ERROR:"), 0, "{}", d.log_text());
    }
}

/// PostgreSQL 17's bgw_library_name holds MAXPGPATH bytes: a library path
/// longer than 15's 96 bytes works for a 17 module, static and dynamic.
#[test]
fn a_17_module_names_a_library_longer_than_15s_field() {
    let _w = watchdog(60, "a_17_module_names_a_library_longer_than_15s_field");
    let dir = libdir("mj-long", &mj(17));
    let deep = dir.join(format!("{}/{}", "d".repeat(60), "e".repeat(60)));
    std::fs::create_dir_all(&deep).expect("deep dir");
    let long = deep.join("mj_module.so");
    std::fs::copy(mj(17), &long).expect("copy");
    let long = long.display().to_string();
    assert!(long.len() > 120);
    let d = start_with("mj-long", &dir, &long, &[("MJ_LIB", &long)]);
    let l = d.wait_log("name=\"mj static\"", secs(10));
    assert!(l.contains(&format!("library=\"{long}\"")), "{l}");
    let l = d.wait_log("name=\"mj dynamic\"", secs(10));
    assert!(l.contains(&format!("library=\"{long}\"")), "{l}");
    d.wait_log("mj: dynamic stopped", secs(10));
}

fn refused(d: &Daemon, needle: &str) -> (String, String) {
    let st = d.wait_exit(secs(10));
    assert!(
        !st.success(),
        "daemon must refuse to start:\n{}",
        d.log_text()
    );
    let (i, l) = d.wait_log_from(0, needle, secs(1));
    let (_, detail) = d.wait_log_from(i + 1, "DETAIL:", secs(5));
    assert!(l.contains("FATAL:  "), "{l}");
    assert_eq!(
        d.count_log("mj static"),
        0,
        "a worker started:\n{}",
        d.log_text()
    );
    assert_eq!(d.count_log("bgworkerd ready"), 0);
    (l, detail)
}

/// Modules of two majors in one daemon: refused before anything starts,
/// with PostgreSQL's "version mismatch" naming both majors (the first
/// module's is the server's), whichever comes first.
#[test]
fn modules_of_different_majors_are_refused_before_anything_starts() {
    let _w = watchdog(
        60,
        "modules_of_different_majors_are_refused_before_anything_starts",
    );
    let (m15, m17, m18) = (mj(15), mj(17), mj(18));
    for (a, b, ma, mb) in [(&m15, &m17, 15, 17), (&m18, &m15, 18, 15)] {
        let name = format!("mj-mix-{ma}-{mb}");
        let d = Daemon::builder(&name)
            .set(
                "shared_preload_libraries",
                &format!("{},{}", a.display(), b.display()),
            )
            .spawn();
        let (l, detail) = refused(&d, "version mismatch");
        assert!(
            l.ends_with(&format!(
                "incompatible library \"{}\": version mismatch",
                b.display()
            )),
            "{l}"
        );
        assert!(
            detail.ends_with(&format!(
                "DETAIL:  Server is version {ma}, library is version {mb}."
            )),
            "{detail}"
        );
    }
}

/// A daemon without modules takes postgresql_major; a module of another
/// major is refused against it, and an invalid value is refused.
#[test]
fn postgresql_major_setting_decides_without_modules() {
    let _w = watchdog(60, "postgresql_major_setting_decides_without_modules");
    let m15 = mj(15);
    let d = Daemon::builder("mj-setting-mismatch")
        .set("postgresql_major", "17")
        .set("shared_preload_libraries", &m15.display().to_string())
        .spawn();
    let (_, detail) = refused(&d, "version mismatch");
    assert!(
        detail.ends_with("DETAIL:  Server is version 17, library is version 15."),
        "{detail}"
    );
    let d = Daemon::builder("mj-setting-bad")
        .set("postgresql_major", "16")
        .spawn();
    let st = d.wait_exit(secs(10));
    assert!(!st.success());
    d.wait_log(
        "invalid value for parameter \"postgresql_major\": \"16\"",
        secs(1),
    );
}

/// A dynamic worker whose library is of another major than its daemon's
/// fails at load in that worker, with the same message; the daemon and
/// its other workers carry on.
#[test]
fn dynamic_worker_of_another_major_fails_at_load() {
    let _w = watchdog(60, "dynamic_worker_of_another_major_fails_at_load");
    let dir = libdir("mj-dyn-other", &mj(17));
    let other = mj(15).display().to_string();
    let d = start("mj-dyn-other", &dir, &[("MJ_DYNLIB", &other)]);
    let (i, l) = d.wait_log_from(0, "version mismatch", secs(10));
    assert!(l.contains("ERROR:  "), "{l}");
    assert!(
        l.ends_with(&format!(
            "incompatible library \"{other}\": version mismatch"
        )),
        "{l}"
    );
    let (_, detail) = d.wait_log_from(i + 1, "DETAIL:", secs(5));
    assert!(
        detail.ends_with("DETAIL:  Server is version 17, library is version 15."),
        "{detail}"
    );
    d.wait_log("mj: dynamic stopped", secs(10));
    assert_eq!(d.count_log("name=\"mj dynamic\""), 0);
    assert!(d.try_exit().is_none(), "the daemon must keep running");
}

/// Modules stamped for majors this library does not serve (14 and 16 in
/// 15's 56-byte block, 19 in 18's 72-byte one) are refused with the version
/// named, before their _PG_init runs.
#[test]
fn unserved_majors_are_refused_with_the_version_named() {
    let _w = watchdog(60, "unserved_majors_are_refused_with_the_version_named");
    for (src, headers, shown) in [
        ("bad_magic14.c", 15, "14"),
        ("bad_magic16.c", 15, "16"),
        ("bad_magic19.c", 15, "19"),
    ] {
        let m = pgxs_module_for(src, headers);
        let d = Daemon::builder(&format!("mj-unserved-{shown}"))
            .set("shared_preload_libraries", &m.display().to_string())
            .spawn();
        let (l, detail) = refused(&d, "version mismatch");
        assert!(l.contains(&m.display().to_string()), "{l}");
        assert!(
            detail.ends_with(&format!(
                "DETAIL:  Server is version 15, library is version {shown}."
            )),
            "{detail}"
        );
        assert_eq!(d.count_log("_PG_init"), 0, "{}", d.log_text());
    }
}

/// bgworkerctl shows each worker's major: the PG column and "major" in
/// `status --json` (version stays 1).
#[test]
fn status_shows_each_workers_major() {
    let _w = watchdog(60, "status_shows_each_workers_major");
    let dir = libdir("mj-status", &mj(18));
    let d = start("mj-status", &dir, &[]);
    d.wait_log("mj: dynamic stopped", secs(10));
    let r = run_ctl(d.rundir(), &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    let cols: Vec<&str> = lines[0].split_whitespace().collect();
    let pg = cols.iter().position(|c| *c == "PG").expect("PG column");
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.contains("mj static"))
        .expect("static worker row")
        .split_whitespace()
        .collect();
    // "mj static" and "mj type" are two cells each.
    assert_eq!(row[pg + 2], "18", "{}", r.stdout);
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert!(r.stdout.starts_with("{\"version\":1,"), "{}", r.stdout);
    assert!(
        r.stdout.contains(",\"shutdown\":null,\"major\":18,"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(",\"flags\":1,\"major\":18,"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(",\"major\":15,"), "{}", r.stdout);

    // bgworkerctl launch in an 18 daemon: a library path longer than 15's
    // 96-byte field, as 18's modules may name (mj_plain, built for 18: a
    // second copy of mj_module would define its setting twice).
    let deep = dir.join(format!("{}/{}", "c".repeat(60), "t".repeat(60)));
    std::fs::create_dir_all(&deep).expect("deep dir");
    let long = deep.join("mj_plain.so");
    std::fs::copy(pgxs_module_for("mj_plain.c", 18), &long).expect("copy");
    let long = long.display().to_string();
    let r = run_ctl(
        d.rundir(),
        &[
            "launch",
            "--name",
            "mj ctl",
            "--library",
            &long,
            "--function",
            "mj_main",
            "--arg",
            "5",
            "--wait",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    d.wait_log("mj plain ran with 5", secs(10));
}

fn host(major: u32) -> PathBuf {
    host_program_with("mj_host.c", &[&format!("-DBGW_PG_MAJOR={major}")])
}

/// C hosts pick their major at compile time: a 17 host (1472-byte
/// BackgroundWorker, a library path longer than 15's field) and an
/// unchanged 15 host both attach to one daemon of major 17 and start, see
/// and stop a worker there; a host of a major not served fails at
/// bgw_attach with a clear message and nothing is registered.
#[test]
fn hosts_of_each_major_attach_to_one_daemon() {
    let _w = watchdog(90, "hosts_of_each_major_attach_to_one_daemon");
    // One copy of the module, in a deep directory that is also the
    // dynamic_library_path: "mj_module" and the long path name one file.
    let dir = Scratch::new("mj-hosts");
    let deep = dir.join(format!("{}/{}", "h".repeat(60), "i".repeat(60)));
    std::fs::create_dir_all(&deep).expect("deep dir");
    let long = deep.join("mj_module.so");
    std::fs::copy(mj(17), &long).expect("copy");
    let long = long.display().to_string();
    let d = start_with("mj-hosts", &deep, &long, &[("MJ_LIB", &long)]);
    d.wait_log("mj: dynamic stopped", secs(10));
    let rundir = d.rundir().display().to_string();
    for (major, lib, size) in [
        (17, long.as_str(), 1472),
        (18, long.as_str(), 1472),
        (15, "mj_module", 544),
    ] {
        // The definition ends at an unreadable page: the library reads the
        // host's layout and not one byte more.
        let p = Proc::spawn(
            &host(major),
            &[&rundir, lib, "guard"],
            &[],
            &format!("mj_host {major}"),
        );
        let st = p.wait_exit(secs(20));
        assert!(st.success(), "{}", p.text());
        p.wait_line(
            &format!("host: BGW_PG_MAJOR={major} sizeof(BackgroundWorker)={size}"),
            secs(1),
        );
        p.wait_line(
            &format!("host: registered, bgw_type=\"mj host {major}\""),
            secs(1),
        );
        p.wait_line("host: definition ends at a guard page", secs(1));
        p.wait_line("host: stopped", secs(1));
        // The worker runs as the daemon's major, whatever its registrant's.
        let l = d.wait_log(&format!("name=\"mj host {major}\""), secs(10));
        assert!(l.contains("mj 17: sizeof(BackgroundWorker)=1472"), "{l}");
        assert!(l.contains(&format!("library=\"{lib}\"")), "{l}");
        assert!(l.contains("extra=\"extra of the host's\""), "{l}");
    }
    let p = Proc::spawn(&host(16), &[&rundir, "mj_module"], &[], "mj_host 16");
    let st = p.wait_exit(secs(20));
    assert_eq!(st.code(), Some(2), "{}", p.text());
    p.wait_line(
        "host: attach failed: bgw_attach: this program was compiled for PostgreSQL 16 \
         (BGW_PG_MAJOR), which libbgworker does not serve (it serves 15, 17 and 18)",
        secs(1),
    );
    assert_eq!(d.count_log("mj host 16"), 0);
    assert!(d.try_exit().is_none(), "the daemon must keep running");
}

/// Compile `text` against PostgreSQL `major`'s real server headers with
/// PostgreSQL 15's PGXS flags, run it, and return its `KEY VALUE` lines.
fn probe(major: u32, name: &str, text: &str) -> std::collections::BTreeMap<String, String> {
    use std::process::Command;
    let dir = Scratch::new(&format!("probe-{name}-{major}"));
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, text).unwrap();
    let exe = dir.join(name);
    let mut cmd = Command::new("cc");
    let cfg = "/usr/lib/postgresql/15/bin/pg_config";
    for a in ["--cppflags", "--cflags"] {
        let o = Command::new(cfg).arg(a).output().expect("pg_config");
        cmd.args(String::from_utf8_lossy(&o.stdout).split_whitespace());
    }
    cmd.arg(format!("-I{}", pg_server_include(major).display()));
    let out = cmd.arg("-o").arg(&exe).arg(&src).output().expect("cc");
    assert!(
        out.status.success(),
        "{name} for {major}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("run probe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// What differs between the majors, from each major's real headers, against
/// what the library uses for that major: BackgroundWorker (every offset),
/// the magic block's size, PGPROC, the memory context node tag, the
/// background worker's BackendType, the LWLock numbering, and every GUC
/// flag value (a 17/18 word
/// must read as the 15 word of the same meaning).
#[test]
fn per_major_values_match_each_real_header() {
    let _w = watchdog(120, "per_major_values_match_each_real_header");
    let text = r#"
#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "storage/latch.h"
#include "utils/elog.h"
#include "postmaster/bgworker.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/guc.h"
#undef printf
#include <stdio.h>
#include <stddef.h>
#define OFF(f) printf("BackgroundWorker." #f " %zu %zu\n", offsetof(BackgroundWorker, f), sizeof(((BackgroundWorker *) 0)->f))
#define GUCF(f) printf("GUC." #f " %d\n", (int) (f))
int main(void) {
  printf("BackgroundWorker %zu\n", sizeof(BackgroundWorker));
  OFF(bgw_name); OFF(bgw_type); OFF(bgw_flags); OFF(bgw_start_time); OFF(bgw_restart_time);
  OFF(bgw_library_name); OFF(bgw_function_name); OFF(bgw_main_arg); OFF(bgw_extra); OFF(bgw_notify_pid);
  printf("Pg_magic_struct %zu\n", sizeof(Pg_magic_struct));
  printf("PGPROC %zu %zu %zu %zu\n", sizeof(PGPROC), offsetof(PGPROC, procLatch),
         offsetof(PGPROC, pid), offsetof(PGPROC, wait_event_info));
  printf("PROC_HDR %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu\n", sizeof(PROC_HDR),
         offsetof(PROC_HDR, allProcs), offsetof(PROC_HDR, xids), offsetof(PROC_HDR, subxidStates),
         offsetof(PROC_HDR, statusFlags), offsetof(PROC_HDR, allProcCount),
         offsetof(PROC_HDR, procArrayGroupFirst), offsetof(PROC_HDR, clogGroupFirst),
         offsetof(PROC_HDR, spins_per_delay), offsetof(PROC_HDR, startupBufferPinWaitBufId));
  printf("XidCacheStatus %zu\n", sizeof(XidCacheStatus));
  printf("PGPROC.cvWaitLink %zu\n", offsetof(PGPROC, cvWaitLink));
#if PG_VERSION_NUM >= 180000
  printf("PROC_HDR.procNumbers %zu %zu\n", offsetof(PROC_HDR, walwriterProc),
         offsetof(PROC_HDR, checkpointerProc));
#endif
#if PG_VERSION_NUM >= 170000
  printf("PROC_HDR.invalid %u\n", (unsigned) INVALID_PROC_NUMBER);
#else
  printf("PROC_HDR.invalid %u\n", (unsigned) INVALID_PGPROCNO);
#endif
#if PG_VERSION_NUM >= 170000
  printf("PGPROC.procno %zu\n", offsetof(PGPROC, vxid.procNumber));
  printf("BGWORKER_BYPASS_ROLELOGINCHECK %d\n", BGWORKER_BYPASS_ROLELOGINCHECK);
#else
  printf("PGPROC.procno %zu\n", offsetof(PGPROC, pgprocno));
  printf("PGPROC.backendId %zu\n", offsetof(PGPROC, backendId));
#endif
  printf("T_AllocSetContext %d\n", (int) T_AllocSetContext);
  /* Layouts the runtime keeps one of for every major. */
  printf("same.ErrorData %zu %zu %zu %zu %zu %zu %zu %zu\n", sizeof(ErrorData), offsetof(ErrorData, elevel),
         offsetof(ErrorData, sqlerrcode), offsetof(ErrorData, message), offsetof(ErrorData, detail),
         offsetof(ErrorData, hint), offsetof(ErrorData, context), offsetof(ErrorData, saved_errno));
  printf("same.StringInfoData %zu %zu %zu %zu\n", sizeof(StringInfoData), offsetof(StringInfoData, len),
         offsetof(StringInfoData, maxlen), offsetof(StringInfoData, cursor));
  printf("same.ErrorContextCallback %zu %zu %zu\n", sizeof(ErrorContextCallback),
         offsetof(ErrorContextCallback, callback), offsetof(ErrorContextCallback, arg));
  printf("same.Latch %zu %zu %zu %zu %zu\n", sizeof(Latch), offsetof(Latch, is_set),
         offsetof(Latch, maybe_sleeping), offsetof(Latch, is_shared), offsetof(Latch, owner_pid));
  printf("same.MemoryContextData %zu %zu %zu %zu\n", sizeof(MemoryContextData),
         offsetof(MemoryContextData, parent), offsetof(MemoryContextData, firstchild),
         offsetof(MemoryContextData, name));
  printf("same.sigjmp_buf %zu\n", sizeof(sigjmp_buf));
  printf("B_BG_WORKER %d\n", (int) B_BG_WORKER);
  printf("LWLocks %d %d %d %d\n", NUM_INDIVIDUAL_LWLOCKS, NUM_FIXED_LWLOCKS,
         (int) LWTRANCHE_FIRST_USER_DEFINED, (int) LWTRANCHE_BUFFER_MAPPING);
#if PG_VERSION_NUM >= 170000
  /* the individual locks, from the header's own list */
#define PG_LWLOCK(id, name) printf("lwlock.%d %s\n", id, #name);
#include "storage/lwlocklist.h"
#undef PG_LWLOCK
#endif
  GUCF(GUC_LIST_INPUT); GUCF(GUC_LIST_QUOTE); GUCF(GUC_NO_SHOW_ALL); GUCF(GUC_NO_RESET_ALL);
  GUCF(GUC_REPORT); GUCF(GUC_NOT_IN_SAMPLE); GUCF(GUC_DISALLOW_IN_FILE); GUCF(GUC_CUSTOM_PLACEHOLDER);
  GUCF(GUC_SUPERUSER_ONLY); GUCF(GUC_IS_NAME); GUCF(GUC_NOT_WHILE_SEC_REST); GUCF(GUC_EXPLAIN);
  GUCF(GUC_RUNTIME_COMPUTED); GUCF(GUC_ALLOW_IN_PARALLEL);
  GUCF(GUC_UNIT_KB); GUCF(GUC_UNIT_BLOCKS); GUCF(GUC_UNIT_XBLOCKS); GUCF(GUC_UNIT_MB); GUCF(GUC_UNIT_BYTE);
  GUCF(GUC_UNIT_MS); GUCF(GUC_UNIT_S); GUCF(GUC_UNIT_MIN);
  return 0;
}
"#;
    use bgworker::abi::{BackgroundWorker15, BackgroundWorker17};
    use std::mem::{offset_of, size_of};
    let ours15 = [
        offset_of!(BackgroundWorker15, bgw_library_name),
        offset_of!(BackgroundWorker15, bgw_function_name),
        offset_of!(BackgroundWorker15, bgw_main_arg),
        offset_of!(BackgroundWorker15, bgw_extra),
        offset_of!(BackgroundWorker15, bgw_notify_pid),
    ];
    let ours17 = [
        offset_of!(BackgroundWorker17, bgw_library_name),
        offset_of!(BackgroundWorker17, bgw_function_name),
        offset_of!(BackgroundWorker17, bgw_main_arg),
        offset_of!(BackgroundWorker17, bgw_extra),
        offset_of!(BackgroundWorker17, bgw_notify_pid),
    ];
    let pg15 = probe(15, "majors_probe", text);
    for major in MAJORS {
        let pg = if major == 15 {
            pg15.clone()
        } else {
            probe(major, "majors_probe", text)
        };
        let num = |k: &str| -> usize {
            pg.get(k)
                .unwrap_or_else(|| panic!("{major}: no {k}"))
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let (size, offs) = if major >= 17 {
            (size_of::<BackgroundWorker17>(), ours17)
        } else {
            (size_of::<BackgroundWorker15>(), ours15)
        };
        assert_eq!(
            num("BackgroundWorker"),
            size,
            "{major}: sizeof(BackgroundWorker)"
        );
        for (f, o) in [
            "bgw_library_name",
            "bgw_function_name",
            "bgw_main_arg",
            "bgw_extra",
            "bgw_notify_pid",
        ]
        .iter()
        .zip(offs)
        {
            assert_eq!(num(&format!("BackgroundWorker.{f}")), o, "{major}: {f}");
        }
        assert_eq!(
            num("Pg_magic_struct"),
            if major >= 18 { 72 } else { 56 },
            "{major}: magic block size the loader expects"
        );
        if major >= 17 {
            assert_eq!(
                pg["BGWORKER_BYPASS_ROLELOGINCHECK"],
                bgworker::abi::BGWORKER_BYPASS_ROLELOGINCHECK.to_string()
            );
        }
        let lay = bgworker_pgrt::latch::proc_layout(major);
        let proc: Vec<usize> = pg["PGPROC"]
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(
            proc,
            vec![lay.size, lay.latch, lay.pid, lay.wait_event_info],
            "{major}: PGPROC size, procLatch, pid, wait_event_info"
        );
        assert_eq!(num("PGPROC.procno"), lay.procno, "{major}: process number");
        assert_eq!(
            num("PGPROC.cvWaitLink"),
            lay.cv_wait_link,
            "{major}: cvWaitLink"
        );
        let hdr = bgworker_pgrt::procglobal::hdr_layout(major);
        let fields: Vec<usize> = pg["PROC_HDR"]
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        use bgworker_pgrt::procglobal::{
            ALL_PROCS, ALL_PROC_COUNT, STATUS_FLAGS, SUBXID_STATES, XIDS, XID_CACHE_STATUS_SIZE,
        };
        assert_eq!(
            fields,
            vec![
                hdr.size,
                ALL_PROCS,
                XIDS,
                SUBXID_STATES,
                STATUS_FLAGS,
                ALL_PROC_COUNT,
                hdr.group_first,
                hdr.group_first + 4,
                hdr.spins_per_delay,
                hdr.startup_pin
            ],
            "{major}: PROC_HDR"
        );
        assert_eq!(
            num("XidCacheStatus"),
            XID_CACHE_STATUS_SIZE,
            "{major}: XidCacheStatus"
        );
        assert_eq!(
            pg.get("PROC_HDR.procNumbers").map(|v| v.to_string()),
            hdr.proc_numbers.map(|o| format!("{o} {}", o + 4)),
            "{major}: walwriterProc, checkpointerProc"
        );
        assert_eq!(
            num("PROC_HDR.invalid") as u32,
            hdr.invalid_procno,
            "{major}: invalid process number"
        );
        assert_eq!(
            pg.get("PGPROC.backendId")
                .map(|v| v.parse::<usize>().unwrap()),
            lay.backend_id,
            "{major}: backendId"
        );
        assert_eq!(
            num("T_AllocSetContext") as u32,
            bgworker_pgrt::mcxt::t_alloc_set_context(major),
            "{major}: T_AllocSetContext"
        );
        assert_eq!(
            num("B_BG_WORKER") as i32,
            bgworker_pgrt::misc::b_bg_worker(major),
            "{major}: B_BG_WORKER"
        );
        // What the runtime lays out once for all majors must not differ
        // (15's values are checked against the runtime by tests/compat.rs).
        for (k, v) in pg.iter().filter(|(k, _)| k.starts_with("same.")) {
            assert_eq!(v, &pg15[k], "{major}: {k} differs from 15's");
        }
        assert_eq!(pg.keys().filter(|k| k.starts_with("same.")).count(), 6);
        let lw = bgworker_pgrt::lwlock::lw_numbering(major);
        assert_eq!(
            pg["LWLocks"],
            format!(
                "{} {} {} {}",
                lw.num_individual,
                lw.num_fixed,
                lw.first_user_defined,
                lw.num_individual + 12
            ),
            "{major}: LWLock numbering"
        );
        if major >= 17 {
            // Every id the header names is named so, every other one not.
            let named: std::collections::BTreeMap<usize, &str> = pg
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("lwlock.")?.parse().ok()?, v.as_str())))
                .collect();
            assert!(named.len() >= 40, "{major}: {named:?}");
            for id in 0..lw.num_individual {
                assert_eq!(
                    bgworker_pgrt::lwlock::individual_lock_name(major, id),
                    named.get(&id).copied(),
                    "{major}: individual LWLock {id}"
                );
            }
        }
        let mut flags = 0;
        for (k, v) in pg.iter().filter(|(k, _)| k.starts_with("GUC.")) {
            let want: i32 = pg15[k].parse().unwrap();
            let got = bgworker_pgrt::guc::flags_as_15(v.parse().unwrap(), major);
            assert_eq!(got, want, "{major}: {k} reads as 15's value");
            flags += 1;
        }
        assert_eq!(flags, 22);
    }
}

/// The refusals read as the real servers' own: a 15 module preloaded into
/// PostgreSQL 17, a 17 module into 18 and an 18 module into 15 fail with
/// the same FATAL and DETAIL (paths aside) under the real server of that
/// major and under bgworkerd serving it (postgresql_major). The module is
/// mj_plain (see dynamic_worker_of_another_major_matches_real_postgresql).
#[test]
fn refusals_match_the_real_postgresql_servers() {
    let _w = watchdog(120, "refusals_match_the_real_postgresql_servers");
    let masked = |l: &str, path: &Path| message_of(l).replace(&path.display().to_string(), "LIB");
    for (server, lib) in [(17, 15), (18, 17), (15, 18)] {
        let m = pgxs_module_for("mj_plain.c", lib);
        let pg =
            PgServer::spawn_major(server, &format!("mj-refuse-{server}-{lib}"), &[&m], "", &[]);
        let st = pg.wait_exit(secs(60));
        assert!(!st.success(), "{}", pg.text());
        let (i, l) = pg.wait_log_from(0, "version mismatch", secs(1));
        let copy = pg
            .data_dir()
            .parent()
            .unwrap()
            .join("lib")
            .join(m.file_name().unwrap());
        let theirs = (masked(&l, &copy), masked(&pg.log_lines()[i + 1], &copy));

        let d = Daemon::builder(&format!("mj-refuse-{server}-{lib}"))
            .set("postgresql_major", &server.to_string())
            .set("shared_preload_libraries", &m.display().to_string())
            .spawn();
        let (l, detail) = refused(&d, "version mismatch");
        let ours = (masked(&l, &m), masked(&detail, &m));
        assert_eq!(ours, theirs, "server {server}, library {lib}");
        assert_eq!(
            theirs.1,
            format!("DETAIL:  Server is version {server}, library is version {lib}.")
        );
    }
}

/// A dynamic worker whose library is of another major than the server's:
/// under PostgreSQL 17's real server and under bgworkerd serving 17, the
/// worker fails at load with the same ERROR and DETAIL and the server
/// reports its exit the same way. (The library is mj_plain, which needs
/// nothing 17's server lacks: a 15 module that calls a function 17 removed,
/// such as IsBackgroundWorker, fails 17's dlopen with "undefined symbol"
/// before its magic block is read, where bgworkerd, which serves every
/// major's names, reads the magic block and refuses it as above.)
#[test]
fn dynamic_worker_of_another_major_matches_real_postgresql() {
    let _w = watchdog(
        120,
        "dynamic_worker_of_another_major_matches_real_postgresql",
    );
    let m17 = mj(17);
    let m15 = pgxs_module_for("mj_plain.c", 15);
    let name = "mj_other_major.so";
    // Both servers find the 15 library as "mj_other_major" on their
    // dynamic_library_path, next to mj_module.
    let pg_dir = Scratch::new("mj-dyn-pg-src");
    let other = pg_dir.join(name);
    std::fs::copy(&m15, &other).expect("copy");
    let main = pg_dir.join("mj_module.so");
    std::fs::copy(&m17, &main).expect("copy");
    let pg = PgServer::spawn_major(
        17,
        "mj-dyn-other",
        &[&main, &other],
        "shared_preload_libraries = 'mj_module'\nmj.nap = '2s'\n",
        &[("MJ_DYNLIB", "mj_other_major")],
    );
    pg.wait_ready();
    // (17's waiter may sleep long after that exit before it learns of it:
    // only the failed worker's lines are compared.)
    pg.wait_log("background worker \"mj dynamic\" (PID", secs(30));
    let dir = libdir("mj-dyn-ours", &m17);
    std::fs::copy(&m15, dir.join(name)).expect("copy");
    let d = start("mj-dyn-ours", &dir, &[("MJ_DYNLIB", "mj_other_major")]);
    d.wait_log("background worker \"mj dynamic\" (PID", secs(10));
    let pick = |lines: Vec<String>, libdir: &Path| -> Vec<String> {
        lines
            .iter()
            .map(|l| message_of(l).replace(&libdir.display().to_string(), "DIR"))
            .filter(|m| {
                m.contains("version mismatch")
                    || m.starts_with("DETAIL:")
                    || m.contains("background worker \"mj dynamic\"")
            })
            .collect()
    };
    let pg_libdir = pg.data_dir().parent().unwrap().join("lib");
    let theirs = pick(pg.log_lines(), &pg_libdir);
    let ours = pick(d.log_lines(), &dir);
    assert_eq!(ours, theirs, "ours vs PostgreSQL 17");
    assert!(
        theirs.contains(&"DETAIL:  Server is version 17, library is version 15.".to_string()),
        "{theirs:?}"
    );
    pg.stop();
}

/// A module written against include/bgworker.h alone (no magic block),
/// built for 15's layout (the default) and for 17's, runs in daemons of
/// every major: registration and MyBgworkerEntry follow the module's
/// compile-time layout, not the daemon's.
#[test]
fn bgworker_h_modules_keep_their_layout_in_any_daemon() {
    use std::process::Command;
    let _w = watchdog(90, "bgworker_h_modules_keep_their_layout_in_any_daemon");
    for (module_major, size) in [(15, 544), (17, 1472)] {
        let dir = Scratch::new(&format!("mj-bgwh-{module_major}"));
        let so = dir.join("mj_bgwh_module.so");
        let out = Command::new("cc")
            .args(["-shared", "-fPIC", "-Wall", "-Wextra", "-Werror"])
            .arg(format!("-DBGW_PG_MAJOR={module_major}"))
            .arg(format!("-I{}", repo_root().join("include").display()))
            .arg("-o")
            .arg(&so)
            .arg(c_tests_dir().join("mj_bgwh_module.c"))
            .output()
            .expect("cc");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for daemon_major in MAJORS {
            let d = Daemon::builder(&format!("mj-bgwh-{module_major}-{daemon_major}"))
                .set("postgresql_major", &daemon_major.to_string())
                .set("shared_preload_libraries", "mj_bgwh_module")
                .set("dynamic_library_path", &dir.display().to_string())
                .start();
            let l = d.wait_log("marker: mj bgwh", secs(10));
            assert!(
                l.ends_with(&format!(
                    "marker: mj bgwh major={module_major} size={size} name=\"mj bgwh\" \
                     library=\"mj_bgwh_module\" function=\"mj_bgwh_main\" \
                     extra=\"extra of the bgworker.h module\""
                )),
                "module {module_major}, daemon {daemon_major}: {l}"
            );
        }
    }
}

/// A magic block of 18 in 15's 56-byte form: the real PostgreSQL 18 server
/// and bgworkerd serving 18 refuse it with the same FATAL and DETAIL, and
/// neither runs its _PG_init.
#[test]
fn magic_block_of_the_wrong_length_matches_postgresql_18() {
    let _w = watchdog(90, "magic_block_of_the_wrong_length_matches_postgresql_18");
    let masked = |l: &str, path: &Path| message_of(l).replace(&path.display().to_string(), "LIB");
    let m = pgxs_module("bad_magic_len.c");
    let pg = PgServer::spawn_major(18, "mj-magic-len", &[&m], "", &[]);
    let st = pg.wait_exit(secs(60));
    assert!(!st.success(), "{}", pg.text());
    let (i, l) = pg.wait_log_from(0, "magic block mismatch", secs(1));
    let copy = pg
        .data_dir()
        .parent()
        .unwrap()
        .join("lib")
        .join(m.file_name().unwrap());
    let theirs = (masked(&l, &copy), masked(&pg.log_lines()[i + 1], &copy));
    assert_eq!(pg.text().matches("marker: magic_len _PG_init").count(), 0);

    let d = Daemon::builder("mj-magic-len")
        .set("postgresql_major", "18")
        .set("shared_preload_libraries", &m.display().to_string())
        .spawn();
    let (l, detail) = refused(&d, "magic block mismatch");
    assert_eq!((masked(&l, &m), masked(&detail, &m)), theirs);
    assert_eq!(
        theirs.1,
        "DETAIL:  Magic block has unexpected length or padding difference."
    );
    assert_eq!(d.count_log("marker: magic_len _PG_init"), 0);
}
