//! c-tests/nu_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! integer parsing (with 16's base prefixes and underscores from 17 on)
//! and printing, identifier downcasing and truncation (the NOTICE too),
//! the scanner's white space, hex and NameData give the same lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(
        major,
        "nu_module.c",
        "nu:",
        "log_min_messages = notice\n",
        &["NOTICE:  identifier"],
    );
}
per_major!(numutils_match_postgresql, matches_for);
