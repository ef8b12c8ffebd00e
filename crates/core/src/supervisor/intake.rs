//! Slot intake: the slot array at start and after a crash cycle, the
//! registrations backends publish, and the start queue.

use super::*;

impl Supervisor {
    /// Copy the registry into the fresh segment: registered (static)
    /// workers in their slots, not started yet; every other slot free
    /// (PostgreSQL's BackgroundWorkerShmemInit).
    ///
    /// Called once, on the segment `Segment::create` has just made: a new
    /// shared-memory object, which reads all zero (pending bits clear,
    /// counters 0, every slot `in_use == 0`, `pid == 0`). So only the
    /// registered slots are written: the free ones are never touched, and
    /// their pages stay out of the supervisor's memory until a backend
    /// uses them (10,000 slots are about 20 MB of segment).
    pub(super) fn init_slots(&mut self) {
        for i in 0..self.workers.len() {
            let Some(rw) = &self.workers[i] else {
                continue;
            };
            let s = self.seg.slot(i);
            let mut def = rw.def;
            def.bgw_notify_pid = 0;
            s.write_worker(&def);
            s.terminate.store(0, Ordering::Relaxed);
            s.pid.store(PID_NOT_STARTED, Ordering::Relaxed);
            s.in_use.store(1, Ordering::Release);
            self.seg.slot_facts(i).registered(
                &def,
                s.generation.load(Ordering::Relaxed),
                self.my_pid,
            );
            self.sv_registered(i, s.generation.load(Ordering::Relaxed), false);
        }
        self.changed = true;
    }

    /// After a crash cycle (PostgreSQL reinitialises shared memory): the
    /// surviving workers read "not started yet" again. Slots owned by
    /// backends, terminate flags and pending bits are left alone: attached
    /// processes keep running through a crash cycle, and one of them may be
    /// in the middle of registering or terminating. The parallel counters
    /// are left alone too (see the invariant at `Header`): every parallel
    /// registration already counted is given back through `forget` or the
    /// rejection in `examine_slot`, including one published after the last
    /// intake, so no recomputation is needed and none could be exact.
    pub(super) fn reset_slots_after_crash(&mut self) {
        for (i, rw) in self.workers.iter().enumerate() {
            // A failed worker stays "stopped" (supervision.rs).
            if rw.as_ref().is_some_and(|rw| !rw.sv.failed) {
                self.seg
                    .slot(i)
                    .pid
                    .store(PID_NOT_STARTED, Ordering::Release);
            }
        }
        self.changed = true;
    }

    pub(super) fn eligible(&self, i: usize) -> bool {
        match &self.workers[i] {
            Some(rw) => {
                rw.pid == 0
                    && !rw.terminate
                    && !rw.sv.failed
                    && rw.restart_at.is_none()
                    && rw.def.bgw_start_time <= self.phase
            }
            None => false,
        }
    }

    pub(super) fn enqueue(&mut self, i: usize) {
        if self.eligible(i) {
            let rw = self.workers[i]
                .as_mut()
                .expect("eligible implies registered");
            if !rw.queued {
                rw.queued = true;
                self.start_queue.push_back(i);
            }
        }
    }

    pub(super) fn advance_phase(&mut self) {
        let limit = PHASE_LIMIT.load(Ordering::SeqCst);
        if limit > self.phase {
            self.phase = limit;
            self.seg.header().phase.store(limit, Ordering::Release);
            for i in 0..self.workers.len() {
                self.enqueue(i);
            }
        }
    }

