//! `GetNamedDSMSegment` (storage/dsm_registry.h, PostgreSQL 17 and later):
//! named dynamic shared memory segments, in C (c/dsm_registry.c). The
//! registry's table is laid out with the main region ([`init`], called by
//! shmem.rs before the modules' startup hook) and its size counted in the
//! region's layout ([`shmem_size`]).

super::c_export! {
    GetNamedDSMSegment => bgw_c_GetNamedDSMSegment,
}

unsafe extern "C" {
    fn bgw_c_dsm_registry_size() -> usize;
    /// Lay the registry out (ShmemInitStruct, its LWLock); may raise ERROR,
    /// so it runs under the shmem hook guard.
    pub(crate) fn bgw_c_dsm_registry_init();
}

/// The bytes of the main region the registry takes.
pub(crate) fn shmem_size() -> usize {
    // SAFETY: a pure function of the C struct's size.
    unsafe { bgw_c_dsm_registry_size() }
}
