//! Per-slot words of the opt-in supervision (policy.rs): the worker's own
//! policy, its readiness and watchdog check-ins, relaunch requests, what
//! waiters for readiness read, and the exit records kept per generation.
//!
//! Who writes what (nothing here is trusted by the supervisor beyond the
//! checks named):
//!
//! * **policy** (`policy_*`): a backend, holding the backend lock, for the
//!   tenant of generation `policy_gen` (written under `policy_seq`, a
//!   seqlock whose writers the lock serialises). The supervisor copies it
//!   when the slot is marked, keeps it only if `policy_gen` is its worker's
//!   generation, and validates it again (policy.rs).
//! * **ready_pid**, **checkin_pid/checkin_ms**: the worker's own process
//!   (its pid, and the monotonic clock in ms). The supervisor clears them
//!   before each fork and believes them only when the pid is the one it
//!   forked; a check-in time is clamped to what the supervisor has seen.
//! * **relaunch_seq**: a backend, holding the backend lock, after checking
//!   that the slot's generation is its handle's; the supervisor acts on a
//!   change only for a failed worker.
//! * **readiness for waiters** (`rd_*`, seqlock `rd_seq`) and the **exit
//!   records** (seqlock `ex_seq`): the supervisor alone; readers retry a
//!   bounded number of times (as facts.rs).

use std::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, Ordering};

use crate::policy::{Policy, WatchdogAction};

/// Exit records kept per slot (the last generations' last exits).
pub const EXIT_RECORDS: usize = 4;

/// Readiness, as waiters read it (`rd_state`).
pub const RD_NONE: u32 = 0;
pub const RD_READY: u32 = 1;
/// The last process exited before it was ready.
pub const RD_EXITED: u32 = 2;
/// The last process was killed for its start timeout.
pub const RD_START_TIMEOUT: u32 = 3;

/// Exit reasons (BGW_EXIT_* of include/bgworker_supervision.h).
pub const EXIT_NORMAL: u32 = 0;
pub const EXIT_CRASH: u32 = 1;
pub const EXIT_START_TIMEOUT: u32 = 2;
pub const EXIT_STOP_TIMEOUT: u32 = 3;
pub const EXIT_WATCHDOG: u32 = 4;
pub const EXIT_STOPPED: u32 = 5;

pub fn exit_reason_name(r: u32) -> &'static str {
    match r {
        EXIT_NORMAL => "normal",
        EXIT_CRASH => "crash",
        EXIT_START_TIMEOUT => "start timeout",
        EXIT_STOP_TIMEOUT => "stop timeout",
        EXIT_WATCHDOG => "watchdog",
        EXIT_STOPPED => "stopped",
        _ => "unknown",
    }
}

/// Bits of `policy_set` (BGW_POLICY_* of the header).
pub const P_BACKOFF_INITIAL: u32 = 1 << 0;
pub const P_BACKOFF_FACTOR: u32 = 1 << 1;
pub const P_BACKOFF_CAP: u32 = 1 << 2;
pub const P_BACKOFF_JITTER: u32 = 1 << 3;
pub const P_BACKOFF_RESET_AFTER: u32 = 1 << 4;
pub const P_GIVE_UP_RESTARTS: u32 = 1 << 5;
pub const P_GIVE_UP_WINDOW: u32 = 1 << 6;
pub const P_START_TIMEOUT: u32 = 1 << 7;
pub const P_STOP_TIMEOUT: u32 = 1 << 8;
pub const P_WATCHDOG_INTERVAL: u32 = 1 << 9;
pub const P_WATCHDOG_ACTION: u32 = 1 << 10;
pub const P_ALL: u32 = (1 << 11) - 1;

const POLICY_WORDS: usize = 11;

#[repr(C)]
struct ExitWords {
    generation: AtomicU64,
    time_ms: AtomicU64,
    status: AtomicI32,
    /// bit 0 exited, bit 1 crash, bit 2 ready at exit, bit 3 valid
    flags: AtomicU32,
    reason: AtomicU32,
    starts: AtomicU32,
}

/// One exit record, as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitRecord {
    pub generation: u64,
    pub exited: bool,
    /// Raw wait(2) status.
    pub status: i32,
    pub crash: bool,
    pub ready: bool,
    pub reason: u32,
    pub starts: u32,
    pub time_ms: u64,
}

