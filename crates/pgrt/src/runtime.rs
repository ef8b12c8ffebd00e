//! How this runtime plugs into the core: the [`Hooks`] it installs (see
//! the core's hooks.rs for when each is called) and the settings observer
//! that keeps the variables modules read in step with the daemon's
//! settings.

use std::sync::atomic::Ordering;

use crate::hooks::{Hooks, Raised};

/// PostgreSQL's backend runtime (15, 17 and 18), as the core's hooks.
pub static HOOKS: Hooks = Hooks {
    name: "PostgreSQL",
    supervisor_start: super::supervisor_start,
    after_crash_reset: super::after_crash_reset,
    prepare_daemon: super::misc::prepare_title_area,
    worker_start: super::worker_start,
    run_worker_entry: super::misc::run_worker_entry,
    exit_process: super::misc::exit_process,
    exit_from_handler: super::misc::exit_from_handler,
    call_module_init: super::elog::call_guarded,
    preload_in_progress: |on| {
        if on {
            // _PG_init may allocate in TopMemoryContext (bloom keeps its
            // option names there), as in PostgreSQL's postmaster, where it
            // exists before the libraries load.
            super::mcxt::init();
            // The core calls this once the process's major is decided.
            super::mcxt::retag_contexts();
            // _PG_init may palloc (pstrdup reads CurrentMemoryContext
            // directly), as in the postmaster's PostmasterContext.
            super::mcxt::init();
            super::guc::builtin::ensure_registered();
        }
        super::misc::process_shared_preload_libraries_in_progress.store(on, Ordering::SeqCst)
    },
    reload_module_settings: |fresh| super::guc::apply_settings(fresh, crate::log::LOG, true),
    extra_setting: super::guc::builtin::is_builtin_of_any,
    apply_extra_settings: super::guc::builtin::apply_at_start,
    signal_masks: Some(signal_masks),
    raise_error,
    notify_worker: super::latch::notify_worker,
    throw_deferred: bgw_c_raise_pending,
    server_libraries: super::server_libraries::make_global,
    worker_exited: super::latch::worker_exited,
};

unsafe extern "C" {
    /// Raise the error recorded with elog::raise (c/elog.c).
    fn bgw_c_raise_pending();
}

/// Install the PostgreSQL runtime's hooks in this process: bgworkerd at
/// start, libbgworker_pg when it is loaded (a constructor); a host that
/// links libbgworker_pg.a without pkg-config's `--static` flags (which
/// name this function) calls it itself before `bgw_attach` or
/// `bgw_host_run`. Idempotent.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_runtime_init() {
    install();
}

/// Install this runtime in the process (before the supervisor starts or
/// the process attaches; forked workers inherit it). Idempotent.
pub fn install() {
    crate::hooks::install(&HOOKS);
    crate::settings::observe(super::misc::publish_settings);
}

fn signal_masks() -> (libc::sigset_t, libc::sigset_t) {
    super::interrupts::init_signal_sets();
    // SAFETY: BlockSig is filled by init_signal_sets and then only read.
    let block = unsafe { *std::ptr::addr_of!(super::interrupts::BlockSig) };
    (block, super::interrupts::unblock_sig())
}

/// An ERROR from a bgworker.h export becomes PostgreSQL's ERROR where
/// module code has an error handler to catch it (PG_exception_stack: a
/// PG_TRY, the worker's outermost handler, or the supervisor's guard
/// around _PG_init); otherwise (a plain host with no error stack) the core
/// returns the failure value.
fn raise_error(sqlstate: &[u8; 5], message: &str) -> Raised {
    if super::elog::PG_exception_stack
        .load(Ordering::Acquire)
        .is_null()
    {
        return Raised::NotRaised;
    }
    super::elog::raise(
        crate::log::ERROR,
        super::elog::sqlstate(sqlstate),
        message.to_string(),
        None,
    );
    Raised::Deferred
}
