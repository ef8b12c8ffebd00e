//! The checked-in lists of each served major's exported symbols
//! (exports/pgMAJOR/postgres.symbols and port-common.symbols, for 15, 17
//! and 18) are well-formed, and current with the real binary and libraries
//! when they are there (`make pg-symbols` regenerates them): 15's from
//! Debian's postgresql-15 and postgresql-server-dev-15, 17's and 18's from
//! what `make pg-servers pg-headers-17 pg-headers-18` unpacks under target/.
//!
//! Without those the currency checks say they were skipped and why; the
//! format checks always run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAJORS: [&str; 3] = ["15", "17", "18"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn list_path(major: &str, file: &str) -> PathBuf {
    root().join("exports").join(format!("pg{major}")).join(file)
}

fn read_list(major: &str, file: &str) -> String {
    let p = list_path(major, file);
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
fn generate(major: &str, file: &str, needs: &[&str], package: &str) -> Option<String> {
    for n in needs {
        if !Path::new(n).exists() {
            eprintln!("skipped: {n} is not installed (package {package}); cannot check that {file} is current");
            return None;
        }
    }
    let out = Command::new("bash")
        .arg(root().join("exports/pg-symbols.sh"))
        .args([major, "--print", file])
        .output()
        .expect("run bash exports/pg-symbols.sh");
    assert!(
        out.status.success(),
        "exports/pg-symbols.sh --print {file} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("generator output is UTF-8"))
}

fn assert_current(major: &str, file: &str, generated: &str) {
    let checked_in = read_list(major, file);
    if checked_in == generated {
        return;
    }
    let old: Vec<&str> = checked_in.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let gone: Vec<&&str> = old.iter().filter(|l| !new.contains(l)).take(20).collect();
    let added: Vec<&&str> = new.iter().filter(|l| !old.contains(l)).take(20).collect();
    panic!(
        "exports/pg{major}/{file} is out of date: run `make pg-symbols`\n\
         lines only in the checked-in file (first 20): {gone:#?}\n\
         lines only in the generated file (first 20): {added:#?}"
    );
}

#[test]
fn postgres_symbols_is_well_formed() {
    for major in MAJORS {
        well_formed(major);
    }
}

fn well_formed(major: &str) {
    let text = read_list(major, "postgres.symbols");
    assert!(
        text.lines().any(|l| l.starts_with("# package: ")),
        "{major}: no '# package: ...' line"
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
    // Known facts of PostgreSQL 15, 17 and 18 on every 64-bit build.
    assert_eq!(kinds.get("work_mem"), Some(&("V", "4")));
    assert_eq!(kinds.get("pg_set_noblock").map(|k| k.0), Some("F"));
    assert_eq!(
        kinds.get("RegisterBackgroundWorker").map(|k| k.0),
        Some("F")
    );
}

#[test]
fn port_common_symbols_are_postgres_exports() {
    for major in MAJORS {
        port_common_of(major);
    }
}

fn port_common_of(major: &str) {
    let exports = read_list(major, "postgres.symbols");
    let kinds: HashMap<&str, &str> = rows(&exports).into_iter().map(|r| (r[0], r[1])).collect();
    let text = read_list(major, "port-common.symbols");
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

/// The server binary, the directory of its libpgport/libpgcommon archives
/// and what provides them, per major (as exports/pg-symbols.sh reads them).
fn inputs(major: &str) -> (String, String, String) {
    if major == "15" {
        (
            format!("/usr/lib/postgresql/{major}/bin/postgres"),
            format!("/usr/lib/postgresql/{major}/lib"),
            format!("postgresql-{major} and postgresql-server-dev-{major}"),
        )
    } else {
        let r = root();
        (
            r.join(format!("target/pg-server/{major}/native/bin/postgres"))
                .display()
                .to_string(),
            r.join(format!("target/pg/{major}/usr/lib/postgresql/{major}/lib"))
                .display()
                .to_string(),
            format!("make pg-servers pg-headers-{major}"),
        )
    }
}

#[test]
fn postgres_symbols_is_current() {
    for major in MAJORS {
        let (bin, _, package) = inputs(major);
        if let Some(g) = generate(major, "postgres.symbols", &[&bin], &package) {
            assert_current(major, "postgres.symbols", &g);
        }
    }
}

#[test]
fn port_common_symbols_is_current() {
    for major in MAJORS {
        let (bin, lib, package) = inputs(major);
        let port = format!("{lib}/libpgport_shlib.a");
        let common = format!("{lib}/libpgcommon_shlib.a");
        if let Some(g) = generate(
            major,
            "port-common.symbols",
            &[&bin, &port, &common],
            &package,
        ) {
            assert_current(major, "port-common.symbols", &g);
        }
    }
}

/// exports/pg15/server.libraries (the shared libraries Debian's server
/// binary links, which the runtime makes visible to modules that use them
/// without linking them) is current.
#[test]
fn server_libraries_is_current() {
    let (bin, _, package) = inputs("15");
    if let Some(g) = generate("15", "server.libraries", &[&bin], &package) {
        assert_current("15", "server.libraries", &g);
    }
}

/// The list serves every major because Debian builds 15, 17 and 18 with
/// the same libraries: each major's server headers (Debian's
/// postgresql-server-dev-MAJOR) define the same USE_*/ENABLE_GSS/HAVE_LIBZ
/// build options as 15's.
#[test]
fn server_libraries_serve_every_major() {
    let options = |major: &str| -> Option<Vec<String>> {
        let h = if major == "15" {
            PathBuf::from("/usr/include/postgresql/15/server/pg_config.h")
        } else {
            root().join(format!(
                "target/pg/{major}/usr/include/postgresql/{major}/server/pg_config.h"
            ))
        };
        let text = std::fs::read_to_string(&h).ok()?;
        let mut v: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| {
                matches!(
                    *n,
                    "USE_OPENSSL"
                        | "USE_ZSTD"
                        | "USE_LZ4"
                        | "USE_LIBXML"
                        | "USE_ICU"
                        | "ENABLE_GSS"
                        | "USE_LDAP"
                        | "USE_PAM"
                        | "USE_SYSTEMD"
                        | "HAVE_LIBZ"
                )
            })
            .map(str::to_string)
            .collect();
        v.sort();
        Some(v)
    };
    let Some(fifteen) = options("15") else {
        eprintln!("skipped: PostgreSQL 15's server headers are not installed");
        return;
    };
    assert_eq!(fifteen.len(), 10, "{fifteen:?}");
    for major in ["17", "18"] {
        match options(major) {
            Some(o) => assert_eq!(o, fifteen, "{major}'s build options differ from 15's"),
            None => eprintln!(
                "skipped: {major}'s server headers are not there (make pg-headers-{major})"
            ),
        }
    }
}

/// exports/pgMAJOR/settings (PostgreSQL's built-in settings, from the real
/// server's pg_settings in a throw-away cluster) is current for each major
/// whose server is there (exports/pg-settings.sh; about a second each).
#[test]
fn settings_are_current_with_the_real_postgresql_servers() {
    for major in MAJORS {
        let (bin, _, package) = inputs(major);
        if !Path::new(&bin).exists() {
            eprintln!("skipped: {bin} is not there ({package}); cannot check that exports/pg{major}/settings is current");
            continue;
        }
        let out = Command::new("bash")
            .arg(root().join("exports/pg-settings.sh"))
            .args([major, "--print"])
            .output()
            .expect("run bash exports/pg-settings.sh");
        assert!(
            out.status.success(),
            "exports/pg-settings.sh {major} --print failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let generated = String::from_utf8(out.stdout).expect("UTF-8");
        assert_current(major, "settings", &generated);
        // Known facts of every major.
        let text = read_list(major, "settings");
        for want in [
            "work_mem\tinteger\tuser\tkB\t4096\t64\t2147483647\t",
            "application_name\tstring\tuser\t\t\t\t\t",
        ] {
            assert!(text.lines().any(|l| l == want), "{major}: no line {want:?}");
        }
    }
}
