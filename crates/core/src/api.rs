//! The exported functions of `postmaster/bgworker.h`.
//!
//! The functions that take a `BackgroundWorker` read it with the layout of
//! their caller's major: the plain names (what modules call) with this
//! process's major (identity::pg_major, which every module's magic block
//! was checked against at load); the `bgw_pg15_`/`bgw_pg17_` entry points
//! (what include/bgworker.h maps the names to after the caller's
//! `BGW_PG_MAJOR`) with the layout their name carries.
//!
//! Every export runs its body inside [`boundary`], the crate's one panic
//! boundary: a Rust panic is logged and turned into the function's
//! documented failure value, never unwound into C. NULL pointers are
//! checked; where PostgreSQL would raise ERROR, [`backend::raise_error`]
//! does what a PostgreSQL worker without an error handler does.

use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::abi::*;
use crate::backend::{self, RegisterError, Role};
use crate::log;
use crate::process::signals;
use crate::supervisor::registry;

pub use crate::identity::MyBgworkerEntry;

/// Handle to a dynamically registered worker (opaque). It is malloc()ed,
/// and may be released with free() in any process; in a PostgreSQL module
/// (a process running a supervisor or its workers) also with pfree(), as
/// under PostgreSQL, which palloc()s it.
// What a handle points at is a HandleData. How pfree() tells a handle from
// a chunk: a handle made in a process whose memory contexts are set up
// (TRACK_PFREEABLE_HANDLES) is recorded in PFREEABLE_HANDLES; the
// runtime's pfree() asks take_pfreeable_handle() first and free()s a
// recorded handle instead of reading a chunk header that is not there. The
// tag (the handle's own address mixed with HANDLE_TAG) makes a stale record
// harmless: if the handle was free()d and its address reused by palloc,
// free() has overwritten the first word with its list link, and the new
// chunk repeats the tag only by copying it from that same address.
pub struct BackgroundWorkerHandle {
    _opaque: [u8; 0],
}

#[repr(C)]
struct HandleData {
    tag: usize,
    slot: i32,
    generation: u64,
    /// The daemon's incarnation (shmem Header): a handle kept from another
    /// daemon is refused instead of naming one of this daemon's workers.
    /// Last, and read only once the slot is known valid, so that a forged
    /// handle holding only the first fields is refused before it.
    daemon: u64,
}

/// The fields of a handle before `daemon`.
#[repr(C)]
struct HandlePrefix {
    tag: usize,
    slot: i32,
    generation: u64,
}

/// Bytes of a handle; palloc gives every chunk at least this many, so
/// pfree may read a chunk's would-be tag.
pub const HANDLE_SIZE: usize = std::mem::size_of::<HandleData>();

const HANDLE_TAG: usize = 0x6267_7768_616e_646c;

/// Set by the PostgreSQL runtime when it sets up memory contexts in this
/// process (supervisor or worker): handles made from then on are recorded
/// for pfree(). Plain hosts never set it, so nothing is recorded there.
pub static TRACK_PFREEABLE_HANDLES: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Addresses of recorded handles not yet given back through pfree().
static PFREEABLE_HANDLES: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
/// Length of PFREEABLE_HANDLES, read without the lock by every pfree().
static PFREEABLE_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Called by the runtime's pfree(p) before anything else: true if `p` is a
/// recorded handle still intact, which is then forgotten and free()d here;
/// false for anything else (pfree goes on as usual).
///
/// # Safety
/// `p` is non-NULL and was returned by palloc or as a handle, and not freed
/// through pfree since (pfree's own contract).
pub unsafe fn take_pfreeable_handle(p: *mut libc::c_void) -> bool {
    use std::sync::atomic::Ordering;
    if PFREEABLE_COUNT.load(Ordering::Acquire) == 0 {
        return false;
    }
    let mut set = PFREEABLE_HANDLES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(i) = set.iter().position(|&a| a == p as usize) else {
        return false;
    };
    set.swap_remove(i);
    PFREEABLE_COUNT.store(set.len(), Ordering::Release);
    // SAFETY: p is live memory of at least HANDLE_SIZE bytes: a recorded
    // handle, or a palloc chunk reusing its address (every chunk has that
    // many); the word is read as plain data.
    let tag = unsafe { std::ptr::read(p as *const usize) };
    if tag != HANDLE_TAG ^ (p as usize) {
        // The handle was free()d and the address reused by palloc.
        return false;
    }
    // SAFETY: an intact recorded handle, malloc'd by
    // RegisterDynamicBackgroundWorker.
    unsafe { libc::free(p) };
    true
}

