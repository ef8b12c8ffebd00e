//! A worker's life: fork, reap, exit handling and restarts, the crash
//! cycle, and shutdown.

use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use super::*;

/// The wait(2) status word of a child that has ended, as PostgreSQL's
/// LogChildExit and the facts read it (WIFEXITED/WEXITSTATUS, WIFSIGNALED/
/// WTERMSIG, WCOREDUMP); None for a child that has not ended.
fn wait_status(st: WaitStatus) -> Option<i32> {
    match st {
        WaitStatus::Exited(_, code) => Some((code & 0xff) << 8),
        WaitStatus::Signaled(_, sig, core) => Some(sig as i32 | if core { 0x80 } else { 0 }),
        _ => None,
    }
}

fn strsignal(sig: i32) -> String {
    // SAFETY: strsignal returns a valid C string (static or thread-local).
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        format!("signal {sig}")
    } else {
        // SAFETY: non-null C string from libc.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }
}

/// PostgreSQL's LogChildExit.
pub(super) fn log_child_exit(level: i32, what: &str, pid: i32, status: i32) {
    if !log::enabled(level) {
        return;
    }
    let msg = if libc::WIFEXITED(status) {
        format!(
            "{what} (PID {pid}) exited with exit code {}",
            libc::WEXITSTATUS(status)
        )
    } else if libc::WIFSIGNALED(status) {
        let s = libc::WTERMSIG(status);
        format!(
            "{what} (PID {pid}) was terminated by signal {s}: {}",
            strsignal(s)
        )
    } else {
        format!("{what} (PID {pid}) exited with unrecognized status {status}")
    };
    log::emit(level, &msg);
}

impl Supervisor {
    /// Forget worker `i` and free its slot (PostgreSQL's
    /// ForgetBackgroundWorker). The caller notifies, if appropriate.
    pub(super) fn forget(&mut self, i: usize) {
        let Some(rw) = self.workers[i].take() else {
            return;
        };
        let h = self.seg.header();
        let s = self.seg.slot(i);
        if rw.parallel() {
            h.parallel_terminate_count.fetch_add(1, Ordering::AcqRel);
        }
        // Give the slot back; pairs with the backends' Acquire load when
        // they look for a free slot. `pid` is left alone: readers check
        // in_use first, and a slot that reads "stopped" is already free, so
        // a waiter that re-registers at once finds it (PostgreSQL leaves a
        // short window there).
        self.seg.slot_facts(i).set_state(STATE_STOPPED);
        s.in_use.store(0, Ordering::Release);
        self.changed = true;
        self.drop_notify_ref(rw.notify_pid);
        crate::elog!(
            log::DEBUG1,
            "unregistering background worker \"{}\"",
            rw.def.name()
        );
    }

    pub(super) fn start_queued(&mut self) {
        while let Some(i) = self.start_queue.pop_front() {
            if let Some(rw) = self.workers[i].as_mut() {
                rw.queued = false;
            }
            if self.eligible(i) {
                self.fork_worker(i);
            }
        }
    }

