//! The `postmaster/bgworker.h` ABI of every PostgreSQL major served, as
//! `#[repr(C)]` types, and the definition the core keeps in one neutral
//! form.
//!
//! `BackgroundWorker15` is PostgreSQL 15's struct (544 bytes);
//! `BackgroundWorker17` is 17's and 18's (`bgw_library_name` is
//! `char[MAXPGPATH]` since 17: 1472 bytes). Each is checked against the real
//! header of its majors by the project's ABI tests. include/bgworker.h names
//! one of them `BackgroundWorker` after the host's `BGW_PG_MAJOR`.
//!
//! [`BackgroundWorker`] is the neutral form: 17's fields (a superset of
//! 15's) plus the major of the code that made the definition. It never
//! crosses the C ABI; a caller's struct is converted from its own layout
//! (the module's major, checked at load, or a host's compile-time major,
//! carried by the entry point it calls) by [`BackgroundWorker::read_caller`]
//! and back by [`BackgroundWorker::write_caller`]: never guessed from its
//! bytes, never read past the end of the caller's layout.
//!
//! Enumerations that C code passes *in* are carried as plain `u32` on the
//! Rust side (a C caller can store any value in an enum field, and an
//! out-of-range Rust enum would be undefined behaviour); the C header still
//! spells them as C enums.

use std::os::raw::{c_char, c_int, c_uint};

/// PostgreSQL's `Datum`: a pointer-sized unsigned integer.
pub type Datum = usize;
/// PostgreSQL's object identifier type.
pub type Oid = c_uint;
/// `BgWorkerStartTime` (a C enum in the header; see the module comment).
pub type BgWorkerStartTime = u32;
/// `BgwHandleStatus` (a C enum in the header; see the module comment).
pub type BgwHandleStatus = u32;

/// Entry point of a worker, called with `bgw_main_arg`.
pub type bgworker_main_type = Option<unsafe extern "C" fn(main_arg: Datum)>;

/// Workers must set this flag (PostgreSQL 15 requires it).
pub const BGWORKER_SHMEM_ACCESS: c_int = 0x0001;
/// The worker asks for a database connection (none is available here).
pub const BGWORKER_BACKEND_DATABASE_CONNECTION: c_int = 0x0002;
/// The worker is a parallel worker and counts against `max_parallel_workers`.
pub const BGWORKER_CLASS_PARALLEL: c_int = 0x0010;
/// Flag of the `BackgroundWorkerInitializeConnection*` calls.
pub const BGWORKER_BYPASS_ALLOWCONN: c_int = 1;

pub const BGW_DEFAULT_RESTART_INTERVAL: c_int = 60;
pub const BGW_NEVER_RESTART: c_int = -1;
pub const BGW_MAXLEN: usize = 96;
pub const BGW_EXTRALEN: usize = 128;
/// PostgreSQL's MAXPGPATH: `bgw_library_name`'s size from PostgreSQL 17 on.
pub const MAXPGPATH: usize = 1024;
/// Flag of the `BackgroundWorkerInitializeConnection*` calls (PostgreSQL 17).
pub const BGWORKER_BYPASS_ROLELOGINCHECK: c_int = 2;

pub const BgWorkerStart_PostmasterStart: BgWorkerStartTime = 0;
pub const BgWorkerStart_ConsistentState: BgWorkerStartTime = 1;
pub const BgWorkerStart_RecoveryFinished: BgWorkerStartTime = 2;

pub const BGWH_STARTED: BgwHandleStatus = 0;
pub const BGWH_NOT_YET_STARTED: BgwHandleStatus = 1;
pub const BGWH_STOPPED: BgwHandleStatus = 2;
pub const BGWH_POSTMASTER_DIED: BgwHandleStatus = 3;

/// The PostgreSQL major versions whose modules and hosts this library
/// serves.
pub const SERVED_MAJORS: &[u32] = &[15, 17, 18];

/// The major a process serves when nothing decided otherwise (existing
/// hosts and modules are PostgreSQL 15's).
pub const DEFAULT_MAJOR: u32 = 15;

/// Is `major` one this library serves?
pub fn serves(major: u32) -> bool {
    SERVED_MAJORS.contains(&major)
}

