//! Variable-length values and text in memory (fmgr.h, utils/builtins.h):
//! `pg_detoast_datum` and its `_copy`/`_slice` forms (in-line values,
//! short headers, pglz and LZ4 compression, indirect and expanded values;
//! an on-disk TOAST pointer is an ERROR naming the missing database
//! server), text from and to C strings (and the SQL functions `textin`,
//! `textout`), `quote_identifier` / `quote_qualified_identifier` with
//! PostgreSQL's keyword list, `quote_literal_cstr`, and `escape_json`
//! (with 18's `escape_json_with_len` and `escape_json_text`). The
//! bodies are C (c/varlena.c, c/quote.c); `pg_detoast_datum_packed` is
//! exported by dsm.rs.

super::c_export! {
    pg_detoast_datum => bgw_c_pg_detoast_datum,
    pg_detoast_datum_copy => bgw_c_pg_detoast_datum_copy,
    pg_detoast_datum_slice => bgw_c_pg_detoast_datum_slice,
    detoast_attr => bgw_c_detoast_attr,
    detoast_attr_slice => bgw_c_detoast_attr_slice,
    detoast_external_attr => bgw_c_detoast_external_attr,
    toast_raw_datum_size => bgw_c_toast_raw_datum_size,
    toast_datum_size => bgw_c_toast_datum_size,
    cstring_to_text => bgw_c_cstring_to_text,
    cstring_to_text_with_len => bgw_c_cstring_to_text_with_len,
    text_to_cstring => bgw_c_text_to_cstring,
    text_to_cstring_buffer => bgw_c_text_to_cstring_buffer,
    textin => bgw_c_textin,
    textout => bgw_c_textout,
    quote_literal_cstr => bgw_c_quote_literal_cstr,
    escape_json => bgw_c_escape_json,
    escape_json_with_len => bgw_c_escape_json_with_len,
    escape_json_text => bgw_c_escape_json_text,
    quote_identifier => bgw_c_quote_identifier,
    quote_qualified_identifier => bgw_c_quote_qualified_identifier,
}
