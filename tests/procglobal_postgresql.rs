//! ProcGlobal, the shared process array's header (crates/pgrt/src/
//! procglobal.rs): c-tests/pgp_module.c walks it under the real PostgreSQL
//! servers (15, 17, 18) and under bgworkerd running the same module built
//! for the same major, with the same "pgp:" lines: its own entry at its
//! process number, no transaction id or flags, the group heads empty, a
//! live sibling found, and (17, 18) gone once stopped. Under bgworkerd, in
//! every major, a stopped sibling is gone (PostgreSQL 15 leaves its pid in
//! the free entry), and so is a sibling that leaves with _exit(1), without
//! a clean-up of its own: the supervisor clears its entry when it reaps it.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "pgp_module.c", "pgp:", "", &[]);
}
per_major!(proc_global_matches_postgresql, matches_for);

#[test]
fn reaped_worker_leaves_the_array() {
    let _w = watchdog(120, "procglobal quitter");
    for major in [15, 17, 18] {
        let m = pgxs_module_for("pgp_module.c", major);
        let d = Daemon::builder(&format!("pgp-quit-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .set("pgp.quitter", "on")
            .start();
        d.wait_log("pgp: done", secs(60));
        assert_eq!(d.count_log("pgp: stopped sibling gone yes"), 1, "{major}");
        assert_eq!(
            d.count_log("pgp: sibling that skipped its clean-up gone yes"),
            1,
            "{major}: {}",
            d.log_text()
        );
        let noes: Vec<String> = d
            .log_lines()
            .into_iter()
            .filter(|l| l.contains("pgp:") && (l.contains(" no,") || l.ends_with(" no")))
            .collect();
        assert!(noes.is_empty(), "{major}: {noes:#?}");
    }
}
