//! Modules that use a library PostgreSQL's server links (zstd, OpenSSL,
//! LZ4, zlib, libxml2) without linking it load under bgworkerd as under
//! the server (crates/pgrt/src/server_libraries.rs): c-tests/sl_module.c
//! gives the same "sl:" lines under the real PostgreSQL 15 server (Debian's
//! build, whose DT_NEEDED list exports/pg15/server.libraries is) and under
//! bgworkerd, built for 15, 17 and 18. A symbol no library defines still
//! stops start-up with the dynamic linker's message, after the server's
//! libraries were tried, and nothing is left behind.

mod common;

use common::pg::message_of;
use common::*;

/// The "sl:" lines of sl_module.c built for `major`, under bgworkerd.
fn ours(major: u32) -> Vec<String> {
    let m = pgxs_module_for("sl_module.c", major);
    let d = Daemon::builder(&format!("sl-{major}"))
        .preload(&[&m])
        .start();
    d.wait_log("sl: done", secs(30));
    d.log_lines()
        .iter()
        .map(|l| message_of(l))
        .filter_map(|m| m.strip_prefix("LOG:  ").map(str::to_string))
        .filter(|m| m.starts_with("sl: "))
        .collect()
}

#[test]
fn server_libraries_match_postgresql_15() {
    module_matches_postgresql(15, "sl_module.c", "sl:", "", &[]);
}

/// Modules built for 17 and 18 (Debian builds them against servers
/// configured as 15's) find the same libraries.
#[test]
fn server_libraries_for_17_and_18() {
    let _w = watchdog(120, "server libraries 17 18");
    let fifteen = ours(15);
    assert_eq!(
        fifteen.last().map(String::as_str),
        Some("sl: done"),
        "{fifteen:?}"
    );
    assert_eq!(fifteen.len(), 6, "{fifteen:?}");
    for major in [17, 18] {
        assert_eq!(ours(major), fifteen, "built for {major}");
    }
}

/// A symbol that no library defines: the same FATAL as PostgreSQL's (the
/// module's path aside), after the runtime tried the server's libraries
/// (its DEBUG1 lines); bgworkerd exits 1 and leaves nothing behind.
#[test]
fn undefined_symbol_stops_as_in_postgresql() {
    let _w = watchdog(120, "server libraries nowhere");
    let m = pgxs_module("sl_nowhere.c");
    let fatal = |lines: &[String]| -> String {
        let line = lines
            .iter()
            .map(|l| message_of(l))
            .find(|m| m.starts_with("FATAL:  could not load library"))
            .unwrap_or_else(|| panic!("no FATAL in {lines:#?}"));
        // "could not load library "P": P: undefined symbol: S" -> without P
        let path_end = line.find("\": ").expect("quoted path");
        let rest = &line[path_end + 3..];
        let reason = &rest[rest.find(": ").expect("dlerror's path") + 2..];
        format!("could not load library: {reason}")
    };
    let theirs = {
        let s = pg::PgServer::spawn_major(15, "slnowhere", &[&m], "", &[]);
        assert!(!s.wait_exit(secs(60)).success());
        fatal(&s.log_lines())
    };
    let d = Daemon::builder("sl-nowhere")
        .preload(&[&m])
        .set("log_min_messages", "debug1")
        .spawn();
    let st = d.wait_exit(secs(30));
    assert_eq!(st.code(), Some(1), "{}", d.log_text());
    assert_eq!(fatal(&d.log_lines()), theirs);
    assert_eq!(
        theirs,
        "could not load library: undefined symbol: sl_defined_nowhere"
    );
    assert_eq!(
        d.count_log("DEBUG:  server library \"libssl.so.3\" made visible to modules"),
        1,
        "{}",
        d.log_text()
    );
    assert!(!d.log_text().contains("sl: nowhere"));
    assert!(!d.pid_file().exists(), "pid file left behind");
    assert!(!d.log_text().contains("bgworkerd ready"));
}
