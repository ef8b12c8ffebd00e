//! Calls that `_PG_init` of preloaded modules makes and that need no
//! database, implemented in c/preload.c with PostgreSQL's semantics:
//! `EnableQueryId` (pg_stat_statements) and `pg_bindtextdomain` (plpgsql,
//! plpgsql_check); and, in c/identifier.c, `SplitIdentifierString`, which
//! check hooks of list settings call when `_PG_init` defines them
//! (pgaudit).

super::c_export! {
    EnableQueryId => bgw_c_EnableQueryId,
    pg_bindtextdomain => bgw_c_pg_bindtextdomain,
    SplitIdentifierString => bgw_c_SplitIdentifierString,
    SplitGUCList => bgw_c_SplitGUCList,
}
