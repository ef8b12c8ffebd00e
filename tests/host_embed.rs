//! The embedding API: a host program that is itself the supervisor
//! (bgw_host_set, bgw_host_load_library, RegisterBackgroundWorker before
//! bgw_host_run, bgw_host_set_start_phase, bgw_host_request_shutdown), the
//! run directory it publishes for other processes to attach to, workers
//! whose library is "postgres" or "" (functions of the host executable),
//! and what the host keeps for itself (its own child processes, its signal
//! mask, its exit path).
//!
//! Programs: c-tests/host_embed.c (scenarios described at the top of that
//! file; linked with -rdynamic), c-tests/host_module.c (a module the host
//! loads) and c-tests/bad_magic14.c (a module stamped for PostgreSQL 14).
//! The host writes everything (its own lines, the library's log, its
//! workers' markers) to stderr, so the order of lines is the order of
//! events. Each test owns its host and run directory and runs under a
//! watchdog.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn host_exe() -> PathBuf {
    pg_host_program_with("host_embed.c", &["-rdynamic", "-pthread"])
}

fn host_module() -> PathBuf {
    pgxs_module("host_module.c")
}

/// A supervisor host: `host_embed SCENARIO RUNDIR args...`.
struct Host {
    proc_: Proc,
    rundir: PathBuf,
}

impl Host {
    fn spawn(name: &str, scenario: &str, args: &[&str], env: &[(&str, &str)]) -> Host {
        Host::spawn_exe(&host_exe(), name, scenario, args, env)
    }

