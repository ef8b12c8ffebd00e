//! c-tests/dsa_module.c under the real PostgreSQL servers (15, 17, 18)
//! and under bgworkerd running the same module built for the same major:
//! the "dsa:" lines (results, NULL/invalid returns, ERROR texts with their
//! DETAIL, the workers' counts) are the same.

mod common;

use common::pg::PgServer;
use common::*;

fn matches_for(major: u32) {
    let _w = watchdog(240, &format!("dsa vs postgresql {major}"));
    let m = pgxs_module_for("dsa_module.c", major);
    let theirs = {
        let s = PgServer::spawn_major(major, "dsa", &[&m], "", &[]);
        s.wait_ready();
        s.wait_log("dsa: done", secs(120));
        dsa_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("dsa-pg-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .start();
        d.wait_log("dsa: done", secs(120));
        dsa_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "dsa: done"), "{theirs:?}");
    assert_eq!(theirs.len(), ours.len(), "{theirs:?}");
    assert_eq!(ours, theirs, "bgworkerd vs PostgreSQL {major}");
}
per_major!(dsa_matches_postgresql, matches_for);