/// Run `body`, turning a panic into `fail` (logged at ERROR).
pub fn boundary<R>(name: &str, fail: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(_) => {
            log::emit(log::ERROR, &format!("internal error in {name}"));
            fail
        }
    }
}

/// RegisterBackgroundWorker's body for a caller of `major`'s layout.
///
/// # Safety
/// `worker` is NULL or points at a writable struct of `major`'s layout.
unsafe fn register_static_as(name: &str, worker: *mut CallerWorker, major: u32) {
    boundary(name, (), || {
        if worker.is_null() {
            // A policy set for this registration is consumed by it.
            crate::policy::take_next();
            log::emit(
                log::LOG,
                "RegisterBackgroundWorker: worker definition is NULL; ignored",
            );
            return;
        }
        // SAFETY: non-null, and of `major`'s layout (contract).
        let mut w = unsafe { BackgroundWorker::read_caller(worker, major) };
        registry::register_static(&mut w);
        // SAFETY: as above; writable (contract).
        unsafe { w.write_caller_type(worker, major) };
    })
}

/// Register a static worker: only while shared_preload_libraries are being
/// loaded (or, in an embedding host, before the supervisor runs); otherwise
/// logged and ignored, as in PostgreSQL. Reads the struct with this
/// process's major's layout.
///
/// # Safety
/// `worker` is NULL or points at a writable BackgroundWorker of this
/// process's major.
#[no_mangle]
pub unsafe extern "C" fn RegisterBackgroundWorker(worker: *mut CallerWorker) {
    // SAFETY: the caller's contract.
    unsafe {
        register_static_as(
            "RegisterBackgroundWorker",
            worker,
            crate::identity::pg_major(),
        )
    }
}

/// RegisterBackgroundWorker for a caller compiled against PostgreSQL 15's
/// layout (include/bgworker.h maps the name here when `BGW_PG_MAJOR` is 15).
///
/// # Safety
/// `worker` is NULL or points at a writable BackgroundWorker15.
#[no_mangle]
pub unsafe extern "C" fn bgw_pg15_RegisterBackgroundWorker(worker: *mut BackgroundWorker15) {
    // SAFETY: the caller's contract.
    unsafe { register_static_as("RegisterBackgroundWorker", worker as *mut CallerWorker, 15) }
}

/// RegisterBackgroundWorker for a caller compiled against PostgreSQL 17's
/// or 18's layout (`BGW_PG_MAJOR` 17 or 18).
///
/// # Safety
/// `worker` is NULL or points at a writable BackgroundWorker17.
#[no_mangle]
pub unsafe extern "C" fn bgw_pg17_RegisterBackgroundWorker(worker: *mut BackgroundWorker17) {
    // SAFETY: the caller's contract.
    unsafe { register_static_as("RegisterBackgroundWorker", worker as *mut CallerWorker, 17) }
}

// The exports that may raise ERROR are naked trampolines to C shims
// (c/raise.c), which call the Rust bodies below and then let the runtime
// raise a deferred ERROR in C (see backend::raise_error): a module's
// PG_TRY can catch it and no longjmp crosses a Rust frame. The trampolines
// carry the real prototypes and documentation for the header.
mod c_targets {
    unsafe extern "C" {
        pub fn bgw_c_RegisterDynamicBackgroundWorker();
        pub fn bgw_c_pg15_RegisterDynamicBackgroundWorker();
        pub fn bgw_c_pg17_RegisterDynamicBackgroundWorker();
        pub fn bgw_c_GetBackgroundWorkerPid();
        pub fn bgw_c_WaitForBackgroundWorkerStartup();
        pub fn bgw_c_WaitForBackgroundWorkerShutdown();
        pub fn bgw_c_TerminateBackgroundWorker();
    }
}