    /// As `spawn`, running `exe` (host_embed.c linked another way).
    fn spawn_exe(
        exe: &Path,
        name: &str,
        scenario: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Host {
        let rundir = fresh_dir(name);
        let mut v = vec![scenario.to_string(), rundir.display().to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        let proc_ = Proc::spawn(exe, &v, env, &format!("host-{scenario}"));
        Host { proc_, rundir }
    }

    fn pid(&self) -> i32 {
        self.proc_.pid()
    }

    fn pid_file(&self) -> PathBuf {
        self.rundir.join("bgworkerd.pid")
    }

    /// Wait until the embedded supervisor is ready; returns its segment
    /// path (from the pid file, which must name this process).
    fn wait_ready(&self) -> PathBuf {
        self.proc_.wait_line("bgworkerd ready", secs(20));
        let text =
            fs::read_to_string(self.pid_file()).expect("pid file of the embedded supervisor");
        let mut lines = text.lines();
        let pid: i32 = lines
            .next()
            .unwrap_or("")
            .trim()
            .parse()
            .expect("pid in line 1");
        assert_eq!(pid, self.pid(), "pid file must name the host process");
        let seg = lines
            .next()
            .expect("segment name in line 2")
            .trim()
            .to_string();
        let path = PathBuf::from("/dev/shm").join(seg.trim_start_matches('/'));
        assert!(path.exists(), "segment {} missing", path.display());
        path
    }

    /// Wait for "marker: ready name=NAME"; returns the worker's pid, which
    /// must be a child of the host.
    fn worker_ready(&self, name: &str, t: Duration) -> i32 {
        let l = self
            .proc_
            .wait_line(&format!("marker: ready name={name} "), t);
        let p = field_i64(&l, "pid") as i32;
        assert_eq!(
            ppid(p),
            Some(self.pid()),
            "worker {name} (pid {p}) is not a child of the host"
        );
        p
    }

    fn line(&self, needle: &str) -> String {
        self.proc_.wait_line(needle, secs(20))
    }

    /// `line(needle)`, asserting that its `key=` field is `want`; `what`
    /// says what a mismatch means.
    #[track_caller]
    fn expect_field(&self, needle: &str, key: &str, want: &str, what: &str) -> String {
        self.proc_.expect_field(needle, key, want, secs(20), what)
    }

    fn line_index(&self, needle: &str) -> usize {
        self.proc_.wait_line_from(0, needle, secs(20)).0
    }

    /// SIGUSR2: the host's handler calls bgw_host_request_shutdown.
    fn request_shutdown(&self) {
        self.proc_.signal(SIGUSR2);
    }

    /// After a shutdown: bgw_host_run returned `rc`, the host's signal mask
    /// is back to what it was, the host exited 0, the run directory and the
    /// segment are cleaned up and the workers are gone.
    fn assert_clean_exit(&self, rc: i32, workers: &[i32], seg: &Path) {
        let l = self.line("host: run returned rc=");
        assert_eq!(
            field_i64(&l, "rc"),
            rc as i64,
            "bgw_host_run's result: {l}\n{}",
            self.proc_.text()
        );
        let before = field(&self.line("host: sigblk-before mask="), "mask").unwrap();
        let after = field(&self.line("host: sigblk-after mask="), "mask").unwrap();
        assert_eq!(
            before, after,
            "bgw_host_run did not restore the calling thread's signal mask"
        );
        let st = self.proc_.wait_exit(secs(20));
        assert_eq!(
            st.code(),
            Some(0),
            "host: {}\n{}",
            describe_status(&st),
            self.proc_.text()
        );
        assert_eq!(self.proc_.count_lines("FAIL:"), 0, "{}", self.proc_.text());
        let left = wait_pids_gone(workers, secs(5));
        assert!(left.is_empty(), "workers outlived bgw_host_run: {left:?}");
        if rc == 0 {
            assert!(
                !self.pid_file().exists(),
                "pid file left after a clean shutdown"
            );
            assert!(
                !seg.exists(),
                "segment {} left after a clean shutdown",
                seg.display()
            );
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A host killed before a clean shutdown leaves its segment behind.
        // SAFETY: kill(2) on the process group this test created (Proc
        // puts the host in its own group); Proc's drop does the same.
        unsafe {
            libc::kill(-self.pid(), libc::SIGKILL);
        }
        let _ = self.proc_.wait_exit(secs(10));
        let _ = fs::remove_file(PathBuf::from("/dev/shm").join(format!("bgworker.{}", self.pid())));
        // And its dynamic shared memory's control segment (and segments).
        remove_dynamic_segments(self.pid());
        let _ = fs::remove_dir_all(&self.rundir);
    }
}

fn assert_no_crash_cycle(h: &Host) {
    assert_eq!(
        h.proc_
            .count_lines("terminating any other active server processes"),
        0,
        "unexpected crash cycle:\n{}",
        h.proc_.text()
    );
}

// ---------------------------------------------------------------------------
// 1. static workers exported by the host program itself
// ---------------------------------------------------------------------------

#[test]
fn host_runs_static_workers_from_its_own_program() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_runs_static_workers_from_its_own_program",
    );
    let h = Host::spawn("host-self", "self", &[], &[("HOST_SHUTDOWN", "2")]);
    h.expect_field("host: call=set max_worker_processes=4 ", "rc", "0", "");
    // Not connected to a running supervisor yet: false, as PostgreSQL's
    // !IsUnderPostmaster.
    let l = h.expect_field(
        "host: pre-run register ok=",
        "ok",
        "0",
        "dynamic registration before bgw_host_run",
    );
    assert_eq!(field(&l, "handle").as_deref(), Some("0"), "{l}");
    let seg = h.wait_ready();
    h.line("bgworkerd ready: 4 worker slots");

    let a = h.worker_ready("host_pg", secs(10));
    let b = h.worker_ready("host_empty", secs(10));
    let s = h.expect_field("marker: start name=host_pg ", "lib", "postgres", "");
    assert_eq!(field(&s, "type").as_deref(), Some("host_pg_type"), "{s}");
    assert_eq!(field(&s, "arg").as_deref(), Some("42"), "bgw_main_arg: {s}");
    h.expect_field("marker: start name=host_empty ", "lib", "(empty)", "");
    // While bgw_host_run runs, the calling (main) thread has the signals
    // the supervisor reads from its signalfd blocked; before, it had not.
    let before = parse_mask(&field(&h.line("host: sigblk-before mask="), "mask").unwrap()).unwrap();
    let during = sigmask(h.pid(), "SigBlk").expect("SigBlk of the host");
    for (sig, name) in [
        (libc::SIGCHLD, "SIGCHLD"),
        (SIGUSR1, "SIGUSR1"),
        (SIGTERM, "SIGTERM"),
        (SIGINT, "SIGINT"),
        (SIGQUIT, "SIGQUIT"),
        (SIGHUP, "SIGHUP"),
    ] {
        assert!(
            before & sig_bit(sig) == 0,
            "{name} blocked before bgw_host_run: {before:016x}"
        );
        assert!(
            during & sig_bit(sig) != 0,
            "{name} not blocked during bgw_host_run: {during:016x}"
        );
    }

    // The supervisor's sentinel is a child of the host while it runs...
    let sentinel = child_named(h.pid(), "bgw_sentinel");
    assert!(sentinel.is_some(), "no sentinel child of the host");

    h.request_shutdown();
    h.line("host: shutdown requested from signal handler");
    h.line("received fast shutdown request");
    for ty in ["host_pg_type", "host_empty_type"] {
        let l = h.line(&format!(
            "terminating background worker \"{ty}\" due to administrator command"
        ));
        assert!(l.contains("FATAL:  "), "{l}");
    }
    h.line("bgworkerd shut down");
    // ...and nothing of it is left once bgw_host_run returned: no process,
    // no zombie.
    h.expect_field("host: children-after-run ", "n", "0", "children left");
    h.assert_clean_exit(0, &[a, b], &seg);
    assert_no_crash_cycle(&h);
}

fn shutdown_mode(mode: &str, name: &str) {
    let env = match mode {
        "smart" => "1",
        "fast" => "2",
        _ => "3",
    };
    let h = Host::spawn(name, "self", &[], &[("HOST_SHUTDOWN", env)]);
    let seg = h.wait_ready();
    let a = h.worker_ready("host_pg", secs(10));
    let b = h.worker_ready("host_empty", secs(10));
    h.request_shutdown();
    h.line(&format!("received {mode} shutdown request"));
    h.line("bgworkerd shut down");
    h.assert_clean_exit(0, &[a, b], &seg);
    assert_no_crash_cycle(&h);
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_pg "),
        1,
        "worker restarted during shutdown"
    );
}

