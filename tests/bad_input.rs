//! Bad input: invalid worker definitions (static and dynamic), NULL and
//! forged arguments, broken configuration, missing or incompatible
//! libraries, attach targets that are not a running supervisor, a corrupt
//! or hostile shared segment, handles used after bgw_detach, notification
//! pids that are not valid, and a full slot table. Each test checks the clear error (PostgreSQL's text and
//! severity where PostgreSQL has one) and then that nothing else broke: a
//! running worker keeps its pid, a later valid registration still runs, the
//! daemon did not crash or start anything it should not have.
//!
//! Modules and programs: c-tests/bad_module.c (workers described by the
//! BAD_STATIC environment variable, see the top of that file),
//! c-tests/bad_magic14.c (a module stamped for PostgreSQL 14) and
//! c-tests/bad_host.c (an attached host program feeding the dynamic API bad
//! arguments). Every test owns its daemon and run directory and runs under a
//! watchdog.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

fn module() -> PathBuf {
    pgxs_module("bad_module.c")
}

fn host_exe() -> PathBuf {
    host_program("bad_host.c")
}

/// A daemon with bad_module preloaded and the given static workers
/// (BAD_STATIC syntax).
fn bad_daemon(name: &str, statics: &str, settings: &[(&str, &str)]) -> Daemon {
    let m = module();
    Daemon::builder(name)
        .preload(&[&m])
        .env("BAD_STATIC", statics)
        .settings(settings)
        .start()
}

/// Run `bad_host SCENARIO TARGET MODULE args...`.
fn bad_host(scenario: &str, target: &str, args: &[&str]) -> Proc {
    let m = module();
    let mut v: Vec<String> = vec![
        scenario.to_string(),
        target.to_string(),
        m.display().to_string(),
    ];
    v.extend(args.iter().map(|s| s.to_string()));
    Proc::spawn(&host_exe(), &v, &[], &format!("bad_host-{scenario}"))
}

fn rundir_str(d: &Daemon) -> String {
    d.rundir().display().to_string()
}

/// The text after "error=" in a host line (it runs to the end of the line).
fn error_of(line: &str) -> String {
    match line.find("error=") {
        Some(i) => line[i + 6..].to_string(),
        None => panic!("no error= in {line:?}"),
    }
}

/// The host ran its valid worker from start to stop, finished, and exited 0.
fn assert_valid_flow(h: &Proc, tag: &str) {
    let l = h.expect_field(
        &format!("host: valid tag={tag} ok="),
        "ok",
        "1",
        secs(20),
        "valid registration after the bad input failed",
    );
    assert_eq!(
        field(&l, "startup").as_deref(),
        Some("STARTED"),
        "valid worker did not start: {l}"
    );
    h.expect_field(
        &format!("host: valid tag={tag} shutdown="),
        "shutdown",
        "STOPPED",
        secs(20),
        "",
    );
    h.wait_line("host: done", secs(10));
    let st = h.wait_exit(secs(10));
    assert_eq!(
        st.code(),
        Some(0),
        "host exited with {}:\n{}",
        describe_status(&st),
        h.text()
    );
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());
}

/// The pid of the "%m [%p] " log prefix of a line.
fn prefix_pid(line: &str) -> Option<i32> {
    let i = line.find(" [")?;
    line[i + 2..].split(']').next()?.trim().parse().ok()
}

/// The daemon is still running and never went through a crash cycle.
fn assert_daemon_healthy(d: &Daemon) {
    assert!(
        d.try_exit().is_none(),
        "bgworkerd exited; log:\n{}",
        d.log_text()
    );
    assert_no_crash_cycle(d);
}

/// A worker that was running before the bad input is still the same process.
fn assert_still_running(d: &Daemon, pid: i32, what: &str) {
    assert!(
        pid_alive(pid),
        "{what} (pid {pid}) died; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        ppid(pid),
        Some(d.pid()),
        "{what} (pid {pid}) is not a child of bgworkerd"
    );
}

/// Run a host that attaches to `d`, registers one valid worker and stops it.
fn prove_dynamic_registration_works(d: &Daemon) {
    let h = bad_host("attach_only", &rundir_str(d), &[]);
    h.expect_field(
        "host: attach rc=",
        "rc",
        "0",
        secs(10),
        "attach to a healthy daemon failed",
    );
    assert_valid_flow(&h, "attach_only");
}

/// Shared segments named after `pid` under /dev/shm.
fn segments_of(pid: i32) -> Vec<String> {
    let exact = format!("bgworker.{pid}");
    let prefix = format!("bgworker.{pid}.");
    let mut v = Vec::new();
    if let Ok(rd) = fs::read_dir("/dev/shm") {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n == exact || n.starts_with(&prefix) {
                v.push(n);
            }
        }
    }
    v
}

/// A daemon that must refuse to start: exit status 1, nothing left behind
/// (no pid file, no segment, no worker), never ready. Returns its log.
fn assert_refused_to_start(d: &Daemon) -> String {
    let st = d.wait_exit(secs(20));
    assert!(
        d.wait_log_closed(secs(5)),
        "log still open after bgworkerd exited (a child outlived it?)"
    );
    let log = d.log_text();
    assert_eq!(
        st.code(),
        Some(1),
        "bgworkerd must exit 1, got {}; log:\n{log}",
        describe_status(&st)
    );
    assert_eq!(
        d.count_log("bgworkerd ready"),
        0,
        "bgworkerd became ready; log:\n{log}"
    );
    assert_eq!(
        d.count_log("marker: start "),
        0,
        "a worker ran; log:\n{log}"
    );
    assert!(
        !d.pid_file().exists(),
        "pid file left behind after a refused start; log:\n{log}"
    );
    assert!(
        segments_of(d.pid()).is_empty(),
        "shared segment left behind: {:?}",
        segments_of(d.pid())
    );
    log
}

/// The first line containing `needle`, which must be at `level`.
fn assert_line_at(d: &Daemon, needle: &str, level: &str) -> (usize, String) {
    let (i, l) = d.wait_log_from(0, needle, secs(10));
    assert!(
        l.contains(&format!("{level}:  ")),
        "expected at {level}: {l}"
    );
    (i, l)
}

/// Line `i + n`, waiting for it (a message and its DETAIL/HINT lines are
/// written with one write(2), so they are consecutive in the log).
fn line_at(d: &Daemon, i: usize, n: usize) -> String {
    d.log()
        .wait_match(i + n, secs(5), |_| true)
        .map(|(_, l)| l)
        .unwrap_or_default()
}

/// The line right after line `i`.
fn line_after(d: &Daemon, i: usize) -> String {
    line_at(d, i, 1)
}

// ---------------------------------------------------------------------------
// 1. bgworkerd's command line and configuration file
// ---------------------------------------------------------------------------

/// Start a daemon on `dir` that must fail with FATAL `message`, then a good
/// one on the same directory (after `fix`), which must become ready.
fn config_refused(
    name: &str,
    dir: &Path,
    settings: &[(&str, &str)],
    message: &str,
    fix: impl FnOnce(),
) {
    let m = module();
    let d = Daemon::builder(name)
        .rundir(dir)
        .preload(&[&m])
        .env("BAD_STATIC", "good:bad_cfg_worker")
        .settings(settings)
        .spawn();
    let log = assert_refused_to_start(&d);
    let line = d.wait_log(message, secs(1));
    assert!(line.contains("FATAL:  "), "must be FATAL: {line}");
    assert_eq!(
        d.count_log("marker: _PG_init"),
        0,
        "preload library loaded despite the bad setting; log:\n{log}"
    );
    drop(d);

    // Nothing left behind: the same run directory works at once.
    fix();
    let good = Daemon::builder(&format!("{name}-fixed"))
        .rundir(dir)
        .preload(&[&m])
        .env("BAD_STATIC", "good:bad_cfg_worker")
        .start();
    let p = wait_ready(&good, "bad_cfg_worker", secs(10));
    assert_still_running(&good, p, "worker of the fixed daemon");
}

#[test]
fn config_non_integer_value_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_non_integer_value_is_fatal");
    let dir = Scratch::new("cfg-int");
    config_refused(
        "cfg-int",
        &dir,
        &[("max_worker_processes", "abc")],
        "invalid value for parameter \"max_worker_processes\": \"abc\"",
        || {},
    );
}

#[test]
fn config_out_of_range_value_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_out_of_range_value_is_fatal");
    let dir = Scratch::new("cfg-range");
    config_refused(
        "cfg-range",
        &dir,
        &[("max_parallel_workers", "5000")],
        "5000 is outside the valid range for parameter \"max_parallel_workers\" (0 .. 1024)",
        || {},
    );
}

#[test]
fn config_non_boolean_value_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_non_boolean_value_is_fatal");
    let dir = Scratch::new("cfg-bool");
    config_refused(
        "cfg-bool",
        &dir,
        &[("restart_after_crash", "maybe")],
        "parameter \"restart_after_crash\" requires a Boolean value",
        || {},
    );
}

