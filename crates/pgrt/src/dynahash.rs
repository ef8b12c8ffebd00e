//! PostgreSQL 15's hash tables (utils/hsearch.h) and `ShmemInitHash`,
//! implemented in c/dynahash.c with PostgreSQL's linear hashing, so that
//! sequential scans visit entries in PostgreSQL's order, and with shared
//! tables that fit in `hash_estimate_size` as PostgreSQL computes it;
//! exported here under PostgreSQL's names. Not here:
//! `hash_update_hash_key`, `hash_stats` (entries that end the caller with a
//! FATAL naming them).

super::c_export! {
    hash_create => bgw_c_hash_create,
    hash_destroy => bgw_c_hash_destroy,
    hash_search => bgw_c_hash_search,
    hash_search_with_hash_value => bgw_c_hash_search_with_hash_value,
    get_hash_value => bgw_c_get_hash_value,
    hash_get_num_entries => bgw_c_hash_get_num_entries,
    hash_seq_init => bgw_c_hash_seq_init,
    hash_seq_search => bgw_c_hash_seq_search,
    hash_seq_term => bgw_c_hash_seq_term,
    hash_estimate_size => bgw_c_hash_estimate_size,
    hash_select_dirsize => bgw_c_hash_select_dirsize,
    hash_get_shared_size => bgw_c_hash_get_shared_size,
    ShmemInitHash => bgw_c_ShmemInitHash,
    hash_freeze => bgw_c_hash_freeze,
    hash_update_hash_key => bgw_c_hash_update_hash_key,
}
