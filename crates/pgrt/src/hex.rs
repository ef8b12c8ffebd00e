//! Hex conversion (utils/adt/encode.c): the C in c/hex.c, exported here
//! under PostgreSQL's names.

super::c_export! {
    hex_encode => bgw_c_hex_encode,
    hex_decode => bgw_c_hex_decode,
}
