//! Build script of the core: generates the C header with cbindgen (into
//! OUT_DIR; `bgworker_core::GENERATED_HEADER` carries it, and the header
//! test compares it with the checked-in include/bgworker.h), and compiles
//! the core's C shims (src/c). Writes only into OUT_DIR.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    for f in ["src", "cbindgen.toml"] {
        println!("cargo:rerun-if-changed={}", crate_dir.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=BGW_PKGLIBDIR");

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate bgworker.h")
        .write_to_file(out.join("bgworker.h"));

    // The exports that may raise ERROR jump to these shims (see api.rs).
    cc::Build::new()
        .file(crate_dir.join("src/c/raise.c"))
        .file(crate_dir.join("src/c/supervision.c"))
        // The message ring of shm_mq and of the host queues.
        .file(crate_dir.join("src/c/mq_ring.c"))
        .flag("-fvisibility=hidden")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("bgwcore");
}
