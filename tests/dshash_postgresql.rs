//! c-tests/dh_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! dshash tables with int and string keys, grown to thousands of entries,
//! used by two workers at once, scanned (deleting during a scan), filled
//! until their area is out of memory and destroyed give the same "dh:"
//! lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "dh_module.c", "dh:", "", &[]);
}
per_major!(dshash_matches_postgresql, matches_for);
