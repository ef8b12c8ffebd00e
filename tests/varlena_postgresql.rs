//! The helpers modules call most, without a database: text and
//! detoasting, fmgr's direct calls, quote_identifier, arrays, the
//! session's encodings and timestamps (c-tests/compat/cx_varlena.c), run
//! under bgworkerd and under the real PostgreSQL 15, 17 and 18 servers,
//! every "cxv" line compared. The "cxv own" lines (an on-disk TOAST
//! pointer, which only bgworkerd is shown) are checked on their own, and
//! so is the FATAL of an array iteration that needs the catalog. LZ4:
//! a reference server built without it (target/pg-server's 17 and 18)
//! gives PostgreSQL's ERROR for it; its lz4 lines are then left out of the
//! comparison, and bgworkerd's checked against its pglz lines (the same
//! text, compressed either way).

mod common;

use common::pg::{message_of, PgServer};
use common::*;

fn lines(v: Vec<String>) -> Vec<String> {
    v.iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("cxv ") && !m.contains("cxv own"))
        .collect()
}

fn helpers_match_postgresql(major: u32) {
    let _w = watchdog(120, &format!("varlena helpers {major}"));
    let m = pgxs_module_for("compat/cx_varlena.c", major);
    let d = Daemon::builder(&format!("cx_varlena_{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            m.parent().unwrap().to_str().unwrap(),
        )
        .start();
    d.wait_log("cxv done", secs(20));
    let pg = PgServer::start_major(major, "cx_varlena", &[&m], &[]);
    pg.wait_log("cxv done", secs(30));
    let mut ours = lines(d.log_lines());
    let mut theirs = lines(pg.log_lines());
    let value_of = |v: &[String], what: &str| -> String {
        let prefix = format!("LOG:  cxv {what}: ");
        v.iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {what:?} line in\n{}", v.join("\n")))
            .to_string()
    };
    if !ours.iter().any(|l| l == "LOG:  cxv lz4: no liblz4 here") {
        assert_eq!(
            value_of(&ours, "pg_detoast_datum lz4"),
            value_of(&ours, "pg_detoast_datum pglz")
        );
        assert_eq!(
            value_of(&ours, "slice lz4 3 5"),
            value_of(&ours, "slice pglz 3 5")
        );
    }
    if value_of(&theirs, "pg_detoast_datum lz4").contains("lz4 not supported") {
        ours.retain(|l| !l.contains(" lz4"));
        theirs.retain(|l| !l.contains(" lz4"));
    }
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: ours vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "ours vs PostgreSQL {major}");
    assert!(ours.len() > 150, "{}", ours.join("\n"));
    let own: Vec<String> = d
        .log_lines()
        .iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("cxv own"))
        .collect();
    let ondisk = "ERROR an out-of-line (TOAST) value cannot be read here: it needs the database server, which is not available in libbgworker (0A000)";
    for what in ["ondisk", "ondisk text", "ondisk slice", "ondisk external"] {
        let want = format!("LOG:  cxv own {what}: {ondisk}");
        assert!(
            own.contains(&want),
            "missing {want:?} in\n{}",
            own.join("\n")
        );
    }
    assert!(own.iter().any(|l| l.ends_with("cxv own ondisk done")));
    // An iteration without the element type's properties needs the catalog.
    d.wait_log(
        "FATAL:  background worker \"cxv\": get_typlenbyvalalign needs the database server",
        secs(10),
    );
    assert_eq!(d.count_log("cxv own not reached"), 0);
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0), "{}", d.log_text());
    pg.stop();
}

per_major!(helpers_match_postgresql_in, helpers_match_postgresql);