/// Register a worker from a running process (a worker, or a process that
/// called `bgw_attach`). Returns false, with no message, in a process that
/// is not connected to a supervisor and when no slot (or parallel-worker
/// budget) is free. An invalid definition raises ERROR with PostgreSQL's
/// message. On success `*handle` (if `handle` is not NULL) receives a
/// malloc()ed handle, released with free(), or in a PostgreSQL module
/// (a process running a supervisor or its workers) with pfree() too, as
/// under PostgreSQL.
///
/// Reads the struct with this process's major's layout.
///
/// # Safety
/// `worker` is NULL or points at a BackgroundWorker of this process's
/// major; `handle` is NULL or writable.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn RegisterDynamicBackgroundWorker(
    worker: *mut CallerWorker,
    handle: *mut *mut BackgroundWorkerHandle,
) -> bool {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_RegisterDynamicBackgroundWorker)
}

/// RegisterDynamicBackgroundWorker for a caller compiled against
/// PostgreSQL 15's layout (`BGW_PG_MAJOR` 15, the default).
///
/// # Safety
/// As RegisterDynamicBackgroundWorker, with a BackgroundWorker15.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_pg15_RegisterDynamicBackgroundWorker(
    worker: *mut BackgroundWorker15,
    handle: *mut *mut BackgroundWorkerHandle,
) -> bool {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_pg15_RegisterDynamicBackgroundWorker)
}

/// RegisterDynamicBackgroundWorker for a caller compiled against
/// PostgreSQL 17's or 18's layout (`BGW_PG_MAJOR` 17 or 18).
///
/// # Safety
/// As RegisterDynamicBackgroundWorker, with a BackgroundWorker17.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_pg17_RegisterDynamicBackgroundWorker(
    worker: *mut BackgroundWorker17,
    handle: *mut *mut BackgroundWorkerHandle,
) -> bool {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_pg17_RegisterDynamicBackgroundWorker)
}

/// State of a dynamically registered worker: BGWH_STARTED (with `*pidp` set,
/// if `pidp` is not NULL), BGWH_NOT_YET_STARTED or BGWH_STOPPED.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker; `pidp`
/// is NULL or writable.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn GetBackgroundWorkerPid(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut libc::pid_t,
) -> BgwHandleStatus {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_GetBackgroundWorkerPid)
}

/// Wait until the worker has started (BGWH_STARTED, `*pidp` set) or is known
/// never to start (BGWH_STOPPED), or the supervisor died
/// (BGWH_POSTMASTER_DIED). Needs no `bgw_notify_pid`.
///
/// # Safety
/// As GetBackgroundWorkerPid.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn WaitForBackgroundWorkerStartup(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut libc::pid_t,
) -> BgwHandleStatus {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_WaitForBackgroundWorkerStartup)
}

/// Wait until the worker has stopped (BGWH_STOPPED) or the supervisor died
/// (BGWH_POSTMASTER_DIED). Needs no `bgw_notify_pid`.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn WaitForBackgroundWorkerShutdown(
    handle: *mut BackgroundWorkerHandle,
) -> BgwHandleStatus {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_WaitForBackgroundWorkerShutdown)
}

/// Ask the supervisor to stop the worker (SIGTERM if running) and not to
/// restart it. Safe whatever the worker's state, even after its slot was
/// reused (the generation check then makes this a no-op).
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn TerminateBackgroundWorker(handle: *mut BackgroundWorkerHandle) {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_TerminateBackgroundWorker)
}

