//! Dynamic shared memory: segments any process of one supervisor creates
//! at run time, finds by a 32-bit handle, and that live while any process
//! is attached or the segment is pinned (PostgreSQL's dsm.c mechanism,
//! without its error reporting or resource owners, which the runtime adds).
//!
//! Names: the control segment is `/bgworker.<supervisor pid>.dsm`, a data
//! segment `/bgworker.<supervisor pid>.dsm.<handle>`; both mode 0600 with
//! their pages reserved. The supervisor removes every one of them in a
//! crash cycle and at shutdown ([`destroy_all`]); the next supervisor on
//! the same run directory removes those of a SIGKILLed predecessor
//! ([`remove_leftovers`]).
//!
//! # Who may call
//!
//! [`setup`], [`destroy_all`] and [`remove_leftovers`]: the supervisor's
//! thread. The rest: any process of the supervisor (workers inherit the
//! control mapping; attached processes open it on first use), from one
//! thread at a time per [`Mapping`]. Nothing here takes a lock (see
//! control.rs), so a process that dies in the middle leaves no lock held.

mod control;
pub mod segment;

use std::sync::atomic::{AtomicPtr, Ordering};

pub use control::{control_name, max_items, Control};

/// Why a dynamic shared memory operation failed.
#[derive(Debug)]
pub enum DsmError {
    /// Every control item is in use (PostgreSQL's limit).
    TooMany,
    /// The name exists already (a handle collision; internal).
    Exists,
    /// A system call failed; `message` names the segment and the cause.
    Os { message: String, errno: i32 },
    /// Anything else, as PostgreSQL words it.
    Other(String),
}

impl DsmError {
    pub fn message(&self) -> String {
        match self {
            DsmError::TooMany => "too many dynamic shared memory segments".into(),
            DsmError::Exists => "shared memory segment name already in use".into(),
            DsmError::Os { message, .. } => message.clone(),
            DsmError::Other(m) => m.clone(),
        }
    }
}

/// This process's control mapping (set by the supervisor before it forks,
/// or on first use in an attached process; never freed: the mapping is
/// process-lifetime, as PostgreSQL's).
static CONTROL: AtomicPtr<Control> = AtomicPtr::new(std::ptr::null_mut());

fn publish(c: Control) -> &'static Control {
    let p = Box::into_raw(Box::new(c));
    CONTROL.store(p, Ordering::Release);
    // SAFETY: just leaked; never freed.
    unsafe { &*p }
}

/// The supervisor, before its first fork: create the control segment for
/// `max_worker_processes` slots' worth of segments.
pub fn setup(pid: i32, max_worker_processes: usize) -> Result<(), DsmError> {
    let c = Control::create(pid, max_items(max_worker_processes))?;
    publish(c);
    Ok(())
}

/// The control mapping of supervisor `pid` for this process.
pub fn control(pid: i32) -> Result<&'static Control, DsmError> {
    let p = CONTROL.load(Ordering::Acquire);
    // SAFETY: published pointers are leaked boxes, never freed.
    if let Some(c) = unsafe { p.as_ref() } {
        if c.supervisor_pid() == pid {
            return Ok(c);
        }
    }
    Ok(publish(Control::open(pid)?))
}

/// The name of segment `handle` of supervisor `pid`.
pub fn segment_name(pid: i32, handle: u32) -> String {
    format!("/bgworker.{pid}.dsm.{handle}")
}

/// One process's attachment to a segment.
#[derive(Debug)]
pub struct Mapping {
    pub handle: u32,
    pub address: *mut u8,
    pub length: usize,
    item: usize,
    pid: i32,
    /// Holds a reference in the control segment (see [`Mapping::disown`]).
    counted: bool,
}

impl Mapping {
    /// Keep the mapping but never drop its reference: a process forked
    /// from the one that took it holds none of its own.
    pub fn disown(&mut self) {
        self.counted = false;
    }
}

fn random_handle() -> u32 {
    let mut h = 0u32;
    while h == 0 {
        // SAFETY: fills 4 bytes of h.
        let n = unsafe { libc::getrandom((&mut h as *mut u32).cast(), 4, 0) };
        if n != 4 {
            // No entropy source: time and pid are unique enough, since
            // a collision only makes the creation try another handle.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(1);
            // SAFETY: getpid has no preconditions.
            h = t ^ (unsafe { libc::getpid() } as u32).rotate_left(16);
        }
    }
    h
}

