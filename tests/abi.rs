//! include/bgworker.h and libbgworker against PostgreSQL's own
//! postmaster/bgworker.h.
//!
//! * ABI check ([`abi_check`]): the names to compare are read from the real
//!   header (every struct field, enum constant, integer `#define` and extern
//!   declaration), c-tests/abi/abi_facts.c is compiled once against the real
//!   header and once against the candidate and the printed facts (offsets,
//!   sizes, alignments, signedness, values) must be equal line for line;
//!   c-tests/abi/abi_protos.c assigns every function and variable to a pointer
//!   of PostgreSQL's prototype type and must compile with -Werror against
//!   both; the candidate must compile on its own, included twice.
//! * Link check ([`link_check`]): c-tests/abi/link_refs.c, built like a
//!   module against the real header, must link with `-Wl,--no-undefined`
//!   against the library (as a shared object and as an executable), every
//!   function must be exported as a function and every variable as
//!   writable data of pointer size, and the executable must run with
//!   `LD_BIND_NOW=1`, writing MyBgworkerEntry and reading it back.
//!
//! Both take the server include directory and the PostgreSQL major it must
//! belong to, so the same checks run for each supported major.
//! The `*_rejects_*` tests feed deliberately wrong headers and libraries and
//! expect each check to fail for the right reason.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// PostgreSQL 15's server headers (postgresql-server-dev-15).
const PG15_INCLUDE: &str = "/usr/include/postgresql/15/server";

// ---------------------------------------------------------------------------
// What the real header declares
// ---------------------------------------------------------------------------

/// The declarations of a postmaster/bgworker.h that the checks cover.
#[derive(Debug, Default)]
struct Surface {
    /// Object-like `#define`s with an integer value (not the include guard).
    defines: Vec<String>,
    /// Named enums: (typedef name, enumerators in order).
    enums: Vec<(String, Vec<String>)>,
    /// Fields of struct BackgroundWorker: (name, is an array).
    fields: Vec<(String, bool)>,
    /// Extern functions.
    functions: Vec<String>,
    /// Extern variables (each must be a pointer).
    variables: Vec<String>,
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                out.push(' ');
                match rest[b + 2..].find("*/") {
                    Some(e) => rest = &rest[b + 2 + e + 2..],
                    None => return out,
                }
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                match rest[l..].find('\n') {
                    Some(e) => rest = &rest[l + e..],
                    None => return out,
                }
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The last identifier in `s`.
fn last_ident(s: &str) -> Option<String> {
    let s = s.trim_end_matches(|c: char| !is_ident_char(c));
    let start = s
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident_char(c))
        .last()
        .map(|(i, _)| i)?;
    let id = &s[start..];
    (!id.is_empty() && !id.starts_with(|c: char| c.is_ascii_digit())).then(|| id.to_string())
}

/// True for an integer constant expression such as `0x0010`, `-1`, `(1 << 3)`.
fn is_integer_expr(v: &str) -> bool {
    !v.is_empty()
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_hexdigit() || " \txXuUlL()-+|<>~".contains(c))
}

/// The `{ ... }` body starting at or after `from`, and the index after `}`.
fn braced(code: &str, from: usize) -> Option<(&str, usize)> {
    let open = from + code[from..].find('{')?;
    let close = open + code[open..].find('}')?;
    Some((&code[open + 1..close], close + 1))
}