/// Validate a handle pointer against the connected segment.
///
/// # Safety
/// `handle` is NULL or points at a handle made by
/// RegisterDynamicBackgroundWorker.
unsafe fn handle_target(
    what: &str,
    handle: *const BackgroundWorkerHandle,
) -> Option<(&'static backend::Connection, usize, u64)> {
    let Some(conn) = backend::current() else {
        backend::raise_error(&format!(
            "{what}: this process is not attached to a background worker supervisor"
        ));
        return None;
    };
    if handle.is_null() {
        backend::raise_error(&format!("{what}: background worker handle is NULL"));
        return None;
    }
    // SAFETY: non-null handle from RegisterDynamicBackgroundWorker (caller's
    // contract); read as plain data.
    let h = unsafe { std::ptr::read(handle as *const HandlePrefix) };
    if h.slot < 0 || h.slot as usize >= conn.seg.total_slots() {
        backend::raise_error(&format!(
            "{what}: invalid background worker handle (slot {})",
            h.slot
        ));
        return None;
    }
    // SAFETY: as above; a real handle has the whole HandleData.
    let daemon = unsafe { std::ptr::read(handle as *const HandleData) }.daemon;
    if daemon != conn.daemon_id() {
        backend::raise_error(&format!(
            "{what}: background worker handle belongs to another supervisor (it was made before this process attached to the current one)"
        ));
        return None;
    }
    Some((conn, h.slot as usize, h.generation))
}

/// The `(slot, generation)` a handle names, for the supervision API
/// (supervision.rs): errors (the message) for NULL, an invalid slot, or a
/// handle of another daemon.
///
/// # Safety
/// `handle` is NULL or points at a handle made by
/// RegisterDynamicBackgroundWorker.
pub unsafe fn handle_parts(
    conn: &backend::Connection,
    handle: *const BackgroundWorkerHandle,
) -> Result<(usize, u64), String> {
    if handle.is_null() {
        return Err("background worker handle is NULL".into());
    }
    // SAFETY: non-null handle (caller's contract); read as plain data.
    let h = unsafe { std::ptr::read(handle as *const HandlePrefix) };
    if h.slot < 0 || h.slot as usize >= conn.seg.total_slots() {
        return Err(format!(
            "invalid background worker handle (slot {})",
            h.slot
        ));
    }
    // SAFETY: as above; a real handle has the whole HandleData.
    let daemon = unsafe { std::ptr::read(handle as *const HandleData) }.daemon;
    if daemon != conn.daemon_id() {
        return Err(
            "background worker handle belongs to another supervisor (it was made before this process attached to the current one)".into(),
        );
    }
    Ok((h.slot as usize, h.generation))
}

/// Body of [`RegisterDynamicBackgroundWorker`] and its versioned entry
/// points; see their C shims in c/raise.c. `major` is the caller's layout's
/// (0: this process's major, for the plain name).
///
/// # Safety
/// As [`RegisterDynamicBackgroundWorker`], with a struct of `major`'s
/// layout.
#[no_mangle]
unsafe extern "C" fn bgw_rs_RegisterDynamicBackgroundWorker(
    worker: *mut CallerWorker,
    handle: *mut *mut BackgroundWorkerHandle,
    major: u32,
) -> bool {
    let major = if major == 0 {
        crate::identity::pg_major()
    } else {
        major
    };
    boundary("RegisterDynamicBackgroundWorker", false, || {
        // A policy set for this registration (bgw_set_next_policy) is
        // consumed by it, whatever becomes of it.
        let policy = crate::policy::take_next();
        let Some(conn) = backend::current() else {
            backend::set_last_error("not attached to a background worker supervisor");
            return false;
        };
        if worker.is_null() {
            backend::raise_error_code(
                b"22023",
                "RegisterDynamicBackgroundWorker: worker definition is NULL",
            );
            return false;
        }
        // SAFETY: non-null and of `major`'s layout (caller's contract).
        let def = unsafe { BackgroundWorker::read_caller(worker, major) };
        match conn.register_with_policy(&def, policy.as_ref()) {
            Ok((slot, generation)) => {
                // As PostgreSQL's sanity check, default the caller's bgw_type.
                if def.bgw_type[0] == 0 {
                    let mut t = def;
                    t.bgw_type = def.bgw_name;
                    t.bgw_type[BGW_MAXLEN - 1] = 0;
                    // SAFETY: worker is valid and writable (contract).
                    unsafe { t.write_caller_type(worker, major) };
                }
                if !handle.is_null() {
                    // SAFETY: malloc of a plain struct; the result is checked.
                    let h = unsafe { libc::malloc(HANDLE_SIZE) } as *mut HandleData;
                    if h.is_null() {
                        // The worker is registered; only the handle is lost.
                        backend::raise_error_code(b"53200", "out of memory");
                        return true;
                    }
                    // SAFETY: h is fresh, aligned (malloc) and large enough.
                    unsafe {
                        h.write(HandleData {
                            tag: HANDLE_TAG ^ (h as usize),
                            slot: slot as i32,
                            generation,
                            daemon: conn.daemon_id(),
                        });
                        *handle = h as *mut BackgroundWorkerHandle;
                    }
                    if TRACK_PFREEABLE_HANDLES.load(std::sync::atomic::Ordering::Acquire) {
                        let mut set = PFREEABLE_HANDLES.lock().unwrap_or_else(|e| e.into_inner());
                        set.push(h as usize);
                        PFREEABLE_COUNT.store(set.len(), std::sync::atomic::Ordering::Release);
                    }
                }
                true
            }
            Err(RegisterError::NotConnected) => {
                backend::set_last_error(
                    "the supervisor process cannot register dynamic background workers",
                );
                false
            }
            Err(RegisterError::Invalid(msg)) => {
                backend::raise_error_code(b"22023", &msg);
                false
            }
            Err(RegisterError::NoCapacity) => {
                backend::set_last_error(
                    "no free background worker slot (max_worker_processes or max_parallel_workers reached)",
                );
                false
            }
            Err(RegisterError::LockTimeout(msg)) => {
                backend::raise_error_code(b"55P03", &msg);
                false
            }
        }
    })
}

