//! c-tests/r18_module.c under the real PostgreSQL 18 server and under
//! bgworkerd running the same module built for 18: the registrations of
//! 18 that modules make in _PG_init (pgstat_register_kind,
//! GetExplainExtensionId, RegisterExtensionExplainOption) give the same
//! "r18:" lines, ERRORs included, and the same "registered custom
//! cumulative statistics" LOG lines.

mod common;

use common::*;

// These registrations exist from 18 on.
#[test]
fn registrations_match_postgresql_18() {
    module_matches_postgresql(
        18,
        "r18_module.c",
        "r18:",
        "",
        &["registered custom cumulative statistics"],
    );
}
