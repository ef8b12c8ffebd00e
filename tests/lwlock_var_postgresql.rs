//! c-tests/lv_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! LWLockAcquireOrWait and a lock's variable (LWLockWaitForVar woken by
//! LWLockUpdateVar and by LWLockReleaseClearVar, and at once when the
//! variable differs or the lock is free) give the same "lv:" lines.

mod common;

use common::pg::{message_of, PgServer};
use common::*;

fn lv_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .filter(|m| m.starts_with("lv: "))
        .collect()
}

fn matches_for(major: u32) {
    let _w = watchdog(240, &format!("lwlock variables vs postgresql {major}"));
    let m = pgxs_module_for("lv_module.c", major);
    let theirs = {
        let s = PgServer::spawn_major(major, "lv", &[&m], "", &[]);
        s.wait_ready();
        s.wait_log("lv: done", secs(120));
        lv_lines(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("lv-pg-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .start();
        d.wait_log("lv: done", secs(120));
        lv_lines(&d.log_lines())
    };
    assert!(theirs.iter().any(|l| l == "lv: done"), "{theirs:?}");
    assert_eq!(ours, theirs, "bgworkerd vs PostgreSQL {major}");
}
per_major!(lwlock_variables_match_postgresql, matches_for);