/// Body of [`GetBackgroundWorkerPid`]; see its C shim in c/raise.c.
///
/// # Safety
/// As [`GetBackgroundWorkerPid`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_GetBackgroundWorkerPid(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut libc::pid_t,
) -> BgwHandleStatus {
    boundary("GetBackgroundWorkerPid", BGWH_STOPPED, || {
        // SAFETY: caller's contract on handle.
        let Some((conn, slot, generation)) =
            (unsafe { handle_target("GetBackgroundWorkerPid", handle) })
        else {
            return BGWH_STOPPED;
        };
        let (st, pid) = conn.status(slot, generation);
        if st == BGWH_STARTED && !pidp.is_null() {
            // SAFETY: non-null and writable (contract).
            unsafe { *pidp = pid };
        }
        st
    })
}

/// Body of [`WaitForBackgroundWorkerStartup`]; see its C shim in c/raise.c.
///
/// # Safety
/// As [`WaitForBackgroundWorkerStartup`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_WaitForBackgroundWorkerStartup(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut libc::pid_t,
) -> BgwHandleStatus {
    boundary("WaitForBackgroundWorkerStartup", BGWH_STOPPED, || {
        // SAFETY: caller's contract on handle.
        let Some((conn, slot, generation)) =
            (unsafe { handle_target("WaitForBackgroundWorkerStartup", handle) })
        else {
            return BGWH_STOPPED;
        };
        let (st, pid) = conn.wait_until(slot, generation, |s| s != BGWH_NOT_YET_STARTED);
        if st == BGWH_STARTED && !pidp.is_null() {
            // SAFETY: non-null and writable (contract).
            unsafe { *pidp = pid };
        }
        st
    })
}

/// Body of [`WaitForBackgroundWorkerShutdown`]; see its C shim in c/raise.c.
///
/// # Safety
/// As [`WaitForBackgroundWorkerShutdown`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_WaitForBackgroundWorkerShutdown(
    handle: *mut BackgroundWorkerHandle,
) -> BgwHandleStatus {
    boundary("WaitForBackgroundWorkerShutdown", BGWH_STOPPED, || {
        // SAFETY: caller's contract on handle.
        let Some((conn, slot, generation)) =
            (unsafe { handle_target("WaitForBackgroundWorkerShutdown", handle) })
        else {
            return BGWH_STOPPED;
        };
        conn.wait_until(slot, generation, |s| s == BGWH_STOPPED).0
    })
}

