//! Add-in shared memory, LWLocks and spinlocks for unmodified PostgreSQL
//! modules (issue 3, "Shared memory for modules").
//!
//! The module is c-tests/compat/cx_shmem.c, built with PGXS flags against
//! PostgreSQL 15's headers: its shmem_request_hook asks for space and a
//! named LWLock tranche, its shmem_startup_hook creates a struct under
//! AddinShmemInitLock, and its workers update it under the LWLock and a
//! spinlock. CX_SHMEM_CONFIG in the daemon's environment picks the workers
//! (see the top of that file). Each test owns its daemon and runs under a
//! watchdog; processes are signalled by pid only.

mod common;

use common::pg::PgServer;
use common::*;
use std::path::PathBuf;

fn module(major: u32) -> PathBuf {
    pgxs_module_for("compat/cx_shmem.c", major)
}

// `per_major!(name, body)` (tests/common/majors.rs): the tests
// `name::pg15`, `name::pg17` and `name::pg18`, each `body(major)` with
// cx_shmem built against that major's real headers (and, where a server is
// compared, that major's real server).

/// bgworkerd with cx_shmem preloaded by name, found on
/// dynamic_library_path as an installed module would be (its workers name
/// their library "cx_shmem").
fn cx_daemon(name: &str, major: u32) -> DaemonBuilder {
    let m = module(major);
    let dir = m.parent().expect("module directory").display().to_string();
    Daemon::builder(name)
        .set("dynamic_library_path", &dir)
        .set("shared_preload_libraries", "cx_shmem")
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a worker pid this test learned from the log.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Shared segments of the bgworkerd with pid `pid` still in /dev/shm.
fn segments_of(pid: i32) -> Vec<String> {
    let exact = format!("bgworker.{pid}");
    let prefix = format!("bgworker.{pid}.");
    std::fs::read_dir("/dev/shm")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| *n == exact || n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// The daemon exits 1 after reporting the startup hook's ERROR of run
/// `run` at FATAL, as PostgreSQL 15's postmaster does (checked against that
/// server), and leaves neither its segment nor its pid file behind.
fn assert_failed_cleanly(d: &Daemon, run: i32) {
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(1),
        "exit status {}\n{}",
        describe_status(&st),
        d.log_text()
    );
    let msg = format!("cx_shmem startup hook fails on purpose (run {run})");
    d.wait_log(&format!("FATAL:  {msg}"), secs(5));
    assert_eq!(d.count_log(&msg), 1, "{}", d.log_text());
    assert!(
        !d.pid_file().exists(),
        "pid file left behind:\n{}",
        d.log_text()
    );
    let left = segments_of(d.pid());
    assert!(
        left.is_empty(),
        "segments left behind: {left:?}\n{}",
        d.log_text()
    );
}

per_major!(
    counter_survives_processes_and_crash_cycle_clears_it,
    counter_survives_processes_and_crash_cycle_clears_it_for
);

/// Several workers increment one counter under the named LWLock and one
/// under a spinlock: no update is lost across processes, the startup hook
/// created the struct in the supervisor (found=false, zeroed, not under
/// postmaster), a struct created by a worker after fork is found by the
/// others, and the requested 1 MB table is there. Then a worker crash
/// starts a crash cycle: the startup hook runs again and finds a cleared
/// region, and the restarted sleeper sees the cleared struct.
fn counter_survives_processes_and_crash_cycle_clears_it_for(major: u32) {
    let _w = watchdog(
        120,
        &format!("counter_survives_processes_and_crash_cycle_clears_it {major}"),
    );
    let workers = 4;
    let loops = 20000;
    let d = cx_daemon(&format!("cx_shmem_counter_{major}"), major)
        .env("CX_SHMEM_CONFIG", "counter")
        .env("CX_SHMEM_WORKERS", &workers.to_string())
        .env("CX_SHMEM_LOOPS", &loops.to_string())
        .start();

    let startup = d.wait_log("cx_shmem startup: run=1", secs(10));
    assert_eq!(field(&startup, "found").as_deref(), Some("0"), "{startup}");
    assert_eq!(field(&startup, "zeroed").as_deref(), Some("1"), "{startup}");
    assert_eq!(
        field(&startup, "under_postmaster").as_deref(),
        Some("0"),
        "{startup}"
    );
    assert_eq!(field(&startup, "valid").as_deref(), Some("1"), "{startup}");
    assert!(
        startup.contains(&format!("[{}]", d.pid())),
        "startup hook not run by the supervisor: {startup}"
    );

    // PostgreSQL 15.20 logs "lwlock=16 padded=128 index_tranche=1
    // addin_tranche=21 named_tranche=75 named_offset=208
    // first_user_defined=75" for this line; 17.10 and 18.4 number their
    // built-in locks further (probe_reports_match_postgresql compares).
    let (first, offset) = match major {
        15 => ("75", "208"),
        17 => ("92", "213"),
        _ => ("95", "214"),
    };
    let layout = d.wait_log("cx_shmem layout:", secs(10));
    for (k, v) in [
        ("lwlock", "16"),
        ("padded", "128"),
        ("index_tranche", "1"),
        ("addin_tranche", "21"),
        ("named_tranche", first),
        ("named_offset", offset),
        ("first_user_defined", first),
    ] {
        assert_eq!(field(&layout, k).as_deref(), Some(v), "{k}: {layout}");
    }

    let total = d.wait_log("cx_shmem total:", secs(90));
    let expected = (workers * loops) as i64;
    assert_eq!(field_i64(&total, "expected"), expected, "{total}");
    assert_eq!(
        field_i64(&total, "counter"),
        expected,
        "lost LWLock-protected updates: {total}"
    );
    assert_eq!(
        field_i64(&total, "spin"),
        expected,
        "lost spinlock-protected updates: {total}"
    );
    assert_eq!(field(&total, "table_ok").as_deref(), Some("1"), "{total}");

    let attach = d.wait_log_count("cx_shmem attach:", workers, secs(5));
    let created: Vec<&String> = attach.iter().filter(|l| l.contains("found=0")).collect();
    assert_eq!(
        created.len(),
        1,
        "exactly one worker creates the late struct: {attach:#?}"
    );
    let creator = field_i64(created[0], "creator");
    for l in &attach {
        assert_eq!(
            field_i64(l, "creator"),
            creator,
            "all workers see the creator's struct: {attach:#?}"
        );
    }
    let done = d.wait_log_count("cx_shmem done:", workers, secs(5));
    assert!(done.iter().all(|l| l.contains("held=0")), "{done:#?}");

    // Crash: SIGKILL the sleeper.
    let sleeper = d.wait_log("cx_shmem sleeper:", secs(10));
    let pid = field_i64(&sleeper, "pid") as i32;
    let from = d.log_len();
    kill(pid, SIGKILL);
    d.wait_log_from(
        from,
        "all server processes terminated; reinitializing",
        secs(20),
    );
    let (_, again) = d.wait_log_from(from, "cx_shmem startup: run=2", secs(20));
    assert_eq!(field(&again, "found").as_deref(), Some("0"), "{again}");
    assert_eq!(
        field(&again, "zeroed").as_deref(),
        Some("1"),
        "region not cleared: {again}"
    );
    assert_eq!(field_i64(&again, "counter"), 0, "{again}");
    let (_, restarted) = d.wait_log_from(from, "cx_shmem sleeper:", secs(20));
    assert_ne!(field_i64(&restarted, "pid") as i32, pid);
    assert_eq!(field_i64(&restarted, "counter"), 0, "{restarted}");
    assert_eq!(field_i64(&restarted, "finished"), 0, "{restarted}");

    d.signal(SIGTERM);
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "{}\n{}",
        describe_status(&st),
        d.log_text()
    );
}