/// A worker definition as PostgreSQL 15's modules and hosts lay it out
/// (`BackgroundWorker` when `BGW_PG_MAJOR` is 15, the default).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BackgroundWorker15 {
    pub bgw_name: [c_char; BGW_MAXLEN],
    pub bgw_type: [c_char; BGW_MAXLEN],
    pub bgw_flags: c_int,
    pub bgw_start_time: BgWorkerStartTime,
    /// In seconds, or `BGW_NEVER_RESTART`.
    pub bgw_restart_time: c_int,
    pub bgw_library_name: [c_char; BGW_MAXLEN],
    pub bgw_function_name: [c_char; BGW_MAXLEN],
    pub bgw_main_arg: Datum,
    pub bgw_extra: [c_char; BGW_EXTRALEN],
    /// SIGUSR1 this process on start and stop (dynamic workers only).
    pub bgw_notify_pid: libc::pid_t,
}

/// A worker definition as PostgreSQL 17's and 18's modules and hosts lay
/// it out (`BackgroundWorker` when `BGW_PG_MAJOR` is 17 or 18).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BackgroundWorker17 {
    pub bgw_name: [c_char; BGW_MAXLEN],
    pub bgw_type: [c_char; BGW_MAXLEN],
    pub bgw_flags: c_int,
    pub bgw_start_time: BgWorkerStartTime,
    /// In seconds, or `BGW_NEVER_RESTART`.
    pub bgw_restart_time: c_int,
    pub bgw_library_name: [c_char; MAXPGPATH],
    pub bgw_function_name: [c_char; BGW_MAXLEN],
    pub bgw_main_arg: Datum,
    pub bgw_extra: [c_char; BGW_EXTRALEN],
    /// SIGUSR1 this process on start and stop (dynamic workers only).
    pub bgw_notify_pid: libc::pid_t,
}

/// A caller's `BackgroundWorker`, of the layout of the caller's major: the
/// plain-name exports take it (the process's major decides the layout),
/// the header names it after `BGW_PG_MAJOR`. Opaque on the Rust side: it is
/// only ever read through [`BackgroundWorker::read_caller`].
pub enum CallerWorker {}

/// The neutral form of a definition, as the core keeps it (registry, slot,
/// facts): 17's fields plus the major of the caller that made it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BackgroundWorker {
    pub bgw_name: [c_char; BGW_MAXLEN],
    pub bgw_type: [c_char; BGW_MAXLEN],
    pub bgw_flags: c_int,
    pub bgw_start_time: BgWorkerStartTime,
    /// In seconds, or `BGW_NEVER_RESTART`.
    pub bgw_restart_time: c_int,
    pub bgw_library_name: [c_char; MAXPGPATH],
    pub bgw_function_name: [c_char; BGW_MAXLEN],
    pub bgw_main_arg: Datum,
    pub bgw_extra: [c_char; BGW_EXTRALEN],
    pub bgw_notify_pid: libc::pid_t,
    /// The PostgreSQL major of the code that made the definition (its
    /// layout); 0 in an all-zero definition, read as the default major.
    pub bgw_major: u32,
}

/// The layout a major's callers use: 15's, or 17's (17 and 18).
pub fn layout_of(major: u32) -> Layout {
    if major >= 17 {
        Layout::Pg17
    } else {
        Layout::Pg15
    }
}

/// The two `BackgroundWorker` layouts of the majors served.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    Pg15,
    Pg17,
}

impl Layout {
    /// `sizeof(BackgroundWorker)` in this layout.
    pub fn size(self) -> usize {
        match self {
            Layout::Pg15 => std::mem::size_of::<BackgroundWorker15>(),
            Layout::Pg17 => std::mem::size_of::<BackgroundWorker17>(),
        }
    }
    /// `sizeof(bgw_library_name)` in this layout.
    pub fn library_len(self) -> usize {
        match self {
            Layout::Pg15 => BGW_MAXLEN,
            Layout::Pg17 => MAXPGPATH,
        }
    }
}