/// Body of [`TerminateBackgroundWorker`]; see its C shim in c/raise.c.
///
/// # Safety
/// As [`TerminateBackgroundWorker`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_TerminateBackgroundWorker(handle: *mut BackgroundWorkerHandle) {
    boundary("TerminateBackgroundWorker", (), || {
        // SAFETY: caller's contract on handle.
        let target = unsafe { handle_target("TerminateBackgroundWorker", handle) };
        if let Some((conn, slot, generation)) = target {
            if let Err(msg) = conn.terminate(slot, generation) {
                backend::raise_error_code(b"55P03", &msg);
            }
        }
    })
}

thread_local! {
    static TYPE_BUF: std::cell::UnsafeCell<[c_char; BGW_MAXLEN]> =
        const { std::cell::UnsafeCell::new([0; BGW_MAXLEN]) };
}

/// bgw_type of the running worker with `pid`, or NULL. The string lives in
/// a per-thread buffer that the next call overwrites.
#[no_mangle]
pub extern "C" fn GetBackgroundWorkerTypeByPid(pid: libc::pid_t) -> *const c_char {
    boundary("GetBackgroundWorkerTypeByPid", std::ptr::null(), || {
        let Some(conn) = backend::current() else {
            return std::ptr::null();
        };
        match conn.type_by_pid(pid) {
            None => std::ptr::null(),
            Some(t) => TYPE_BUF.with(|b| {
                // SAFETY: the buffer is this thread's; no reference to it is
                // alive except the pointer returned by the previous call,
                // which the contract says this call invalidates.
                unsafe { *b.get() = t };
                b.get() as *const c_char
            }),
        }
    })
}

/// Block signals as on worker entry (PostgreSQL's BlockSig).
#[no_mangle]
pub extern "C" fn BackgroundWorkerBlockSignals() {
    boundary("BackgroundWorkerBlockSignals", (), || {
        let block = match crate::hooks::get().signal_masks {
            Some(masks) => masks().0,
            None => signals::block_sig(),
        };
        signals::set_mask(&block)
    })
}

/// Unblock all signals (call after installing handlers).
#[no_mangle]
pub extern "C" fn BackgroundWorkerUnblockSignals() {
    boundary("BackgroundWorkerUnblockSignals", (), || {
        let unblock = match crate::hooks::get().signal_masks {
            Some(masks) => masks().1,
            None => signals::empty_mask(),
        };
        signals::set_mask(&unblock)
    })
}

fn no_database(function: &str, what: String) -> ! {
    let who = match backend::role() {
        // SAFETY: MyBgworkerEntry is this worker's own definition or NULL.
        Some(Role::Worker) => match crate::identity::my_entry() {
            Some(w) => format!("background worker \"{}\"", w.type_name()),
            None => "background worker".into(),
        },
        _ => "this process".into(),
    };
    log::emit_full(
        log::FATAL,
        &log::needs_server_message(&who, function),
        Some(&format!("It asked to connect to {what}.")),
        Some(log::NEEDS_SERVER_HINT),
    );
    backend::exit_process(1);
}

/// PostgreSQL connects the worker to a database here. There is no database
/// in libbgworker: the process ends with a FATAL message and exit status 1.
///
/// # Safety
/// `dbname` and `username` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn BackgroundWorkerInitializeConnection(
    dbname: *const c_char,
    username: *const c_char,
    flags: u32,
) {
    let _ = (username, flags);
    boundary("BackgroundWorkerInitializeConnection", (), || {
        let db = if dbname.is_null() {
            "no specific database".to_string()
        } else {
            // SAFETY: non-null NUL-terminated string (contract).
            let name = unsafe { std::ffi::CStr::from_ptr(dbname) };
            format!("database \"{}\"", name.to_string_lossy())
        };
        no_database("BackgroundWorkerInitializeConnection", db)
    })
}

/// As BackgroundWorkerInitializeConnection, by OID.
#[no_mangle]
pub extern "C" fn BackgroundWorkerInitializeConnectionByOid(dboid: Oid, useroid: Oid, flags: u32) {
    let _ = (useroid, flags);
    boundary("BackgroundWorkerInitializeConnectionByOid", (), || {
        no_database(
            "BackgroundWorkerInitializeConnectionByOid",
            format!("the database with OID {dboid}"),
        )
    })
}
