//! The backend side of the slot protocol (shmem/slots.rs) on a
//! [`Connection`]: register, read status, terminate, wait, and find a
//! worker's type by pid.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;

use std::time::Duration;

use super::lock::BackendLock;
use super::*;
use crate::shmem::slots::PID_NOT_STARTED;

/// Why a dynamic registration did not happen.
pub enum RegisterError {
    /// Not attached to a supervisor, or this is the supervisor (PostgreSQL:
    /// `!IsUnderPostmaster`): false, no message.
    NotConnected,
    /// The definition failed validation: the message is raised as ERROR.
    Invalid(String),
    /// No free slot, or max_parallel_workers reached: false, no message.
    NoCapacity,
    /// The registration lock stayed held past LOCK_TIMEOUT (a stopped or
    /// stuck holder): the message names the holder, raised as ERROR.
    LockTimeout(String),
}

impl Connection {
    /// Mark slot `i` for the supervisor's attention. Callers hold the
    /// backend lock, so a holder's death cannot separate a change from its
    /// mark.
    pub(super) fn mark_pending(&self, i: usize) {
        self.seg
            .pending_word(i / 64)
            .fetch_or(1u64 << (i % 64), Ordering::Release);
    }

    /// Send `sig` to the supervisor: through the pidfd where this process
    /// has one (attached processes: a reused pid is never signalled), else
    /// by pid (workers, whose supervisor is their parent).
    pub fn signal_supervisor(&self, sig: i32) -> std::io::Result<()> {
        if let Some(pidfd) = &self.pidfd {
            return pidfd.send_signal(sig);
        }
        if self.supervisor_pid > 0 {
            // SAFETY: plain kill of the supervisor (our parent, in a worker).
            if unsafe { libc::kill(self.supervisor_pid, sig) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Wake the supervisor (after marking what changed). A supervisor that
    /// is gone is noticed by the waiters, not here.
    pub(super) fn poke_supervisor(&self) {
        let _ = self.signal_supervisor(libc::SIGUSR1);
    }

    /// The descriptor that becomes readable (or hangs up) when the
    /// supervisor is gone: the death pipe (workers) or the pidfd (attached
    /// processes); None in the supervisor itself.
    pub fn death_watch(&self) -> Option<BorrowedFd<'_>> {
        match (&self.death_fd, &self.pidfd) {
            (Some(fd), _) => Some(fd.as_fd()),
            (None, Some(p)) => Some(p.as_fd()),
            (None, None) => None,
        }
    }

    /// Is the supervisor still there? Told by the processes themselves,
    /// never by a word in the segment that any process could overwrite:
    /// workers watch the death pipe (EOF once the supervisor is gone);
    /// attached processes poll their pidfd and test the supervisor lock,
    /// which goes when the supervisor returns (an embedding host lives on)
    /// or its process dies.
    pub fn supervisor_alive(&self) -> bool {
        if let Some(fd) = &self.lock_fd {
            if !crate::shmem::segment::supervisor_lock_held(fd.as_fd()) {
                return false;
            }
        }
        let Some(fd) = self.death_watch() else {
            return true;
        };
        // A readable death pipe (EOF) or pidfd (exited) means gone.
        !crate::pidfd::readable_now(fd)
    }

    /// RegisterDynamicBackgroundWorker's core: validate, claim a free slot,
    /// publish it. Returns `(slot, generation)`.
    pub fn register(&self, def: &BackgroundWorker) -> Result<(usize, u64), RegisterError> {
        self.register_with_policy(def, None)
    }

    /// [`Connection::register`], storing `policy` (validated by the
    /// caller) as the new worker's own supervision policy before the
    /// supervisor can see the slot (policy.rs).
    pub fn register_with_policy(
        &self,
        def: &BackgroundWorker,
        policy: Option<&crate::policy::Policy>,
    ) -> Result<(usize, u64), RegisterError> {
        if self.role == Role::Supervisor {
            return Err(RegisterError::NotConnected);
        }
        let mut w = *def;
        sanity_check(&mut w).map_err(RegisterError::Invalid)?;
        let parallel = w.flags().contains(WorkerFlags::CLASS_PARALLEL);
        let h = self.seg.header();
        let found = {
            let _lock = BackendLock::acquire(&self.seg).map_err(RegisterError::LockTimeout)?;
            if parallel
                && h.parallel_in_use()
                    >= h.max_parallel_workers.load(Ordering::Relaxed).max(0) as u32
            {
                return Err(RegisterError::NoCapacity);
            }
            let mut found = None;
            for i in 0..self.seg.total_slots() {
                let s = self.seg.slot(i);
                // Acquire pairs with the supervisor's Release when it freed
                // the slot: its last writes happened before ours.
                if s.in_use.load(Ordering::Acquire) != 0 {
                    continue;
                }
                s.write_worker(&w);
                let g = s.generation.load(Ordering::Relaxed).wrapping_add(1);
                s.generation.store(g, Ordering::Release);
                s.terminate.store(0, Ordering::Release);
                s.pid.store(PID_NOT_STARTED, Ordering::Release);
                if let Some(p) = policy.filter(|p| !p.is_empty()) {
                    self.seg.supervision(i).write_policy(g, p);
                }
                // SAFETY: getpid has no preconditions.
                s.registrant
                    .store(unsafe { libc::getpid() }, Ordering::Relaxed);
                // Counted before publishing (see the invariant at Header):
                // the supervisor gives back only slots it has seen
                // published, which are then always counted already.
                if parallel {
                    h.parallel_register_count.fetch_add(1, Ordering::AcqRel);
                }
                // Hand the slot to the supervisor (pairs with its Acquire load).
                s.in_use.store(1, Ordering::Release);
                self.mark_pending(i);
                found = Some((i, g));
                break;
            }
            found
        };
        match found {
            Some((i, g)) => {
                self.poke_supervisor();
                Ok((i, g))
            }
            None => Err(RegisterError::NoCapacity),
        }
    }

    pub fn status(&self, slot: usize, generation: u64) -> (BgwHandleStatus, i32) {
        self.seg.slot(slot).status(generation)
    }

    /// Set the terminate flag of the handle's slot unless it was reused;
    /// returns whether the flag was set, or the registration lock's timeout
    /// message (see backend/lock.rs).
    pub fn terminate(&self, slot: usize, generation: u64) -> Result<bool, String> {
        let s = self.seg.slot(slot);
        let hit = {
            let _lock = BackendLock::acquire(&self.seg)?;
            if s.generation.load(Ordering::Acquire) == generation {
                s.terminate.store(1, Ordering::Release);
                self.mark_pending(slot);
                true
            } else {
                false
            }
        };
        if hit {
            self.poke_supervisor();
        }
        Ok(hit)
    }

    /// Wait until `done(status)` holds, or the supervisor is gone.
    ///
    /// Sleeps on the segment's `change_seq` futex, which the supervisor
    /// bumps and wakes after every batch of slot changes; a bounded sleep
    /// lets a supervisor that died without waking anyone be noticed (within
    /// [`DEATH_CHECK`]).
    pub fn wait_until(
        &self,
        slot: usize,
        generation: u64,
        done: impl Fn(BgwHandleStatus) -> bool,
    ) -> (BgwHandleStatus, i32) {
        let h = self.seg.header();
        if let Some(r) = self.spin_while_not_started(slot, generation, &done) {
            return r;
        }
        loop {
            // Announce ourselves before sampling the sequence number, so that
            // a supervisor bumping it after our sample sees waiters > 0
            // (both SeqCst; see the supervisor's wake_waiters).
            h.waiters.fetch_add(1, Ordering::SeqCst);
            let seq = h.change_seq.load(Ordering::SeqCst);
            let (st, pid) = self.status(slot, generation);
            if done(st) {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return (st, pid);
            }
            if !self.supervisor_alive() {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return (BGWH_POSTMASTER_DIED, 0);
            }
            futex_wait(&h.change_seq, seq, DEATH_CHECK);
            h.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Before parking, spin briefly while the worker is not started yet.
    ///
    /// A registration is answered by the supervisor within one fork (about
    /// 100 us), while waking a parked thread can cost as much again on an
    /// idle CPU. So while the next change is the supervisor's (the worker
    /// is registered but not started) and another CPU is there to make it,
    /// the waiter watches the slot for at most [`SPIN_LIMIT`]. Once the
    /// worker runs, the next change depends on the worker, which needs the
    /// CPU more than we do: park at once.
    fn spin_while_not_started(
        &self,
        slot: usize,
        generation: u64,
        done: &impl Fn(BgwHandleStatus) -> bool,
    ) -> Option<(BgwHandleStatus, i32)> {
        if !multi_cpu() {
            return None;
        }
        let start = std::time::Instant::now();
        loop {
            let (st, pid) = self.status(slot, generation);
            if done(st) {
                return Some((st, pid));
            }
            if st != BGWH_NOT_YET_STARTED || start.elapsed() >= SPIN_LIMIT {
                return None;
            }
            // Yield rather than pause: if the supervisor (or the new worker)
            // was woken onto this CPU, it runs now instead of after the spin.
            std::thread::yield_now();
        }
    }

    /// The bgw_type of the running worker with this pid, if any.
    pub fn type_by_pid(&self, pid: i32) -> Option<[std::os::raw::c_char; BGW_MAXLEN]> {
        if pid <= 0 {
            return None;
        }
        for i in 0..self.seg.total_slots() {
            let s = self.seg.slot(i);
            if s.pid.load(Ordering::Acquire) != pid || s.in_use.load(Ordering::Acquire) == 0 {
                continue;
            }
            let g = s.generation.load(Ordering::Acquire);
            let mut t = s.read_worker().bgw_type;
            t[BGW_MAXLEN - 1] = 0;
            // Order the copy before the re-checks: still in use, same tenant
            // and same pid mean the copy is that worker's type.
            std::sync::atomic::fence(Ordering::Acquire);
            if s.in_use.load(Ordering::Acquire) != 0
                && s.generation.load(Ordering::Acquire) == g
                && s.pid.load(Ordering::Acquire) == pid
            {
                return Some(t);
            }
        }
        None
    }
}

/// Longest a waiter spins before parking (see spin_while_not_started).
pub const SPIN_LIMIT: Duration = Duration::from_micros(250);

/// More than one CPU to run on (spinning on one CPU only delays the
/// process being waited for).
fn multi_cpu() -> bool {
    static N: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// How long a waiter sleeps before checking that the supervisor is alive.
pub const DEATH_CHECK: Duration = Duration::from_millis(100);
