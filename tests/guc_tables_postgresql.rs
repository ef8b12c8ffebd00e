//! c-tests/gt_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! PostgreSQL's settings table (get_guc_variables, its records of
//! built-in, custom and placeholder settings, a record's variable rebound
//! and the configuration re-applied to it, as pg_wait_sampling does) and
//! guc.c's small lookups give the same "gt:" lines, and the same
//! "parameter ... changed" lines for the rebound settings.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

/// What both are configured with.
const CONF: &str = "gt.int = 42\ngt.str = 'configured'\ngt.enum = green\ngtx.placeholder = 'ph'\n";

/// The "gt:" messages and the "parameter \"gt.…\" changed" ones, in order.
fn gt_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .filter(|m| m.starts_with("gt: ") || m.starts_with("parameter \"gt."))
        .collect()
}

fn matches_for(major: u32) {
    let _w = watchdog(240, &format!("guc tables vs postgresql {major}"));
    let m = pgxs_module_for("gt_module.c", major);
    let theirs = {
        let s = PgServer::spawn_major(major, "gt", &[&m], CONF, &[]);
        s.wait_ready();
        s.wait_log("gt: done", secs(120));
        gt_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("gt-pg-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .conf_file(CONF)
            .start();
        d.wait_log("gt: done", secs(120));
        gt_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "gt: done"), "{theirs:?}");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: bgworkerd vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\nvs\n{theirs:#?}");
}
per_major!(guc_tables_match_postgresql, matches_for);
