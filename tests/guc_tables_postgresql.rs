//! c-tests/gt_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! PostgreSQL's settings table (get_guc_variables, its records of
//! built-in, custom and placeholder settings, a record's variable rebound
//! and the configuration re-applied to it, as pg_wait_sampling does) and
//! guc.c's small lookups give the same "gt:" lines, and the same
//! "parameter ... changed" lines for the rebound settings.

mod common;

use common::*;

/// What both are configured with.
const CONF: &str = "gt.int = 42\ngt.str = 'configured'\ngt.enum = green\ngtx.placeholder = 'ph'\n";

fn matches_for(major: u32) {
    module_matches_postgresql(major, "gt_module.c", "gt:", CONF, &["parameter \"gt."]);
}
per_major!(guc_tables_match_postgresql, matches_for);
