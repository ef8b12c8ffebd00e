//! Integer parsing and printing (utils/adt/numutils.c): the C in
//! c/numutils.c, exported here under PostgreSQL's names.

super::c_export! {
    pg_strtoint16 => bgw_c_pg_strtoint16,
    pg_strtoint32 => bgw_c_pg_strtoint32,
    pg_strtoint64 => bgw_c_pg_strtoint64,
    pg_itoa => bgw_c_pg_itoa,
    pg_ltoa => bgw_c_pg_ltoa,
    pg_lltoa => bgw_c_pg_lltoa,
    pg_ultoa_n => bgw_c_pg_ultoa_n,
    pg_ulltoa_n => bgw_c_pg_ulltoa_n,
    pg_ultostr => bgw_c_pg_ultostr,
    pg_ultostr_zeropad => bgw_c_pg_ultostr_zeropad,
}