per_major!(
    lock_held_at_exit_is_released,
    lock_held_at_exit_is_released_for
);

/// A spinlock held for a while makes the contended path (s_lock) back off
/// and report its sleeps. A worker that ends with an uncaught ERROR while
/// holding the LWLock exclusively releases it on its way out (proc_exit),
/// so the worker blocked on it (asleep in a futex meanwhile) gets it.
fn lock_held_at_exit_is_released_for(major: u32) {
    let _w = watchdog(60, &format!("lock_held_at_exit_is_released {major}"));
    let d = cx_daemon(&format!("cx_shmem_holder_{major}"), major)
        .env("CX_SHMEM_CONFIG", "holder")
        .env("CX_SHMEM_HOLD_MS", "2000")
        .start();
    // The spinlock held for 300 ms: the waiter's s_lock had to sleep.
    let spin = d.wait_log("cx_shmem waiter: spinlock", secs(10));
    assert!(field_i64(&spin, "delays") > 0, "{spin}");
    let (_, waiting) = d.wait_log_from(0, "cx_shmem waiter: waiting", secs(10));
    let waiter = field_i64(&waiting, "pid") as i32;
    assert!(
        wait_until(secs(2), || blocked_in_futex(waiter)),
        "waiter {waiter} is not asleep on the lock:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log("cx_shmem waiter: acquired"),
        0,
        "waiter got the lock while it was held"
    );
    let (err_at, _) = d.wait_log_from(
        0,
        "ERROR:  cx_shmem holder exits holding the lock",
        secs(10),
    );
    let (acq_at, acquired) = d.wait_log_from(0, "cx_shmem waiter: acquired", secs(10));
    assert!(
        acq_at > err_at,
        "acquired before the holder exited:\n{}",
        d.log_text()
    );
    assert_eq!(
        field(&acquired, "immediate").as_deref(),
        Some("0"),
        "{acquired}"
    );
    d.wait_log("exited with exit code 1", secs(5));
    d.signal(SIGTERM);
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "{}\n{}",
        describe_status(&st),
        d.log_text()
    );
}

