//! Dynamic shared areas (utils/dsa.h): an allocator over dynamic shared
//! memory whose `dsa_pointer` values are valid in every attached process.
//!
//! The whole of it is C (c/dsa.c), built on the runtime's dsm (c/dsm.c)
//! and LWLocks (src/lwlock.rs); here only its exports under PostgreSQL's
//! names. 15 exports `dsa_create` and `dsa_create_in_place`; 17 and 18 make
//! them macros over `dsa_create_ext` and `dsa_create_in_place_ext` and add
//! `dsa_get_total_size`: every name is exported for every major.

super::c_export! {
    dsa_create => bgw_c_dsa_create,
    dsa_create_ext => bgw_c_dsa_create_ext,
    dsa_create_in_place => bgw_c_dsa_create_in_place,
    dsa_create_in_place_ext => bgw_c_dsa_create_in_place_ext,
    dsa_attach => bgw_c_dsa_attach,
    dsa_attach_in_place => bgw_c_dsa_attach_in_place,
    dsa_release_in_place => bgw_c_dsa_release_in_place,
    dsa_on_dsm_detach_release_in_place => bgw_c_dsa_on_dsm_detach_release_in_place,
    dsa_on_shmem_exit_release_in_place => bgw_c_dsa_on_shmem_exit_release_in_place,
    dsa_pin_mapping => bgw_c_dsa_pin_mapping,
    dsa_detach => bgw_c_dsa_detach,
    dsa_pin => bgw_c_dsa_pin,
    dsa_unpin => bgw_c_dsa_unpin,
    dsa_set_size_limit => bgw_c_dsa_set_size_limit,
    dsa_get_total_size => bgw_c_dsa_get_total_size,
    dsa_minimum_size => bgw_c_dsa_minimum_size,
    dsa_get_handle => bgw_c_dsa_get_handle,
    dsa_allocate_extended => bgw_c_dsa_allocate_extended,
    dsa_free => bgw_c_dsa_free,
    dsa_get_address => bgw_c_dsa_get_address,
    dsa_trim => bgw_c_dsa_trim,
    dsa_dump => bgw_c_dsa_dump,
}