    pub(super) fn fork_worker(&mut self, i: usize) {
        let def = self.workers[i].as_ref().expect("caller checked").def;
        crate::elog!(
            log::DEBUG1,
            "starting background worker process \"{}\"",
            def.name()
        );
        let mut close = vec![
            self.sigfd.as_fd().as_raw_fd(),
            self.wake.as_raw_fd(),
            self.death_w.as_raw_fd(),
            self.seg_lock.as_ref().map_or(-1, AsRawFd::as_raw_fd),
            self.pidfile.as_ref().map_or(-1, PidFile::fd),
            self.sentinel
                .as_ref()
                .map_or(-1, sentinel::Sentinel::raw_fd),
        ];
        close.extend(self.attached.values().map(AsRawFd::as_raw_fd));
        // This process's connection tests the supervisor lock through a
        // descriptor of its own (setup.rs); a worker's connection has none.
        close.push(
            backend::current()
                .and_then(|c| c.lock_fd.as_ref())
                .map_or(-1, AsRawFd::as_raw_fd),
        );
        close.push(log::file::original_stderr());
        self.sv_before_fork(i);
        close.extend(CLOSE_IN_WORKERS.iter().map(|c| c.load(Ordering::Acquire)));
        let entry = loader::resolve_loaded(&def.library(), &def.function());
        // Flush stdio first, or what modules and hosts buffered would be
        // written again by each worker's exit (as PostgreSQL's fork_process).
        // SAFETY: fflush(NULL) flushes all output streams.
        unsafe { libc::fflush(std::ptr::null_mut()) };
        // SAFETY: fork from the supervisor's loop thread; the child never
        // returns into this loop (child::run ends the process). In an
        // embedding host with other threads, the child must not need a
        // lock one of them held (see bgw_host_run).
        let pid = match unsafe { fork() } {
            Ok(ForkResult::Parent { child }) => child.as_raw(),
            Ok(ForkResult::Child) => child::run(
                ChildContext {
                    seg: &self.seg,
                    supervisor_pid: self.my_pid,
                    death_read: self.death_r.as_raw_fd(),
                    close_fds: &close,
                    entry,
                    slot: i,
                    forget_supervisor_state: forget_wake_fd,
                    subreaper: self.contain.on,
                },
                &def,
            ),
            Err(e) => {
                log::emit(
                    log::LOG,
                    &format!(
                        "could not fork worker process: {}",
                        crate::errno_text(e as i32)
                    ),
                );
                -1
            }
        };
        if pid < 0 {
            let at = Instant::now() + FORK_RETRY;
            self.workers[i].as_mut().expect("caller checked").restart_at = Some(at);
            self.seg.slot_facts(i).restart_at(facts::instant_ms(at));
            self.restarts.push(Reverse((at, i)));
            return;
        }
        // Publish the pid and wake the waiters before any bookkeeping: the
        // supervisor's first writes after a fork are copy-on-write faults,
        // and the waiter should not wait for them.
        // The facts first (shared memory, no copy-on-write fault): whoever
        // sees the pid published finds the worker running in the facts.
        self.seg.slot_facts(i).started(pid);
        self.seg.slot(i).pid.store(pid, Ordering::Release);
        self.changed = true;
        self.publish();
        let rw = self.workers[i].as_mut().expect("caller checked");
        rw.pid = pid;
        let notify = rw.notify_pid;
        self.notify(notify);
        self.by_pid.insert(pid, i);
        self.sv_started(i);
    }

    /// Reap exited children. In bgworkerd every child is the supervisor's
    /// to reap, workers or not (a module may fork in `_PG_init`): a child
    /// that is not a worker is handled as PostgreSQL's reaper handles an
    /// unknown child (CleanupBackend): an exit with status 0 or 1 is
    /// forgotten, anything else is a crash. In a host program the
    /// supervisor peeks first and reaps only its workers, so that the
    /// host's own children are left for it.
    pub(super) fn reap(&mut self) {
        let nohang = Some(WaitPidFlag::WNOHANG);
        if crate::identity::is_daemon_image() {
            // A worker or an adopted process ended: under
            // worker_containment, what it left behind is taken down
            // (containment.rs), once for the whole batch.
            let mut contain = false;
            while let Ok(st) = waitpid(None, nohang) {
                let Some(pid) = st.pid().map(Pid::as_raw) else {
                    break; // StillAlive: none has exited
                };
                let Some(status) = wait_status(st) else {
                    continue;
                };
                if self.by_pid.contains_key(&pid) {
                    self.child_exited(pid, status);
                    contain = true;
                } else if self.is_sentinel(pid) {
                    self.sentinel_exited(pid, status);
                } else if self.reaped_adopted(pid) {
                    self.adopted_exited(pid, status);
                    contain = true;
                } else {
                    self.other_child_exited(pid, status);
                }
            }
            if contain {
                self.kill_adopted();
            }
            return;
        }
        loop {
            // Peek (WNOWAIT) at the first child that has exited: an
            // embedding host may have children of its own, which are not
            // ours to reap.
            let first = waitid(
                Id::All,
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            );
            let Some(pid) = first.ok().and_then(|st| st.pid()).map(Pid::as_raw) else {
                return;
            };
            if self.by_pid.contains_key(&pid) {
                if let Some(status) = waitpid(Pid::from_raw(pid), nohang)
                    .ok()
                    .and_then(wait_status)
                {
                    self.child_exited(pid, status);
                }
                continue;
            }
            if self.is_sentinel(pid) {
                if let Some(status) = waitpid(Pid::from_raw(pid), nohang)
                    .ok()
                    .and_then(wait_status)
                {
                    self.sentinel_exited(pid, status);
                }
                continue;
            }
            // Someone else's child sits first in line: check ours one by one.
            let pids: Vec<i32> = self.by_pid.keys().copied().collect();
            for p in pids {
                if let Some(status) = waitpid(Pid::from_raw(p), nohang).ok().and_then(wait_status) {
                    self.child_exited(p, status);
                }
            }
            if let Some(p) = self.sentinel.as_ref().map(|s| s.pid) {
                if let Some(status) = waitpid(Pid::from_raw(p), nohang).ok().and_then(wait_status) {
                    self.sentinel_exited(p, status);
                }
            }
            return;
        }
    }

