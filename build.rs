//! Build script: generates the C header with cbindgen into OUT_DIR (the
//! Makefile copies it to include/bgworker.h and checks the checked-in copy
//! is current), compiles the C half of the PostgreSQL compatibility runtime
//! (src/compat/c), and makes bgworkerd export the library's C API and the
//! compatibility runtime so that the modules it loads resolve against it.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for f in ["src", "cbindgen.toml"] {
        println!("cargo:rerun-if-changed={}", crate_dir.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=BGW_PKGLIBDIR");

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let header = out.join("bgworker.h");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate bgworker.h")
        .write_to_file(&header);
    // Also beside the built library (target/<profile>/bgworker.h), where
    // the Makefile picks it up.
    if let Some(profile_dir) = out.ancestors().nth(3) {
        let _ = std::fs::copy(&header, profile_dir.join("bgworker.h"));
    }

    // The C half of the compatibility runtime. Hidden visibility: its
    // functions are exported under PostgreSQL's names by the Rust
    // trampolines of src/compat (see src/compat/mod.rs).
    let cdir = crate_dir.join("src/compat/c");
    let mut cfiles: Vec<PathBuf> = std::fs::read_dir(&cdir)
        .expect("src/compat/c")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    cfiles.sort();
    cc::Build::new()
        .files(&cfiles)
        .flag("-fvisibility=hidden")
        .flag("-fno-strict-aliasing")
        .flag("-fwrapv")
        .warnings(true)
        .extra_warnings(true)
        .flag("-Wno-unused-parameter")
        .compile("bgwcompat");

    // The core's C shims (src/c): exports that may raise ERROR.
    let core_c: Vec<PathBuf> = ["raise.c"].iter().map(|f| crate_dir.join("src/c").join(f)).collect();
    cc::Build::new()
        .files(&core_c)
        .flag("-fvisibility=hidden")
        .warnings(true)
        .extra_warnings(true)
        .compile("bgwcore");

    // Every function and variable the header declares, for the daemon's
    // dynamic symbol table.
    let text = std::fs::read_to_string(&header).unwrap();
    let mut names = Vec::new();
    for line in text.lines() {
        let first = line.chars().next().unwrap_or(' ');
        if !(first.is_ascii_alphabetic()) || line.starts_with("typedef") {
            continue;
        }
        let decl = line.trim_end();
        let name_end = if let Some(p) = decl.find('(') {
            p
        } else if decl.starts_with("extern ") && decl.ends_with(';') {
            decl.len() - 1
        } else {
            continue;
        };
        let head = &decl[..name_end];
        let name: String = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    assert!(
        names.iter().any(|n| n == "MyBgworkerEntry"),
        "header parse found no MyBgworkerEntry"
    );
    names.extend(compat_exports(&crate_dir.join("src/compat")));
    let list = out.join("bgworkerd.dynlist");
    let body: String = names.iter().map(|n| format!("  {n};\n")).collect();
    std::fs::write(&list, format!("{{\n{body}}};\n")).unwrap();
    println!(
        "cargo:rustc-link-arg-bin=bgworkerd=-Wl,--dynamic-list={}",
        list.display()
    );
    // The library's exports must survive into the executable even though
    // the daemon itself calls only a few of them.
    for n in &names {
        println!("cargo:rustc-link-arg-bin=bgworkerd=-Wl,--undefined={n}");
    }
    // The shared library's soname, for the versioned install.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbgworker.so.0");
}

/// The names src/compat exports: `#[unsafe(no_mangle)]` items (except the
/// `bgw_rs_` helpers the C half calls, and macro templates), the
/// `NAME => bgw_c_NAME` lines of its `c_export!` invocations, and the names
/// listed in `needs_database!` (src/compat/nodb.rs).
fn compat_exports(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/compat")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut after_no_mangle = false;
        let mut in_list = false;
        for line in text.lines() {
            let t = line.trim();
            if t == "needs_database! {" {
                in_list = true;
                continue;
            }
            if in_list {
                if t == "}" {
                    in_list = false;
                } else if let Some(n) = t.strip_suffix(',') {
                    names.push(n.to_string());
                }
                continue;
            }
            if t == "#[unsafe(no_mangle)]" {
                after_no_mangle = true;
                continue;
            }
            if after_no_mangle && !t.starts_with("#[") {
                after_no_mangle = false;
                let name = t
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .skip_while(|w| !matches!(*w, "fn" | "static"))
                    .skip(1)
                    .find(|w| !w.is_empty() && *w != "mut");
                if let Some(n) = name {
                    if !n.starts_with("bgw_rs_") && !t.contains('$') {
                        names.push(n.to_string());
                    }
                }
                continue;
            }
            if let Some((lhs, rhs)) = t.split_once("=>") {
                let lhs = lhs.trim();
                if rhs.trim().starts_with("bgw_c_")
                    && !lhs.is_empty()
                    && lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    names.push(lhs.to_string());
                }
            }
        }
    }
    names
}
