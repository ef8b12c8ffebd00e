//! Add-in shared memory (storage/shmem.h, storage/ipc.h, ipci.c): the
//! request and startup hooks, `RequestAddinShmemSpace`, `ShmemInitStruct`
//! and the region they share.
//!
//! # Lifecycle (PostgreSQL's, postmaster side)
//!
//! After the preloaded libraries' `_PG_init` and before the first fork,
//! the supervisor calls [`create`]: `shmem_request_hook` runs with
//! `process_shmem_requests_in_progress` set (the only time
//! `RequestAddinShmemSpace` and `RequestNamedLWLockTranche` are allowed),
//! then one MAP_SHARED|MAP_ANONYMOUS region is mapped and laid out, then
//! `shmem_startup_hook` runs. Workers inherit the mapping at fork, at the
//! same address. After a crash cycle, [`reinitialize`] clears the region
//! and runs `shmem_startup_hook` again (not the request hook, as in
//! PostgreSQL). An ERROR inside a hook is logged at FATAL, as PostgreSQL's
//! postmaster reports it, and makes these functions return false: the
//! supervisor then shuts down (status 1, segment and pid file removed).
//!
//! # Region layout
//!
//! ```text
//! 0                      Header (one 128-byte line)
//! 128                    MainLWLockArray: NUM_FIXED_LWLOCKS + named, 128 B each
//! ...                    ShmemIndex: INDEX_CAPACITY entries (ShmemIndexEnt)
//! free_offset ...        ShmemAlloc / ShmemInitStruct space: the requested
//!                        add-in size plus 100000 bytes of slack, like
//!                        PostgreSQL's estimate, rounded up to 8192
//! ```
//!
//! The index is in the region, guarded by ShmemIndexLock
//! (`MainLWLockArray[1]`) as in PostgreSQL, so a structure created by one
//! worker after fork is found by the others. Allocation moves
//! `free_offset` with a compare-and-swap, 128-byte aligned
//! (CACHELINEALIGN).

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use super::elog::{
    raise, ERRCODE_INTERNAL_ERROR, ERRCODE_OUT_OF_MEMORY, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
};
use super::lwlock::{self, LWLock, LWLOCK_PADDED_SIZE, LW_EXCLUSIVE};
use crate::log::{self, ERROR, FATAL};

/// `shmem_request_hook_type shmem_request_hook` (miscadmin.h, PG 15).
#[unsafe(no_mangle)]
pub static shmem_request_hook: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
/// `shmem_startup_hook_type shmem_startup_hook` (storage/ipc.h).
#[unsafe(no_mangle)]
pub static shmem_startup_hook: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
/// `void *UsedShmemSegAddr` (storage/pg_shmem.h): the address of the
/// main shared memory region once it is mapped (NULL before), which
/// modules test to learn whether shared memory exists yet. Set by the
/// supervisor before the startup hook runs; workers inherit it.
#[unsafe(no_mangle)]
pub static UsedShmemSegAddr: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
/// True while shmem_request_hook runs.
#[unsafe(no_mangle)]
pub static process_shmem_requests_in_progress: AtomicBool = AtomicBool::new(false);

super::c_export! {
    RequestAddinShmemSpace => bgw_c_RequestAddinShmemSpace,
    ShmemInitStruct => bgw_c_ShmemInitStruct,
    ShmemAlloc => bgw_c_ShmemAlloc,
    ShmemAllocUnlocked => bgw_c_ShmemAllocUnlocked,
    add_size => bgw_c_add_size,
    mul_size => bgw_c_mul_size,
    ShmemAllocNoError => bgw_c_ShmemAllocNoError,
    ShmemAddrIsValid => bgw_c_ShmemAddrIsValid,
}