    /// A child of bgworkerd that was not a worker has exited (PostgreSQL's
    /// CleanupBackend for a pid it does not know): status 0 or 1 is
    /// forgotten; anything else starts a crash cycle, reported as a
    /// "server process" as PostgreSQL reports it.
    pub(super) fn other_child_exited(&mut self, pid: i32, status: i32) {
        let normal = libc::WIFEXITED(status) && matches!(libc::WEXITSTATUS(status), 0 | 1);
        if normal {
            log_child_exit(log::DEBUG1, "server process", pid, status);
        } else {
            self.handle_crash(pid, "server process", status);
        }
    }

    /// PostgreSQL's CleanupBackgroundWorker.
    pub(super) fn child_exited(&mut self, pid: i32, status: i32) {
        let Some(i) = self.by_pid.remove(&pid) else {
            return;
        };
        // Left on a wait list without its clean-up: a crash, whatever the
        // status (the runtime's answer).
        let unclean = (crate::hooks::get().worker_exited)(i, pid);
        // Stop notifying a process that is gone (its pid may be reused).
        if self.notify_refs.contains_key(&pid) {
            for rw in self.workers.iter_mut().flatten() {
                if rw.notify_pid == pid {
                    rw.notify_pid = 0;
                }
            }
            self.notify_refs.remove(&pid);
        }
        let eff = self.effective(i);
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        rw.pid = 0;
        // A kill by the supervision (start or stop timeout, watchdog) may
        // count as exit 1 rather than as a crash (supervision.rs).
        let kill = rw.sv.kill_reason.take();
        let what = format!("background worker \"{}\"", rw.def.type_name());
        let exited0 = !unclean && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let exited1 = !unclean
            && ((libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1)
                || (!exited0 && supervision::counts_as_exit1(kill, &eff)));
        if exited0 {
            rw.terminate = true;
        }
        let notify = rw.notify_pid;
        let restart_secs = rw.def.bgw_restart_time;
        let forget_now = rw.terminate || rw.never_restart() || self.shutdown != SHUTDOWN_NONE;
        let crash = !exited0 && !exited1 && self.shutdown != SHUTDOWN_IMMEDIATE;
        let stopped_by_us = self.fatal_error || self.shutdown == SHUTDOWN_IMMEDIATE;
        let reason = supervision::exit_reason(kill, crash && !stopped_by_us, stopped_by_us);
        if !exited0 && !exited1 {
            // Restarting (or not) is decided at the end of the crash cycle.
            self.seg.slot_facts(i).exited(status, crash, 0, false);
            self.sv_exited(i, status, crash, reason);
            if !self.fatal_error {
                // The worker that starts the cycle: its backoff and
                // give-up count it (not the workers the cycle stops).
                self.sv_crashed(i);
            }
            // As PostgreSQL's HandleChildCrash, the stop is not reported:
            // the crash cycle decides the worker's fate (reinitialisation
            // forgets never-restart workers and restarts the rest), and
            // that is what waiters hear about.
            self.handle_crash(pid, &what, status);
            return;
        }
        // The facts first, with what comes next (without a restart time, a
        // crash cycle under way decides), then the pid waiters read.
        let mut failed = false;
        let restart = if !forget_now && !self.fatal_error {
            let fixed = Duration::from_secs(restart_secs.max(0) as u64);
            match self.sv_restart_delay(i, fixed) {
                Some(d) => Some(Instant::now() + d),
                None => {
                    failed = true;
                    None
                }
            }
        } else {
            None
        };
        self.seg.slot_facts(i).exited(
            status,
            crash,
            restart.map(facts::instant_ms).unwrap_or(0),
            forget_now,
        );
        self.sv_exited(i, status, crash, reason);
        if failed {
            self.sv_mark_failed(i);
        }
        if !forget_now {
            // Stays registered: "stopped" until it runs again.
            self.seg.slot(i).pid.store(0, Ordering::Release);
        }
        self.changed = true;
        log_child_exit(
            if exited0 { log::DEBUG1 } else { log::LOG },
            &what,
            pid,
            status,
        );
        if forget_now {
            self.forget(i);
        } else if failed {
            // Kept in its slot, not restarted (supervision.rs).
        } else if let Some(at) = restart {
            self.workers[i]
                .as_mut()
                .expect("still registered")
                .restart_at = Some(at);
            self.restarts.push(Reverse((at, i)));
        }
        self.notify(notify);
    }

