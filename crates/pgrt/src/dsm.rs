//! Dynamic shared memory for modules (storage/dsm.h, storage/shm_toc.h,
//! storage/shm_mq.h), resource owners (utils/resowner.h) and the
//! transaction memory contexts.
//!
//! The segments and their reference counts are the core's
//! (`bgworker_core::dsm`); the C half (c/dsm.c, c/shm_toc.c, c/shm_mq.c)
//! keeps each process's descriptors, callbacks and queues and raises
//! PostgreSQL's ERRORs. The shims below are its way into the core: each
//! runs inside the panic boundary and records an ERROR for the C caller to
//! raise after it returns.

use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering};

use bgworker_core::dsm::{self, DsmError, Mapping};

use super::elog::{self, sqlstate};

super::c_export! {
    dsm_create => bgw_c_dsm_create,
    dsm_attach => bgw_c_dsm_attach,
    dsm_detach => bgw_c_dsm_detach,
    dsm_pin_mapping => bgw_c_dsm_pin_mapping,
    dsm_unpin_mapping => bgw_c_dsm_unpin_mapping,
    dsm_pin_segment => bgw_c_dsm_pin_segment,
    dsm_unpin_segment => bgw_c_dsm_unpin_segment,
    dsm_find_mapping => bgw_c_dsm_find_mapping,
    dsm_segment_address => bgw_c_dsm_segment_address,
    dsm_segment_map_length => bgw_c_dsm_segment_map_length,
    dsm_segment_handle => bgw_c_dsm_segment_handle,
    on_dsm_detach => bgw_c_on_dsm_detach,
    cancel_on_dsm_detach => bgw_c_cancel_on_dsm_detach,
    reset_on_dsm_detach => bgw_c_reset_on_dsm_detach,
    dsm_detach_all => bgw_c_dsm_detach_all,
    ResourceOwnerCreate => bgw_c_ResourceOwnerCreate,
    ResourceOwnerRelease => bgw_c_ResourceOwnerRelease,
    ResourceOwnerDelete => bgw_c_ResourceOwnerDelete,
    ResourceOwnerGetParent => bgw_c_ResourceOwnerGetParent,
    BackendPidGetProc => bgw_c_BackendPidGetProc,
    shm_toc_create => bgw_c_shm_toc_create,
    shm_toc_attach => bgw_c_shm_toc_attach,
    shm_toc_allocate => bgw_c_shm_toc_allocate,
    shm_toc_freespace => bgw_c_shm_toc_freespace,
    shm_toc_insert => bgw_c_shm_toc_insert,
    shm_toc_lookup => bgw_c_shm_toc_lookup,
    shm_toc_estimate => bgw_c_shm_toc_estimate,
    shm_mq_create => bgw_c_shm_mq_create,
    shm_mq_set_receiver => bgw_c_shm_mq_set_receiver,
    shm_mq_set_sender => bgw_c_shm_mq_set_sender,
    shm_mq_get_receiver => bgw_c_shm_mq_get_receiver,
    shm_mq_get_sender => bgw_c_shm_mq_get_sender,
    shm_mq_attach => bgw_c_shm_mq_attach,
    shm_mq_set_handle => bgw_c_shm_mq_set_handle,
    shm_mq_detach => bgw_c_shm_mq_detach,
    shm_mq_get_queue => bgw_c_shm_mq_get_queue,
    shm_mq_send => bgw_c_shm_mq_send,
    shm_mq_sendv => bgw_c_shm_mq_sendv,
    shm_mq_receive => bgw_c_shm_mq_receive,
    shm_mq_wait_for_attach => bgw_c_shm_mq_wait_for_attach,
    pg_detoast_datum_packed => bgw_c_pg_detoast_datum_packed,
}

/// `ResourceOwner CurrentResourceOwner` (NULL until a module sets one: a
/// mapping made then lives until detached or the process exits).
#[unsafe(no_mangle)]
pub static CurrentResourceOwner: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
/// `CurTransactionResourceOwner`: never set here (no transactions).
#[unsafe(no_mangle)]
pub static CurTransactionResourceOwner: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
/// `TopTransactionResourceOwner`: never set here (no transactions).
#[unsafe(no_mangle)]
pub static TopTransactionResourceOwner: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// PostgreSQL's `MAXALIGN(offsetof(shm_mq, mq_ring)) + MAXIMUM_ALIGNOF`:
/// the smallest queue (c/shm_mq.c's header is laid out to give the same
/// 64 bytes as PostgreSQL's).
#[unsafe(no_mangle)]
pub static shm_mq_minimum_size: usize = 64;

/// What a shim hands back to c/dsm.c (its `DsmOut`).
#[repr(C)]
pub struct DsmOut {
    handle: u32,
    address: *mut u8,
    length: usize,
    token: *mut Mapping,
}

/// errcode_for_dynamic_shared_memory: EFBIG and ENOMEM are out of memory,
/// the rest as errcode_for_file_access maps them.
fn errno_sqlstate(errno: i32) -> i32 {
    match errno {
        libc::EFBIG | libc::ENOMEM => sqlstate(b"53200"),
        libc::EPERM | libc::EACCES | libc::EROFS => sqlstate(b"42501"),
        libc::ENOENT => sqlstate(b"58P01"),
        libc::EEXIST => sqlstate(b"58P02"),
        libc::ENOTDIR | libc::EISDIR | libc::ENOTEMPTY => sqlstate(b"42809"),
        libc::ENOSPC => sqlstate(b"53100"),
        libc::ENFILE | libc::EMFILE => sqlstate(b"53000"),
        libc::EIO => sqlstate(b"58030"),
        _ => elog::ERRCODE_INTERNAL_ERROR,
    }
}

