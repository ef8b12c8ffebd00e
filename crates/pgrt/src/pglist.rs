//! PostgreSQL 15's `List` functions (nodes/pg_list.h), implemented in
//! c/list.c with PostgreSQL's layout and growth rules; exported here under
//! PostgreSQL's names. The functions that compare or copy nodes
//! (`list_member`, `list_delete`, `list_union`, `list_copy_deep`, ...)
//! need the server's node functions and stay entries that end the caller
//! with a FATAL naming them.

super::c_export! {
    list_make1_impl => bgw_c_list_make1_impl,
    list_make2_impl => bgw_c_list_make2_impl,
    list_make3_impl => bgw_c_list_make3_impl,
    list_make4_impl => bgw_c_list_make4_impl,
    list_make5_impl => bgw_c_list_make5_impl,
    lappend => bgw_c_lappend,
    lappend_int => bgw_c_lappend_int,
    lappend_oid => bgw_c_lappend_oid,
    lcons => bgw_c_lcons,
    lcons_int => bgw_c_lcons_int,
    lcons_oid => bgw_c_lcons_oid,
    list_insert_nth => bgw_c_list_insert_nth,
    list_insert_nth_int => bgw_c_list_insert_nth_int,
    list_insert_nth_oid => bgw_c_list_insert_nth_oid,
    list_copy => bgw_c_list_copy,
    list_copy_tail => bgw_c_list_copy_tail,
    list_concat => bgw_c_list_concat,
    list_concat_copy => bgw_c_list_concat_copy,
    list_truncate => bgw_c_list_truncate,
    list_free => bgw_c_list_free,
    list_free_deep => bgw_c_list_free_deep,
    list_delete_nth_cell => bgw_c_list_delete_nth_cell,
    list_delete_cell => bgw_c_list_delete_cell,
    list_delete_first => bgw_c_list_delete_first,
    list_delete_last => bgw_c_list_delete_last,
    list_member_ptr => bgw_c_list_member_ptr,
    list_member_int => bgw_c_list_member_int,
    list_member_oid => bgw_c_list_member_oid,
    list_delete_ptr => bgw_c_list_delete_ptr,
    list_delete_int => bgw_c_list_delete_int,
    list_delete_oid => bgw_c_list_delete_oid,
    list_append_unique_ptr => bgw_c_list_append_unique_ptr,
    list_append_unique_int => bgw_c_list_append_unique_int,
    list_append_unique_oid => bgw_c_list_append_unique_oid,
    list_concat_unique_ptr => bgw_c_list_concat_unique_ptr,
    list_concat_unique_int => bgw_c_list_concat_unique_int,
    list_concat_unique_oid => bgw_c_list_concat_unique_oid,
    list_sort => bgw_c_list_sort,
    list_int_cmp => bgw_c_list_int_cmp,
    list_oid_cmp => bgw_c_list_oid_cmp,
}
