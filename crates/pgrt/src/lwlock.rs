//! Lightweight locks (storage/lwlock.h): the main lock array, named
//! tranches requested by modules, and the acquire/release protocol.
//!
//! # Layout
//!
//! [`LWLock`] is PostgreSQL 15's 16 bytes (tranche at 0, state at 4, the
//! waiter list at 8) and each entry of `MainLWLockArray` is padded to 128
//! bytes, because modules compile `&MainLWLockArray[21].lock`
//! (AddinShmemInitLock) and `&GetNamedLWLockTranche(name)[i].lock` as
//! address arithmetic. The array lives in the add-in region
//! ([`super::shmem`]), mapped by the supervisor before its first fork, so
//! a lock has the same address in every process.
//!
//! # Protocol
//!
//! The state word alone decides ownership: [`LW_VAL_EXCLUSIVE`] for an
//! exclusive holder, one [`LW_VAL_SHARED`] per shared holder, and
//! [`LW_FLAG_HAS_WAITERS`] once somebody sleeps. A waiter sets the flag with
//! a compare-and-swap while the lock is taken, then sleeps on the state
//! word with a shared futex (the word is in MAP_SHARED memory, so the
//! futex key must be the physical page, never FUTEX_PRIVATE). A release
//! that leaves the lock free with the flag set clears it and wakes every
//! sleeper, which then compete again. Invariant: nobody sleeps on a state
//! without the flag, and only a releaser clears the flag, after which it
//! wakes everyone; since any change to the word ends a pending
//! `FUTEX_WAIT`, no wake-up is lost. As in PostgreSQL, shared requests are
//! granted whenever no exclusive holder exists (no writer preference).
//!
//! # Held locks
//!
//! Each process records what it holds (at most [`MAX_SIMUL_LWLOCKS`],
//! PostgreSQL's limit) so that `LWLockRelease` can tell the mode and
//! `proc_exit` can release everything ([`release_all`], called from
//! `bgw_rs_before_exit`). Holding a lock holds interrupts off
//! (`HOLD_INTERRUPTS` in PostgreSQL), so `CHECK_FOR_INTERRUPTS()` inside a
//! locked section does not end the process.

use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU16, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::elog::{raise, ERRCODE_INTERNAL_ERROR};
use super::interrupts::InterruptHoldoffCount;
use crate::log::{ERROR, FATAL};

/// PostgreSQL 15's `LWLock` (16 bytes).
#[repr(C)]
pub struct LWLock {
    pub tranche: AtomicU16,
    pub state: AtomicU32,
    /// `proclist_head`: unused here (waiters sleep on `state`), set to
    /// PostgreSQL's empty list so the bytes look as modules expect.
    pub waiters_head: AtomicI32,
    pub waiters_tail: AtomicI32,
}

const _: () = assert!(std::mem::size_of::<LWLock>() == 16);
const _: () = assert!(std::mem::offset_of!(LWLock, state) == 4);
const _: () = assert!(std::mem::offset_of!(LWLock, waiters_head) == 8);

/// `LWLOCK_PADDED_SIZE` (PG_CACHE_LINE_SIZE).
pub const LWLOCK_PADDED_SIZE: usize = 128;
/// NUM_INDIVIDUAL_LWLOCKS of PostgreSQL 15 (the names below are its).
pub const NUM_INDIVIDUAL_LWLOCKS: usize = 48;

/// The numbering of the main LWLock array and the built-in tranches in one
/// major's storage/lwlock.h (measured against the real headers): the
/// individual locks, then 128 buffer-mapping, 16 lock-manager and 16
/// predicate-lock partitions; the tranche ids of those three follow the
/// individual locks at +12, +13, +14; user tranches start after the
/// built-in ones.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LwNumbering {
    pub num_individual: usize,
    pub num_fixed: usize,
    pub first_user_defined: i32,
}

/// The LWLock numbering of `major` (15: 48/208/75, 17: 53/213/92, 18:
/// 54/214/95).
pub fn lw_numbering(major: u32) -> LwNumbering {
    let (num_individual, builtin) = match major {
        18.. => (54, 41),
        17 => (53, 39),
        _ => (NUM_INDIVIDUAL_LWLOCKS, 27),
    };
    LwNumbering {
        num_individual,
        num_fixed: num_individual + 128 + 16 + 16,
        first_user_defined: (num_individual + builtin) as i32,
    }
}

