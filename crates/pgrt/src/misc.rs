//! Process identity and lifecycle variables (miscadmin.h, ipc.h), the
//! process title, recovery state, time, and the exports of `c/ipc.c`.

use std::ffi::{c_char, c_int, c_long, CStr};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};

use crate::abi::BgWorkerStart_RecoveryFinished;
use crate::backend::{self, Role};

#[unsafe(no_mangle)]
pub static MyProcPid: AtomicI32 = AtomicI32::new(0);
/// `pg_time_t MyStartTime`: seconds since the epoch.
#[unsafe(no_mangle)]
pub static MyStartTime: AtomicI64 = AtomicI64::new(0);
/// `TimestampTz MyStartTimestamp`: microseconds since 2000-01-01.
#[unsafe(no_mangle)]
pub static MyStartTimestamp: AtomicI64 = AtomicI64::new(0);
#[unsafe(no_mangle)]
pub static IsUnderPostmaster: AtomicBool = AtomicBool::new(false);
#[unsafe(no_mangle)]
pub static IsPostmasterEnvironment: AtomicBool = AtomicBool::new(false);
#[unsafe(no_mangle)]
pub static IsBackgroundWorker: AtomicBool = AtomicBool::new(false);
/// `BackendType MyBackendType`: B_INVALID (0) in the supervisor and in an
/// attached process, B_BG_WORKER in a worker, whose value depends on the
/// process's major (4 in 15 and 17, 5 in 18: 17's and 18's
/// `AmBackgroundWorkerProcess()` compares it inline).
#[unsafe(no_mangle)]
pub static MyBackendType: AtomicI32 = AtomicI32::new(0);

/// B_BG_WORKER in `major`'s miscadmin.h.
pub fn b_bg_worker(major: u32) -> i32 {
    if major >= 18 {
        5
    } else {
        4
    }
}
/// True while `_PG_init` of a preloaded library runs in the supervisor.
#[unsafe(no_mangle)]
pub static process_shared_preload_libraries_in_progress: AtomicBool = AtomicBool::new(false);
#[unsafe(no_mangle)]
pub static proc_exit_inprogress: AtomicBool = AtomicBool::new(false);
/// The settings of the same names (kept current by
/// [`publish_settings`], inherited by workers).
#[unsafe(no_mangle)]
pub static max_worker_processes: AtomicI32 = AtomicI32::new(8);
#[unsafe(no_mangle)]
pub static max_parallel_workers: AtomicI32 = AtomicI32::new(8);

/// Make the settings modules read as variables match `s` (called by
/// settings::with_current whenever this process's settings change).
pub fn publish_settings(s: &crate::settings::Settings) {
    max_worker_processes.store(s.max_worker_processes, Ordering::Relaxed);
    max_parallel_workers.store(s.max_parallel_workers, Ordering::Relaxed);
}

super::c_export! {
    proc_exit => bgw_c_proc_exit,
    on_proc_exit => bgw_c_on_proc_exit,
    before_shmem_exit => bgw_c_before_shmem_exit,
    on_shmem_exit => bgw_c_on_shmem_exit,
    cancel_before_shmem_exit => bgw_c_cancel_before_shmem_exit,
    ProcessInterrupts => bgw_c_ProcessInterrupts,
    WaitLatch => bgw_c_WaitLatch,
    WaitLatchOrSocket => bgw_c_WaitLatchOrSocket,
    OwnLatch => bgw_c_OwnLatch,
    init_ps_display => bgw_c_init_ps_display,
    set_ps_display => bgw_c_set_ps_display,
    set_ps_display_with_len => bgw_c_set_ps_display_with_len,
    strlcpy => bgw_c_strlcpy,
    strlcat => bgw_c_strlcat,
    get_ps_display => bgw_c_get_ps_display,
    GetCurrentTimestamp => bgw_c_GetCurrentTimestamp,
    TimestampDifference => bgw_c_TimestampDifference,
    TimestampDifferenceMilliseconds => bgw_c_TimestampDifferenceMilliseconds,
    TimestampDifferenceExceeds => bgw_c_TimestampDifferenceExceeds,
    pg_usleep => bgw_c_pg_usleep,
    RecoveryInProgress => bgw_c_RecoveryInProgress,
}