fn parse_header(path: &Path) -> Surface {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}\n{PG_HEADERS_MISSING}", path.display()));
    let text = strip_comments(&text);
    let mut s = Surface::default();
    let mut guard = None;
    let mut code = String::new();
    // Preprocessor lines, joined across backslash continuations.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let t = line.trim();
        let Some(directive) = t.strip_prefix('#') else {
            code.push_str(line);
            code.push('\n');
            continue;
        };
        let mut words = directive.trim().splitn(2, char::is_whitespace);
        match (words.next(), words.next().map(str::trim)) {
            (Some("ifndef"), Some(name)) if guard.is_none() => guard = Some(name.to_string()),
            (Some("define"), Some(rest)) => {
                let name: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
                let value = rest[name.len()..].trim();
                if Some(&name) == guard.as_ref() || rest[name.len()..].starts_with('(') {
                    continue;
                }
                assert!(
                    is_integer_expr(value),
                    "{}: #define {name} {value} is not an integer constant; \
                     teach tests/abi.rs and c-tests/abi/abi_facts.c how to compare it",
                    path.display()
                );
                s.defines.push(name);
            }
            _ => {}
        }
    }

    // enum [tag] { A, B = 2, ... } Name;
    let mut at = 0;
    while let Some(i) = code[at..].find("enum") {
        let i = at + i;
        at = i + 4;
        let before_ok = i == 0 || !is_ident_char(code[..i].chars().last().unwrap());
        let after = &code[i + 4..];
        if !before_ok || after.starts_with(is_ident_char) {
            continue;
        }
        let head_end = after.find(['{', ';']).unwrap_or(after.len());
        if !after[head_end..].starts_with('{') {
            continue;
        }
        let (body, end) = braced(&code, i).expect("enum body");
        let tail_end = end + code[end..].find(';').expect("enum typedef ends with ;");
        let name = last_ident(&code[end..tail_end])
            .or_else(|| last_ident(&after[..head_end]))
            .expect("named enum");
        let consts = body
            .split(',')
            .filter_map(|e| {
                let e = e.split('=').next().unwrap().trim();
                (!e.is_empty()).then(|| e.to_string())
            })
            .collect();
        s.enums.push((name, consts));
        at = tail_end;
    }

    // struct BackgroundWorker { ... }
    let sw = code
        .find("struct BackgroundWorker\n")
        .or_else(|| code.find("struct BackgroundWorker {"))
        .or_else(|| code.find("struct BackgroundWorker{"))
        .expect("the header defines struct BackgroundWorker");
    let (body, _) = braced(&code, sw).expect("struct BackgroundWorker body");
    for member in body.split(';').map(str::trim).filter(|m| !m.is_empty()) {
        let is_array = member.contains('[');
        let decl = if is_array {
            &member[..member.find('[').unwrap()]
        } else {
            member
        };
        let name = last_ident(decl).unwrap_or_else(|| panic!("field name in `{member}`"));
        s.fields.push((name, is_array));
    }

    // extern declarations
    for stmt in code.split([';', '}']).map(str::trim) {
        let Some(decl) = stmt.strip_prefix("extern") else {
            continue;
        };
        if !decl.starts_with(char::is_whitespace) {
            continue;
        }
        if let Some(p) = decl.find('(') {
            s.functions
                .push(last_ident(&decl[..p]).unwrap_or_else(|| panic!("name in `{stmt}`")));
        } else {
            assert!(
                decl.contains('*'),
                "extern variable `{stmt}` is not a pointer; the link check only knows pointers"
            );
            s.variables.push(last_ident(decl).unwrap());
        }
    }
    assert!(
        !s.fields.is_empty() && !s.functions.is_empty() && !s.defines.is_empty(),
        "nothing recognised in {}: {s:?}",
        path.display()
    );
    s
}

/// The abi_facts_gen.h that abi_facts.c includes: one FACT_* line for every
/// name of `s`.
fn facts_list(s: &Surface) -> String {
    let mut g = String::from("/* generated by tests/abi.rs from the real header */\n");
    for (f, is_array) in &s.fields {
        let m = if *is_array {
            "FACT_FIELD_ARRAY"
        } else {
            "FACT_FIELD_SCALAR"
        };
        g += &format!("{m}(BackgroundWorker, {f});\n");
    }
    for (e, consts) in &s.enums {
        g += &format!("FACT_TYPE({e});\n");
        for c in consts {
            g += &format!("FACT_ENUM({e}, {c});\n");
        }
    }
    for d in &s.defines {
        g += &format!("#ifdef {d}\nFACT_DEFINE({d});\n#else\nFACT_DEFINE_MISSING({d});\n#endif\n");
    }
    g
}

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