/// This process's numbering (its major is decided before any module code
/// runs).
fn numbering() -> LwNumbering {
    lw_numbering(bgworker_core::identity::pg_major())
}

fn num_fixed() -> usize {
    numbering().num_fixed
}

fn first_user_defined() -> i32 {
    numbering().first_user_defined
}

/// `MAX_SIMUL_LWLOCKS`.
pub const MAX_SIMUL_LWLOCKS: usize = 200;
/// `NAMEDATALEN`: tranche names are cut to 63 bytes, as PostgreSQL's
/// request array stores them.
const NAMEDATALEN: usize = 64;
const INVALID_PGPROCNO: i32 = i32::MAX;

// State word bits (PostgreSQL's values).
pub const LW_FLAG_HAS_WAITERS: u32 = 1 << 30;
pub const LW_FLAG_RELEASE_OK: u32 = 1 << 29;
pub const LW_VAL_EXCLUSIVE: u32 = 1 << 24;
pub const LW_VAL_SHARED: u32 = 1;
pub(crate) const LW_LOCK_MASK: u32 = (1 << 25) - 1;

/// `LWLockMode`.
pub const LW_EXCLUSIVE: c_int = 0;
pub const LW_SHARED: c_int = 1;

/// `LWLockPadded *MainLWLockArray`: the fixed locks, then the named
/// tranches in request order. NULL until the supervisor maps the region.
#[unsafe(no_mangle)]
pub static MainLWLockArray: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

super::c_export! {
    LWLockAcquire => bgw_c_LWLockAcquire,
    LWLockConditionalAcquire => bgw_c_LWLockConditionalAcquire,
    LWLockRelease => bgw_c_LWLockRelease,
    RequestNamedLWLockTranche => bgw_c_RequestNamedLWLockTranche,
    GetNamedLWLockTranche => bgw_c_GetNamedLWLockTranche,
    LWLockReleaseAll => bgw_c_LWLockReleaseAll,
    LWLockHeldByMe => bgw_c_LWLockHeldByMe,
    LWLockHeldByMeInMode => bgw_c_LWLockHeldByMeInMode,
    LWLockAnyHeldByMe => bgw_c_LWLockAnyHeldByMe,
    LWLockInitialize => bgw_c_LWLockInitialize,
    LWLockNewTrancheId => bgw_c_LWLockNewTrancheId,
    LWLockRegisterTranche => bgw_c_LWLockRegisterTranche,
}

/// The names of the individual locks (lwlocknames.txt without "Lock");
/// index 0, 10 and 45 are unassigned in PostgreSQL 15.
const INDIVIDUAL_NAMES: [&str; NUM_INDIVIDUAL_LWLOCKS] = [
    "<unassigned:0>",
    "ShmemIndex",
    "OidGen",
    "XidGen",
    "ProcArray",
    "SInvalRead",
    "SInvalWrite",
    "WALBufMapping",
    "WALWrite",
    "ControlFile",
    "<unassigned:10>",
    "XactSLRU",
    "SubtransSLRU",
    "MultiXactGen",
    "MultiXactOffsetSLRU",
    "MultiXactMemberSLRU",
    "RelCacheInit",
    "CheckpointerComm",
    "TwoPhaseState",
    "TablespaceCreate",
    "BtreeVacuum",
    "AddinShmemInit",
    "Autovacuum",
    "AutovacuumSchedule",
    "SyncScan",
    "RelationMapping",
    "NotifySLRU",
    "NotifyQueue",
    "SerializableXactHash",
    "SerializableFinishedList",
    "SerializablePredicateList",
    "SerialSLRU",
    "SyncRep",
    "BackgroundWorker",
    "DynamicSharedMemoryControl",
    "AutoFile",
    "ReplicationSlotAllocation",
    "ReplicationSlotControl",
    "CommitTsSLRU",
    "CommitTs",
    "ReplicationOrigin",
    "MultiXactTruncation",
    "OldSnapshotTimeMap",
    "LogicalRepWorker",
    "XactTruncation",
    "<unassigned:45>",
    "WrapLimitsVacuum",
    "NotifyQueueTail",
];