const CACHE_LINE: usize = 128;
/// PostgreSQL's SHMEM_INDEX_KEYSIZE: names are compared on their first 47
/// bytes.
const SHMEM_INDEX_KEYSIZE: usize = 48;
/// Entries in the index (PostgreSQL's SHMEM_INDEX_SIZE, 64, is an
/// estimate; its table grows into spare shared memory, so allow more).
const INDEX_CAPACITY: usize = 256;
/// Spare space beyond the requests (PostgreSQL starts its estimate at
/// 100000 bytes for small structures).
const SLACK: usize = 100_000;
const REGION_MAGIC: u64 = 0x6267_7773_686d_656d;

/// The region's first line. Written by the supervisor before any fork (or
/// with no worker alive); afterwards `free_offset` changes by CAS,
/// `index_used` under ShmemIndexLock, `tranche_counter` atomically.
#[repr(C)]
struct Header {
    magic: u64,
    total_size: u64,
    free_offset: AtomicU64,
    index_offset: u64,
    index_used: AtomicUsize,
    tranche_counter: AtomicI32,
}

/// PostgreSQL's `ShmemIndexEnt`.
#[repr(C)]
struct IndexEnt {
    key: [u8; SHMEM_INDEX_KEYSIZE],
    location: *mut u8,
    size: usize,
    allocated_size: usize,
}

/// The region (set in the supervisor before the first fork; inherited).
static REGION: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static REGION_LEN: AtomicUsize = AtomicUsize::new(0);
/// Sum of RequestAddinShmemSpace calls of the current request round.
static ADDIN_REQUEST: AtomicUsize = AtomicUsize::new(0);

fn align_up(n: usize, a: usize) -> usize {
    n.div_ceil(a) * a
}

fn header() -> Option<&'static Header> {
    let p = REGION.load(Ordering::Acquire);
    // SAFETY: a non-NULL REGION is a live mapping that starts with a
    // Header and is never unmapped while the process uses it.
    (!p.is_null()).then(|| unsafe { &*(p as *const Header) })
}

/// The shared tranche-id counter, once the region exists.
pub fn tranche_counter() -> Option<&'static AtomicI32> {
    header().map(|h| &h.tranche_counter)
}

fn index_lock() -> *mut LWLock {
    let base = lwlock::MainLWLockArray.load(Ordering::Acquire);
    // SAFETY: ShmemIndexLock is entry 1 of the main array (lwlocknames.h).
    unsafe { base.add(LWLOCK_PADDED_SIZE) as *mut LWLock }
}

/// Offsets of the parts for the current requests: (main array, index,
/// first free byte, total).
fn layout() -> (usize, usize, usize, usize) {
    let array = CACHE_LINE;
    let index = align_up(
        array + lwlock::main_array_len() * LWLOCK_PADDED_SIZE,
        CACHE_LINE,
    );
    let free = align_up(
        index + INDEX_CAPACITY * std::mem::size_of::<IndexEnt>(),
        CACHE_LINE,
    );
    // The named-segment registry (dsm_registry.rs) is allocated from the
    // same space, so it is counted on top of the modules' requests.
    let total = free
        .saturating_add(ADDIN_REQUEST.load(Ordering::Relaxed))
        .saturating_add(align_up(super::dsm_registry::shmem_size(), CACHE_LINE))
        .saturating_add(super::register_pg18::pgstat_shmem_size())
        .saturating_add(SLACK);
    (array, index, free, align_up(total, 8192))
}

unsafe extern "C" {
    /// Run a shmem hook under an error handler that reports an ERROR at
    /// FATAL, as PostgreSQL's postmaster does (c/shmem.c).
    fn bgw_c_call_shmem_hook(hook: unsafe extern "C" fn()) -> bool;
}

