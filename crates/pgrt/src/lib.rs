//! The PostgreSQL 15 backend runtime a background-worker module expects:
//! latches, interrupts and signal handlers, `ereport`/`elog` with
//! `PG_TRY`, `proc_exit` callbacks, custom settings (GUC), memory contexts
//! and `StringInfo`, the `pg_*printf` family, and add-in shared memory with
//! LWLocks. A module compiled unchanged against PostgreSQL 15's server
//! headers resolves these symbols against bgworkerd (or libbgworker) and
//! gets PostgreSQL's behaviour, as long as it needs no database.
//!
//! # What is C and what is Rust
//!
//! Three things cannot be written in stable Rust: functions with a C
//! variable argument list (`errmsg`, `psprintf`, `appendStringInfo`, the
//! printf family), `sigsetjmp`, and `siglongjmp` across frames (ERROR
//! unwinds the module's stack to its `PG_TRY` or to the worker's own
//! handler). Those live in `src/compat/c/`, compiled into the crate with
//! hidden visibility; everything else is Rust.
//!
//! A C function is exported under PostgreSQL's name by [`c_export!`]: a
//! naked Rust function of that name that jumps to the C body (`bgw_c_NAME`)
//! with every argument register untouched, so variable argument lists pass
//! through. That way the exports are Rust items, which the cdylib's export
//! list and bgworkerd's dynamic symbol table (build.rs) both pick up.
//! Exported variables are Rust statics, which the C side declares `extern`.
//!
//! # Errors raised from Rust
//!
//! No Rust frame that owns anything is crossed by a `siglongjmp`. A Rust
//! body that must raise ERROR records it with [`elog::raise`] and returns;
//! its C wrapper (`bgw_c_NAME`, see `c/wrappers.c`) then throws it with
//! `ereport`. Where Rust calls module code that may raise ERROR itself (GUC
//! hooks), it goes through [`elog::call_caught`]: the error stops at a C
//! guard, skipping only plain trampoline frames, stays on the error stack,
//! and is re-thrown by the C wrapper once the Rust body has returned
//! ([`elog::rethrow_caught`]). Module hooks the supervisor runs
//! (`_PG_init`, the shmem hooks) have guards of their own. FATAL and PANIC
//! do not unwind (they exit), so Rust may report those directly.
//!
//! # The panic boundary
//!
//! Every Rust body of an export runs inside [`guard`]: a panic stops
//! there (it never unwinds into C, which would abort the process) and
//! becomes an ERROR "internal error in NAME", recorded like any other and
//! raised by the export's C wrapper once the Rust frames have returned; the
//! body's result is then a harmless failure value the wrapper never hands
//! to the module. Exports without a raising wrapper of their own get one
//! in `c/guarded.c`. Signal handlers are guarded the same way, but must
//! not raise: what they record is raised at the next
//! `CHECK_FOR_INTERRUPTS` (the guard sets `InterruptPending`) or the next
//! wrapper, whichever comes first.
//!
//! # Processes
//!
//! Module code runs in one thread per process, as in PostgreSQL: the
//! per-process state here (error stack, interrupt flags, memory contexts,
//! exit callbacks) is plain process-global data.

// The core's modules under their own names, as this runtime sees them.
pub(crate) use bgworker_core::{abi, backend, hooks, log, settings, supervisor};

pub mod arrayfuncs;
pub mod bitmapset;
pub mod condvar;
pub mod datetime;
pub mod datum;
pub mod dfmgr;
pub mod dsa;
pub mod dshash;
pub mod dsm;
pub mod dsm_registry;
pub mod dynahash;
pub mod elog;
pub mod encoding;
pub mod fd;
pub mod fmgr;
pub mod guc;
mod heaptuple;
pub mod hex;
pub mod interrupts;
pub mod latch;
pub mod lwlock;
mod lwlock_var;
pub mod mcxt;
mod mcxt_alloc;
mod mcxt_tree;
pub mod misc;
mod name;
pub mod nodb;
pub mod numutils;
pub mod pgcode;
pub mod pglist;
pub mod pgstat;
pub mod pgtz;
mod pqformat;
pub mod preload;
pub mod procglobal;
pub mod register;
pub mod register_pg18;
pub mod rendezvous;
pub mod rmgr;
pub mod runtime;
pub mod scansup;
pub mod server_libraries;
pub mod session;
pub mod shmem;
pub mod spin;
mod stack_depth;
pub mod strong_random;
pub mod timestamp;
mod tupdesc;
pub mod varlena;
pub mod wait_event;
pub mod wait_event_set;

/// The panic boundary of every Rust body this runtime exports (see the
/// module docs): runs `body`; if it panics, records ERROR "internal error
/// in `name`" (PostgreSQL's name of the export) for the C wrapper to raise
/// and returns `fail`.
pub(crate) fn guard<R>(name: &'static str, fail: R, body: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(_) => {
            elog::raise(
                crate::log::ERROR,
                elog::ERRCODE_INTERNAL_ERROR,
                format!(
                    "internal error in {}",
                    name.strip_prefix("bgw_rs_").unwrap_or(name)
                ),
                None,
            );
            interrupts::InterruptPending.store(1, std::sync::atomic::Ordering::Relaxed);
            fail
        }
    }
}