impl BackgroundWorker {
    /// An all-zero definition.
    pub const fn zeroed() -> Self {
        BackgroundWorker {
            bgw_name: [0; BGW_MAXLEN],
            bgw_type: [0; BGW_MAXLEN],
            bgw_flags: 0,
            bgw_start_time: 0,
            bgw_restart_time: 0,
            bgw_library_name: [0; MAXPGPATH],
            bgw_function_name: [0; BGW_MAXLEN],
            bgw_main_arg: 0,
            bgw_extra: [0; BGW_EXTRALEN],
            bgw_notify_pid: 0,
            bgw_major: 0,
        }
    }

    /// The major whose layout made this definition.
    pub fn major(&self) -> u32 {
        if self.bgw_major == 0 {
            DEFAULT_MAJOR
        } else {
            self.bgw_major
        }
    }

    /// A PostgreSQL 15 struct in neutral form.
    pub fn from_15(w: &BackgroundWorker15) -> Self {
        let mut n = Self::zeroed();
        n.bgw_name = w.bgw_name;
        n.bgw_type = w.bgw_type;
        n.bgw_flags = w.bgw_flags;
        n.bgw_start_time = w.bgw_start_time;
        n.bgw_restart_time = w.bgw_restart_time;
        n.bgw_library_name[..BGW_MAXLEN].copy_from_slice(&w.bgw_library_name);
        n.bgw_function_name = w.bgw_function_name;
        n.bgw_main_arg = w.bgw_main_arg;
        n.bgw_extra = w.bgw_extra;
        n.bgw_notify_pid = w.bgw_notify_pid;
        n.bgw_major = 15;
        n
    }

    /// A PostgreSQL 17/18 struct in neutral form, made by `major`'s code.
    pub fn from_17(w: &BackgroundWorker17, major: u32) -> Self {
        BackgroundWorker {
            bgw_name: w.bgw_name,
            bgw_type: w.bgw_type,
            bgw_flags: w.bgw_flags,
            bgw_start_time: w.bgw_start_time,
            bgw_restart_time: w.bgw_restart_time,
            bgw_library_name: w.bgw_library_name,
            bgw_function_name: w.bgw_function_name,
            bgw_main_arg: w.bgw_main_arg,
            bgw_extra: w.bgw_extra,
            bgw_notify_pid: w.bgw_notify_pid,
            bgw_major: major,
        }
    }

    /// This definition in PostgreSQL 15's layout. A library name longer
    /// than 15's field (possible only for a definition a 17/18 caller made)
    /// is cut at 95 bytes and NUL-terminated.
    pub fn to_15(&self) -> BackgroundWorker15 {
        let mut lib = [0 as c_char; BGW_MAXLEN];
        lib.copy_from_slice(&self.bgw_library_name[..BGW_MAXLEN]);
        lib[BGW_MAXLEN - 1] = 0;
        BackgroundWorker15 {
            bgw_name: self.bgw_name,
            bgw_type: self.bgw_type,
            bgw_flags: self.bgw_flags,
            bgw_start_time: self.bgw_start_time,
            bgw_restart_time: self.bgw_restart_time,
            bgw_library_name: lib,
            bgw_function_name: self.bgw_function_name,
            bgw_main_arg: self.bgw_main_arg,
            bgw_extra: self.bgw_extra,
            bgw_notify_pid: self.bgw_notify_pid,
        }
    }

    /// This definition in PostgreSQL 17's and 18's layout.
    pub fn to_17(&self) -> BackgroundWorker17 {
        BackgroundWorker17 {
            bgw_name: self.bgw_name,
            bgw_type: self.bgw_type,
            bgw_flags: self.bgw_flags,
            bgw_start_time: self.bgw_start_time,
            bgw_restart_time: self.bgw_restart_time,
            bgw_library_name: self.bgw_library_name,
            bgw_function_name: self.bgw_function_name,
            bgw_main_arg: self.bgw_main_arg,
            bgw_extra: self.bgw_extra,
            bgw_notify_pid: self.bgw_notify_pid,
        }
    }

