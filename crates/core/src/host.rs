//! The C API beyond PostgreSQL's: attaching an unrelated process to a
//! running supervisor, and embedding the supervisor in a host program.
//!
//! Every function here goes through the same panic boundary as api.rs and
//! reports failure as -1 with a message for [`bgw_last_error`].

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::path::Path;

use crate::abi::BgWorkerStartTime;
use crate::api::boundary;
use crate::backend;
use crate::log;
use crate::process::loader;
use crate::settings;
use crate::supervisor;

mod fork_server;
pub mod mq;

/// Modes for [`bgw_host_request_shutdown`] (as the postmaster's SIGTERM,
/// SIGINT and SIGQUIT).
pub const BGW_SHUTDOWN_SMART: c_int = 1;
pub const BGW_SHUTDOWN_FAST: c_int = 2;
pub const BGW_SHUTDOWN_IMMEDIATE: c_int = 3;

/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, String> {
    if p.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: non-null, NUL-terminated (caller's contract).
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| format!("{what} is not valid UTF-8"))
}

fn fail(msg: &str) -> c_int {
    backend::set_last_error(msg);
    -1
}

/// Attach this process to a running supervisor, given its run directory
/// (the directory holding `bgworkerd.pid`) or its segment name. Afterwards
/// this process may register, wait on and terminate dynamic workers.
/// Returns 0, or -1 (see bgw_last_error: no daemon, stale pid file, corrupt
/// segment, already attached). Installs a no-op SIGUSR1 handler if SIGUSR1
/// has its default action, since bgw_notify_pid notifications use it.
///
/// # Safety
/// `where_` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bgw_attach(where_: *const c_char) -> c_int {
    boundary("bgw_attach", -1, || {
        if where_.is_null() {
            return fail("bgw_attach: run directory or segment name is NULL");
        }
        // SAFETY: non-null, NUL-terminated (contract).
        match backend::attach(unsafe { CStr::from_ptr(where_) }) {
            Ok(()) => 0,
            Err(m) => fail(&m),
        }
    })
}

/// bgw_attach for a host compiled against include/bgworker.h with
/// `BGW_PG_MAJOR` = `major` (the header maps bgw_attach here): fails, with
/// a message for bgw_last_error, when this library does not serve that
/// major, so that no struct of an unknown layout is ever read.
///
/// # Safety
/// As bgw_attach.
#[no_mangle]
pub unsafe extern "C" fn bgw_attach_major(where_: *const c_char, major: c_int) -> c_int {
    boundary("bgw_attach", -1, || {
        if major < 0 || !crate::identity::serves(major as u32) {
            return fail(&format!(
                "bgw_attach: this program was compiled for PostgreSQL {major} (BGW_PG_MAJOR), \
                 which libbgworker does not serve (it serves 15, 17 and 18)"
            ));
        }
        // SAFETY: the caller's contract.
        unsafe { bgw_attach(where_) }
    })
}

/// Detach from the supervisor. No other thread may be inside this library
/// at the time; handles become unusable.
#[no_mangle]
pub extern "C" fn bgw_detach() {
    boundary("bgw_detach", (), || {
        if backend::role() == Some(backend::Role::Attached) {
            // SAFETY: no other thread is inside the library (this
            // function's documented contract), and the reference role()
            // used is gone.
            unsafe { backend::uninstall() };
        }
    })
}

/// The message of this thread's last failed call (empty if none). Valid
/// until the thread's next call into the library.
#[no_mangle]
pub extern "C" fn bgw_last_error() -> *const c_char {
    boundary(
        "bgw_last_error",
        c"internal error".as_ptr(),
        backend::last_error_ptr,
    )
}

/// Set a supervisor setting, as bgworkerd's `-c NAME=VALUE`, before
/// bgw_host_run. Returns 0, or -1 with PostgreSQL's message.
///
/// # Safety
/// `name` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn bgw_host_set(name: *const c_char, value: *const c_char) -> c_int {
    boundary("bgw_host_set", -1, || {
        // SAFETY: contract as documented.
        let r = unsafe { arg(name, "setting name") }
            .and_then(|n| unsafe { arg(value, "setting value") }.map(|v| (n, v)))
            .and_then(|(n, v)| {
                settings::set_from_command_line(n, v)?;
                log::set_min_level(settings::current().log_min_messages);
                // With a fork server, the server (where the supervisor
                // runs) gets it too.
                if fork_server::active() {
                    fork_server::set(n, v)?;
                }
                Ok(())
            });
        match r {
            Ok(()) => 0,
            Err(m) => fail(&m),
        }
    })
}