#[test]
fn config_unknown_log_level_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_unknown_log_level_is_fatal");
    let dir = Scratch::new("cfg-level");
    config_refused(
        "cfg-level",
        &dir,
        &[("log_min_messages", "loud")],
        "invalid value for parameter \"log_min_messages\": \"loud\"",
        || {},
    );
    // In bgworker.conf too, with the values in PostgreSQL's HINT.
    let dir = Scratch::new("cfg-level-file");
    let conf = dir.join("bgworker.conf");
    fs::write(&conf, "log_min_messages = 'Chatty'\n").unwrap();
    let d = Daemon::builder("cfg-level-file").rundir(&dir).spawn();
    assert_refused_to_start(&d);
    let (i, l) = d.wait_log_from(
        0,
        "invalid value for parameter \"log_min_messages\": \"Chatty\"",
        secs(1),
    );
    assert!(l.contains("FATAL:  "), "{l}");
    let hint = line_after(&d, i);
    assert!(
        hint.contains("HINT:  Available values: debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic."),
        "{hint:?}"
    );
    drop(d);
    fs::write(&conf, "log_min_messages = 'Notice'\n").unwrap();
    let good = Daemon::builder("cfg-level-fixed").rundir(&dir).start();
    assert!(good.try_exit().is_none());
}

/// The FATAL and HINT texts (after "LEVEL:  ") of an invalid
/// `log_min_messages` on the command line, from bgworkerd and from a real
/// PostgreSQL 15 postmaster, which checks `-c` before it looks at its data
/// directory (so none is needed and nothing is created).
#[test]
fn invalid_log_level_hint_matches_postgresql() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "invalid_log_level_hint_matches_postgresql",
    );
    let postgres = Path::new("/usr/lib/postgresql/15/bin/postgres");
    assert!(
        common::pg::pg_server_available(),
        "the PostgreSQL 15 server is missing: apt-get install -y postgresql-15"
    );
    let texts = |out: &str| -> (String, String) {
        let after = |word: &str| {
            out.lines()
                .find_map(|l| {
                    l.split_once(&format!("{word}:  "))
                        .map(|(_, t)| t.to_string())
                })
                .unwrap_or_else(|| panic!("no {word} line in:\n{out}"))
        };
        (after("FATAL"), after("HINT"))
    };
    let dir = Scratch::new("cfg-level-pg");
    let missing = dir.join("no-data-directory");
    let mut cmd = std::process::Command::new(postgres);
    cmd.arg("-D")
        .arg(&missing)
        .args(["-c", "log_min_messages=loud"]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // The server refuses to run as root.
        let id = |flag: &str| -> u32 {
            let o = std::process::Command::new("id")
                .args([flag, "postgres"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .expect("uid of postgres")
        };
        std::os::unix::process::CommandExt::uid(&mut cmd, id("-u"));
        std::os::unix::process::CommandExt::gid(&mut cmd, id("-g"));
    }
    let pg = cmd.output().expect("run postgres");
    let pg_out = String::from_utf8_lossy(&pg.stderr).into_owned();
    assert_eq!(pg.status.code(), Some(1), "postgres: {pg_out}");
    assert!(!missing.exists(), "postgres created its data directory");

    let p = Proc::spawn(
        &bgworkerd_path(),
        &["-D", dir.to_str().unwrap(), "-c", "log_min_messages=loud"],
        &[],
        "bgworkerd-level",
    );
    let st = p.wait_exit(secs(10));
    assert_eq!(st.code(), Some(1), "{}", p.text());
    let ours = texts(&p.text());
    assert_eq!(
        ours,
        texts(&pg_out),
        "bgworkerd:\n{}\npostgres:\n{pg_out}",
        p.text()
    );
    assert_eq!(
        ours.1,
        "Available values: debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic."
    );
    assert!(!dir.join("bgworkerd.pid").exists());
    assert!(segments_of(p.pid()).is_empty());
}

#[test]
fn config_unknown_parameter_on_command_line_is_fatal() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "config_unknown_parameter_on_command_line_is_fatal",
    );
    let dir = Scratch::new("cfg-unknown");
    config_refused(
        "cfg-unknown",
        &dir,
        &[("no_such_setting", "1")],
        "unrecognized configuration parameter \"no_such_setting\"",
        || {},
    );
}

#[test]
fn config_dash_c_without_value_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_dash_c_without_value_is_fatal");
    let dir = Scratch::new("cfg-noval");
    let m = module();
    let d = Daemon::builder("cfg-noval")
        .rundir(&dir)
        .preload(&[&m])
        .env("BAD_STATIC", "good:bad_cfg_worker")
        .arg("-c")
        .arg("max_worker_processes")
        .spawn();
    assert_refused_to_start(&d);
    let l = d.wait_log("-c max_worker_processes requires a value", secs(1));
    assert!(l.contains("FATAL:  "), "{l}");
    assert_eq!(d.count_log("marker: _PG_init"), 0);
    drop(d);
    let good = Daemon::builder("cfg-noval-fixed")
        .rundir(&dir)
        .set("max_worker_processes", "3")
        .start();
    good.wait_log("bgworkerd ready: 3 worker slots", secs(1));
    drop(good);
}

#[test]
fn config_file_syntax_error_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_file_syntax_error_is_fatal");
    let dir = Scratch::new("cfg-syntax");
    let conf = dir.join("bgworker.conf");
    fs::write(
        &conf,
        "# settings\nlog_min_messages = warning\nmax_worker_processes = 4 5\n",
    )
    .unwrap();
    let expected = format!(
        "syntax error in file \"{}\" line 3, near token \"5\"",
        conf.display()
    );
    let conf2 = conf.clone();
    config_refused("cfg-syntax", &dir, &[], &expected, move || {
        fs::write(
            &conf2,
            "# settings\nlog_min_messages = warning\nmax_worker_processes = 4\n",
        )
        .unwrap();
    });
}

#[test]
fn config_file_unknown_parameter_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_file_unknown_parameter_is_fatal");
    let dir = Scratch::new("cfg-file-unknown");
    let conf = dir.join("bgworker.conf");
    fs::write(&conf, "max_worker_processes = 4\nbogus_param = 1\n").unwrap();
    let expected = format!(
        "unrecognized configuration parameter \"bogus_param\" in file \"{}\" line 2",
        conf.display()
    );
    let conf2 = conf.clone();
    config_refused("cfg-file-unknown", &dir, &[], &expected, move || {
        fs::write(
            &conf2,
            "max_worker_processes = 4\nbad_module.greeting = 1\n",
        )
        .unwrap();
    });
}

#[test]
fn missing_run_directory_option_prints_usage() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "missing_run_directory_option_prints_usage",
    );
    let p = Proc::spawn(
        &bgworkerd_path(),
        &["-c", "max_worker_processes=2"],
        &[],
        "bgworkerd-noD",
    );
    let st = p.wait_exit(secs(10));
    assert_eq!(
        st.code(),
        Some(2),
        "missing -D must exit 2, got {}:\n{}",
        describe_status(&st),
        p.text()
    );
    let text = p.text();
    assert!(
        text.contains("Usage:") && text.contains("-D RUNDIR"),
        "no usage text:\n{text}"
    );
    assert!(
        segments_of(p.pid()).is_empty(),
        "segment created without a run directory"
    );
}

#[test]
fn nonexistent_run_directory_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "nonexistent_run_directory_is_fatal");
    let base = Scratch::new("cfg-nodir");
    let missing = base.join("does-not-exist");
    let shown = missing.display().to_string();
    let p = Proc::spawn(
        &bgworkerd_path(),
        &["-D", shown.as_str()],
        &[],
        "bgworkerd-nodir",
    );
    let st = p.wait_exit(secs(10));
    assert_eq!(
        st.code(),
        Some(1),
        "got {}:\n{}",
        describe_status(&st),
        p.text()
    );
    let l = p.wait_line(
        &format!("run directory \"{shown}\" does not exist"),
        secs(1),
    );
    assert!(l.contains("FATAL:  "), "{l}");
    assert!(
        !missing.exists(),
        "bgworkerd created the run directory it was told about"
    );
    assert!(segments_of(p.pid()).is_empty());
}

#[test]
fn run_directory_that_is_a_file_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "run_directory_that_is_a_file_is_fatal");
    let base = Scratch::new("cfg-file-as-dir");
    let file = base.join("not-a-dir");
    fs::write(&file, "keep me\n").unwrap();
    for (path, message) in [
        (file.display().to_string(), "is not a directory".to_string()),
        ("/etc/passwd".to_string(), "is not a directory".to_string()),
        // A path through a file: stat fails with ENOTDIR, not ENOENT.
        (
            file.join("x").display().to_string(),
            "Not a directory".to_string(),
        ),
    ] {
        let p = Proc::spawn(
            &bgworkerd_path(),
            &["-D", path.as_str()],
            &[],
            "bgworkerd-filedir",
        );
        let st = p.wait_exit(secs(10));
        assert_eq!(
            st.code(),
            Some(1),
            "{path}: {}:\n{}",
            describe_status(&st),
            p.text()
        );
        let l = p.wait_line(&format!("run directory \"{path}\""), secs(1));
        assert!(
            l.contains("FATAL:  ") && l.contains(&message),
            "{path}: {l}"
        );
        assert!(!l.contains("does not exist"), "{path}: {l}");
        assert!(segments_of(p.pid()).is_empty());
    }
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "keep me\n",
        "the file was changed"
    );
}

#[test]
fn short_help_option_prints_usage() {
    let _w = watchdog(DEFAULT_WATCHDOG, "short_help_option_prints_usage");
    let mut texts = Vec::new();
    for flag in ["-h", "--help", "-?"] {
        let p = Proc::spawn(&bgworkerd_path(), &[flag], &[], "bgworkerd-help");
        let st = p.wait_exit(secs(10));
        assert_eq!(
            st.code(),
            Some(0),
            "{flag}: {}:\n{}",
            describe_status(&st),
            p.text()
        );
        let text = p.text();
        assert!(
            text.contains("Usage:") && text.contains("-D RUNDIR") && text.contains("-h, --help"),
            "{flag}:\n{text}"
        );
        assert!(!text.contains("invalid argument"), "{flag}:\n{text}");
        texts.push(text);
    }
    assert!(
        texts.iter().all(|t| *t == texts[0]),
        "-h, --help and -? differ: {texts:?}"
    );
    // Still an error: an option that does not exist.
    let p = Proc::spawn(&bgworkerd_path(), &["-x"], &[], "bgworkerd-badopt");
    let st = p.wait_exit(secs(10));
    assert_eq!(st.code(), Some(2), "{}", p.text());
    assert!(
        p.text().contains("bgworkerd: invalid argument: \"-x\""),
        "{}",
        p.text()
    );
}

