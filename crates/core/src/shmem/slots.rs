//! The slot array and its hand-off protocol.
//!
//! Layout of the segment: a [`Header`], a bitmap of "pending" slot numbers,
//! `total_slots` [`Slot`]s, then the observers' facts (facts.rs): one
//! [`DaemonFacts`] and `total_slots` [`SlotFacts`], then `total_slots`
//! [`SlotSupervision`]s (supervision.rs: the opt-in supervision's words).
//!
//! # Ownership hand-off
//!
//! The supervisor must never wait on a lock held by another process, nor
//! trust what other processes wrote: a crashed or hostile backend must not be
//! able to wedge or crash it. So a slot is owned by one side at a time, and
//! `in_use` hands it over:
//!
//! * `in_use == 0`: the slot belongs to the backends. The supervisor looks at
//!   nothing but `in_use`. A backend holding the backend lock may fill the
//!   slot: definition, `pid = -1`, `terminate = 0`, `generation + 1`,
//!   `registrant` (its pid, for observers only), and then publishes it
//!   with `in_use.store(1, Release)`.
//! * `in_use == 1`: the slot belongs to the supervisor, which reads it with
//!   `in_use.load(Acquire)` (pairing with the store above) and copies the
//!   definition once, paranoidly (bounded, NUL-forced, ASCII-only). From now
//!   on backends may only set `terminate`; `pid` is written by the supervisor
//!   alone (-1 not started yet, 0 dead, else the worker's pid), with Release
//!   stores that readers pair with Acquire loads.
//! * The supervisor gives the slot back with `in_use.store(0, Release)` after
//!   its last write (the parallel counter). It leaves `pid` as it was: a
//!   free slot reads "stopped" whatever its pid, so a waiter that sees
//!   "stopped" finds the slot already free.
//!
//! A handle is `(slot, generation)`. The generation changes only while a
//! backend owns the slot, and always before it publishes `in_use`, so a
//! reader that sees the same generation before and after reading `pid`
//! knows the pid belongs to its own worker: a stale handle reads
//! `BGWH_STOPPED` and can never terminate the slot's next tenant.
//!
//! Backends serialise among themselves with `backend_lock`, a word holding
//! the thread id and start time of its holder. A waiter that finds the
//! holder gone (the process died mid-operation: no such task, a zombie, or
//! the thread id reused by another task) takes the lock over; since a slot becomes
//! visible to the supervisor only at the final `in_use` store, a half-filled
//! slot left by a dead holder is still free.
//!
//! After changing a slot a backend sets the slot's bit in the pending bitmap
//! (still under the lock, so a holder's death cannot separate the change
//! from its mark; a waiter taking over a dead holder's lock marks every
//! slot) and sends SIGUSR1 to the supervisor, which then examines only the
//! slots whose bits it clears (plus a full scan when it is woken with none
//! set).
//! The supervisor bumps `change_seq` after each batch of changes to `pid` or
//! `in_use` and wakes the futex waiters on it (see backend.rs), so waiting
//! never depends on `bgw_notify_pid`.

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use super::facts::{DaemonFacts, SlotFacts};
use super::supervision::SlotSupervision;
use crate::abi::*;

pub const MAGIC: u64 = u64::from_le_bytes(*b"BGWSEG15");
/// 4: the supervision words per slot, the daemon's incarnation, facts of
/// readiness and exit reasons.
pub const LAYOUT_VERSION: u32 = 4;

