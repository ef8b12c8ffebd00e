//! dshash (lib/dshash.h) under bgworkerd alone, for modules built against
//! PostgreSQL 15's, 17's and 18's headers (c-tests/dh_module.c with
//! DH_SCENARIO=bad; tests/dshash_postgresql.rs compares the rest with the
//! real servers): parameters without their functions, handles that are no
//! table, deleting an entry not locked exclusively and deleting outside an
//! exclusive scan are ERRORs after which the table still works, and a table
//! filled until its area's size limit is out of memory keeps every entry
//! it had (PostgreSQL 15's own server crashes after that ERROR, so the
//! comparison leaves it out for 15); dshash_dump's report adds up.
//! Afterwards no segment is left.

mod common;

use common::pg::message_of;
use common::*;

const BAD: &[&str] = &[
    "dh: dshash_memhash(42) 1509752520, memcmp of equal keys 0",
    "dh: attach to InvalidDsaPointer: ERROR dshash_attach: handle 0 is not a dshash table of this area | - | - (ERROR)",
    "dh: attach to a block that is no table: ERROR dshash_attach: handle H is not a dshash table of this area | - | - (ERROR)",
    "dh: create without a hash function: ERROR dshash_create: dshash_parameters.hash_function is NULL | - | - (ERROR)",
    "dh: attach without a hash function: ERROR dshash_attach: dshash_parameters.hash_function is NULL | - | - (ERROR)",
    "dh: create without a compare function: ERROR dshash_create: dshash_parameters.compare_function is NULL | - | - (ERROR)",
    "dh: parameters NULL: ERROR dshash_create: no dshash_parameters | - | - (ERROR)",
    "dh: delete_entry under a shared lock: ERROR dshash_delete_entry: the entry is not locked exclusively by this process | - | - (ERROR)",
    "dh: delete_entry after its lock is released: ERROR dshash_delete_entry: the entry is not locked exclusively by this process | - | - (ERROR)",
    "dh: delete_current in a shared scan: ERROR dshash_delete_current: no current entry of an exclusive scan | - | - (ERROR)",
    "dh: delete_current before the first entry: ERROR dshash_delete_current: no current entry of an exclusive scan | - | - (ERROR)",
    "dh: bad: key 7 still found",
    "dh: bad: then 500 inserted, key 499 found",
    "dh: limited area: ERROR out of memory",
    "dh: limited area: every inserted key kept: yes, scan counts them: yes",
    "dh: limited area: delete_key after the error: true",
    "dh: done",
];

/// The lines of `major`: 17 and 18 also have the string and copy helpers
/// and the copy function in the parameters.
fn expected(major: u32) -> Vec<String> {
    let mut v: Vec<String> = BAD.iter().map(|s| s.to_string()).collect();
    if major >= 17 {
        v.insert(
            1,
            "dh: dshash_strhash(\"key-42\") STRHASH, strcmp 1, strcpy \"key-42\", memcpy 42".into(),
        );
        let i = v
            .iter()
            .position(|l| l.contains("parameters NULL"))
            .unwrap();
        v.insert(
            i,
            "dh: create without a copy function: ERROR dshash_create: dshash_parameters.copy_function is NULL | - | - (ERROR)"
                .into(),
        );
    }
    v
}

fn bad_for(major: u32) {
    let _w = watchdog(120, &format!("dshash bad input {major}"));
    let m = pgxs_module_for("dh_module.c", major);
    let d = Daemon::builder(&format!("dh-bad-{major}"))
        .preload(&[&m])
        .set(
            "dynamic_library_path",
            &m.parent().unwrap().display().to_string(),
        )
        .env("DH_SCENARIO", "bad")
        .start();
    d.wait_log("dh: done", secs(60));
    let lines: Vec<String> = d
        .log_lines()
        .iter()
        .map(|l| message_of(l))
        .filter(|m| m.contains("dh: "))
        .map(|m| m.strip_prefix("LOG:  ").unwrap_or(&m).to_string())
        // (where a block lies in the area is this layout's)
        .map(|l| match l.find("handle ") {
            Some(i) if !l[i + 7..].starts_with('0') => {
                let j = l[i + 7..].find(' ').unwrap() + i + 7;
                format!("{}handle H{}", &l[..i], &l[j..])
            }
            _ => l,
        })
        // (PostgreSQL's string_hash; the comparison test checks its value)
        .map(|l| match l.find(") ") {
            Some(i) if l.contains("dshash_strhash") => {
                let j = l[i + 2..].find(',').unwrap() + i + 2;
                format!("{}) STRHASH{}", &l[..i], &l[j..])
            }
            _ => l,
        })
        .collect();
    assert_eq!(lines, expected(major), "{}", d.log_text());
    // dshash_dump's report on stderr: 128 partitions whose counts, and
    // whose buckets' counts, add up to the 500 entries.
    let text = d.log_text();
    let count = |l: &str| -> usize {
        let n = l.rsplit_once("key count = ").unwrap().1;
        n.trim_end_matches(')').parse().unwrap()
    };
    let dump: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("hash table size = "))
        .collect();
    assert!(!dump.is_empty(), "no dshash_dump output: {text}");
    let parts = dump.iter().filter(|l| l.contains("partition ")).count();
    let by_partition: usize = dump
        .iter()
        .filter(|l| l.contains("active buckets (key count = "))
        .map(|l| count(l))
        .sum();
    let by_bucket: usize = dump
        .iter()
        .filter(|l| l.contains("bucket ") && !l.contains("active"))
        .map(|l| count(l))
        .sum();
    assert_eq!((parts, by_partition, by_bucket), (128, 500, 500), "{text}");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(secs(60)).success(), "{}", d.log_text());
    assert_eq!(dynamic_segments(d.pid()), Vec::<String>::new());
}
per_major!(bad_input, bad_for);
