//! The project's own C files compile without a single warning under
//! `-Wall -Wextra -Werror`, each with the flags of its real build added:
//! modules (files including "postgres.h") with PGXS's flags and PostgreSQL
//! 15's server headers, host programs with include/bgworker.h, the runtime's
//! C halves (crates/pgrt/src/c, crates/core/src/c) with their build.rs's flags. c-tests/abi is compiled with
//! -Werror by tests/abi.rs itself, with the files it generates.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PG_CONFIG: &str = "/usr/lib/postgresql/15/bin/pg_config";
const STRICT: [&str; 4] = ["-Wall", "-Wextra", "-Werror", "-O2"];

fn c_files(dir: &Path, recurse: bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recurse && p.file_name().is_some_and(|n| n != "abi") {
                c_files(&p, recurse, out);
            }
        } else if p.extension().is_some_and(|x| x == "c") {
            out.push(p);
        }
    }
}

fn pg_flags() -> Vec<String> {
    assert!(Path::new(PG_CONFIG).exists(), "{PG_HEADERS_MISSING}");
    let mut flags = Vec::new();
    for a in [
        "--cppflags",
        "--cflags",
        "--cflags_sl",
        "--includedir-server",
    ] {
        let out = Command::new(PG_CONFIG).arg(a).output().expect("pg_config");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if a == "--includedir-server" {
            // PostgreSQL's headers are not ours: their warnings (unused
            // parameters of inline functions under -Wextra) are not shown.
            flags.push(format!("-isystem{text}"));
        } else {
            flags.extend(text.split_whitespace().map(str::to_string));
        }
    }
    flags
}

#[test]
fn project_c_files_compile_without_warnings() {
    let _w = watchdog(600, "project_c_files_compile_without_warnings");
    let root = repo_root();
    let mut files = Vec::new();
    c_files(&root.join("c-tests"), true, &mut files);
    c_files(&root.join("examples"), false, &mut files);
    c_files(&root.join("bench"), true, &mut files);
    c_files(&root.join("soak"), true, &mut files);
    c_files(&root.join("crates/pgrt/src/c"), false, &mut files);
    c_files(&root.join("crates/core/src/c"), false, &mut files);
    assert!(files.len() >= 20, "only {} C files found", files.len());

    let pg = pg_flags();
    let out_dir = fresh_dir("c-warnings");
    let mut failures = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
        if f.starts_with(root.join("crates/pgrt/src/c"))
            || f.starts_with(root.join("crates/core/src/c"))
        {
            // build.rs: cc::Build with warnings + extra_warnings
            cmd.args([
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-strict-aliasing",
                "-fwrapv",
                "-Wno-unused-parameter",
            ]);
            // The runtime's build.rs adds the core's ring header.
            cmd.arg(format!("-I{}", root.join("crates/core/src/c").display()));
        } else if text.contains("#include \"postgres.h\"") {
            cmd.args(&pg);
        } else {
            cmd.arg(format!("-I{}", root.join("include").display()));
        }
        cmd.arg(format!("-I{}", f.parent().unwrap().display()))
            .arg(format!("-I{}", root.join("c-tests").display()))
            .arg(format!("-I{}", root.join("bench").display()))
            .args(STRICT)
            .arg("-c")
            .arg("-o")
            .arg(out_dir.join("out.o"))
            .arg(f);
        let out = cmd.output().expect("run the C compiler");
        if !out.status.success() {
            failures.push(format!(
                "{}:\n{}",
                f.strip_prefix(&root).unwrap().display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let _ = fs::remove_dir_all(&out_dir);
    assert!(
        failures.is_empty(),
        "{} of {} C files do not compile with -Wall -Wextra -Werror:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    eprintln!("{} C files compile with -Wall -Wextra -Werror", files.len());
}
