//! Build script of libbgworker_pg: a reference to every name of the
//! runtime's surface (the export table's rows and the generated rest of
//! PostgreSQL's exports), so that the library links and exports each of
//! them (OUT_DIR/export_refs.rs), and its soname. Writes only into OUT_DIR.

use std::path::PathBuf;

#[path = "../../exports/table.rs"]
mod table;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let exports = crate_dir.join("../../exports");
    let path = exports.join("bgworker.exports");
    println!("cargo:rerun-if-changed={}", path.display());
    for &m in table::MAJORS {
        println!(
            "cargo:rerun-if-changed={}",
            exports.join(format!("pg{m}")).display()
        );
    }
    let rows = table::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let generated = table::generated(&exports, &rows).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        out.join("export_refs.rs"),
        table::export_refs_code(&table::runtime_surface(&rows, &generated)),
    )
    .expect("OUT_DIR is writable");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbgworker_pg.so.0");
}
