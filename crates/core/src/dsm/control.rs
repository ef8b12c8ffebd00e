//! The control segment: one reference count per dynamic segment, shared by
//! every process of one supervisor (PostgreSQL's dsm_control).
//!
//! The supervisor creates it (`/bgworker.<pid>.dsm`, mode 0600, pages
//! reserved) before its first fork, so workers inherit the mapping;
//! attached processes map it by name on first use ([`Control::open`]).
//!
//! Each item is one 64-bit word changed only by compare-and-swap, so no
//! lock is ever held and a process that dies mid-operation leaves every
//! word consistent: `handle << 32 | pinned << 31 | refcnt`. As in
//! PostgreSQL, `refcnt` 0 is a free item, 1 a segment being destroyed
//! (nobody may attach), and every attached process and a pin count one
//! each above 1. Because the handle is part of the word, a stale handle
//! can never take a reference on an item reused for another segment.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use super::DsmError;

const MAGIC: u64 = 0x6267_7764_736d_6331; // "bgwdsmc1"
const PINNED: u64 = 1 << 31;
const REFCNT_MASK: u64 = PINNED - 1;

/// PostgreSQL's `max_connections` default, counted into MaxBackends for
/// the processes that are not workers (registrants attached with
/// `bgw_attach`).
const MAX_CONNECTIONS: usize = 100;

/// PostgreSQL's limit on dynamic segments: 64 + 5 × MaxBackends, where
/// MaxBackends is here `max_worker_processes` + [`MAX_CONNECTIONS`].
pub fn max_items(max_worker_processes: usize) -> usize {
    64 + 5 * (max_worker_processes + MAX_CONNECTIONS)
}

#[repr(C)]
struct Header {
    magic: AtomicU64,
    supervisor_pid: AtomicI32,
    nitems: AtomicU32,
}

/// One mapping of the control segment.
pub struct Control {
    map: MmapRaw,
    nitems: usize,
    supervisor_pid: i32,
}

// SAFETY: the mapping is shared memory touched only through atomics.
unsafe impl Send for Control {}
// SAFETY: as above.
unsafe impl Sync for Control {}

/// The control segment's name for the supervisor `pid`.
pub fn control_name(pid: i32) -> String {
    format!("/bgworker.{pid}.dsm")
}

fn pack(handle: u32, pinned: bool, refcnt: u64) -> u64 {
    ((handle as u64) << 32) | if pinned { PINNED } else { 0 } | refcnt
}
fn handle_of(w: u64) -> u32 {
    (w >> 32) as u32
}
fn refcnt_of(w: u64) -> u64 {
    w & REFCNT_MASK
}

impl Control {
    /// Create the control segment for `nitems` segments (the supervisor,
    /// before its first fork).
    pub fn create(pid: i32, nitems: usize) -> Result<Control, DsmError> {
        let name = control_name(pid);
        let size = std::mem::size_of::<Header>() + 8 * nitems;
        let file = match super::segment::create_object(&name, size) {
            Err(DsmError::Exists) => {
                // Our own pid's name: a predecessor's leftover that the
                // pid file did not name. Nobody else can be using it.
                super::segment::unlink(&name);
                super::segment::create_object(&name, size)?
            }
            r => r?,
        };
        let map = MmapOptions::new().len(size).map_raw(&file).map_err(|e| {
            super::segment::unlink(&name);
            DsmError::Other(format!(
                "could not map shared memory segment \"{name}\": {}",
                crate::io_text(&e)
            ))
        })?;
        let c = Control {
            map,
            nitems,
            supervisor_pid: pid,
        };
        let h = c.header();
        h.supervisor_pid.store(pid, Ordering::Relaxed);
        h.nitems.store(nitems as u32, Ordering::Relaxed);
        h.magic.store(MAGIC, Ordering::Release);
        Ok(c)
    }

