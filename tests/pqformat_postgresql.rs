//! c-tests/pq_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! pqformat on a StringInfo (a binary send value built and dumped byte by
//! byte, read back with pq_getmsg*, and PostgreSQL's ERRORs for short and
//! malformed messages with their SQLSTATEs) gives the same "pq:" lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "pq_module.c", "pq:", "", &[]);
}
per_major!(pqformat_matches_postgresql, matches_for);
