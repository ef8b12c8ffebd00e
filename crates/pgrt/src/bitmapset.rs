//! PostgreSQL's Bitmapset (nodes/bitmapset.h), every exported `bms_*`
//! function, implemented in c/bitmapset.c with the layout and rules of the
//! process's major (15 keeps empty sets and trailing zero words; 16 and
//! later carry a NodeTag, trim, and use NULL for the empty set).

super::c_export! {
    bms_add_member => bgw_c_bms_add_member,
    bms_add_members => bgw_c_bms_add_members,
    bms_add_range => bgw_c_bms_add_range,
    bms_compare => bgw_c_bms_compare,
    bms_copy => bgw_c_bms_copy,
    bms_del_member => bgw_c_bms_del_member,
    bms_del_members => bgw_c_bms_del_members,
    bms_difference => bgw_c_bms_difference,
    bms_equal => bgw_c_bms_equal,
    bms_first_member => bgw_c_bms_first_member,
    bms_free => bgw_c_bms_free,
    bms_get_singleton_member => bgw_c_bms_get_singleton_member,
    bms_hash_value => bgw_c_bms_hash_value,
    bms_int_members => bgw_c_bms_int_members,
    bms_intersect => bgw_c_bms_intersect,
    bms_is_empty => bgw_c_bms_is_empty,
    bms_is_member => bgw_c_bms_is_member,
    bms_is_subset => bgw_c_bms_is_subset,
    bms_join => bgw_c_bms_join,
    bms_make_singleton => bgw_c_bms_make_singleton,
    bms_member_index => bgw_c_bms_member_index,
    bms_membership => bgw_c_bms_membership,
    bms_next_member => bgw_c_bms_next_member,
    bms_nonempty_difference => bgw_c_bms_nonempty_difference,
    bms_num_members => bgw_c_bms_num_members,
    bms_overlap => bgw_c_bms_overlap,
    bms_overlap_list => bgw_c_bms_overlap_list,
    bms_prev_member => bgw_c_bms_prev_member,
    bms_replace_members => bgw_c_bms_replace_members,
    bms_singleton_member => bgw_c_bms_singleton_member,
    bms_subset_compare => bgw_c_bms_subset_compare,
    bms_union => bgw_c_bms_union,
}
