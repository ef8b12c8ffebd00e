//! The export table (exports/bgworker.exports) and the generated rest of
//! PostgreSQL's surface (every name the real postgres binary of a
//! supported major exports that the table does not list) are what the
//! built artefacts export, no more and no less, per artefact:
//! - bgworkerd and libbgworker_pg.so (for hosts that load PostgreSQL
//!   modules): every layer, the whole surface;
//! - libbgworker.so, the plain library a C host links for the bgworker.h
//!   API: the core layer only (bgworker.h's names and `bgw_*`), none of
//!   PostgreSQL's thousands of names that could interpose on a host's own;
//!
//! and none exports anything else, apart from the internal halves of the
//! C shims (`bgw_rs_*`, `bgw_c_*`), which carry libbgworker's prefix.
//! A `#[no_mangle]` written in any spelling is caught here, whichever way
//! it went wrong.

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

fn generated() -> Vec<table::Generated> {
    table::generated(&repo_root().join("exports"), &rows()).expect("generated surface")
}

/// Every name the runtime exports: the table's rows and the generated rest.
fn surface() -> BTreeSet<String> {
    rows()
        .into_iter()
        .map(|r| r.name)
        .chain(generated().into_iter().map(|g| g.name))
        .collect()
}

/// The core rows: what the plain libbgworker.so exports.
fn plain() -> BTreeSet<String> {
    rows()
        .into_iter()
        .filter(|r| r.layer == table::Layer::Core)
        .map(|r| r.name)
        .collect()
}

fn check(what: &str, exported: &BTreeSet<String>, listed: BTreeSet<String>) {
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
    check(
        "bgworkerd",
        &defined_dynamic_symbols(&bgworkerd_path()),
        surface(),
    );
}

#[test]
fn libbgworker_pg_exports_exactly_the_table() {
    let _w = watchdog(60, "exports_lib_pg");
    check(
        "libbgworker_pg.so",
        &defined_dynamic_symbols(&libbgworker_pg_path()),
        surface(),
    );
}

/// The plain library exports bgworker.h's names and `bgw_*` only: no
/// `palloc`, no `strlcpy`, no `die`, nothing a host's own names or libc's
/// could be bound to instead.
#[test]
fn plain_libbgworker_exports_only_the_core() {
    let _w = watchdog(60, "exports_lib");
    let exported = defined_dynamic_symbols(&libbgworker_path());
    check("libbgworker.so", &exported, plain());
    assert!(exported.iter().all(|n| n.starts_with("bgw_")
        || rows()
            .iter()
            .any(|r| r.name == *n && r.layer == table::Layer::Core)));
    for n in [
        "palloc",
        "strlcpy",
        "die",
        "work_mem",
        "pg_set_noblock",
        "GetUserId",
    ] {
        assert!(!exported.contains(n), "libbgworker.so exports {n}");
    }
}

