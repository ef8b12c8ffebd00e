//! The calling process's side of the opt-in supervision (policy.rs):
//! setting a worker's policy by its handle, relaunching a failed worker,
//! waiting for readiness, reading the last exit; and, in a worker, saying
//! it is ready and checking in with its watchdog.
//!
//! These are the Rust functions the C exports (supervision.rs) and the
//! Rust API call; each returns a `Result` whose error text is the message
//! shown to the user (bgw_last_error, ERROR, or a typed Rust error).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::lock::BackendLock;
use super::*;
use crate::policy::Policy;
use crate::shmem::facts::{STATE_FAILED, STATE_STOPPED};
use crate::shmem::supervision::{
    monotonic_ms, EXIT_RECORDS, EXIT_START_TIMEOUT, RD_EXITED, RD_READY, RD_START_TIMEOUT,
};

/// How a wait for readiness ended (BgwReadyStatus in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyStatus {
    /// Ready; the pid of its process.
    Ready(i32),
    /// The caller's timeout passed first.
    TimedOut,
    /// Its process exited before it was ready.
    Exited,
    /// It was killed for exceeding its start timeout.
    StartTimeout,
    /// Unregistered or failed: it will not be ready.
    Stopped,
    /// The supervisor is gone.
    SupervisorDied,
}

/// The last exit of a worker within its handle's generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastExit {
    /// It has exited at least once (the rest is meaningful).
    pub exited: bool,
    /// Its exit code, if it exited rather than being killed.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// Handled as a crash (PostgreSQL's crash cycle).
    pub crash: bool,
    /// Why (shmem::supervision::EXIT_*).
    pub reason: u32,
    /// Times started in this generation.
    pub starts: u32,
    /// When it exited, ms since the Unix epoch.
    pub time_ms: u64,
    /// Its state now (shmem::facts::STATE_*); STATE_STOPPED once the slot
    /// has another tenant.
    pub state: u32,
    /// It had said it was ready when it exited.
    pub ready: bool,
}

fn stale(slot: usize, generation: u64) -> String {
    format!(
        "background worker handle slot {slot} generation {generation} is stale: that worker is no longer registered"
    )
}

impl Connection {
    /// The identity of the connected daemon (handles carry it).
    pub fn daemon_id(&self) -> u64 {
        self.seg.header().incarnation.load(Ordering::Relaxed)
    }

    /// Is `(slot, generation)` the slot's current tenant?
    fn is_tenant(&self, slot: usize, generation: u64) -> bool {
        let s = self.seg.slot(slot);
        s.in_use.load(Ordering::Acquire) != 0 && s.generation.load(Ordering::Acquire) == generation
    }

    /// Give the worker of `(slot, generation)` the fields set in `p`.
    pub fn set_policy(&self, slot: usize, generation: u64, p: &Policy) -> Result<(), String> {
        p.validate()?;
        {
            let _lock = BackendLock::acquire(&self.seg)?;
            if !self.is_tenant(slot, generation) {
                return Err(stale(slot, generation));
            }
            self.seg.supervision(slot).write_policy(generation, p);
            self.mark_pending(slot);
        }
        self.poke_supervisor();
        Ok(())
    }

    /// Ask the supervisor to start the failed worker of `(slot,
    /// generation)` again. An error if it is not failed.
    pub fn relaunch(&self, slot: usize, generation: u64) -> Result<(), String> {
        {
            let _lock = BackendLock::acquire(&self.seg)?;
            if !self.is_tenant(slot, generation) {
                return Err(stale(slot, generation));
            }
            let f = self
                .seg
                .slot_facts(slot)
                .read()
                .map_err(|e| format!("the facts of slot {slot} are unreadable: {e:?}"))?;
            if f.generation != generation || f.state != STATE_FAILED {
                return Err(format!(
                    "background worker \"{}\" (slot {slot}) is not failed (it is {})",
                    f.name,
                    crate::shmem::facts::state_name(f.state)
                ));
            }
            self.seg.supervision(slot).request_relaunch();
            self.mark_pending(slot);
        }
        self.poke_supervisor();
        Ok(())
    }