#[allow(clashing_extern_declarations)]
unsafe extern "C" {
    fn bgw_c_init_ps_display(fixed_part: *const c_char);
    fn bgw_c_claim_ps_area();
    fn bgw_c_proc_exit(code: c_int) -> !;
    fn bgw_c_proc_exit_from_handler(code: c_int) -> !;
    fn bgw_c_run_worker_entry(entry: unsafe extern "C" fn(usize), arg: usize) -> !;
}

/// `proc_exit(code)` from Rust: exit callbacks, then exit.
pub fn exit_process(code: i32) -> ! {
    // SAFETY: the C function runs the registered callbacks and exits.
    unsafe { bgw_c_proc_exit(code) }
}

/// Exit from a signal handler: the exit callbacks run, then `_exit`
/// (no stdio flush, no atexit handlers).
pub fn exit_from_handler(code: i32) -> ! {
    // SAFETY: runs the registered callbacks, then _exit.
    unsafe { bgw_c_proc_exit_from_handler(code) }
}

/// Prepare the process-title area once in bgworkerd, before any fork, so
/// that workers do not each copy the environment (it moves `environ`: not
/// for a host whose other threads may read the environment).
pub fn prepare_title_area() {
    // SAFETY: single-threaded daemon before its first fork.
    unsafe { bgw_c_claim_ps_area() };
}

/// Set the process title's fixed part (what ps shows after `bgworkerd: `).
pub fn set_title(fixed: &str) {
    let c = std::ffi::CString::new(fixed.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a NUL-terminated string, copied by the callee.
    unsafe { bgw_c_init_ps_display(c.as_ptr()) };
}

/// Run a worker's entry point under PostgreSQL's outermost error handler
/// (an uncaught ERROR is logged and ends the worker with status 1; a
/// return ends it with 0; both through proc_exit).
pub fn run_worker_entry(entry: unsafe extern "C" fn(usize), arg: usize) -> ! {
    // SAFETY: the entry point is the module's bgworker_main_type function.
    unsafe { bgw_c_run_worker_entry(entry, arg) }
}

fn now_timespec() -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts
}

/// Seconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_OFFSET: i64 = 946_684_800;

/// `GetCurrentTimestamp`: microseconds since 2000-01-01 UTC.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_GetCurrentTimestamp() -> i64 {
    super::guard("GetCurrentTimestamp", 0, || {
        let ts = now_timespec();
        (ts.tv_sec - PG_EPOCH_OFFSET) * 1_000_000 + ts.tv_nsec / 1000
    })
}

/// `TimestampDifference`: whole seconds and microseconds from `start` to
/// `stop` (zero when `stop` is not later).
///
/// # Safety
/// `secs` and `microsecs` point to writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_TimestampDifference(
    start: i64,
    stop: i64,
    secs: *mut c_long,
    microsecs: *mut c_int,
) {
    super::guard("TimestampDifference", (), || {
        let diff = stop.saturating_sub(start).max(0);
        // SAFETY: the caller's out-parameters (PostgreSQL's contract).
        unsafe {
            if !secs.is_null() {
                *secs = (diff / 1_000_000) as c_long;
            }
            if !microsecs.is_null() {
                *microsecs = (diff % 1_000_000) as c_int;
            }
        }
    })
}

/// `TimestampDifferenceMilliseconds`: rounded up, zero when not later.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_TimestampDifferenceMilliseconds(start: i64, stop: i64) -> c_long {
    super::guard("TimestampDifferenceMilliseconds", 0, || {
        let diff = stop.saturating_sub(start);
        if diff <= 0 {
            0
        } else {
            (diff.saturating_add(999) / 1000) as c_long
        }
    })
}

/// `TimestampDifferenceExceeds`: has `msec` passed from `start` to `stop`?
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_TimestampDifferenceExceeds(start: i64, stop: i64, msec: c_int) -> bool {
    super::guard("TimestampDifferenceExceeds", false, || {
        stop.saturating_sub(start) >= msec as i64 * 1000
    })
}