/// Create a segment of `size` bytes in supervisor `pid`'s set (refcnt 2:
/// the creator's reference and the control segment's). On failure nothing
/// is left behind.
pub fn create(pid: i32, size: usize) -> Result<Mapping, DsmError> {
    let control = control(pid)?;
    loop {
        let handle = random_handle();
        let name = segment_name(pid, handle);
        let file = match segment::create_object(&name, size) {
            Err(DsmError::Exists) => continue,
            r => r?,
        };
        let (address, length) = match segment::map(&file, &name, size) {
            Ok(m) => m,
            Err(e) => {
                segment::unlink(&name);
                return Err(e);
            }
        };
        drop(file);
        let Some(item) = control.register(handle) else {
            // SAFETY: our own fresh mapping, used by nobody.
            unsafe { segment::unmap(address, length) };
            segment::unlink(&name);
            return Err(DsmError::TooMany);
        };
        return Ok(Mapping {
            handle,
            address,
            length,
            item,
            pid,
            counted: true,
        });
    }
}

/// Attach to segment `handle` of supervisor `pid`. Ok(None): no such live
/// segment (never created, destroyed, or another supervisor's), as
/// PostgreSQL's dsm_attach returns NULL.
pub fn attach(pid: i32, handle: u32) -> Result<Option<Mapping>, DsmError> {
    if handle == 0 {
        return Ok(None);
    }
    let control = control(pid)?;
    let Some(item) = control.reference(handle) else {
        return Ok(None);
    };
    let name = segment_name(pid, handle);
    match segment::open_and_map(&name) {
        Ok((address, length)) => Ok(Some(Mapping {
            handle,
            address,
            length,
            item,
            pid,
            counted: true,
        })),
        Err(e) => {
            if control.release(item, handle) {
                segment::unlink(&name);
                control.free(item, handle);
            }
            Err(e)
        }
    }
}

/// Unmap and drop this process's reference; the last one removes the
/// segment.
///
/// # Safety
/// Nothing in this process uses the mapping's range any more.
pub unsafe fn detach(m: Mapping) {
    // SAFETY: the caller's contract.
    unsafe { segment::unmap(m.address, m.length) };
    if !m.counted {
        return;
    }
    if let Ok(control) = control(m.pid) {
        if control.release(m.item, m.handle) {
            segment::unlink(&segment_name(m.pid, m.handle));
            control.free(m.item, m.handle);
        }
    }
}

/// Drop `m`'s reference on the way out of a process that exits from a
/// signal handler: async-signal-safe (atomics, shm_unlink of a name built
/// on the stack; nothing allocated or freed; the mapping stays until the
/// process ends). Only if this process's control mapping is already open.
pub fn release_in_handler(m: &Mapping) {
    if !m.counted {
        return;
    }
    let p = CONTROL.load(Ordering::Acquire);
    // SAFETY: published pointers are leaked boxes, never freed.
    let Some(control) = (unsafe { p.as_ref() }) else {
        return;
    };
    if control.supervisor_pid() != m.pid || !control.release(m.item, m.handle) {
        return;
    }
    let mut buf = [0u8; 64];
    let n = name_into(&mut buf, m.pid, m.handle);
    // SAFETY: buf holds a NUL-terminated name of n bytes.
    unsafe { libc::shm_unlink(buf[..=n].as_ptr().cast()) };
    control.free(m.item, m.handle);
}

