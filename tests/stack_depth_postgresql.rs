//! c-tests/sd_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major: the
//! stack depth check (check_stack_depth's ERROR with its SQLSTATE and hint
//! from a deep recursion, none from a shallow one; set_stack_base and
//! restore_stack_base moving the reference point) gives the same "sd:"
//! lines, with max_stack_depth = 1000kB and with the value each sets from
//! the stack's limit at start (2048kB under an 8 MB limit).

mod common;

use common::*;

fn configured(major: u32) {
    module_matches_postgresql(major, "sd_module.c", "sd:", "max_stack_depth = 1000\n", &[]);
}
per_major!(stack_depth_matches_postgresql, configured);

fn from_the_stack_limit(major: u32) {
    module_matches_postgresql(major, "sd_module.c", "sd:", "", &[]);
}
per_major!(
    stack_depth_from_the_rlimit_matches_postgresql,
    from_the_stack_limit
);
