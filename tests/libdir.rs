//! `$libdir/NAME` in a module's own load calls (plpgsql_check loads
//! "$libdir/plpgsql"): a library that bgworkerd's library directory lacks
//! is looked for in the directories dynamic_library_path names; a name
//! found nowhere is still PostgreSQL's "could not access file" ERROR.

mod common;

use common::*;

#[test]
fn libdir_names_fall_back_to_dynamic_library_path() {
    let _w = watchdog(120, "libdir fallback");
    let target = pgxs_module("ld_target.c");
    let m = pgxs_module("ld_module.c");
    assert_eq!(target.parent(), m.parent());
    let d = Daemon::builder("libdir")
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &format!("$libdir:{}", m.parent().unwrap().display()),
        )
        .start();
    d.wait_log("bgworkerd ready", secs(60));
    let log = d.log_lines().join("\n");
    assert!(
        log.contains("ld: ld_target says: found through dynamic_library_path"),
        "{log}"
    );
    assert!(
        log.contains(
            "ld: ld_nowhere: ERROR could not access file \"$libdir/ld_nowhere\": No such file or directory"
        ),
        "{log}"
    );
}
