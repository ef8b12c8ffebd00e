//! Registration calls: a module's `_PG_init` (or worker) registers
//! interest in server events that never happen here: transaction and
//! subtransaction ends, relcache and syscache invalidations, resource
//! owner release, relation option kinds, custom scan and extensible node
//! methods, custom WAL resource managers. Each call is accepted with a
//! DEBUG1 line naming it, never a FATAL, so that such modules load and
//! start their workers; the callbacks never fire. PostgreSQL's own limits
//! on these lists (FATAL when full) are kept, so a module that registers
//! in a loop fails here as it would under PostgreSQL. The hook variables
//! (`ExecutorStart_hook`, `ProcessUtility_hook`, ...) are plain storage
//! (nodb.rs) a module can chain into.
//!
//! Which calls are registrations was decided family by family; calls that
//! act (`RegisterSnapshot`, `RegisterTimeout`, `RegisterExprContextCallback`,
//! `on_dsm_detach`, ...) are not among them.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::log::{DEBUG1, FATAL};

super::c_export! {
    add_reloption_kind => bgw_c_add_reloption_kind,
}

fn accepted(function: &str, why: &str) {
    crate::elog::report(
        DEBUG1,
        &format!("{function}: accepted; {why}, so the callback never fires"),
        None,
        None,
        None,
    );
}

/// A bounded callback list (PostgreSQL's fixed arrays): FATAL when full.
fn take_slot(count: &AtomicUsize, max: usize, list: &str) -> bool {
    if count.fetch_add(1, Ordering::Relaxed) >= max {
        count.fetch_sub(1, Ordering::Relaxed);
        crate::elog::report(FATAL, &format!("out of {list} slots"), None, None, None);
        crate::misc::exit_process(1)
    }
    true
}

const NO_TRANSACTIONS: &str = "transactions need the database server";

/// `RegisterXactCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn RegisterXactCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("RegisterXactCallback", (), || {
        accepted("RegisterXactCallback", NO_TRANSACTIONS)
    })
}

/// `UnregisterXactCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn UnregisterXactCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("UnregisterXactCallback", (), || {
        accepted("UnregisterXactCallback", NO_TRANSACTIONS)
    })
}

/// `RegisterSubXactCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn RegisterSubXactCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("RegisterSubXactCallback", (), || {
        accepted("RegisterSubXactCallback", NO_TRANSACTIONS)
    })
}

/// `UnregisterSubXactCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn UnregisterSubXactCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("UnregisterSubXactCallback", (), || {
        accepted("UnregisterSubXactCallback", NO_TRANSACTIONS)
    })
}

/// PostgreSQL 15's MAX_RELCACHE_CALLBACKS and MAX_SYSCACHE_CALLBACKS
/// (utils/cache/inval.c).
const MAX_RELCACHE_CALLBACKS: usize = 10;
const MAX_SYSCACHE_CALLBACKS: usize = 64;
static RELCACHE_CALLBACKS: AtomicUsize = AtomicUsize::new(0);
static SYSCACHE_CALLBACKS: AtomicUsize = AtomicUsize::new(0);
/// PostgreSQL 15's SysCacheSize (the number of system caches).
const SYSCACHE_SIZE: c_int = 84;

/// `CacheRegisterRelcacheCallback(func, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn CacheRegisterRelcacheCallback(_func: *const c_void, _arg: usize) {
    bgworker_core::api::boundary("CacheRegisterRelcacheCallback", (), || {
        take_slot(
            &RELCACHE_CALLBACKS,
            MAX_RELCACHE_CALLBACKS,
            "relcache_callback_list",
        );
        accepted(
            "CacheRegisterRelcacheCallback",
            "relation caches need the database server",
        )
    })
}

/// `CacheRegisterSyscacheCallback(cacheid, func, arg)`: an invalid cache
/// id is PostgreSQL's FATAL.
#[unsafe(no_mangle)]
pub extern "C" fn CacheRegisterSyscacheCallback(cacheid: c_int, _func: *const c_void, _arg: usize) {
    bgworker_core::api::boundary("CacheRegisterSyscacheCallback", (), || {
        if !(0..SYSCACHE_SIZE).contains(&cacheid) {
            crate::elog::report(
                FATAL,
                &format!("invalid cache ID: {cacheid}"),
                None,
                None,
                None,
            );
            crate::misc::exit_process(1)
        }
        take_slot(
            &SYSCACHE_CALLBACKS,
            MAX_SYSCACHE_CALLBACKS,
            "syscache_callback_list",
        );
        accepted(
            "CacheRegisterSyscacheCallback",
            "system caches need the database server",
        )
    })
}

