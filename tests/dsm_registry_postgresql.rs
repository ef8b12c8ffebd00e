//! c-tests/nd_module.c under the real PostgreSQL 17 and 18 servers and
//! under bgworkerd running the same module built for the same major:
//! named dynamic shared memory segments (GetNamedDSMSegment, 17 and
//! later), created once, found by name in a second worker, and their
//! ERRORs, give the same "nd:" lines.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

/// What both are configured with.
const CONF: &str = "";

/// The "nd:" messages, in order.
fn nd_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .filter(|m| m.starts_with("nd: "))
        .collect()
}

fn matches_for(major: u32) {
    let _w = watchdog(240, &format!("dsm registry vs postgresql {major}"));
    let m = pgxs_module_for("nd_module.c", major);
    let theirs = {
        let s = PgServer::spawn_major(major, "nd", &[&m], CONF, &[]);
        s.wait_ready();
        s.wait_log("nd: done", secs(120));
        nd_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("nd-pg-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .conf_file(CONF)
            .start();
        d.wait_log("nd: done", secs(120));
        nd_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "nd: done"), "{theirs:?}");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: bgworkerd vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\nvs\n{theirs:#?}");
}

// The registry exists from 17 on.
#[test]
fn dsm_registry_matches_postgresql_17() {
    matches_for(17)
}

#[test]
fn dsm_registry_matches_postgresql_18() {
    matches_for(18)
}
