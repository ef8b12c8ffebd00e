//! The C exports of the opt-in supervision (include/bgworker_supervision.h;
//! the state machine is documented in policy.rs and README.md).
//!
//! # The API for the Rust wrapper
//!
//! Rust code calls the same internals these exports call, all plain `pub
//! fn`s of this crate with `Result<_, String>` (the message is the user's):
//!
//! * [`crate::policy::Policy`] (every field optional), its
//!   [`validate`](crate::policy::Policy::validate) and
//!   [`set_field`](crate::policy::Policy::set_field);
//!   [`crate::policy::WatchdogAction`]; the limits
//!   [`crate::policy::MAX_DELAY_MS`], [`crate::policy::MAX_FACTOR`].
//! * Before a registration: [`crate::policy::set_next`] (validate first),
//!   consumed by this thread's next `RegisterBackgroundWorker` /
//!   `RegisterDynamicBackgroundWorker`; or directly
//!   [`crate::backend::Connection::register_with_policy`].
//! * By handle `(slot, generation)` on [`crate::backend::current`]'s
//!   connection: [`set_policy`](crate::backend::Connection::set_policy),
//!   [`relaunch`](crate::backend::Connection::relaunch),
//!   [`wait_for_ready`](crate::backend::Connection::wait_for_ready)
//!   (→ [`crate::backend::supervision::ReadyStatus`]),
//!   [`last_exit`](crate::backend::Connection::last_exit)
//!   (→ [`crate::backend::supervision::LastExit`], its `state` one of
//!   `crate::shmem::facts::STATE_*`, its `reason` one of
//!   `crate::shmem::supervision::EXIT_*`),
//!   [`wait_until_timeout`](crate::backend::Connection::wait_until_timeout)
//!   (startup/shutdown waits with a timeout), and
//!   [`daemon_id`](crate::backend::Connection::daemon_id) (to tell handles
//!   of another daemon).
//! * In a worker: [`crate::backend::supervision::notify_ready`] and
//!   [`crate::backend::supervision::watchdog_checkin`].
//!
//! Every export runs its body inside the crate's panic boundary
//! (api::boundary); the ones that can fail report -1 (or
//! BGW_READY_ERROR) with the message for `bgw_last_error`, or, in a module,
//! PostgreSQL's ERROR raised by the export's C shim (c/supervision.c).

use std::os::raw::c_int;
use std::time::Duration;

use crate::api::{boundary, handle_parts, BackgroundWorkerHandle};
use crate::backend::{self, supervision::ReadyStatus};
use crate::policy::{Policy, WatchdogAction, MAX_DELAY_MS};
use crate::shmem::supervision as words;

/// A supervision policy as C passes it (BgwPolicy in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BgwPolicy {
    pub size: u32,
    pub set: u32,
    pub backoff_initial_ms: i32,
    pub backoff_cap_ms: i32,
    pub backoff_factor: f64,
    pub backoff_jitter: f64,
    pub backoff_reset_after_ms: i32,
    pub give_up_restarts: i32,
    pub give_up_window_ms: i32,
    pub start_timeout_ms: i32,
    pub stop_timeout_ms: i32,
    pub watchdog_interval_ms: i32,
    pub watchdog_action: i32,
    pub reserved: i32,
}

/// The last exit as C reads it (BgwExitInfo in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BgwExitInfo {
    pub exited: i32,
    pub code: i32,
    pub signal: i32,
    pub crash: i32,
    pub reason: i32,
    pub starts: u32,
    pub time_ms: i64,
    pub state: i32,
    pub ready: i32,
}

const _: () = assert!(std::mem::size_of::<BgwPolicy>() == 64);
const _: () = assert!(std::mem::size_of::<BgwExitInfo>() == 40);

/// BgwReadyStatus values.
pub const BGW_READY_ERROR: c_int = -1;
pub const BGW_READY: c_int = 0;
pub const BGW_READY_TIMED_OUT: c_int = 1;
pub const BGW_READY_EXITED: c_int = 2;
pub const BGW_READY_START_TIMEOUT: c_int = 3;
pub const BGW_READY_STOPPED: c_int = 4;
pub const BGW_READY_POSTMASTER_DIED: c_int = 5;

