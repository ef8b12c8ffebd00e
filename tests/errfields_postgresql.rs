//! c-tests/ep_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major: error
//! positions ("at character N"), internal queries (QUERY lines), object
//! identity fields, geterrposition in a context callback, error_severity,
//! and PostgreSQL's ERROR for an unknown field give the same lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(
        major,
        "ep_module.c",
        "ep:",
        "",
        &[
            "QUERY:",
            "DETAIL:  with",
            "HINT:  and",
            "WARNING:  ep:",
            "DETAIL:  ep:",
        ],
    );
}
per_major!(error_fields_match_postgresql, matches_for);
