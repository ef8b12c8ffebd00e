//! Interrupt flags and the signal handlers PostgreSQL modules install
//! (`pqsignal(SIGTERM, die)`, `SignalHandlerForConfigReload`, ...).
//!
//! Handlers only set flags and the process latch (all async-signal-safe);
//! the module acts on them at its next `CHECK_FOR_INTERRUPTS()` (which
//! calls `ProcessInterrupts`, c/ipc.c) or its own check of
//! `ConfigReloadPending` / `ShutdownRequestPending`.

use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::latch;

super::c_export! {
    pqsignal => bgw_c_pqsignal,
    pqsignal_be => bgw_c_pqsignal_be,
}

// `volatile sig_atomic_t` flags (an int each) and the `volatile uint32`
// hold-off counters that the HOLD_INTERRUPTS/START_CRIT_SECTION macros
// compile into modules.
#[unsafe(no_mangle)]
pub static InterruptPending: AtomicI32 = AtomicI32::new(0);
#[unsafe(no_mangle)]
pub static ProcDiePending: AtomicI32 = AtomicI32::new(0);
#[unsafe(no_mangle)]
pub static QueryCancelPending: AtomicI32 = AtomicI32::new(0);
#[unsafe(no_mangle)]
pub static ConfigReloadPending: AtomicI32 = AtomicI32::new(0);
#[unsafe(no_mangle)]
pub static ShutdownRequestPending: AtomicI32 = AtomicI32::new(0);
#[unsafe(no_mangle)]
pub static InterruptHoldoffCount: AtomicU32 = AtomicU32::new(0);
#[unsafe(no_mangle)]
pub static QueryCancelHoldoffCount: AtomicU32 = AtomicU32::new(0);
#[unsafe(no_mangle)]
pub static CritSectionCount: AtomicU32 = AtomicU32::new(0);

/// PostgreSQL's signal sets (`sigprocmask(SIG_SETMASK, &UnBlockSig, NULL)`
/// is common in modules). Filled by [`init_signal_sets`] before any module
/// code runs in the process, then only read.
#[unsafe(no_mangle)]
// SAFETY: an all-zero sigset_t is a valid empty set.
pub static mut BlockSig: libc::sigset_t = unsafe { std::mem::zeroed() };
#[unsafe(no_mangle)]
// SAFETY: an all-zero sigset_t is a valid empty set.
pub static mut UnBlockSig: libc::sigset_t = unsafe { std::mem::zeroed() };
#[unsafe(no_mangle)]
// SAFETY: an all-zero sigset_t is a valid empty set.
pub static mut StartupBlockSig: libc::sigset_t = unsafe { std::mem::zeroed() };

/// Fill BlockSig/UnBlockSig/StartupBlockSig as PostgreSQL's pqinitmask
/// does, plus SIGURG in all three: latches receive their wake-ups through
/// a signalfd, so SIGURG stays blocked (as in PostgreSQL 15 on Linux).
/// Callers: the supervisor at start and each worker before its entry point.
pub fn init_signal_sets() {
    // Filled once per process image: a forked worker inherits them (and
    // does not dirty their page again).
    static READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if READY.swap(true, Ordering::Relaxed) {
        return;
    }
    let block = bgworker_core::process::signals::block_sig();
    // SAFETY: sigset_t is plain data, initialised by sigemptyset/sigaddset;
    // no module code runs concurrently with this initialisation.
    unsafe {
        let mut unblock: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut unblock);
        libc::sigaddset(&mut unblock, libc::SIGURG);
        let mut startup = block;
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGTERM,
            libc::SIGALRM,
        ] {
            libc::sigdelset(&mut startup, sig);
        }
        libc::sigaddset(&mut startup, libc::SIGURG);
        let mut block = block;
        libc::sigaddset(&mut block, libc::SIGURG);
        *std::ptr::addr_of_mut!(BlockSig) = block;
        *std::ptr::addr_of_mut!(UnBlockSig) = unblock;
        *std::ptr::addr_of_mut!(StartupBlockSig) = startup;
    }
}