/// Start of the segment. Written once by the supervisor at creation, except
/// the counters and words documented below.
#[repr(C)]
pub struct Header {
    pub magic: AtomicU64,
    pub version: AtomicU32,
    pub header_size: AtomicU32,
    pub slot_size: AtomicU32,
    pub total_slots: AtomicI32,
    pub segment_size: AtomicU64,
    /// The supervisor's pid (set at creation).
    pub supervisor_pid: AtomicI32,
    pub max_parallel_workers: AtomicI32,
    /// Parallel workers registered: incremented by a backend, holding the
    /// backend lock, before it publishes the parallel slot (`in_use`
    /// Release), as PostgreSQL does.
    pub parallel_register_count: AtomicU32,
    /// Parallel workers given back: incremented by the supervisor alone,
    /// exactly once for each published parallel slot it frees (forgotten,
    /// or rejected at intake), before the slot's `in_use` store of 0, and
    /// never otherwise (not at a crash reset).
    ///
    /// Invariant: every published parallel slot was counted before the
    /// supervisor could see it, and is given back once, so
    /// `register - terminate` (wrapping) is the number of parallel slots
    /// counted and not yet freed: never negative, so it never wraps. A
    /// backend that dies holding the lock between its count and its
    /// publication leaves the count one too high; the backend that takes
    /// the lock over lowers it again (backend.rs, repair_parallel_count).
    pub parallel_terminate_count: AtomicU32,
    /// Holder of the backend lock (thread id, and start time in the high
    /// half; see backend.rs), or 0.
    pub backend_lock: AtomicU64,
    /// Futex word: bumped by the supervisor after slot state changes.
    pub change_seq: AtomicU32,
    /// Number of threads sleeping on `change_seq` (an over-count only costs
    /// the supervisor a spare wake-up call).
    pub waiters: AtomicU32,
    /// Times the supervisor reinitialised the segment after a crash.
    pub reinit_count: AtomicU32,
    /// Current start phase (BgWorkerStartTime value reached).
    pub phase: AtomicU32,
    /// Set by the supervisor when it stops supervising (its process may
    /// live on, in an embedding host).
    pub supervisor_exited: AtomicU32,
    /// A random number the supervisor draws at creation: handles carry it,
    /// so that a handle of another daemon is told from one of this one.
    pub incarnation: AtomicU64,
    _reserved: [AtomicU32; 2],
}

/// One worker slot (see the module comment for who may write what).
#[repr(C)]
pub struct Slot {
    pub in_use: AtomicU32,
    pub terminate: AtomicU32,
    /// While in use: -1 not started yet, 0 not running, else the worker's
    /// pid. Meaningless while free.
    pub pid: AtomicI32,
    /// Process that filled the slot: written by the backend with the rest
    /// of the definition, before it publishes `in_use`; read by the
    /// supervisor for the facts only (never trusted).
    pub registrant: AtomicI32,
    pub generation: AtomicU64,
    /// The definition, packed into atomic words (see `WorkerWords`): a
    /// misbehaving process may write it while the supervisor copies it, and
    /// with atomic words that is a race on values, never undefined
    /// behaviour; the copy is sanitised before use.
    worker: WorkerWords,
}

const NAME_WORDS: usize = BGW_MAXLEN / 8;
const LIBRARY_WORDS: usize = MAXPGPATH / 8;
const EXTRA_WORDS: usize = BGW_EXTRALEN / 8;

/// A definition in its neutral form (abi.rs) as words: the four names
/// (the library name MAXPGPATH bytes, as PostgreSQL 17's and 18's) and
/// bgw_extra byte for byte (little-endian), then `bgw_flags |
/// bgw_start_time << 32`, `bgw_restart_time | bgw_notify_pid << 32`,
/// `bgw_main_arg` and the major of the caller that made it. Field by field,
/// so that no padding is ever read.
#[repr(C)]
struct WorkerWords {
    name: [AtomicU64; NAME_WORDS],
    type_: [AtomicU64; NAME_WORDS],
    library: [AtomicU64; LIBRARY_WORDS],
    function: [AtomicU64; NAME_WORDS],
    extra: [AtomicU64; EXTRA_WORDS],
    flags_start: AtomicU64,
    restart_notify: AtomicU64,
    main_arg: AtomicU64,
    major: AtomicU64,
}

const _: () = assert!(LIBRARY_WORDS * 8 == MAXPGPATH && NAME_WORDS * 8 == BGW_MAXLEN);

fn pack<const N: usize>(words: &[AtomicU64], bytes: &[std::os::raw::c_char; N]) {
    for (w, chunk) in words.iter().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        for (x, c) in b.iter_mut().zip(chunk) {
            *x = *c as u8;
        }
        w.store(u64::from_le_bytes(b), Ordering::Relaxed);
    }
}

fn unpack<const N: usize>(words: &[AtomicU64], bytes: &mut [std::os::raw::c_char; N]) {
    for (w, chunk) in words.iter().zip(bytes.chunks_exact_mut(8)) {
        for (c, x) in chunk
            .iter_mut()
            .zip(w.load(Ordering::Relaxed).to_le_bytes())
        {
            *c = x as std::os::raw::c_char;
        }
    }
}

fn lo_hi(lo: u32, hi: u32) -> u64 {
    lo as u64 | (hi as u64) << 32
}

pub const PID_NOT_STARTED: i32 = -1;

pub fn pending_offset() -> usize {
    std::mem::size_of::<Header>()
}

pub fn pending_words(total_slots: usize) -> usize {
    total_slots.div_ceil(64).max(1)
}

pub fn slots_offset(total_slots: usize) -> usize {
    pending_offset() + pending_words(total_slots) * 8
}