    /// PostgreSQL's HandleChildCrash: the first crash is logged and every
    /// other worker gets SIGQUIT; the cycle ends in advance_state.
    pub(super) fn handle_crash(&mut self, pid: i32, what: &str, status: i32) {
        let take_action = !self.fatal_error && self.shutdown != SHUTDOWN_IMMEDIATE;
        if take_action {
            log_child_exit(log::LOG, what, pid, status);
            log::emit(log::LOG, "terminating any other active server processes");
            for &p in self.by_pid.keys() {
                kill(p, libc::SIGQUIT);
            }
            self.kill_deadline = Some(Instant::now() + KILL_GRACE);
            self.sv_disarm_all();
        }
        // Workers ended by an immediate shutdown's SIGQUIT are no crash.
        if self.shutdown != SHUTDOWN_IMMEDIATE {
            self.fatal_error = true;
        }
        self.start_queue.clear();
        for rw in self.workers.iter_mut().flatten() {
            rw.queued = false;
        }
    }

    pub(super) fn begin_shutdown(&mut self, mode: i32) {
        let prev = self.shutdown;
        self.shutdown = mode;
        let word = match mode {
            SHUTDOWN_SMART => "smart",
            SHUTDOWN_FAST => "fast",
            _ => "immediate",
        };
        log::emit(log::LOG, &format!("received {word} shutdown request"));
        self.seg.daemon_facts().set_shutdown(mode as u32);
        sd_notify::send(&format!("STOPPING=1\nSTATUS={word} shutdown"));
        // Nothing starts any more: forget every worker that is not running
        // and wake whoever waits for it.
        self.start_queue.clear();
        for i in 0..self.workers.len() {
            if let Some(rw) = &self.workers[i] {
                if rw.pid == 0 {
                    let notify = rw.notify_pid;
                    self.forget(i);
                    self.notify(notify);
                }
            }
        }
        let sig = if mode == SHUTDOWN_IMMEDIATE {
            libc::SIGQUIT
        } else {
            libc::SIGTERM
        };
        if mode == SHUTDOWN_IMMEDIATE || prev == SHUTDOWN_NONE {
            for &p in self.by_pid.keys() {
                kill(p, sig);
            }
        }
        if mode == SHUTDOWN_IMMEDIATE {
            self.sv_disarm_all();
        } else if !self.fatal_error {
            // (During a crash cycle the workers were sent SIGQUIT and the
            // cycle's SIGKILL grace governs them: no stop timeouts.)
            let running: Vec<usize> = self.by_pid.values().copied().collect();
            for i in running {
                self.sv_arm_stop(i);
            }
        }
        for &i in self.by_pid.values() {
            self.seg.slot_facts(i).set_state(STATE_TERMINATING);
        }
        if mode == SHUTDOWN_IMMEDIATE {
            self.kill_deadline = Some(Instant::now() + KILL_GRACE);
        }
    }
}
