//! Worker signal set-up, as PostgreSQL gives its background workers.
//!
//! A worker starts with every blockable signal blocked except SIGQUIT
//! (PostgreSQL's `BlockSig` after `InitPostmasterChild`), so nothing reaches
//! the module before it installs its handlers and calls
//! `BackgroundWorkerUnblockSignals`. Handlers: SIGTERM ends the worker with
//! PostgreSQL's FATAL message, SIGQUIT exits at once with status 2, SIGUSR1
//! only interrupts waits, SIGINT/SIGHUP/SIGFPE/SIGPIPE/SIGUSR2 are ignored.
//! Everything that runs inside a handler here is async-signal-safe.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};

use crate::log;

/// PostgreSQL's BlockSig: all signals except the synchronous ones, SIGCONT
/// and SIGQUIT.
fn block_set() -> SigSet {
    let mut s = SigSet::all();
    for sig in [
        Signal::SIGTRAP,
        Signal::SIGABRT,
        Signal::SIGILL,
        Signal::SIGFPE,
        Signal::SIGSEGV,
        Signal::SIGBUS,
        Signal::SIGSYS,
        Signal::SIGCONT,
        Signal::SIGQUIT,
    ] {
        s.remove(sig);
    }
    s
}

/// [`block_set`] as the C type modules and the runtime exchange.
pub fn block_sig() -> libc::sigset_t {
    *block_set().as_ref()
}

/// Set this thread's signal mask (async-signal-safe: one
/// pthread_sigmask call, no allocation).
pub fn set_mask(set: &libc::sigset_t) {
    // SAFETY: every sigset_t handed around here was built by sigemptyset,
    // sigfillset or nix's SigSet (which use them), so it is initialised.
    let s = unsafe { SigSet::from_sigset_t_unchecked(*set) };
    // EINVAL is impossible for SIG_SETMASK; nothing else can fail.
    let _ = signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&s), None);
}

/// The empty signal set.
pub fn empty_mask() -> libc::sigset_t {
    *SigSet::empty().as_ref()
}

pub fn unblock_all() {
    set_mask(&empty_mask());
}

/// Install `handler` for `sig` (SA_RESTART, all signals blocked while it
/// runs, as PostgreSQL's pqsignal does for its handlers).
pub fn set_handler(sig: Signal, handler: SigHandler) {
    let sa = SigAction::new(handler, SaFlags::SA_RESTART, SigSet::all());
    // SAFETY: the handlers installed here are async-signal-safe (see the
    // module comment); SIG_IGN and SIG_DFL have no requirements.
    // sigaction fails only for an invalid signal, which Signal rules out.
    let _ = unsafe { signal::sigaction(sig, &sa) };
}

/// The dispositions PostgreSQL's postmaster sets for itself, which its
/// children inherit: job-control and file-size signals ignored (SIGTTIN,
/// SIGTTOU, SIGXFSZ; a write past the size limit then fails with EFBIG
/// instead of killing the process), SIGURG ignored by PostgreSQL 15 and
/// left at its default (which discards it) by 17 and 18, as the process's
/// major says (latches read it from a signalfd while it is blocked, where
/// it queues either way), and SIGSEGV and SIGBUS at their defaults: the
/// Rust runtime's stack-overflow handlers, inherited from bgworkerd's main
/// thread or a Rust host, would otherwise swallow the first one sent with
/// kill(2). Called by bgworkerd at start and by every worker (whose major
/// is decided by then); an embedding host keeps its own.
pub fn set_postmaster_dispositions() {
    for sig in [Signal::SIGTTIN, Signal::SIGTTOU, Signal::SIGXFSZ] {
        set_handler(sig, SigHandler::SigIgn);
    }
    set_sigurg_disposition();
    for sig in [Signal::SIGSEGV, Signal::SIGBUS] {
        set_handler(sig, SigHandler::SigDfl);
    }
}

/// SIGURG's disposition for this process's major (see
/// [`set_postmaster_dispositions`]); bgworkerd calls it again once its
/// preloaded modules have decided the major.
pub fn set_sigurg_disposition() {
    let urg = if crate::identity::pg_major() >= 17 {
        SigHandler::SigDfl
    } else {
        SigHandler::SigIgn
    };
    set_handler(Signal::SIGURG, urg);
}

/// The FATAL text SIGTERM prints, prepared before the handler is installed
/// so the handler only has to write it.
struct DieMessage {
    text: UnsafeCell<[u8; 256]>,
    len: AtomicUsize,
}

// SAFETY: written once by the worker's only thread before the SIGTERM
// handler is installed (the Release store of `len` publishes it); read only
// by that handler afterwards.
unsafe impl Sync for DieMessage {}

static DIE_MESSAGE: DieMessage = DieMessage {
    text: UnsafeCell::new([0; 256]),
    len: AtomicUsize::new(0),
};

extern "C" fn die_handler(_sig: libc::c_int) {
    // Async-signal-safe as far as this crate goes: mask change, a
    // pre-rendered message, _exit; the exit callbacks are the module's.
    set_mask(&block_sig());
    let n = DIE_MESSAGE.len.load(Ordering::Acquire);
    // SAFETY: the first n bytes were initialised before len was published.
    let bytes = unsafe { &(&*DIE_MESSAGE.text.get())[..n] };
    log::emit(
        log::FATAL,
        std::str::from_utf8(bytes)
            .unwrap_or("terminating background worker due to administrator command"),
    );
    // Status 1 as PostgreSQL's FATAL; the module's exit callbacks run
    // first, as they do under PostgreSQL's bgworker_die.
    (crate::hooks::get().exit_from_handler)(1);
}

extern "C" fn quit_handler(_sig: libc::c_int) {
    // PostgreSQL's SignalHandlerForCrashExit: no cleanup, status 2 so the
    // supervisor treats it as a crash if nobody asked for it.
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(2) };
}

extern "C" fn wakeup_handler(_sig: libc::c_int) {
    // PostgreSQL 15's bgworker_sigusr1_handler: interrupts sleeps but does
    // not set the latch (tests/compat.rs checks this against a real
    // server); preserves errno by doing nothing.
}

/// Set up a new worker's signals (called in the child, before the entry
/// point): mask = BlockSig, handlers as PostgreSQL's StartBackgroundWorker.
pub fn setup_worker(bgw_type: &str) {
    let msg = format!("terminating background worker \"{bgw_type}\" due to administrator command");
    let n = msg.len().min(256);
    // SAFETY: single-threaded child; the handler is not installed yet.
    unsafe { (&mut *DIE_MESSAGE.text.get())[..n].copy_from_slice(&msg.as_bytes()[..n]) };
    DIE_MESSAGE.len.store(n, Ordering::Release);

    set_handler(Signal::SIGQUIT, SigHandler::Handler(quit_handler));
    set_handler(Signal::SIGTERM, SigHandler::Handler(die_handler));
    set_handler(Signal::SIGUSR1, SigHandler::Handler(wakeup_handler));
    for sig in [
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGFPE,
        Signal::SIGPIPE,
        Signal::SIGUSR2,
    ] {
        set_handler(sig, SigHandler::SigIgn);
    }
    for sig in [Signal::SIGCHLD, Signal::SIGALRM] {
        set_handler(sig, SigHandler::SigDfl);
    }
    set_postmaster_dispositions();
    // Handlers first, then the mask: the child still has the supervisor's
    // mask (its signals blocked), so nothing arrives before its handler.
    set_mask(&block_sig());
}