#[test]
fn second_daemon_on_same_run_directory_is_refused() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "second_daemon_on_same_run_directory_is_refused",
    );
    let first = bad_daemon("lock-first", "good:bad_first", &[]);
    let p = wait_ready(&first, "bad_first", secs(10));
    let pid_text = fs::read_to_string(first.pid_file()).unwrap();
    let seg = first.segment_path().expect("segment of the first daemon");

    let m = module();
    let second = Daemon::builder("lock-second")
        .rundir(first.rundir())
        .preload(&[&m])
        .env("BAD_STATIC", "good:bad_second")
        .spawn();
    let st = second.wait_exit(secs(20));
    second.wait_log_closed(secs(5));
    assert_eq!(
        st.code(),
        Some(1),
        "second daemon: {}; log:\n{}",
        describe_status(&st),
        second.log_text()
    );
    let pidfile = first.pid_file().display().to_string();
    let (i, l) = second.wait_log_from(
        0,
        &format!("lock file \"{pidfile}\" already exists"),
        secs(1),
    );
    assert!(l.contains("FATAL:  "), "{l}");
    let hint = line_after(&second, i);
    assert!(
        hint.contains(&format!(
            "HINT:  Is another bgworkerd (PID {}) running in directory \"{}\"?",
            first.pid(),
            first.rundir().display()
        )),
        "HINT line: {hint:?}"
    );
    assert_eq!(
        second.count_log("marker: _PG_init"),
        0,
        "second daemon loaded its preload libraries"
    );
    assert_eq!(second.count_log(&start_needle("bad_second")), 0);
    assert!(
        segments_of(second.pid()).is_empty(),
        "second daemon left a segment"
    );

    // The first one is untouched.
    assert_eq!(
        fs::read_to_string(first.pid_file()).unwrap(),
        pid_text,
        "pid file was rewritten"
    );
    assert!(seg.exists(), "segment of the first daemon is gone");
    assert_still_running(&first, p, "worker of the first daemon");
    prove_dynamic_registration_works(&first);
    assert_still_running(&first, p, "worker of the first daemon");
    assert_daemon_healthy(&first);
    // Drop the first daemon before the second: the second's clean-up reads
    // the shared pid file.
    drop(first);
    drop(second);
}

// ---------------------------------------------------------------------------
// 2. preload libraries
// ---------------------------------------------------------------------------

fn preload_refused(name: &str, libs: &str, fatal: &str) -> (Daemon, Scratch) {
    let dir = Scratch::new(name);
    let d = Daemon::builder(name)
        .rundir(&dir)
        .set("shared_preload_libraries", libs)
        .env("BAD_STATIC", "good:bad_pre")
        .spawn();
    let log = assert_refused_to_start(&d);
    let l = d.wait_log(fatal, secs(1));
    assert!(l.contains("FATAL:  "), "must be FATAL: {l}\n{log}");
    (d, dir)
}

/// After a refused start on `dir`, a daemon with a good preload list starts
/// there and runs its worker.
fn preload_fixed(name: &str, dir: &Path) {
    let m = module();
    let good = Daemon::builder(name)
        .rundir(dir)
        .preload(&[&m])
        .env("BAD_STATIC", "good:bad_pre")
        .start();
    let p = wait_ready(&good, "bad_pre", secs(10));
    assert_still_running(&good, p, "worker after the fix");
}

#[test]
fn missing_preload_library_path_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "missing_preload_library_path_is_fatal");
    let m = module();
    let libs = format!("{},/nonexistent/bad_nosuch_lib", m.display());
    let (d, dir) = preload_refused(
        "preload-missing-path",
        &libs,
        "could not access file \"/nonexistent/bad_nosuch_lib\": No such file or directory",
    );
    // The first library was loaded (libraries load in order); none of its
    // workers ran because the daemon never started.
    d.wait_log("marker: _PG_init", secs(1));
    drop(d);
    preload_fixed("preload-missing-path-fixed", &dir);
}

#[test]
fn missing_preload_library_name_is_fatal() {
    let _w = watchdog(DEFAULT_WATCHDOG, "missing_preload_library_name_is_fatal");
    let (d, dir) = preload_refused(
        "preload-missing-name",
        "bad_nosuch_lib",
        "could not access file \"bad_nosuch_lib\": No such file or directory",
    );
    drop(d);
    preload_fixed("preload-missing-name-fixed", &dir);
}

#[test]
fn preload_library_for_another_major_version_is_fatal() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "preload_library_for_another_major_version_is_fatal",
    );
    let m14 = pgxs_module("bad_magic14.c");
    let shown = m14.display().to_string();
    let (d, dir) = preload_refused(
        "preload-magic14",
        &shown,
        &format!("incompatible library \"{shown}\": version mismatch"),
    );
    assert_eq!(
        d.count_log("marker: magic14 _PG_init"),
        0,
        "_PG_init of an incompatible library ran"
    );
    let (i, _) = d.wait_log_from(0, "version mismatch", secs(1));
    let detail = line_after(&d, i);
    drop(d);
    preload_fixed("preload-magic14-fixed", &dir);
    // PostgreSQL 15 (dfmgr.c, incompatible_module_error) prints a magic
    // version of 1000 or more as its major number alone: "14".
    assert!(
        detail.contains("DETAIL:  "),
        "no DETAIL line after the FATAL: {detail:?}"
    );
    assert!(
        detail.ends_with("DETAIL:  Server is version 15, library is version 14."),
        "DETAIL must read as PostgreSQL 15's: {detail:?}"
    );
}

// ---------------------------------------------------------------------------
// 3. static registrations (LOG, worker ignored)
// ---------------------------------------------------------------------------

/// One bad static registration between two good ones: the rejection is
/// logged at LOG while the libraries load (before "ready"), the bad worker
/// never starts, the good ones do, and a later dynamic registration works.
fn static_rejected(test: &str, kind: &str, bad_name: &str, expected: &str) {
    let d = bad_daemon(
        test,
        &format!("good:bad_good1;{kind}:{bad_name};good:bad_good2"),
        &[("log_min_messages", "debug1")],
    );
    let (rej, l) = assert_line_at(&d, expected, "LOG");
    assert!(!l.contains("ERROR:"), "{l}");
    let (ready, _) = d.wait_log_from(0, "bgworkerd ready", secs(1));
    assert!(
        rej < ready,
        "rejection must be logged at registration, before the daemon is ready"
    );

    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let g2 = wait_ready(&d, "bad_good2", secs(10));
    // Workers are started in registration order by the supervisor itself:
    // once the last good worker was started, the bad one would have been too.
    d.wait_log("starting background worker process \"bad_good2\"", secs(1));
    let starting = d.count_log("starting background worker process");
    assert_eq!(
        starting,
        2,
        "only the two good workers may start; log:\n{}",
        d.log_text()
    );
    assert_eq!(d.count_log("marker: start "), 2, "log:\n{}", d.log_text());

    prove_dynamic_registration_works(&d);
    d.wait_log(&start_needle("bad_valid_attach_only"), secs(5));
    assert_still_running(&d, g1, "bad_good1");
    assert_still_running(&d, g2, "bad_good2");
    assert_eq!(d.count_log("marker: start "), 3, "log:\n{}", d.log_text());
    assert_daemon_healthy(&d);
}

fn ninety_five(c: char) -> String {
    std::iter::repeat_n(c, 95).collect()
}

#[test]
fn static_unterminated_bgw_name_is_ignored() {
    let _w = watchdog(DEFAULT_WATCHDOG, "static_unterminated_bgw_name_is_ignored");
    let msg = format!(
        "background worker \"{}\": bgw_name is not NUL-terminated within 96 bytes",
        ninety_five('N')
    );
    static_rejected("static-noterm-name", "noterm_name", "bad_noterm_name", &msg);
}

#[test]
fn static_unterminated_bgw_type_is_ignored() {
    let _w = watchdog(DEFAULT_WATCHDOG, "static_unterminated_bgw_type_is_ignored");
    static_rejected(
        "static-noterm-type",
        "noterm_type",
        "bad_noterm_type",
        "background worker \"bad_noterm_type\": bgw_type is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn static_unterminated_bgw_library_name_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_unterminated_bgw_library_name_is_ignored",
    );
    static_rejected(
        "static-noterm-lib",
        "noterm_lib",
        "bad_noterm_lib",
        "background worker \"bad_noterm_lib\": bgw_library_name is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn static_unterminated_bgw_function_name_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_unterminated_bgw_function_name_is_ignored",
    );
    static_rejected(
        "static-noterm-func",
        "noterm_func",
        "bad_noterm_func",
        "background worker \"bad_noterm_func\": bgw_function_name is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn static_null_definition_is_ignored() {
    let _w = watchdog(DEFAULT_WATCHDOG, "static_null_definition_is_ignored");
    static_rejected(
        "static-null",
        "null",
        "bad_null",
        "RegisterBackgroundWorker: worker definition is NULL; ignored",
    );
}

#[test]
fn static_without_shmem_access_is_ignored() {
    let _w = watchdog(DEFAULT_WATCHDOG, "static_without_shmem_access_is_ignored");
    static_rejected(
        "static-noshmem",
        "noshmem",
        "bad_noshmem",
        "background worker \"bad_noshmem\": background workers without shared memory access are not supported",
    );
}

#[test]
fn static_database_access_at_postmaster_start_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_database_access_at_postmaster_start_is_ignored",
    );
    static_rejected(
        "static-dbpm",
        "dbpm",
        "bad_dbpm",
        "background worker \"bad_dbpm\": cannot request database access if starting at postmaster start",
    );
}

