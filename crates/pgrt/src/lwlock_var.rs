//! The LWLock calls beyond acquire and release (storage/lwlock.h):
//! `LWLockAcquireOrWait`, and waiting for a variable a lock's exclusive
//! holder updates (`LWLockWaitForVar`, `LWLockUpdateVar`,
//! `LWLockReleaseClearVar`), with PostgreSQL's semantics:
//! - `LWLockAcquireOrWait(lock, mode)`: takes the lock if it is free and
//!   returns true; otherwise sleeps until it is released and returns false
//!   without taking it.
//! - `LWLockWaitForVar(lock, valptr, oldval, newval)`: true at once or
//!   after sleeping when the lock is (or becomes) not held exclusively;
//!   false with `*newval` when the variable differs from `oldval`.
//! - `LWLockUpdateVar(lock, valptr, val)` (the exclusive holder): sets the
//!   variable and wakes the waiters; `LWLockReleaseClearVar` sets it and
//!   releases the lock.
//!
//! The variable is a `uint64 *` in 15 and a `pg_atomic_uint64 *` from 16:
//! 8 aligned bytes either way, read and written atomically here.
//!
//! Waking: waiters sleep on the lock's state word with
//! [`LW_FLAG_HAS_WAITERS`] set (lwlock.rs). An update stores the variable,
//! then, if the flag is set, clears it and wakes every sleeper (as a
//! release does); a waiter sets the flag, then reads the variable again
//! before sleeping. Both orders are sequentially consistent, so either the
//! waiter sees the new value or the updater sees the flag: no lost wake-up.

use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::elog::{raise, ERRCODE_INTERNAL_ERROR};
use super::lwlock::{
    attempt, hold_interrupts, push_held, resume_interrupts, room_for_one_more, wait_for_change,
    LWLock, LW_EXCLUSIVE, LW_FLAG_HAS_WAITERS, LW_LOCK_MASK, LW_VAL_EXCLUSIVE,
};
use crate::log::ERROR;

super::c_export! {
    LWLockAcquireOrWait => bgw_c_LWLockAcquireOrWait,
    LWLockWaitForVar => bgw_c_LWLockWaitForVar,
    LWLockUpdateVar => bgw_c_LWLockUpdateVar,
    LWLockReleaseClearVar => bgw_c_LWLockReleaseClearVar,
}

/// PostgreSQL's ERROR for a NULL lock or variable; true when `p` is NULL.
fn null_arg<T>(p: *const T, what: &str) -> bool {
    if p.is_null() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            format!("{what} of a NULL lock or variable"),
            None,
        );
    }
    p.is_null()
}

/// The caller's 8-byte variable as an atomic.
///
/// # Safety
/// `valptr` is non-NULL, 8-byte aligned and stays mapped (a module's
/// variable in shared memory).
unsafe fn var<'a>(valptr: *mut u64) -> &'a AtomicU64 {
    // SAFETY: per the function's contract.
    unsafe { AtomicU64::from_ptr(valptr) }
}

/// Store `val` and wake every sleeper on `lock` if there are any.
fn set_and_wake(lock: &LWLock, v: &AtomicU64, val: u64) {
    v.store(val, Ordering::SeqCst);
    let s = lock.state.load(Ordering::SeqCst);
    if s & LW_FLAG_HAS_WAITERS != 0 {
        lock.state.fetch_and(!LW_FLAG_HAS_WAITERS, Ordering::SeqCst);
        crate::backend::futex_wake_all(&lock.state);
    }
}

/// `LWLockAcquireOrWait(lock, mode)`.
///
/// # Safety
/// `lock` is NULL or points at an LWLock that stays mapped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockAcquireOrWait(lock: *mut LWLock, mode: c_int) -> bool {
    super::guard("LWLockAcquireOrWait", false, || {
        if null_arg(lock, "LWLockAcquireOrWait") {
            return false;
        }
        if !room_for_one_more() {
            return false;
        }
        // SAFETY: a module's LWLock (non-NULL, checked).
        let l = unsafe { &*lock };
        let exclusive = mode == LW_EXCLUSIVE;
        hold_interrupts();
        if attempt(l, exclusive) {
            push_held(lock, mode);
            return true;
        }
        // Sleep until it is free for `mode`; do not take it.
        loop {
            wait_for_change(l, exclusive);
            let s = l.state.load(Ordering::Acquire);
            let free = if exclusive {
                s & LW_LOCK_MASK == 0
            } else {
                s & LW_VAL_EXCLUSIVE == 0
            };
            if free {
                break;
            }
        }
        resume_interrupts();
        false
    })
}

