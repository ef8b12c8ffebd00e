//! Validation of a worker definition, as PostgreSQL's
//! SanityCheckBackgroundWorker (same rules, same messages), plus the checks
//! PostgreSQL leaves to undefined behaviour (unterminated names).

use crate::abi::*;

/// Validate a definition the way PostgreSQL's SanityCheckBackgroundWorker
/// does, plus the checks PostgreSQL leaves to undefined behaviour
/// (unterminated names). On success fills `bgw_type` from `bgw_name` when
/// empty. On failure returns the message to report.
pub fn sanity_check(w: &mut BackgroundWorker) -> Result<(), String> {
    // Each name must end within its size in the caller's layout (the
    // library name: 96 bytes for 15's, MAXPGPATH for 17's and 18's).
    let lib = w.library_len();
    for (field, buf, len) in [
        ("bgw_name", &w.bgw_name[..], BGW_MAXLEN),
        ("bgw_type", &w.bgw_type[..], BGW_MAXLEN),
        ("bgw_library_name", &w.bgw_library_name[..lib], lib),
        ("bgw_function_name", &w.bgw_function_name[..], BGW_MAXLEN),
    ] {
        if !buf.contains(&0) {
            return Err(format!(
                "background worker \"{}\": {field} is not NUL-terminated within {len} bytes",
                fixed_str(&w.bgw_name_terminated())
            ));
        }
    }
    let name = w.name();
    if !w.flags().contains(WorkerFlags::SHMEM_ACCESS) {
        return Err(format!(
            "background worker \"{name}\": background workers without shared memory access are not supported"
        ));
    }
    if w.flags().contains(WorkerFlags::BACKEND_DATABASE_CONNECTION)
        && w.bgw_start_time == BgWorkerStart_PostmasterStart
    {
        return Err(format!(
            "background worker \"{name}\": cannot request database access if starting at postmaster start"
        ));
    }
    // PostgreSQL: at most USECS_PER_DAY / 1000 seconds.
    if (w.bgw_restart_time < 0 && w.bgw_restart_time != BGW_NEVER_RESTART)
        || w.bgw_restart_time > 86_400_000
    {
        return Err(format!(
            "background worker \"{name}\": invalid restart interval"
        ));
    }
    if w.bgw_restart_time != BGW_NEVER_RESTART && w.flags().contains(WorkerFlags::CLASS_PARALLEL) {
        return Err(format!(
            "background worker \"{name}\": parallel workers may not be configured for restart"
        ));
    }
    if w.bgw_start_time > BgWorkerStart_RecoveryFinished {
        return Err(format!(
            "background worker \"{name}\": invalid start time {}",
            w.bgw_start_time
        ));
    }
    if w.bgw_type[0] == 0 {
        w.bgw_type = w.bgw_name;
    }
    Ok(())
}

impl BackgroundWorker {
    fn bgw_name_terminated(&self) -> [std::os::raw::c_char; BGW_MAXLEN] {
        let mut n = self.bgw_name;
        n[BGW_MAXLEN - 1] = 0;
        n
    }
}