    /// Read a caller's struct with the layout of `major` (its own: the
    /// module's checked major, or the host's compile-time major carried by
    /// the entry point), reading no byte past that layout's end.
    ///
    /// # Safety
    /// `p` is non-null and points at a readable struct of `major`'s layout.
    pub unsafe fn read_caller(p: *const CallerWorker, major: u32) -> Self {
        match layout_of(major) {
            // SAFETY: the caller's contract: a struct of this layout.
            Layout::Pg15 => Self::from_15(unsafe { &*(p as *const BackgroundWorker15) }),
            // SAFETY: as above.
            Layout::Pg17 => Self::from_17(unsafe { &*(p as *const BackgroundWorker17) }, major),
        }
    }

    /// Write `bgw_type` back into a caller's struct of `major`'s layout (as
    /// PostgreSQL defaults the caller's copy). `bgw_type` has the same
    /// offset and size in every layout.
    ///
    /// # Safety
    /// `p` is non-null and points at a writable struct of `major`'s layout.
    pub unsafe fn write_caller_type(&self, p: *mut CallerWorker, major: u32) {
        match layout_of(major) {
            // SAFETY: the caller's contract: a writable struct of this layout.
            Layout::Pg15 => unsafe { (*(p as *mut BackgroundWorker15)).bgw_type = self.bgw_type },
            // SAFETY: as above.
            Layout::Pg17 => unsafe { (*(p as *mut BackgroundWorker17)).bgw_type = self.bgw_type },
        }
    }

    pub fn name(&self) -> String {
        fixed_str(&self.bgw_name)
    }
    pub fn type_name(&self) -> String {
        fixed_str(&self.bgw_type)
    }
    pub fn library(&self) -> String {
        fixed_str(&self.bgw_library_name)
    }
    pub fn function(&self) -> String {
        fixed_str(&self.bgw_function_name)
    }

    /// The size of `bgw_library_name` in the layout of the caller that made
    /// this definition (96 for 15's, 1024 for 17's and 18's).
    pub fn library_len(&self) -> usize {
        layout_of(self.major()).library_len()
    }

    /// Force every name field to be NUL-terminated within its size in the
    /// caller's layout, the way PostgreSQL's paranoid copy does: a
    /// definition that arrives without a terminator is cut rather than read
    /// past its end.
    pub fn terminate_strings(&mut self) {
        let lib = self.library_len();
        for f in [
            &mut self.bgw_name,
            &mut self.bgw_type,
            &mut self.bgw_function_name,
        ] {
            f[BGW_MAXLEN - 1] = 0;
        }
        self.bgw_library_name[lib - 1..].fill(0);
    }

    /// Copy of `self` as the supervisor keeps it: strings NUL-terminated and
    /// reduced to printable ASCII (anything else becomes `?`), as
    /// PostgreSQL's `ascii_safe_strlcpy`, so that nothing a backend wrote
    /// into shared memory can break a log line or a later `strcmp`. A
    /// major that is not served is replaced by the default's.
    pub fn sanitized(&self) -> Self {
        let mut w = *self;
        if !serves(w.bgw_major) {
            w.bgw_major = DEFAULT_MAJOR;
        }
        let lib = w.library_len();
        for (f, len) in [
            (&mut w.bgw_name[..], BGW_MAXLEN),
            (&mut w.bgw_type[..], BGW_MAXLEN),
            (&mut w.bgw_library_name[..], lib),
            (&mut w.bgw_function_name[..], BGW_MAXLEN),
        ] {
            let mut end = false;
            for (i, c) in f.iter_mut().enumerate() {
                if end || i >= len - 1 {
                    end = true;
                    *c = 0;
                    continue;
                }
                let b = *c as u8;
                if b == 0 {
                    end = true;
                } else if !(32..127).contains(&b) {
                    *c = b'?' as c_char;
                }
            }
        }
        w
    }
}

/// The string in a fixed-size, possibly unterminated C buffer (lossy UTF-8).
pub fn fixed_str(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Write `s` into a fixed-size C buffer, truncated and NUL-terminated.
pub fn set_fixed_str(buf: &mut [c_char], s: &str) {
    let n = s.len().min(buf.len() - 1);
    for (d, b) in buf.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    for d in buf[n..].iter_mut() {
        *d = 0;
    }
}

bitflags::bitflags! {
    /// `bgw_flags` as the Rust side reads it. The C field stays a plain
    /// int (PostgreSQL's ABI); bits this version does not know are kept.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct WorkerFlags: c_int {
        const SHMEM_ACCESS = BGWORKER_SHMEM_ACCESS;
        const BACKEND_DATABASE_CONNECTION = BGWORKER_BACKEND_DATABASE_CONNECTION;
        const CLASS_PARALLEL = BGWORKER_CLASS_PARALLEL;
    }
}

