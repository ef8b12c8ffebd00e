//! include/bgworker.h is the checked-in copy of the header cbindgen
//! generates from the core; it must be current. `make header` runs this
//! test with BGW_WRITE_HEADER=1 to bring it up to date.

use std::path::Path;

#[test]
fn checked_in_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/bgworker.h");
    let generated = bgworker::GENERATED_HEADER;
    if std::env::var_os("BGW_WRITE_HEADER").is_some() {
        std::fs::write(&path, generated).expect("include/bgworker.h is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).expect("include/bgworker.h");
    if checked_in != generated {
        let first = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "include/bgworker.h is out of date (first difference at line {}): run 'make header'",
            first + 1
        );
    }
}
