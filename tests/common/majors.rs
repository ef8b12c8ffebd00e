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

/// Run c-tests/`src` built for `major` under the real server of that major
/// and under bgworkerd, both configured with `conf` (postgresql.conf /
/// bgworker.conf lines), until each logs "`tag` done"; then assert that the
/// messages starting with "`tag` " (and any `also` prefix, such as
/// `parameter "x.`), LOG level left out, are the same line for line.
#[allow(dead_code)]
pub fn module_matches_postgresql(major: u32, src: &str, tag: &str, conf: &str, also: &[&str]) {
    use super::pg::PgServer;
    use super::{pgxs_module_for, secs, watchdog, Daemon};
    let _w = watchdog(240, &format!("{src} vs postgresql {major}"));
    let m = pgxs_module_for(src, major);
    let done = format!("{tag} done");
    let keep = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|l| message_of(l))
            .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
            .filter(|m| m.starts_with(&format!("{tag} ")) || also.iter().any(|a| m.starts_with(a)))
            .collect()
    };
    let theirs = {
        let s = PgServer::spawn_major(major, tag.trim_end_matches(':'), &[&m], conf, &[]);
        s.wait_ready();
        s.wait_log(&done, secs(120));
        keep(&s.log_lines())
    };
    let ours = {
        let d = Daemon::builder(&format!("{}-pg-{major}", tag.trim_end_matches(':')))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .conf_file(conf)
            .start();
        d.wait_log(&done, secs(120));
        keep(&d.log_lines())
    };
    assert!(theirs.contains(&done), "{theirs:?}");
    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert_eq!(a, b, "line {i}: bgworkerd vs PostgreSQL {major}");
    }
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\nvs\n{theirs:#?}");
}
