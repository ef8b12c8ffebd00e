//! Hex conversion (utils/adt/encode.c) and NameData helpers
//! (utils/adt/name.c): the C in c/hex_name.c, exported here under
//! PostgreSQL's names.

super::c_export! {
    hex_encode => bgw_c_hex_encode,
    hex_decode => bgw_c_hex_decode,
    namestrcpy => bgw_c_namestrcpy,
    namestrcmp => bgw_c_namestrcmp,
}
