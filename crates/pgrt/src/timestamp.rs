//! Timestamp helpers modules call without a database (utils/timestamp.h,
//! utils/datetime.h), implemented in c/timestamp.c: conversions to and
//! from Unix time, comparison, Julian days, and `timestamptz_to_str` in the
//! TimeZone setting's zone. (`GetCurrentTimestamp` and the
//! `TimestampDifference*` family are in misc.rs.)

super::c_export! {
    timestamptz_to_time_t => bgw_c_timestamptz_to_time_t,
    time_t_to_timestamptz => bgw_c_time_t_to_timestamptz,
    timestamptz_to_str => bgw_c_timestamptz_to_str,
    timestamp_cmp_internal => bgw_c_timestamp_cmp_internal,
    date2j => bgw_c_date2j,
    j2date => bgw_c_j2date,
}