    /// Examine the slots backends marked in the pending bitmap.
    ///
    /// Every change a backend makes is marked, under the backend lock,
    /// before its SIGUSR1 (and a backend that takes the lock over from a
    /// dead holder marks every slot), so a pass costs the marked slots
    /// plus one load per 64 slots, whatever the slot count. A SIGUSR1 that
    /// finds nothing marked is usually one whose change the previous pass
    /// already collected (common with many registrations in flight); it
    /// could also come from a process that wrote a slot without marking
    /// it. PostgreSQL's postmaster examines every slot on each signal; here
    /// such a scan (10,000 cache misses at 10,000 slots) runs at most once
    /// per FULL_SCAN_INTERVAL, at once if the last one is older, else when
    /// the interval is over (a timer), so an unmarked change is still seen.
    /// The slot count is our own, never the header's (which anyone with
    /// the segment could overwrite).
    pub(super) fn process_slot_changes(&mut self) {
        let mut any = false;
        for w in 0..crate::shmem::slots::pending_words(self.workers.len()) {
            let word = self.seg.pending_word(w);
            // A load first: most words are clear, and a swap would write
            // (dirty) every one of them. A mark made before the signal that
            // woke us is seen (the signal's delivery orders it); one this
            // load missed has its own signal coming, and the scan of every
            // slot below would find its change in any case.
            if word.load(Ordering::Acquire) == 0 {
                continue;
            }
            let mut bits = word.swap(0, Ordering::Acquire);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let i = w * 64 + b;
                if i < self.workers.len() {
                    any = true;
                    self.examine_slot(i);
                }
            }
        }
        if any || self.full_scan_due.is_some() {
            return;
        }
        let now = Instant::now();
        match self.last_full_scan {
            Some(t) if now.duration_since(t) < FULL_SCAN_INTERVAL => {
                self.full_scan_due = Some(t + FULL_SCAN_INTERVAL);
            }
            _ => self.scan_all_slots(),
        }
    }

    /// Examine every slot (see process_slot_changes).
    pub(super) fn scan_all_slots(&mut self) {
        self.full_scan_due = None;
        self.last_full_scan = Some(Instant::now());
        for i in 0..self.workers.len() {
            self.examine_slot(i);
        }
    }

    /// PostgreSQL's BackgroundWorkerStateChange, for one slot.
    pub(super) fn examine_slot(&mut self, i: usize) {
        let s = self.seg.slot(i);
        // Acquire pairs with the backend's Release store of in_use: the
        // slot's contents are complete.
        if s.in_use.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(rw) = self.workers[i].as_mut() {
            if s.terminate.load(Ordering::Acquire) != 0 && !rw.terminate {
                rw.terminate = true;
                rw.queued = false;
                if rw.pid != 0 {
                    kill(rw.pid, libc::SIGTERM);
                    self.seg.slot_facts(i).set_state(STATE_TERMINATING);
                    self.sv_arm_stop(i);
                } else {
                    // Never started (or waiting to restart): gone now.
                    let notify = rw.notify_pid;
                    self.forget(i);
                    self.notify(notify);
                    return;
                }
            }
            self.sv_examine(i);
            return;
        }
        // A new registration. Refused while a crash or shutdown is being
        // handled, so its waiters hear about it at once.
        if self.fatal_error || self.shutdown != SHUTDOWN_NONE {
            s.terminate.store(1, Ordering::Release);
        }
        let raw = s.read_worker();
        let (generation, registrant) = (
            s.generation.load(Ordering::Acquire),
            s.registrant.load(Ordering::Relaxed).max(0),
        );
        let mut def = raw.sanitized();
        let check = backend::sanity_check(&mut def);
        if s.terminate.load(Ordering::Acquire) != 0 || check.is_err() {
            if let Err(msg) = check {
                log::emit(log::LOG, &msg);
            }
            if raw.flags().contains(WorkerFlags::CLASS_PARALLEL) {
                self.seg
                    .header()
                    .parallel_terminate_count
                    .fetch_add(1, Ordering::AcqRel);
            }
            s.in_use.store(0, Ordering::Release);
            self.changed = true;
            self.notify(raw.bgw_notify_pid);
            return;
        }
        if def.bgw_notify_pid != 0 && !self.valid_notify_target(def.bgw_notify_pid) {
            // As PostgreSQL: only processes of this supervisor are notified.
            crate::elog!(
                log::DEBUG1,
                "worker notification PID {} is not valid",
                def.bgw_notify_pid
            );
            def.bgw_notify_pid = 0;
        }
        crate::elog!(
            log::DEBUG1,
            "registering background worker \"{}\"",
            def.name()
        );
        self.seg
            .slot_facts(i)
            .registered(&def, generation, registrant);
        let rw = Box::new(Registered::new(def));
        self.add_notify_ref(rw.notify_pid);
        self.workers[i] = Some(rw);
        self.sv_registered(i, generation, true);
        self.enqueue(i);
    }
}
