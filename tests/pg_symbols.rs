//! The checked-in lists of PostgreSQL 15's exported symbols
//! (exports/pg15/postgres.symbols, exports/pg15/port-common.symbols) are
//! well-formed, and current with the real binary and libraries when they are
//! installed (`make pg-symbols` regenerates them).
//!
//! Without the PostgreSQL 15 server (postgresql-15) or its server
//! development package (postgresql-server-dev-15) the currency checks say
//! they were skipped and why; the format checks always run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAJOR: &str = "15";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn list_path(file: &str) -> PathBuf {
    root().join("exports").join(format!("pg{MAJOR}")).join(file)
}

fn read_list(file: &str) -> String {
    let p = list_path(file);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make pg-symbols`)", p.display()))
}

/// Data lines (not comments), split into whitespace-separated fields.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').collect())
        .collect()
}

/// What exports/pg-symbols.sh generates now for `file`, or None (with the
/// reason printed) when an input it needs is not installed.
fn generate(file: &str, needs: &[&str], package: &str) -> Option<String> {
    for n in needs {
        if !Path::new(n).exists() {
            eprintln!("skipped: {n} is not installed (package {package}); cannot check that {file} is current");
            return None;
        }
    }
    let out = Command::new("bash")
        .arg(root().join("exports/pg-symbols.sh"))
        .args([MAJOR, "--print", file])
        .output()
        .expect("run bash exports/pg-symbols.sh");
    assert!(
        out.status.success(),
        "exports/pg-symbols.sh --print {file} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("generator output is UTF-8"))
}

fn assert_current(file: &str, generated: &str) {
    let checked_in = read_list(file);
    if checked_in == generated {
        return;
    }
    let old: Vec<&str> = checked_in.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let gone: Vec<&&str> = old.iter().filter(|l| !new.contains(l)).take(20).collect();
    let added: Vec<&&str> = new.iter().filter(|l| !old.contains(l)).take(20).collect();
    panic!(
        "exports/pg{MAJOR}/{file} is out of date: run `make pg-symbols`\n\
         lines only in the checked-in file (first 20): {gone:#?}\n\
         lines only in the generated file (first 20): {added:#?}"
    );
}

#[test]
fn postgres_symbols_is_well_formed() {
    let text = read_list("postgres.symbols");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("# package: postgresql-{MAJOR} "))),
        "no '# package: postgresql-{MAJOR} VERSION' line"
    );
    let rows = rows(&text);
    assert!(rows.len() > 10_000, "only {} symbols", rows.len());
    for r in &rows {
        assert_eq!(r.len(), 3, "not NAME KIND SIZE: {r:?}");
        assert!(r[1] == "F" || r[1] == "V", "KIND is not F or V: {r:?}");
        assert!(r[2].parse::<u64>().is_ok(), "SIZE is not a number: {r:?}");
        assert!(!r[0].contains('@'), "versioned name: {r:?}");
    }
    for w in rows.windows(2) {
        assert!(
            w[0][0].as_bytes() < w[1][0].as_bytes(),
            "not sorted or not unique: {} then {}",
            w[0][0],
            w[1][0]
        );
    }
    let kinds: HashMap<&str, (&str, &str)> = rows.iter().map(|r| (r[0], (r[1], r[2]))).collect();
    for linker in [
        "main",
        "_start",
        "_end",
        "_edata",
        "__bss_start",
        "_IO_stdin_used",
    ] {
        assert!(!kinds.contains_key(linker), "linker name {linker} listed");
    }
    // Known facts of PostgreSQL 15 on every 64-bit build.
    assert_eq!(kinds.get("work_mem"), Some(&("V", "4")));
    assert_eq!(kinds.get("pg_set_noblock").map(|k| k.0), Some("F"));
    assert_eq!(
        kinds.get("RegisterBackgroundWorker").map(|k| k.0),
        Some("F")
    );
}

#[test]
fn port_common_symbols_are_postgres_exports() {
    let exports = read_list("postgres.symbols");
    let kinds: HashMap<&str, &str> = rows(&exports).into_iter().map(|r| (r[0], r[1])).collect();
    let text = read_list("port-common.symbols");
    let rows = rows(&text);
    assert!(!rows.is_empty(), "port-common.symbols lists nothing");
    for r in &rows {
        assert_eq!(r.len(), 5, "not NAME KIND LIBRARY OBJECT LIBC: {r:?}");
        assert_eq!(
            kinds.get(r[0]),
            Some(&r[1]),
            "{r:?} is not in postgres.symbols with that kind"
        );
        assert!(
            matches!(r[2], "pgport" | "pgcommon" | "-"),
            "LIBRARY: {r:?}"
        );
        assert!(matches!(r[4], "libc" | "-"), "LIBC: {r:?}");
    }
    assert!(rows
        .iter()
        .any(|r| r[0] == "pg_set_noblock" && r[2] == "pgport"));
}

#[test]
fn postgres_symbols_is_current() {
    let bin = format!("/usr/lib/postgresql/{MAJOR}/bin/postgres");
    if let Some(g) = generate("postgres.symbols", &[&bin], &format!("postgresql-{MAJOR}")) {
        assert_current("postgres.symbols", &g);
    }
}

#[test]
fn port_common_symbols_is_current() {
    let lib = format!("/usr/lib/postgresql/{MAJOR}/lib");
    let bin = format!("/usr/lib/postgresql/{MAJOR}/bin/postgres");
    let port = format!("{lib}/libpgport_shlib.a");
    let common = format!("{lib}/libpgcommon_shlib.a");
    if let Some(g) = generate(
        "port-common.symbols",
        &[&bin, &port, &common],
        &format!("postgresql-{MAJOR} and postgresql-server-dev-{MAJOR}"),
    ) {
        assert_current("port-common.symbols", &g);
    }
}