/// Names of the built-in tranches from NUM_INDIVIDUAL_LWLOCKS on.
const BUILTIN_TRANCHE_NAMES: [&str; 27] = [
    "XactBuffer",
    "CommitTsBuffer",
    "SubtransBuffer",
    "MultiXactOffsetBuffer",
    "MultiXactMemberBuffer",
    "NotifyBuffer",
    "SerialBuffer",
    "WALInsert",
    "BufferContent",
    "ReplicationOriginState",
    "ReplicationSlotIO",
    "LockFastPath",
    "BufferMapping",
    "LockManager",
    "PredicateLockManager",
    "ParallelHashJoin",
    "ParallelQueryDSA",
    "PerSessionDSA",
    "PerSessionRecordType",
    "PerSessionRecordTypmod",
    "SharedTupleStore",
    "SharedTidBitmap",
    "ParallelAppend",
    "PerXactPredicateList",
    "PgStatsDSA",
    "PgStatsHash",
    "PgStatsData",
];

/// One `RequestNamedLWLockTranche` call, in request order. Recorded in the
/// supervisor during the request hook and inherited by every worker.
struct Request {
    name: String,
    count: usize,
}

static REQUESTS: Mutex<Vec<Request>> = Mutex::new(Vec::new());

/// Tranche names registered in this process (`LWLockRegisterTranche`),
/// indexed by id - LWTRANCHE_FIRST_USER_DEFINED.
static TRANCHE_NAMES: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());

/// How many tranche ids were handed out before the region exists (then
/// the region's counter takes over from first_user_defined() + this).
static LOCAL_TRANCHE_COUNTER: AtomicI32 = AtomicI32::new(0);

/// One held lock of this process.
struct Held {
    lock: AtomicPtr<LWLock>,
    mode: AtomicI32,
}

