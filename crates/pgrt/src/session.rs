//! What a process without a database connection sees of its session
//! (c/session.c): the encodings (SQL_ASCII, as PostgreSQL's before a
//! connection sets them), the statement and transaction timestamps (no
//! transaction ever starts), and PostgreSQL 15's
//! `MemoryContextAllocZeroAligned` (`MemoryContextAllocZero`'s body: the
//! alignment only made PostgreSQL's zeroing faster).

super::c_export! {
    GetDatabaseEncoding => bgw_c_GetDatabaseEncoding,
    GetDatabaseEncodingName => bgw_c_GetDatabaseEncodingName,
    pg_database_encoding_max_length => bgw_c_pg_database_encoding_max_length,
    pg_get_client_encoding => bgw_c_pg_get_client_encoding,
    pg_get_client_encoding_name => bgw_c_pg_get_client_encoding_name,
    SetCurrentStatementStartTimestamp => bgw_c_SetCurrentStatementStartTimestamp,
    GetCurrentStatementStartTimestamp => bgw_c_GetCurrentStatementStartTimestamp,
    GetCurrentTransactionStartTimestamp => bgw_c_GetCurrentTransactionStartTimestamp,
    GetCurrentTransactionStopTimestamp => bgw_c_GetCurrentTransactionStopTimestamp,
    MemoryContextAllocZeroAligned => bgw_c_MemoryContextAllocZero,
}
