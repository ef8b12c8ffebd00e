//! The allocation functions `palloc_array` and friends compile to
//! (`palloc_mul`, `palloc0_mul`, `palloc_mul_extended`, `repalloc_mul`,
//! `repalloc_mul_extended`: overflow-checked sizes), and
//! `repalloc_extended`, `repalloc_huge`, `repalloc0` (utils/palloc.h).
//! The bodies are C (c/mcxt_alloc.c) over mcxt.rs's allocator.

super::c_export! {
    palloc_mul => bgw_c_palloc_mul,
    palloc0_mul => bgw_c_palloc0_mul,
    palloc_mul_extended => bgw_c_palloc_mul_extended,
    repalloc_mul => bgw_c_repalloc_mul,
    repalloc_mul_extended => bgw_c_repalloc_mul_extended,
    repalloc_extended => bgw_c_repalloc_extended,
    repalloc_huge => bgw_c_repalloc_huge,
    repalloc0 => bgw_c_repalloc0,
}