/// Load a module as one shared_preload_libraries entry: found on
/// dynamic_library_path, dlopen'ed, `_PG_init` called, during which
/// RegisterBackgroundWorker registers static workers. The first call
/// decides the process's PostgreSQL major (the module's magic block, else
/// `postgresql_major`, which also wins when set with bgw_host_set); a
/// module of another major is refused with PostgreSQL's "version
/// mismatch" before its `_PG_init` runs. Returns 0 or -1.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bgw_host_load_library(name: *const c_char) -> c_int {
    boundary("bgw_host_load_library", -1, || {
        // SAFETY: contract as documented.
        let name = match unsafe { arg(name, "library name") } {
            Ok(n) => n,
            Err(m) => return fail(&m),
        };
        if fork_server::active() {
            // Loaded (and its _PG_init run) where the workers are forked.
            return match fork_server::load_library(name) {
                Ok(()) => 0,
                Err(m) => fail(&m),
            };
        }
        match loader::load_preload_libraries(&[name.to_string()]) {
            Ok(()) => 0,
            Err(e) => {
                log::emit_full(
                    log::ERROR,
                    &e.message,
                    e.detail.as_deref(),
                    e.hint.as_deref(),
                );
                fail(&e.message)
            }
        }
    })
}

/// The latest start phase the supervisor may reach (default
/// BgWorkerStart_RecoveryFinished: all at once). A host can hold workers
/// back by setting an earlier phase before bgw_host_run and raise it later,
/// from any thread or a signal handler (async-signal-safe).
#[no_mangle]
pub extern "C" fn bgw_host_set_start_phase(phase: BgWorkerStartTime) {
    // The boundary allocates only on a panic, so this stays async-signal-safe.
    boundary("bgw_host_set_start_phase", (), || {
        if fork_server::active() {
            fork_server::set_phase_limit(phase);
        }
        supervisor::set_phase_limit(phase)
    })
}

/// Run the supervisor in the calling thread until it shuts down: creates
/// the shared segment, writes `RUNDIR/bgworkerd.pid` (when `rundir` is not
/// NULL) so that other processes can attach, starts the static workers and
/// supervises. Returns 0 after a clean shutdown, 1 otherwise.
///
/// The calling thread's signal mask gets SIGCHLD, SIGUSR1, SIGTERM, SIGINT,
/// SIGQUIT and SIGHUP blocked while it runs (they are read from a signalfd);
/// other threads of the host should block them too. Workers are forked
/// from this thread and die with it; as with any fork in a threaded
/// program, other threads should not be inside this library (bgw_host_set,
/// bgw_host_load_library) while it runs.
///
/// A worker ends with proc_exit (returning from its entry point, an
/// uncaught ERROR, FATAL): the exit callbacks run, stdio is flushed, and
/// the process ends with _exit(), so the host's atexit handlers run only in
/// the host itself, never in its workers (bgworkerd's workers, by
/// contrast, end with exit(), as PostgreSQL's).
///
/// # Safety
/// `rundir` is NULL or a NUL-terminated path.
#[no_mangle]
pub unsafe extern "C" fn bgw_host_run(rundir: *const c_char) -> c_int {
    boundary("bgw_host_run", 1, || {
        let dir = if rundir.is_null() {
            None
        } else {
            // SAFETY: non-null, NUL-terminated (contract).
            match unsafe { arg(rundir, "run directory") } {
                Ok(d) => Some(Path::new(d).to_path_buf()),
                Err(m) => return fail(&m),
            }
        };
        if fork_server::active() {
            return match fork_server::run(dir.as_deref().and_then(Path::to_str)) {
                Ok(rc) => rc,
                Err(m) => {
                    log::emit(log::LOG, &format!("bgw_host_run: {m}"));
                    fail(&m);
                    1
                }
            };
        }
        supervisor::run(dir.as_deref(), None)
    })
}

/// Ask a running bgw_host_run to shut down: BGW_SHUTDOWN_SMART, _FAST or
/// _IMMEDIATE. Async-signal-safe; a request made before bgw_host_run
/// starts is kept and acted on at once.
#[no_mangle]
pub extern "C" fn bgw_host_request_shutdown(mode: c_int) {
    // The boundary allocates only on a panic, so this stays async-signal-safe.
    boundary("bgw_host_request_shutdown", (), || {
        if fork_server::active() {
            fork_server::request_shutdown(mode);
        }
        supervisor::request_shutdown(mode)
    })
}

/// Opt-in: start a fork server, a small child process of this host that
/// from now on runs what the host asks of the library (settings, module
/// loads and their _PG_init, static registrations, bgw_host_run's
/// supervisor), so that workers are forked from it rather than from the
/// host: a worker's start then costs the same however big the host has
/// grown since (a fork copies the parent's page tables). Call it early, from
/// the main thread, before the host allocates much or starts threads.
///
/// What a worker inherits then: the host as it was at this call (memory,
/// descriptors, signal dispositions, environment), plus what the library
/// did in the server since; nothing the host allocated, wrote, opened or
/// installed after this call. Without it, a worker inherits the host as it
/// is when the worker is forked, as PostgreSQL's workers inherit the
/// postmaster. Workers' parent is the server, whose pid the pid file
/// holds. When the host exits or dies, a supervisor running in the server
/// shuts down at once (immediate shutdown) and the server exits.
///
/// Returns the server's pid, or -1 (bgw_last_error): already started, a
/// supervisor already ran here, an attached process, or fork failed.
#[no_mangle]
pub extern "C" fn bgw_host_start_fork_server() -> c_int {
    boundary(
        "bgw_host_start_fork_server",
        -1,
        || match fork_server::start() {
            Ok(pid) => pid,
            Err(m) => fail(&m),
        },
    )
}