/// What this process holds, oldest first; `NUM_HELD` entries are valid.
/// Plain atomics and no allocation, so that [`release_all`] is
/// async-signal-safe (it runs on the exit path of signal handlers).
static HELD: [Held; MAX_SIMUL_LWLOCKS] = [const {
    Held {
        lock: AtomicPtr::new(std::ptr::null_mut()),
        mode: AtomicI32::new(0),
    }
}; MAX_SIMUL_LWLOCKS];
static NUM_HELD: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn hold_interrupts() {
    InterruptHoldoffCount.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn resume_interrupts() {
    let _ = InterruptHoldoffCount
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

/// Total number of locks in the main array for the current requests.
pub fn main_array_len() -> usize {
    num_fixed() + requests().iter().map(|r| r.count).sum::<usize>()
}

fn requests() -> std::sync::MutexGuard<'static, Vec<Request>> {
    REQUESTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forget the named tranche requests (a supervisor about to run the
/// request hook again for a new life of the server).
pub fn reset_requests() {
    requests().clear();
}

/// Initialise the main array at `base` (zeroed memory of
/// [`main_array_len`] padded entries) as PostgreSQL's InitializeLWLocks
/// does, give each named tranche a tranche id from `counter` and register
/// its name. Supervisor only, with no worker alive.
///
/// # Safety
/// `base` points at writable, 128-byte aligned memory of
/// `main_array_len() * LWLOCK_PADDED_SIZE` bytes that nothing else uses.
pub unsafe fn init_main_array(base: *mut u8, counter: &AtomicI32) {
    let at = |i: usize| {
        // SAFETY: i < main_array_len(), inside the caller's memory.
        unsafe { &*(base.add(i * LWLOCK_PADDED_SIZE) as *const LWLock) }
    };
    let n = numbering();
    for i in 0..n.num_individual {
        initialize(at(i), i as u16);
    }
    // LWTRANCHE_BUFFER_MAPPING, _LOCK_MANAGER, _PREDICATE_LOCK_MANAGER.
    let ind = n.num_individual as u16;
    for i in n.num_individual..n.num_fixed {
        let tranche = if i < n.num_individual + 128 {
            ind + 12
        } else if i < n.num_individual + 144 {
            ind + 13
        } else {
            ind + 14
        };
        initialize(at(i), tranche);
    }
    counter.store(
        n.first_user_defined + LOCAL_TRANCHE_COUNTER.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    let named: Vec<(String, usize)> = requests()
        .iter()
        .map(|r| (r.name.clone(), r.count))
        .collect();
    let mut pos = n.num_fixed;
    for (name, count) in named {
        let id = counter.fetch_add(1, Ordering::Relaxed);
        register_tranche(id, &name);
        for i in 0..count {
            initialize(at(pos + i), id as u16);
        }
        pos += count;
    }
    MainLWLockArray.store(base, Ordering::Release);
}

fn initialize(lock: &LWLock, tranche: u16) {
    lock.tranche.store(tranche, Ordering::Relaxed);
    lock.state.store(LW_FLAG_RELEASE_OK, Ordering::Relaxed);
    lock.waiters_head.store(INVALID_PGPROCNO, Ordering::Relaxed);
    lock.waiters_tail.store(INVALID_PGPROCNO, Ordering::Relaxed);
}

fn register_tranche(id: i32, name: &str) {
    let first = first_user_defined();
    if id < first {
        return;
    }
    let idx = (id - first) as usize;
    let mut names = TRANCHE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if names.len() <= idx {
        names.resize(idx + 1, None);
    }
    names[idx] = Some(name.to_string());
}

/// The individual locks PostgreSQL 17 (up to 52) and 18 (53) added after
/// 15's (their storage/lwlocklist.h).
const INDIVIDUAL_NAMES_17: [&str; 6] = [
    "WaitEventCustom",
    "WALSummarizer",
    "DSMRegistry",
    "InjectionPoint",
    "SerialControl",
    "AioWorkerSubmissionQueue",
];

/// The individual locks 17 dropped from 15's list (SLRU locks that became
/// tranches of their own); their ids are unassigned from 17 on.
const DROPPED_IN_17: [usize; 8] = [11, 12, 14, 15, 26, 31, 38, 42];

/// The name of individual lock `id` in `major`'s storage/lwlocklist.h (15:
/// lwlocknames.txt), or None for an unassigned id or one past the major's
/// individual locks.
pub fn individual_lock_name(major: u32, id: usize) -> Option<&'static str> {
    let n = lw_numbering(major);
    if id == 0 || id >= n.num_individual {
        return None;
    }
    if id >= NUM_INDIVIDUAL_LWLOCKS {
        return INDIVIDUAL_NAMES_17
            .get(id - NUM_INDIVIDUAL_LWLOCKS)
            .copied();
    }
    let name = INDIVIDUAL_NAMES[id];
    if name.starts_with("<unassigned") || (major >= 17 && DROPPED_IN_17.contains(&id)) {
        return None;
    }
    Some(name)
}

/// PostgreSQL's GetLWTrancheName: "extension" for a user-defined tranche
/// this process never registered. The individual locks are named as in the
/// process major's headers; the other built-in tranches are PostgreSQL
/// 15's names, and in 17 and 18 (whose names live in the server's source,
/// not its headers) are named by their number.
pub(crate) fn tranche_name(id: u16) -> String {
    let id = id as usize;
    let n = numbering();
    let major = bgworker_core::identity::pg_major();
    if major >= 17 && id < n.first_user_defined as usize {
        return match individual_lock_name(major, id) {
            Some(name) => name.to_string(),
            None => format!("built-in tranche {id}"),
        };
    }
    if id < NUM_INDIVIDUAL_LWLOCKS {
        return INDIVIDUAL_NAMES[id].to_string();
    }
    if id < n.first_user_defined as usize {
        return BUILTIN_TRANCHE_NAMES[id - NUM_INDIVIDUAL_LWLOCKS].to_string();
    }
    let names = TRANCHE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    match names.get(id - n.first_user_defined as usize) {
        Some(Some(n)) => n.clone(),
        _ => "extension".to_string(),
    }
}

/// Take the lock if `mode` is compatible with its state; never sleeps.
pub(crate) fn attempt(lock: &LWLock, exclusive: bool) -> bool {
    let mut s = lock.state.load(Ordering::Relaxed);
    loop {
        let free = if exclusive {
            s & LW_LOCK_MASK == 0
        } else {
            s & LW_VAL_EXCLUSIVE == 0
        };
        if !free {
            return false;
        }
        let add = if exclusive {
            LW_VAL_EXCLUSIVE
        } else {
            LW_VAL_SHARED
        };
        match lock
            .state
            .compare_exchange_weak(s, s + add, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => return true,
            Err(now) => s = now,
        }
    }
}

/// Sleep until the state changes, after announcing a waiter; returns at
/// once if the lock looks free for `exclusive` by then.
pub(crate) fn wait_for_change(lock: &LWLock, exclusive: bool) {
    let s = lock.state.load(Ordering::Relaxed);
    let free = if exclusive {
        s & LW_LOCK_MASK == 0
    } else {
        s & LW_VAL_EXCLUSIVE == 0
    };
    if free {
        return;
    }
    let flagged = s | LW_FLAG_HAS_WAITERS;
    if s != flagged
        && lock
            .state
            .compare_exchange(s, flagged, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    // The timeout is only a safety net; wake-ups come from releases.
    crate::backend::futex_wait(&lock.state, flagged, Duration::from_secs(1));
}

/// Can this process hold one more lock? If not, PostgreSQL's ERROR is
/// recorded (the caller returns its failure value).
pub(crate) fn room_for_one_more() -> bool {
    if NUM_HELD.load(Ordering::Relaxed) >= MAX_SIMUL_LWLOCKS {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "too many LWLocks taken".into(),
            None,
        );
        return false;
    }
    true
}

pub(crate) fn push_held(lock: *mut LWLock, mode: c_int) {
    let n = NUM_HELD.load(Ordering::Relaxed);
    HELD[n].lock.store(lock, Ordering::Relaxed);
    HELD[n].mode.store(mode, Ordering::Relaxed);
    NUM_HELD.store(n + 1, Ordering::Release);
}

/// The operation failed and its ERROR was recorded with
/// [`raise`]: the caller returns, and the export's C wrapper throws it.
#[derive(Debug)]
pub struct Raised;

/// Acquire for Rust callers: `Err(Raised)` after recording PostgreSQL's ERROR
/// when this process already holds MAX_SIMUL_LWLOCKS locks. Returns whether
/// the lock was free at once.
///
/// # Safety
/// `lock` points at an initialised (or zeroed) LWLock that stays mapped.
pub unsafe fn acquire(lock: *mut LWLock, mode: c_int) -> Result<bool, Raised> {
    if !room_for_one_more() {
        return Err(Raised);
    }
    // SAFETY: the caller's contract.
    let l = unsafe { &*lock };
    let exclusive = mode == LW_EXCLUSIVE;
    hold_interrupts();
    let mut immediate = true;
    while !attempt(l, exclusive) {
        immediate = false;
        wait_for_change(l, exclusive);
    }
    push_held(lock, mode);
    Ok(immediate)
}

/// Release for Rust callers: `Err(Raised)` after recording PostgreSQL's ERROR
/// if this process does not hold `lock`.
///
/// # Safety
/// As [`acquire`].
pub unsafe fn release(lock: *mut LWLock) -> Result<(), Raised> {
    let n = NUM_HELD.load(Ordering::Relaxed);
    // Most recently acquired first, as PostgreSQL searches.
    let Some(i) = (0..n)
        .rev()
        .find(|&i| HELD[i].lock.load(Ordering::Relaxed) == lock)
    else {
        // SAFETY: the caller's contract.
        let name = tranche_name(unsafe { &*lock }.tranche.load(Ordering::Relaxed));
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            format!("lock {name} is not held"),
            None,
        );
        return Err(Raised);
    };
    let mode = HELD[i].mode.load(Ordering::Relaxed);
    for j in i..n - 1 {
        HELD[j]
            .lock
            .store(HELD[j + 1].lock.load(Ordering::Relaxed), Ordering::Relaxed);
        HELD[j]
            .mode
            .store(HELD[j + 1].mode.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    NUM_HELD.store(n - 1, Ordering::Release);
    // SAFETY: the caller's contract.
    unlock(unsafe { &*lock }, mode);
    resume_interrupts();
    Ok(())
}

/// Drop one hold of `mode` and wake the sleepers if the lock became free.
/// Async-signal-safe (atomics and a futex call).
fn unlock(lock: &LWLock, mode: c_int) {
    let sub = if mode == LW_EXCLUSIVE {
        LW_VAL_EXCLUSIVE
    } else {
        LW_VAL_SHARED
    };
    let old = lock.state.fetch_sub(sub, Ordering::Release);
    let new = old.wrapping_sub(sub);
    if new & LW_FLAG_HAS_WAITERS != 0 && new & LW_LOCK_MASK == 0 {
        lock.state
            .fetch_and(!LW_FLAG_HAS_WAITERS, Ordering::Relaxed);
        crate::backend::futex_wake_all(&lock.state);
    }
}

/// Release everything this process holds, newest first (LWLockReleaseAll;
/// also the last step of proc_exit). Async-signal-safe.
pub fn release_all() {
    loop {
        let n = NUM_HELD.load(Ordering::Relaxed);
        if n == 0 {
            return;
        }
        let lock = HELD[n - 1].lock.load(Ordering::Relaxed);
        let mode = HELD[n - 1].mode.load(Ordering::Relaxed);
        NUM_HELD.store(n - 1, Ordering::Release);
        // SAFETY: the entry was recorded by a successful acquire of a lock
        // in memory that stays mapped for the life of the process.
        unlock(unsafe { &*lock }, mode);
        // The interrupt hold-off count is left alone, as PostgreSQL's
        // LWLockReleaseAll leaves it: its callers (error recovery,
        // proc_exit) have already reset it.
    }
}

/// Forget held locks without touching them: the region was cleared (crash
/// reset) or this is a new child, whose parent's holds are not its own.
pub fn forget_held() {
    NUM_HELD.store(0, Ordering::Release);
}

///
/// # Safety
/// `lock` is NULL or points at an LWLock that stays mapped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockAcquire(lock: *mut LWLock, mode: c_int) -> bool {
    super::guard("bgw_rs_LWLockAcquire", false, || {
        if lock.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "LWLockAcquire of a NULL lock".into(),
                None,
            );
            return false;
        }
        // SAFETY: a module's LWLock pointer (non-NULL, checked).
        unsafe { acquire(lock, mode) }.unwrap_or(false)
    })
}

///
/// # Safety
/// `lock` is NULL or points at an LWLock that stays mapped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockConditionalAcquire(lock: *mut LWLock, mode: c_int) -> bool {
    super::guard("bgw_rs_LWLockConditionalAcquire", false, || {
        if lock.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "LWLockConditionalAcquire of a NULL lock".into(),
                None,
            );
            return false;
        }
        if !room_for_one_more() {
            return false;
        }
        hold_interrupts();
        // SAFETY: a module's LWLock pointer (non-NULL, checked).
        if attempt(unsafe { &*lock }, mode == LW_EXCLUSIVE) {
            push_held(lock, mode);
            true
        } else {
            resume_interrupts();
            false
        }
    })
}