pub fn daemon_facts_offset(total_slots: usize) -> usize {
    slots_offset(total_slots) + total_slots * std::mem::size_of::<Slot>()
}

pub fn slot_facts_offset(total_slots: usize) -> usize {
    daemon_facts_offset(total_slots) + std::mem::size_of::<DaemonFacts>()
}

pub fn supervision_offset(total_slots: usize) -> usize {
    slot_facts_offset(total_slots) + total_slots * std::mem::size_of::<SlotFacts>()
}

pub fn segment_size(total_slots: usize) -> usize {
    supervision_offset(total_slots) + total_slots * std::mem::size_of::<SlotSupervision>()
}

/// A random number (getrandom; the time and `pid` if that fails), never 0.
fn random_u64(pid: i32) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, libc::GRND_NONBLOCK) };
    let r = if n == 8 {
        u64::from_le_bytes(b)
    } else {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ (pid as u64).rotate_left(32)
    };
    r.max(1)
}

/// Upper bound on slots (PostgreSQL's MAX_BACKENDS for max_worker_processes).
pub const MAX_SLOTS: usize = 262_143;

impl Header {
    pub(super) fn init(&self, total_slots: usize, size: usize, pid: i32, max_parallel: i32) {
        self.version.store(LAYOUT_VERSION, Ordering::Relaxed);
        self.header_size
            .store(std::mem::size_of::<Header>() as u32, Ordering::Relaxed);
        self.slot_size
            .store(std::mem::size_of::<Slot>() as u32, Ordering::Relaxed);
        self.total_slots
            .store(total_slots as i32, Ordering::Relaxed);
        self.segment_size.store(size as u64, Ordering::Relaxed);
        self.supervisor_pid.store(pid, Ordering::Relaxed);
        self.max_parallel_workers
            .store(max_parallel, Ordering::Relaxed);
        self.incarnation.store(random_u64(pid), Ordering::Relaxed);
        // Publishes everything above to anyone who checks the magic.
        self.magic.store(MAGIC, Ordering::Release);
    }

    /// Check a header found in a mapping of `size` bytes; returns the slot
    /// count on success, a description of the damage otherwise.
    pub fn validate(&self, size: usize) -> Result<usize, String> {
        if self.magic.load(Ordering::Acquire) != MAGIC {
            return Err("bad magic number".into());
        }
        let v = self.version.load(Ordering::Relaxed);
        if v != LAYOUT_VERSION {
            return Err(format!("layout version {v}, expected {LAYOUT_VERSION}"));
        }
        if self.header_size.load(Ordering::Relaxed) as usize != std::mem::size_of::<Header>()
            || self.slot_size.load(Ordering::Relaxed) as usize != std::mem::size_of::<Slot>()
        {
            return Err("header or slot size does not match this library".into());
        }
        let total = self.total_slots.load(Ordering::Relaxed);
        if total < 0 || total as usize > MAX_SLOTS {
            return Err(format!("invalid slot count {total}"));
        }
        let total = total as usize;
        let need = segment_size(total);
        if need > size || self.segment_size.load(Ordering::Relaxed) as usize != need {
            return Err(format!(
                "{total} slots need {need} bytes, the segment has {size}"
            ));
        }
        if self.supervisor_pid.load(Ordering::Relaxed) <= 0 {
            return Err("invalid supervisor pid".into());
        }
        Ok(total)
    }

    /// Parallel workers currently registered (wrapping difference).
    pub fn parallel_in_use(&self) -> u32 {
        self.parallel_register_count
            .load(Ordering::Acquire)
            .wrapping_sub(self.parallel_terminate_count.load(Ordering::Acquire))
    }
}

impl Slot {
    /// Copy of the definition. Only meaningful while the caller owns the
    /// slot or the slot is in use (definition immutable). Relaxed loads:
    /// the caller's Acquire load of `in_use` (or its ownership) orders them
    /// after the writer's stores; a misbehaving process writing at the same
    /// time yields a mix of words, which the reader sanitises.
    pub fn read_worker(&self) -> BackgroundWorker {
        let d = &self.worker;
        let mut w = BackgroundWorker::zeroed();
        unpack(&d.name, &mut w.bgw_name);
        unpack(&d.type_, &mut w.bgw_type);
        unpack(&d.library, &mut w.bgw_library_name);
        unpack(&d.function, &mut w.bgw_function_name);
        unpack(&d.extra, &mut w.bgw_extra);
        let fs = d.flags_start.load(Ordering::Relaxed);
        w.bgw_flags = fs as u32 as i32;
        w.bgw_start_time = (fs >> 32) as u32;
        let rn = d.restart_notify.load(Ordering::Relaxed);
        w.bgw_restart_time = rn as u32 as i32;
        w.bgw_notify_pid = (rn >> 32) as u32 as i32;
        w.bgw_main_arg = d.main_arg.load(Ordering::Relaxed) as usize;
        w.bgw_major = d.major.load(Ordering::Relaxed) as u32;
        w
    }

