//! `datumGetSize`, `datumCopy` and `datumIsEqual` (utils/datum.h): Datums
//! of a type given by its length and by-value flag, copied and compared as
//! PostgreSQL does (c/datum.c).

super::c_export! {
    datumGetSize => bgw_c_datumGetSize,
    datumCopy => bgw_c_datumCopy,
    datumIsEqual => bgw_c_datumIsEqual,
}