#[test]
fn static_negative_restart_interval_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_negative_restart_interval_is_ignored",
    );
    static_rejected(
        "static-badrestart",
        "badrestart",
        "bad_badrestart",
        "background worker \"bad_badrestart\": invalid restart interval",
    );
}

#[test]
fn static_restart_interval_over_a_day_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_restart_interval_over_a_day_is_ignored",
    );
    static_rejected(
        "static-bigrestart",
        "bigrestart",
        "bad_bigrestart",
        "background worker \"bad_bigrestart\": invalid restart interval",
    );
}

#[test]
fn static_restartable_parallel_worker_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_restartable_parallel_worker_is_ignored",
    );
    static_rejected(
        "static-parrestart",
        "parrestart",
        "bad_parrestart",
        "background worker \"bad_parrestart\": parallel workers may not be configured for restart",
    );
}

#[test]
fn static_worker_requesting_notification_is_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_worker_requesting_notification_is_ignored",
    );
    static_rejected(
        "static-notify",
        "notify",
        "bad_notify",
        "background worker \"bad_notify\": only dynamic background workers can request notification",
    );
}

#[test]
fn static_workers_beyond_max_worker_processes_are_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_workers_beyond_max_worker_processes_are_ignored",
    );
    let d = bad_daemon(
        "static-toomany",
        "good:bad_good1;good:bad_good2;good:bad_extra",
        &[
            ("max_worker_processes", "2"),
            ("log_min_messages", "debug1"),
        ],
    );
    let (i, _) = assert_line_at(&d, "too many background workers", "LOG");
    let detail = line_after(&d, i);
    assert!(
        detail.contains(
            "DETAIL:  Up to 2 background workers can be registered with the current settings."
        ),
        "DETAIL: {detail:?}"
    );
    let hint = line_at(&d, i, 2);
    assert!(
        hint.contains(
            "HINT:  Consider increasing the configuration parameter \"max_worker_processes\"."
        ),
        "HINT: {hint:?}"
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let g2 = wait_ready(&d, "bad_good2", secs(10));
    d.wait_log("starting background worker process \"bad_good2\"", secs(1));
    assert_eq!(
        d.count_log("starting background worker process"),
        2,
        "log:\n{}",
        d.log_text()
    );
    assert_eq!(d.count_log(&start_needle("bad_extra")), 0);
    assert_still_running(&d, g1, "bad_good1");
    assert_still_running(&d, g2, "bad_good2");
    assert_daemon_healthy(&d);
}

#[test]
fn static_registration_from_a_running_worker_is_silently_ignored() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_registration_from_a_running_worker_is_silently_ignored",
    );
    let d = bad_daemon(
        "static-late",
        "good:bad_good1;good:bad_reg:regstatic loop",
        &[("log_min_messages", "debug1")],
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    d.wait_log("marker: regstatic done name=bad_reg", secs(10));
    let r = wait_ready(&d, "bad_reg", secs(10));
    // A round trip through the supervisor after the registration attempt.
    prove_dynamic_registration_works(&d);
    assert_eq!(
        d.count_log("bad_late"),
        0,
        "a worker's static registration had an effect; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log("must be registered in shared_preload_libraries"),
        0,
        "log:\n{}",
        d.log_text()
    );
    assert_still_running(&d, g1, "bad_good1");
    assert_still_running(&d, r, "the registering worker");
    assert_daemon_healthy(&d);
}

// ---------------------------------------------------------------------------
// 4. workers that cannot run
// ---------------------------------------------------------------------------

#[test]
fn static_worker_with_missing_function_fails_and_is_restarted() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "static_worker_with_missing_function_fails_and_is_restarted",
    );
    let m = module();
    let d = bad_daemon("missing-function", "good:bad_good1;nofunc:bad_nofunc", &[]);
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let needle = format!(
        "could not find function \"bad_no_such_function\" in file \"{}\"",
        m.display()
    );
    let errs = d.wait_log_count(&needle, 2, secs(20));
    let pids: Vec<i32> = errs
        .iter()
        .map(|l| prefix_pid(l).expect("pid in log prefix"))
        .collect();
    for l in &errs {
        assert!(l.contains("ERROR:  "), "must be ERROR: {l}");
    }
    assert_ne!(pids[0], pids[1], "a restart is a new process");
    for &p in &pids[..2] {
        assert_ne!(
            p,
            d.pid(),
            "the error must come from the worker, not the supervisor"
        );
        let l = d.wait_log(
            &format!("background worker \"bad_nofunc_type\" (PID {p}) exited with exit code 1"),
            secs(10),
        );
        assert!(l.contains("LOG:  "), "{l}");
    }
    assert_still_running(&d, g1, "bad_good1");
    prove_dynamic_registration_works(&d);
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_worker_with_missing_library_fails_and_is_forgotten() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_worker_with_missing_library_fails_and_is_forgotten",
    );
    let d = bad_daemon(
        "missing-library",
        "good:bad_good1",
        &[("log_min_messages", "debug1")],
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let h = bad_host(
        "worker",
        &rundir_str(&d),
        &["bad_nosuch_library", "bad_main", "-1"],
    );
    h.expect_field("host: entry shutdown=", "shutdown", "STOPPED", secs(20), "");
    let e = d.wait_log(
        "could not access file \"bad_nosuch_library\": No such file or directory",
        secs(5),
    );
    assert!(e.contains("ERROR:  "), "{e}");
    let wpid = prefix_pid(&e).unwrap();
    assert_ne!(wpid, d.pid(), "the error must come from the worker");
    d.wait_log(
        &format!("background worker \"bad_entry_type\" (PID {wpid}) exited with exit code 1"),
        secs(5),
    );
    d.wait_log("unregistering background worker \"bad_entry\"", secs(5));
    assert_valid_flow(&h, "worker");
    assert_eq!(
        d.count_log("could not access file \"bad_nosuch_library\""),
        1,
        "NEVER_RESTART worker restarted"
    );
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_worker_with_missing_library_and_restart_interval_is_restarted() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_worker_with_missing_library_and_restart_interval_is_restarted",
    );
    let d = bad_daemon("missing-library-restart", "good:bad_good1", &[]);
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let h = bad_host(
        "worker",
        &rundir_str(&d),
        &["bad_nosuch_library", "bad_main", "1"],
    );
    h.wait_line("step: restarting", secs(20));
    let errs = d.wait_log_count(
        "could not access file \"bad_nosuch_library\": No such file or directory",
        2,
        secs(20),
    );
    let p0 = prefix_pid(&errs[0]).unwrap();
    let p1 = prefix_pid(&errs[1]).unwrap();
    assert_ne!(p0, p1, "a restart is a new process");
    h.signal(SIGUSR2);
    h.expect_field("host: entry shutdown=", "shutdown", "STOPPED", secs(20), "");
    assert_valid_flow(&h, "worker");
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_worker_with_unknown_internal_function_fails() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_worker_with_unknown_internal_function_fails",
    );
    let d = bad_daemon("internal-function", "good:bad_good1", &[]);
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let h = bad_host(
        "worker",
        &rundir_str(&d),
        &["postgres", "bad_no_such_internal", "-1"],
    );
    h.expect_field("host: entry shutdown=", "shutdown", "STOPPED", secs(20), "");
    let e = d.wait_log(
        "internal function \"bad_no_such_internal\" not found",
        secs(5),
    );
    assert!(e.contains("ERROR:  "), "{e}");
    let wpid = prefix_pid(&e).unwrap();
    d.wait_log(
        &format!("background worker \"bad_entry_type\" (PID {wpid}) exited with exit code 1"),
        secs(5),
    );
    assert_valid_flow(&h, "worker");
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn worker_requesting_a_database_connection_ends_with_fatal() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "worker_requesting_a_database_connection_ends_with_fatal",
    );
    let d = bad_daemon(
        "connect",
        "good:bad_good1;good:bad_conn:connect;good:bad_conn_oid:connect_oid",
        &[],
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let (i, l) = d.wait_log_from(
        0,
        "background worker \"bad_conn_type\": BackgroundWorkerInitializeConnection needs the database server, which is not available in libbgworker",
        secs(10),
    );
    assert!(l.contains("FATAL:  "), "{l}");
    let wpid = prefix_pid(&l).unwrap();
    let detail = line_after(&d, i);
    assert!(
        detail.contains("DETAIL:  It asked to connect to database \"bad_db\".")
            && prefix_pid(&detail) == Some(wpid),
        "no DETAIL after the FATAL: {detail:?}"
    );
    let hint = line_after(&d, i + 1);
    assert!(
        hint.contains("HINT:  ") && prefix_pid(&hint) == Some(wpid),
        "no HINT after the FATAL: {hint:?}"
    );
    let x = d.wait_log(
        &format!("background worker \"bad_conn_type\" (PID {wpid}) exited with exit code 1"),
        secs(10),
    );
    assert!(x.contains("LOG:  "), "{x}");

    let l = d.wait_log(
        "background worker \"bad_conn_oid_type\": BackgroundWorkerInitializeConnectionByOid needs the database server",
        secs(10),
    );
    assert!(l.contains("FATAL:  "), "{l}");
    let opid = prefix_pid(&l).unwrap();
    d.wait_log(
        "DETAIL:  It asked to connect to the database with OID 4242.",
        secs(10),
    );
    d.wait_log(
        &format!("background worker \"bad_conn_oid_type\" (PID {opid}) exited with exit code 1"),
        secs(10),
    );

    assert_eq!(
        d.count_log("marker: after connect"),
        0,
        "code after the connection call ran; log:\n{}",
        d.log_text()
    );
    assert_still_running(&d, g1, "bad_good1");
    prove_dynamic_registration_works(&d);
    assert_daemon_healthy(&d);
}

