//! Custom wait events of PostgreSQL 17 and 18 (`WaitEventExtensionNew`,
//! `WaitEventInjectionPointNew`, `GetWaitEventCustomNames`): ids shared
//! between the supervisor's shmem_startup_hook and a worker, PostgreSQL's
//! ERRORs (a name of the other class, a long name, the limit). Compared
//! with the real server of each major (c-tests/compat/cx_waitev.c).

mod common;

use common::pg::{message_of, PgServer};
use common::*;

fn lines(v: Vec<String>) -> Vec<String> {
    v.iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("cxw "))
        .collect()
}

fn custom_wait_events_match_postgresql(major: u32) {
    let _w = watchdog(120, &format!("custom_wait_events {major}"));
    let m = pgxs_module_for("compat/cx_waitev.c", major);
    let d = Daemon::builder(&format!("cx_waitev_{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            m.parent().unwrap().to_str().unwrap(),
        )
        .start();
    d.wait_log("cxw done", secs(20));
    let pg = PgServer::start_major(major, "cx_waitev", &[&m], &[]);
    pg.wait_log("cxw done", secs(30));
    let ours = lines(d.log_lines());
    assert_eq!(ours, lines(pg.log_lines()), "ours vs PostgreSQL {major}");
    for needle in [
        "LOG:  cxw startup: cxw_startup=07000001",
        "LOG:  cxw startup again: 07000001",
        "LOG:  cxw a again: 07000002",
        "LOG:  cxw n121: 0700007f",
        "LOG:  cxw n122: ERROR too many custom wait events (54000)",
    ] {
        assert!(
            ours.iter().any(|l| l == needle),
            "missing {needle:?} in\n{}",
            ours.join("\n")
        );
    }
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0), "{}", d.log_text());
    pg.stop();
}

#[test]
fn custom_wait_events_match_postgresql_17() {
    custom_wait_events_match_postgresql(17)
}

#[test]
fn custom_wait_events_match_postgresql_18() {
    custom_wait_events_match_postgresql(18)
}