#[test]
fn host_smart_shutdown_request_from_signal_handler() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_smart_shutdown_request_from_signal_handler",
    );
    shutdown_mode("smart", "host-smart");
}

#[test]
fn host_immediate_shutdown_request_from_signal_handler() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_immediate_shutdown_request_from_signal_handler",
    );
    shutdown_mode("immediate", "host-immediate");
}

#[test]
fn host_shutdown_requested_before_run_is_acted_on_at_once() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_shutdown_requested_before_run_is_acted_on_at_once",
    );
    let h = Host::spawn("host-early", "early", &[], &[]);
    h.line("host: shutdown requested before run");
    h.line("received fast shutdown request");
    let l = h.line("host: run returned rc=");
    assert_eq!(field_i64(&l, "rc"), 0, "{l}");
    let st = h.proc_.wait_exit(secs(20));
    assert_eq!(st.code(), Some(0), "{}", h.proc_.text());
    // Whether the worker got started before the request was seen is not
    // specified; it must not outlive bgw_host_run.
    let pids: Vec<i32> = h
        .proc_
        .lines()
        .iter()
        .filter(|l| l.contains("marker: start name=host_pg "))
        .map(|l| field_i64(l, "pid") as i32)
        .collect();
    assert!(wait_pids_gone(&pids, secs(5)).is_empty());
    assert!(!h.pid_file().exists(), "pid file left behind");
}

// ---------------------------------------------------------------------------
// 2. modules and settings
// ---------------------------------------------------------------------------

#[test]
fn host_loads_module_by_name_from_dynamic_library_path() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_loads_module_by_name_from_dynamic_library_path",
    );
    let m = host_module();
    let dir = m.parent().unwrap().display().to_string();
    let h = Host::spawn(
        "host-load",
        "load",
        &[&dir, "host_module"],
        &[("HOST_SHUTDOWN", "1")],
    );
    h.expect_field("host: call=set dynamic_library_path ", "rc", "0", "");
    h.expect_field(
        "host: call=load ",
        "rc",
        "0",
        "bgw_host_load_library(\"host_module\")",
    );
    let i = h.line_index(&format!("marker: host_module _PG_init pid={}", h.pid()));
    assert!(
        i < h.line_index("host: call=load "),
        "_PG_init must run inside bgw_host_load_library"
    );
    let seg = h.wait_ready();
    let mw = h.worker_ready("host_mod_worker", secs(10));
    let s = h.expect_field(
        "marker: start name=host_mod_worker ",
        "type",
        "host_mod_type",
        "",
    );
    assert_eq!(field(&s, "arg").as_deref(), Some("77"), "{s}");
    let pg = h.worker_ready("host_pg", secs(10));
    h.request_shutdown();
    h.line("received smart shutdown request");
    h.line("terminating background worker \"host_mod_type\" due to administrator command");
    h.assert_clean_exit(0, &[mw, pg], &seg);
}

