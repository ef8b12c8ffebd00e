//! Facts about the workers and the supervisor, published in the segment for
//! observers (`bgworkerctl status`): what state each slot's worker is in,
//! when it was registered, started and last exited, how it exited, how often
//! it started, who registered it; and daemon-wide facts.
//!
//! Nothing here takes part in the slot protocol of slots.rs, and the
//! supervisor never reads these facts to decide anything: they are a report,
//! kept beside the slots, that changes no PostgreSQL semantics.
//!
//! # Consistency without a lock (seqlock)
//!
//! Each [`SlotFacts`] (and the [`DaemonFacts`]) has exactly one writer, the
//! supervisor, and any number of readers in other processes. The writer makes
//! `seq` odd, stores the fields, then makes `seq` even again; a reader copies
//! the fields between two loads of `seq` and keeps the copy only if both
//! loads returned the same even number. The writer never waits for readers,
//! so a stalled or dead reader cannot delay the supervisor.
//!
//! Readers retry a bounded number of times ([`READ_ATTEMPTS`]): the segment
//! is writable by every attached process, so a `seq` left odd by a hostile or
//! broken process must produce "unreadable", not a hang. Every field is an
//! atomic (strings are packed into `AtomicU64` words), so a torn read is
//! detected by the sequence check and is never undefined behaviour; values
//! that pass the check are still validated by the reader (state in range,
//! strings NUL-forced and UTF-8-checked).

use std::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use crate::abi::*;

/// The slot's worker, as the supervisor last saw it.
pub const STATE_FREE: u32 = 0;
/// Registered, not started yet (waiting for its start phase or its turn).
pub const STATE_NOT_STARTED: u32 = 1;
pub const STATE_RUNNING: u32 = 2;
/// Exited and waiting to be started again: at `restart_at_ms`, or, when
/// that is 0, once the crash cycle under way has ended.
pub const STATE_RESTARTING: u32 = 3;
/// Asked to stop (terminate request or shutdown); its process still runs.
pub const STATE_TERMINATING: u32 = 4;
/// Unregistered: the slot is free again; the facts describe its last worker.
pub const STATE_STOPPED: u32 = 5;
/// Gave up (policy.rs, give-up limit): not restarted; the slot is kept
/// until the worker is terminated or relaunched.
pub const STATE_FAILED: u32 = 6;

/// Words of a packed policy (see `pack_policy`).
const POLICY_WORDS: usize = 12;

