//! Concurrent hash tables in a dynamic shared area (lib/dshash.h): entries
//! in the area's memory, partitioned by hash under LWLocks in the area, so
//! that every process attached to the table sees and changes the same
//! entries.
//!
//! The whole of it is C (c/dshash.c), on the runtime's dsa (c/dsa.c) and
//! LWLocks (src/lwlock.rs); here only its exports under PostgreSQL's names.
//! 17 added the copy function (`dshash_parameters.copy_function`,
//! `dshash_memcpy`) and the string helpers (`dshash_strcmp`,
//! `dshash_strhash`, `dshash_strcpy`); the parameters are read in the
//! running major's layout.

super::c_export! {
    dshash_create => bgw_c_dshash_create,
    dshash_attach => bgw_c_dshash_attach,
    dshash_detach => bgw_c_dshash_detach,
    dshash_destroy => bgw_c_dshash_destroy,
    dshash_get_hash_table_handle => bgw_c_dshash_get_hash_table_handle,
    dshash_find => bgw_c_dshash_find,
    dshash_find_or_insert => bgw_c_dshash_find_or_insert,
    dshash_delete_key => bgw_c_dshash_delete_key,
    dshash_delete_entry => bgw_c_dshash_delete_entry,
    dshash_release_lock => bgw_c_dshash_release_lock,
    dshash_seq_init => bgw_c_dshash_seq_init,
    dshash_seq_next => bgw_c_dshash_seq_next,
    dshash_seq_term => bgw_c_dshash_seq_term,
    dshash_delete_current => bgw_c_dshash_delete_current,
    dshash_memcmp => bgw_c_dshash_memcmp,
    dshash_memhash => bgw_c_dshash_memhash,
    dshash_memcpy => bgw_c_dshash_memcpy,
    dshash_strcmp => bgw_c_dshash_strcmp,
    dshash_strhash => bgw_c_dshash_strhash,
    dshash_strcpy => bgw_c_dshash_strcpy,
    dshash_dump => bgw_c_dshash_dump,
}