impl BackgroundWorker {
    /// The definition's flags (unknown bits retained).
    pub fn flags(&self) -> WorkerFlags {
        WorkerFlags::from_bits_retain(self.bgw_flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_postgresql_15() {
        assert_eq!(size_of::<BackgroundWorker15>(), 544);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_type), 96);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_flags), 192);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_start_time), 196);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_restart_time), 200);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_library_name), 204);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_function_name), 300);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_main_arg), 400);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_extra), 408);
        assert_eq!(offset_of!(BackgroundWorker15, bgw_notify_pid), 536);
    }

    /// The values the real PostgreSQL 17 and 18 headers give (the project's
    /// ABI tests compile against them).
    #[test]
    fn layout_matches_postgresql_17_and_18() {
        assert_eq!(size_of::<BackgroundWorker17>(), 1472);
        assert_eq!(offset_of!(BackgroundWorker17, bgw_library_name), 204);
        assert_eq!(offset_of!(BackgroundWorker17, bgw_function_name), 1228);
        assert_eq!(offset_of!(BackgroundWorker17, bgw_main_arg), 1328);
        assert_eq!(offset_of!(BackgroundWorker17, bgw_extra), 1336);
        assert_eq!(offset_of!(BackgroundWorker17, bgw_notify_pid), 1464);
    }

    #[test]
    fn conversions_keep_every_field() {
        let mut w = BackgroundWorker17 {
            bgw_name: [0; BGW_MAXLEN],
            bgw_type: [0; BGW_MAXLEN],
            bgw_flags: 3,
            bgw_start_time: 2,
            bgw_restart_time: 7,
            bgw_library_name: [0; MAXPGPATH],
            bgw_function_name: [0; BGW_MAXLEN],
            bgw_main_arg: 99,
            bgw_extra: [5; BGW_EXTRALEN],
            bgw_notify_pid: 1234,
        };
        set_fixed_str(&mut w.bgw_name, "n");
        set_fixed_str(&mut w.bgw_library_name, &"l".repeat(500));
        set_fixed_str(&mut w.bgw_function_name, "f");
        // SAFETY: w is a BackgroundWorker17.
        let n = unsafe { BackgroundWorker::read_caller(&w as *const _ as *const CallerWorker, 18) };
        assert_eq!(n.major(), 18);
        assert_eq!(n.library().len(), 500);
        let back = n.to_17();
        assert_eq!(back.bgw_main_arg, 99);
        assert_eq!(back.bgw_notify_pid, 1234);
        assert_eq!(fixed_str(&back.bgw_library_name).len(), 500);
        let w15 = n.to_15();
        assert_eq!(fixed_str(&w15.bgw_library_name).len(), 95);
        assert_eq!(w15.bgw_extra, [5; BGW_EXTRALEN]);
        let n15 = BackgroundWorker::from_15(&w15);
        assert_eq!(n15.major(), 15);
        assert_eq!(n15.library_len(), 96);
        assert_eq!(n15.function(), "f");
    }

    #[test]
    fn sanitized_forces_terminator_and_ascii() {
        let mut w = BackgroundWorker::zeroed();
        for c in w.bgw_name.iter_mut() {
            *c = b'a' as c_char;
        }
        w.bgw_type[0] = 0x07;
        w.bgw_type[1] = b'x' as c_char;
        for c in w.bgw_library_name.iter_mut() {
            *c = b'l' as c_char;
        }
        let s = w.sanitized();
        assert_eq!(s.name().len(), 95);
        assert_eq!(s.type_name(), "?x");
        // An all-zero major reads as 15's: its library name ends within 96.
        assert_eq!(s.library().len(), 95);
        w.bgw_major = 17;
        assert_eq!(w.sanitized().library().len(), 1023);
        w.bgw_major = 16;
        assert_eq!(w.sanitized().major(), 15);
    }
}