/// Export the C function `bgw_c_NAME` as `NAME`: a naked function whose
/// body is a tail jump, so the callee sees the caller's registers and stack
/// (variable arguments included) exactly as if it had been called directly.
/// `build.rs` reads the names from these invocations.
/// One invocation per module (the C bodies are declared in a private
/// `c_targets` module, away from Rust-side declarations with arguments).
macro_rules! c_export {
    ($($name:ident => $target:ident),* $(,)?) => {
        #[allow(clashing_extern_declarations)]
        mod c_targets {
            unsafe extern "C" {
                $(pub fn $target();)*
            }
        }
        $(
            /// # Safety
            /// Called from C with the arguments of the PostgreSQL function
            /// of this name, which the C body receives untouched.
            #[unsafe(naked)]
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name() {
                #[cfg(target_arch = "x86_64")]
                core::arch::naked_asm!("jmp {0}", sym c_targets::$target);
                #[cfg(target_arch = "aarch64")]
                core::arch::naked_asm!("b {0}", sym c_targets::$target);
            }
        )*
    };
}
pub(crate) use c_export;

/// Set up the runtime in a supervisor, before its first fork: process
/// identity, signal sets, the shared process array for `nslots` workers,
/// the memory contexts, a private latch, and the modules' shared memory
/// (their request and startup hooks run here). False when that failed (a
/// FATAL line is logged): the supervisor must shut down.
#[must_use]
pub fn supervisor_start(nslots: usize) -> bool {
    misc::init_process(false);
    stack_depth::take_base();
    mcxt::init();
    // The supervisor's major is decided by now (core's supervisor run).
    mcxt::retag_contexts();
    latch::create_proc_array(nslots);
    procglobal::publish();
    latch::init_local_latch();
    shmem::create()
}

/// After a crash cycle, before workers start again: PostgreSQL
/// reinitialises shared memory, so the process array and the modules'
/// region are cleared and `shmem_startup_hook` runs again. False when the
/// hook failed (a FATAL line is logged): the supervisor must shut down.
#[must_use]
pub fn after_crash_reset(nslots: usize) -> bool {
    latch::create_proc_array(nslots);
    procglobal::publish();
    shmem::reinitialize()
}

/// Set up the runtime in a new worker (the child of a fork, before the
/// entry point): identity, MyProc and MyLatch for `slot`, and the process
/// title `bgworkerd: <bgw_name>` (PostgreSQL's init_ps_display).
pub fn worker_start(slot: usize, name: &str) {
    latch::reset_after_fork();
    lwlock::forget_held();
    misc::init_process(true);
    stack_depth::take_base();
    mcxt::init();
    latch::init_worker(slot);
    misc::set_title(name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{c_char, c_int, CStr};

    /// The start of PostgreSQL 15's ErrorData (c/pgcompat.h).
    #[repr(C)]
    struct ErrorDataHead {
        elevel: c_int,
        flags: [bool; 4],
        filename: *const c_char,
        lineno: c_int,
        funcname: *const c_char,
        domain: *const c_char,
        context_domain: *const c_char,
        sqlerrcode: c_int,
        message: *const c_char,
    }

    // The C bodies, with their real signatures (c_export! declares them
    // without arguments for its jumps).
    #[allow(clashing_extern_declarations)]
    unsafe extern "C" {
        fn bgw_c_raise_pending();
        fn bgw_c_CopyErrorData() -> *mut ErrorDataHead;
        fn bgw_c_FlushErrorState();
        fn bgw_c_FreeErrorData(e: *mut ErrorDataHead);
    }

    /// A panic in an export's body is caught by the guard, which returns
    /// the failure value and records an ERROR; the C side raises it once the
    /// Rust body has returned (what every wrapper does), and a C guard
    /// catches it as a module's PG_TRY would. Without the guard the panic
    /// would abort the test process.
    #[test]
    fn a_panic_in_an_export_body_becomes_an_error_raised_from_c() {
        mcxt::init();
        let mut got = 0;
        let completed = elog::call_caught(&mut || {
            got = guard("test_export", 7, || -> i32 { panic!("test panic") });
            // SAFETY: raises the recorded ERROR; it unwinds only this
            // closure and call_caught's trampoline, which own nothing.
            unsafe { bgw_c_raise_pending() };
        });
        assert!(!completed, "the ERROR was raised");
        assert_eq!(got, 7, "the failure value");
        // SAFETY: the caught error is on the error stack; the copy is freed.
        let (level, code, message) = unsafe {
            let e = bgw_c_CopyErrorData();
            bgw_c_FlushErrorState();
            let r = (
                (*e).elevel,
                (*e).sqlerrcode,
                CStr::from_ptr((*e).message).to_string_lossy().into_owned(),
            );
            bgw_c_FreeErrorData(e);
            r
        };
        assert_eq!(
            (level, code, message.as_str()),
            (
                crate::log::ERROR,
                elog::ERRCODE_INTERNAL_ERROR,
                "internal error in test_export"
            )
        );
        // Nothing is left pending, and the next body runs normally.
        assert_eq!(guard("test_export", 7, || 8), 8);
        let completed = elog::call_caught(&mut || {
            // SAFETY: nothing is pending: returns.
            unsafe { bgw_c_raise_pending() };
        });
        assert!(completed, "nothing left to raise");
    }
}
