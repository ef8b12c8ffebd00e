//! What the tests that run one module built for each served PostgreSQL
//! major share (tests/dataplane.rs, tests/dsa.rs, tests/compat.rs,
//! tests/compat_shmem.rs and their *_postgresql.rs comparisons with the
//! real servers): one test per major for a scenario, and a module's tagged
//! log lines in the form both sides compare.

use super::pg::message_of;

/// `per_major!(name, body)`: a module `name` with the tests `pg15`,
/// `pg17` and `pg18`, each calling `body(major)` of the invoking file.
#[allow(unused_macros)]
macro_rules! per_major {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn pg15() {
                super::$body(15)
            }
            #[test]
            fn pg17() {
                super::$body(17)
            }
            #[test]
            fn pg18() {
                super::$body(18)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_major;

/// The "dp:" messages of a log (c-tests/dp_module.c), level LOG left out
/// and segment names masked.
pub fn dp_lines(lines: &[String]) -> Vec<String> {
    tagged_lines(lines, "dp: ")
        .iter()
        .map(|m| mask_segment(m))
        .collect()
}

/// The "dsa:" messages of a log (c-tests/dsa_module.c), level LOG left out.
pub fn dsa_lines(lines: &[String]) -> Vec<String> {
    tagged_lines(lines, "dsa: ")
}

/// The messages of `lines` (pids masked) that contain `tag` ("dp: ",
/// "dsa: "), level LOG left out.
fn tagged_lines(lines: &[String], tag: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains(tag))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .collect()
}

/// `m` with the first quoted segment name masked as "SEGMENT" (bgworkerd
/// names its segments /bgworker.P.dsm.H, the servers /PostgreSQL.H).
fn mask_segment(m: &str) -> String {
    for prefix in ["\"/bgworker.", "\"/PostgreSQL."] {
        if let Some(i) = m.find(prefix) {
            if let Some(j) = m[i + 1..].find('"') {
                return format!("{}\"SEGMENT\"{}", &m[..i], &m[i + 1 + j + 1..]);
            }
        }
    }
    m.to_string()
}