    /// Store a definition. Callers: a backend owning the free slot under the
    /// backend lock, or the supervisor (re)initialising the segment; both
    /// publish it afterwards with a Release store of `in_use`.
    pub fn write_worker(&self, w: &BackgroundWorker) {
        let d = &self.worker;
        pack(&d.name, &w.bgw_name);
        pack(&d.type_, &w.bgw_type);
        pack(&d.library, &w.bgw_library_name);
        pack(&d.function, &w.bgw_function_name);
        pack(&d.extra, &w.bgw_extra);
        d.flags_start.store(
            lo_hi(w.bgw_flags as u32, w.bgw_start_time),
            Ordering::Relaxed,
        );
        d.restart_notify.store(
            lo_hi(w.bgw_restart_time as u32, w.bgw_notify_pid as u32),
            Ordering::Relaxed,
        );
        d.main_arg.store(w.bgw_main_arg as u64, Ordering::Relaxed);
        d.major.store(w.bgw_major as u64, Ordering::Relaxed);
    }

    /// Status of the worker behind handle `(self, generation)`, as
    /// `GetBackgroundWorkerPid` reports it. Lock-free: the generation read
    /// before and after `pid` tells whether the slot changed tenant.
    pub fn status(&self, generation: u64) -> (BgwHandleStatus, i32) {
        let g1 = self.generation.load(Ordering::Acquire);
        let in_use = self.in_use.load(Ordering::Acquire);
        let pid = self.pid.load(Ordering::Acquire);
        let g2 = self.generation.load(Ordering::Acquire);
        if g1 != generation || g2 != generation || in_use == 0 || pid == 0 {
            (BGWH_STOPPED, 0)
        } else if pid == PID_NOT_STARTED {
            (BGWH_NOT_YET_STARTED, 0)
        } else {
            (BGWH_STARTED, pid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::Segment;

    fn def(name: &str) -> BackgroundWorker {
        let mut w = BackgroundWorker::zeroed();
        set_fixed_str(&mut w.bgw_name, name);
        w.bgw_flags = BGWORKER_SHMEM_ACCESS;
        w
    }

    #[test]
    fn layout_is_stable() {
        // 24 bytes of state, 3 names of 96 bytes, a MAXPGPATH library
        // name, bgw_extra and 4 words.
        assert_eq!(std::mem::size_of::<Slot>(), 24 + 3 * 96 + 1024 + 128 + 32);
        assert_eq!(std::mem::size_of::<Header>() % 8, 0);
        assert_eq!(daemon_facts_offset(64), slots_offset(64) + 64 * 1496);
        assert_eq!(std::mem::size_of::<DaemonFacts>() % 8, 0);
        assert_eq!(std::mem::size_of::<SlotFacts>() % 8, 0);
        assert_eq!(
            supervision_offset(64),
            slot_facts_offset(64) + 64 * std::mem::size_of::<SlotFacts>()
        );
        assert_eq!(std::mem::size_of::<SlotSupervision>() % 8, 0);
        assert_eq!(
            segment_size(64),
            supervision_offset(64) + 64 * std::mem::size_of::<SlotSupervision>()
        );
    }

    /// A process may write a slot's definition while another reads it (a
    /// misbehaving backend writing a published slot): defined behaviour,
    /// and the reader gets one writer's word or the other's. Undefined
    /// behaviour here would not show in an ordinary run: run this test under
    /// Miri (`cargo +nightly miri test --lib definition_written`), which
    /// reported a data race for the former UnsafeCell copy; the assertions
    /// check the copy itself.
    #[test]
    fn definition_written_while_read_is_race_free() {
        // Shared as the segment shares it between processes.
        struct Shared(Slot);
        // SAFETY: the segment hands out &Slot to every thread the same way
        // (Segment is Sync); this is the sharing under test.
        unsafe impl Sync for Shared {}
        impl std::ops::Deref for Shared {
            type Target = Slot;
            fn deref(&self) -> &Slot {
                &self.0
            }
        }
        // SAFETY: every field of Slot is an atomic integer or integer
        // words, for which all-zero bytes are a valid value.
        let slot = std::sync::Arc::new(Shared(unsafe {
            std::mem::MaybeUninit::<Slot>::zeroed().assume_init()
        }));
        let (a, b) = (def("a"), def("b"));
        let s2 = std::sync::Arc::clone(&slot);
        let writer = std::thread::spawn(move || {
            for i in 0..200 {
                s2.write_worker(if i % 2 == 0 { &a } else { &b });
            }
        });
        let mut seen = 0;
        while !writer.is_finished() || seen == 0 {
            let w = slot.read_worker();
            let name = w.name();
            assert!(["", "a", "b"].contains(&name.as_str()), "{name:?}");
            assert!(w.bgw_flags == 0 || w.bgw_flags == BGWORKER_SHMEM_ACCESS);
            seen += 1;
        }
        writer.join().unwrap();
        let w = slot.read_worker();
        assert_eq!(
            (w.name().as_str(), w.bgw_flags),
            ("b", BGWORKER_SHMEM_ACCESS)
        );
    }

    #[test]
    fn definition_round_trips_every_field() {
        let seg = Segment::create(1, 1).unwrap();
        seg.unlink();
        let mut w = def("name");
        set_fixed_str(&mut w.bgw_type, "type");
        // A PostgreSQL 17 caller's library name, longer than 15's field.
        let library = format!("/{}/library.so", "l".repeat(900));
        set_fixed_str(&mut w.bgw_library_name, &library);
        w.bgw_major = 17;
        set_fixed_str(&mut w.bgw_function_name, "function");
        w.bgw_extra = [-3; BGW_EXTRALEN];
        w.bgw_flags = -7;
        w.bgw_start_time = BgWorkerStart_RecoveryFinished;
        w.bgw_restart_time = BGW_NEVER_RESTART;
        w.bgw_notify_pid = -12345;
        w.bgw_main_arg = usize::MAX - 1;
        seg.slot(0).write_worker(&w);
        let r = seg.slot(0).read_worker();
        assert_eq!(
            (r.name(), r.type_name(), r.library(), r.function()),
            ("name".into(), "type".into(), library, "function".into())
        );
        assert_eq!(r.major(), 17);
        assert_eq!(r.bgw_extra, w.bgw_extra);
        assert_eq!(
            (
                r.bgw_flags,
                r.bgw_start_time,
                r.bgw_restart_time,
                r.bgw_notify_pid,
                r.bgw_main_arg
            ),
            (
                -7,
                BgWorkerStart_RecoveryFinished,
                BGW_NEVER_RESTART,
                -12345,
                usize::MAX - 1
            )
        );
    }

    #[test]
    fn handle_generation_protocol() {
        let seg = Segment::create(2, 2).unwrap();
        let s = seg.slot(0);
        // backend fills and publishes
        s.write_worker(&def("a"));
        s.pid.store(PID_NOT_STARTED, Ordering::Relaxed);
        let g = s.generation.fetch_add(1, Ordering::Relaxed) + 1;
        s.in_use.store(1, Ordering::Release);
        assert_eq!(s.status(g), (BGWH_NOT_YET_STARTED, 0));
        s.pid.store(4242, Ordering::Release);
        assert_eq!(s.status(g), (BGWH_STARTED, 4242));
        // supervisor reports exit and frees
        s.pid.store(0, Ordering::Release);
        s.in_use.store(0, Ordering::Release);
        assert_eq!(s.status(g), (BGWH_STOPPED, 0));
        // a new tenant: the old handle stays stopped
        s.generation.fetch_add(1, Ordering::Relaxed);
        s.pid.store(PID_NOT_STARTED, Ordering::Release);
        s.in_use.store(1, Ordering::Release);
        assert_eq!(s.status(g), (BGWH_STOPPED, 0));
        assert_eq!(s.status(g + 1), (BGWH_NOT_YET_STARTED, 0));
        seg.unlink();
    }

    #[test]
    fn attach_validates_header() {
        let seg = Segment::create(3, 1).unwrap();
        let other = Segment::attach(seg.name()).unwrap();
        assert_eq!(other.total_slots(), 3);
        other
            .header()
            .total_slots
            .store(1_000_000, Ordering::Relaxed);
        let e = Segment::attach(seg.name())
            .err()
            .expect("corrupt slot count accepted");
        assert!(e.0.contains("is corrupt"), "{}", e.0);
        other.header().total_slots.store(3, Ordering::Relaxed);
        other.header().magic.store(0, Ordering::Relaxed);
        let e = Segment::attach(seg.name())
            .err()
            .expect("bad magic accepted");
        assert!(e.0.contains("bad magic"), "{}", e.0);
        seg.unlink();
        assert!(Segment::attach(seg.name()).is_err());
    }
}
