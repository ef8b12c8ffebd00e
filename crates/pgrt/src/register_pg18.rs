//! Registrations that modules built for PostgreSQL 18 make in `_PG_init`:
//! custom cumulative statistics kinds (`pgstat_register_kind`) and EXPLAIN
//! extensions (`GetExplainExtensionId`, `RegisterExtensionExplainOption`),
//! in C (c/register_pg18.c) with PostgreSQL 18's checks, ERRORs and LOG
//! line. Nothing calls back: statistics and EXPLAIN need the database
//! server. A fixed-numbered kind gets its shared memory and its
//! `init_shmem_cb` call when the main region is laid out, as in
//! PostgreSQL 18 (shmem.rs calls [`pgstat_shmem_size`] and
//! `bgw_c_pgstat_shmem_init`).

super::c_export! {
    pgstat_register_kind => bgw_c_pgstat_register_kind,
    GetExplainExtensionId => bgw_c_GetExplainExtensionId,
    RegisterExtensionExplainOption => bgw_c_RegisterExtensionExplainOption,
}

unsafe extern "C" {
    fn bgw_c_pgstat_shmem_size() -> usize;
    /// Lay out the shared memory of fixed-numbered custom statistics kinds
    /// (PostgreSQL 18's StatsShmemInit, for custom kinds); runs their
    /// init_shmem_cb, which may raise ERROR, so it runs under the shmem
    /// hook guard.
    pub(crate) fn bgw_c_pgstat_shmem_init();
}

/// The bytes of the main region the registered fixed-numbered custom
/// statistics kinds take (0 without any).
pub(crate) fn pgstat_shmem_size() -> usize {
    // SAFETY: reads the registrations, made single-threaded in _PG_init.
    unsafe { bgw_c_pgstat_shmem_size() }
}
