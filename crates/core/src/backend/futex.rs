//! Futex calls on words in the shared segment. Hand-written on purpose:
//! the words are shared between processes, so the calls must not use
//! FUTEX_PRIVATE_FLAG (which std's and the usual crates' wrappers set); a
//! private futex would never wake a waiter in another process.

use std::time::Duration;

/// Sleep while `*word == expected`, at most `timeout` (shared futex: the
/// word lives in memory shared between processes).
pub fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // SAFETY: word is a valid, aligned u32 for the duration of the call;
    // EAGAIN/EINTR/ETIMEDOUT are all fine outcomes for the caller's loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            0usize,
            0u32,
        )
    };
}

/// Wake every thread sleeping on `word`.
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: word is a valid, aligned u32; waking has no other effect.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            0usize,
            0usize,
            0u32,
        )
    };
}
