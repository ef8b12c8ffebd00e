//! c-tests/r18_module.c under the real PostgreSQL 18 server and under
//! bgworkerd running the same module built for 18: the registrations of
//! 18 that modules make in _PG_init (pgstat_register_kind,
//! GetExplainExtensionId, RegisterExtensionExplainOption) give the same
//! "r18:" lines, ERRORs included, and the same "registered custom
//! cumulative statistics" LOG lines.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

/// The "r18:" messages and PostgreSQL's LOG lines of registered kinds.
fn r18_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .filter(|m| {
            m.starts_with("r18: ") || m.starts_with("registered custom cumulative statistics")
        })
        .collect()
}

// These registrations exist from 18 on.
#[test]
fn registrations_match_postgresql_18() {
    let _w = watchdog(240, "18 registrations vs postgresql 18");
    let m = pgxs_module_for("r18_module.c", 18);
    let theirs = {
        let s = PgServer::spawn_major(18, "r18", &[&m], "", &[]);
        s.wait_ready();
        s.wait_log("r18: done", secs(120));
        r18_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder("r18-pg-18")
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .start();
        d.wait_log("r18: done", secs(120));
        r18_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "r18: done"), "{theirs:?}");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: bgworkerd vs PostgreSQL 18");
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\nvs\n{theirs:#?}");
}