#[test]
fn invalid_dynamic_registration_in_a_worker_ends_the_worker() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "invalid_dynamic_registration_in_a_worker_ends_the_worker",
    );
    let d = bad_daemon(
        "worker-regbad",
        "good:bad_good1;good:bad_regnull:regnull;good:bad_regbad:regbad",
        &[],
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));

    let l = d.wait_log(
        "RegisterDynamicBackgroundWorker: worker definition is NULL",
        secs(10),
    );
    assert!(l.contains("ERROR:  "), "{l}");
    let p = prefix_pid(&l).unwrap();
    d.wait_log(
        &format!("background worker \"bad_regnull_type\" (PID {p}) exited with exit code 1"),
        secs(10),
    );

    let l = d.wait_log(
        "background worker \"bad_child\": invalid restart interval",
        secs(10),
    );
    assert!(l.contains("ERROR:  "), "{l}");
    let p = prefix_pid(&l).unwrap();
    d.wait_log(
        &format!("background worker \"bad_regbad_type\" (PID {p}) exited with exit code 1"),
        secs(10),
    );

    assert_eq!(
        d.count_log("marker: after reg"),
        0,
        "the worker went on after ERROR; log:\n{}",
        d.log_text()
    );
    assert_eq!(d.count_log(&start_needle("bad_child")), 0);
    assert_still_running(&d, g1, "bad_good1");
    prove_dynamic_registration_works(&d);
    assert_daemon_healthy(&d);
}

// ---------------------------------------------------------------------------
// 5. dynamic registrations from an attached process (ERROR, returns false)
// ---------------------------------------------------------------------------

/// `bad_host def KIND`: the registration returns false, no handle, the
/// message is in bgw_last_error() and logged at ERROR on the host's stderr;
/// the supervisor never hears of the worker; a valid one runs afterwards.
fn dynamic_rejected(test: &str, kind: &str, expected: &str) {
    let d = plain_daemon(test, &[("log_min_messages", "debug1")]);
    let h = bad_host("def", &rundir_str(&d), &[kind]);
    let l = h.expect_field(
        &format!("host: def kind={kind} ok="),
        "ok",
        "0",
        secs(10),
        "invalid definition accepted",
    );
    assert_eq!(
        field(&l, "handle").as_deref(),
        Some("0"),
        "a handle was returned: {l}"
    );
    assert_eq!(error_of(&l), expected, "bgw_last_error: {l}");
    let e = h.wait_line(&format!("ERROR:  {expected}"), secs(5));
    assert!(
        prefix_pid(&e) == Some(h.pid()),
        "ERROR must be logged by the host itself: {e}"
    );
    assert_valid_flow(&h, kind);
    d.wait_log(
        &format!("registering background worker \"bad_valid_{kind}\""),
        secs(5),
    );
    assert_eq!(
        d.count_log(&format!("bad_dyn_{kind}")) + d.count_log("NNNNNNNN"),
        0,
        "the supervisor saw the invalid worker; log:\n{}",
        d.log_text()
    );
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_unterminated_bgw_name_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_unterminated_bgw_name_is_an_error",
    );
    let msg = format!(
        "background worker \"{}\": bgw_name is not NUL-terminated within 96 bytes",
        ninety_five('N')
    );
    dynamic_rejected("dyn-noterm-name", "noterm_name", &msg);
}

#[test]
fn dynamic_unterminated_bgw_type_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_unterminated_bgw_type_is_an_error",
    );
    dynamic_rejected(
        "dyn-noterm-type",
        "noterm_type",
        "background worker \"bad_dyn_noterm_type\": bgw_type is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn dynamic_unterminated_bgw_library_name_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_unterminated_bgw_library_name_is_an_error",
    );
    dynamic_rejected(
        "dyn-noterm-lib",
        "noterm_lib",
        "background worker \"bad_dyn_noterm_lib\": bgw_library_name is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn dynamic_unterminated_bgw_function_name_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_unterminated_bgw_function_name_is_an_error",
    );
    dynamic_rejected(
        "dyn-noterm-func",
        "noterm_func",
        "background worker \"bad_dyn_noterm_func\": bgw_function_name is not NUL-terminated within 96 bytes",
    );
}

#[test]
fn dynamic_without_shmem_access_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "dynamic_without_shmem_access_is_an_error");
    dynamic_rejected(
        "dyn-noshmem",
        "noshmem",
        "background worker \"bad_dyn_noshmem\": background workers without shared memory access are not supported",
    );
}

#[test]
fn dynamic_database_access_at_postmaster_start_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_database_access_at_postmaster_start_is_an_error",
    );
    dynamic_rejected(
        "dyn-dbpm",
        "dbpm",
        "background worker \"bad_dyn_dbpm\": cannot request database access if starting at postmaster start",
    );
}

#[test]
fn dynamic_negative_restart_interval_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_negative_restart_interval_is_an_error",
    );
    dynamic_rejected(
        "dyn-badrestart",
        "badrestart",
        "background worker \"bad_dyn_badrestart\": invalid restart interval",
    );
}

#[test]
fn dynamic_restart_interval_over_a_day_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_restart_interval_over_a_day_is_an_error",
    );
    dynamic_rejected(
        "dyn-bigrestart",
        "bigrestart",
        "background worker \"bad_dyn_bigrestart\": invalid restart interval",
    );
}

#[test]
fn dynamic_restartable_parallel_worker_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_restartable_parallel_worker_is_an_error",
    );
    dynamic_rejected(
        "dyn-parrestart",
        "parrestart",
        "background worker \"bad_dyn_parrestart\": parallel workers may not be configured for restart",
    );
}

#[test]
fn dynamic_invalid_start_time_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "dynamic_invalid_start_time_is_an_error");
    let d = plain_daemon("dyn-badstart", &[("log_min_messages", "debug1")]);
    let h = bad_host("def", &rundir_str(&d), &["badstart"]);
    let l = h.expect_field(
        "host: def kind=badstart ok=",
        "ok",
        "0",
        secs(10),
        "start time 7 accepted",
    );
    assert!(
        error_of(&l).starts_with("background worker \"bad_dyn_badstart\": "),
        "{l}"
    );
    let e = h.wait_line("ERROR:  background worker \"bad_dyn_badstart\"", secs(5));
    assert!(prefix_pid(&e) == Some(h.pid()), "{e}");
    assert_valid_flow(&h, "badstart");
    assert_eq!(d.count_log("bad_dyn_badstart"), 0, "log:\n{}", d.log_text());
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_restart_interval_of_exactly_a_day_is_accepted() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "dynamic_restart_interval_of_exactly_a_day_is_accepted",
    );
    let d = plain_daemon("dyn-maxrestart", &[]);
    let h = bad_host("def", &rundir_str(&d), &["maxrestart"]);
    h.expect_field(
        "host: def kind=maxrestart ok=",
        "ok",
        "1",
        secs(10),
        "a restart interval of 86400000 s is valid",
    );
    h.expect_field(
        "host: def kind=maxrestart shutdown=",
        "shutdown",
        "STOPPED",
        secs(20),
        "",
    );
    d.wait_log(&start_needle("bad_dyn_maxrestart"), secs(5));
    assert_valid_flow(&h, "maxrestart");
    assert_daemon_healthy(&d);
}

#[test]
fn dynamic_null_definition_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "dynamic_null_definition_is_an_error");
    let d = plain_daemon("dyn-null", &[]);
    let h = bad_host("null_def", &rundir_str(&d), &[]);
    let l = h.expect_field("host: null-def ok=", "ok", "0", secs(10), "");
    assert_eq!(field(&l, "handle").as_deref(), Some("0"), "{l}");
    assert_eq!(
        error_of(&l),
        "RegisterDynamicBackgroundWorker: worker definition is NULL",
        "{l}"
    );
    let e = h.wait_line(
        "ERROR:  RegisterDynamicBackgroundWorker: worker definition is NULL",
        secs(5),
    );
    assert!(prefix_pid(&e) == Some(h.pid()), "{e}");
    assert_valid_flow(&h, "null_def");
    assert_daemon_healthy(&d);
}

#[test]
fn registration_without_attach_returns_false() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "registration_without_attach_returns_false",
    );
    let d = plain_daemon("dyn-unattached", &[("log_min_messages", "debug1")]);
    let h = bad_host("unattached", &rundir_str(&d), &[]);
    let l = h.expect_field(
        "host: unattached ok=",
        "ok",
        "0",
        secs(10),
        "registration without a supervisor succeeded",
    );
    assert_eq!(field(&l, "handle").as_deref(), Some("0"), "{l}");
    assert!(error_of(&l).contains("not attached"), "bgw_last_error: {l}");
    assert_valid_flow(&h, "unattached");
    // PostgreSQL returns false silently when not under the postmaster.
    assert_eq!(h.count_lines("ERROR:"), 0, "{}", h.text());
    assert_eq!(d.count_log("bad_unattached"), 0, "log:\n{}", d.log_text());
    assert_daemon_healthy(&d);
}