/// Run a module hook stored in `slot`, if any, under the error guard: an
/// ERROR inside is logged as FATAL (PostgreSQL's postmaster has no handler
/// around its hooks, so its ERROR becomes FATAL) and gives false.
fn run_hook(slot: &AtomicPtr<c_void>) -> bool {
    let p = slot.load(Ordering::Acquire);
    if p.is_null() {
        return true;
    }
    // SAFETY: modules store a `void (*)(void)` in these hooks.
    let f: unsafe extern "C" fn() = unsafe { std::mem::transmute(p) };
    // SAFETY: the guard sets up sigsetjmp around the call, so an ERROR
    // never unwinds into this frame.
    let ok = unsafe { bgw_c_call_shmem_hook(f) };
    if !ok {
        // PostgreSQL's postmaster would exit here; what the hook held
        // means nothing any more.
        lwlock::release_all();
    }
    ok
}

/// Supervisor start: run the request hook, map and lay out the region, run
/// the startup hook. Before the first fork. False (after a FATAL line)
/// when a hook failed or the region could not be mapped; the caller shuts
/// down.
pub fn create() -> bool {
    lwlock::reset_requests();
    ADDIN_REQUEST.store(0, Ordering::Relaxed);
    process_shmem_requests_in_progress.store(true, Ordering::Release);
    let ok = run_hook(&shmem_request_hook);
    process_shmem_requests_in_progress.store(false, Ordering::Release);
    if !ok {
        return false;
    }
    let (_, _, _, total) = layout();
    let old = REGION.load(Ordering::Acquire);
    if !old.is_null() && REGION_LEN.load(Ordering::Acquire) < total {
        // A previous life of an embedded supervisor mapped less; its
        // workers are gone, so nothing uses the old mapping.
        REGION.store(std::ptr::null_mut(), Ordering::Release);
        UsedShmemSegAddr.store(std::ptr::null_mut(), Ordering::Release);
        lwlock::MainLWLockArray.store(std::ptr::null_mut(), Ordering::Release);
        // SAFETY: the mapping made below by an earlier create().
        unsafe { libc::munmap(old.cast(), REGION_LEN.load(Ordering::Acquire)) };
    }
    if REGION.load(Ordering::Acquire).is_null() {
        // SAFETY: a fresh anonymous shared mapping; checked for failure.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            log::emit_full(
                FATAL,
                &format!(
                    "could not create shared memory segment: {}",
                    bgworker_core::errno_text(bgworker_core::errno())
                ),
                Some(&format!("Failed system call was mmap(size={total}).")),
                None,
            );
            return false;
        }
        REGION.store(p as *mut u8, Ordering::Release);
        REGION_LEN.store(total, Ordering::Release);
        UsedShmemSegAddr.store(p, Ordering::Release);
    }
    reinitialize()
}

/// Lay the region out afresh (zeroed) and run the startup hook: at
/// supervisor start and after every crash cycle, with no worker alive.
pub fn reinitialize() -> bool {
    let base = REGION.load(Ordering::Acquire);
    if base.is_null() {
        return true;
    }
    let len = REGION_LEN.load(Ordering::Acquire);
    // SAFETY: the whole mapping is ours and unused (no worker alive).
    // MADV_REMOVE gives shared anonymous memory back as zero pages;
    // where it fails, write the zeros.
    unsafe {
        if libc::madvise(base.cast(), len, libc::MADV_REMOVE) != 0 {
            std::ptr::write_bytes(base, 0, len);
        }
    }
    lwlock::forget_held();
    let (array, index, free, _) = layout();
    // SAFETY: the region starts with a Header and is at least `total`
    // bytes (create() mapped it for this layout); it is zeroed and unused.
    unsafe {
        let h = base as *mut Header;
        (*h).magic = REGION_MAGIC;
        (*h).total_size = len as u64;
        (*h).free_offset.store(free as u64, Ordering::Relaxed);
        (*h).index_offset = index as u64;
        (*h).index_used.store(0, Ordering::Relaxed);
        lwlock::init_main_array(base.add(array), &(*h).tranche_counter);
    }
    // The named-segment registry first, as PostgreSQL lays out its own
    // structures before the modules' startup hook runs.
    // SAFETY: a C function taking no arguments, run under the guard that
    // turns its ERROR into this supervisor's FATAL.
    if !unsafe { bgw_c_call_shmem_hook(super::dsm_registry::bgw_c_dsm_registry_init) } {
        lwlock::release_all();
        return false;
    }
    // Then the shared memory of fixed-numbered custom statistics kinds (18),
    // as PostgreSQL's StatsShmemInit, with their init callbacks.
    // SAFETY: as above.
    if !unsafe { bgw_c_call_shmem_hook(super::register_pg18::bgw_c_pgstat_shmem_init) } {
        lwlock::release_all();
        return false;
    }
    run_hook(&shmem_startup_hook)
}

