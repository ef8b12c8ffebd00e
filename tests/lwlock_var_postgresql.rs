//! c-tests/lv_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major:
//! LWLockAcquireOrWait and a lock's variable (LWLockWaitForVar woken by
//! LWLockUpdateVar and by LWLockReleaseClearVar, and at once when the
//! variable differs or the lock is free) give the same "lv:" lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "lv_module.c", "lv:", "", &[]);
}
per_major!(lwlock_variables_match_postgresql, matches_for);
