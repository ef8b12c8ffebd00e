//! c-tests/wes_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major: wait
//! event sets over the latch, the server's death and a socket pair (a set
//! latch reported alone, sockets ready, timeouts, the latch left out and
//! back, a closed peer) and the ERRORs for bad use give the same lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "wes_module.c", "wes:", "", &[]);
}
per_major!(wait_event_sets_match_postgresql, matches_for);
