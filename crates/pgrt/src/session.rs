//! The transaction state and the statement and transaction timestamps of
//! a process without a database connection (c/session.c; no transaction
//! ever starts), and
//! PostgreSQL 15's `MemoryContextAllocZeroAligned` (`MemoryContextAllocZero`'s
//! body: the alignment only made PostgreSQL's zeroing faster).

super::c_export! {
    SetCurrentStatementStartTimestamp => bgw_c_SetCurrentStatementStartTimestamp,
    GetCurrentStatementStartTimestamp => bgw_c_GetCurrentStatementStartTimestamp,
    GetCurrentTransactionStartTimestamp => bgw_c_GetCurrentTransactionStartTimestamp,
    GetCurrentTransactionStopTimestamp => bgw_c_GetCurrentTransactionStopTimestamp,
    IsTransactionState => bgw_c_IsTransactionState,
    IsAbortedTransactionBlockState => bgw_c_IsAbortedTransactionBlockState,
    IsTransactionBlock => bgw_c_IsTransactionBlock,
    IsTransactionOrTransactionBlock => bgw_c_IsTransactionOrTransactionBlock,
    IsSubTransaction => bgw_c_IsSubTransaction,
    IsInParallelMode => bgw_c_IsInParallelMode,
    GetCurrentTransactionNestLevel => bgw_c_GetCurrentTransactionNestLevel,
    TransactionBlockStatusCode => bgw_c_TransactionBlockStatusCode,
    GetTopTransactionIdIfAny => bgw_c_GetTopTransactionIdIfAny,
    GetCurrentTransactionIdIfAny => bgw_c_GetCurrentTransactionIdIfAny,
    GetTopFullTransactionIdIfAny => bgw_c_GetTopFullTransactionIdIfAny,
    GetCurrentFullTransactionIdIfAny => bgw_c_GetCurrentFullTransactionIdIfAny,
    GetCurrentSubTransactionId => bgw_c_GetCurrentSubTransactionId,
    GetCurrentCommandId => bgw_c_GetCurrentCommandId,
    MemoryContextAllocZeroAligned => bgw_c_MemoryContextAllocZero,
}
