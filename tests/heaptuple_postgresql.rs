//! c-tests/tu_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! tuple descriptors (built-in entries, copies with and without
//! constraints, comparison, hashing, reference counts) and heap tuples
//! (formed from int4, int8, float8, bool and text Datums with and without
//! NULLs, their bytes, deformed, read with heap_getattr and
//! nocachegetattr, copied, modified, missing values of added columns)
//! give the same "tu:" lines, ERRORs included, in each major's layout.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "tu_module.c", "tu:", "", &[]);
}
per_major!(heap_tuples_match_postgresql, matches_for);