/// What waiters for readiness read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub generation: u64,
    pub state: u32,
    /// Attempts that ended before ready in this generation.
    pub unready_exits: u32,
    /// The pid that became ready (state RD_READY).
    pub pid: i32,
}

#[repr(C)]
pub struct SlotSupervision {
    policy_seq: AtomicU32,
    policy_set: AtomicU32,
    policy_gen: AtomicU64,
    /// backoff_initial, cap, factor (thousandths), jitter (thousandths),
    /// reset_after, give_up_restarts (i32), give_up_window, start_timeout,
    /// stop_timeout, watchdog interval, watchdog action.
    policy: [AtomicU32; POLICY_WORDS],
    relaunch_seq: AtomicU32,
    pub ready_pid: AtomicI32,
    pub checkin_pid: AtomicI32,
    pub checkin_ms: AtomicU64,
    rd_seq: AtomicU32,
    rd_state: AtomicU32,
    rd_gen: AtomicU64,
    rd_unready: AtomicU32,
    rd_pid: AtomicI32,
    ex_seq: AtomicU32,
    _pad: AtomicU32,
    exits: [ExitWords; EXIT_RECORDS],
}

/// Bounded seqlock read (as facts.rs).
fn read_consistent<T>(seq: &AtomicU32, copy: impl Fn() -> T) -> Option<T> {
    for attempt in 0..super::facts::READ_ATTEMPTS {
        let s1 = seq.load(Ordering::Acquire);
        if s1 & 1 == 0 {
            let v = copy();
            fence(Ordering::Acquire);
            if seq.load(Ordering::Relaxed) == s1 {
                return Some(v);
            }
        }
        if attempt % 64 == 63 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    None
}

/// Seqlock write; callers are serialised (the supervisor alone, or
/// backends under the backend lock). A value left odd by a dead or hostile
/// writer is forced even first.
fn write_consistent(seq: &AtomicU32, store: impl FnOnce()) {
    let s = seq.load(Ordering::Relaxed) & !1;
    seq.store(s.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
    store();
    seq.store(s.wrapping_add(2), Ordering::Release);
}

fn milli(v: f64) -> u32 {
    (v * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32
}

/// The current monotonic clock in milliseconds (CLOCK_MONOTONIC is the
/// same clock in every process of the machine).
pub fn monotonic_ms() -> u64 {
    // SAFETY: timespec is plain data; clock_gettime fills it.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) } != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
}

impl SlotSupervision {
    /// Backend, holding the backend lock (or the supervisor before it
    /// publishes a static worker): set the fields of `p` that are given for
    /// the tenant of `generation`; a policy of another generation is
    /// replaced, not merged.
    pub fn write_policy(&self, generation: u64, p: &Policy) {
        let old_gen = self.policy_gen.load(Ordering::Relaxed);
        let mut set = if old_gen == generation {
            self.policy_set.load(Ordering::Relaxed) & P_ALL
        } else {
            0
        };
        let w = |i: usize, v: u32| self.policy[i].store(v, Ordering::Relaxed);
        write_consistent(&self.policy_seq, || {
            let mut put = |bit: u32, i: usize, v: Option<u32>| {
                if let Some(v) = v {
                    w(i, v);
                    set |= bit;
                }
            };
            put(P_BACKOFF_INITIAL, 0, p.backoff_initial_ms);
            put(P_BACKOFF_CAP, 1, p.backoff_cap_ms);
            put(P_BACKOFF_FACTOR, 2, p.backoff_factor.map(milli));
            put(P_BACKOFF_JITTER, 3, p.backoff_jitter.map(milli));
            put(P_BACKOFF_RESET_AFTER, 4, p.backoff_reset_after_ms);
            put(P_GIVE_UP_RESTARTS, 5, p.give_up_restarts.map(|n| n as u32));
            put(P_GIVE_UP_WINDOW, 6, p.give_up_window_ms);
            put(P_START_TIMEOUT, 7, p.start_timeout_ms);
            put(P_STOP_TIMEOUT, 8, p.stop_timeout_ms);
            put(P_WATCHDOG_INTERVAL, 9, p.watchdog_ms);
            put(
                P_WATCHDOG_ACTION,
                10,
                p.watchdog_action.map(|a| a.code() as u32),
            );
            self.policy_set.store(set, Ordering::Relaxed);
            self.policy_gen.store(generation, Ordering::Relaxed);
        });
    }

    /// The policy stored for the tenant of `generation` (empty if it has
    /// none, if the words never settle, or if they do not validate), and
    /// the sequence it was read at.
    pub fn read_policy(&self, generation: u64) -> (Policy, u32) {
        let got = read_consistent(&self.policy_seq, || {
            let mut v = [0u32; POLICY_WORDS];
            for (x, w) in v.iter_mut().zip(&self.policy) {
                *x = w.load(Ordering::Relaxed);
            }
            (
                self.policy_seq.load(Ordering::Relaxed),
                self.policy_gen.load(Ordering::Relaxed),
                self.policy_set.load(Ordering::Relaxed),
                v,
            )
        });
        let Some((seq, g, set, v)) = got else {
            return (Policy::default(), u32::MAX);
        };
        if g != generation || set == 0 {
            return (Policy::default(), seq);
        }
        let has = |b: u32| set & b != 0;
        let opt = |b: u32, i: usize| has(b).then_some(v[i]);
        let p = Policy {
            backoff_initial_ms: opt(P_BACKOFF_INITIAL, 0),
            backoff_cap_ms: opt(P_BACKOFF_CAP, 1),
            backoff_factor: opt(P_BACKOFF_FACTOR, 2).map(|m| m as f64 / 1000.0),
            backoff_jitter: opt(P_BACKOFF_JITTER, 3).map(|m| m as f64 / 1000.0),
            backoff_reset_after_ms: opt(P_BACKOFF_RESET_AFTER, 4),
            give_up_restarts: opt(P_GIVE_UP_RESTARTS, 5).map(|n| n as i32),
            give_up_window_ms: opt(P_GIVE_UP_WINDOW, 6),
            start_timeout_ms: opt(P_START_TIMEOUT, 7),
            stop_timeout_ms: opt(P_STOP_TIMEOUT, 8),
            watchdog_ms: opt(P_WATCHDOG_INTERVAL, 9),
            watchdog_action: if has(P_WATCHDOG_ACTION) {
                WatchdogAction::from_code(v[10] as i32)
            } else {
                None
            },
        };
        match p.validate() {
            Ok(()) => (p, seq),
            Err(_) => (Policy::default(), seq),
        }
    }

    /// The policy's sequence word (cheap check for "changed since").
    pub fn policy_seq(&self) -> u32 {
        self.policy_seq.load(Ordering::Acquire)
    }

    /// Backend, holding the backend lock: ask for a relaunch.
    pub fn request_relaunch(&self) {
        self.relaunch_seq.fetch_add(1, Ordering::AcqRel);
    }

    pub fn relaunch_seq(&self) -> u32 {
        self.relaunch_seq.load(Ordering::Acquire)
    }

    /// Supervisor only, before it forks the worker: forget the last
    /// process's readiness and check-ins.
    pub fn clear_process_words(&self) {
        self.ready_pid.store(0, Ordering::Release);
        self.checkin_pid.store(0, Ordering::Release);
        self.checkin_ms.store(0, Ordering::Release);
    }

    /// Supervisor only: publish readiness for waiters.
    pub fn set_readiness(&self, generation: u64, state: u32, pid: i32, count_unready: bool) {
        write_consistent(&self.rd_seq, || {
            if self.rd_gen.load(Ordering::Relaxed) != generation {
                self.rd_gen.store(generation, Ordering::Relaxed);
                self.rd_unready.store(0, Ordering::Relaxed);
            }
            self.rd_state.store(state, Ordering::Relaxed);
            self.rd_pid.store(pid, Ordering::Relaxed);
            if count_unready {
                self.rd_unready.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    pub fn readiness(&self) -> Option<Readiness> {
        read_consistent(&self.rd_seq, || Readiness {
            generation: self.rd_gen.load(Ordering::Relaxed),
            state: self.rd_state.load(Ordering::Relaxed),
            unready_exits: self.rd_unready.load(Ordering::Relaxed),
            pid: self.rd_pid.load(Ordering::Relaxed),
        })
    }

    /// Supervisor only: store `r` as the record of its generation
    /// (replacing that generation's record, else the oldest).
    pub fn put_exit_record(&self, r: &ExitRecord) {
        let idx = (0..EXIT_RECORDS)
            .find(|&i| {
                self.exits[i].flags.load(Ordering::Relaxed) & 8 != 0
                    && self.exits[i].generation.load(Ordering::Relaxed) == r.generation
            })
            .or_else(|| {
                (0..EXIT_RECORDS).find(|&i| self.exits[i].flags.load(Ordering::Relaxed) & 8 == 0)
            })
            .unwrap_or_else(|| {
                // The oldest: the smallest generation (they only grow).
                (0..EXIT_RECORDS)
                    .min_by_key(|&i| self.exits[i].generation.load(Ordering::Relaxed))
                    .unwrap_or(0)
            });
        let e = &self.exits[idx];
        write_consistent(&self.ex_seq, || {
            e.generation.store(r.generation, Ordering::Relaxed);
            e.time_ms.store(r.time_ms, Ordering::Relaxed);
            e.status.store(r.status, Ordering::Relaxed);
            e.reason.store(r.reason, Ordering::Relaxed);
            e.starts.store(r.starts, Ordering::Relaxed);
            e.flags.store(
                r.exited as u32 | (r.crash as u32) << 1 | (r.ready as u32) << 2 | 8,
                Ordering::Relaxed,
            );
        });
    }

    /// The record of `generation`: Some(None) if there is none any more,
    /// None if the records never settled.
    pub fn exit_record(&self, generation: u64) -> Option<Option<ExitRecord>> {
        read_consistent(&self.ex_seq, || {
            self.exits.iter().find_map(|e| {
                let flags = e.flags.load(Ordering::Relaxed);
                (flags & 8 != 0 && e.generation.load(Ordering::Relaxed) == generation).then(|| {
                    ExitRecord {
                        generation,
                        exited: flags & 1 != 0,
                        crash: flags & 2 != 0,
                        ready: flags & 4 != 0,
                        status: e.status.load(Ordering::Relaxed),
                        reason: e.reason.load(Ordering::Relaxed),
                        starts: e.starts.load(Ordering::Relaxed),
                        time_ms: e.time_ms.load(Ordering::Relaxed),
                    }
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::Segment;

    #[test]
    fn policy_round_trip_and_generation_check() {
        let seg = Segment::create(1, 1).unwrap();
        seg.unlink();
        let s = seg.supervision(0);
        let p = Policy {
            backoff_initial_ms: Some(100),
            backoff_factor: Some(1.5),
            watchdog_action: Some(WatchdogAction::Exit1),
            give_up_restarts: Some(-1),
            ..Policy::default()
        };
        s.write_policy(3, &p);
        assert_eq!(s.read_policy(3).0, p);
        assert!(s.read_policy(4).0.is_empty());
        // Fields merge within a generation, not across.
        s.write_policy(
            3,
            &Policy {
                stop_timeout_ms: Some(5),
                ..Policy::default()
            },
        );
        assert_eq!(s.read_policy(3).0.stop_timeout_ms, Some(5));
        assert_eq!(s.read_policy(3).0.backoff_initial_ms, Some(100));
        s.write_policy(
            4,
            &Policy {
                stop_timeout_ms: Some(6),
                ..Policy::default()
            },
        );
        assert_eq!(s.read_policy(4).0.backoff_initial_ms, None);
    }

    #[test]
    fn exit_records_survive_reuse_up_to_their_number() {
        let seg = Segment::create(1, 1).unwrap();
        seg.unlink();
        let s = seg.supervision(0);
        for g in 1..=6u64 {
            s.put_exit_record(&ExitRecord {
                generation: g,
                exited: true,
                status: 256 * g as i32,
                starts: g as u32,
                ..ExitRecord::default()
            });
        }
        assert_eq!(s.exit_record(1), Some(None));
        assert_eq!(s.exit_record(2), Some(None));
        for g in 3..=6u64 {
            let r = s.exit_record(g).unwrap().unwrap();
            assert_eq!((r.status, r.starts), (256 * g as i32, g as u32));
        }
    }
}