impl BgwPolicy {
    /// The fields set, checked: negative times, unknown bits, a wrong size
    /// and values out of range are refused with the field named.
    pub fn to_policy(&self) -> Result<Policy, String> {
        let want = std::mem::size_of::<BgwPolicy>() as u32;
        if self.size != want {
            return Err(format!(
                "BgwPolicy.size is {}, expected {want} (call bgw_policy_init first)",
                self.size
            ));
        }
        if self.set & !words::P_ALL != 0 {
            return Err(format!(
                "BgwPolicy.set has unknown bits 0x{:x}",
                self.set & !words::P_ALL
            ));
        }
        let has = |b: u32| self.set & b != 0;
        let time = |b: u32, what: &str, v: i32| -> Result<Option<u32>, String> {
            if !has(b) {
                return Ok(None);
            }
            if v < 0 || v as u32 > MAX_DELAY_MS {
                return Err(format!(
                    "{what} {v} is out of range (0 .. {MAX_DELAY_MS} ms)"
                ));
            }
            Ok(Some(v as u32))
        };
        let p = Policy {
            backoff_initial_ms: time(
                words::P_BACKOFF_INITIAL,
                "backoff_initial_ms",
                self.backoff_initial_ms,
            )?,
            backoff_cap_ms: time(words::P_BACKOFF_CAP, "backoff_cap_ms", self.backoff_cap_ms)?,
            backoff_factor: has(words::P_BACKOFF_FACTOR).then_some(self.backoff_factor),
            backoff_jitter: has(words::P_BACKOFF_JITTER).then_some(self.backoff_jitter),
            backoff_reset_after_ms: time(
                words::P_BACKOFF_RESET_AFTER,
                "backoff_reset_after_ms",
                self.backoff_reset_after_ms,
            )?,
            give_up_restarts: has(words::P_GIVE_UP_RESTARTS).then_some(self.give_up_restarts),
            give_up_window_ms: time(
                words::P_GIVE_UP_WINDOW,
                "give_up_window_ms",
                self.give_up_window_ms,
            )?,
            start_timeout_ms: time(
                words::P_START_TIMEOUT,
                "start_timeout_ms",
                self.start_timeout_ms,
            )?,
            stop_timeout_ms: time(
                words::P_STOP_TIMEOUT,
                "stop_timeout_ms",
                self.stop_timeout_ms,
            )?,
            watchdog_ms: time(
                words::P_WATCHDOG_INTERVAL,
                "watchdog_interval_ms",
                self.watchdog_interval_ms,
            )?,
            watchdog_action: if has(words::P_WATCHDOG_ACTION) {
                Some(
                    WatchdogAction::from_code(self.watchdog_action).ok_or_else(|| {
                        format!(
                            "watchdog_action {} is not BGW_WATCHDOG_CRASH (0) or BGW_WATCHDOG_EXIT (1)",
                            self.watchdog_action
                        )
                    })?,
                )
            } else {
                None
            },
        };
        p.validate()?;
        Ok(p)
    }
}

/// # Safety
/// `p` is NULL or points at a readable BgwPolicy (or at least its size
/// field, which is checked before the rest is read).
unsafe fn read_policy(p: *const BgwPolicy) -> Result<Policy, String> {
    if p.is_null() {
        return Err("policy is NULL".into());
    }
    // SAFETY: readable (contract); the size comes first.
    let size = unsafe { std::ptr::read(p as *const u32) };
    if size != std::mem::size_of::<BgwPolicy>() as u32 {
        return Err(format!(
            "BgwPolicy.size is {size}, expected {} (call bgw_policy_init first)",
            std::mem::size_of::<BgwPolicy>()
        ));
    }
    // SAFETY: the caller's struct is whole (its size says so).
    unsafe { std::ptr::read(p) }.to_policy()
}

fn fail(what: &str, msg: &str) -> c_int {
    backend::raise_error_or_fail(b"22023", &format!("{what}: {msg}"));
    -1
}

fn connection(what: &str) -> Result<&'static backend::Connection, c_int> {
    backend::current().ok_or_else(|| {
        fail(
            what,
            "this process is not attached to a background worker supervisor",
        )
    })
}