#[test]
fn registration_with_null_handle_pointer_registers_without_handle() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "registration_with_null_handle_pointer_registers_without_handle",
    );
    let d = plain_daemon("dyn-nohandle", &[("log_min_messages", "debug1")]);
    let h = bad_host("no_handle", &rundir_str(&d), &[]);
    h.expect_field("host: nohandle ok=", "ok", "1", secs(10), "");
    d.wait_log(&start_needle("bad_nohandle"), secs(10));
    d.wait_log("unregistering background worker \"bad_nohandle\"", secs(10));
    assert_valid_flow(&h, "no_handle");
    assert_daemon_healthy(&d);
}

#[test]
fn null_handle_arguments_are_errors() {
    let _w = watchdog(DEFAULT_WATCHDOG, "null_handle_arguments_are_errors");
    let d = plain_daemon("dyn-nullhandle", &[]);
    let h = bad_host("null_handle", &rundir_str(&d), &[]);
    for f in ["GetBackgroundWorkerPid", "WaitForBackgroundWorkerStartup"] {
        let l = h.expect_field(
            &format!("host: null-handle fn={f} "),
            "status",
            "STOPPED",
            secs(10),
            "",
        );
        assert_eq!(
            field(&l, "pid").as_deref(),
            Some("12345"),
            "*pidp written for a NULL handle: {l}"
        );
    }
    h.expect_field(
        "host: null-handle fn=WaitForBackgroundWorkerShutdown ",
        "status",
        "STOPPED",
        secs(10),
        "",
    );
    let l = h.wait_line("host: null-handle fn=TerminateBackgroundWorker ", secs(10));
    assert_eq!(
        error_of(&l),
        "TerminateBackgroundWorker: background worker handle is NULL",
        "{l}"
    );
    for f in [
        "GetBackgroundWorkerPid",
        "WaitForBackgroundWorkerStartup",
        "WaitForBackgroundWorkerShutdown",
        "TerminateBackgroundWorker",
    ] {
        let e = h.wait_line(
            &format!("ERROR:  {f}: background worker handle is NULL"),
            secs(5),
        );
        assert!(prefix_pid(&e) == Some(h.pid()), "{e}");
    }
    assert_valid_flow(&h, "null_handle");
    assert_daemon_healthy(&d);
}

#[test]
fn handles_with_out_of_range_slot_are_errors() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "handles_with_out_of_range_slot_are_errors",
    );
    let d = plain_daemon("dyn-badslot", &[]);
    let h = bad_host("bad_slot", &rundir_str(&d), &[]);
    for slot in ["1000000", "-1"] {
        let l = h.expect_field(
            &format!("host: forged slot={slot} fn=GetBackgroundWorkerPid "),
            "status",
            "STOPPED",
            secs(15),
            "",
        );
        assert_eq!(
            field(&l, "pid").as_deref(),
            Some("777"),
            "*pidp written for a bad handle: {l}"
        );
        for f in [
            "WaitForBackgroundWorkerStartup",
            "WaitForBackgroundWorkerShutdown",
        ] {
            h.expect_field(
                &format!("host: forged slot={slot} fn={f} "),
                "status",
                "STOPPED",
                secs(10),
                "",
            );
        }
        h.wait_line(
            &format!("host: forged slot={slot} fn=TerminateBackgroundWorker returned"),
            secs(10),
        );
        for f in [
            "GetBackgroundWorkerPid",
            "WaitForBackgroundWorkerStartup",
            "WaitForBackgroundWorkerShutdown",
            "TerminateBackgroundWorker",
        ] {
            h.wait_line(
                &format!("ERROR:  {f}: invalid background worker handle (slot {slot})"),
                secs(5),
            );
        }
    }
    // The host checked that the three real workers kept their pids.
    h.wait_line("host: real workers still running", secs(10));
    assert_valid_flow(&h, "bad_slot");
    assert_eq!(
        d.count_log("was terminated by signal"),
        0,
        "log:\n{}",
        d.log_text()
    );
    assert_daemon_healthy(&d);
}

#[test]
fn null_pid_pointer_is_allowed() {
    let _w = watchdog(DEFAULT_WATCHDOG, "null_pid_pointer_is_allowed");
    let d = plain_daemon("dyn-nullpidp", &[]);
    let h = bad_host("null_pidp", &rundir_str(&d), &[]);
    h.expect_field(
        "host: nopidp fn=WaitForBackgroundWorkerStartup ",
        "status",
        "STARTED",
        secs(15),
        "",
    );
    h.expect_field(
        "host: nopidp fn=GetBackgroundWorkerPid ",
        "status",
        "STARTED",
        secs(5),
        "",
    );
    let l = h.expect_field(
        "host: nopidp fn=GetBackgroundWorkerPid-with-pidp ",
        "status",
        "STARTED",
        secs(5),
        "",
    );
    assert!(field_i64(&l, "pid") > 0, "{l}");
    assert_valid_flow(&h, "null_pidp");
    assert_eq!(h.count_lines("ERROR:"), 0, "{}", h.text());
    assert_daemon_healthy(&d);
}

#[test]
fn full_slot_table_refuses_registration_and_keeps_workers() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "full_slot_table_refuses_registration_and_keeps_workers",
    );
    let d = plain_daemon("dyn-full", &[("max_worker_processes", "3")]);
    let h = bad_host("full", &rundir_str(&d), &["3"]);
    let l = h.expect_field(
        "host: overflow ok=",
        "ok",
        "0",
        secs(20),
        "4th registration with 3 slots succeeded",
    );
    assert_eq!(field(&l, "handle").as_deref(), Some("0"), "{l}");
    assert!(
        error_of(&l).starts_with("no free background worker slot"),
        "bgw_last_error: {l}"
    );
    let l = h.wait_line("step: full pids=", secs(5));
    let pids: Vec<i32> = field(&l, "pids")
        .unwrap()
        .split(',')
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    for &p in &pids {
        assert_still_running(&d, p, "worker filling a slot");
    }
    assert_eq!(d.count_log("bad_overflow"), 0, "log:\n{}", d.log_text());
    h.signal(SIGUSR2);
    h.wait_line("host: all still running", secs(10));
    assert_valid_flow(&h, "full");
    // PostgreSQL returns false without a message when no slot is free.
    assert_eq!(h.count_lines("ERROR:"), 0, "{}", h.text());
    assert_daemon_healthy(&d);
}

// ---------------------------------------------------------------------------
// 6. bgw_attach targets that are not a running supervisor
// ---------------------------------------------------------------------------

/// `bad_host attach_only BAD MODULE GOOD`: the attach to BAD fails with a
/// message containing every `needles`, the process survives, attaches to the
/// good daemon and runs a worker there.
fn attach_refused(d: &Daemon, bad_target: &str, needles: &[&str]) {
    let h = bad_host("attach_only", bad_target, &[&rundir_str(d)]);
    let l = h.expect_field(
        "host: attach rc=",
        "rc",
        "-1",
        secs(10),
        &format!("attach to {bad_target:?} succeeded"),
    );
    let err = error_of(&l);
    for n in needles {
        assert!(err.contains(n), "bgw_last_error {err:?} lacks {n:?}");
    }
    h.wait_line("host: attached pid=", secs(10));
    assert_valid_flow(&h, "attach_only");
}

fn attach_daemon(name: &str) -> (Daemon, i32) {
    let d = bad_daemon(name, "good:bad_good1", &[]);
    let p = wait_ready(&d, "bad_good1", secs(10));
    (d, p)
}

#[test]
fn attach_null_target_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_null_target_is_an_error");
    let (d, g1) = attach_daemon("attach-null");
    let h = bad_host("attach_null", &rundir_str(&d), &[]);
    let l = h.expect_field("host: attach-null rc=", "rc", "-1", secs(10), "");
    let err = error_of(&l);
    assert!(
        err != "(empty)" && err.contains("NULL"),
        "bgw_last_error after bgw_attach(NULL): {err:?}"
    );
    assert_valid_flow(&h, "attach_null");
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_run_directory_without_pid_file_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "attach_run_directory_without_pid_file_is_an_error",
    );
    let (d, g1) = attach_daemon("attach-nopid");
    let empty = Scratch::new("attach-empty");
    let shown = empty.display().to_string();
    attach_refused(
        &d,
        &shown,
        &[&format!(
            "no bgworkerd is running on \"{shown}\": could not read"
        )],
    );
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

/// A pid that belonged to a process that has exited.
fn dead_pid() -> i32 {
    let mut c = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = c.id() as i32;
    c.wait().expect("wait for true");
    assert!(!pid_alive(pid));
    pid
}

#[test]
fn attach_stale_pid_file_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_stale_pid_file_is_an_error");
    let (d, g1) = attach_daemon("attach-stale");
    let dir = Scratch::new("attach-stale-dir");
    let dead = dead_pid();
    fs::write(
        dir.join("bgworkerd.pid"),
        format!("{dead}\n/bgworker.{dead}\n"),
    )
    .unwrap();
    let shown = dir.display().to_string();
    attach_refused(
        &d,
        &shown,
        &[&format!("no bgworkerd is running on \"{shown}\": stale pid file (process {dead} does not exist)")],
    );
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_garbage_pid_file_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_garbage_pid_file_is_an_error");
    let (d, g1) = attach_daemon("attach-garbage");
    let dir = Scratch::new("attach-garbage-dir");
    fs::write(dir.join("bgworkerd.pid"), "not a pid\n\u{1}\u{2}\n").unwrap();
    let shown = dir.display().to_string();
    attach_refused(&d, &shown, &["pid file"]);
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_nonexistent_segment_name_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "attach_nonexistent_segment_name_is_an_error",
    );
    let (d, g1) = attach_daemon("attach-noseg");
    let name = format!("/bgworker.badtest.{}.nosuch", std::process::id());
    attach_refused(&d, &name, &["could not open shared memory segment", &name]);
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