per_major!(errors_are_postgresql_s, errors_are_postgresql_s_for);

/// PostgreSQL 15's messages and severities: unknown tranche, size
/// overflow, size mismatch in ShmemInitStruct, releasing a lock not held,
/// too many LWLocks, and FATAL for requests outside shmem_request_hook.
fn errors_are_postgresql_s_for(major: u32) {
    let _w = watchdog(60, &format!("errors_are_postgresql_s {major}"));
    let d = cx_daemon(&format!("cx_shmem_probe_{major}"), major)
        .env("CX_SHMEM_CONFIG", "probe")
        .start();
    let caught = |what: &str, msg: &str, sqlstate: &str| {
        let l = d.wait_log(&format!("cx_shmem probe {what}: "), secs(10));
        assert!(l.contains(&format!("caught \"{msg}\" ")), "{what}: {l}");
        assert!(
            l.contains(&format!("\" elevel=21 sqlstate={sqlstate}")),
            "{what}: {l}"
        );
    };
    caught(
        "unknown tranche",
        "requested tranche is not registered",
        "XX000",
    );
    // PostgreSQL 15.20's wording (earlier 15.x releases did not name the
    // operands), checked against that server.
    caught(
        "mul_size",
        "invalid memory allocation request size 9223372036854775807 * 3",
        "54000",
    );
    caught(
        "add_size",
        "invalid memory allocation request size 18446744073709551615 + 1",
        "54000",
    );
    // No limit below SIZE_MAX in the backend's add_size.
    d.wait_log(
        "cx_shmem probe add_size half: result=9223372036854775808",
        secs(5),
    );
    d.wait_log("cx_shmem probe add_size half: no error", secs(5));
    caught(
        "size mismatch",
        // sizeof(CxShared) is 40 on LP64; the probe asks for 8 more.
        "ShmemIndex entry size is wrong for data structure \"cx_shmem\": expected 48, actual 40",
        "XX000",
    );
    caught("release unheld", "lock cx_shmem is not held", "XX000");
    caught("too many", "too many LWLocks taken", "XX000");
    let sizes = d.wait_log("cx_shmem probe sizes:", secs(5));
    assert!(sizes.contains("add=42 mul=42"), "{sizes}");
    let held = d.wait_log("cx_shmem probe held:", secs(5));
    assert!(held.contains("first=1 last=1"), "{held}");
    let after = d.wait_log("cx_shmem probe after release all:", secs(5));
    assert!(after.contains("first=0 conditional=1"), "{after}");
    // The named tranche took the first user-defined id; the module's own
    // LWLockNewTrancheId got the next one.
    assert_eq!(
        field_i64(&after, "tranche"),
        field_i64(&after, "first_user_defined") + 1,
        "{after}"
    );

    let fatal = d.wait_log(
        "cannot request additional shared memory outside shmem_request_hook",
        secs(10),
    );
    assert!(fatal.contains("FATAL:  cannot request"), "{fatal}");
    let fatal = d.wait_log(
        "cannot request additional LWLocks outside shmem_request_hook",
        secs(10),
    );
    assert!(fatal.contains("FATAL:  cannot request"), "{fatal}");
    d.wait_log_count("exited with exit code 1", 2, secs(10));
    assert_eq!(
        d.count_log("still running after"),
        0,
        "a FATAL returned:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(&d);
    d.signal(SIGTERM);
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "{}\n{}",
        describe_status(&st),
        d.log_text()
    );
}

