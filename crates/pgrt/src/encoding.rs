//! The encodings of a process without a database connection (c/encoding.c):
//! SQL_ASCII for the database and the client, as PostgreSQL's before a
//! connection sets them, the multibyte helpers that follow from it, and
//! validation with PostgreSQL's own verifiers (libpgcommon).

super::c_export! {
    GetDatabaseEncoding => bgw_c_GetDatabaseEncoding,
    GetDatabaseEncodingName => bgw_c_GetDatabaseEncodingName,
    pg_database_encoding_max_length => bgw_c_pg_database_encoding_max_length,
    pg_get_client_encoding => bgw_c_pg_get_client_encoding,
    pg_get_client_encoding_name => bgw_c_pg_get_client_encoding_name,
    pg_mblen => bgw_c_pg_mblen,
    pg_mbstrlen => bgw_c_pg_mbstrlen,
    pg_mbstrlen_with_len => bgw_c_pg_mbstrlen_with_len,
    pg_mbcliplen => bgw_c_pg_mbcliplen,
    pg_mbcharcliplen => bgw_c_pg_mbcharcliplen,
    pg_verify_mbstr => bgw_c_pg_verify_mbstr,
    pg_verifymbstr => bgw_c_pg_verifymbstr,
    pg_do_encoding_conversion => bgw_c_pg_do_encoding_conversion,
    pg_any_to_server => bgw_c_pg_any_to_server,
    pg_server_to_any => bgw_c_pg_server_to_any,
    pg_client_to_server => bgw_c_pg_client_to_server,
    pg_server_to_client => bgw_c_pg_server_to_client,
}
