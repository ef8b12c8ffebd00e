//! Build script of the shipped crate: reads the export table
//! (exports/bgworker.exports, see its header) and the generated rest of
//! PostgreSQL's surface, and writes into OUT_DIR
//! - `bgworkerd.dynlist`, the names bgworkerd exports to the modules it
//!   loads (passed to the linker as its dynamic list),
//! - `export_refs.rs`, a reference to every one of them, which bgworkerd
//!   includes, and `plain_refs.rs`, one to each core row, which the plain
//!   library includes: the linker keeps each definition, and a name whose
//!   definition is missing fails the link instead of silently leaving
//!   modules with an undefined symbol,
//! - `describe.rs`, for `bgworkerd --describe-symbol`.
//!
//! Writes only into OUT_DIR.

use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "exports/table.rs"]
mod table;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let path = crate_dir.join("exports/bgworker.exports");
    println!("cargo:rerun-if-changed={}", path.display());
    println!(
        "cargo:rerun-if-changed={}",
        crate_dir.join("exports/table.rs").display()
    );
    let rows = table::read(&path).unwrap_or_else(|e| panic!("{e}"));
    for &m in table::MAJORS {
        println!(
            "cargo:rerun-if-changed={}",
            crate_dir.join(format!("exports/pg{m}")).display()
        );
    }
    // The generated rest of PostgreSQL's surface (crates/pgrt/src/nodb.rs).
    let generated =
        table::generated(&crate_dir.join("exports"), &rows).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<(&str, table::Kind)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.kind))
        .chain(generated.iter().map(|g| (g.name.as_str(), g.kind)))
        .collect();

    let mut list = String::from("{\n");
    for (name, _) in &names {
        writeln!(list, "  {name};").expect("String");
    }
    list.push_str("};\n");
    let dynlist = out.join("bgworkerd.dynlist");
    std::fs::write(&dynlist, list).expect("OUT_DIR is writable");
    println!(
        "cargo:rustc-link-arg-bin=bgworkerd=-Wl,--dynamic-list={}",
        dynlist.display()
    );

    // bgworkerd links and exports the whole surface; the plain library
    // only the core's rows (bgworker.h and bgw_*), and links no runtime.
    std::fs::write(out.join("export_refs.rs"), table::export_refs_code(&names))
        .expect("OUT_DIR is writable");
    std::fs::write(
        out.join("plain_refs.rs"),
        table::export_refs_code(&table::plain_surface(&rows)),
    )
    .expect("OUT_DIR is writable");

    // What bgworkerd --describe-symbol says of each name.
    write_descriptions(&crate_dir, &out, &rows, &generated);

    // Rust programs whose workers are their own functions (the safe API's
    // entry_point!): the supervisor looks entry points up by name in the
    // program's dynamic symbol table. The examples export everything; the
    // integration tests only their entry points (named rsapi_*), so that
    // no other test binary's symbols change.
    println!("cargo:rustc-link-arg-examples=-rdynamic");
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic-symbol=rsapi_*");

    // The shared library's soname, for the versioned install.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbgworker.so.0");
}

/// OUT_DIR/describe.rs: `DESCRIBE_TEXT`, one "NAME\tTEXT\n" line per
/// exported name sorted by name, and `DESCRIBE_END`, the end offset of
/// each line, for `bgworkerd --describe-symbol` (src/bin/bgworkerd.rs).
fn write_descriptions(
    crate_dir: &std::path::Path,
    out: &std::path::Path,
    rows: &[table::Row],
    generated: &[table::Generated],
) {
    let exports = crate_dir.join("exports");
    let majors_text = |m: &[u32]| {
        m.iter()
            .map(|m| format!("PostgreSQL {m}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // PostgreSQL's own library of each name, and initial values, per major.
    let mut lib: std::collections::BTreeMap<String, String> = Default::default();
    let mut initial: std::collections::BTreeMap<String, table::Initial> = Default::default();
    for &m in table::MAJORS {
        let text = std::fs::read_to_string(exports.join(format!("pg{m}/port-common.symbols")))
            .expect("port-common.symbols");
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() == 5 {
                lib.insert(f[0].to_string(), format!("lib{}", f[2]));
            }
        }
        for i in table::read_initial_values(&exports, m).unwrap_or_else(|e| panic!("{e}")) {
            initial.entry(i.name.clone()).or_insert(i);
        }
    }
    let mut v: Vec<(String, String)> = Vec::new();
    for r in rows {
        let kind = match r.kind {
            table::Kind::Func => "function",
            table::Kind::Var => "variable",
        };
        let of = if r.majors.is_empty() {
            format!("{kind} of libbgworker's own API")
        } else {
            format!("{kind} of {}", majors_text(&r.majors))
        };
        let layer = match r.layer {
            table::Layer::Core => "libbgworker's core",
            table::Layer::Pgrt => "libbgworker's PostgreSQL runtime",
            table::Layer::Root => "libbgworker",
        };
        let text = match r.provision {
            table::Provision::Implemented => format!("implemented ({of}, in {layer})"),
            table::Provision::Postgres => format!(
                "PostgreSQL's own code ({of}, from {} linked in)",
                lib.get(&r.name).map_or("PostgreSQL's libraries", |l| l.as_str())
            ),
            table::Provision::Unavailable => format!(
                "unavailable ({of}): it needs the database server; a call ends the caller with a FATAL naming it"
            ),
        };
        v.push((r.name.clone(), text));
    }
    for g in generated {
        let text = match g.kind {
            table::Kind::Func => format!(
                "unavailable (function of {}): it needs the database server; a call ends the caller with a FATAL naming it",
                majors_text(&g.majors)
            ),
            table::Kind::Var => {
                let value = match initial.get(&g.name) {
                    None | Some(table::Initial { value: table::InitialValue::Address, .. }) => "zero".to_string(),
                    Some(i) => {
                        let val = match &i.value {
                            table::InitialValue::Bool(b) => (if *b { "true" } else { "false" }).to_string(),
                            table::InitialValue::Int(n) | table::InitialValue::Enum(n) => n.to_string(),
                            table::InitialValue::Real(x) => x.to_string(),
                            table::InitialValue::Str(None) => "NULL".to_string(),
                            table::InitialValue::Str(Some(s)) => format!("\"{s}\""),
                            table::InitialValue::Data(_) => "PostgreSQL's initializer".to_string(),
                            table::InitialValue::Address => unreachable!(),
                        };
                        match &i.setting {
                            Some(guc) => format!("the boot value of setting \"{guc}\", {val}"),
                            None => val,
                        }
                    }
                };
                format!(
                    "storage (variable of {}, {} bytes), initially {value}",
                    majors_text(&g.majors),
                    g.size
                )
            }
        };
        v.push((g.name.clone(), text));
    }
    v.sort();
    // One text of "NAME\tDESCRIPTION\n" lines and the end offset of each:
    // plain data, no relocations for bgworkerd to process at every start.
    let mut text = String::new();
    let mut ends = Vec::new();
    for (n, t) in &v {
        text.push_str(&format!("{n}\t{t}\n"));
        ends.push(text.len());
    }
    let code = format!(
        "// Generated by build.rs from exports/.\n\
         pub static DESCRIBE_TEXT: &str = {text:?};\n\
         pub static DESCRIBE_END: [u32; {}] = {ends:?};\n",
        ends.len()
    );
    std::fs::write(out.join("describe.rs"), code).expect("OUT_DIR is writable");
}
