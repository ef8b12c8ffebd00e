//! The PostgreSQL 15 `postmaster/bgworker.h` ABI, as `#[repr(C)]` types.
//!
//! Every layout here is checked against the real PostgreSQL 15 header by
//! `abi_probe.sh` (see `make test`): `BackgroundWorker` is 544 bytes with the
//! offsets listed in DESIGN.md §1. Enumerations that C code passes *in* are
//! carried as plain `u32` on the Rust side (a C caller can store any value in
//! an enum field, and an out-of-range Rust enum would be undefined
//! behaviour); the C header still spells them as C enums.

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

pub const BgWorkerStart_PostmasterStart: BgWorkerStartTime = 0;
pub const BgWorkerStart_ConsistentState: BgWorkerStartTime = 1;
pub const BgWorkerStart_RecoveryFinished: BgWorkerStartTime = 2;

pub const BGWH_STARTED: BgwHandleStatus = 0;
pub const BGWH_NOT_YET_STARTED: BgwHandleStatus = 1;
pub const BGWH_STOPPED: BgwHandleStatus = 2;
pub const BGWH_POSTMASTER_DIED: BgwHandleStatus = 3;

/// A worker definition, as registered by a module.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BackgroundWorker {
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

impl BackgroundWorker {
    /// An all-zero definition.
    pub const fn zeroed() -> Self {
        BackgroundWorker {
            bgw_name: [0; BGW_MAXLEN],
            bgw_type: [0; BGW_MAXLEN],
            bgw_flags: 0,
            bgw_start_time: 0,
            bgw_restart_time: 0,
            bgw_library_name: [0; BGW_MAXLEN],
            bgw_function_name: [0; BGW_MAXLEN],
            bgw_main_arg: 0,
            bgw_extra: [0; BGW_EXTRALEN],
            bgw_notify_pid: 0,
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

    /// Force every name field to be NUL-terminated within its 96 bytes, the
    /// way PostgreSQL's paranoid copy does: a definition that arrives without
    /// a terminator is cut at 95 bytes rather than read past its end.
    pub fn terminate_strings(&mut self) {
        for f in [
            &mut self.bgw_name,
            &mut self.bgw_type,
            &mut self.bgw_library_name,
            &mut self.bgw_function_name,
        ] {
            f[BGW_MAXLEN - 1] = 0;
        }
    }

    /// Copy of `self` as the supervisor keeps it: strings NUL-terminated and
    /// reduced to printable ASCII (anything else becomes `?`), as
    /// PostgreSQL's `ascii_safe_strlcpy`, so that nothing a backend wrote
    /// into shared memory can break a log line or a later `strcmp`.
    pub fn sanitized(&self) -> Self {
        let mut w = *self;
        for f in [
            &mut w.bgw_name,
            &mut w.bgw_type,
            &mut w.bgw_library_name,
            &mut w.bgw_function_name,
        ] {
            let mut end = false;
            for c in f.iter_mut() {
                if end {
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
            f[BGW_MAXLEN - 1] = 0;
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
        assert_eq!(size_of::<BackgroundWorker>(), 544);
        assert_eq!(offset_of!(BackgroundWorker, bgw_type), 96);
        assert_eq!(offset_of!(BackgroundWorker, bgw_flags), 192);
        assert_eq!(offset_of!(BackgroundWorker, bgw_start_time), 196);
        assert_eq!(offset_of!(BackgroundWorker, bgw_restart_time), 200);
        assert_eq!(offset_of!(BackgroundWorker, bgw_library_name), 204);
        assert_eq!(offset_of!(BackgroundWorker, bgw_function_name), 300);
        assert_eq!(offset_of!(BackgroundWorker, bgw_main_arg), 400);
        assert_eq!(offset_of!(BackgroundWorker, bgw_extra), 408);
        assert_eq!(offset_of!(BackgroundWorker, bgw_notify_pid), 536);
    }

    #[test]
    fn sanitized_forces_terminator_and_ascii() {
        let mut w = BackgroundWorker::zeroed();
        for c in w.bgw_name.iter_mut() {
            *c = b'a' as c_char;
        }
        w.bgw_type[0] = 0x07;
        w.bgw_type[1] = b'x' as c_char;
        let s = w.sanitized();
        assert_eq!(s.name().len(), 95);
        assert_eq!(s.type_name(), "?x");
    }
}
