//! `max_stack_depth` as PostgreSQL's postmaster sets it at start
//! (guc.c's InitializeGUCOptions): from its boot value (100 kB) up to what
//! the process's stack limit (`RLIMIT_STACK`) allows less 512 kB, at most
//! 2048 kB, with the source "environment variable", so that a configured
//! value still wins. Run once, when a process's built-in settings are
//! registered (before the configuration is applied and before
//! `_PG_init`); forked workers inherit the value.

use super::*;

/// GucSource's PGC_S_ENV_VAR.
const PGC_S_ENV_VAR: c_int = 1;
/// STACK_DEPTH_SLOP: what the check leaves of the stack limit.
const STACK_DEPTH_SLOP: i64 = 512 * 1024;

/// The stack limit in bytes (`isize::MAX` when unlimited), or -1 when
/// unknown, as PostgreSQL's get_stack_depth_rlimit.
fn stack_rlimit() -> i64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut rl) } < 0 {
        return -1;
    }
    if rl.rlim_cur == libc::RLIM_INFINITY || rl.rlim_cur >= isize::MAX as libc::rlim_t {
        return isize::MAX as i64;
    }
    rl.rlim_cur as i64
}

/// Raise `max_stack_depth` as the postmaster does (see the module's head);
/// nothing when the limit is unknown or leaves no more than 100 kB.
pub(super) fn apply_stack_rlimit() {
    let limit = stack_rlimit();
    if limit <= 0 {
        return;
    }
    let new_limit = (limit - STACK_DEPTH_SLOP) / 1024;
    if new_limit <= 100 {
        return;
    }
    let value = new_limit.min(2048).to_string();
    let found = registry(|r| r.vars.iter().find(|v| v.name == "max_stack_depth").cloned());
    let Some(v) = found else {
        return;
    };
    if let Ok(parsed) = parse_value(&v, &value) {
        // Within the setting's range by construction; a refusal leaves
        // the boot value, as PostgreSQL's SetConfigOption would.
        let _ = store(&v, parsed, PGC_S_ENV_VAR);
    }
}