///
/// # Safety
/// `lock` is NULL or points at an LWLock that stays mapped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockRelease(lock: *mut LWLock) {
    super::guard("bgw_rs_LWLockRelease", (), || {
        if lock.is_null() {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "LWLockRelease of a NULL lock".into(),
                None,
            );
            return;
        }
        // SAFETY: a module's LWLock pointer (non-NULL, checked).
        let _ = unsafe { release(lock) };
    })
}

/// `LWLockReleaseAll`: after an ERROR caught by the module, say.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_LWLockReleaseAll() {
    super::guard("LWLockReleaseAll", (), || {
        release_all();
    })
}

/// `LWLockHeldByMe`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_LWLockHeldByMe(lock: *mut LWLock) -> bool {
    super::guard("LWLockHeldByMe", false, || {
        let n = NUM_HELD.load(Ordering::Acquire);
        (0..n).any(|i| HELD[i].lock.load(Ordering::Relaxed) == lock)
    })
}

/// `LWLockHeldByMeInMode`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_LWLockHeldByMeInMode(lock: *mut LWLock, mode: c_int) -> bool {
    super::guard("LWLockHeldByMeInMode", false, || {
        let n = NUM_HELD.load(Ordering::Acquire);
        (0..n).any(|i| {
            HELD[i].lock.load(Ordering::Relaxed) == lock
                && HELD[i].mode.load(Ordering::Relaxed) == mode
        })
    })
}

