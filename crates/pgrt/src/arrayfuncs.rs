//! Arrays built and taken apart in memory (utils/array.h), with
//! PostgreSQL's layout and ERRORs: `construct_array`, `construct_md_array`,
//! `construct_empty_array`, `deconstruct_array`, the `_builtin` forms,
//! `ArrayGetNItems`, `ArrayCheckBounds`, and iteration with the caller's
//! `ArrayMetaState`. The bodies are C
//! (c/arrayfuncs.c).

super::c_export! {
    construct_array => bgw_c_construct_array,
    construct_md_array => bgw_c_construct_md_array,
    construct_empty_array => bgw_c_construct_empty_array,
    construct_array_builtin => bgw_c_construct_array_builtin,
    deconstruct_array => bgw_c_deconstruct_array,
    deconstruct_array_builtin => bgw_c_deconstruct_array_builtin,
    ArrayGetNItems => bgw_c_ArrayGetNItems,
    ArrayCheckBounds => bgw_c_ArrayCheckBounds,
    array_create_iterator => bgw_c_array_create_iterator,
    array_iterate => bgw_c_array_iterate,
    array_free_iterator => bgw_c_array_free_iterator,
}