/// An effective policy as words: flags (1 backoff, 2 give-up, 4 start
/// timeout, 8 stop timeout, 16 watchdog, 32 watchdog action exit), then
/// backoff initial, cap, factor and jitter in thousandths, reset-after,
/// give-up restarts and window, start and stop timeouts, watchdog interval.
fn pack_policy(e: Option<&crate::policy::Effective>) -> [u32; POLICY_WORDS] {
    let mut w = [0u32; POLICY_WORDS];
    let Some(e) = e else {
        return w;
    };
    let milli = |v: f64| (v * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32;
    if let Some(b) = e.backoff {
        w[0] |= 1;
        w[1] = b.initial_ms;
        w[2] = b.cap_ms;
        w[3] = milli(b.factor);
        w[4] = milli(b.jitter);
        w[5] = b.reset_after_ms;
    }
    if let Some((n, win)) = e.give_up {
        w[0] |= 2;
        w[6] = n;
        w[7] = win;
    }
    if let Some(t) = e.start_timeout_ms {
        w[0] |= 4;
        w[8] = t;
    }
    if let Some(t) = e.stop_timeout_ms {
        w[0] |= 8;
        w[9] = t;
    }
    if let Some((t, a)) = e.watchdog {
        w[0] |= 16;
        if a == crate::policy::WatchdogAction::Exit1 {
            w[0] |= 32;
        }
        w[10] = t;
    }
    w
}

fn unpack_policy(w: &[u32; POLICY_WORDS]) -> Option<crate::policy::Effective> {
    use crate::policy::{Backoff, Effective, WatchdogAction};
    if w[0] == 0 {
        return None;
    }
    let has = |b: u32| w[0] & b != 0;
    Some(Effective {
        backoff: has(1).then(|| Backoff {
            initial_ms: w[1],
            cap_ms: w[2],
            factor: w[3] as f64 / 1000.0,
            jitter: w[4] as f64 / 1000.0,
            reset_after_ms: w[5],
        }),
        give_up: has(2).then_some((w[6], w[7])),
        start_timeout_ms: has(4).then_some(w[8]),
        stop_timeout_ms: has(8).then_some(w[9]),
        watchdog: has(16).then_some((
            w[10],
            if has(32) {
                WatchdogAction::Exit1
            } else {
                WatchdogAction::Crash
            },
        )),
    })
}

/// Words of a packed name (BGW_MAXLEN bytes).
const NAME_WORDS: usize = BGW_MAXLEN / 8;

/// How many times a reader tries for a consistent copy before it gives up.
pub(crate) const READ_ATTEMPTS: u32 = 10_000;

/// Daemon-wide facts. Written by the supervisor only (seqlock, see the
/// module comment); crash-restart count and phase live in the header
/// (`reinit_count`, `phase`), which the supervisor also writes alone.
#[repr(C)]
pub struct DaemonFacts {
    seq: AtomicU32,
    /// 0 none, else the shutdown mode (1 smart, 2 fast, 3 immediate).
    shutdown: AtomicU32,
    /// When the supervisor started, milliseconds since the Unix epoch.
    start_ms: AtomicU64,
    /// The PostgreSQL major the supervisor serves (identity::pg_major).
    major: AtomicU32,
    _pad: AtomicU32,
}

/// What the supervisor knows about one slot's worker (see the module
/// comment for who writes and how it is read).
#[repr(C)]
pub struct SlotFacts {
    seq: AtomicU32,
    state: AtomicU32,
    /// Generation of the slot's tenant these facts describe.
    generation: AtomicU64,
    /// Process of the last start, 0 if never started; it runs only while
    /// the state is running or terminating.
    pid: AtomicI32,
    /// Process that registered the worker (the supervisor itself for a
    /// static worker), 0 unknown.
    registrant: AtomicI32,
    starts: AtomicU32,
    /// 1 once the worker has exited at least once (then `exit_status` and
    /// `exit_crash` are meaningful).
    has_exit: AtomicU32,
    /// Raw wait(2) status of the last exit.
    exit_status: AtomicI32,
    /// 1 if the last exit was handled as a crash.
    exit_crash: AtomicU32,
    restart_time: AtomicI32,
    start_phase: AtomicU32,
    flags: AtomicI32,
    /// The PostgreSQL major the worker runs as (the supervisor's).
    major: AtomicU32,
    main_arg: AtomicU64,
    /// Times in milliseconds since the Unix epoch; 0 = never.
    registered_ms: AtomicU64,
    last_start_ms: AtomicU64,
    last_exit_ms: AtomicU64,
    /// Planned restart time while restarting; 0 = after the crash cycle.
    restart_at_ms: AtomicU64,
    /// Opt-in supervision (policy.rs): 1 once the current process said it
    /// is ready, and when; why the last exit happened (supervision.rs
    /// EXIT_*); the backoff step of the next restart; restarts counted in
    /// the give-up window.
    ready: AtomicU32,
    exit_reason: AtomicU32,
    ready_ms: AtomicU64,
    backoff_step: AtomicU32,
    window_restarts: AtomicU32,
    /// The policy the worker runs under (policy.rs Effective), packed by
    /// `pack_policy`; word 0 is 0 when nothing is configured.
    policy: [AtomicU32; POLICY_WORDS],
    name: [AtomicU64; NAME_WORDS],
    type_: [AtomicU64; NAME_WORDS],
    library: [AtomicU64; NAME_WORDS],
    function: [AtomicU64; NAME_WORDS],
}

/// A consistent copy of one slot's facts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerFacts {
    pub state: u32,
    pub generation: u64,
    pub pid: i32,
    pub registrant: i32,
    pub starts: u32,
    pub has_exit: bool,
    pub exit_status: i32,
    pub exit_crash: bool,
    pub restart_time: i32,
    pub start_phase: u32,
    pub flags: i32,
    /// The PostgreSQL major the worker runs as; 0 unknown.
    pub major: u32,
    pub main_arg: u64,
    pub registered_ms: u64,
    pub last_start_ms: u64,
    pub last_exit_ms: u64,
    pub restart_at_ms: u64,
    pub ready: bool,
    pub exit_reason: u32,
    pub ready_ms: u64,
    pub backoff_step: u32,
    pub window_restarts: u32,
    /// The policy it runs under; None: PostgreSQL's behaviour.
    pub policy: Option<crate::policy::Effective>,
    pub name: String,
    pub type_: String,
    pub library: String,
    pub function: String,
}

