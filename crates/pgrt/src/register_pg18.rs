//! Registrations that modules built for PostgreSQL 18 make in `_PG_init`:
//! custom cumulative statistics kinds (`pgstat_register_kind`) and EXPLAIN
//! extensions (`GetExplainExtensionId`, `RegisterExtensionExplainOption`),
//! in C (c/register_pg18.c) with PostgreSQL 18's checks, ERRORs and LOG
//! line. Nothing calls back: statistics and EXPLAIN need the database
//! server.

super::c_export! {
    pgstat_register_kind => bgw_c_pgstat_register_kind,
    GetExplainExtensionId => bgw_c_GetExplainExtensionId,
    RegisterExtensionExplainOption => bgw_c_RegisterExtensionExplainOption,
}
