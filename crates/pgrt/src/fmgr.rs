//! fmgr's calls that need no catalog (fmgr.h): `DirectFunctionCallNColl`,
//! `FunctionCallNColl` through an `FmgrInfo` the caller filled, and
//! `CallerFInfoFunctionCallN`, with PostgreSQL's ERROR for a NULL result.
//! The bodies are C (c/fmgr.c): they call module functions, which may
//! raise ERROR, so no Rust frame may sit between.

super::c_export! {
    DirectFunctionCall1Coll => bgw_c_DirectFunctionCall1Coll,
    DirectFunctionCall2Coll => bgw_c_DirectFunctionCall2Coll,
    DirectFunctionCall3Coll => bgw_c_DirectFunctionCall3Coll,
    DirectFunctionCall4Coll => bgw_c_DirectFunctionCall4Coll,
    DirectFunctionCall5Coll => bgw_c_DirectFunctionCall5Coll,
    DirectFunctionCall6Coll => bgw_c_DirectFunctionCall6Coll,
    DirectFunctionCall7Coll => bgw_c_DirectFunctionCall7Coll,
    DirectFunctionCall8Coll => bgw_c_DirectFunctionCall8Coll,
    DirectFunctionCall9Coll => bgw_c_DirectFunctionCall9Coll,
    FunctionCall0Coll => bgw_c_FunctionCall0Coll,
    FunctionCall1Coll => bgw_c_FunctionCall1Coll,
    FunctionCall2Coll => bgw_c_FunctionCall2Coll,
    FunctionCall3Coll => bgw_c_FunctionCall3Coll,
    FunctionCall4Coll => bgw_c_FunctionCall4Coll,
    FunctionCall5Coll => bgw_c_FunctionCall5Coll,
    FunctionCall6Coll => bgw_c_FunctionCall6Coll,
    FunctionCall7Coll => bgw_c_FunctionCall7Coll,
    FunctionCall8Coll => bgw_c_FunctionCall8Coll,
    FunctionCall9Coll => bgw_c_FunctionCall9Coll,
    CallerFInfoFunctionCall1 => bgw_c_CallerFInfoFunctionCall1,
    CallerFInfoFunctionCall2 => bgw_c_CallerFInfoFunctionCall2,
}
