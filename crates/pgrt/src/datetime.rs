//! Breaking timestamps into fields and printing them (utils/datetime.h,
//! utils/timestamp.h), implemented in c/datetime.c: `timestamp2tm`,
//! `EncodeDateTime` and `GetSQLCurrentTimestamp`; this file has their
//! exports and the ERRORs the C half reports.

use std::ffi::c_int;

use super::elog::{raise, ERRCODE_INVALID_PARAMETER_VALUE};
use crate::log::ERROR;

super::c_export! {
    timestamp2tm => bgw_c_timestamp2tm_raising,
    EncodeDateTime => bgw_c_EncodeDateTime,
    GetSQLCurrentTimestamp => bgw_c_GetSQLCurrentTimestamp,
}

/// Record the ERROR of c/datetime.c's case `kind` (2: a timestamp
/// precision `value` outside 0 .. 6); the C caller raises it.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_datetime_error(kind: c_int, value: c_int) {
    super::guard("bgw_rs_datetime_error", (), || {
        debug_assert_eq!(kind, 2);
        raise(
            ERROR,
            ERRCODE_INVALID_PARAMETER_VALUE,
            format!("timestamp({value}) precision must be between 0 and 6"),
            None,
        )
    })
}
