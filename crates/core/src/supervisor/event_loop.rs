//! The event loop: sleep until a signal, a host request or a deadline,
//! then do the work each wake-up brought, and publish the changes.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::*;

impl Supervisor {
    pub(super) fn main_loop(&mut self) -> i32 {
        // Workers of the first phase (PostmasterStart) start at once; later
        // phases are queued as advance_phase reaches them.
        for i in 0..self.workers.len() {
            self.enqueue(i);
        }
        self.advance_phase();
        loop {
            self.drain_signals();
            let req = REQUESTED_SHUTDOWN.load(Ordering::SeqCst);
            if req > self.shutdown {
                self.begin_shutdown(req);
            }
            if self.got_reload {
                self.got_reload = false;
                self.reload();
            }
            if self.got_child_signal {
                self.got_child_signal = false;
                self.reap();
            }
            if self.got_slot_signal {
                self.got_slot_signal = false;
                self.process_slot_changes();
            }
            self.advance_phase();
            self.run_timers();
            self.advance_state();
            if let Some(code) = self.exit_code {
                self.publish();
                return code;
            }
            if !self.fatal_error && self.shutdown == SHUTDOWN_NONE {
                self.start_queued();
            }
            self.publish();
            self.sleep();
        }
    }

    /// Wake everyone waiting on slot state, if anything changed.
    pub(super) fn publish(&mut self) {
        if !self.changed {
            return;
        }
        self.changed = false;
        let h = self.seg.header();
        // SeqCst pairs with the waiters' SeqCst increment-then-sample (see
        // Connection::wait_until): either they see the new sequence number,
        // or we see them and wake them.
        h.change_seq.fetch_add(1, Ordering::SeqCst);
        if h.waiters.load(Ordering::SeqCst) > 0 {
            backend::futex_wake_all(&h.change_seq);
        }
    }

    pub(super) fn sleep(&mut self) {
        let now = Instant::now();
        let mut deadline = self.kill_deadline;
        if let Some(t) = self.full_scan_due {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
        }
        if let Some(Reverse((t, _))) = self.restarts.peek() {
            deadline = Some(deadline.map_or(*t, |d| d.min(*t)));
        }
        if let Some(t) = self.sv_next_deadline() {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
        }
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                // Rounded up, so that the deadline has passed on waking.
                let ms = d.saturating_duration_since(now).as_millis() + 1;
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [
            PollFd::new(self.sigfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.wake.as_fd(), PollFlags::POLLIN),
        ];
        // EINTR (a host's signal handler) just ends this sleep.
        let _ = poll(&mut fds, timeout);
        let ready = |p: &PollFd| p.revents().is_some_and(|r| !r.is_empty());
        self.sig_pending = ready(&fds[0]);
        self.wake_pending = ready(&fds[1]);
    }

    pub(super) fn drain_signals(&mut self) {
        if !self.sig_pending {
            return self.drain_wake();
        }
        self.sig_pending = false;
        // Non-blocking: Ok(None) once every pending signal was read.
        while let Ok(Some(info)) = self.sigfd.read_signal() {
            match info.ssi_signo as i32 {
                libc::SIGCHLD => self.got_child_signal = true,
                libc::SIGUSR1 => self.got_slot_signal = true,
                libc::SIGHUP => self.got_reload = true,
                libc::SIGTERM => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_SMART, Ordering::SeqCst);
                }
                libc::SIGINT => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_FAST, Ordering::SeqCst);
                }
                libc::SIGQUIT => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_IMMEDIATE, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        self.drain_wake();
    }

    pub(super) fn drain_wake(&mut self) {
        if self.wake_pending {
            self.wake_pending = false;
            // Reading the counter re-arms it; EAGAIN means nothing was
            // written since the last read.
            let _ = self.wake.read();
        }
    }

    pub(super) fn run_timers(&mut self) {
        self.sv_run_timers();
        let now = Instant::now();
        if self.full_scan_due.is_some_and(|d| d <= now) {
            self.scan_all_slots();
        }
        if self.kill_deadline.is_some_and(|d| d <= now) {
            self.kill_deadline = None;
            for &p in self.by_pid.keys() {
                kill(p, libc::SIGKILL);
            }
        }
        while let Some(Reverse((t, i))) = self.restarts.peek().copied() {
            if t > now {
                break;
            }
            self.restarts.pop();
            if let Some(rw) = self.workers[i].as_mut() {
                if rw.restart_at == Some(t) {
                    rw.restart_at = None;
                    self.enqueue(i);
                }
            }
        }
    }

    /// PostgreSQL's ResetBackgroundWorkerCrashTimes, at the end of a crash
    /// cycle (supervisor only, no worker alive): never-restart workers are
    /// forgotten, the rest start again at once and lose their waiters. A
    /// failed worker's state stays failed throughout.
    pub(super) fn reset_workers_after_crash(&mut self) {
        for i in 0..self.workers.len() {
            let Some(rw) = self.workers[i].as_mut() else {
                continue;
            };
            if rw.never_restart() || rw.terminate {
                self.forget(i);
            } else {
                rw.restart_at = None;
                let old = rw.notify_pid;
                rw.notify_pid = 0;
                // A failed worker stays failed throughout (re-marked by
                // sv_after_crash_reset); never "not started" in between.
                if !rw.sv.failed {
                    self.seg.slot_facts(i).set_state(STATE_NOT_STARTED);
                }
                self.drop_notify_ref(old);
            }
        }
    }

    /// End of a crash cycle or of a shutdown, once no worker is left.
    pub(super) fn advance_state(&mut self) {
        if !self.by_pid.is_empty() {
            return;
        }
        self.kill_deadline = None;
        if self.shutdown != SHUTDOWN_NONE {
            if self.fatal_error {
                // A worker crashed during the shutdown (PostgreSQL: exit 1).
                log::emit(log::LOG, "abnormal bgworkerd shutdown");
                self.exit_code = Some(1);
            } else {
                log::emit(log::LOG, "bgworkerd shut down");
                self.exit_code = Some(0);
            }
            return;
        }
        if !self.fatal_error {
            return;
        }
        if !self.settings.restart_after_crash {
            log::emit(log::LOG, "shutting down because restart_after_crash is off");
            self.exit_code = Some(1);
            return;
        }
        // Every dynamic segment goes with the crash, as in PostgreSQL
        // (all processes are gone by now).
        crate::dsm::destroy_all(self.my_pid, false);
        log::emit(log::LOG, "all server processes terminated; reinitializing");
        self.reset_workers_after_crash();
        self.restarts.clear();
        self.reset_slots_after_crash();
        let before = self.children_before_hook();
        let reset_ok = (crate::hooks::get().after_crash_reset)(self.workers.len());
        // A child that appeared meanwhile was forked by the modules' hooks
        // (worker_containment).
        self.note_own_children(Some(before));
        if !reset_ok {
            // A module's shmem_startup_hook failed (logged): PostgreSQL's
            // postmaster exits.
            self.exit_code = Some(1);
            return;
        }
        self.seg
            .header()
            .reinit_count
            .fetch_add(1, Ordering::AcqRel);
        self.sv_after_crash_reset();
        self.fatal_error = false;
        for i in 0..self.workers.len() {
            self.enqueue(i);
        }
        sd_notify::send("STATUS=reinitialized after a worker crash");
    }
}
