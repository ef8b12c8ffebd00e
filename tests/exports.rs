//! The export table (exports/bgworker.exports) is what the built artefacts
//! export, no more and no less: bgworkerd exports every row to the modules
//! it loads, libbgworker.so exports every row (it carries the runtime too),
//! and neither exports a name the table does not list, apart from the
//! internal halves of the C shims (`bgw_rs_*`, `bgw_c_*`), which carry
//! libbgworker's prefix. A `#[no_mangle]` written in any spelling is
//! caught here, whichever way it went wrong.

mod common;

#[path = "../exports/table.rs"]
mod table;

use std::collections::BTreeSet;

use common::*;

fn rows() -> Vec<table::Row> {
    table::read(&repo_root().join("exports/bgworker.exports")).expect("export table")
}

fn internal(name: &str) -> bool {
    name.starts_with("bgw_rs_") || name.starts_with("bgw_c_")
}

fn check(what: &str, exported: &BTreeSet<String>) {
    let listed: BTreeSet<String> = rows().into_iter().map(|r| r.name).collect();
    let missing: Vec<&String> = listed.difference(exported).collect();
    let extra: Vec<&String> = exported
        .difference(&listed)
        .filter(|n| !internal(n))
        .collect();
    assert!(
        missing.is_empty(),
        "{what} does not export these rows of the export table: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "{what} exports names the export table does not list: {extra:?}"
    );
}

#[test]
fn bgworkerd_exports_exactly_the_table() {
    let _w = watchdog(60, "exports_bgworkerd");
    check("bgworkerd", &defined_dynamic_symbols(&bgworkerd_path()));
}

#[test]
fn libbgworker_exports_exactly_the_table() {
    let _w = watchdog(60, "exports_lib");
    check(
        "libbgworker.so",
        &defined_dynamic_symbols(&libbgworker_path()),
    );
}

/// Variables are data and functions are code in both artefacts, as the
/// table says (a module that reads `MyBgworkerEntry` must find 8 bytes of
/// data, not a function).
#[test]
fn kinds_match_the_table() {
    let _w = watchdog(60, "exports_kinds");
    for file in [bgworkerd_path(), libbgworker_path()] {
        let out = std::process::Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(&file)
            .output()
            .expect("run nm");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let kinds: std::collections::BTreeMap<&str, &str> = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() == 3).then(|| (f[2], f[1]))
            })
            .collect();
        for r in rows() {
            let t = kinds.get(r.name.as_str()).copied().unwrap_or("?");
            let ok = match r.kind {
                table::Kind::Func => t == "T",
                table::Kind::Var => matches!(t, "B" | "D" | "R"),
            };
            assert!(
                ok,
                "{}: {} is {:?} in the table but nm says {t}",
                file.display(),
                r.name,
                r.kind
            );
        }
    }
}

/// The table's own rules, and that a broken table is refused with the
/// line named (the build scripts use the same reader).
#[test]
fn table_reader_names_the_bad_line() {
    let good = "# c\nfoo func 15 implemented pgrt\nbgw_x func - implemented core\n";
    assert_eq!(table::parse(good).unwrap().len(), 2);
    for (text, what) in [
        ("foo func 15 implemented\n", "expected 5 columns"),
        ("foo fn 15 implemented pgrt\n", "kind is func or var"),
        ("foo func 15 somehow pgrt\n", "provision"),
        ("foo func x implemented pgrt\n", "majors"),
        ("foo func - implemented pgrt\n", "bgw_*"),
        ("bgw_y func 15 implemented core\n", "bgw_*"),
        (
            "foo func 15 implemented pgrt\nfoo var 15 implemented pgrt\n",
            "listed twice",
        ),
        ("1foo func 15 implemented pgrt\n", "C identifier"),
        ("foo func 15 implemented elsewhere\n", "layer"),
    ] {
        let e = table::parse(text).expect_err(text);
        assert!(e.contains(what) && e.contains("line "), "{text:?}: {e}");
    }
}

/// Every row that says PostgreSQL 15 exports it is in the real PostgreSQL
/// 15 server's dynamic symbol table (exports/pg15/postgres.symbols,
/// generated from the real binary), with the same kind: no plain name of
/// ours can interpose on a module's own symbol of that name, and a row's
/// majors are a fact, not a guess.
#[test]
fn postgresql_rows_are_real_postgresql_15_exports() {
    let text = std::fs::read_to_string(repo_root().join("exports/pg15/postgres.symbols"))
        .expect("exports/pg15/postgres.symbols");
    let real: std::collections::BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.next()?))
        })
        .collect();
    assert!(
        real.len() > 9000,
        "the PostgreSQL 15 symbol list looks truncated"
    );
    let mut bad = Vec::new();
    for r in rows().iter().filter(|r| r.majors.contains(&15)) {
        let want = match r.kind {
            table::Kind::Func => "F",
            table::Kind::Var => "V",
        };
        match real.get(r.name.as_str()) {
            None => bad.push(format!("{}: not exported by PostgreSQL 15", r.name)),
            Some(k) if *k != want => bad.push(format!(
                "{}: PostgreSQL 15 has kind {k}, the table {want}",
                r.name
            )),
            Some(_) => {}
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The dynamic symbols (name, nm type letter) the real PostgreSQL `major`
/// server binary defines (17 and 18: the servers `make pg-servers` unpacks).
fn server_symbols(major: u32) -> std::collections::BTreeMap<String, char> {
    let bin = repo_root()
        .join("target/pg-server")
        .join(major.to_string())
        .join("native/bin/postgres");
    assert!(
        bin.exists(),
        "PostgreSQL {major} server missing under target/pg-server: run 'make pg-servers'"
    );
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&bin)
        .output()
        .expect("run nm");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (kind, name) = (f.get(1)?, f.get(2)?);
            Some((name.split('@').next()?.to_string(), kind.chars().next()?))
        })
        .collect()
}

/// The majors column for 17 and 18 is the real servers': a row names 17
/// (18) exactly when PostgreSQL 17's (18's) postgres binary exports the
/// name, as a function for `func` rows and as data for `var` rows.
#[test]
fn majors_column_matches_the_real_17_and_18_servers() {
    let rows = rows();
    for major in [17u32, 18] {
        let syms = server_symbols(major);
        assert!(syms.len() > 5000, "{major}: only {} symbols", syms.len());
        for r in rows.iter().filter(|r| !r.majors.is_empty()) {
            let listed = r.majors.contains(&major);
            let kind = syms.get(&r.name);
            assert_eq!(
                listed,
                kind.is_some(),
                "{}: the table says {} for PostgreSQL {major}, its server {}",
                r.name,
                if listed { "exported" } else { "absent" },
                if kind.is_some() {
                    "exports it"
                } else {
                    "does not"
                }
            );
            if let Some(&k) = kind {
                let func = matches!(k, 'T' | 't' | 'W' | 'i');
                assert_eq!(
                    func,
                    r.kind == table::Kind::Func,
                    "{}: kind {k} in PostgreSQL {major}'s server",
                    r.name
                );
            }
        }
    }
}
