//! The core stands without the PostgreSQL runtime, and its modules form
//! layers: each uses only modules of lower layers, so no import cycle can
//! form. The compiler already keeps crates/core from naming the runtime
//! (it is not a dependency); this test keeps it that way in Cargo.toml and
//! checks the module layers, which the compiler does not.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::repo_root;

/// The core's top-level modules, lowest layer first; modules on one line
/// share a layer and must not use each other. `crate` is the crate root
/// (errno helpers, declared in lib.rs).
const CORE_LAYERS: &[&[&str]] = &[
    &["crate", "abi"],
    &["identity", "pidfd", "policy"],
    &["log"],
    &["shmem"],
    &["settings"],
    &["hooks"],
    &["backend"],
    &["process"],
    &["supervisor"],
    &["api"],
    &["host", "daemon", "ctl", "supervision"],
];

/// The crate-root items a module may name as `crate::NAME` (layer 0).
const ROOT_ITEMS: &[&str] = &["errno", "errno_text", "io_text", "elog", "GENERATED_HEADER"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read source dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Names N in `crate::N` and in `use crate::{N, ...}` of `text`, comments
/// and string contents included (a mention in a comment is a dependency in
/// spirit too).
fn crate_refs(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // bgworker_core::, $crate::
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    v.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                v.push(name);
            }
        }
    }
    v
}

fn layer_of(module: &str) -> Option<usize> {
    if ROOT_ITEMS.contains(&module) {
        return Some(0);
    }
    CORE_LAYERS.iter().position(|l| l.contains(&module))
}

/// Violations in the tree at `src`: (file, used module, why).
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).expect("under src");
        let first = rel
            .components()
            .next()
            .expect("non-empty")
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "c" {
            continue;
        }
        let Some(mine) = layer_of(&module) else {
            bad.push(format!(
                "{}: module {module} has no layer in CORE_LAYERS",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("read source");
        let mut seen = BTreeMap::new();
        for used in crate_refs(&text) {
            if used == module || seen.insert(used.clone(), ()).is_some() {
                continue;
            }
            match layer_of(&used) {
                None => bad.push(format!(
                    "{}: uses crate::{used}, which has no layer",
                    rel.display()
                )),
                Some(l) if l >= mine => bad.push(format!(
                    "{}: module {module} (layer {mine}) uses crate::{used} (layer {l})",
                    rel.display()
                )),
                Some(_) => {}
            }
        }
    }
    bad
}

#[test]
fn core_modules_use_only_lower_layers() {
    let bad = violations(&repo_root().join("crates/core/src"));
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn core_does_not_depend_on_the_runtime() {
    let toml =
        std::fs::read_to_string(repo_root().join("crates/core/Cargo.toml")).expect("core manifest");
    assert!(
        !toml.contains("pgrt"),
        "crates/core/Cargo.toml names the runtime"
    );
    let mut files = Vec::new();
    rust_files(&repo_root().join("crates/core/src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        assert!(
            !text.contains("bgworker_pgrt") && !text.contains("compat::"),
            "{} names the PostgreSQL runtime",
            f.display()
        );
    }
}

/// The check itself finds an upward use, a same-layer use and an unknown
/// module, so a green run means something.
#[test]
fn the_layer_check_can_fail() {
    let dir = std::env::temp_dir().join(format!("bgw-layering-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("supervisor")).unwrap();
    std::fs::write(dir.join("backend.rs"), "use crate::{abi, supervisor};\n").unwrap();
    std::fs::write(
        dir.join("supervisor/mod.rs"),
        "fn f() { crate::api::x(); crate::log::emit(); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("host.rs"), "use crate::ctl::x;\n").unwrap();
    std::fs::write(dir.join("mystery.rs"), "\n").unwrap();
    let bad = violations(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let text = bad.join("\n");
    assert!(
        text.contains("backend.rs: module backend (layer 6) uses crate::supervisor"),
        "{text}"
    );
    assert!(
        text.contains("module supervisor (layer 8) uses crate::api"),
        "{text}"
    );
    assert!(
        text.contains("module host (layer 10) uses crate::ctl (layer 10)"),
        "{text}"
    );
    assert!(
        text.contains("mystery.rs: module mystery has no layer"),
        "{text}"
    );
    assert_eq!(bad.len(), 4, "{text}");
}
