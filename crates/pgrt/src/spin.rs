//! Spinlocks (storage/s_lock.h, s_lock.c): the out-of-line half.
//!
//! PostgreSQL's headers compile `SpinLockAcquire` into the module as an
//! inline `lock xchgb` on a one-byte `slock_t` (TAS) and call
//! `s_lock(lock, file, line, func)` only when that fails; `SpinLockRelease`
//! is an inline store of 0. So a spinlock is a byte whose value 0 means
//! free, and this file provides what the contended path calls: spin, then
//! sleep with randomly growing delays, and after NUM_DELAYS sleeps (about
//! two minutes) PANIC with PostgreSQL 15's "stuck spinlock detected"
//! message, which starts a crash cycle.

use std::ffi::{c_char, c_int};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicU8, Ordering};

use super::elog::{raise, ERRCODE_INTERNAL_ERROR};

const DEFAULT_SPINS_PER_DELAY: i32 = 100;
const MIN_SPINS_PER_DELAY: i32 = 10;
const MAX_SPINS_PER_DELAY: i32 = 1000;
const NUM_DELAYS: i32 = 1000;
const MIN_DELAY_USEC: i32 = 1000;
const MAX_DELAY_USEC: i32 = 1_000_000;

/// `slock_t dummy_spinlock`, which some barrier fallbacks reference.
#[unsafe(no_mangle)]
pub static dummy_spinlock: AtomicU8 = AtomicU8::new(0);

super::c_export! {
    s_lock => bgw_c_s_lock,
    perform_spin_delay => bgw_c_perform_spin_delay,
    finish_spin_delay => bgw_c_finish_spin_delay,
    set_spins_per_delay => bgw_c_set_spins_per_delay,
    update_spins_per_delay => bgw_c_update_spins_per_delay,
}

/// This process's adaptive spin count (s_lock.c's `spins_per_delay`).
static SPINS_PER_DELAY: AtomicI32 = AtomicI32::new(DEFAULT_SPINS_PER_DELAY);

/// State of a xorshift generator for the delay growth (PostgreSQL uses its
/// global PRNG); seeded lazily from the pid and the clock.
static PRNG: AtomicU64 = AtomicU64::new(0);

/// PostgreSQL's `SpinDelayStatus` (s_lock.h), which modules may embed
/// (init_local_spin_delay is an inline function).
#[repr(C)]
pub struct SpinDelayStatus {
    pub spins: c_int,
    pub delays: c_int,
    pub cur_delay: c_int,
    pub file: *const c_char,
    pub line: c_int,
    pub func: *const c_char,
}