/// `LWLockAnyHeldByMe(lock, nlocks, stride)`: any of `nlocks` locks
/// `stride` bytes apart, starting at `lock`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_LWLockAnyHeldByMe(
    lock: *mut LWLock,
    nlocks: c_int,
    stride: usize,
) -> bool {
    super::guard("LWLockAnyHeldByMe", false, || {
        let begin = lock as usize;
        let end = begin.saturating_add((nlocks.max(0) as usize).saturating_mul(stride));
        let n = NUM_HELD.load(Ordering::Acquire);
        (0..n).any(|i| {
            let a = HELD[i].lock.load(Ordering::Relaxed) as usize;
            a >= begin && a < end && stride != 0 && (a - begin).is_multiple_of(stride)
        })
    })
}

/// `LWLockInitialize`: a lock in memory the module owns.
///
/// # Safety
/// `lock` is NULL or points at writable storage for an LWLock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockInitialize(lock: *mut LWLock, tranche_id: c_int) {
    super::guard("LWLockInitialize", (), || {
        // SAFETY: the caller passes writable storage for an LWLock (NULL is
        // ignored rather than dereferenced).
        if let Some(l) = unsafe { lock.as_ref() } {
            initialize(l, tranche_id as u16);
        }
    })
}

/// `LWLockNewTrancheId`: from the region's shared counter, so ids are
/// unique across the supervisor's processes.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_LWLockNewTrancheId() -> c_int {
    super::guard(
        "LWLockNewTrancheId",
        0,
        || match super::shmem::tranche_counter() {
            Some(c) => c.fetch_add(1, Ordering::Relaxed),
            None => first_user_defined() + LOCAL_TRANCHE_COUNTER.fetch_add(1, Ordering::Relaxed),
        },
    )
}

