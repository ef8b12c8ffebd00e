//! Custom wait events (utils/wait_event.h, PostgreSQL 17 and 18):
//! `WaitEventExtensionNew`, `WaitEventInjectionPointNew` and
//! `GetWaitEventCustomNames`.
//!
//! As in PostgreSQL, names are shared by every process of the daemon: one
//! table in the add-in region (`ShmemInitStruct("WaitEventCustomCounterData")`,
//! created at first use; the region is zeroed at start and after a crash
//! cycle, as PostgreSQL's shared memory is made anew), guarded by
//! WaitEventCustomLock (individual LWLock 48 of 17 and 18). A name keeps the
//! event id it got first; ids count from 1 across both classes, and
//! PostgreSQL's limit (ids below 128) gives its ERROR.
//!
//! Who may call: a worker, or the supervisor once the region exists
//! (shmem_startup_hook); before that (`_PG_init`) PostgreSQL has no table
//! either, and this is an ERROR.

use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::Ordering;

use super::elog::{raise, sqlstate, ERRCODE_INTERNAL_ERROR, ERRCODE_PROGRAM_LIMIT_EXCEEDED};
use super::lwlock::{self, LWLock, LWLOCK_PADDED_SIZE, LW_EXCLUSIVE, LW_SHARED};
use crate::log::ERROR;

super::c_export! {
    WaitEventExtensionNew => bgw_c_WaitEventExtensionNew,
    WaitEventInjectionPointNew => bgw_c_WaitEventInjectionPointNew,
    GetWaitEventCustomNames => bgw_c_GetWaitEventCustomNames,
}

/// PG_WAIT_EXTENSION and PG_WAIT_INJECTIONPOINT (17's and 18's values).
pub const PG_WAIT_EXTENSION: u32 = 0x0700_0000;
pub const PG_WAIT_INJECTIONPOINT: u32 = 0x0B00_0000;
const WAIT_EVENT_CLASS_MASK: u32 = 0xFF00_0000;
/// WAIT_EVENT_CUSTOM_HASH_MAX_SIZE: ids stay below it.
const MAX_EVENTS: usize = 128;
const NAMEDATALEN: usize = 64;
/// WaitEventCustomLock's place in the main LWLock array (17, 18).
const WAIT_EVENT_CUSTOM_LOCK: usize = 48;

/// The shared table: entry i holds event id i + 1.
#[repr(C)]
struct Table {
    /// Ids handed out so far.
    used: u32,
    infos: [u32; MAX_EVENTS],
    names: [[u8; NAMEDATALEN]; MAX_EVENTS],
}

fn lock() -> *mut LWLock {
    let base = lwlock::MainLWLockArray.load(Ordering::Acquire);
    // SAFETY: individual lock 48 of the main array of 17 and 18 (whose
    // individual locks number 53 and 54), mapped with the region.
    unsafe { base.add(WAIT_EVENT_CUSTOM_LOCK * LWLOCK_PADDED_SIZE) as *mut LWLock }
}

/// The table, or None after an ERROR was recorded (no region yet).
fn table() -> Option<*mut Table> {
    let mut found = false;
    // SAFETY: a NUL-terminated name and a valid out-parameter.
    let p = unsafe {
        super::shmem::bgw_rs_ShmemInitStruct(
            c"WaitEventCustomCounterData".as_ptr(),
            std::mem::size_of::<Table>(),
            &mut found,
        )
    };
    (!p.is_null()).then_some(p as *mut Table)
}

fn class_name(info: u32) -> &'static str {
    match info & WAIT_EVENT_CLASS_MASK {
        PG_WAIT_EXTENSION => "Extension",
        PG_WAIT_INJECTIONPOINT => "InjectionPoint",
        _ => "???",
    }
}

/// Run `f` on the table under WaitEventCustomLock in `mode`; None if an
/// ERROR was recorded.
fn with_table<R>(mode: c_int, f: impl FnOnce(&mut Table) -> R) -> Option<R> {
    let t = table()?;
    let l = lock();
    // SAFETY: the lock lives in the mapped main array.
    unsafe { lwlock::acquire(l, mode) }.ok()?;
    // SAFETY: the table lies in the region, zeroed at creation; the lock
    // (held) serialises writers.
    let r = f(unsafe { &mut *t });
    // SAFETY: held just above.
    unsafe { lwlock::release(l) }.ok()?;
    Some(r)
}