    /// Is the tenant `(slot, generation)` failed?
    fn is_failed(&self, slot: usize, generation: u64) -> bool {
        self.seg
            .slot_facts(slot)
            .read()
            .is_ok_and(|f| f.generation == generation && f.state == STATE_FAILED)
    }

    /// The reason an attempt ended before ready, from the exit record.
    fn unready_reason(&self, slot: usize, generation: u64) -> ReadyStatus {
        match self.seg.supervision(slot).exit_record(generation).flatten() {
            Some(r) if r.reason == EXIT_START_TIMEOUT => ReadyStatus::StartTimeout,
            _ => ReadyStatus::Exited,
        }
    }

    /// Wait until the worker of `(slot, generation)` is ready, for at most
    /// `timeout` (None: no limit). See bgw_wait_for_ready in
    /// include/bgworker_supervision.h for what ends the wait.
    pub fn wait_for_ready(
        &self,
        slot: usize,
        generation: u64,
        timeout: Option<Duration>,
    ) -> ReadyStatus {
        let deadline = timeout.map(|t| Instant::now() + t);
        let h = self.seg.header();
        let w = self.seg.supervision(slot);
        let mine = |g: u64| g == generation;
        let first = w.readiness().filter(|r| mine(r.generation));
        if let Some(r) = first {
            if r.state == RD_EXITED || r.state == RD_START_TIMEOUT {
                // Failed before this call, and not started again since.
                if self.status(slot, generation).0 != BGWH_STARTED {
                    return if r.state == RD_START_TIMEOUT {
                        ReadyStatus::StartTimeout
                    } else {
                        ReadyStatus::Exited
                    };
                }
            }
        }
        let unready0 = first.map_or(0, |r| r.unready_exits);
        loop {
            h.waiters.fetch_add(1, Ordering::SeqCst);
            let seq = h.change_seq.load(Ordering::SeqCst);
            let done = (|| {
                let (st, pid) = self.status(slot, generation);
                if let Some(r) = w.readiness().filter(|r| mine(r.generation)) {
                    if r.state == RD_READY && st == BGWH_STARTED && r.pid == pid {
                        return Some(ReadyStatus::Ready(pid));
                    }
                    if r.unready_exits != unready0 {
                        return Some(self.unready_reason(slot, generation));
                    }
                }
                if st == BGWH_STOPPED {
                    if !self.is_tenant(slot, generation) {
                        // Unregistered: did its last process fail first?
                        return Some(match w.exit_record(generation).flatten() {
                            Some(r) if r.exited && !r.ready => {
                                self.unready_reason(slot, generation)
                            }
                            _ => ReadyStatus::Stopped,
                        });
                    }
                    if self.is_failed(slot, generation) {
                        return Some(ReadyStatus::Stopped);
                    }
                }
                if !self.supervisor_alive() {
                    return Some(ReadyStatus::SupervisorDied);
                }
                None
            })();
            if let Some(r) = done {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return r;
            }
            let left = match deadline {
                None => DEATH_CHECK,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        h.waiters.fetch_sub(1, Ordering::SeqCst);
                        return ReadyStatus::TimedOut;
                    }
                    (d - now).min(DEATH_CHECK)
                }
            };
            futex_wait(&h.change_seq, seq, left);
            h.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// As [`Connection::wait_until`], giving up after `timeout`: None if
    /// it passed first.
    pub fn wait_until_timeout(
        &self,
        slot: usize,
        generation: u64,
        done: impl Fn(BgwHandleStatus) -> bool,
        timeout: Duration,
    ) -> Option<(BgwHandleStatus, i32)> {
        let deadline = Instant::now() + timeout;
        let h = self.seg.header();
        loop {
            h.waiters.fetch_add(1, Ordering::SeqCst);
            let seq = h.change_seq.load(Ordering::SeqCst);
            let (st, pid) = self.status(slot, generation);
            let r = if done(st) {
                Some(Some((st, pid)))
            } else if !self.supervisor_alive() {
                Some(Some((BGWH_POSTMASTER_DIED, 0)))
            } else if Instant::now() >= deadline {
                Some(None)
            } else {
                None
            };
            if let Some(r) = r {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return r;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            futex_wait(&h.change_seq, seq, left.min(DEATH_CHECK));
            h.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The last exit of the worker of `(slot, generation)`, even after its
    /// slot was reused (the last EXIT_RECORDS generations of each slot).
    pub fn last_exit(&self, slot: usize, generation: u64) -> Result<LastExit, String> {
        let found = self
            .seg
            .supervision(slot)
            .exit_record(generation)
            .ok_or_else(|| format!("the exit records of slot {slot} are unreadable"))?;
        // Registered, and not yet taken in by the supervisor: no exit yet.
        let found = found.or_else(|| {
            self.is_tenant(slot, generation)
                .then(|| crate::shmem::supervision::ExitRecord {
                    generation,
                    ..Default::default()
                })
        });
        let rec = found.ok_or_else(|| {
                format!(
                    "no exit record of slot {slot} generation {generation}: it was never registered with this daemon, or the slot has been reused more than {} times since",
                    EXIT_RECORDS - 1
                )
            })?;
        let state = match self.seg.slot_facts(slot).read() {
            Ok(f) if f.generation == generation => f.state,
            _ if self.is_tenant(slot, generation) => crate::shmem::facts::STATE_NOT_STARTED,
            _ => STATE_STOPPED,
        };
        let st = rec.status;
        let (code, signal) = if !rec.exited {
            (None, None)
        } else if libc::WIFEXITED(st) {
            (Some(libc::WEXITSTATUS(st)), None)
        } else if libc::WIFSIGNALED(st) {
            (None, Some(libc::WTERMSIG(st)))
        } else {
            (None, None)
        };
        Ok(LastExit {
            exited: rec.exited,
            code,
            signal,
            crash: rec.crash,
            reason: rec.reason,
            starts: rec.starts,
            time_ms: rec.time_ms,
            state,
            ready: rec.ready,
        })
    }
}

/// The calling worker's own slot, or the error for `what` called from
/// anywhere else.
fn own_slot(what: &str) -> Result<(&'static Connection, usize), String> {
    let err = || {
        format!(
            "{what}: this process is not a background worker (only a worker's own process may call it; not an attached process, the supervisor, or a child a worker forked)"
        )
    };
    let slot = crate::identity::worker_slot().ok_or_else(err)?;
    let conn = current().ok_or_else(err)?;
    if slot >= conn.seg.total_slots() {
        return Err(err());
    }
    Ok((conn, slot))
}

/// In a worker: declare it ready (bgw_notify_ready).
pub fn notify_ready() -> Result<(), String> {
    let (conn, slot) = own_slot("bgw_notify_ready")?;
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let w = conn.seg.supervision(slot);
    if w.ready_pid.swap(me, Ordering::AcqRel) == me {
        return Ok(());
    }
    // No lock: the change is this one word, already stored; the mark only
    // makes the supervisor look at it now.
    conn.seg
        .pending_word(slot / 64)
        .fetch_or(1u64 << (slot % 64), Ordering::Release);
    conn.poke_supervisor();
    Ok(())
}

/// In a worker: check in with its watchdog (bgw_watchdog_checkin).
pub fn watchdog_checkin() -> Result<(), String> {
    let (conn, slot) = own_slot("bgw_watchdog_checkin")?;
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let w = conn.seg.supervision(slot);
    w.checkin_ms.store(monotonic_ms(), Ordering::Release);
    w.checkin_pid.store(me, Ordering::Release);
    Ok(())
}