/// A host linked with the plain libbgworker has no PostgreSQL runtime, and
/// the plain library exports none of PostgreSQL's names: loading a
/// PostgreSQL module fails with the undefined symbol named and a DETAIL
/// saying which library such a host links; the host goes on and its
/// supervisor runs and shuts down cleanly.
#[test]
fn plain_host_loading_a_postgresql_module_is_told_to_link_libbgworker_pg() {
    let _w = watchdog(DEFAULT_WATCHDOG, "plain_host_pg_module");
    let exe = host_program_with("host_embed.c", &["-rdynamic", "-pthread"]);
    let m = pgxs_module("compat/cx_worker.c");
    let dir = m.parent().unwrap().display().to_string();
    let h = Host::spawn_exe(
        &exe,
        "host-plain-load",
        "load",
        &[&dir, "cx_worker"],
        &[("HOST_SHUTDOWN", "1")],
    );
    let l = h.expect_field("host: call=load ", "rc", "-1", "");
    assert!(l.contains("undefined symbol"), "{l}");
    h.line(
        "DETAIL:  This process has no PostgreSQL runtime: a host that loads PostgreSQL \
         modules links libbgworker_pg (pkg-config bgworker-pg), not libbgworker.",
    );
    let seg = h.wait_ready();
    let pg = h.worker_ready("host_pg", secs(10));
    h.request_shutdown();
    h.line("received smart shutdown request");
    h.assert_clean_exit(0, &[pg], &seg);
}

#[test]
fn host_bad_settings_and_libraries_fail_cleanly() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_bad_settings_and_libraries_fail_cleanly",
    );
    let m14 = pgxs_module("bad_magic14.c").display().to_string();
    let good = host_module().display().to_string();
    let h = Host::spawn("host-badconf", "badconf", &[&m14, &good], &[]);
    let expect_fail = |call: &str, needles: &[&str]| {
        let l = h.expect_field(&format!("host: call={call} rc="), "rc", "-1", "");
        let err = &l[l.find("error=").unwrap() + 6..];
        assert!(
            err != "(empty)" && err != "-",
            "no bgw_last_error for {call}: {l}"
        );
        for n in needles {
            assert!(
                err.contains(n),
                "{call}: bgw_last_error {err:?} lacks {n:?}"
            );
        }
    };
    expect_fail("set-null-name", &["NULL"]);
    expect_fail("set-null-value", &["NULL"]);
    expect_fail(
        "set-unknown",
        &["unrecognized configuration parameter \"no_such_setting\""],
    );
    expect_fail(
        "set-bad-int",
        &["invalid value for parameter \"max_worker_processes\": \"abc\""],
    );
    expect_fail(
        "set-bad-bool",
        &["parameter \"restart_after_crash\" requires a Boolean value"],
    );
    expect_fail("load-null", &["NULL"]);
    expect_fail(
        "load-missing",
        &["could not access file \"bad_nosuch_library\": No such file or directory"],
    );
    expect_fail(
        "load-magic14",
        &[&format!("incompatible library \"{m14}\": version mismatch")],
    );
    let e = h.line("ERROR:  could not access file \"bad_nosuch_library\"");
    assert!(e.contains(&format!("[{}]", h.pid())), "{e}");
    h.line(&format!(
        "ERROR:  incompatible library \"{m14}\": version mismatch"
    ));
    assert_eq!(
        h.proc_.count_lines("marker: magic14 _PG_init"),
        0,
        "_PG_init of an incompatible library ran"
    );

    // The valid calls after the failures take effect.
    h.expect_field("host: call=set-good rc=", "rc", "0", "");
    h.expect_field("host: call=load-good rc=", "rc", "0", "");
    let seg = h.wait_ready();
    h.line("bgworkerd ready: 3 worker slots");
    let mw = h.worker_ready("host_mod_worker", secs(10));
    let pg = h.worker_ready("host_pg", secs(10));
    assert_eq!(h.proc_.count_lines("bad_magic14_worker"), 0);
    h.request_shutdown();
    h.assert_clean_exit(0, &[mw, pg], &seg);
}

// ---------------------------------------------------------------------------
// 3. start phases
// ---------------------------------------------------------------------------

/// With the phase held at PostmasterStart, the PostmasterStart worker runs
/// at once (as under a postmaster that never reaches a consistent state)
/// and the later ones wait.
#[test]
fn host_start_phase_held_at_postmaster_start_runs_postmaster_start_workers() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_start_phase_held_at_postmaster_start",
    );
    let h = Host::spawn("host-phase-held", "phase", &[], &[]);
    let seg = h.wait_ready();
    let pm = h.worker_ready("host_ph_pm", secs(10));
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_ph_cs "),
        0,
        "{}",
        h.proc_.text()
    );
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_ph_rf "),
        0,
        "{}",
        h.proc_.text()
    );
    h.request_shutdown();
    h.assert_clean_exit(0, &[pm], &seg);
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_ph_cs "),
        0,
        "held-back worker started at shutdown"
    );
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_ph_rf "),
        0,
        "held-back worker started at shutdown"
    );
}

