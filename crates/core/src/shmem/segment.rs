//! Creating, attaching to and removing the supervisor's shared segment.
//!
//! The segment is a POSIX shared-memory object (a file under /dev/shm, mode
//! 0600) so that unrelated processes of the same user can attach by name.
//! The supervisor creates it before any fork; workers inherit the mapping;
//! other processes map it with [`Segment::attach`], which validates the
//! header against the object's real size before trusting any offset.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;

use memmap2::{MmapOptions, MmapRaw};

use super::facts::{DaemonFacts, SlotFacts};
use super::slots::{self, Header, Slot};

/// One mapping of the segment. The mapping lives as long as this value.
pub struct Segment {
    map: MmapRaw,
    name: String,
    total_slots: usize,
}

// SAFETY: the mapping is shared memory accessed only through atomics and
// volatile copies (see slots.rs); a `Segment` may be used from any thread.
unsafe impl Send for Segment {}
// SAFETY: as above.
unsafe impl Sync for Segment {}

/// Why an attach failed; the text is shown to the user as is.
#[derive(Debug)]
pub struct AttachError(pub String);

impl std::fmt::Display for AttachError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

impl Segment {
    /// Create a new segment for `total_slots` slots, owned by the calling
    /// process (the supervisor). Picks a free name `/bgworker.<pid>[.<n>]`.
    pub fn create(total_slots: usize, max_parallel: i32) -> io::Result<Segment> {
        let size = slots::segment_size(total_slots);
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        for n in 0..100 {
            let name = if n == 0 {
                format!("/bgworker.{pid}")
            } else {
                format!("/bgworker.{pid}.{n}")
            };
            let cname = c_name(&name)?;
            // SAFETY: cname is a valid NUL-terminated string.
            let fd = unsafe {
                libc::shm_open(
                    cname.as_ptr(),
                    libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC,
                    0o600,
                )
            };
            if fd < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EEXIST) {
                    continue;
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "could not open shared memory segment \"{name}\": {}",
                        crate::io_text(&e)
                    ),
                ));
            }
            // SAFETY: fd was just returned by shm_open and is owned by nobody else.
            let file = unsafe { File::from_raw_fd(fd) };
            // The pages are reserved, not only the size set: a tmpfs that
            // cannot back them fails here, with PostgreSQL's message,
            // instead of a SIGBUS at the first write to a missing page (in
            // the supervisor, or in any process that maps the segment).
            let resize_err = |e: io::Error| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "could not resize shared memory segment \"{name}\" to {size} bytes: {}",
                        crate::io_text(&e)
                    ),
                )
            };
            let r = file
                .set_len(size as u64)
                .and_then(|_| {
                    nix::fcntl::posix_fallocate(&file, 0, size as libc::off_t)
                        .map_err(|e| io::Error::from_raw_os_error(e as i32))
                })
                .map_err(resize_err)
                .and_then(|_| {
                    MmapOptions::new().len(size).map_raw(&file).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "could not map shared memory segment \"{name}\": {}",
                                crate::io_text(&e)
                            ),
                        )
                    })
                });
            let map = match r {
                Ok(m) => m,
                Err(e) => {
                    // SAFETY: cname is valid; we created this object.
                    unsafe { libc::shm_unlink(cname.as_ptr()) };
                    return Err(e);
                }
            };
            let seg = Segment {
                map,
                name,
                total_slots,
            };
            seg.header().init(total_slots, size, pid, max_parallel);
            return Ok(seg);
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free shared memory segment name",
        ))
    }

    /// A new descriptor of the segment's file, for its supervisor lock:
    /// the supervisor holds an open-file-description write lock on the
    /// file's first byte for as long as it runs ([`take_supervisor_lock`]),
    /// and attached processes test for it ([`supervisor_lock_held`]). The
    /// lock goes with the supervisor's descriptor, whether it returns or its
    /// process dies; no write into the segment can fake its absence.
    pub fn open_file(&self) -> io::Result<std::os::fd::OwnedFd> {
        let cname = c_name(&self.name)?;
        // SAFETY: cname is a valid NUL-terminated string.
        let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
    }

    /// Map an existing segment by name and validate it. Never trusts the
    /// contents: a wrong magic, version, size or slot count is an error,
    /// not a crash.
    pub fn attach(name: &str) -> Result<Segment, AttachError> {
        let err = |m: String| AttachError(m);
        let cname = c_name(name).map_err(|_| err(format!("invalid segment name \"{name}\"")))?;
        // SAFETY: cname is a valid NUL-terminated string.
        let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) };
        if fd < 0 {
            return Err(err(format!(
                "could not open shared memory segment \"{name}\": {}",
                crate::errno_text(crate::errno())
            )));
        }
        // SAFETY: fd was just returned by shm_open and is owned by nobody else.
        let file = unsafe { File::from_raw_fd(fd) };
        let size = file
            .metadata()
            .map_err(|e| {
                err(format!(
                    "could not stat shared memory segment \"{name}\": {}",
                    crate::io_text(&e)
                ))
            })?
            .len() as usize;
        if size < std::mem::size_of::<Header>() {
            return Err(err(format!(
                "shared memory segment \"{name}\" is corrupt: {size} bytes is too small for a header"
            )));
        }
        let map = MmapOptions::new().len(size).map_raw(&file).map_err(|e| {
            err(format!(
                "could not map shared memory segment \"{name}\": {}",
                crate::io_text(&e)
            ))
        })?;
        // SAFETY: the mapping is at least one header long (checked above)
        // and page-aligned; Header is plain data and atomics.
        let header = unsafe { &*(map.as_ptr() as *const Header) };
        let total = header.validate(size).map_err(|why| {
            err(format!(
                "shared memory segment \"{name}\" is corrupt: {why}"
            ))
        })?;
        Ok(Segment {
            map,
            name: name.to_string(),
            total_slots: total,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn total_slots(&self) -> usize {
        self.total_slots
    }

    pub fn header(&self) -> &Header {
        // SAFETY: every Segment's mapping holds at least a header (create
        // sizes it, attach checks it); the mapping outlives the borrow.
        unsafe { &*(self.map.as_ptr() as *const Header) }
    }

    /// Slot `i`. Panics if `i` is out of range (callers check handles first).
    pub fn slot(&self, i: usize) -> &Slot {
        assert!(i < self.total_slots, "slot {i} out of range");
        // SAFETY: create/attach established that the mapping holds
        // total_slots slots at slots_offset; i is in range.
        unsafe {
            &*(self.map.as_ptr().add(slots::slots_offset(self.total_slots)) as *const Slot).add(i)
        }
    }

    /// Daemon-wide facts for observers (see facts.rs).
    pub fn daemon_facts(&self) -> &DaemonFacts {
        // SAFETY: create/attach established that the mapping holds the
        // whole layout of total_slots slots; the offset is 8-aligned.
        unsafe {
            &*(self
                .map
                .as_ptr()
                .add(slots::daemon_facts_offset(self.total_slots))
                as *const DaemonFacts)
        }
    }

    /// Facts about slot `i` for observers. Panics if `i` is out of range.
    pub fn slot_facts(&self, i: usize) -> &SlotFacts {
        assert!(i < self.total_slots, "slot {i} out of range");
        // SAFETY: as daemon_facts; i is in range.
        unsafe {
            &*(self
                .map
                .as_ptr()
                .add(slots::slot_facts_offset(self.total_slots)) as *const SlotFacts)
                .add(i)
        }
    }

    /// The supervision words of slot `i` (supervision.rs). Panics if `i`
    /// is out of range.
    pub fn supervision(&self, i: usize) -> &super::supervision::SlotSupervision {
        assert!(i < self.total_slots, "slot {i} out of range");
        // SAFETY: create/attach established that the mapping holds the
        // whole layout of total_slots slots; the offset is 8-aligned and i
        // is in range.
        unsafe {
            &*(self
                .map
                .as_ptr()
                .add(slots::supervision_offset(self.total_slots))
                as *const super::supervision::SlotSupervision)
                .add(i)
        }
    }

    /// The bitmap word `w` of slots whose state a backend changed.
    pub fn pending_word(&self, w: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(w < slots::pending_words(self.total_slots));
        // SAFETY: the bitmap lies between the header and the slots; w is in range.
        unsafe {
            &*(self.map.as_ptr().add(slots::pending_offset())
                as *const std::sync::atomic::AtomicU64)
                .add(w)
        }
    }

    /// Remove the segment's name (the supervisor, at clean shutdown).
    /// Existing mappings stay valid until unmapped.
    pub fn unlink(&self) {
        if let Ok(c) = c_name(&self.name) {
            // SAFETY: c is a valid NUL-terminated string.
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
    }
}

/// The byte range of the supervisor lock: the segment's first byte.
fn lock_range(kind: libc::c_short) -> libc::flock {
    // SAFETY: flock is plain data; all-zero is a valid start (l_pid must be
    // 0 for open-file-description locks).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 1;
    fl
}

/// Take the supervisor lock through `fd` (the supervisor, once, at start).
/// Open-file-description locks (F_OFD_SETLK: not in nix's safe API for
/// this use) belong to the descriptor, not the process, so a worker that
/// inherited another descriptor of the file cannot hold it: workers close
/// the supervisor's (see ChildContext::close_fds).
pub fn take_supervisor_lock(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fl = lock_range(libc::F_WRLCK as libc::c_short);
    // SAFETY: a valid descriptor and a valid flock.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &fl) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Does some other open file description hold the supervisor lock, tested
/// through `fd` (an attached process's own descriptor of the segment)?
/// Errors count as "held": liveness then rests on the pidfd alone.
pub fn supervisor_lock_held(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use std::os::fd::AsRawFd;
    let mut fl = lock_range(libc::F_WRLCK as libc::c_short);
    // SAFETY: a valid descriptor and a valid, writable flock.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) } != 0 {
        return true;
    }
    fl.l_type != libc::F_UNLCK as libc::c_short
}