/// Overwrite `bytes` at `offset` of the live segment, try to attach, then
/// put the original bytes back and prove the daemon and its worker are fine.
fn attach_with_patched_segment(name: &str, offset: u64, bytes: &[u8]) {
    let (d, g1) = attach_daemon(name);
    let path = d.segment_path().expect("segment path");
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open segment");
    let mut saved = vec![0u8; bytes.len()];
    f.read_exact_at(&mut saved, offset).expect("read segment");
    f.write_all_at(bytes, offset).expect("patch segment");
    let h = bad_host("attach_only", &rundir_str(&d), &[]);
    let st = h.wait_exit(secs(10));
    f.write_all_at(&saved, offset).expect("restore segment");
    assert_eq!(
        st.code(),
        Some(0),
        "attaching process did not survive a corrupt segment: {}\n{}",
        describe_status(&st),
        h.text()
    );
    let l = h.expect_field(
        "host: attach rc=",
        "rc",
        "-1",
        secs(1),
        "attached to a corrupt segment",
    );
    assert!(error_of(&l).contains("is corrupt"), "bgw_last_error: {l}");

    assert_still_running(&d, g1, "bad_good1");
    prove_dynamic_registration_works(&d);
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_segment_with_bad_magic_is_refused() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_segment_with_bad_magic_is_refused");
    attach_with_patched_segment("attach-magic", 0, b"notmagic");
}

#[test]
fn attach_segment_with_absurd_slot_count_is_refused() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "attach_segment_with_absurd_slot_count_is_refused",
    );
    attach_with_patched_segment("attach-slots", 20, &0x7fff_fff0i32.to_le_bytes());
}

#[test]
fn attach_truncated_segment_is_refused() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_truncated_segment_is_refused");
    // Truncated copies of the live segment: truncating the live object
    // itself would pull pages from under the supervisor's own mapping.
    let (d, g1) = attach_daemon("attach-trunc");
    let image = fs::read(d.segment_path().unwrap()).expect("read segment");
    for (tag, len) in [("tiny", 16usize), ("short", image.len() - 100)] {
        let name = format!("bgworker.badtest.{}.{tag}", std::process::id());
        let path = PathBuf::from("/dev/shm").join(&name);
        fs::write(&path, &image[..len]).unwrap();
        let h = bad_host("attach_only", &format!("/{name}"), &[&rundir_str(&d)]);
        let st = h.wait_exit(secs(20));
        let _ = fs::remove_file(&path);
        assert_eq!(
            st.code(),
            Some(0),
            "{tag}: {}\n{}",
            describe_status(&st),
            h.text()
        );
        let l = h.expect_field(
            "host: attach rc=",
            "rc",
            "-1",
            secs(1),
            &format!("{tag}: attached to a truncated segment"),
        );
        assert!(
            error_of(&l).contains("is corrupt"),
            "{tag}: bgw_last_error: {l}"
        );
        h.wait_line("host: valid tag=attach_only shutdown=STOPPED", secs(1));
    }
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_twice_is_an_error() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_twice_is_an_error");
    let (d, g1) = attach_daemon("attach-twice");
    let h = bad_host("attach_twice", &rundir_str(&d), &[]);
    let l = h.expect_field("host: attach-again rc=", "rc", "-1", secs(10), "");
    assert!(error_of(&l).contains("already"), "bgw_last_error: {l}");
    // The first attachment still works.
    assert_valid_flow(&h, "attach_twice");
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

#[test]
fn attach_path_that_is_no_run_directory_is_an_error() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "attach_path_that_is_no_run_directory_is_an_error",
    );
    let (d, g1) = attach_daemon("attach-notdir");
    let base = Scratch::new("attach-notdir-base");
    let target = base.join("missing").join("dir").display().to_string();
    attach_refused(&d, &target, &[&target]);
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

// ---------------------------------------------------------------------------
// 7. a hostile write into the shared segment
// ---------------------------------------------------------------------------

/// A process writes a slot of garbage straight into the segment (bypassing
/// the API: no lock, unterminated strings, nonsense numbers) and hands it to
/// the supervisor with in_use = 1 and SIGUSR1. The supervisor copies it
/// paranoidly, logs why it is invalid, frees the slot, and keeps running.
///
/// Layout used (crates/core/src/shmem/slots.rs): header_size u32 at 12, slot_size u32
/// at 16, total_slots i32 at 20; after the header one u64 pending word per
/// 64 slots; a slot starts with in_use u32, terminate u32, pid i32, padding,
/// generation u64, then the 544-byte BackgroundWorker at 24.
#[test]
fn hostile_slot_contents_do_not_crash_the_supervisor() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "hostile_slot_contents_do_not_crash_the_supervisor",
    );
    let d = bad_daemon(
        "hostile-slot",
        "good:bad_good1",
        &[("max_worker_processes", "4")],
    );
    let g1 = wait_ready(&d, "bad_good1", secs(10));
    let path = d.segment_path().unwrap();
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open segment");
    let mut hdr = [0u8; 24];
    f.read_exact_at(&mut hdr, 0).unwrap();
    let header_size = u32::from_le_bytes(hdr[12..16].try_into().unwrap()) as u64;
    let slot_size = u32::from_le_bytes(hdr[16..20].try_into().unwrap()) as u64;
    let total = i32::from_le_bytes(hdr[20..24].try_into().unwrap()) as u64;
    assert_eq!(total, 4);
    let last = header_size + 8 * total.div_ceil(64).max(1) + 3 * slot_size;
    let mut in_use = [0u8; 4];
    f.read_exact_at(&mut in_use, last).unwrap();
    assert_eq!(in_use, [0, 0, 0, 0], "slot 3 should be free");

    // Garbage definition: every byte of the slot's definition words 'A'
    // (strings unterminated, flags 0x41414141, restart interval
    // 1094795585 s, start time 0x41414141, a major that is not served).
    f.write_all_at(&vec![b'A'; slot_size as usize - 24], last + 24)
        .unwrap();
    f.write_all_at(&(-1i32).to_le_bytes(), last + 8).unwrap();
    f.write_all_at(&1u32.to_le_bytes(), last).unwrap();
    d.signal(SIGUSR1);

    let l = d.wait_log("invalid restart interval", secs(10));
    assert!(l.contains("LOG:  "), "{l}");
    assert!(
        l.contains(&format!("background worker \"{}\"", "A".repeat(95))),
        "name not cut at 95 bytes: {l}"
    );
    assert!(
        wait_until(secs(10), || {
            let mut b = [0u8; 4];
            f.read_exact_at(&mut b, last).is_ok() && b == [0, 0, 0, 0]
        }),
        "the supervisor did not give the rejected slot back"
    );

    // Everything else still works, including all three free slots.
    assert_still_running(&d, g1, "bad_good1");
    let h = bad_host("full", &rundir_str(&d), &["3"]);
    h.wait_line("step: full pids=", secs(20));
    h.signal(SIGUSR2);
    h.wait_line("host: all still running", secs(10));
    assert_valid_flow(&h, "full");
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

// ---------------------------------------------------------------------------
// 8. handles across bgw_detach, notification pids
// ---------------------------------------------------------------------------

#[test]
fn handles_are_unusable_while_detached_and_usable_after_reattach() {
    let _w = watchdog(DEFAULT_WATCHDOG, "handles_are_unusable_while_detached");
    let d = plain_daemon("detach", &[]);
    let h = bad_host("detach", &rundir_str(&d), &[]);
    let l = h.wait_line("host: detach worker pid=", secs(15));
    let wpid = field_i64(&l, "pid") as i32;
    let l = h.expect_field("host: detached getpid=", "getpid", "STOPPED", secs(10), "");
    assert_eq!(
        field(&l, "pid").as_deref(),
        Some("555"),
        "*pidp written while detached: {l}"
    );
    assert!(error_of(&l).contains("not attached"), "bgw_last_error: {l}");
    let e = h.wait_line("ERROR:  GetBackgroundWorkerPid: ", secs(5));
    assert!(e.contains("not attached"), "{e}");
    h.wait_line("host: detached twice", secs(5));
    let l = h.expect_field(
        "host: reattached getpid=",
        "getpid",
        "STARTED",
        secs(10),
        "handle unusable after attaching again",
    );
    assert_eq!(field_i64(&l, "pid") as i32, wpid, "{l}");
    assert_valid_flow(&h, "detach");
    d.wait_log("terminating background worker \"bad_detach_type\"", secs(5));
    d.wait_log(
        "terminating background worker \"bad_valid_detach_type\"",
        secs(5),
    );
    assert_eq!(
        d.count_log("terminating background worker \"bad_detach_type\""),
        1,
        "the worker was stopped by the detach or more than once; log:\n{}",
        d.log_text()
    );
    assert_daemon_healthy(&d);
}