/// Raising the phase from a signal handler (to ConsistentState) and from
/// another thread (to RecoveryFinished) releases the held-back workers, each
/// only after its raise.
#[test]
fn host_start_phase_raised_from_handler_and_thread_releases_workers() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_start_phase_raised_releases_workers");
    let h = Host::spawn("host-phase", "phase", &[], &[]);
    let seg = h.wait_ready();
    h.line("host: running pid=");

    // Raised to ConsistentState from a signal handler.
    h.proc_.signal(libc::SIGALRM);
    let cs = h.worker_ready("host_ph_cs", secs(10));
    let raised1 = h.line_index("host: phase -> 1");
    let cs_start = h.line_index("marker: start name=host_ph_cs ");
    assert!(
        raised1 < cs_start,
        "the ConsistentState worker started before the phase was raised:\n{}",
        h.proc_.text()
    );
    let pm = h.worker_ready("host_ph_pm", secs(10));
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_ph_rf "),
        0,
        "the RecoveryFinished worker started at ConsistentState:\n{}",
        h.proc_.text()
    );

    // Raised to RecoveryFinished from another thread.
    h.proc_.signal(libc::SIGWINCH);
    let rf = h.worker_ready("host_ph_rf", secs(10));
    let raised2 = h.line_index("host: phase -> 2");
    let rf_start = h.line_index("marker: start name=host_ph_rf ");
    assert!(
        raised2 < rf_start,
        "the RecoveryFinished worker started before the phase was raised:\n{}",
        h.proc_.text()
    );

    h.request_shutdown();
    h.assert_clean_exit(0, &[pm, cs, rf], &seg);
    for n in ["host_ph_pm", "host_ph_cs", "host_ph_rf"] {
        assert_eq!(
            h.proc_.count_lines(&format!("marker: start name={n} ")),
            1,
            "{n} started more than once"
        );
    }
}

// ---------------------------------------------------------------------------
// 4. other processes attach to the embedded supervisor
// ---------------------------------------------------------------------------

#[test]
fn attached_client_runs_a_host_function_worker_in_the_embedded_supervisor() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "attached_client_runs_a_host_function_worker",
    );
    let h = Host::spawn("host-serve", "serve", &[], &[]);
    let seg = h.wait_ready();
    let srv = h.worker_ready("host_srv", secs(10));

    let rundir = h.rundir.display().to_string();
    let c = Proc::spawn(
        &host_exe(),
        &["client", rundir.as_str()],
        &[],
        "host-client",
    );
    let l = c.wait_line("step: started ", secs(20));
    assert_eq!(
        field(&l, "status").as_deref(),
        Some("STARTED"),
        "{l}\n{}",
        c.text()
    );
    assert_eq!(
        field(&l, "type").as_deref(),
        Some("host_dyn_type"),
        "GetBackgroundWorkerTypeByPid: {l}"
    );
    let dynpid = field_i64(&l, "pid") as i32;
    // Library "postgres": the function was found in the supervisor's
    // program, in a process forked by the host, not by the client.
    assert_eq!(
        ppid(dynpid),
        Some(h.pid()),
        "dynamic worker is not a child of the embedding host"
    );
    let s = h.line("marker: start name=host_dyn ");
    assert_eq!(field_i64(&s, "pid") as i32, dynpid);
    assert_eq!(field(&s, "lib").as_deref(), Some("postgres"), "{s}");
    c.signal(SIGUSR2);
    c.expect_field(
        "host: client shutdown=",
        "shutdown",
        "STOPPED",
        secs(20),
        "",
    );
    assert_eq!(c.wait_exit(secs(10)).code(), Some(0), "{}", c.text());
    let f = h.line("terminating background worker \"host_dyn_type\" due to administrator command");
    assert!(f.contains("FATAL:  "), "{f}");
    assert!(wait_pids_gone(&[dynpid], secs(5)).is_empty());
    assert!(pid_alive(srv), "static worker died");

    h.request_shutdown();
    h.assert_clean_exit(0, &[srv], &seg);
    assert_no_crash_cycle(&h);
}

