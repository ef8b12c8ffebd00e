//! `PROC_HDR *ProcGlobal` (storage/proc.h): the header of the shared
//! process array, which modules walk to see the other processes
//! (`ProcGlobal->allProcs[i].pid`, `allProcCount`; pg_wait_sampling samples
//! wait events so, pg_crash picks processes to signal so).
//!
//! Here the processes are the workers: `allProcs` is the runtime's shared
//! array of `PGPROC` entries in the process major's layout (latch.rs), one
//! per worker slot, and `allProcCount` their number. An entry names a pid
//! only while its worker lives (the worker sets it at start and clears it
//! on the way out; the supervisor clears it when it reaps the worker, so a
//! killed worker's entry is cleared too). The dense per-process arrays
//! PostgreSQL keeps beside it (`xids`, `subxidStates`, `statusFlags`) exist
//! with one zero element per entry: no process here has a transaction id.
//! The free lists are empty, the group-clearing heads hold the major's
//! invalid process number, the walwriter's and checkpointer's latches (15,
//! 17) are NULL and their process numbers (18) invalid: there are no such
//! processes. Layouts measured against each major's real headers
//! (tests/majors.rs).
//!
//! Who may call: [`publish`] the supervisor, after the process array is
//! mapped and before `shmem_startup_hook` runs (PostgreSQL sets ProcGlobal
//! in InitProcGlobal, before the startup hook), and again after a crash
//! cycle. Workers inherit the pointer and the mapping.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// `PROC_HDR *ProcGlobal`; NULL in processes without a process array.
#[unsafe(no_mangle)]
pub static ProcGlobal: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

/// Where the fields the runtime sets sit in one major's `PROC_HDR`
/// (`allProcs` 0, `xids` 8, `subxidStates` 16, `statusFlags` 24,
/// `allProcCount` 32 in every major served).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HdrLayout {
    pub size: usize,
    /// `procArrayGroupFirst`; `clogGroupFirst` follows it.
    pub group_first: usize,
    /// The major's invalid process number (15 `INVALID_PGPROCNO`, 17 and
    /// 18 `INVALID_PROC_NUMBER`), as the heads hold it when no group waits.
    pub invalid_procno: u32,
    /// 18's `walwriterProc`, `checkpointerProc` follows it (15 and 17 keep
    /// latch pointers there, NULL).
    pub proc_numbers: Option<usize>,
    pub spins_per_delay: usize,
    pub startup_pin: usize,
}

pub const ALL_PROCS: usize = 0;
pub const XIDS: usize = 8;
pub const SUBXID_STATES: usize = 16;
pub const STATUS_FLAGS: usize = 24;
pub const ALL_PROC_COUNT: usize = 32;
/// `sizeof(XidCacheStatus)` in every major served.
pub const XID_CACHE_STATUS_SIZE: usize = 2;
/// s_lock.h's DEFAULT_SPINS_PER_DELAY, where InitProcGlobal starts it.
const DEFAULT_SPINS_PER_DELAY: i32 = 100;

/// `PROC_HDR` of `major`'s storage/proc.h (15 104 bytes, 17 136, 18 128).
pub fn hdr_layout(major: u32) -> HdrLayout {
    match major {
        18.. => HdrLayout {
            size: 128,
            group_first: 104,
            invalid_procno: u32::MAX,
            proc_numbers: Some(112),
            spins_per_delay: 120,
            startup_pin: 124,
        },
        17 => HdrLayout {
            size: 136,
            group_first: 104,
            invalid_procno: u32::MAX,
            proc_numbers: None,
            spins_per_delay: 128,
            startup_pin: 132,
        },
        _ => HdrLayout {
            size: 104,
            group_first: 72,
            invalid_procno: i32::MAX as u32,
            proc_numbers: None,
            spins_per_delay: 96,
            startup_pin: 100,
        },
    }
}

/// The header's mapping and how many bytes it has (kept across crash
/// cycles; grown never: the slot count is fixed for a supervisor's life).
static MAP: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static MAP_LEN: AtomicUsize = AtomicUsize::new(0);

/// Build the header for the process array (latch.rs, mapped by now) and
/// point `ProcGlobal` at it; after a crash cycle, build it afresh. Without
/// a process array, or on a mapping failure (logged), ProcGlobal stays
/// NULL.
pub fn publish() {
    let Some((procs, n)) = super::latch::proc_array() else {
        return;
    };
    let lay = hdr_layout(bgworker_core::identity::pg_major());
    let arrays = n * (4 + XID_CACHE_STATUS_SIZE + 1);
    let len = (lay.size + arrays).next_multiple_of(8);
    let mut base = MAP.load(Ordering::Acquire);
    if base.is_null() || MAP_LEN.load(Ordering::Acquire) < len {
        let Some(p) = super::latch::map_shared(len, "the process array header") else {
            return;
        };
        base = p;
        MAP.store(base, Ordering::Release);
        MAP_LEN.store(len, Ordering::Release);
    }
    // SAFETY: base maps at least len bytes that no other process uses
    // now (the supervisor, before its first fork or at the end of a crash
    // cycle, when no worker lives); every offset written lies within the
    // major's header size, the arrays follow it, all aligned (8-byte
    // pointers at multiples of 8, 4-byte fields at multiples of 4).
    unsafe {
        std::ptr::write_bytes(base, 0, len);
        let xids = base.add(lay.size);
        let subxid_states = xids.add(4 * n);
        let status_flags = subxid_states.add(XID_CACHE_STATUS_SIZE * n);
        (base.add(ALL_PROCS) as *mut *mut u8).write(procs);
        (base.add(XIDS) as *mut *mut u8).write(xids);
        (base.add(SUBXID_STATES) as *mut *mut u8).write(subxid_states);
        (base.add(STATUS_FLAGS) as *mut *mut u8).write(status_flags);
        (base.add(ALL_PROC_COUNT) as *mut u32).write(n as u32);
        (base.add(lay.group_first) as *mut u32).write(lay.invalid_procno);
        (base.add(lay.group_first + 4) as *mut u32).write(lay.invalid_procno);
        if let Some(at) = lay.proc_numbers {
            (base.add(at) as *mut i32).write(-1);
            (base.add(at + 4) as *mut i32).write(-1);
        }
        (base.add(lay.spins_per_delay) as *mut i32).write(DEFAULT_SPINS_PER_DELAY);
        (base.add(lay.startup_pin) as *mut i32).write(-1);
    }
    ProcGlobal.store(base, Ordering::Release);
}