/// `LWLockWaitForVar(lock, valptr, oldval, newval)`.
///
/// # Safety
/// `lock` is NULL or points at an LWLock that stays mapped; `valptr` is
/// NULL or an 8-byte aligned variable that stays mapped; `newval` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockWaitForVar(
    lock: *mut LWLock,
    valptr: *mut u64,
    oldval: u64,
    newval: *mut u64,
) -> bool {
    super::guard("LWLockWaitForVar", false, || {
        if null_arg(lock, "LWLockWaitForVar") || null_arg(valptr, "LWLockWaitForVar") {
            return false;
        }
        // SAFETY: non-NULL (checked); the caller's contract.
        let (l, v) = unsafe { (&*lock, var(valptr)) };
        hold_interrupts();
        let result = loop {
            let s = l.state.load(Ordering::SeqCst);
            if s & LW_VAL_EXCLUSIVE == 0 {
                break true;
            }
            let value = v.load(Ordering::SeqCst);
            if value != oldval {
                if !newval.is_null() {
                    // SAFETY: the caller's out parameter.
                    unsafe { *newval = value };
                }
                break false;
            }
            let flagged = s | LW_FLAG_HAS_WAITERS;
            if s != flagged
                && l.state
                    .compare_exchange(s, flagged, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
            {
                continue;
            }
            if v.load(Ordering::SeqCst) != oldval {
                continue;
            }
            // The timeout is only a safety net; wake-ups come from
            // releases and updates.
            crate::backend::futex_wait(&l.state, flagged, Duration::from_secs(1));
        };
        resume_interrupts();
        result
    })
}

/// `LWLockUpdateVar(lock, valptr, val)`: by the lock's exclusive holder
/// (PostgreSQL asserts it; here a process that does not hold it gets an
/// ERROR and nothing changes).
///
/// # Safety
/// As [`bgw_rs_LWLockWaitForVar`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockUpdateVar(lock: *mut LWLock, valptr: *mut u64, val: u64) {
    super::guard("LWLockUpdateVar", (), || {
        if null_arg(lock, "LWLockUpdateVar") || null_arg(valptr, "LWLockUpdateVar") {
            return;
        }
        if !super::lwlock::bgw_rs_LWLockHeldByMeInMode(lock, LW_EXCLUSIVE) {
            // SAFETY: non-NULL (checked); the caller's contract.
            let name =
                super::lwlock::tranche_name(unsafe { &*lock }.tranche.load(Ordering::Relaxed));
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                format!("lock {name} is not held exclusively"),
                None,
            );
            return;
        }
        // SAFETY: non-NULL (checked); the caller's contract.
        let (l, v) = unsafe { (&*lock, var(valptr)) };
        set_and_wake(l, v, val);
    })
}

/// `LWLockReleaseClearVar(lock, valptr, val)`: set the variable, then
/// release the lock (PostgreSQL's ERROR if it is not held).
///
/// # Safety
/// As [`bgw_rs_LWLockWaitForVar`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_LWLockReleaseClearVar(
    lock: *mut LWLock,
    valptr: *mut u64,
    val: u64,
) {
    super::guard("LWLockReleaseClearVar", (), || {
        if null_arg(lock, "LWLockReleaseClearVar") || null_arg(valptr, "LWLockReleaseClearVar") {
            return;
        }
        // SAFETY: non-NULL (checked); the caller's contract.
        unsafe { var(valptr) }.store(val, Ordering::SeqCst);
        // (The release wakes the sleepers once the lock is free.)
        // SAFETY: as above.
        let _ = unsafe { super::lwlock::release(lock) };
    })
}