#[test]
fn supervisor_process_cannot_register_dynamic_workers() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "supervisor_process_cannot_register_dynamic_workers",
    );
    let h = Host::spawn("host-selfreg", "serve", &[], &[]);
    let seg = h.wait_ready();
    let srv = h.worker_ready("host_srv", secs(10));
    // A helper thread of the host calls RegisterDynamicBackgroundWorker
    // while bgw_host_run supervises: PostgreSQL's postmaster is not
    // IsUnderPostmaster, so the call returns false.
    h.proc_.signal(libc::SIGWINCH);
    let l = h.expect_field(
        "host: self-register ok=",
        "ok",
        "0",
        "the supervisor registered a dynamic worker",
    );
    assert_eq!(field(&l, "handle").as_deref(), Some("0"), "{l}");
    let err = &l[l.find("error=").unwrap() + 6..];
    assert!(err != "(empty)", "no bgw_last_error: {l}");

    // The supervisor itself is unaffected: an attached client still works.
    let rundir = h.rundir.display().to_string();
    let c = Proc::spawn(
        &host_exe(),
        &["client", rundir.as_str()],
        &[],
        "host-client",
    );
    c.wait_line("step: started status=STARTED ", secs(20));
    c.signal(SIGUSR2);
    c.wait_line("host: client shutdown=STOPPED", secs(20));
    assert_eq!(c.wait_exit(secs(10)).code(), Some(0), "{}", c.text());
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_selfdyn "),
        0,
        "{}",
        h.proc_.text()
    );
    assert!(pid_alive(srv));
    h.request_shutdown();
    h.assert_clean_exit(0, &[srv], &seg);
}

// ---------------------------------------------------------------------------
// 5. the host's own child processes
// ---------------------------------------------------------------------------

#[test]
fn host_own_children_are_left_for_the_host_to_reap() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_own_children_are_left_for_the_host_to_reap",
    );
    let h = Host::spawn("host-children", "children", &[], &[]);
    let seg = h.wait_ready();
    let w1 = h.worker_ready("host_ch", secs(10));
    let l = h.line("host: child pid=");
    let child = field_i64(&l, "pid") as i32;
    // The child is the host's, and it stays in /proc (running or as a zombie)
    // until the host reaps it below, so its parent is always readable.
    assert_eq!(
        ppid(child),
        Some(h.pid()),
        "host's child {child} is gone or not the host's child"
    );
    // The child exited (status 42) and nobody reaped it yet.
    assert!(
        wait_until(secs(10), || status_field(child, "State")
            .is_some_and(|s| s.starts_with('Z'))),
        "host's child {child} did not become a zombie (reaped by someone else?)"
    );
    // Make the supervisor reap with the zombie present: a worker exits
    // (SIGTERM: exit code 1), which it must reap and log.
    // SAFETY: kill(2) on a worker pid read from the host's output.
    assert_eq!(unsafe { libc::kill(w1, SIGTERM) }, 0);
    h.line(&format!(
        "background worker \"host_ch_type\" (PID {w1}) exited with exit code 1"
    ));
    assert!(
        status_field(child, "State").is_some_and(|s| s.starts_with('Z')),
        "the supervisor reaped the host's own child {child}"
    );
    // The host reaps it itself and sees its status.
    h.proc_.signal(libc::SIGWINCH);
    let l = h.line("host: child waitpid rc=");
    assert_eq!(
        field_i64(&l, "rc") as i32,
        child,
        "host could not reap its own child: {l}"
    );
    assert_eq!(field(&l, "exited").as_deref(), Some("1"), "{l}");
    assert_eq!(
        field(&l, "code").as_deref(),
        Some("42"),
        "the child's exit status was lost: {l}"
    );
    // The helper thread then requests a fast shutdown. The worker may have
    // been restarted meanwhile (restart interval 1 s).
    let restarted: Vec<i32> = h
        .proc_
        .lines()
        .iter()
        .filter(|l| l.contains("marker: start name=host_ch "))
        .map(|l| field_i64(l, "pid") as i32)
        .collect();
    h.assert_clean_exit(0, &restarted, &seg);
    assert_no_crash_cycle(&h);
}

// ---------------------------------------------------------------------------
// 6. crashes inside an embedded supervisor
// ---------------------------------------------------------------------------

#[test]
fn host_survives_a_worker_crash_with_restart_after_crash_on() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_survives_a_worker_crash_with_restart_after_crash_on",
    );
    let h = Host::spawn("host-crash-on", "crash", &["on"], &[]);
    let seg = h.wait_ready();
    let crasher = h.worker_ready("host_crasher", secs(10));
    let victim = h.worker_ready("host_victim", secs(10));
    // SAFETY: kill(2) on a worker pid read from the host's output.
    assert_eq!(unsafe { libc::kill(crasher, SIGUSR2) }, 0);
    h.line(&format!(
        "background worker \"host_crasher_type\" (PID {crasher}) exited with exit code 2"
    ));
    h.line("terminating any other active server processes");
    let reinit = h.line_index("all server processes terminated; reinitializing");
    let (_, l) = h
        .proc_
        .wait_line_from(reinit, "marker: ready name=host_victim ", secs(10));
    let victim2 = field_i64(&l, "pid") as i32;
    assert_ne!(victim2, victim);
    assert_eq!(ppid(victim2), Some(h.pid()));
    assert!(!pid_alive(victim));
    h.request_shutdown();
    h.assert_clean_exit(0, &[victim2], &seg);
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_crasher "),
        1,
        "NEVER_RESTART crasher restarted"
    );
}

