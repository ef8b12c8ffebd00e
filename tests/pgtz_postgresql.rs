//! PostgreSQL's time zone library and the TimeZone / log_timezone hooks
//! from a worker (c-tests/compat/cx_pgtz.c), compared line by line with
//! the real PostgreSQL 15, 17 and 18 servers running the same module:
//! zones by name, offset and TZ string, fields and pg_strftime around DST transitions and
//! far from now, DST boundaries, abbreviations, bad names and values with
//! PostgreSQL's messages, a module setting with the hooks, and the zones
//! the configuration gives at start and after a reload.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

const START_CONF: &str = "TimeZone = 'Europe/Berlin'\nlog_timezone = 'Asia/Kolkata'\n";
const RELOAD_CONF: &str = "TimeZone = 'america/new_york'\nlog_timezone = '<+0530>-05:30'\n";

fn lines(v: Vec<String>) -> Vec<String> {
    v.iter()
        .map(|l| message_of(l))
        .filter_map(|m| m.find("LOG:  cxz ").map(|i| m[i + 6..].to_string()))
        .collect()
}

/// The lines of the INTERVAL check apart from the rest.
fn interval_apart(v: Vec<String>) -> (Vec<String>, Vec<String>) {
    let (i, rest): (Vec<String>, Vec<String>) = v
        .into_iter()
        .partition(|l| l.starts_with("cxz check_timezone(interval"));
    (rest, i)
}

/// Lines about zones whose data differ between this machine's zone files
/// (which Debian's PostgreSQL reads, and so does this library) and the
/// copy the PostgreSQL 17 and 18 servers under target/pg-server carry
/// (built without --with-system-tzdata, from a newer tzdata release, in
/// which EST5EDT is America/New_York, and without the right/ zones).
fn data_differs(major: u32, line: &str) -> bool {
    major != 15 && (line.contains("EST5EDT") || line.contains("right/UTC"))
}

fn time_zones_match_postgresql(major: u32) {
    let _w = watchdog(180, &format!("time_zones_match_postgresql {major}"));
    let m = pgxs_module_for("compat/cx_pgtz.c", major);
    let d = Daemon::builder(&format!("cx_pgtz_{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            m.parent().unwrap().to_str().unwrap(),
        )
        .conf_file(START_CONF)
        .start();
    let pg = PgServer::start_with_conf_major(major, "cx_pgtz", &[&m], START_CONF);
    d.wait_log("cxz waiting for reload", secs(30));
    pg.wait_log("cxz waiting for reload", secs(60));

    std::fs::write(d.rundir().join("bgworker.conf"), RELOAD_CONF).expect("write bgworker.conf");
    d.signal(libc::SIGHUP);
    pg.rewrite_extra_conf(RELOAD_CONF);
    pg.signal(libc::SIGHUP);
    d.wait_log("cxz done", secs(30));
    pg.wait_log("cxz done", secs(30));

    let keep = |v: Vec<String>| -> Vec<String> {
        v.into_iter().filter(|l| !data_differs(major, l)).collect()
    };
    let (ours, our_interval) = interval_apart(keep(lines(d.log_lines())));
    let (theirs, their_interval) = interval_apart(keep(lines(pg.log_lines())));
    // The INTERVAL form needs PostgreSQL's interval parser: refused here
    // with a detail that says so, accepted by PostgreSQL.
    assert_eq!(
        our_interval,
        [
            "cxz check_timezone(interval '+05:00'): 0 extra=NULL zone=- msg=(null) \
          detail=The INTERVAL form of a time zone is not available in libbgworker. hint=(null)"
        ]
    );
    assert_eq!(
        their_interval,
        ["cxz check_timezone(interval '+05:00'): 1 extra=set zone=<+05>-05 msg=(null) detail=(null) hint=(null)"]
    );
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: ours vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "{}", ours.join("\n"));
    assert!(ours.len() > 400, "{}", ours.join("\n"));
    // The bad names and values were refused, and everything after still ran.
    assert!(ours.iter().any(|l| l == "cxz bad No/Such_Zone: NULL"));
    assert!(ours
        .iter()
        .any(|l| l.starts_with("cxz reloaded: TimeZone=america/new_york show=America/New_York")));
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0), "{}", d.log_text());
    pg.stop();
}

#[test]
fn time_zones_match_postgresql_15() {
    time_zones_match_postgresql(15)
}

#[test]
fn time_zones_match_postgresql_17() {
    time_zones_match_postgresql(17)
}

#[test]
fn time_zones_match_postgresql_18() {
    time_zones_match_postgresql(18)
}