/// A number in [0, 1).
fn random_fraction() -> f64 {
    let mut x = PRNG.load(Ordering::Relaxed);
    if x == 0 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: getpid and clock_gettime have no preconditions beyond a
        // valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        // SAFETY: as above.
        x = (ts.tv_nsec as u64) ^ ((unsafe { libc::getpid() } as u64) << 32) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    PRNG.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The TAS the headers inline (an atomic exchange of 1); true when the
/// lock was already taken.
fn tas(lock: &AtomicU8) -> bool {
    lock.swap(1, Ordering::Acquire) != 0
}

/// TAS_SPIN on x86-64: a plain read first, the exchange only if it looks
/// free.
fn tas_spin(lock: &AtomicU8) -> bool {
    lock.load(Ordering::Relaxed) != 0 || tas(lock)
}

/// One step of waiting (s_lock.c's perform_spin_delay). Returns false
/// after recording the PANIC when the lock is stuck.
fn delay_step(status: &mut SpinDelayStatus) -> bool {
    std::hint::spin_loop();
    status.spins += 1;
    if status.spins >= SPINS_PER_DELAY.load(Ordering::Relaxed) {
        status.delays += 1;
        if status.delays > NUM_DELAYS {
            let text = |p: *const c_char| super::misc::c_str(p);
            let func = text(status.func).unwrap_or_else(|| "(unknown)".into());
            let file = text(status.file).unwrap_or_default();
            raise(
                crate::log::PANIC,
                ERRCODE_INTERNAL_ERROR,
                format!("stuck spinlock detected at {func}, {file}:{}", status.line),
                None,
            );
            return false;
        }
        if status.cur_delay == 0 {
            status.cur_delay = MIN_DELAY_USEC;
        }
        super::misc::bgw_rs_pg_usleep(status.cur_delay as libc::c_long);
        // Grow by a random fraction between 1x and 2x; wrap back to the
        // minimum past the maximum.
        status.cur_delay += (status.cur_delay as f64 * random_fraction() + 0.5) as i32;
        if status.cur_delay > MAX_DELAY_USEC {
            status.cur_delay = MIN_DELAY_USEC;
        }
        status.spins = 0;
    }
    true
}

fn finish(status: &SpinDelayStatus) {
    let spd = SPINS_PER_DELAY.load(Ordering::Relaxed);
    if status.cur_delay == 0 {
        // Never had to sleep: probably a multiprocessor, spin longer.
        SPINS_PER_DELAY.store((spd + 100).min(MAX_SPINS_PER_DELAY), Ordering::Relaxed);
    } else {
        SPINS_PER_DELAY.store((spd - 1).max(MIN_SPINS_PER_DELAY), Ordering::Relaxed);
    }
}

/// `s_lock`: wait for a spinlock whose inline TAS failed; returns the
/// number of sleeps. On a stuck lock the PANIC is recorded and the C
/// wrapper raises it.
///
/// # Safety
/// `lock` points at a slock_t that stays mapped; `file` and `func` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_s_lock(
    lock: *mut u8,
    file: *const c_char,
    line: c_int,
    func: *const c_char,
) -> c_int {
    super::guard("bgw_rs_s_lock", 0, || {
        // SAFETY: the module passes its slock_t, a byte in mapped memory;
        // AtomicU8 has the same layout.
        let l = unsafe { &*(lock as *const AtomicU8) };
        let mut status = SpinDelayStatus {
            spins: 0,
            delays: 0,
            cur_delay: 0,
            file,
            line,
            func,
        };
        while tas_spin(l) {
            if !delay_step(&mut status) {
                return status.delays;
            }
        }
        finish(&status);
        status.delays
    })
}

/// `perform_spin_delay`, for modules with spin-wait loops of their own.
///
/// # Safety
/// `status` is NULL or points at a SpinDelayStatus set up by init_spin_delay.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_perform_spin_delay(status: *mut SpinDelayStatus) {
    super::guard("bgw_rs_perform_spin_delay", (), || {
        // SAFETY: the module passes its SpinDelayStatus (NULL ignored).
        if let Some(s) = unsafe { status.as_mut() } {
            delay_step(s);
        }
    })
}

/// `finish_spin_delay`.
///
/// # Safety
/// `status` is NULL or points at a SpinDelayStatus set up by init_spin_delay.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_finish_spin_delay(status: *mut SpinDelayStatus) {
    super::guard("finish_spin_delay", (), || {
        // SAFETY: as perform_spin_delay.
        if let Some(s) = unsafe { status.as_ref() } {
            finish(s);
        }
    })
}

/// `set_spins_per_delay`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_set_spins_per_delay(shared_spins_per_delay: c_int) {
    super::guard("set_spins_per_delay", (), || {
        SPINS_PER_DELAY.store(shared_spins_per_delay, Ordering::Relaxed);
    })
}

/// `update_spins_per_delay`: PostgreSQL's slow moving average.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_update_spins_per_delay(shared_spins_per_delay: c_int) -> c_int {
    super::guard("update_spins_per_delay", shared_spins_per_delay, || {
        (shared_spins_per_delay * 15 + SPINS_PER_DELAY.load(Ordering::Relaxed)) / 16
    })
}