#[test]
fn notify_pid_of_a_dead_process_is_dropped() {
    let _w = watchdog(DEFAULT_WATCHDOG, "notify_pid_of_a_dead_process_is_dropped");
    let d = plain_daemon("notify-dead", &[("log_min_messages", "debug1")]);
    let dead = dead_pid();
    let h = bad_host("notify", &rundir_str(&d), &[&dead.to_string()]);
    h.expect_field("host: notify startup=", "startup", "STARTED", secs(15), "");
    h.expect_field(
        "host: notify shutdown=",
        "shutdown",
        "STOPPED",
        secs(15),
        "",
    );
    let n = d.wait_log(
        &format!("worker notification PID {dead} is not valid"),
        secs(5),
    );
    assert!(n.contains("DEBUG:  "), "{n}");
    assert_valid_flow(&h, "notify");
    assert_daemon_healthy(&d);
}

/// PostgreSQL notifies only processes it knows (its own backends:
/// PostmasterMarkPIDForWorkerNotify refuses any other pid, logs "worker
/// notification PID n is not valid" at DEBUG1 and clears bgw_notify_pid).
/// A registration naming an unrelated process must not get that process
/// signalled: SIGUSR1's default action would kill it.
#[test]
fn notify_pid_of_an_unrelated_process_is_not_signalled() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "notify_pid_of_an_unrelated_process_is_not_signalled",
    );
    let d = plain_daemon("notify-unrelated", &[("log_min_messages", "debug1")]);
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let bpid = bystander.id() as i32;
    let h = bad_host("notify", &rundir_str(&d), &[&bpid.to_string()]);
    h.expect_field(
        "host: notify shutdown=",
        "shutdown",
        "STOPPED",
        secs(15),
        "",
    );
    assert_valid_flow(&h, "notify");
    assert_daemon_healthy(&d);
    let status = bystander.try_wait().expect("try_wait");
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert!(
        status.is_none(),
        "an unrelated process named in bgw_notify_pid was signalled to death ({}); log:\n{}",
        status.map(|s| describe_status(&s)).unwrap_or_default(),
        d.log_text()
    );
}

/// A configuration file that is not UTF-8 is refused with the file and the
/// line of the first bad byte named; once fixed, the daemon starts.
#[test]
fn config_file_that_is_not_utf8_names_file_and_line() {
    let _w = watchdog(DEFAULT_WATCHDOG, "config_file_that_is_not_utf8");
    let dir = Scratch::new("cfg-not-utf8");
    let conf = dir.join("bgworker.conf");
    fs::write(
        &conf,
        b"# settings\nlog_min_messages = warning\n# caf\xe9\n",
    )
    .unwrap();
    let expected = format!(
        "invalid byte sequence in configuration file \"{}\" line 3: the file must be UTF-8",
        conf.display()
    );
    let conf2 = conf.clone();
    config_refused("cfg-not-utf8", &dir, &[], &expected, move || {
        fs::write(&conf2, "# settings\nlog_min_messages = warning\n").unwrap();
    });
}

/// Arguments that are not UTF-8: both programs say which one, with the
/// usage exit status, and nothing panics.
#[test]
fn arguments_that_are_not_utf8_are_usage_errors() {
    use std::os::unix::ffi::OsStrExt;
    let _w = watchdog(DEFAULT_WATCHDOG, "arguments_that_are_not_utf8");
    let bad = std::ffi::OsStr::from_bytes(b"/tmp/caf\xe9");
    for (exe, args, label) in [
        (
            bgworkerd_path(),
            vec![std::ffi::OsStr::new("-D"), bad],
            "bgworkerd",
        ),
        (
            bgworkerctl_path(),
            vec![
                std::ffi::OsStr::new("status"),
                std::ffi::OsStr::new("-D"),
                bad,
            ],
            "bgworkerctl",
        ),
    ] {
        let p = Proc::spawn(&exe, &args, &[], &format!("{label}-not-utf8"));
        let st = p.wait_exit(secs(10));
        let text = p.text();
        assert_eq!(
            st.code(),
            Some(2),
            "{label}: {}:\n{text}",
            describe_status(&st)
        );
        let n = args.len();
        assert!(
            text.contains(&format!(
                "{label}: argument {n} is not valid UTF-8: \"/tmp/caf\u{fffd}\""
            )),
            "{label}:\n{text}"
        );
        assert!(!text.contains("panicked"), "{label}:\n{text}");
    }
}

/// A /dev/shm too small for the segment (a private 64 kB tmpfs, in a mount
/// namespace of its own): bgworkerd stops at start with PostgreSQL's FATAL
/// naming the segment, the size and the cause, leaves neither segment nor
/// pid file, and is not killed by SIGBUS; the same tmpfs holds a small
/// daemon, which runs. Needs root (mount namespaces).
#[test]
fn full_dev_shm_is_a_fatal_at_start_not_a_sigbus() {
    let _w = watchdog(DEFAULT_WATCHDOG, "full_dev_shm");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("full_dev_shm_is_a_fatal_at_start_not_a_sigbus: skipped (needs root for a mount namespace)");
        return;
    }
    let dir = Scratch::new("shm-full");
    let script = "mount -t tmpfs -o size=64k bgw-full-shm /dev/shm || exit 99; \
                  \"$0\" \"$@\"; rc=$?; echo \"left in /dev/shm: [$(ls -A /dev/shm)]\"; exit $rc";
    let daemon = bgworkerd_path();
    let run = |slots: &str, label: &str| {
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
            &format!("max_worker_processes={slots}"),
        ];
        Proc::spawn(Path::new("/usr/bin/unshare"), &args, &[], label)
    };
    let p = run("5000", "shm-full-big");
    let st = p.wait_exit(secs(20));
    let text = p.text();
    assert_eq!(st.code(), Some(1), "{}:\n{text}", describe_status(&st));
    assert!(
        text.contains("FATAL:  could not resize shared memory segment \"/bgworker.")
            && text.contains("bytes: No space left on device"),
        "{text}"
    );
    assert!(text.contains("left in /dev/shm: []"), "{text}");
    assert!(!dir.join("bgworkerd.pid").exists(), "pid file left behind");
    // The same small tmpfs holds a daemon with few slots.
    let p = run("8", "shm-full-small");
    p.wait_line("bgworkerd ready", secs(20));
    let pid = pid_in_rundir(&dir);
    // SAFETY: kill(2) of the daemon this test started (its pid file).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let st = p.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "{}:\n{}",
        describe_status(&st),
        p.text()
    );
    assert!(p.text().contains("left in /dev/shm: []"), "{}", p.text());
}

/// A segment left behind whose recorded supervisor pid now belongs to an
/// unrelated live process (pid reuse): attaching is refused, because no
/// live supervisor holds the segment's lock, and that process is never
/// signalled. (Before, attaching trusted any live pid, and registering then
/// sent SIGUSR1 to it, which killed it.)
#[test]
fn attach_to_a_leftover_segment_whose_pid_was_reused_is_refused() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_leftover_pid_reused");
    let (d, g1) = attach_daemon("attach-reused");
    let mut image = fs::read(d.segment_path().unwrap()).expect("read segment");
    let mut bystander = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let pid = bystander.id() as i32;
    // supervisor_pid is the i32 at offset 32 of the header.
    image[32..36].copy_from_slice(&pid.to_le_bytes());
    let name = format!("bgworker.badtest.{}.reused", std::process::id());
    let path = PathBuf::from("/dev/shm").join(&name);
    fs::write(&path, &image).unwrap();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    attach_refused(
        &d,
        &format!("/{name}"),
        &[&format!("(pid {pid})"), "is not running"],
    );
    let _ = fs::remove_file(&path);
    assert!(
        bystander.try_wait().expect("try_wait").is_none(),
        "the unrelated process was signalled"
    );
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert_still_running(&d, g1, "bad_good1");
    assert_daemon_healthy(&d);
}

/// Attached processes that name themselves as bgw_notify_pid cost the
/// supervisor a pidfd each while they live. With a small descriptor limit,
/// the descriptors of processes that have exited are swept before a new
/// one is refused: forty hosts one after another, under a limit that holds
/// only a dozen pidfds, are all notified (none is dropped as "not valid").
#[test]
fn notify_pidfds_of_exited_hosts_do_not_fill_the_descriptor_table() {
    let _w = watchdog(120, "notify_pidfds_low_nofile");
    let dir = Scratch::new("notify-nofile");
    let daemon = bgworkerd_path();
    let libdir = module();
    let args = [
        "--nofile=24",
        "--",
        daemon.to_str().unwrap(),
        "-D",
        dir.to_str().unwrap(),
        "-c",
        "log_min_messages=debug1",
        "-c",
        &format!(
            "dynamic_library_path={}",
            libdir.parent().unwrap().display()
        ),
    ];
    let d = Proc::spawn(
        Path::new("/usr/bin/prlimit"),
        &args,
        &[],
        "bgworkerd-nofile",
    );
    d.wait_line("bgworkerd ready", secs(20));
    for i in 0..40 {
        let h = bad_host("notify", dir.to_str().unwrap(), &["self"]);
        let st = h.wait_exit(secs(20));
        assert_eq!(
            st.code(),
            Some(0),
            "host {i}: {}\n{}",
            describe_status(&st),
            h.text()
        );
        assert!(
            h.text().contains("host: notify shutdown=STOPPED"),
            "host {i}: {}",
            h.text()
        );
    }
    let log = d.text();
    assert!(!log.contains("is not valid"), "{log}");
    assert!(!log.contains("ignored"), "{log}");
    let pid = pid_in_rundir(&dir);
    // SAFETY: kill(2) of the daemon this test started (its pid file).
    unsafe { libc::kill(pid, libc::SIGINT) };
    let st = d.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "{}:\n{}",
        describe_status(&st),
        d.text()
    );
}
