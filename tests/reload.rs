//! SIGHUP re-reads RUNDIR/bgworker.conf: changed settings take effect and
//! are logged, settings that need a restart are reported and kept, `-c`
//! still wins over the file, and a broken file changes nothing.

mod common;
use common::*;

#[test]
fn sighup_rereads_the_configuration_file() {
    let _w = watchdog(60, "sighup_rereads_the_configuration_file");
    let d = Daemon::builder("reload")
        .conf_file("log_min_messages = log\nmax_worker_processes = 4\nmax_parallel_workers = 2\n")
        .set("restart_after_crash", "on")
        .start();
    let conf = d.rundir().join("bgworker.conf");
    assert!(d
        .wait_log("bgworkerd ready", secs(5))
        .contains("4 worker slots"));

    // A valid new file: log level and parallel budget change, the slot count
    // needs a restart, and the command line keeps restart_after_crash on.
    std::fs::write(
        &conf,
        "log_min_messages = debug1\nmax_worker_processes = 16\nmax_parallel_workers = 5\nrestart_after_crash = off\n",
    )
    .unwrap();
    let from = d.log_len();
    d.signal(libc::SIGHUP);
    d.wait_log_from(
        from,
        "received SIGHUP, reloading configuration files",
        secs(10),
    );
    d.wait_log_from(
        from,
        "parameter \"max_worker_processes\" cannot be changed without restarting the server",
        secs(10),
    );
    d.wait_log_from(
        from,
        "parameter \"max_parallel_workers\" changed to \"5\"",
        secs(10),
    );
    d.wait_log_from(
        from,
        "parameter \"log_min_messages\" changed to \"debug1\"",
        secs(10),
    );
    assert_eq!(
        d.count_log("parameter \"restart_after_crash\" changed"),
        0,
        "-c must win over the file"
    );

    // A broken file: reported, nothing applied (the level stays debug1).
    std::fs::write(
        &conf,
        "log_min_messages = warning\nmax_parallel_workers = = 3\n",
    )
    .unwrap();
    let from = d.log_len();
    d.signal(libc::SIGHUP);
    d.wait_log_from(from, "syntax error in file", secs(10));
    d.wait_log_from(from, "contains errors; no changes were applied", secs(10));
    assert_eq!(
        d.count_log("parameter \"log_min_messages\" changed to \"warning\""),
        0
    );

    // The slot count stayed 4: an attached host fills exactly 4 slots and
    // its 5th registration fails.
    let h = Proc::spawn(
        &host_program("lc_host.c"),
        &[
            "slots".to_string(),
            d.rundir().display().to_string(),
            pgxs_module("lc_workers.c").display().to_string(),
            "4".to_string(),
        ],
        &[],
        "lc_host-slots",
    );
    let l = h.wait_line("host: overflow ", secs(20));
    assert_eq!(
        field(&l, "ok").as_deref(),
        Some("0"),
        "a 5th worker registered after the reload asked for 16 slots: {l}"
    );
    let l = h.wait_line("step: full ", secs(5));
    assert_eq!(field(&l, "pids").unwrap().split(',').count(), 4, "{l}");
    h.signal(libc::SIGUSR2);
    h.wait_line("host: done", secs(20));
    assert_eq!(h.wait_exit(secs(10)).code(), Some(0), "{}", h.text());
    assert_eq!(h.count_lines("FAIL:"), 0, "{}", h.text());

    // The daemon carried on through both reloads and stops cleanly.
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
    d.wait_log("bgworkerd shut down", secs(5));
}

/// An invalid enum value in the file on SIGHUP: PostgreSQL's LOG with the
/// HINT listing the values, and the daemon carries on.
#[test]
fn sighup_with_an_invalid_log_level_names_the_values() {
    let _w = watchdog(60, "sighup_with_an_invalid_log_level_names_the_values");
    let d = Daemon::builder("reload-enum")
        .conf_file("log_min_messages = log\nmax_parallel_workers = 2\n")
        .start();
    let conf = d.rundir().join("bgworker.conf");
    std::fs::write(
        &conf,
        "log_min_messages = shouting\nmax_parallel_workers = 3\n",
    )
    .unwrap();
    let from = d.log_len();
    d.signal(libc::SIGHUP);
    let (i, l) = d.wait_log_from(
        from,
        "invalid value for parameter \"log_min_messages\": \"shouting\"",
        secs(10),
    );
    assert!(l.contains("LOG:  "), "{l}");
    let hint = d
        .log()
        .wait_match(i + 1, secs(5), |_| true)
        .map(|(_, l)| l)
        .unwrap_or_default();
    assert!(
        hint.contains("HINT:  Available values: debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic."),
        "{hint:?}"
    );
    d.wait_log_from(i, "contains errors;", secs(10));
    assert!(d.try_exit().is_none(), "{}", d.log_text());
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}
