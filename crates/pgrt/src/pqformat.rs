//! Protocol messages and binary send/receive values in a StringInfo
//! (libpq/pqformat.h): built with `pq_beginmessage`, `pq_send*` and
//! `pq_begintypsend`/`pq_endtypsend`, read with `pq_getmsg*`, with
//! PostgreSQL's ERRORs for short or malformed messages. Sending to a
//! client needs a connection and stays a FATAL entry. The bodies are C
//! (c/pqformat.c).

super::c_export! {
    pq_beginmessage => bgw_c_pq_beginmessage,
    pq_beginmessage_reuse => bgw_c_pq_beginmessage_reuse,
    pq_sendbytes => bgw_c_pq_sendbytes,
    pq_sendcountedtext => bgw_c_pq_sendcountedtext,
    pq_sendtext => bgw_c_pq_sendtext,
    pq_sendstring => bgw_c_pq_sendstring,
    pq_send_ascii_string => bgw_c_pq_send_ascii_string,
    pq_sendfloat4 => bgw_c_pq_sendfloat4,
    pq_sendfloat8 => bgw_c_pq_sendfloat8,
    pq_begintypsend => bgw_c_pq_begintypsend,
    pq_endtypsend => bgw_c_pq_endtypsend,
    pq_getmsgbyte => bgw_c_pq_getmsgbyte,
    pq_getmsgint => bgw_c_pq_getmsgint,
    pq_getmsgint64 => bgw_c_pq_getmsgint64,
    pq_getmsgfloat4 => bgw_c_pq_getmsgfloat4,
    pq_getmsgfloat8 => bgw_c_pq_getmsgfloat8,
    pq_getmsgbytes => bgw_c_pq_getmsgbytes,
    pq_copymsgbytes => bgw_c_pq_copymsgbytes,
    pq_getmsgtext => bgw_c_pq_getmsgtext,
    pq_getmsgstring => bgw_c_pq_getmsgstring,
    pq_getmsgrawstring => bgw_c_pq_getmsgrawstring,
    pq_getmsgend => bgw_c_pq_getmsgend,
}