/// A copy of UnBlockSig (what BackgroundWorkerUnblockSignals installs).
pub fn unblock_sig() -> libc::sigset_t {
    // SAFETY: read of a plain-data static written only at process set-up.
    unsafe { *std::ptr::addr_of!(UnBlockSig) }
}

pub type PqSigFunc = Option<unsafe extern "C" fn(libc::c_int)>;

/// `pqsignal`: install a handler with SA_RESTART (and SA_NOCLDSTOP for
/// SIGCHLD), returning the previous one, or SIG_ERR.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_pqsignal(
    signo: libc::c_int,
    func: libc::sighandler_t,
) -> libc::sighandler_t {
    super::guard("pqsignal", libc::SIG_ERR, || {
        // SAFETY: a zeroed sigaction with the caller's handler (a function
        // pointer, SIG_IGN or SIG_DFL); sigaction validates signo.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            let mut old: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = func;
            libc::sigemptyset(&mut act.sa_mask);
            act.sa_flags = libc::SA_RESTART;
            if signo == libc::SIGCHLD {
                act.sa_flags |= libc::SA_NOCLDSTOP;
            }
            if libc::sigaction(signo, &act, &mut old) < 0 {
                return libc::SIG_ERR;
            }
            old.sa_sigaction
        }
    })
}

/// Run `f` with errno preserved (handlers must not clobber the errno of
/// the code they interrupted).
fn keep_errno(f: impl FnOnce()) {
    // SAFETY: __errno_location returns this thread's errno slot.
    let saved = unsafe { *libc::__errno_location() };
    f();
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

fn proc_exit_inprogress() -> bool {
    super::misc::proc_exit_inprogress.load(Ordering::Relaxed)
}

/// `die`: SIGTERM handler of PostgreSQL backends. Requests termination at
/// the next CHECK_FOR_INTERRUPTS. Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn die(_sig: libc::c_int) {
    super::guard("die", (), || {
        keep_errno(|| {
            if !proc_exit_inprogress() {
                InterruptPending.store(1, Ordering::Relaxed);
                ProcDiePending.store(1, Ordering::Relaxed);
            }
            latch::set_my_latch();
        })
    })
}

/// `StatementCancelHandler`: SIGINT handler requesting a query cancel
/// (an ERROR at the next CHECK_FOR_INTERRUPTS). Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn StatementCancelHandler(_sig: libc::c_int) {
    super::guard("StatementCancelHandler", (), || {
        keep_errno(|| {
            if !proc_exit_inprogress() {
                InterruptPending.store(1, Ordering::Relaxed);
                QueryCancelPending.store(1, Ordering::Relaxed);
            }
            latch::set_my_latch();
        })
    })
}

/// Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn SignalHandlerForConfigReload(_sig: libc::c_int) {
    super::guard("SignalHandlerForConfigReload", (), || {
        keep_errno(|| {
            ConfigReloadPending.store(1, Ordering::Relaxed);
            latch::set_my_latch();
        })
    })
}

/// Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn SignalHandlerForShutdownRequest(_sig: libc::c_int) {
    super::guard("SignalHandlerForShutdownRequest", (), || {
        keep_errno(|| {
            ShutdownRequestPending.store(1, Ordering::Relaxed);
            latch::set_my_latch();
        })
    })
}

/// Exit at once with status 2, so the supervisor runs a crash cycle.
/// Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn SignalHandlerForCrashExit(_sig: libc::c_int) {
    super::guard("SignalHandlerForCrashExit", (), || {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(2) }
    })
}

/// SIGUSR1 of PostgreSQL backends: wakes the process latch (bgw_notify_pid
/// notifications arrive this way). Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn procsignal_sigusr1_handler(_sig: libc::c_int) {
    super::guard("procsignal_sigusr1_handler", (), || {
        keep_errno(latch::set_my_latch)
    })
}