fn abi_src(name: &str) -> PathBuf {
    c_tests_dir().join("abi").join(name)
}

/// Run `cmd`; Ok(stdout) on success, Err(what + stderr) otherwise.
fn run(mut cmd: Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} ({cmd:?}): {e}"));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what}: {}\n{}{}",
            describe_status(&out.status),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The C compiler with the flags every check uses: C11 with GNU extensions,
/// all warnings as errors.
fn cc() -> Command {
    let mut c = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    c.args(["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"]);
    c
}

/// `PG_MAJORVERSION_NUM` of the server include directory.
fn include_major(include: &Path) -> Result<u32, String> {
    let cfg = include.join("pg_config.h");
    let text = fs::read_to_string(&cfg).map_err(|e| format!("{}: {e}", cfg.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("#define PG_MAJORVERSION_NUM "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("{}: no PG_MAJORVERSION_NUM", cfg.display()))
}

fn check_major(include: &Path, major: u32) -> Result<(), String> {
    let found = include_major(include)?;
    if found != major {
        return Err(format!(
            "{} holds PostgreSQL {found}'s headers, not PostgreSQL {major}'s",
            include.display()
        ));
    }
    Ok(())
}

/// Undefined symbols of an object file (`nm -u`).
fn undefined_symbols(obj: &Path) -> Vec<String> {
    let out = run(
        {
            let mut c = Command::new("nm");
            c.arg("-u").arg(obj);
            c
        },
        "nm -u",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    out.lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// A fresh working directory for one check.
fn work_dir(name: &str) -> PathBuf {
    fresh_dir(&format!("abi-{name}"))
}

// ---------------------------------------------------------------------------
// The ABI check
// ---------------------------------------------------------------------------

/// Compare `candidate_dir/bgworker.h` with the real postmaster/bgworker.h
/// under `include` (the server include directory of PostgreSQL `major`).
/// Ok: the number of facts compared; Err: every difference found.
fn abi_check(
    include: &Path,
    major: u32,
    candidate_dir: &Path,
    work: &Path,
) -> Result<usize, String> {
    check_major(include, major)?;
    fs::create_dir_all(work).unwrap();
    let real = include.join("postmaster").join("bgworker.h");
    let surface = parse_header(&real);
    fs::write(work.join("abi_facts_gen.h"), facts_list(&surface)).unwrap();
    let mut problems = Vec::new();

    // 1. The candidate stands alone, and twice.
    let alone = work.join("alone.c");
    fs::write(
        &alone,
        "#include \"bgworker.h\"\n#include \"bgworker.h\"\nint abi_alone;\n",
    )
    .unwrap();
    let mut c = cc();
    c.arg(format!("-DBGW_PG_MAJOR={major}"))
        .args(["-std=c11", "-Wstrict-prototypes", "-fsyntax-only", "-I"])
        .arg(candidate_dir)
        .arg(&alone);
    if let Err(e) = run(
        c,
        "the candidate header compiled on its own (self-contained)",
    ) {
        problems.push(e);
    }

    // 2. Facts, real and candidate.
    let facts = |real_side: bool| -> Result<String, String> {
        let exe = work.join(if real_side {
            "facts_real"
        } else {
            "facts_cand"
        });
        let mut c = cc();
        c.arg("-I").arg(work);
        if real_side {
            // PostgreSQL's headers as system headers: their own warnings
            // under -Wextra are not the check's business.
            c.arg("-DABI_REAL").arg("-isystem").arg(include);
        } else {
            // The candidate in the layout the host of that major selects.
            c.arg(format!("-DBGW_PG_MAJOR={major}"))
                .arg("-I")
                .arg(candidate_dir);
        }
        c.arg("-o").arg(&exe).arg(abi_src("abi_facts.c"));
        let side = if real_side {
            "the real header"
        } else {
            "the candidate header"
        };
        run(c, &format!("abi_facts.c against {side}"))?;
        run(Command::new(&exe), &format!("abi_facts for {side}"))
    };
    let expected = facts(true).unwrap_or_else(|e| panic!("the check itself is broken: {e}"));
    let n_facts = expected.lines().count();
    match facts(false) {
        Ok(got) => {
            let exp: Vec<&str> = expected.lines().collect();
            let got: Vec<&str> = got.lines().collect();
            let mut diff = String::new();
            for i in 0..exp.len().max(got.len()) {
                let (e, g) = (exp.get(i).copied(), got.get(i).copied());
                if e != g {
                    diff += &format!(
                        "  PostgreSQL {major}: {}\n  candidate:     {}\n",
                        e.unwrap_or("(nothing)"),
                        g.unwrap_or("(nothing)")
                    );
                }
            }
            if !diff.is_empty() {
                problems.push(format!("facts differ from PostgreSQL {major}'s:\n{diff}"));
            }
        }
        Err(e) => problems.push(e),
    }

    // 3. Prototypes as typed function pointers.
    let protos = |real_side: bool| -> Result<PathBuf, String> {
        let obj = work.join(if real_side {
            "protos_real.o"
        } else {
            "protos_cand.o"
        });
        let mut c = cc();
        c.arg(format!("-DBGW_EXPECT_MAJOR={major}"));
        if real_side {
            // PostgreSQL's headers as system headers: their own warnings
            // under -Wextra are not the check's business.
            c.arg("-DABI_REAL").arg("-isystem").arg(include);
        } else {
            c.arg(format!("-DBGW_PG_MAJOR={major}"))
                .arg("-I")
                .arg(candidate_dir);
        }
        c.arg("-c").arg("-o").arg(&obj).arg(abi_src("abi_protos.c"));
        let side = if real_side {
            "the real header"
        } else {
            "the candidate header"
        };
        run(c, &format!("prototypes (abi_protos.c) against {side}"))?;
        Ok(obj)
    };
    let real_obj = protos(true).unwrap_or_else(|e| {
        panic!("abi_protos.c does not spell PostgreSQL {major}'s prototypes: {e}")
    });
    let refs = undefined_symbols(&real_obj);
    for name in surface.functions.iter().chain(&surface.variables) {
        assert!(
            refs.contains(name),
            "abi_protos.c does not check {name}, which PostgreSQL {major}'s header declares"
        );
    }
    if let Err(e) = protos(false) {
        problems.push(e);
    }

    if problems.is_empty() {
        Ok(n_facts)
    } else {
        Err(problems.join("\n"))
    }
}

// ---------------------------------------------------------------------------
// The link check
// ---------------------------------------------------------------------------

/// Flags PGXS builds a module with, from the major's pg_config when it is
/// installed, else the two that matter for linking.
fn module_cflags(major: u32) -> Vec<String> {
    let pgc = format!("/usr/lib/postgresql/{major}/bin/pg_config");
    let mut flags = Vec::new();
    if Path::new(&pgc).exists() {
        for a in ["--cppflags", "--cflags", "--cflags_sl"] {
            let out = Command::new(&pgc).arg(a).output().expect("run pg_config");
            flags.extend(
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_string),
            );
        }
    } else {
        flags.extend(["-O2".to_string(), "-fPIC".to_string()]);
    }
    flags
}

/// One dynamic symbol: nm type letter and size (if nm gives one).
fn dynamic_symbols(lib: &Path) -> Vec<(String, char, Option<u64>)> {
    let mut c = Command::new("nm");
    c.args(["-D", "--defined-only", "-S"]).arg(lib);
    let out = run(c, "nm -D").unwrap_or_else(|e| panic!("{e}"));
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.len() {
                4 => Some((
                    w[3].to_string(),
                    w[2].chars().next()?,
                    u64::from_str_radix(w[1], 16).ok(),
                )),
                3 => Some((w[2].to_string(), w[1].chars().next()?, None)),
                _ => None,
            }
        })
        .collect()
}

fn soname(lib: &Path) -> Option<String> {
    let out = Command::new("readelf").arg("-d").arg(lib).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("(SONAME)"))?;
    let start = line.find('[')? + 1;
    let end = start + line[start..].find(']')?;
    Some(line[start..end].to_string())
}

