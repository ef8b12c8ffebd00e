//! Build script: generates the C header with cbindgen into OUT_DIR (the
//! Makefile copies it to include/bgworker.h and checks the checked-in copy
//! is current), and makes bgworkerd export the library's C API so that the
//! modules it loads resolve against it.

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
