//! The statement and transaction timestamps of a process without a
//! database connection (c/session.c; no transaction ever starts), and
//! PostgreSQL 15's `MemoryContextAllocZeroAligned` (`MemoryContextAllocZero`'s
//! body: the alignment only made PostgreSQL's zeroing faster).

super::c_export! {
    SetCurrentStatementStartTimestamp => bgw_c_SetCurrentStatementStartTimestamp,
    GetCurrentStatementStartTimestamp => bgw_c_GetCurrentStatementStartTimestamp,
    GetCurrentTransactionStartTimestamp => bgw_c_GetCurrentTransactionStartTimestamp,
    GetCurrentTransactionStopTimestamp => bgw_c_GetCurrentTransactionStopTimestamp,
    MemoryContextAllocZeroAligned => bgw_c_MemoryContextAllocZero,
}
