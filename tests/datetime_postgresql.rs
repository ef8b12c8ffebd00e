//! `timestamp2tm`, `EncodeDateTime` (every DateStyle) and
//! `GetSQLCurrentTimestamp` from a worker, in three time zones, compared
//! with the real PostgreSQL 15 server (c-tests/compat/cx_datetime.c).

mod common;

use common::pg::{message_of, PgServer};
use common::*;

fn lines(v: Vec<String>) -> Vec<String> {
    v.iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("cxd "))
        .collect()
}

#[test]
fn timestamps_in_fields_and_text_match_postgresql() {
    let _w = watchdog(120, "timestamps_in_fields_and_text");
    let m = pgxs_module("compat/cx_datetime.c");
    let d = Daemon::builder("cx_datetime")
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            m.parent().unwrap().to_str().unwrap(),
        )
        .start();
    d.wait_log("cxd done", secs(20));
    let pg = PgServer::start("cx_datetime", &[&m], &[]);
    pg.wait_log("cxd done", secs(30));
    let ours = lines(d.log_lines());
    assert_eq!(ours, lines(pg.log_lines()), "ours vs PostgreSQL 15");
    assert!(ours.len() > 30, "{}", ours.join("\n"));
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0), "{}", d.log_text());
    pg.stop();
}