#[test]
fn host_run_returns_1_after_a_crash_with_restart_after_crash_off() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_run_returns_1_after_a_crash_with_restart_after_crash_off",
    );
    let h = Host::spawn("host-crash-off", "crash", &["off"], &[]);
    let seg = h.wait_ready();
    let crasher = h.worker_ready("host_crasher", secs(10));
    let victim = h.worker_ready("host_victim", secs(10));
    // SAFETY: kill(2) on a worker pid read from the host's output.
    assert_eq!(unsafe { libc::kill(crasher, SIGUSR2) }, 0);
    h.line("shutting down because restart_after_crash is off");
    // bgw_host_run returns 1 and the host goes on (and exits 0 by itself).
    h.assert_clean_exit(1, &[crasher, victim], &seg);
    assert_eq!(
        h.proc_.count_lines("reinitializing"),
        0,
        "{}",
        h.proc_.text()
    );
    assert_eq!(
        h.proc_.count_lines("marker: start name=host_victim "),
        1,
        "victim restarted"
    );
}

// ---------------------------------------------------------------------------
// 7. bad arguments to the embedding API
// ---------------------------------------------------------------------------

/// bgw_host_run on a run directory that does not exist, then on one locked
/// by a running bgworkerd: both return 1 with bgworkerd's FATAL messages,
/// leave the daemon alone, and a third call on a good directory runs.
#[test]
fn host_run_with_unusable_run_directories_fails_then_runs() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_run_with_unusable_run_directories_fails_then_runs",
    );
    let d = Daemon::builder("host-rundirs-daemon").start();
    let pid_text = fs::read_to_string(d.pid_file()).unwrap();
    let base = Scratch::new("host-rundirs-missing");
    let missing = base.join("nope");
    let missing_s = missing.display().to_string();
    let locked_s = d.rundir().display().to_string();
    let h = Host::spawn("host-rundirs", "rundirs", &[&missing_s, &locked_s], &[]);

    let l = h.line("host: run bad1 returned rc=");
    assert_eq!(field_i64(&l, "rc"), 1, "{l}");
    let f = h.line(&format!(
        "could not create lock file \"{missing_s}/bgworkerd.pid\""
    ));
    assert!(f.contains("FATAL:  "), "{f}");
    assert!(
        !missing.exists(),
        "bgw_host_run created the missing run directory"
    );

    let l = h.line("host: run bad2 returned rc=");
    assert_eq!(
        field_i64(&l, "rc"),
        1,
        "bgw_host_run on a locked run directory: {l}"
    );
    let i = h.line_index(&format!(
        "lock file \"{locked_s}/bgworkerd.pid\" already exists"
    ));
    let (_, hint) = h.proc_.wait_line_from(i + 1, "HINT:  ", secs(5));
    assert!(
        hint.contains(&format!(
            "Is another bgworkerd (PID {}) running in directory \"{locked_s}\"?",
            d.pid()
        )),
        "{hint}"
    );
    assert_eq!(
        fs::read_to_string(d.pid_file()).unwrap(),
        pid_text,
        "the daemon's pid file was touched"
    );
    assert!(d.try_exit().is_none(), "the daemon died");

    // The host is not left half set up: the next run works (and is the
    // only one that got ready).
    let seg = h.wait_ready();
    let bad2 = h.line_index("host: run bad2 returned rc=");
    assert!(
        h.line_index("bgworkerd ready") > bad2,
        "a failed bgw_host_run got ready"
    );
    let pg = h.worker_ready("host_pg", secs(10));
    assert_eq!(h.proc_.count_lines("marker: start name=host_pg "), 1);
    h.request_shutdown();
    h.assert_clean_exit(0, &[pg], &seg);
    assert_eq!(
        h.proc_.count_lines("bgworkerd ready"),
        1,
        "{}",
        h.proc_.text()
    );
}