/// Clear `policy` and set its size (bgw_policy_init). Returns 0, or -1 for
/// NULL.
///
/// # Safety
/// `policy` is NULL or points at a writable BgwPolicy.
#[no_mangle]
pub unsafe extern "C" fn bgw_policy_init(policy: *mut BgwPolicy) -> c_int {
    boundary("bgw_policy_init", -1, || {
        if policy.is_null() {
            backend::set_last_error("bgw_policy_init: policy is NULL");
            return -1;
        }
        // SAFETY: non-null and writable (contract).
        unsafe {
            policy.write(BgwPolicy {
                size: std::mem::size_of::<BgwPolicy>() as u32,
                ..BgwPolicy::default()
            })
        };
        0
    })
}

mod c_targets {
    unsafe extern "C" {
        pub fn bgw_c_set_policy();
        pub fn bgw_c_set_next_policy();
        pub fn bgw_c_notify_ready();
        pub fn bgw_c_watchdog_checkin();
        pub fn bgw_c_wait_for_ready();
        pub fn bgw_c_last_exit();
        pub fn bgw_c_relaunch();
    }
}

/// Give the worker behind `handle` the fields set in `policy`; see the
/// header.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker;
/// `policy` is NULL or a readable BgwPolicy.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_set_policy(
    handle: *mut BackgroundWorkerHandle,
    policy: *const BgwPolicy,
) -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_set_policy)
}

/// The policy of this thread's next registration; see the header.
///
/// # Safety
/// `policy` is NULL or a readable BgwPolicy.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_set_next_policy(policy: *const BgwPolicy) -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_set_next_policy)
}

/// In a worker: declare it ready; see the header.
///
/// # Safety
/// None beyond C's.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_notify_ready() -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_notify_ready)
}

/// In a worker: check in with its watchdog; see the header.
///
/// # Safety
/// None beyond C's.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_watchdog_checkin() -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_watchdog_checkin)
}

/// Wait until the worker behind `handle` is ready; see the header.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker;
/// `pidp` is NULL or writable.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_wait_for_ready(
    handle: *mut BackgroundWorkerHandle,
    timeout_ms: c_int,
    pidp: *mut libc::pid_t,
) -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_wait_for_ready)
}

/// The last exit of the worker behind `handle`; see the header.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker;
/// `info` is NULL or writable.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_last_exit(
    handle: *mut BackgroundWorkerHandle,
    info: *mut BgwExitInfo,
) -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_last_exit)
}

/// Start the failed worker behind `handle` again; see the header.
///
/// # Safety
/// `handle` is NULL or a handle from RegisterDynamicBackgroundWorker.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn bgw_relaunch(handle: *mut BackgroundWorkerHandle) -> c_int {
    core::arch::naked_asm!("jmp {0}", sym c_targets::bgw_c_relaunch)
}

/// Body of [`bgw_set_policy`].
///
/// # Safety
/// As [`bgw_set_policy`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_set_policy(
    handle: *mut BackgroundWorkerHandle,
    policy: *const BgwPolicy,
) -> c_int {
    const W: &str = "bgw_set_policy";
    boundary(W, -1, || {
        let conn = match connection(W) {
            Ok(c) => c,
            Err(r) => return r,
        };
        // SAFETY: the caller's contract.
        let target = unsafe { handle_parts(conn, handle) };
        let (slot, generation) = match target {
            Ok(t) => t,
            Err(m) => return fail(W, &m),
        };
        // SAFETY: the caller's contract.
        let p = match unsafe { read_policy(policy) } {
            Ok(p) => p,
            Err(m) => return fail(W, &m),
        };
        match conn.set_policy(slot, generation, &p) {
            Ok(()) => 0,
            Err(m) => fail(W, &m),
        }
    })
}

/// Body of [`bgw_set_next_policy`].
///
/// # Safety
/// As [`bgw_set_next_policy`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_set_next_policy(policy: *const BgwPolicy) -> c_int {
    const W: &str = "bgw_set_next_policy";
    boundary(W, -1, || {
        if policy.is_null() {
            crate::policy::set_next(None);
            return 0;
        }
        // SAFETY: the caller's contract.
        match unsafe { read_policy(policy) } {
            Ok(p) => {
                crate::policy::set_next(Some(p));
                0
            }
            Err(m) => fail(W, &m),
        }
    })
}

/// Body of [`bgw_notify_ready`].
#[no_mangle]
extern "C" fn bgw_rs_notify_ready() -> c_int {
    boundary(
        "bgw_notify_ready",
        -1,
        || match backend::supervision::notify_ready() {
            Ok(()) => 0,
            Err(m) => {
                backend::raise_error_or_fail(b"55000", &m);
                -1
            }
        },
    )
}

