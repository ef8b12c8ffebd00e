//! `find_rendezvous_variable` (fmgr/dfmgr.c): named `void *` slots by which
//! modules loaded into one process find each other (plpgsql publishes its
//! plugin hook in "PLpgSQL_plugin"; plugin_debugger, plprofiler and
//! omnidb's debugger look it up in `_PG_init`). As PostgreSQL's: the slot
//! of a name starts out NULL, stays at one address for the life of the
//! process, and names are keys of NAMEDATALEN - 1 bytes, so names that
//! differ only after that share a slot. Slots are per process; a worker
//! forked after `_PG_init` inherits the supervisor's, as a backend
//! inherits the postmaster's. Module code runs on one thread per process.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::Mutex;

/// PostgreSQL's NAMEDATALEN.
const NAMEDATALEN: usize = 64;

/// The slots by key; each slot is a leaked box, so its address is stable.
static SLOTS: Mutex<Option<HashMap<Vec<u8>, usize>>> = Mutex::new(None);

/// `void **find_rendezvous_variable(const char *varName)`.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn find_rendezvous_variable(name: *const c_char) -> *mut *mut c_void {
    super::guard("find_rendezvous_variable", std::ptr::null_mut(), || {
        let key: Vec<u8> = if name.is_null() {
            Vec::new()
        } else {
            // SAFETY: a module passes a NUL-terminated name (PostgreSQL's
            // contract); only its first NAMEDATALEN - 1 bytes are the key.
            let bytes = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
            bytes[..bytes.len().min(NAMEDATALEN - 1)].to_vec()
        };
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        let slot = *slots
            .get_or_insert_with(HashMap::new)
            .entry(key)
            .or_insert_with(|| Box::into_raw(Box::new(std::ptr::null_mut::<c_void>())) as usize);
        slot as *mut *mut c_void
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &std::ffi::CStr) -> *mut *mut c_void {
        // SAFETY: name is NUL-terminated.
        unsafe { find_rendezvous_variable(name.as_ptr()) }
    }

    #[test]
    fn slots_are_stable_null_at_first_and_keyed_by_63_bytes() {
        let a = find(c"rv_test_a");
        // SAFETY: a slot from find_rendezvous_variable lives for the process.
        unsafe {
            assert!((*a).is_null());
            *a = 7usize as *mut c_void;
        }
        assert_eq!(find(c"rv_test_a"), a);
        let b = find(c"rv_test_b");
        assert_ne!(a, b);
        // SAFETY: as above.
        assert!(unsafe { (*b).is_null() });
        let long = |c: u8| {
            let mut v = vec![b'x'; 70];
            v.push(c);
            std::ffi::CString::new(v).unwrap()
        };
        let (l1, l2) = (long(b'1'), long(b'2'));
        assert_eq!(find(&l1), find(&l2));
    }
}
