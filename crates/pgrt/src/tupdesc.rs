//! Tuple descriptors (access/tupdesc.h) in the layout of the process's
//! major (18's carries a CompactAttribute per attribute), without a
//! catalog: created, copied (with or without constraints), compared,
//! hashed, reference-counted and freed, and filled with
//! `TupleDescInitBuiltinEntry`'s built-in types. `TupleDescInitEntry`
//! needs pg_type and stays a FATAL entry. The bodies are C (c/tupdesc.c,
//! layouts in c/tuple_layout.h).

super::c_export! {
    CreateTemplateTupleDesc => bgw_c_CreateTemplateTupleDesc,
    CreateTupleDesc => bgw_c_CreateTupleDesc,
    CreateTupleDescCopy => bgw_c_CreateTupleDescCopy,
    CreateTupleDescTruncatedCopy => bgw_c_CreateTupleDescTruncatedCopy,
    CreateTupleDescCopyConstr => bgw_c_CreateTupleDescCopyConstr,
    TupleDescCopy => bgw_c_TupleDescCopy,
    TupleDescCopyEntry => bgw_c_TupleDescCopyEntry,
    FreeTupleDesc => bgw_c_FreeTupleDesc,
    IncrTupleDescRefCount => bgw_c_IncrTupleDescRefCount,
    DecrTupleDescRefCount => bgw_c_DecrTupleDescRefCount,
    equalTupleDescs => bgw_c_equalTupleDescs,
    equalRowTypes => bgw_c_equalRowTypes,
    hashRowType => bgw_c_hashRowType,
    hashTupleDesc => bgw_c_hashTupleDesc,
    TupleDescInitBuiltinEntry => bgw_c_TupleDescInitBuiltinEntry,
    TupleDescInitEntryCollation => bgw_c_TupleDescInitEntryCollation,
    populate_compact_attribute => bgw_c_populate_compact_attribute,
}