/// bgw_host_request_shutdown with a mode that is none of BGW_SHUTDOWN_*
/// does nothing; the supervisor keeps running and still answers SIGTERM
/// sent to the host process (smart shutdown).
#[test]
fn host_invalid_shutdown_mode_is_ignored() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_invalid_shutdown_mode_is_ignored");
    let h = Host::spawn("host-badmode", "self", &[], &[("HOST_SHUTDOWN", "99")]);
    let seg = h.wait_ready();
    let a = h.worker_ready("host_pg", secs(10));
    let b = h.worker_ready("host_empty", secs(10));
    h.request_shutdown();
    h.line("host: shutdown requested from signal handler");
    // A later event the supervisor handles, to be sure it ran its loop.
    h.proc_.signal(SIGHUP);
    h.line("received SIGHUP, reloading configuration files");
    for m in ["smart", "fast", "immediate"] {
        assert_eq!(
            h.proc_
                .count_lines(&format!("received {m} shutdown request")),
            0,
            "{}",
            h.proc_.text()
        );
    }
    assert!(
        pid_alive(a) && pid_alive(b),
        "workers stopped by an invalid shutdown mode"
    );
    h.proc_.signal(SIGTERM);
    h.line("received smart shutdown request");
    h.assert_clean_exit(0, &[a, b], &seg);
}

/// A host thread that leaves the supervisor's signals unblocked would
/// swallow them: bgw_host_run says so at start, with a hint.
#[test]
fn host_thread_not_blocking_signals_is_warned_about() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "host_thread_not_blocking_signals_is_warned_about",
    );
    let h = Host::spawn("host-unblocked", "unblocked", &[], &[]);
    let l = h.line("does not block the supervisor's signals");
    assert!(l.contains("WARNING:"), "{l}");
    h.line("HINT:  Block them in every thread of the host");
    h.wait_ready();
    h.request_shutdown();
    let l = h.line("host: run returned rc=");
    assert_eq!(field_i64(&l, "rc"), 0, "{l}");
    assert_eq!(
        h.proc_.wait_exit(secs(20)).code(),
        Some(0),
        "{}",
        h.proc_.text()
    );
    // Hosts that block them in every thread (the other scenarios) get no
    // such warning.
    let quiet = Host::spawn("host-blocked", "phase", &[], &[]);
    quiet.wait_ready();
    assert_eq!(
        quiet
            .proc_
            .count_lines("does not block the supervisor's signals"),
        0,
        "{}",
        quiet.proc_.text()
    );
    quiet.request_shutdown();
    assert_eq!(
        quiet.proc_.wait_exit(secs(20)).code(),
        Some(0),
        "{}",
        quiet.proc_.text()
    );
}

/// A worker forked from an embedding host ends without running the host's
/// atexit handlers (the host is not the postmaster: its handlers are its
/// own business), yet what the worker left in stdio buffers is written.
/// The host itself still runs its handler when it exits.
#[test]
fn host_atexit_handlers_run_in_the_host_only_and_worker_stdio_is_flushed() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_atexit");
    let h = Host::spawn("host-atexit", "atexit", &[], &[("HOST_SHUTDOWN", "2")]);
    let seg = h.wait_ready();
    let start = h.line("marker: start name=host_ax ");
    let worker = field_i64(&start, "pid") as i32;
    let flushed = h.proc_.wait_line("marker: stdio name=host_ax ", secs(10));
    assert_eq!(field_i64(&flushed, "pid") as i32, worker, "{flushed}");
    assert!(
        wait_pids_gone(&[worker], secs(10)).is_empty(),
        "worker still running"
    );
    h.request_shutdown();
    h.line("bgworkerd shut down");
    h.assert_clean_exit(0, &[worker], &seg);
    let ran: Vec<i64> = h
        .proc_
        .lines()
        .iter()
        .filter(|l| l.contains("host: atexit handler ran pid="))
        .map(|l| field_i64(l, "pid"))
        .collect();
    assert_eq!(ran, vec![h.pid() as i64], "{}", h.proc_.text());
}

/// worker_containment needs bgworkerd: a program that runs the supervisor
/// itself is not made the reaper of orphans that are not its own. The
/// setting is accepted, bgw_host_run refuses it with a FATAL and returns 1,
/// and nothing is left (no pid file, no child).
#[test]
fn host_refuses_worker_containment() {
    let _w = watchdog(DEFAULT_WATCHDOG, "host_refuses_worker_containment");
    let h = Host::spawn(
        "host-contain",
        "self",
        &[],
        &[("HOST_EXTRA_SET", "worker_containment=descendants")],
    );
    h.expect_field("host: call=set extra ", "rc", "0", "");
    let l = h.line("worker_containment = descendants is available in bgworkerd only");
    assert!(l.contains("FATAL:  "), "{l}");
    h.expect_field("host: run returned rc=", "rc", "1", "");
    h.expect_field("host: children-after-run ", "n", "0", "children left");
    let st = h.proc_.wait_exit(secs(20));
    assert_eq!(st.code(), Some(0), "{}", h.proc_.text());
    assert!(!h.pid_file().exists(), "pid file left");
}
