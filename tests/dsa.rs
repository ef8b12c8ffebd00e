//! Dynamic shared areas (utils/dsa.h) under bgworkerd, for modules built
//! against PostgreSQL 15's, 17's and 18's headers (c-tests/dsa_module.c;
//! tests/dsa_postgresql.rs compares the same lines with the real servers):
//! the calls and their ERRORs (bad handles, bad sizes, pins, the size
//! limit and its "out of memory" with DETAIL), blocks larger than a
//! segment, resource owners, an area in place, and three workers that
//! attach through the handle in bgw_main_arg and allocate, write, check
//! and free at once; afterwards no segment of the areas is left.

mod common;

use common::*;

/// The lines of every major; [`expected`] adds 17's and 18's.
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
    "dsa: trimmed, 2 MB block kept",
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

/// The lines of `major`: 17 and 18 also report `dsa_get_total_size` and
/// create an area with `dsa_create_ext`'s segment sizes.
pub fn expected(major: u32) -> Vec<String> {
    let mut v: Vec<String> = EXPECTED.iter().map(|s| s.to_string()).collect();
    if major >= 17 {
        v.insert(1, "dsa: total size after create: 1048576".into());
        let i = v
            .iter()
            .position(|l| l.starts_with("dsa: trimmed"))
            .unwrap()
            + 1;
        for (k, l) in [
            "dsa: create_ext 256 kB..1 MB: total 262144",
            "dsa: 2 MB, beyond the maximum segment size: intact",
            "dsa: 512 kB: valid",
        ]
        .iter()
        .enumerate()
        {
            v.insert(i + k, l.to_string());
        }
    }
    v
}

const BAD: &[&str] = &[
    "dsa: attach a segment that is no area: ERROR: could not attach to dynamic shared area",
    "dsa: free inside a block: ERROR: dsa_free of an invalid dsa_pointer P",
    "dsa: free twice: ERROR: dsa_free of an invalid dsa_pointer P",
    "dsa: address in a segment never made: ERROR: dsa_area could not attach to a segment that has been freed",
    "dsa: address beyond the segments: ERROR: invalid dsa_pointer 0013880000000040",
    "dsa: in place in 100 bytes: ERROR: dsa_area space must be at least MIN, but 100 provided",
    "dsa: bad: then 5000 bytes intact",
    "dsa: done",
];

/// Bad input: each case an ERROR that leaves the area's lock free (the
/// module does not release LWLocks after these), and the area works
/// afterwards.
fn bad_for(major: u32) {
    let _w = watchdog(120, &format!("dsa bad input {major}"));
    let m = pgxs_module_for("dsa_module.c", major);
    let d = Daemon::builder(&format!("dsa-bad-{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .env("DSA_SCENARIO", "bad")
        .start();
    d.wait_log("dsa: done", secs(60));
    let lines: Vec<String> = dsa_lines(&d.log_lines())
        .into_iter()
        .map(|l| match l.strip_prefix("dsa: free") {
            // (where the blocks are is this layout's)
            Some(_) => format!("{} P", l.rsplit_once(' ').unwrap().0),
            None => l,
        })
        .map(|l| match l.find("at least ") {
            Some(i) => {
                let j = l[i + 9..].find(',').unwrap() + i + 9;
                format!("{}at least MIN{}", &l[..i], &l[j..])
            }
            None => l,
        })
        .collect();
    assert_eq!(lines, BAD, "{}", d.log_text());
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(60)).success(), "{}", d.log_text());
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
}
per_major!(bad_input, bad_for);

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
    assert_eq!(
        dsa_lines(&d.log_lines()),
        expected(major),
        "{}",
        d.log_text()
    );
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
