//! guc.c's allocation functions of PostgreSQL 16 and later (`guc_malloc`,
//! `guc_realloc`, `guc_strdup`, `guc_free`), in C (c/guc_memory.c): the C
//! heap, the memory the runtime's settings use for every major.

crate::c_export! {
    guc_malloc => bgw_c_guc_malloc,
    guc_realloc => bgw_c_guc_realloc,
    guc_strdup => bgw_c_guc_strdup,
    guc_free => bgw_c_guc_free,
}
