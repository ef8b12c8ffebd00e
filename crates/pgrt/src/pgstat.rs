//! Activity and statistics reporting (utils/backend_status.h, pgstat.h):
//! PostgreSQL publishes these in shared memory for `pg_stat_activity` and
//! the cumulative statistics views, which need the database server to be
//! read at all. Here nothing can read them, so the calls are accepted and
//! do nothing, with PostgreSQL 15's signatures; nothing is ever pending.
//! Any process may call them.

use std::ffi::{c_char, c_int, c_long};

/// `pgstat_report_activity(BackendState state, const char *cmd_str)`.
#[unsafe(no_mangle)]
pub extern "C" fn pgstat_report_activity(_state: c_int, _cmd_str: *const c_char) {}

/// `pgstat_report_appname(const char *appname)`.
#[unsafe(no_mangle)]
pub extern "C" fn pgstat_report_appname(_appname: *const c_char) {}

/// `long pgstat_report_stat(bool force)`: no statistics are ever pending,
/// so, as PostgreSQL with nothing to flush, 0.
#[unsafe(no_mangle)]
pub extern "C" fn pgstat_report_stat(_force: bool) -> c_long {
    0
}