/// `pg_usleep`: sleep, waking early only for a signal (as PostgreSQL's,
/// which uses select()).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_pg_usleep(microsec: c_long) {
    super::guard("pg_usleep", (), || {
        if microsec <= 0 {
            return;
        }
        let ts = libc::timespec {
            tv_sec: microsec / 1_000_000,
            tv_nsec: (microsec % 1_000_000) * 1000,
        };
        // SAFETY: a valid timespec; an interrupted sleep just returns.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    })
}

/// `RecoveryInProgress`: there is no WAL here, so "recovery" is the time
/// before the supervisor reaches the RecoveryFinished start phase, which
/// is when PostgreSQL would start BgWorkerStart_RecoveryFinished workers.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_RecoveryInProgress() -> bool {
    super::guard("RecoveryInProgress", false, || match backend::current() {
        Some(c) => c.seg.header().phase.load(Ordering::Acquire) < BgWorkerStart_RecoveryFinished,
        None => false,
    })
}

/// Set the process identity variables (supervisor at start, and each
/// worker in its child).
pub fn init_process(worker: bool) {
    // SAFETY: getpid has no preconditions.
    MyProcPid.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    let ts = now_timespec();
    MyStartTime.store(ts.tv_sec, Ordering::Relaxed);
    MyStartTimestamp.store(bgw_rs_GetCurrentTimestamp(), Ordering::Relaxed);
    IsPostmasterEnvironment.store(true, Ordering::Relaxed);
    IsUnderPostmaster.store(worker, Ordering::Relaxed);
    IsBackgroundWorker.store(worker, Ordering::Relaxed);
    MyBackendType.store(
        if worker {
            b_bg_worker(bgworker_core::identity::pg_major())
        } else {
            0
        },
        Ordering::Relaxed,
    );
    proc_exit_inprogress.store(false, Ordering::Relaxed);
    super::interrupts::init_signal_sets();
}

#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_is_worker() -> bool {
    super::guard("bgw_rs_is_worker", false, || {
        backend::role() == Some(Role::Worker)
    })
}

/// The worker's bgw_type, NUL-terminated (for ProcessInterrupts' FATAL).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_worker_type() -> *const c_char {
    super::guard("bgw_rs_worker_type", c"".as_ptr(), || {
        // The worker's bgw_type is NUL-terminated (sanity-checked at
        // registration).
        bgworker_core::identity::my_entry_type_ptr().unwrap_or(c"".as_ptr())
    })
}

/// The final exit of proc_exit, after the exit callbacks: exit() or, in a
/// worker of an embedding host, _exit() after flushing stdio (see
/// backend::exit_process).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_final_exit(code: c_int) -> ! {
    super::guard("bgw_rs_final_exit", (), || backend::exit_process(code));
    // Only after a panic in the above.
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Last step of proc_exit and of PANIC, after the module's callbacks:
/// release what this process holds in the runtime's shared structures.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_before_exit() {
    super::guard("bgw_rs_before_exit", (), || {
        // PostgreSQL's ProcKill: whatever LWLocks the module still holds go
        // now, so that other processes do not wait for a dead holder.
        super::lwlock::release_all();
        super::latch::clear_my_proc();
        // The supervisor, or bgworkerd loading its preload libraries (a
        // FATAL in _PG_init, before it has a role).
        if backend::role() == Some(Role::Supervisor)
            || (backend::role().is_none()
                && process_shared_preload_libraries_in_progress.load(Ordering::Relaxed))
        {
            crate::supervisor::emergency_cleanup();
        }
    })
}

/// Text after the first NUL-terminated C string argument, lossily.
pub(crate) fn c_str(p: *const c_char) -> Option<String> {
    // SAFETY: callers pass NULL or a NUL-terminated string.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The PostgreSQL major this process serves, for the C files that follow
/// its layouts or constants (c/bitmapset.c, c/nodes.c, c/dsm.c). Any
/// thread may call it.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_pg_major() -> u32 {
    bgworker_core::identity::pg_major()
}
