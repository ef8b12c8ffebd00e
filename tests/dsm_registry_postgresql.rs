//! c-tests/nd_module.c under the real PostgreSQL 17 and 18 servers and
//! under bgworkerd running the same module built for the same major:
//! named dynamic shared memory segments (GetNamedDSMSegment, 17 and
//! later), created once, found by name in a second worker, and their
//! ERRORs, give the same "nd:" lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "nd_module.c", "nd:", "", &[]);
}

// The registry exists from 17 on.
#[test]
fn dsm_registry_matches_postgresql_17() {
    matches_for(17)
}

#[test]
fn dsm_registry_matches_postgresql_18() {
    matches_for(18)
}