fn raise(e: &DsmError) {
    let code = match e {
        DsmError::Os { errno, .. } => errno_sqlstate(*errno),
        DsmError::TooMany => sqlstate(b"53000"),
        _ => elog::ERRCODE_INTERNAL_ERROR,
    };
    elog::raise(crate::log::ERROR, code, e.message(), None);
}

/// The supervisor of this process's connection.
fn supervisor_pid() -> Option<i32> {
    let pid = crate::backend::current().map(|c| c.supervisor_pid);
    if pid.is_none() {
        elog::raise(
            crate::log::ERROR,
            elog::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "dynamic shared memory needs a process of a background worker supervisor (a worker, or a process attached with bgw_attach)".into(),
            None,
        );
    }
    pid
}

fn fill(out: *mut DsmOut, m: Mapping) {
    let (handle, address, length) = (m.handle, m.address, m.length);
    // SAFETY: c/dsm.c passes a valid DsmOut.
    unsafe {
        *out = DsmOut {
            handle,
            address,
            length,
            token: Box::into_raw(Box::new(m)),
        }
    };
}

/// dsm_create's mechanism: 0 created, 1 no free control item, -1 ERROR
/// recorded.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_dsm_create(size: usize, out: *mut DsmOut) -> i32 {
    super::guard("dsm_create", -1, || {
        let Some(pid) = supervisor_pid() else {
            return -1;
        };
        match dsm::create(pid, size) {
            Ok(m) => {
                fill(out, m);
                0
            }
            Err(DsmError::TooMany) => 1,
            Err(e) => {
                raise(&e);
                -1
            }
        }
    })
}

/// dsm_attach's mechanism: 0 attached, 1 no such segment, -1 ERROR recorded.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_dsm_attach(handle: u32, out: *mut DsmOut) -> i32 {
    super::guard("dsm_attach", -1, || {
        let Some(pid) = supervisor_pid() else {
            return -1;
        };
        match dsm::attach(pid, handle) {
            Ok(Some(m)) => {
                fill(out, m);
                0
            }
            Ok(None) => 1,
            Err(e) => {
                raise(&e);
                -1
            }
        }
    })
}

/// Unmap; drop the reference too if `release` (async-signal-safe as far
/// as munmap and shm_unlink are: an exit from a signal handler comes here).
///
/// # Safety
/// `token` came from [`bgw_rs_dsm_create`]/[`bgw_rs_dsm_attach`] and is
/// passed here once; nothing uses the mapping afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_dsm_detach(token: *mut Mapping, release: bool) {
    super::guard("dsm_detach", (), || {
        if token.is_null() {
            return;
        }
        // SAFETY: the caller's contract: a leaked Box, passed once.
        let mut m = unsafe { Box::from_raw(token) };
        if !release {
            m.disown();
        }
        // SAFETY: the caller's contract.
        unsafe { dsm::detach(*m) };
    })
}

/// Drop a mapping's reference from a signal handler that ends the process
/// (async-signal-safe: no allocation, no deallocation; the mapping and its
/// box go with the process).
///
/// # Safety
/// `token` came from [`bgw_rs_dsm_create`]/[`bgw_rs_dsm_attach`] and is
/// passed here once; the process exits afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_dsm_release_in_handler(token: *mut Mapping) {
    // SAFETY: the caller's contract; the box is never freed.
    if let Some(m) = unsafe { token.as_ref() } {
        dsm::release_in_handler(m);
    }
}

/// dsm_pin_segment's mechanism. False: ERROR recorded.
///
/// # Safety
/// `token` is a live mapping of this process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_dsm_pin(token: *mut Mapping) -> bool {
    super::guard("dsm_pin_segment", false, || {
        // SAFETY: the caller's contract.
        let Some(m) = (unsafe { token.as_ref() }) else {
            return false;
        };
        match dsm::pin(m) {
            Ok(()) => true,
            Err(e) => {
                raise(&e);
                false
            }
        }
    })
}

/// dsm_unpin_segment's mechanism. False: ERROR recorded.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_dsm_unpin(handle: u32) -> bool {
    super::guard("dsm_unpin_segment", false, || {
        let Some(pid) = supervisor_pid() else {
            return false;
        };
        match dsm::unpin(pid, handle) {
            Ok(()) => true,
            Err(e) => {
                raise(&e);
                false
            }
        }
    })
}

/// Create `TopTransactionContext` and make `CurTransactionContext` point
/// at it (with TopMemoryContext; once per process image). No transaction
/// ever starts or ends here, so both live as long as the process and are
/// never reset by the runtime; modules may reset them themselves.
pub fn init_transaction_contexts() {
    if !super::mcxt::TopTransactionContext
        .load(Ordering::Acquire)
        .is_null()
    {
        return;
    }
    let top = super::mcxt::TopMemoryContext.load(Ordering::Acquire);
    let ctx = super::mcxt::new_child(top, c"TopTransactionContext");
    super::mcxt::TopTransactionContext.store(ctx, Ordering::Release);
    super::mcxt::CurTransactionContext.store(ctx, Ordering::Release);
}