/// Can a module built against PostgreSQL `major`'s bgworker.h (under
/// `include`) link against `lib_dir/libbgworker.so` and load with every
/// symbol bound?  `load_dir`, when given, holds the library the executable
/// finds at run time instead (to show a load-time failure).
fn link_check(
    include: &Path,
    major: u32,
    lib_dir: &Path,
    load_dir: Option<&Path>,
    work: &Path,
) -> Result<String, String> {
    check_major(include, major)?;
    fs::create_dir_all(work).unwrap();
    let surface = parse_header(&include.join("postmaster").join("bgworker.h"));
    let lib = lib_dir.join("libbgworker.so");
    assert!(lib.exists(), "{} not found", lib.display());

    // The referencing object, as a module is built.
    let refs = work.join("link_refs.o");
    let mut c = cc();
    c.args(module_cflags(major))
        .arg("-isystem")
        .arg(include)
        .arg("-c")
        .arg("-o")
        .arg(&refs)
        .arg(abi_src("link_refs.c"));
    run(c, "link_refs.c against the real header").unwrap_or_else(|e| panic!("{e}"));
    let main_o = work.join("link_main.o");
    let mut c = cc();
    c.arg("-c")
        .arg("-o")
        .arg(&main_o)
        .arg(abi_src("link_main.c"));
    run(c, "link_main.c").unwrap_or_else(|e| panic!("{e}"));
    let needs = undefined_symbols(&refs);
    for name in surface.functions.iter().chain(&surface.variables) {
        assert!(
            needs.contains(name),
            "link_refs.c does not refer to {name}, which PostgreSQL {major}'s header declares"
        );
    }

    let mut problems = Vec::new();
    // The library's dynamic symbol table.
    let syms = dynamic_symbols(&lib);
    for name in &surface.functions {
        match syms.iter().find(|s| &s.0 == name) {
            None => problems.push(format!("{name}: not exported by {}", lib.display())),
            Some((_, k, _)) if !"TWi".contains(*k) => problems.push(format!(
                "{name}: exported with nm type {k}, not as a function"
            )),
            Some(_) => {}
        }
    }
    for name in &surface.variables {
        match syms.iter().find(|s| &s.0 == name) {
            None => problems.push(format!("{name}: not exported by {}", lib.display())),
            Some((_, k, _)) if !"DB".contains(*k) => problems.push(format!(
                "{name}: exported with nm type {k}, not as writable data"
            )),
            Some((_, _, Some(size))) if *size != 8 => problems.push(format!(
                "{name}: exported with size {size}, not as an 8-byte pointer"
            )),
            Some(_) => {}
        }
    }

    // Link: a module-style shared object and an executable.
    let mut c = cc();
    c.arg("-shared")
        .arg("-o")
        .arg(work.join("link_module.so"))
        .arg(&refs)
        .arg("-L")
        .arg(lib_dir)
        .args(["-lbgworker", "-Wl,--no-undefined"]);
    if let Err(e) = run(c, "link a module with -Wl,--no-undefined") {
        problems.push(e);
    }
    let exe = work.join("link_exe");
    let mut c = cc();
    c.arg("-o")
        .arg(&exe)
        .arg(&refs)
        .arg(&main_o)
        .arg("-L")
        .arg(lib_dir)
        .args(["-lbgworker", "-Wl,--no-undefined"]);
    let linked = run(c, "link an executable with -Wl,--no-undefined");
    let mut loaded = String::new();
    match linked {
        Err(e) => problems.push(e),
        Ok(_) => {
            // The library under the name the executable needs, alone in a
            // directory, found through LD_LIBRARY_PATH.
            let run_lib = load_dir.unwrap_or(lib_dir).join("libbgworker.so");
            let run_dir = work.join("run");
            fs::create_dir_all(&run_dir).unwrap();
            let name = soname(&lib).unwrap_or_else(|| "libbgworker.so".into());
            let link = run_dir.join(&name);
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink(fs::canonicalize(&run_lib).unwrap(), &link).unwrap();
            let mut c = Command::new(&exe);
            c.env("LD_BIND_NOW", "1").env("LD_LIBRARY_PATH", &run_dir);
            match run(c, "run with LD_BIND_NOW=1") {
                Ok(out) if out.trim() == "linked 0" => loaded = out.trim().to_string(),
                Ok(out) => problems.push(format!(
                    "run with LD_BIND_NOW=1: printed {out:?}, not \"linked 0\""
                )),
                Err(e) => problems.push(e),
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} functions and {} variables resolved; {loaded}",
            surface.functions.len(),
            surface.variables.len()
        ))
    } else {
        Err(problems.join("\n"))
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

fn pg15() -> PathBuf {
    let p = PathBuf::from(PG15_INCLUDE);
    assert!(
        p.join("postmaster/bgworker.h").exists(),
        "{PG_HEADERS_MISSING}"
    );
    p
}

#[test]
fn header_matches_postgresql_15() {
    let _w = watchdog(120, "header_matches_postgresql_15");
    let work = work_dir("pg15");
    let n = abi_check(&pg15(), 15, &repo_root().join("include"), &work)
        .unwrap_or_else(|e| panic!("include/bgworker.h differs from PostgreSQL 15's:\n{e}"));
    // 10 fields, 2 enum types with 7 constants, 8 defines, 4 fixed lines.
    assert!(n >= 31, "only {n} facts compared");
    eprintln!("abi: {n} facts equal to PostgreSQL 15's");
    let _ = fs::remove_dir_all(&work);
}

#[test]
fn library_links_like_postgresql_15() {
    let _w = watchdog(120, "library_links_like_postgresql_15");
    let work = work_dir("link15");
    let lib = libbgworker_path();
    let what = link_check(&pg15(), 15, lib.parent().unwrap(), None, &work)
        .unwrap_or_else(|e| panic!("libbgworker does not serve PostgreSQL 15's bgworker.h:\n{e}"));
    eprintln!("link: {what}");
    let _ = fs::remove_dir_all(&work);
}

/// include/bgworker.h with `BGW_PG_MAJOR` 17 or 18 against that major's
/// real postmaster/bgworker.h (Debian's postgresql-server-dev-17/-18, as
/// `make pg-headers-17`/`-18` unpack them).
fn header_matches_major(major: u32) {
    let work = work_dir(&format!("pg{major}"));
    let n = abi_check(
        &pg_server_include(major),
        major,
        &repo_root().join("include"),
        &work,
    )
    .unwrap_or_else(|e| {
        panic!("include/bgworker.h (BGW_PG_MAJOR={major}) differs from PostgreSQL {major}'s:\n{e}")
    });
    assert!(n >= 32, "only {n} facts compared");
    eprintln!("abi: {n} facts equal to PostgreSQL {major}'s");
    let _ = fs::remove_dir_all(&work);
}

#[test]
fn header_matches_postgresql_17() {
    let _w = watchdog(120, "header_matches_postgresql_17");
    header_matches_major(17);
}

#[test]
fn header_matches_postgresql_18() {
    let _w = watchdog(120, "header_matches_postgresql_18");
    header_matches_major(18);
}

/// A module built against PostgreSQL 17's or 18's real bgworker.h links
/// against the same libbgworker.
fn library_links_like_major(major: u32) {
    let work = work_dir(&format!("link{major}"));
    let lib = libbgworker_path();
    let what = link_check(
        &pg_server_include(major),
        major,
        lib.parent().unwrap(),
        None,
        &work,
    )
    .unwrap_or_else(|e| panic!("libbgworker does not serve PostgreSQL {major}'s bgworker.h:\n{e}"));
    eprintln!("link: {what}");
    let _ = fs::remove_dir_all(&work);
}

#[test]
fn library_links_like_postgresql_17() {
    let _w = watchdog(120, "library_links_like_postgresql_17");
    library_links_like_major(17);
}

#[test]
fn library_links_like_postgresql_18() {
    let _w = watchdog(120, "library_links_like_postgresql_18");
    library_links_like_major(18);
}

#[test]
fn header_parser_finds_every_declaration() {
    let s = parse_header(&pg15().join("postmaster/bgworker.h"));
    assert_eq!(s.fields.len(), 10, "{s:?}");
    assert!(s.fields.contains(&("bgw_extra".into(), true)));
    assert!(s.fields.contains(&("bgw_main_arg".into(), false)));
    assert_eq!(s.functions.len(), 11, "{s:?}");
    assert_eq!(s.variables, vec!["MyBgworkerEntry".to_string()]);
    assert!(s.defines.contains(&"BGWORKER_BYPASS_ALLOWCONN".to_string()));
    assert!(!s.defines.contains(&"BGWORKER_H".to_string()));
    let names: Vec<&str> = s.enums.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["BgWorkerStartTime", "BgwHandleStatus"]);
    assert_eq!(s.enums[1].1.len(), 4);
}

