//! Memory-context functions that move a context in the tree or look at
//! it (utils/memutils.h): `MemoryContextSetParent`, `MemoryContextGetParent`,
//! `MemoryContextIsEmpty`, `MemoryContextResetOnly`,
//! `MemoryContextResetChildren`, `MemoryContextSetIdentifier`,
//! `MemoryContextAllowInCriticalSection`, and `pchomp`. The bodies are C
//! (c/mcxt_tree.c) on the contexts of mcxt.rs.

super::c_export! {
    MemoryContextSetParent => bgw_c_MemoryContextSetParent,
    MemoryContextGetParent => bgw_c_MemoryContextGetParent,
    MemoryContextIsEmpty => bgw_c_MemoryContextIsEmpty,
    MemoryContextResetOnly => bgw_c_MemoryContextResetOnly,
    MemoryContextResetChildren => bgw_c_MemoryContextResetChildren,
    MemoryContextSetIdentifier => bgw_c_MemoryContextSetIdentifier,
    MemoryContextAllowInCriticalSection => bgw_c_MemoryContextAllowInCriticalSection,
    pchomp => bgw_c_pchomp,
}