/// Allocate `size` bytes (rounded up to a cache line) from the region, or
/// NULL when it is full or absent. Any process; lock-free.
fn alloc_raw(size: usize) -> Option<(*mut u8, usize)> {
    let h = header()?;
    let size = align_up(size.max(1), CACHE_LINE);
    let mut cur = h.free_offset.load(Ordering::Relaxed);
    loop {
        let end = (cur as usize).checked_add(size)?;
        if end > h.total_size as usize {
            return None;
        }
        match h.free_offset.compare_exchange_weak(
            cur,
            end as u64,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            Ok(_) => {
                return Some((
                    // SAFETY: [cur, end) lies inside the region.
                    unsafe { REGION.load(Ordering::Acquire).add(cur as usize) },
                    size,
                ));
            }
            Err(now) => cur = now,
        }
    }
}

/// `RequestAddinShmemSpace`: only inside shmem_request_hook.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_RequestAddinShmemSpace(size: usize) {
    super::guard("bgw_rs_RequestAddinShmemSpace", (), || {
        if !process_shmem_requests_in_progress.load(Ordering::Acquire) {
            raise(
                FATAL,
                ERRCODE_INTERNAL_ERROR,
                "cannot request additional shared memory outside shmem_request_hook".into(),
                None,
            );
            return;
        }
        let total = ADDIN_REQUEST.load(Ordering::Relaxed);
        match total.checked_add(size) {
            Some(t) => ADDIN_REQUEST.store(t, Ordering::Relaxed),
            None => overflow(total, '+', size),
        }
    })
}

/// The overflow ERROR of add_size/mul_size. PostgreSQL 15.0 said
/// "requested shared memory size overflows size_t"; the current 15.x
/// releases (and the server packaged here, 15.20) report the operands.
fn overflow(s1: usize, op: char, s2: usize) {
    raise(
        ERROR,
        ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("invalid memory allocation request size {s1} {op} {s2}"),
        None,
    );
}

/// `add_size`: ERROR on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_add_size(s1: usize, s2: usize) -> usize {
    super::guard("bgw_rs_add_size", 0, || {
        s1.checked_add(s2).unwrap_or_else(|| {
            overflow(s1, '+', s2);
            0
        })
    })
}

/// `mul_size`: ERROR on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_mul_size(s1: usize, s2: usize) -> usize {
    super::guard("bgw_rs_mul_size", 0, || {
        s1.checked_mul(s2).unwrap_or_else(|| {
            overflow(s1, '*', s2);
            0
        })
    })
}

fn out_of_shared_memory(size: usize) {
    raise(
        ERROR,
        ERRCODE_OUT_OF_MEMORY,
        format!("out of shared memory ({size} bytes requested)"),
        None,
    );
}

/// `ShmemAlloc`: ERROR when the region is full.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_ShmemAlloc(size: usize) -> *mut u8 {
    super::guard(
        "bgw_rs_ShmemAlloc",
        std::ptr::null_mut(),
        || match alloc_raw(size) {
            Some((p, _)) => p,
            None => {
                out_of_shared_memory(size);
                std::ptr::null_mut()
            }
        },
    )
}

/// `ShmemAllocNoError`: NULL when the region is full.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_ShmemAllocNoError(size: usize) -> *mut u8 {
    super::guard("ShmemAllocNoError", std::ptr::null_mut(), || {
        alloc_raw(size).map_or(std::ptr::null_mut(), |(p, _)| p)
    })
}

