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
//! # Processes
//!
//! Module code runs in one thread per process, as in PostgreSQL: the
//! per-process state here (error stack, interrupt flags, memory contexts,
//! exit callbacks) is plain process-global data.

// The core's modules under their own names, as this runtime sees them.
pub(crate) use bgworker_core::{abi, backend, hooks, log, settings, supervisor};

pub mod elog;
pub mod guc;
pub mod interrupts;
pub mod latch;
pub mod lwlock;
pub mod mcxt;
pub mod misc;
pub mod nodb;
pub mod runtime;
pub mod shmem;
pub mod spin;

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
    mcxt::init();
    // The supervisor's major is decided by now (core's supervisor run).
    mcxt::retag_contexts();
    latch::create_proc_array(nslots);
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
    shmem::reinitialize()
}

/// Set up the runtime in a new worker (the child of a fork, before the
/// entry point): identity, MyProc and MyLatch for `slot`, and the process
/// title `bgworkerd: <bgw_name>` (PostgreSQL's init_ps_display).
pub fn worker_start(slot: usize, name: &str) {
    latch::reset_after_fork();
    lwlock::forget_held();
    misc::init_process(true);
    mcxt::init();
    latch::init_worker(slot);
    misc::set_title(name);
}