/// Body of [`bgw_watchdog_checkin`].
#[no_mangle]
extern "C" fn bgw_rs_watchdog_checkin() -> c_int {
    boundary(
        "bgw_watchdog_checkin",
        -1,
        || match backend::supervision::watchdog_checkin() {
            Ok(()) => 0,
            Err(m) => {
                backend::raise_error_or_fail(b"55000", &m);
                -1
            }
        },
    )
}

/// Body of [`bgw_wait_for_ready`].
///
/// # Safety
/// As [`bgw_wait_for_ready`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_wait_for_ready(
    handle: *mut BackgroundWorkerHandle,
    timeout_ms: c_int,
    pidp: *mut libc::pid_t,
) -> c_int {
    const W: &str = "bgw_wait_for_ready";
    boundary(W, BGW_READY_ERROR, || {
        let conn = match connection(W) {
            Ok(c) => c,
            Err(_) => return BGW_READY_ERROR,
        };
        // SAFETY: the caller's contract.
        let (slot, generation) = match unsafe { handle_parts(conn, handle) } {
            Ok(t) => t,
            Err(m) => {
                fail(W, &m);
                return BGW_READY_ERROR;
            }
        };
        let timeout = match timeout_ms {
            -1 => None,
            t if t < -1 || t as u32 > MAX_DELAY_MS => {
                fail(
                    W,
                    &format!("timeout {t} ms is out of range (-1 for none, 0 .. {MAX_DELAY_MS})"),
                );
                return BGW_READY_ERROR;
            }
            t => Some(Duration::from_millis(t as u64)),
        };
        match conn.wait_for_ready(slot, generation, timeout) {
            ReadyStatus::Ready(pid) => {
                if !pidp.is_null() {
                    // SAFETY: non-null and writable (contract).
                    unsafe { *pidp = pid };
                }
                BGW_READY
            }
            ReadyStatus::TimedOut => BGW_READY_TIMED_OUT,
            ReadyStatus::Exited => BGW_READY_EXITED,
            ReadyStatus::StartTimeout => BGW_READY_START_TIMEOUT,
            ReadyStatus::Stopped => BGW_READY_STOPPED,
            ReadyStatus::SupervisorDied => BGW_READY_POSTMASTER_DIED,
        }
    })
}

/// Body of [`bgw_last_exit`].
///
/// # Safety
/// As [`bgw_last_exit`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_last_exit(
    handle: *mut BackgroundWorkerHandle,
    info: *mut BgwExitInfo,
) -> c_int {
    const W: &str = "bgw_last_exit";
    boundary(W, -1, || {
        let conn = match connection(W) {
            Ok(c) => c,
            Err(r) => return r,
        };
        if info.is_null() {
            return fail(W, "info is NULL");
        }
        // SAFETY: the caller's contract.
        let (slot, generation) = match unsafe { handle_parts(conn, handle) } {
            Ok(t) => t,
            Err(m) => return fail(W, &m),
        };
        match conn.last_exit(slot, generation) {
            Ok(e) => {
                let out = BgwExitInfo {
                    exited: e.exited as i32,
                    code: e.code.unwrap_or(-1),
                    signal: e.signal.unwrap_or(0),
                    crash: e.crash as i32,
                    reason: e.reason as i32,
                    starts: e.starts,
                    time_ms: e.time_ms.min(i64::MAX as u64) as i64,
                    state: e.state as i32,
                    ready: e.ready as i32,
                };
                // SAFETY: non-null and writable (contract).
                unsafe { info.write(out) };
                0
            }
            Err(m) => fail(W, &m),
        }
    })
}

/// Body of [`bgw_relaunch`].
///
/// # Safety
/// As [`bgw_relaunch`].
#[no_mangle]
unsafe extern "C" fn bgw_rs_relaunch(handle: *mut BackgroundWorkerHandle) -> c_int {
    const W: &str = "bgw_relaunch";
    boundary(W, -1, || {
        let conn = match connection(W) {
            Ok(c) => c,
            Err(r) => return r,
        };
        // SAFETY: the caller's contract.
        let (slot, generation) = match unsafe { handle_parts(conn, handle) } {
            Ok(t) => t,
            Err(m) => return fail(W, &m),
        };
        match conn.relaunch(slot, generation) {
            Ok(()) => 0,
            Err(m) => fail(W, &m),
        }
    })
}