/// Variables are data and functions are code in both artefacts, as the
/// table says (a module that reads `MyBgworkerEntry` must find 8 bytes of
/// data, not a function).
#[test]
fn kinds_match_the_table() {
    let _w = watchdog(60, "exports_kinds");
    for file in [bgworkerd_path(), libbgworker_pg_path(), libbgworker_path()] {
        let plain = file == libbgworker_path();
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
        let all: Vec<(String, table::Kind)> = rows()
            .into_iter()
            .filter(|r| !plain || r.layer == table::Layer::Core)
            .map(|r| (r.name, r.kind))
            .chain(
                generated()
                    .into_iter()
                    .filter(|_| !plain)
                    .map(|g| (g.name, g.kind)),
            )
            .collect();
        for (name, kind) in all {
            let t = kinds.get(name.as_str()).copied().unwrap_or("?");
            let ok = match kind {
                table::Kind::Func => t == "T",
                table::Kind::Var => matches!(t, "B" | "D" | "R"),
            };
            assert!(
                ok,
                "{}: {name} is {kind:?} in the table but nm says {t}",
                file.display(),
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

/// The whole surface, per major: every symbol the real postgres binary of
/// each supported major exports (exports/pgMAJOR/postgres.symbols, for 15,
/// 17 and 18) is exported by bgworkerd and libbgworker_pg.so, with the
/// same kind, and every variable with at least its real size in that
/// major (a generated one with exactly the largest size any major gives
/// it). The only exceptions are the ones the symbol lists themselves leave
/// out with their reason (the linker's and C runtime's names,
/// copy-relocated data of other libraries) and libc replacements the
/// platform's libc already has; this test lists any other difference.
#[test]
fn bgworkerd_and_libbgworker_pg_export_every_symbol_of_each_major() {
    let _w = watchdog(60, "exports_surface");
    let gen: std::collections::BTreeMap<String, u64> =
        generated().into_iter().map(|g| (g.name, g.size)).collect();
    for &major in table::MAJORS {
        let dir = repo_root().join(format!("exports/pg{major}"));
        let text = std::fs::read_to_string(dir.join("postgres.symbols"))
            .unwrap_or_else(|e| panic!("exports/pg{major}/postgres.symbols: {e}"));
        let real = table::parse_pg_symbols(&text).expect("postgres.symbols");
        assert!(
            real.len() > 9000,
            "{major}: the symbol list looks truncated"
        );
        let libc: BTreeSet<String> = table::parse_libc_replacements(
            &std::fs::read_to_string(dir.join("port-common.symbols")).expect("port-common.symbols"),
        )
        .into_iter()
        .collect();
        for file in [bgworkerd_path(), libbgworker_pg_path()] {
            surface_matches(major, &file, &real, &libc, &gen);
        }
    }
}

fn surface_matches(
    major: u32,
    file: &std::path::Path,
    real: &[table::PgSymbol],
    libc: &BTreeSet<String>,
    gen: &std::collections::BTreeMap<String, u64>,
) {
    let out = std::process::Command::new("readelf")
        .args(["-W", "--dyn-syms"])
        .arg(file)
        .output()
        .expect("run readelf");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // NAME -> (TYPE, SIZE) of bgworkerd's defined dynamic symbols.
    let ours: std::collections::BTreeMap<&str, (&str, u64)> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[0].ends_with(':') && f[6] != "UND")
                .then(|| (f[7], (f[3], f[2].parse().unwrap_or(0))))
        })
        .collect();
    // The `postgres` rows' variables are PostgreSQL 15's libpgcommon data
    // (linked from its archive): the keyword tables of 17 and 18 are
    // longer (ScanKeywordBareLabel, ScanKeywordCategories), and a module
    // of those majors sees 15's keywords. The one explained exception.
    let pg15_data: BTreeSet<String> = rows()
        .into_iter()
        .filter(|r| r.provision == table::Provision::Postgres && r.kind == table::Kind::Var)
        .map(|r| r.name)
        .collect();
    let mut diff = Vec::new();
    for s in real.iter().filter(|s| !libc.contains(&s.name)) {
        let want = match s.kind {
            table::Kind::Func => "FUNC",
            table::Kind::Var => "OBJECT",
        };
        match ours.get(s.name.as_str()) {
            None => diff.push(format!("{}: not exported", s.name)),
            Some((t, _)) if *t != want => diff.push(format!("{}: {t}, PostgreSQL {want}", s.name)),
            Some((_, size))
                if s.kind == table::Kind::Var
                    && *size < s.size
                    && !(major != 15 && pg15_data.contains(&s.name)) =>
            {
                diff.push(format!("{}: {size} bytes, PostgreSQL {}", s.name, s.size))
            }
            Some((_, size))
                if s.kind == table::Kind::Var
                    && gen.get(&s.name).is_some_and(|&g| *size != g.max(1)) =>
            {
                diff.push(format!(
                    "{}: {size} bytes, the largest of the majors {}",
                    s.name, gen[&s.name]
                ))
            }
            Some(_) => {}
        }
    }
    assert!(
        diff.is_empty(),
        "{}: differences from PostgreSQL {major}:\n{}",
        file.display(),
        diff.join("\n")
    );
}

/// `bgworkerd --describe-symbol` describes every exported name (exit 0),
/// says which category each is in, and says a name is not exported (exit
/// 1) for anything else, such as a module's own `portnum`.
#[test]
fn describe_symbol_says_how_each_name_is_provided() {
    let _w = watchdog(60, "exports_describe");
    let run = |names: &[&str]| {
        let out = std::process::Command::new(bgworkerd_path())
            .arg("--describe-symbol")
            .args(names)
            .output()
            .expect("run bgworkerd --describe-symbol");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let all = surface();
    let names: Vec<&str> = all.iter().map(String::as_str).collect();
    let (code, text) = run(&names);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.lines().count(), names.len());
    assert!(!text.contains("not exported"));
    for (name, want) in [
        ("palloc", "palloc: implemented (function of PostgreSQL 15"),
        ("bgw_attach", "bgw_attach: implemented (function of libbgworker's own API"),
        ("GetUserId", "GetUserId: unavailable (function of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18): it needs the database server"),
        (
            "SPI_connect",
            "SPI_connect: unavailable (function of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18)",
        ),
        (
            "work_mem",
            "work_mem: storage (variable of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18, 4 bytes), initially the boot value of setting \"work_mem\", 4096",
        ),
        ("SPI_processed", "SPI_processed: storage (variable of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18, 8 bytes), initially zero"),
        // A function only 17 and 18 export, and a variable 18 made larger.
        (
            "WaitForWalSummarization",
            "WaitForWalSummarization: unavailable (function of PostgreSQL 17, PostgreSQL 18): it needs the database server",
        ),
        ("MyCancelKey", "MyCancelKey: storage (variable of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18, 32 bytes), initially zero"),
        (
            "pg_set_noblock",
            "pg_set_noblock: PostgreSQL's own code (function of PostgreSQL 15, PostgreSQL 17, PostgreSQL 18, from libpgport linked in)",
        ),
    ] {
        let (code, line) = run(&[name]);
        assert_eq!(code, Some(0));
        assert!(line.starts_with(want), "{line}");
    }
    let (code, line) = run(&["portnum", "palloc"]);
    assert_eq!(code, Some(1));
    assert!(line.starts_with("portnum: not exported"), "{line}");
    assert!(line.contains("\npalloc: implemented"), "{line}");
    let (code, _) = run(&[]);
    assert_eq!(code, Some(2));
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