/// Write `/bgworker.<pid>.dsm.<handle>` and a NUL into `buf`; returns the
/// name's length (without allocating: see [`release_in_handler`]).
fn name_into(buf: &mut [u8; 64], pid: i32, handle: u32) -> usize {
    fn digits(out: &mut [u8], at: usize, mut v: u64) -> usize {
        let mut tmp = [0u8; 20];
        let mut n = 0;
        loop {
            tmp[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in 0..n {
            out[at + i] = tmp[n - 1 - i];
        }
        at + n
    }
    let mut at = 0;
    for &b in b"/bgworker." {
        buf[at] = b;
        at += 1;
    }
    at = digits(buf, at, pid.max(0) as u64);
    for &b in b".dsm." {
        buf[at] = b;
        at += 1;
    }
    at = digits(buf, at, handle as u64);
    buf[at] = 0;
    at
}

/// dsm_pin_segment: keep the segment until [`unpin`] even with nobody
/// attached.
pub fn pin(m: &Mapping) -> Result<(), DsmError> {
    control(m.pid)?.pin(m.item, m.handle)
}

/// dsm_unpin_segment.
pub fn unpin(pid: i32, handle: u32) -> Result<(), DsmError> {
    let control = control(pid)?;
    if let Some(item) = control.unpin(handle)? {
        segment::unlink(&segment_name(pid, handle));
        control.free(item, handle);
    }
    Ok(())
}

/// Is `name` (a /dev/shm entry, without the slash) one of supervisor
/// `pid`'s dynamic segments or its control segment?
fn is_dsm_name(name: &str, pid: i32) -> bool {
    let Some(rest) = name
        .strip_prefix("bgworker.")
        .and_then(|r| r.strip_prefix(pid.to_string().as_str()))
        .and_then(|r| r.strip_prefix(".dsm"))
    else {
        return false;
    };
    rest.is_empty()
        || rest.strip_prefix('.').is_some_and(|n| {
            !n.is_empty() && n.len() <= 10 && n.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Remove every segment of supervisor `pid` owned by this uid (and its
/// control segment too if `with_control`). Returns how many were removed.
fn remove_named(pid: i32, with_control: bool) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return 0;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let control = format!("bgworker.{pid}.dsm");
    let mut n = 0;
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_dsm_name(name, pid) || (!with_control && name == control) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !meta.file_type().is_file() || meta.uid() != me {
            continue;
        }
        segment::unlink(&format!("/{name}"));
        n += 1;
    }
    n
}

/// The supervisor `pid` in a crash cycle (`final_` false: the control
/// segment stays, emptied) or at shutdown (`final_` true: it goes too):
/// every dynamic segment is removed, as PostgreSQL destroys them.
/// Processes still attached keep their mappings until they unmap.
pub fn destroy_all(pid: i32, final_: bool) {
    remove_named(pid, final_);
    let p = CONTROL.load(Ordering::Acquire);
    // SAFETY: published pointers are leaked boxes, never freed.
    if let Some(c) = unsafe { p.as_ref() } {
        if c.supervisor_pid() == pid {
            c.reset();
        }
    }
}

/// A new supervisor on the run directory of a dead predecessor `pid`
/// (checked gone by the caller): remove its dynamic segments and control
/// segment. Returns how many were removed.
pub fn remove_leftovers(pid: i32) -> usize {
    remove_named(pid, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's reference counting: a segment lives while a mapping or
    /// a pin holds it; the last release removes it; a destroyed or unknown
    /// handle cannot be attached; the limit is an error, not a crash.
    #[test]
    fn reference_counts_and_limit() {
        // A control segment of this test process's own (named after a pid
        // that cannot be a supervisor's: this process runs none).
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let c = Control::create(pid, 3).expect("control segment");
        publish(c);
        let a = create(pid, 4096).expect("create");
        let handle = a.handle;
        let name = segment_name(pid, handle);
        let exists = |n: &str| std::path::Path::new(&format!("/dev/shm{n}")).exists();
        assert!(exists(&name));
        let b = attach(pid, a.handle).unwrap().expect("attach");
        assert_eq!(b.length, 4096);
        pin(&a).unwrap();
        assert!(matches!(pin(&a), Err(DsmError::Other(_))));
        // SAFETY: the test's own mappings, unused afterwards.
        unsafe {
            detach(a);
            detach(b);
        }
        assert!(exists(&name), "pinned: kept with nobody attached");
        let again = attach(pid, handle)
            .unwrap()
            .expect("attach a pinned segment");
        unpin(pid, handle).unwrap();
        assert!(matches!(unpin(pid, handle), Err(DsmError::Other(_))));
        // SAFETY: as above.
        unsafe { detach(again) };
        assert!(!exists(&name), "the last reference removed it");
        assert!(attach(pid, handle).unwrap().is_none());
        assert!(attach(pid, 0).unwrap().is_none());
        // Three items: the fourth segment is refused, and nothing of it
        // is left.
        let m: Vec<Mapping> = (0..3).map(|_| create(pid, 64).unwrap()).collect();
        assert!(matches!(create(pid, 64), Err(DsmError::TooMany)));
        assert_eq!(remove_named(pid, false), 3);
        for x in m {
            // SAFETY: as above.
            unsafe { detach(x) };
        }
        destroy_all(pid, true);
        assert!(!exists(&control_name(pid)));
    }

    #[test]
    fn names() {
        use super::is_dsm_name;
        let mut buf = [0u8; 64];
        let n = super::name_into(&mut buf, 123, 4294967295);
        assert_eq!(&buf[..n], segment_name(123, 4294967295).as_bytes());
        assert_eq!(buf[n], 0);
        assert!(is_dsm_name("bgworker.12.dsm", 12));
        assert!(is_dsm_name("bgworker.12.dsm.4294967295", 12));
        assert!(!is_dsm_name("bgworker.12.dsm.", 12));
        assert!(!is_dsm_name("bgworker.12.dsm.1x", 12));
        assert!(!is_dsm_name("bgworker.123.dsm.1", 12));
        assert!(!is_dsm_name("bgworker.12", 12));
        assert!(!is_dsm_name("bgworker.12.1", 12));
    }
}