/// include/bgworker.h with `from` replaced by `to` (which must occur).
fn wrong_header(work: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(repo_root().join("include/bgworker.h")).unwrap();
    assert!(
        text.contains(from),
        "include/bgworker.h no longer has `{from}`"
    );
    let dir = work.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("bgworker.h"), text.replacen(from, to, 1)).unwrap();
    dir
}

#[test]
fn abi_check_rejects_wrong_headers() {
    let _w = watchdog(300, "abi_check_rejects_wrong_headers");
    let work = work_dir("wrong-headers");
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "field_type",
            "int bgw_restart_time;",
            "long bgw_restart_time;",
            &[
                "facts differ",
                "field.BackgroundWorker.bgw_restart_time offset=200 size=8",
            ],
        ),
        (
            "field_missing",
            "char bgw_type[BGW_MAXLEN];",
            "",
            &["abi_facts.c against the candidate header", "bgw_type"],
        ),
        (
            "define_value",
            "#define BGW_EXTRALEN 128",
            "#define BGW_EXTRALEN 120",
            &["define.BGW_EXTRALEN 120"],
        ),
        (
            "define_missing",
            "#define BGWORKER_CLASS_PARALLEL 16",
            "",
            &["define.BGWORKER_CLASS_PARALLEL MISSING"],
        ),
        (
            "enum_value",
            "BGWH_STARTED,",
            "BGWH_STARTED = 4,",
            &["enum.BgwHandleStatus.BGWH_STARTED 4"],
        ),
        (
            "return_type",
            "void TerminateBackgroundWorker(",
            "int TerminateBackgroundWorker(",
            &["prototypes (abi_protos.c)", "TerminateBackgroundWorker"],
        ),
        (
            "parameter_type",
            "Oid useroid, uint32_t flags",
            "Oid useroid, uint64_t flags",
            &[
                "prototypes (abi_protos.c)",
                "BackgroundWorkerInitializeConnectionByOid",
            ],
        ),
        (
            "variable_type",
            "extern BackgroundWorker *MyBgworkerEntry;",
            "extern const BackgroundWorker *MyBgworkerEntry;",
            &["prototypes (abi_protos.c)", "MyBgworkerEntry"],
        ),
        (
            "not_self_contained",
            "#include <stdint.h>",
            "",
            &["self-contained"],
        ),
    ];
    for (name, from, to, expect) in cases {
        let dir = wrong_header(&work, name, from, to);
        match abi_check(&pg15(), 15, &dir, &work) {
            Ok(n) => panic!("{name}: the ABI check passed a wrong header ({n} facts)"),
            Err(e) => {
                for x in *expect {
                    assert!(
                        e.contains(x),
                        "{name}: the failure does not say `{x}`:\n{e}"
                    );
                }
            }
        }
    }
    // The wrong major is refused before anything is compared.
    let e = abi_check(&pg15(), 17, &repo_root().join("include"), &work).unwrap_err();
    assert!(
        e.contains("holds PostgreSQL 15's headers, not PostgreSQL 17's"),
        "{e}"
    );
    let _ = fs::remove_dir_all(&work);
}

