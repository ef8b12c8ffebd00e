//! Identifier helpers (parser/scansup.h): the C in c/scansup.c, exported
//! here under PostgreSQL's names.

super::c_export! {
    downcase_identifier => bgw_c_downcase_identifier,
    downcase_truncate_identifier => bgw_c_downcase_truncate_identifier,
    truncate_identifier => bgw_c_truncate_identifier,
    scanner_isspace => bgw_c_scanner_isspace,
}