/// `ShmemAddrIsValid`: inside the region.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_ShmemAddrIsValid(addr: *const c_void) -> bool {
    super::guard("ShmemAddrIsValid", false, || {
        let base = REGION.load(Ordering::Acquire) as usize;
        let a = addr as usize;
        base != 0 && a >= base && a < base + REGION_LEN.load(Ordering::Acquire)
    })
}

/// The index key for `name`: its first SHMEM_INDEX_KEYSIZE - 1 bytes.
fn index_key(name: &[u8]) -> [u8; SHMEM_INDEX_KEYSIZE] {
    let mut key = [0u8; SHMEM_INDEX_KEYSIZE];
    let n = name.len().min(SHMEM_INDEX_KEYSIZE - 1);
    key[..n].copy_from_slice(&name[..n]);
    key
}

/// `ShmemInitStruct`: find the structure `name` in the shared index, or
/// allocate and enter it; `*found` tells which. PostgreSQL's errors: a
/// size differing from the entry's, a full index or region.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `found` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_ShmemInitStruct(
    name: *const c_char,
    size: usize,
    found: *mut bool,
) -> *mut u8 {
    super::guard("bgw_rs_ShmemInitStruct", std::ptr::null_mut(), || {
        let Some(h) = header() else {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "shared memory is not initialized yet".into(),
                Some(
                    "ShmemInitStruct is available in shmem_startup_hook and in background workers."
                        .into(),
                ),
            );
            return std::ptr::null_mut();
        };
        if name.is_null() || found.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "ShmemInitStruct called with a NULL argument".into(),
                None,
            );
            return std::ptr::null_mut();
        }
        // SAFETY: a NUL-terminated name (checked non-NULL).
        let name_bytes = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
        let shown = String::from_utf8_lossy(name_bytes).into_owned();
        let key = index_key(name_bytes);
        let lock = index_lock();
        // SAFETY: ShmemIndexLock lives in the mapped main array.
        if unsafe { lwlock::acquire(lock, LW_EXCLUSIVE) }.is_err() {
            return std::ptr::null_mut();
        }
        // SAFETY: the index lies inside the region at index_offset, with
        // INDEX_CAPACITY entries; ShmemIndexLock (held) guards it.
        let entries = unsafe {
            std::slice::from_raw_parts_mut(
                REGION.load(Ordering::Acquire).add(h.index_offset as usize) as *mut IndexEnt,
                INDEX_CAPACITY,
            )
        };
        let used = h.index_used.load(Ordering::Relaxed);
        let mut result: Result<(*mut u8, bool), ()> = Err(());
        if let Some(e) = entries[..used].iter().find(|e| e.key == key) {
            if e.size != size {
                raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                format!(
                    "ShmemIndex entry size is wrong for data structure \"{shown}\": expected {size}, actual {}",
                    e.size
                ),
                None,
            );
            } else {
                result = Ok((e.location, true));
            }
        } else if used >= INDEX_CAPACITY {
            raise(
                ERROR,
                ERRCODE_OUT_OF_MEMORY,
                format!("could not create ShmemIndex entry for data structure \"{shown}\""),
                None,
            );
        } else if let Some((p, allocated)) = alloc_raw(size) {
            entries[used] = IndexEnt {
                key,
                location: p,
                size,
                allocated_size: allocated,
            };
            h.index_used.store(used + 1, Ordering::Relaxed);
            result = Ok((p, false));
        } else {
            raise(
                ERROR,
                ERRCODE_OUT_OF_MEMORY,
                format!(
                "not enough shared memory for data structure \"{shown}\" ({size} bytes requested)"
            ),
                None,
            );
        }
        // SAFETY: acquired above.
        let _ = unsafe { lwlock::release(lock) };
        match result {
            Ok((p, f)) => {
                // SAFETY: the caller's bool (checked non-NULL).
                unsafe { *found = f };
                p
            }
            Err(()) => std::ptr::null_mut(),
        }
    })
}