const NO_RESOURCE_OWNERS: &str = "no resource owner is released here";

/// `RegisterResourceReleaseCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn RegisterResourceReleaseCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("RegisterResourceReleaseCallback", (), || {
        accepted("RegisterResourceReleaseCallback", NO_RESOURCE_OWNERS)
    })
}

/// `UnregisterResourceReleaseCallback(callback, arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn UnregisterResourceReleaseCallback(_callback: *const c_void, _arg: *mut c_void) {
    bgworker_core::api::boundary("UnregisterResourceReleaseCallback", (), || {
        accepted("UnregisterResourceReleaseCallback", NO_RESOURCE_OWNERS)
    })
}

const NO_RELATIONS: &str = "relations and their options need the database server";

/// `add_bool_reloption(kinds, name, desc, default_val, lockmode)`.
#[unsafe(no_mangle)]
pub extern "C" fn add_bool_reloption(
    _kinds: u32,
    _name: *const c_char,
    _desc: *const c_char,
    _default: bool,
    _lockmode: c_int,
) {
    bgworker_core::api::boundary("add_bool_reloption", (), || {
        accepted("add_bool_reloption", NO_RELATIONS)
    })
}

/// `add_int_reloption(kinds, name, desc, default_val, min, max, lockmode)`.
#[unsafe(no_mangle)]
pub extern "C" fn add_int_reloption(
    _kinds: u32,
    _name: *const c_char,
    _desc: *const c_char,
    _default: c_int,
    _min: c_int,
    _max: c_int,
    _lockmode: c_int,
) {
    bgworker_core::api::boundary("add_int_reloption", (), || {
        accepted("add_int_reloption", NO_RELATIONS)
    })
}

/// `add_real_reloption(kinds, name, desc, default_val, min, max, lockmode)`.
#[unsafe(no_mangle)]
pub extern "C" fn add_real_reloption(
    _kinds: u32,
    _name: *const c_char,
    _desc: *const c_char,
    _default: f64,
    _min: f64,
    _max: f64,
    _lockmode: c_int,
) {
    bgworker_core::api::boundary("add_real_reloption", (), || {
        accepted("add_real_reloption", NO_RELATIONS)
    })
}

/// `add_enum_reloption(kinds, name, desc, members, default_val, detailmsg, lockmode)`.
#[unsafe(no_mangle)]
pub extern "C" fn add_enum_reloption(
    _kinds: u32,
    _name: *const c_char,
    _desc: *const c_char,
    _members: *const c_void,
    _default: c_int,
    _detailmsg: *const c_char,
    _lockmode: c_int,
) {
    bgworker_core::api::boundary("add_enum_reloption", (), || {
        accepted("add_enum_reloption", NO_RELATIONS)
    })
}

/// `add_string_reloption(kinds, name, desc, default_val, validator, lockmode)`.
#[unsafe(no_mangle)]
pub extern "C" fn add_string_reloption(
    _kinds: u32,
    _name: *const c_char,
    _desc: *const c_char,
    _default: *const c_char,
    _validator: *const c_void,
    _lockmode: c_int,
) {
    bgworker_core::api::boundary("add_string_reloption", (), || {
        accepted("add_string_reloption", NO_RELATIONS)
    })
}

const NO_PLANNER: &str = "queries need the database server";

/// `RegisterCustomScanMethods(methods)`.
#[unsafe(no_mangle)]
pub extern "C" fn RegisterCustomScanMethods(_methods: *const c_void) {
    bgworker_core::api::boundary("RegisterCustomScanMethods", (), || {
        accepted("RegisterCustomScanMethods", NO_PLANNER)
    })
}

/// `RegisterExtensibleNodeMethods(methods)`.
#[unsafe(no_mangle)]
pub extern "C" fn RegisterExtensibleNodeMethods(_methods: *const c_void) {
    bgworker_core::api::boundary("RegisterExtensibleNodeMethods", (), || {
        accepted("RegisterExtensibleNodeMethods", NO_PLANNER)
    })
}

/// `BaseBackupAddTarget(name, check_detail, get_sink)`: a base backup
/// target (basebackup_to_shell); base backups need the database server.
#[unsafe(no_mangle)]
pub extern "C" fn BaseBackupAddTarget(
    _name: *const c_char,
    _check_detail: *const c_void,
    _get_sink: *const c_void,
) {
    bgworker_core::api::boundary("BaseBackupAddTarget", (), || {
        accepted(
            "BaseBackupAddTarget",
            "base backups need the database server",
        )
    })
}