fn name_of(entry: &[u8; NAMEDATALEN]) -> &[u8] {
    let n = entry.iter().position(|&b| b == 0).unwrap_or(NAMEDATALEN);
    &entry[..n]
}

/// PostgreSQL's WaitEventCustomNew: the wait event info of `name` in
/// `class`, registering it if new; 0 after recording an ERROR.
fn custom_new(class: u32, name: *const c_char) -> u32 {
    if name.is_null() {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            "wait event name is NULL".into(),
            None,
        );
        return 0;
    }
    // SAFETY: a NUL-terminated string (checked non-NULL).
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    if name.len() >= NAMEDATALEN {
        raise(
            ERROR,
            ERRCODE_INTERNAL_ERROR,
            format!(
                "cannot use custom wait event string longer than {} characters",
                NAMEDATALEN - 1
            ),
            None,
        );
        return 0;
    }
    let r = with_table(LW_EXCLUSIVE, |t| {
        let used = (t.used as usize).min(MAX_EVENTS);
        if let Some(i) = (0..used).find(|&i| name_of(&t.names[i]) == name) {
            let info = t.infos[i];
            if info & WAIT_EVENT_CLASS_MASK != class {
                return Err((
                    sqlstate(b"42710"),
                    format!(
                        "wait event \"{}\" already exists in type \"{}\"",
                        String::from_utf8_lossy(name),
                        class_name(info)
                    ),
                ));
            }
            return Ok(info);
        }
        // Ids run from 1; PostgreSQL refuses the id 128 and on.
        if used + 1 >= MAX_EVENTS {
            return Err((
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "too many custom wait events".into(),
            ));
        }
        let info = class | (used as u32 + 1);
        t.infos[used] = info;
        t.names[used] = [0; NAMEDATALEN];
        t.names[used][..name.len()].copy_from_slice(name);
        t.used = used as u32 + 1;
        Ok(info)
    });
    match r {
        Some(Ok(info)) => info,
        Some(Err((code, message))) => {
            raise(ERROR, code, message, None);
            0
        }
        None => 0,
    }
}

/// `WaitEventExtensionNew(wait_event_name)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_WaitEventExtensionNew(name: *const c_char) -> u32 {
    super::guard("WaitEventExtensionNew", 0, || {
        custom_new(PG_WAIT_EXTENSION, name)
    })
}

/// `WaitEventInjectionPointNew(wait_event_name)`.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_WaitEventInjectionPointNew(name: *const c_char) -> u32 {
    super::guard("WaitEventInjectionPointNew", 0, || {
        custom_new(PG_WAIT_INJECTIONPOINT, name)
    })
}

/// `GetWaitEventCustomNames(classId, &n)`: a palloc'd array of palloc'd
/// copies of the names of class `class_id`, in registration order
/// (PostgreSQL's is its hash table's order).
///
/// # Safety
/// `n` points at an int.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_GetWaitEventCustomNames(
    class_id: u32,
    n: *mut c_int,
) -> *mut *mut c_char {
    super::guard("GetWaitEventCustomNames", std::ptr::null_mut(), || {
        let Some(names) = with_table(LW_SHARED, |t| {
            let used = (t.used as usize).min(MAX_EVENTS);
            (0..used)
                .filter(|&i| t.infos[i] & WAIT_EVENT_CLASS_MASK == class_id)
                .map(|i| name_of(&t.names[i]).to_vec())
                .collect::<Vec<_>>()
        }) else {
            return std::ptr::null_mut();
        };
        let arr =
            super::mcxt::bgw_rs_palloc(names.len().max(1) * std::mem::size_of::<*mut c_char>(), 0)
                as *mut *mut c_char;
        if arr.is_null() {
            return arr;
        }
        for (i, name) in names.iter().enumerate() {
            let p = super::mcxt::bgw_rs_palloc(name.len() + 1, 0) as *mut u8;
            if p.is_null() {
                return std::ptr::null_mut();
            }
            // SAFETY: p has name.len() + 1 bytes; arr has names.len() slots.
            unsafe {
                std::ptr::copy_nonoverlapping(name.as_ptr(), p, name.len());
                *p.add(name.len()) = 0;
                *arr.add(i) = p as *mut c_char;
            }
        }
        if !n.is_null() {
            // SAFETY: the caller's int.
            unsafe { *n = names.len() as c_int };
        }
        arr
    })
}
