//! Dynamic shared areas (utils/dsa.h) under bgworkerd, for modules built
//! against PostgreSQL 15's, 17's and 18's headers (c-tests/dsa_module.c;
//! tests/dsa_postgresql.rs compares the same lines with the real servers):
//! the calls and their ERRORs (bad handles, bad sizes, pins, the size
//! limit and its "out of memory" with DETAIL), blocks larger than a
//! segment, resource owners, an area in place, and three workers that
//! attach through the handle in bgw_main_arg and allocate, write, check
//! and free at once; afterwards no segment of the areas is left.

mod common;

use common::pg::message_of;
use common::*;

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

/// The "dsa:" messages of a log, level LOG left out.
pub fn dsa_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("dsa: "))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        .collect()
}

pub const EXPECTED: &[&str] = &[
    "dsa: attach never created: ERROR: could not attach to dynamic shared area",
    "dsa: created: handle set, get_address(Invalid) NULL",
    "dsa: attach twice: ERROR: can't attach the same segment more than once",
    "dsa: pin twice: ERROR: dsa_area already pinned",
    "dsa: unpin not pinned: ERROR: dsa_area not pinned",
    "dsa: allocate 1 GB: ERROR: invalid DSA memory alloc request size 1073741824",
    "dsa: allocate SIZE_MAX huge: ERROR: invalid DSA memory alloc request size 18446744073709551615",
    "dsa: allocate0: valid yes, zeroed yes; another: valid, distinct yes",
    "dsa: 3145728 bytes: valid yes, intact yes, first block untouched",
    "dsa: attach after the last detach: ERROR: could not attach to dynamic shared area",
    "dsa: limit 1 MB, 600 kB: valid",
    "dsa: 600 kB more: ERROR: out of memory DETAIL: Failed on DSA request of size 614400.",
    "dsa: 600 kB more with DSA_ALLOC_NO_OOM: invalid",
    "dsa: freed, 600 kB again: valid",
    "dsa: 2 MB under the limit: ERROR: out of memory DETAIL: Failed on DSA request of size 2097152.",
    "dsa: limit lifted, 2 MB: valid",
    "dsa: pinned, attached again: \"kept\"",
    "dsa: unpinned and detached, attach: ERROR: could not attach to dynamic shared area",
    "dsa: owner released, attach: ERROR: could not attach to dynamic shared area",
    "dsa: pinned mapping, owner released: large block intact",
    "dsa: in place: 1000 bytes intact, 2 MB intact",
    "dsa: worker 0: 400 blocks checked, 0 damaged, 4 larger than a segment, result intact",
    "dsa: worker 1: 400 blocks checked, 0 damaged, 4 larger than a segment, result intact",
    "dsa: worker 2: 400 blocks checked, 0 damaged, 4 larger than a segment, result intact",
    "dsa: after the workers, 3145728 bytes: intact",
    "dsa: done",
];

fn run_for(major: u32) {
    let _w = watchdog(180, &format!("dsa {major}"));
    let m = pgxs_module_for("dsa_module.c", major);
    let d = Daemon::builder(&format!("dsa-{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .start();
    d.wait_log("dsa: done", secs(120));
    assert_eq!(dsa_lines(&d.log_lines()), EXPECTED, "{}", d.log_text());
    // Every area is gone with its last reference: only the control
    // segment of the supervisor's dsm is left.
    let deadline = std::time::Instant::now() + secs(30);
    while dynamic_segments(d.pid()).len() > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        dynamic_segments(d.pid()),
        vec![format!("bgworker.{}.dsm", d.pid())]
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(60)).success(), "{}", d.log_text());
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
}
per_major!(dsa_under_bgworkerd, run_for);