per_major!(
    startup_hook_error_stops_bgworkerd,
    startup_hook_error_stops_bgworkerd_for
);

/// An ERROR in shmem_startup_hook at start: bgworkerd reports it at FATAL,
/// exits 1, and leaves no segment or pid file.
fn startup_hook_error_stops_bgworkerd_for(major: u32) {
    let _w = watchdog(60, &format!("startup_hook_error_stops_bgworkerd {major}"));
    let d = cx_daemon(&format!("cx_shmem_startup_error_{major}"), major)
        .env("CX_SHMEM_STARTUP_ERROR", "1")
        .spawn();
    assert_failed_cleanly(&d, 1);
    assert_eq!(d.count_log("bgworkerd ready"), 0, "{}", d.log_text());
    assert_eq!(
        d.count_log("cx_shmem attach:"),
        0,
        "a worker started:\n{}",
        d.log_text()
    );
}

per_major!(
    startup_hook_error_after_crash_stops_bgworkerd,
    startup_hook_error_after_crash_stops_bgworkerd_for
);

/// The same ERROR when the hook runs again after a crash cycle.
fn startup_hook_error_after_crash_stops_bgworkerd_for(major: u32) {
    let _w = watchdog(
        60,
        &format!("startup_hook_error_after_crash_stops_bgworkerd {major}"),
    );
    let d = cx_daemon(&format!("cx_shmem_startup_error_crash_{major}"), major)
        .env("CX_SHMEM_STARTUP_ERROR", "after_crash")
        .env("CX_SHMEM_LOOPS", "10")
        .start();
    let segment = d.segment_path().expect("segment name in the pid file");
    let sleeper = d.wait_log("cx_shmem sleeper:", secs(10));
    kill(field_i64(&sleeper, "pid") as i32, SIGKILL);
    assert_failed_cleanly(&d, 2);
    assert!(!segment.exists(), "{} left behind", segment.display());
}

per_major!(
    embedded_supervisor_runs_the_hooks,
    embedded_supervisor_runs_the_hooks_for
);

/// A host embedding the supervisor (bgw_host_load_library, bgw_host_run)
/// gets the same: the hooks run in the host process, its workers share the
/// counter, and the run ends normally.
fn embedded_supervisor_runs_the_hooks_for(major: u32) {
    let _w = watchdog(90, &format!("embedded_supervisor_runs_the_hooks {major}"));
    let exe = pg_host_program_with("host_embed.c", &["-rdynamic", "-pthread"]);
    let m = module(major);
    let dir = m.parent().expect("module directory").display().to_string();
    let rundir = Scratch::new(&format!("cx_shmem_host_{major}"));
    let rundir_s = rundir.display().to_string();
    let h = Proc::spawn(
        &exe,
        &["load", rundir_s.as_str(), dir.as_str(), "cx_shmem"],
        &[
            ("CX_SHMEM_CONFIG", "counter"),
            ("CX_SHMEM_WORKERS", "3"),
            ("CX_SHMEM_LOOPS", "5000"),
            ("HOST_SHUTDOWN", "2"),
        ],
        "cx_shmem_host",
    );
    let startup = h.wait_line("cx_shmem startup: run=1", secs(20));
    assert!(
        startup.contains(&format!("[{}]", h.pid())),
        "hook not run by the host: {startup}"
    );
    assert_eq!(field(&startup, "found").as_deref(), Some("0"), "{startup}");
    let total = h.wait_line("cx_shmem total:", secs(60));
    assert_eq!(field_i64(&total, "counter"), 15000, "{total}");
    assert_eq!(field_i64(&total, "spin"), 15000, "{total}");
    h.wait_line("cx_shmem sleeper:", secs(10));
    h.signal(SIGUSR2);
    h.wait_line("host: run returned rc=0", secs(20));
    let st = h.wait_exit(secs(20));
    assert_eq!(st.code(), Some(0), "{}", h.text());
}

