//! Heap tuples in memory (access/htup_details.h): formed from Datums,
//! deformed, modified, copied, read attribute by attribute (with the
//! offsets cached in the descriptor as PostgreSQL caches them) and turned
//! into composite Datums (`heap_copy_tuple_as_datum`, funcapi.h's
//! `HeapTupleHeaderGetDatum`), through the tuple descriptors of tupdesc.rs.
//! The bodies are C (c/heaptuple.c).

super::c_export! {
    heap_compute_data_size => bgw_c_heap_compute_data_size,
    heap_fill_tuple => bgw_c_heap_fill_tuple,
    heap_form_tuple => bgw_c_heap_form_tuple,
    heap_deform_tuple => bgw_c_heap_deform_tuple,
    heap_modify_tuple => bgw_c_heap_modify_tuple,
    heap_modify_tuple_by_cols => bgw_c_heap_modify_tuple_by_cols,
    heap_attisnull => bgw_c_heap_attisnull,
    nocachegetattr => bgw_c_nocachegetattr,
    getmissingattr => bgw_c_getmissingattr,
    heap_getsysattr => bgw_c_heap_getsysattr,
    heap_copytuple => bgw_c_heap_copytuple,
    heap_copytuple_with_tuple => bgw_c_heap_copytuple_with_tuple,
    heap_freetuple => bgw_c_heap_freetuple,
    heap_copy_tuple_as_datum => bgw_c_heap_copy_tuple_as_datum,
    HeapTupleHeaderGetDatum => bgw_c_HeapTupleHeaderGetDatum,
}