    /// Map the control segment of supervisor `pid` (an attached process).
    /// Its contents are checked against its real size before use.
    pub fn open(pid: i32) -> Result<Control, DsmError> {
        let name = control_name(pid);
        let err = |m: String| DsmError::Other(m);
        let cname = CString::new(name.clone()).map_err(|_| err("invalid name".into()))?;
        // SAFETY: a valid NUL-terminated name.
        let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) };
        if fd < 0 {
            return Err(err(format!(
                "could not open shared memory segment \"{name}\": {}",
                crate::errno_text(crate::errno())
            )));
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        let size = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
        let corrupt = || err(format!("shared memory segment \"{name}\" is corrupt"));
        if size < std::mem::size_of::<Header>() {
            return Err(corrupt());
        }
        let map = MmapOptions::new().len(size).map_raw(&file).map_err(|e| {
            err(format!(
                "could not map shared memory segment \"{name}\": {}",
                crate::io_text(&e)
            ))
        })?;
        // SAFETY: at least a header long, page-aligned, atomics only.
        let h = unsafe { &*(map.as_ptr() as *const Header) };
        let nitems = h.nitems.load(Ordering::Acquire) as usize;
        if h.magic.load(Ordering::Acquire) != MAGIC
            || h.supervisor_pid.load(Ordering::Acquire) != pid
            || std::mem::size_of::<Header>() + 8 * nitems > size
        {
            return Err(corrupt());
        }
        Ok(Control {
            map,
            nitems,
            supervisor_pid: pid,
        })
    }

    fn header(&self) -> &Header {
        // SAFETY: create/open established that the mapping holds a header.
        unsafe { &*(self.map.as_ptr() as *const Header) }
    }

    pub fn supervisor_pid(&self) -> i32 {
        self.supervisor_pid
    }

    pub fn nitems(&self) -> usize {
        self.nitems
    }

    fn item(&self, i: usize) -> &AtomicU64 {
        assert!(i < self.nitems);
        // SAFETY: create/open established that nitems words follow the header.
        unsafe {
            &*(self.map.as_ptr().add(std::mem::size_of::<Header>()) as *const AtomicU64).add(i)
        }
    }

    /// Take a free item for a new segment `handle` with refcnt 2 (the
    /// control segment's and the creator's). None: every item is in use.
    pub fn register(&self, handle: u32) -> Option<usize> {
        (0..self.nitems).find(|&i| {
            self.item(i)
                .compare_exchange(
                    0,
                    pack(handle, false, 2),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        })
    }

    /// Find the live item of `handle` (refcnt above 1).
    pub fn find(&self, handle: u32) -> Option<usize> {
        (0..self.nitems).find(|&i| {
            let w = self.item(i).load(Ordering::Acquire);
            handle_of(w) == handle && refcnt_of(w) > 1
        })
    }

    /// Add one reference to `handle`'s item, if it is live. Returns the item.
    pub fn reference(&self, handle: u32) -> Option<usize> {
        for i in 0..self.nitems {
            let item = self.item(i);
            let mut w = item.load(Ordering::Acquire);
            while handle_of(w) == handle && refcnt_of(w) > 1 && refcnt_of(w) < REFCNT_MASK {
                match item.compare_exchange_weak(w, w + 1, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(i),
                    Err(now) => w = now,
                }
            }
        }
        None
    }

    /// Drop one reference from item `i` of `handle`. True when it was the
    /// last one: the item is now being destroyed (refcnt 1) and the caller
    /// must remove the segment, then call [`Control::free`].
    pub fn release(&self, i: usize, handle: u32) -> bool {
        let item = self.item(i);
        let mut w = item.load(Ordering::Acquire);
        loop {
            if handle_of(w) != handle || refcnt_of(w) <= 1 {
                return false; // reset by a crash cycle meanwhile
            }
            match item.compare_exchange_weak(w, w - 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return refcnt_of(w) - 1 == 1,
                Err(now) => w = now,
            }
        }
    }

    /// Mark item `i` free once its segment is removed.
    pub fn free(&self, i: usize, handle: u32) {
        let _ = self.item(i).compare_exchange(
            pack(handle, false, 1),
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// Pin: one more reference, held by nobody (dsm_pin_segment). Err if
    /// already pinned.
    pub fn pin(&self, i: usize, handle: u32) -> Result<(), DsmError> {
        let item = self.item(i);
        let mut w = item.load(Ordering::Acquire);
        loop {
            if handle_of(w) != handle || refcnt_of(w) <= 1 {
                return Err(DsmError::Other("cannot pin unknown segment handle".into()));
            }
            if w & PINNED != 0 {
                return Err(DsmError::Other(
                    "cannot pin a segment that is already pinned".into(),
                ));
            }
            match item.compare_exchange_weak(
                w,
                (w | PINNED) + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => w = now,
            }
        }
    }

    /// Unpin `handle`. Ok(Some(i)) when that was the last reference: the
    /// caller removes the segment and frees item `i`.
    pub fn unpin(&self, handle: u32) -> Result<Option<usize>, DsmError> {
        let Some(i) = self.find(handle) else {
            return Err(DsmError::Other(
                "cannot unpin unknown segment handle".into(),
            ));
        };
        let item = self.item(i);
        let mut w = item.load(Ordering::Acquire);
        loop {
            if handle_of(w) != handle || refcnt_of(w) <= 1 {
                return Err(DsmError::Other(
                    "cannot unpin unknown segment handle".into(),
                ));
            }
            if w & PINNED == 0 {
                return Err(DsmError::Other(
                    "cannot unpin a segment that is not pinned".into(),
                ));
            }
            match item.compare_exchange_weak(
                w,
                (w & !PINNED) - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok((refcnt_of(w) - 1 == 1).then_some(i)),
                Err(now) => w = now,
            }
        }
    }

    /// Forget every segment (the supervisor, after it removed them all in
    /// a crash cycle).
    pub fn reset(&self) {
        for i in 0..self.nitems {
            self.item(i).store(0, Ordering::Release);
        }
    }

    /// Number of live segments (for tests and bgworkerctl).
    pub fn live(&self) -> usize {
        (0..self.nitems)
            .filter(|&i| refcnt_of(self.item(i).load(Ordering::Acquire)) > 0)
            .count()
    }
}