// ---------------------------------------------------------------------------
// The same module under a PostgreSQL 15 server
// ---------------------------------------------------------------------------

/// The module's report lines, without timestamp and pid, sorted (the two
/// probe workers interleave differently from run to run).
fn reports(lines: &[String]) -> Vec<String> {
    let mut v: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("cx_shmem") || l.contains("outside shmem_request_hook"))
        .filter(|l| !l.contains("background worker \"cx_shmem\""))
        .filter_map(|l| l.split_once("] ").map(|(_, r)| r.to_string()))
        .collect();
    v.sort();
    v
}

per_major!(
    probe_reports_match_postgresql,
    probe_reports_match_postgresql_for
);

/// The probe workers' reports (caught errors with message, level and
/// SQLSTATE, the FATALs, the lock layout) are line for line what a
/// PostgreSQL 15 server logs for the same module.
fn probe_reports_match_postgresql_for(major: u32) {
    let _w = watchdog(120, &format!("probe_reports_match_postgresql {major}"));
    let m = module(major);
    let pg = PgServer::spawn_major(
        major,
        "shmem-probe",
        &[&m],
        "",
        &[("CX_SHMEM_CONFIG", "probe")],
    );
    pg.wait_ready();
    pg.wait_log("cannot request additional shared memory outside", secs(30));
    pg.wait_log("cannot request additional LWLocks outside", secs(30));
    pg.wait_log_count("exited with exit code 1", 2, secs(10));
    pg.signal(SIGINT);
    let st = pg.wait_exit(secs(30));
    assert_eq!(
        st.code(),
        Some(0),
        "postgres: {}\n{}",
        describe_status(&st),
        pg.text()
    );

    let d = cx_daemon(&format!("cx_shmem_probe_vs_pg_{major}"), major)
        .env("CX_SHMEM_CONFIG", "probe")
        .start();
    d.wait_log("cannot request additional shared memory outside", secs(10));
    d.wait_log("cannot request additional LWLocks outside", secs(10));
    d.wait_log_count("exited with exit code 1", 2, secs(10));
    d.signal(SIGTERM);
    d.wait_exit(secs(20));

    let (theirs, ours) = (reports(&pg.log_lines()), reports(&d.log_lines()));
    assert!(
        theirs.len() > 10,
        "too few reports from postgres:\n{}",
        pg.text()
    );
    assert_eq!(
        ours, theirs,
        "bgworkerd (left) and PostgreSQL {major} (right) differ"
    );
}

per_major!(
    startup_hook_error_matches_postgresql,
    startup_hook_error_matches_postgresql_for
);

/// An ERROR in shmem_startup_hook: the same FATAL line and exit status 1
/// from both.
fn startup_hook_error_matches_postgresql_for(major: u32) {
    let _w = watchdog(
        120,
        &format!("startup_hook_error_matches_postgresql {major}"),
    );
    let m = module(major);
    let env = [("CX_SHMEM_STARTUP_ERROR", "1")];
    let pg = PgServer::spawn_major(major, "shmem-startup-error", &[&m], "", &env);
    let pst = pg.wait_exit(secs(30));
    let d = cx_daemon(&format!("cx_shmem_startup_error_vs_pg_{major}"), major)
        .env("CX_SHMEM_STARTUP_ERROR", "1")
        .spawn();
    let st = d.wait_exit(secs(20));
    // The exit can be seen before the last lines are read.
    d.wait_log_closed(secs(5));
    assert_eq!(
        (st.code(), pst.code()),
        (Some(1), Some(1)),
        "bgworkerd:\n{}\npostgres:\n{}",
        d.log_text(),
        pg.text()
    );
    let (theirs, ours) = (reports(&pg.log_lines()), reports(&d.log_lines()));
    assert_eq!(
        theirs,
        vec!["FATAL:  cx_shmem startup hook fails on purpose (run 1)".to_string()],
        "{}",
        pg.text()
    );
    assert_eq!(
        ours, theirs,
        "bgworkerd (left) and PostgreSQL {major} (right) differ"
    );
}
