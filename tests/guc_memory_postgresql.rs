//! c-tests/gm_module.c under the real PostgreSQL 17 and 18 servers and
//! under bgworkerd running the same module built for the same major:
//! guc.c's allocation functions (guc_malloc, guc_realloc, guc_strdup,
//! guc_free; 16 and later), in settings' check hooks and called directly,
//! give the same "gm:" lines, ERRORs included.

mod common;

use common::*;

/// What both are configured with.
const CONF: &str = "gm.scale = 3\ngm.name = 'hello'\n";

fn matches_for(major: u32) {
    module_matches_postgresql(major, "gm_module.c", "gm:", CONF, &[]);
}

// guc.c's allocation functions are static in 15: only 17 and 18 have them.
#[test]
fn guc_memory_matches_postgresql_17() {
    matches_for(17)
}

#[test]
fn guc_memory_matches_postgresql_18() {
    matches_for(18)
}
