//! c-tests/gm_module.c under the real PostgreSQL 17 and 18 servers and
//! under bgworkerd running the same module built for the same major:
//! guc.c's allocation functions (guc_malloc, guc_realloc, guc_strdup,
//! guc_free; 16 and later), in settings' check hooks and called directly,
//! give the same "gm:" lines, ERRORs included.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

/// What both are configured with.
const CONF: &str = "gm.scale = 3\ngm.name = 'hello'\n";

/// The "gm:" messages, in order.
fn gm_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .filter(|m| m.starts_with("gm: "))
        .collect()
}

fn matches_for(major: u32) {
    let _w = watchdog(240, &format!("guc memory vs postgresql {major}"));
    let m = pgxs_module_for("gm_module.c", major);
    let theirs = {
        let s = PgServer::spawn_major(major, "gm", &[&m], CONF, &[]);
        s.wait_ready();
        s.wait_log("gm: done", secs(120));
        gm_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("gm-pg-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .conf_file(CONF)
            .start();
        d.wait_log("gm: done", secs(120));
        gm_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "gm: done"), "{theirs:?}");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: bgworkerd vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\nvs\n{theirs:#?}");
}

// guc.c's allocation functions are static in 15: only 17 and 18 have them.
#[test]
fn guc_memory_matches_postgresql_17() {
    matches_for(17)
}

#[test]
fn guc_memory_matches_postgresql_18() {
    matches_for(18)
}
