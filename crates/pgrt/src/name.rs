//! The name type's C helpers (utils/builtins.h): `namestrcpy` and
//! `namestrcmp`, which modules and tuple descriptor code use to fill and
//! compare attribute names. The bodies are C (c/name.c).

super::c_export! {
    namestrcpy => bgw_c_namestrcpy,
    namestrcmp => bgw_c_namestrcmp,
}
