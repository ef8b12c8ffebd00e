//! `pg_strong_random`, `pg_strong_random_init` and `timingsafe_bcmp`
//! (port.h): the C in c/strong_random.c, exported here under PostgreSQL's
//! names.

super::c_export! {
    pg_strong_random => bgw_c_pg_strong_random,
    pg_strong_random_init => bgw_c_pg_strong_random_init,
    timingsafe_bcmp => bgw_c_timingsafe_bcmp,
}