/// c-tests/abi/wrong_lib.c built with `-D<define>` as `dir/libbgworker.so`.
fn wrong_library(work: &Path, name: &str, define: Option<&str>) -> PathBuf {
    let dir = work.join(name);
    fs::create_dir_all(&dir).unwrap();
    let mut c = cc();
    c.args(["-shared", "-fPIC"]);
    if let Some(d) = define {
        c.arg(format!("-D{d}"));
    }
    c.arg("-o")
        .arg(dir.join("libbgworker.so"))
        .arg(abi_src("wrong_lib.c"));
    run(c, "wrong_lib.c").unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn link_check_rejects_wrong_libraries() {
    let _w = watchdog(300, "link_check_rejects_wrong_libraries");
    let work = work_dir("wrong-libs");
    let inc = pg15();

    // Every name, of the right kind: the check passes it (so the failures
    // below come from what each variant breaks).
    let complete = wrong_library(&work, "complete", None);
    link_check(&inc, 15, &complete, None, &work.join("complete"))
        .unwrap_or_else(|e| panic!("a complete symbol table was refused:\n{e}"));

    let cases: &[(&str, &str, &[&str])] = &[
        (
            "missing_function",
            "WRONG_MISSING_FUNCTION",
            &[
                "TerminateBackgroundWorker: not exported",
                "undefined reference to `TerminateBackgroundWorker'",
            ],
        ),
        (
            "entry_function",
            "WRONG_ENTRY_FUNCTION",
            &["MyBgworkerEntry: exported with nm type T, not as writable data"],
        ),
        (
            "entry_readonly",
            "WRONG_ENTRY_READONLY",
            &["MyBgworkerEntry: exported with nm type R, not as writable data"],
        ),
        (
            "entry_size",
            "WRONG_ENTRY_SIZE",
            &["MyBgworkerEntry: exported with size 4"],
        ),
    ];
    for (name, define, expect) in cases {
        let dir = wrong_library(&work, name, Some(define));
        match link_check(&inc, 15, &dir, None, &dir) {
            Ok(what) => panic!("{name}: the link check passed a wrong library ({what})"),
            Err(e) => {
                for x in *expect {
                    assert!(
                        e.contains(x),
                        "{name}: the failure does not say `{x}`:\n{e}"
                    );
                }
            }
        }
    }

    // Linked against a complete library, loaded with one that lacks a
    // function: LD_BIND_NOW=1 makes the loader refuse at start.
    let missing = work.join("missing_function");
    let e = link_check(&inc, 15, &complete, Some(&missing), &work.join("load"))
        .expect_err("a library without TerminateBackgroundWorker loaded");
    assert!(
        e.contains("run with LD_BIND_NOW=1") && e.contains("TerminateBackgroundWorker"),
        "{e}"
    );
    let _ = fs::remove_dir_all(&work);
}