/// `LWLockRegisterTranche`: name a tranche in this process (the name is
/// copied; PostgreSQL keeps the pointer, so callers pass lasting strings).
///
/// # Safety
/// `tranche_name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockRegisterTranche(
    tranche_id: c_int,
    tranche_name: *const c_char,
) {
    super::guard("LWLockRegisterTranche", (), || {
        if tranche_name.is_null() {
            return;
        }
        // SAFETY: a NUL-terminated name (checked non-NULL).
        let name = unsafe { CStr::from_ptr(tranche_name) }.to_string_lossy();
        register_tranche(tranche_id, &name);
    })
}

/// `RequestNamedLWLockTranche`: only inside shmem_request_hook (FATAL
/// otherwise, PostgreSQL 15's message).
///
/// # Safety
/// `tranche_name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_RequestNamedLWLockTranche(
    tranche_name: *const c_char,
    num_lwlocks: c_int,
) {
    super::guard("bgw_rs_RequestNamedLWLockTranche", (), || {
        if !super::shmem::process_shmem_requests_in_progress.load(Ordering::Acquire) {
            raise(
                FATAL,
                ERRCODE_INTERNAL_ERROR,
                "cannot request additional LWLocks outside shmem_request_hook".into(),
                None,
            );
            return;
        }
        let Some(mut name) = super::misc::c_str(tranche_name) else {
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                "tranche name is NULL".into(),
                None,
            );
            return;
        };
        while name.len() >= NAMEDATALEN {
            name.pop();
        }
        requests().push(Request {
            name,
            count: num_lwlocks.max(0) as usize,
        });
    })
}

/// `GetNamedLWLockTranche`: the first lock of a requested tranche.
///
/// # Safety
/// `tranche_name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_GetNamedLWLockTranche(tranche_name: *const c_char) -> *mut u8 {
    super::guard("bgw_rs_GetNamedLWLockTranche", std::ptr::null_mut(), || {
        let wanted = super::misc::c_str(tranche_name).unwrap_or_default();
        let base = MainLWLockArray.load(Ordering::Acquire);
        let mut pos = num_fixed();
        for r in requests().iter() {
            if r.name == wanted && !base.is_null() {
                // SAFETY: the region holds main_array_len() entries, of which
                // this tranche's are [pos, pos + count).
                return unsafe { base.add(pos * LWLOCK_PADDED_SIZE) };
            }
            pos += r.count;
        }
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "requested tranche is not registered".into(),
            None,
        );
        std::ptr::null_mut()
    })
}
