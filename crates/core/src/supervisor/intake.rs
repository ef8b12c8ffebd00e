//! Slot intake: the slot array at start and after a crash cycle, the
//! registrations backends publish, and the start queue.

use super::*;

impl Supervisor {
    /// Copy the registry into the fresh segment: registered (static)
    /// workers in their slots, not started yet; every other slot free
    /// (PostgreSQL's BackgroundWorkerShmemInit).
    pub(super) fn init_slots(&mut self) {
        let h = self.seg.header();
        h.parallel_register_count.store(0, Ordering::Relaxed);
        h.parallel_terminate_count.store(0, Ordering::Relaxed);
        for w in 0..crate::shmem::slots::pending_words(self.seg.total_slots()) {
            self.seg.pending_word(w).store(0, Ordering::Relaxed);
        }
        for i in 0..self.workers.len() {
            let s = self.seg.slot(i);
            match &self.workers[i] {
                Some(rw) => {
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
                None => {
                    s.pid.store(0, Ordering::Relaxed);
                    s.in_use.store(0, Ordering::Release);
                }
            }
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

    /// Collect the slots backends marked, or every slot if none is marked.
    /// The slot count is our own, never the header's (which anyone with the
    /// segment could overwrite).
    pub(super) fn process_slot_changes(&mut self) {
        let mut any = false;
        for w in 0..crate::shmem::slots::pending_words(self.workers.len()) {
            let mut bits = self.seg.pending_word(w).swap(0, Ordering::Acquire);
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
        if !any {
            for i in 0..self.workers.len() {
                self.examine_slot(i);
            }
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
        let rw = Registered::new(def);
        self.add_notify_ref(rw.notify_pid);
        self.workers[i] = Some(rw);
        self.sv_registered(i, generation, true);
        self.enqueue(i);
    }
}