/// A consistent copy of the daemon-wide facts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DaemonSnapshot {
    pub shutdown: u32,
    pub start_ms: u64,
    /// The PostgreSQL major the supervisor serves.
    pub major: u32,
}

/// Why a consistent copy could not be had.
#[derive(Debug, PartialEq)]
pub enum ReadError {
    /// The sequence never settled (a writer that stopped mid-update, or a
    /// process scribbling on the segment).
    Unsettled,
    /// A consistent copy holds impossible values.
    Corrupt(String),
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Wall-clock milliseconds of a future monotonic instant.
pub fn instant_ms(at: Instant) -> u64 {
    let now = Instant::now();
    let base = now_ms();
    if at >= now {
        base + (at - now).as_millis() as u64
    } else {
        base.saturating_sub((now - at).as_millis() as u64)
    }
}

fn pack(words: &[AtomicU64; NAME_WORDS], s: &[std::os::raw::c_char; BGW_MAXLEN]) {
    for (i, w) in words.iter().enumerate() {
        let mut b = [0u8; 8];
        for (j, x) in b.iter_mut().enumerate() {
            *x = s[i * 8 + j] as u8;
        }
        w.store(u64::from_le_bytes(b), Ordering::Relaxed);
    }
}

fn unpack(words: &[AtomicU64; NAME_WORDS]) -> [u8; BGW_MAXLEN] {
    let mut out = [0u8; BGW_MAXLEN];
    for (i, w) in words.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    out
}

/// A packed name as text: up to the first NUL (forced at the end), with
/// anything that is not printable ASCII shown as '?'.
fn text_of(raw: &[u8; BGW_MAXLEN]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(BGW_MAXLEN - 1);
    raw[..end]
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// Bounded seqlock read: `copy` runs between the two loads of `seq`.
fn read_consistent<T>(seq: &AtomicU32, copy: impl Fn() -> T) -> Result<T, ReadError> {
    for attempt in 0..READ_ATTEMPTS {
        // Acquire pairs with the writer's Release store that made it even:
        // the fields it wrote before are visible to the copy.
        let s1 = seq.load(Ordering::Acquire);
        if s1 & 1 == 0 {
            let v = copy();
            // Orders the copy's loads before the second sequence load
            // (pairs with the writer's fence after making seq odd).
            fence(Ordering::Acquire);
            if seq.load(Ordering::Relaxed) == s1 {
                return Ok(v);
            }
        }
        if attempt % 64 == 63 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    Err(ReadError::Unsettled)
}

/// Writer side of the seqlock. Caller: the supervisor only.
fn write_consistent(seq: &AtomicU32, store: impl FnOnce()) {
    // The supervisor is the only writer, so its own last value is the
    // sequence's real value unless another process scribbled on it; force
    // it even first so that readers are not locked out for good by a
    // value left odd by someone else.
    let s = seq.load(Ordering::Relaxed) & !1;
    seq.store(s.wrapping_add(1), Ordering::Relaxed);
    // Makes the odd value visible before any field store (pairs with the
    // reader's Acquire fence).
    fence(Ordering::Release);
    store();
    // Release: the fields are visible to whoever sees the even value.
    seq.store(s.wrapping_add(2), Ordering::Release);
}

impl DaemonFacts {
    /// Supervisor only: record the start time and clear the rest.
    pub fn init(&self, start_ms: u64) {
        write_consistent(&self.seq, || {
            self.start_ms.store(start_ms, Ordering::Relaxed);
            self.shutdown.store(0, Ordering::Relaxed);
            self.major
                .store(crate::identity::pg_major(), Ordering::Relaxed);
        });
    }

    /// Supervisor only: a shutdown of `mode` began.
    pub fn set_shutdown(&self, mode: u32) {
        write_consistent(&self.seq, || self.shutdown.store(mode, Ordering::Relaxed));
    }

    pub fn read(&self) -> Result<DaemonSnapshot, ReadError> {
        let v = read_consistent(&self.seq, || DaemonSnapshot {
            shutdown: self.shutdown.load(Ordering::Relaxed),
            start_ms: self.start_ms.load(Ordering::Relaxed),
            major: self.major.load(Ordering::Relaxed),
        })?;
        if v.shutdown > 3 {
            return Err(ReadError::Corrupt(format!("shutdown mode {}", v.shutdown)));
        }
        Ok(v)
    }
}

impl SlotFacts {
    /// Supervisor only: store `f` as the slot's facts.
    pub fn store(&self, f: &WorkerFacts) {
        write_consistent(&self.seq, || self.store_fields(f));
    }

    fn store_fields(&self, f: &WorkerFacts) {
        self.state.store(f.state, Ordering::Relaxed);
        self.generation.store(f.generation, Ordering::Relaxed);
        self.pid.store(f.pid, Ordering::Relaxed);
        self.registrant.store(f.registrant, Ordering::Relaxed);
        self.starts.store(f.starts, Ordering::Relaxed);
        self.has_exit.store(f.has_exit as u32, Ordering::Relaxed);
        self.exit_status.store(f.exit_status, Ordering::Relaxed);
        self.exit_crash
            .store(f.exit_crash as u32, Ordering::Relaxed);
        self.restart_time.store(f.restart_time, Ordering::Relaxed);
        self.start_phase.store(f.start_phase, Ordering::Relaxed);
        self.flags.store(f.flags, Ordering::Relaxed);
        self.major.store(f.major, Ordering::Relaxed);
        self.main_arg.store(f.main_arg, Ordering::Relaxed);
        self.registered_ms.store(f.registered_ms, Ordering::Relaxed);
        self.last_start_ms.store(f.last_start_ms, Ordering::Relaxed);
        self.last_exit_ms.store(f.last_exit_ms, Ordering::Relaxed);
        self.restart_at_ms.store(f.restart_at_ms, Ordering::Relaxed);
        self.ready.store(f.ready as u32, Ordering::Relaxed);
        self.exit_reason.store(f.exit_reason, Ordering::Relaxed);
        self.ready_ms.store(f.ready_ms, Ordering::Relaxed);
        self.backoff_step.store(f.backoff_step, Ordering::Relaxed);
        self.window_restarts
            .store(f.window_restarts, Ordering::Relaxed);
        for (w, v) in self.policy.iter().zip(pack_policy(f.policy.as_ref())) {
            w.store(v, Ordering::Relaxed);
        }
    }

    /// Supervisor only: a worker was registered in this slot (generation
    /// `generation`, by process `registrant`). Resets every other fact.
    pub fn registered(&self, def: &BackgroundWorker, generation: u64, registrant: i32) {
        let f = WorkerFacts {
            state: STATE_NOT_STARTED,
            generation,
            registrant,
            restart_time: def.bgw_restart_time,
            start_phase: def.bgw_start_time,
            flags: def.bgw_flags,
            major: crate::identity::pg_major(),
            main_arg: def.bgw_main_arg as u64,
            registered_ms: now_ms(),
            ..WorkerFacts::default()
        };
        write_consistent(&self.seq, || {
            self.store_fields(&f);
            pack(&self.name, &def.bgw_name);
            pack(&self.type_, &def.bgw_type);
            // Observers see the first 95 bytes of a longer library name.
            let mut lib = [0 as std::os::raw::c_char; BGW_MAXLEN];
            lib.copy_from_slice(&def.bgw_library_name[..BGW_MAXLEN]);
            lib[BGW_MAXLEN - 1] = 0;
            pack(&self.library, &lib);
            pack(&self.function, &def.bgw_function_name);
        });
    }

    /// Supervisor only: change some facts of the current tenant. The
    /// supervisor is the only writer, so reading its own last values back
    /// needs no sequence check.
    pub fn update(&self, change: impl FnOnce(&mut WorkerFacts)) {
        let mut f = self.copy_fields();
        change(&mut f);
        self.store(&f);
    }

    /// Supervisor only: the worker's process `pid` was started.
    pub fn started(&self, pid: i32) {
        self.update(|f| {
            f.state = STATE_RUNNING;
            f.pid = pid;
            f.starts = f.starts.wrapping_add(1);
            f.last_start_ms = now_ms();
            f.restart_at_ms = 0;
            f.ready = false;
            f.ready_ms = 0;
        });
    }

    /// Supervisor only: the worker's process exited with wait status
    /// `status`; `crash` says whether it was handled as a crash. Until the
    /// supervisor decides more, the worker waits for a crash cycle.
    ///
    /// What comes next is part of the same update, so a reader never sees
    /// the exit without it: `stopped` (the worker is forgotten), or
    /// restarting at `restart_at_ms`, or (0) restarting once a crash cycle
    /// decides.
    pub fn exited(&self, status: i32, crash: bool, restart_at_ms: u64, stopped: bool) {
        self.update(|f| {
            f.state = if stopped {
                STATE_STOPPED
            } else {
                STATE_RESTARTING
            };
            f.has_exit = true;
            f.exit_status = status;
            f.exit_crash = crash;
            f.last_exit_ms = now_ms();
            f.restart_at_ms = if stopped { 0 } else { restart_at_ms };
        });
    }

    /// Supervisor only: the worker will be started again at `at_ms`.
    pub fn restart_at(&self, at_ms: u64) {
        self.update(|f| {
            f.state = STATE_RESTARTING;
            f.restart_at_ms = at_ms;
        });
    }

    /// Supervisor only: set the state alone (not started, terminating,
    /// stopped).
    pub fn set_state(&self, state: u32) {
        self.update(|f| {
            f.state = state;
            if state != STATE_RESTARTING {
                f.restart_at_ms = 0;
            }
        });
    }

    fn copy_fields(&self) -> WorkerFacts {
        WorkerFacts {
            state: self.state.load(Ordering::Relaxed),
            generation: self.generation.load(Ordering::Relaxed),
            pid: self.pid.load(Ordering::Relaxed),
            registrant: self.registrant.load(Ordering::Relaxed),
            starts: self.starts.load(Ordering::Relaxed),
            has_exit: self.has_exit.load(Ordering::Relaxed) != 0,
            exit_status: self.exit_status.load(Ordering::Relaxed),
            exit_crash: self.exit_crash.load(Ordering::Relaxed) != 0,
            restart_time: self.restart_time.load(Ordering::Relaxed),
            start_phase: self.start_phase.load(Ordering::Relaxed),
            flags: self.flags.load(Ordering::Relaxed),
            major: self.major.load(Ordering::Relaxed),
            main_arg: self.main_arg.load(Ordering::Relaxed),
            registered_ms: self.registered_ms.load(Ordering::Relaxed),
            last_start_ms: self.last_start_ms.load(Ordering::Relaxed),
            last_exit_ms: self.last_exit_ms.load(Ordering::Relaxed),
            restart_at_ms: self.restart_at_ms.load(Ordering::Relaxed),
            ready: self.ready.load(Ordering::Relaxed) != 0,
            exit_reason: self.exit_reason.load(Ordering::Relaxed),
            ready_ms: self.ready_ms.load(Ordering::Relaxed),
            backoff_step: self.backoff_step.load(Ordering::Relaxed),
            window_restarts: self.window_restarts.load(Ordering::Relaxed),
            policy: unpack_policy(&std::array::from_fn(|i| {
                self.policy[i].load(Ordering::Relaxed)
            })),
            name: String::new(),
            type_: String::new(),
            library: String::new(),
            function: String::new(),
        }
    }

    /// A consistent, validated copy (any process).
    pub fn read(&self) -> Result<WorkerFacts, ReadError> {
        let (mut f, names) = read_consistent(&self.seq, || {
            (
                self.copy_fields(),
                [
                    unpack(&self.name),
                    unpack(&self.type_),
                    unpack(&self.library),
                    unpack(&self.function),
                ],
            )
        })?;
        if f.state > STATE_FAILED {
            return Err(ReadError::Corrupt(format!("state {}", f.state)));
        }
        if f.pid < 0 || f.registrant < 0 {
            return Err(ReadError::Corrupt(format!(
                "pid {} / registrant {}",
                f.pid, f.registrant
            )));
        }
        f.name = text_of(&names[0]);
        f.type_ = text_of(&names[1]);
        f.library = text_of(&names[2]);
        f.function = text_of(&names[3]);
        Ok(f)
    }

    /// Make the sequence odd and leave it so, as a writer that died
    /// mid-update would (tests of readers' bounded retries).
    pub fn scribble_odd_sequence(&self) {
        self.seq.fetch_or(1, Ordering::SeqCst);
    }
}

/// Name of a state, as `bgworkerctl` shows it.
pub fn state_name(state: u32) -> &'static str {
    match state {
        STATE_FREE => "free",
        STATE_NOT_STARTED => "not started",
        STATE_RUNNING => "running",
        STATE_RESTARTING => "restarting",
        STATE_TERMINATING => "terminating",
        STATE_FAILED => "failed",
        _ => "stopped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::Segment;

    fn def(name: &str) -> BackgroundWorker {
        let mut w = BackgroundWorker::zeroed();
        set_fixed_str(&mut w.bgw_name, name);
        set_fixed_str(&mut w.bgw_type, "t");
        set_fixed_str(&mut w.bgw_library_name, "lib");
        set_fixed_str(&mut w.bgw_function_name, "f");
        w.bgw_restart_time = 3;
        w
    }

    #[test]
    fn life_of_a_slot() {
        let seg = Segment::create(2, 2).unwrap();
        seg.unlink();
        let f = seg.slot_facts(1);
        assert_eq!(f.read().unwrap().state, STATE_FREE);
        f.registered(&def("w"), 7, 42);
        let r = f.read().unwrap();
        assert_eq!(
            (r.state, r.generation, r.registrant, r.starts),
            (STATE_NOT_STARTED, 7, 42, 0)
        );
        assert_eq!(
            (
                r.name.as_str(),
                r.type_.as_str(),
                r.library.as_str(),
                r.function.as_str()
            ),
            ("w", "t", "lib", "f")
        );
        f.started(100);
        f.exited(11, true, 0, false);
        let r = f.read().unwrap();
        assert_eq!(
            (r.state, r.pid, r.exit_status, r.exit_crash, r.restart_at_ms),
            (STATE_RESTARTING, 100, 11, true, 0)
        );
        f.restart_at(5);
        f.started(101);
        let r = f.read().unwrap();
        assert_eq!(
            (r.state, r.pid, r.starts, r.restart_at_ms, r.name.as_str()),
            (STATE_RUNNING, 101, 2, 0, "w")
        );
        f.set_state(STATE_STOPPED);
        assert_eq!(f.read().unwrap().state, STATE_STOPPED);
    }

    #[test]
    fn the_effective_policy_round_trips_through_the_facts() {
        use crate::policy::{Effective, Policy, WatchdogAction};
        let seg = Segment::create(1, 1).unwrap();
        seg.unlink();
        let f = seg.slot_facts(0);
        f.registered(&def("w"), 1, 1);
        assert_eq!(f.read().unwrap().policy, None);
        let p = Policy {
            backoff_initial_ms: Some(250),
            backoff_factor: Some(1.5),
            backoff_jitter: Some(0.25),
            give_up_restarts: Some(4),
            stop_timeout_ms: Some(900),
            watchdog_ms: Some(300),
            watchdog_action: Some(WatchdogAction::Exit1),
            ..Policy::default()
        };
        let e = Effective::merge(&p, None, &Policy::default());
        f.update(|x| x.policy = Some(e));
        f.started(9);
        assert_eq!(f.read().unwrap().policy, Some(e));
    }

    #[test]
    fn readers_give_up_on_a_stuck_sequence_and_reject_garbage() {
        let seg = Segment::create(1, 1).unwrap();
        seg.unlink();
        let f = seg.slot_facts(0);
        f.registered(&def("w"), 1, 1);
        f.scribble_odd_sequence();
        assert_eq!(f.read(), Err(ReadError::Unsettled));
        // The supervisor's next write repairs it.
        f.started(5);
        assert_eq!(f.read().unwrap().pid, 5);
        f.state.store(99, Ordering::Relaxed);
        assert!(matches!(f.read(), Err(ReadError::Corrupt(_))));
    }

    #[test]
    fn concurrent_reader_sees_only_whole_updates() {
        use std::sync::atomic::AtomicBool;
        use std::sync::{Arc, Barrier};
        let seg = Arc::new(Segment::create(1, 1).unwrap());
        seg.unlink();
        seg.slot_facts(0).registered(&def("w"), 1, 1);
        // The writer keeps writing until the reader has made enough settled
        // reads showing at least two different updates: those reads happened
        // while the writer was known to be mid-stream. Then one more read
        // after the writer has finished must see its last update.
        let enough = Arc::new(AtomicBool::new(false));
        let start = Arc::new(Barrier::new(2));
        let (s2, enough2, start2) = (Arc::clone(&seg), Arc::clone(&enough), Arc::clone(&start));
        let writer = std::thread::spawn(move || {
            let deadline = Instant::now() + std::time::Duration::from_secs(60);
            start2.wait();
            let mut i = 0;
            while !enough2.load(Ordering::Acquire) {
                assert!(Instant::now() < deadline, "reader never got settled reads");
                i += 1;
                // pid and starts always move together
                s2.slot_facts(0).update(|f| {
                    f.pid = i;
                    f.starts = i as u32;
                });
            }
            i
        });
        start.wait();
        let (mut seen, mut values) = (0, std::collections::BTreeSet::new());
        while seen < 200 || values.len() < 2 {
            if let Ok(r) = seg.slot_facts(0).read() {
                assert_eq!(r.pid as u32, r.starts, "torn read");
                seen += 1;
                values.insert(r.pid);
            }
        }
        enough.store(true, Ordering::Release);
        let last = writer.join().unwrap();
        let r = seg
            .slot_facts(0)
            .read()
            .expect("settled read after the writer");
        assert_eq!((r.pid, r.starts), (last, last as u32));
    }
}
