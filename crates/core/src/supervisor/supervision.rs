//! The opt-in supervision (policy.rs has the state machine) applied by the
//! supervisor: each worker's policy and history, the restart delay and the
//! give-up limit, readiness, the start and stop timeouts, the watchdog, and
//! the exit records waiters read (shmem/supervision.rs).
//!
//! With nothing configured the effective policy is `Effective::NONE` and
//! every function here leaves PostgreSQL's decision as it was: the delay is
//! `bgw_restart_time`, nothing gives up, no timer is armed. Only the
//! observers' words (exit records, readiness, facts) are written.

use std::collections::VecDeque;

use crate::policy::{Effective, Policy, WatchdogAction};
use crate::shmem::facts::STATE_FAILED;
use crate::shmem::supervision::{
    self as words, ExitRecord, EXIT_CRASH, EXIT_NORMAL, EXIT_START_TIMEOUT, EXIT_STOPPED,
    EXIT_STOP_TIMEOUT, EXIT_WATCHDOG, RD_EXITED, RD_NONE, RD_READY, RD_START_TIMEOUT,
};

use super::*;

/// The supervisor's private supervision record of one registered worker.
#[derive(Debug, Default)]
pub struct WorkerSupervision {
    /// The worker's own policy (set for it, or before its registration).
    pub own: Policy,
    /// The generation of the tenant (the handle's).
    pub generation: u64,
    /// `policy_seq` and `relaunch_seq` as last seen in its words.
    pub policy_seq: u32,
    pub relaunch_seq: u32,
    /// Gave up: not restarted until relaunched.
    pub failed: bool,
    /// The current process said it is ready.
    pub ready: bool,
    /// Starts in this generation (numbers the process, for the timers).
    pub starts: u32,
    /// Consecutive restarts (the backoff's k of the next restart is +1).
    pub backoff_step: u32,
    /// Restarts within the give-up window.
    pub restarts: VecDeque<Instant>,
    pub started_at: Option<Instant>,
    /// Armed deadlines of the current process.
    pub start_deadline: Option<Instant>,
    pub stop_deadline: Option<Instant>,
    pub watchdog_deadline: Option<Instant>,
    /// Monotonic ms of the last check-in seen (or of the start).
    pub checkin_ms: u64,
    /// Why the supervisor killed the current process (EXIT_*), if it did.
    pub kill_reason: Option<u32>,
    /// After a crash cycle: start no earlier than this (its backoff).
    pub crash_restart_at: Option<Instant>,
    /// The give-up LOG line, emitted once the failed state is published
    /// (sv_mark_failed), so that whoever reads the line finds it failed.
    pub give_up_message: Option<String>,
}

const T_START: u8 = 0;
const T_STOP: u8 = 1;
const T_WATCHDOG: u8 = 2;

/// The supervisor's timers of all workers, and its jitter source.
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize, u8, u32)>>,
    rng: u64,
}

impl Timers {
    fn next_unit(&mut self) -> f64 {
        if self.rng == 0 {
            self.rng = crate::shmem::facts::now_ms() ^ 0x9e37_79b9_7f4a_7c15;
        }
        // xorshift64*: jitter needs spread, not secrecy.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Does a kill by the supervisor make this exit count as exit 1 (a plain
/// failure, no crash cycle)?
pub fn counts_as_exit1(kill: Option<u32>, eff: &Effective) -> bool {
    match kill {
        Some(EXIT_START_TIMEOUT | EXIT_STOP_TIMEOUT) => true,
        Some(EXIT_WATCHDOG) => matches!(eff.watchdog, Some((_, WatchdogAction::Exit1))),
        _ => false,
    }
}

/// The reason recorded for an exit.
pub fn exit_reason(kill: Option<u32>, crash: bool, stopped_by_us: bool) -> u32 {
    match kill {
        Some(r) => r,
        None if stopped_by_us => EXIT_STOPPED,
        None if crash => EXIT_CRASH,
        None => EXIT_NORMAL,
    }
}

fn ms(d: u32) -> Duration {
    Duration::from_millis(d as u64)
}

impl Supervisor {
    /// The policy worker `i` runs under (policy.rs, Precedence).
    pub(super) fn effective(&self, i: usize) -> Effective {
        let Some(rw) = &self.workers[i] else {
            return Effective::NONE;
        };
        let s = &self.settings;
        if rw.sv.own.is_empty() && s.worker_policy_by_type.is_empty() && s.worker_policy.is_empty()
        {
            return Effective::NONE;
        }
        Effective::merge(
            &rw.sv.own,
            s.worker_policy_by_type.get(rw.def.type_name().as_str()),
            &s.worker_policy,
        )
    }

    /// A worker was registered in slot `i` (generation `generation`):
    /// read the policy stored for it, and open its exit record.
    pub(super) fn sv_registered(&mut self, i: usize, generation: u64, read_words: bool) {
        let w = self.seg.supervision(i);
        let (own, seq) = w.read_policy(generation);
        let relaunch = w.relaunch_seq();
        w.put_exit_record(&ExitRecord {
            generation,
            ..ExitRecord::default()
        });
        w.set_readiness(generation, RD_NONE, 0, false);
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        rw.sv.generation = generation;
        rw.sv.relaunch_seq = relaunch;
        rw.sv.policy_seq = seq;
        if read_words {
            rw.sv.own = own;
        }
        self.sv_publish_policy(i);
    }

    /// Show worker `i`'s effective policy in its facts (after it changed:
    /// registration, its own policy, a reload).
    pub(super) fn sv_publish_policy(&self, i: usize) {
        let eff = self.effective(i);
        self.seg
            .slot_facts(i)
            .update(|f| f.policy = (!eff.is_none()).then_some(eff));
    }

    /// A slot in use was marked: its policy may have changed, a relaunch
    /// may be asked for, its process may have said it is ready.
    pub(super) fn sv_examine(&mut self, i: usize) {
        let w = self.seg.supervision(i);
        let (seq, relaunch, ready_pid) = (
            w.policy_seq(),
            w.relaunch_seq(),
            w.ready_pid.load(Ordering::Acquire),
        );
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        if seq != rw.sv.policy_seq {
            let (own, seq) = w.read_policy(rw.sv.generation);
            rw.sv.policy_seq = seq;
            // Fields set before are kept unless set again (same tenant).
            rw.sv.own = own;
            self.sv_publish_policy(i);
        }
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        if relaunch != rw.sv.relaunch_seq {
            rw.sv.relaunch_seq = relaunch;
            if rw.sv.failed {
                rw.sv.failed = false;
                rw.sv.restarts.clear();
                rw.sv.backoff_step = 0;
                log::emit(
                    log::LOG,
                    &format!("relaunching failed background worker \"{}\"", rw.def.name()),
                );
                self.seg
                    .slot(i)
                    .pid
                    .store(PID_NOT_STARTED, Ordering::Release);
                self.seg.slot_facts(i).update(|f| {
                    f.state = STATE_NOT_STARTED;
                    f.window_restarts = 0;
                    f.backoff_step = 0;
                });
                self.changed = true;
                self.enqueue(i);
                return;
            }
        }
        if rw.pid > 0 && ready_pid == rw.pid && !rw.sv.ready {
            rw.sv.ready = true;
            rw.sv.start_deadline = None;
            let (generation, pid) = (rw.sv.generation, rw.pid);
            w.set_readiness(generation, RD_READY, pid, false);
            self.seg.slot_facts(i).update(|f| {
                f.ready = true;
                f.ready_ms = facts::now_ms();
            });
            self.changed = true;
        }
    }

    /// Before forking worker `i`: its last process's words are void.
    pub(super) fn sv_before_fork(&self, i: usize) {
        self.seg.supervision(i).clear_process_words();
    }

    /// Worker `i`'s process `pid` was started: count it, arm its timers.
    pub(super) fn sv_started(&mut self, i: usize) {
        let eff = self.effective(i);
        let now = Instant::now();
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        let sv = &mut rw.sv;
        sv.starts = sv.starts.wrapping_add(1);
        sv.ready = false;
        sv.kill_reason = None;
        sv.started_at = Some(now);
        sv.stop_deadline = None;
        sv.start_deadline = eff.start_timeout_ms.map(|t| now + ms(t));
        sv.watchdog_deadline = eff.watchdog.map(|(t, _)| now + ms(t));
        sv.checkin_ms = words::monotonic_ms();
        let (generation, starts, n) = (sv.generation, sv.starts, sv.starts);
        if let Some(d) = sv.start_deadline {
            self.sv.heap.push(Reverse((d, i, T_START, n)));
        }
        if let Some(d) = sv.watchdog_deadline {
            self.sv.heap.push(Reverse((d, i, T_WATCHDOG, n)));
        }
        let w = self.seg.supervision(i);
        w.set_readiness(generation, RD_NONE, 0, false);
        let mut rec = w.exit_record(generation).flatten().unwrap_or(ExitRecord {
            generation,
            ..ExitRecord::default()
        });
        rec.starts = starts;
        w.put_exit_record(&rec);
    }

    /// Worker `i`'s process ended with `status` (`reason`: EXIT_*): record
    /// it for its handle's readers and disarm its timers.
    pub(super) fn sv_exited(&mut self, i: usize, status: i32, crash: bool, reason: u32) {
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        let sv = &mut rw.sv;
        let was_ready = sv.ready;
        sv.ready = false;
        sv.start_deadline = None;
        sv.stop_deadline = None;
        sv.watchdog_deadline = None;
        let (generation, starts) = (sv.generation, sv.starts);
        let w = self.seg.supervision(i);
        w.put_exit_record(&ExitRecord {
            generation,
            exited: true,
            status,
            crash,
            ready: was_ready,
            reason,
            starts,
            time_ms: facts::now_ms(),
        });
        if was_ready {
            w.set_readiness(generation, RD_NONE, 0, false);
        } else {
            let st = if reason == EXIT_START_TIMEOUT {
                RD_START_TIMEOUT
            } else {
                RD_EXITED
            };
            w.set_readiness(generation, st, 0, true);
        }
        self.seg.slot_facts(i).update(|f| {
            f.exit_reason = reason;
            f.ready = false;
        });
    }

    /// Worker `i` exited and would be restarted: count the restart. Returns
    /// the delay before it starts again, or None if it passed its give-up
    /// limit (it is then `failed`, logged). `fixed` is PostgreSQL's delay.
    pub(super) fn sv_restart_delay(&mut self, i: usize, fixed: Duration) -> Option<Duration> {
        let eff = self.effective(i);
        if eff.is_none() {
            return Some(fixed);
        }
        let unit = self.sv.next_unit();
        let now = Instant::now();
        let rw = self.workers[i].as_mut()?;
        let sv = &mut rw.sv;
        if let Some((limit, window)) = eff.give_up {
            sv.restarts.push_back(now);
            while sv
                .restarts
                .front()
                .is_some_and(|t| now.duration_since(*t) > ms(window))
            {
                sv.restarts.pop_front();
            }
            let count = sv.restarts.len();
            if count > limit as usize {
                sv.failed = true;
                sv.crash_restart_at = None;
                let name = rw.def.name();
                sv.give_up_message = Some(format!(
                    "giving up on background worker \"{name}\": {count} restarts within {window} ms exceed give_up_restarts = {limit}; it stays failed until relaunched"
                ));
                self.seg
                    .slot_facts(i)
                    .update(|f| f.window_restarts = count as u32);
                return None;
            }
        }
        let window_restarts = sv.restarts.len() as u32;
        let delay = match eff.backoff {
            None => fixed,
            Some(b) => {
                let up = sv.started_at.map(|t| now.duration_since(t));
                if b.reset_after_ms > 0 && up.is_some_and(|u| u >= ms(b.reset_after_ms)) {
                    sv.backoff_step = 0;
                }
                sv.backoff_step = sv.backoff_step.saturating_add(1);
                ms(b.delay_ms(sv.backoff_step, unit))
            }
        };
        let step = sv.backoff_step;
        self.seg.slot_facts(i).update(|f| {
            f.window_restarts = window_restarts;
            f.backoff_step = step;
        });
        Some(delay)
    }

    /// Worker `i` gave up: kept in its slot, not running, state failed;
    /// then the give-up line, if it is new.
    pub(super) fn sv_mark_failed(&mut self, i: usize) {
        self.seg.slot(i).pid.store(0, Ordering::Release);
        self.seg.slot_facts(i).update(|f| {
            f.state = STATE_FAILED;
            f.restart_at_ms = 0;
        });
        self.changed = true;
        if let Some(m) = self.workers[i]
            .as_mut()
            .and_then(|rw| rw.sv.give_up_message.take())
        {
            log::emit(log::LOG, &m);
        }
    }

    /// The crash of worker `i` (the one that started the cycle): its
    /// restart after the cycle waits for its backoff, or it gives up.
    pub(super) fn sv_crashed(&mut self, i: usize) {
        let restartable = self.workers[i]
            .as_ref()
            .is_some_and(|rw| !rw.never_restart() && !rw.terminate)
            && self.shutdown == SHUTDOWN_NONE;
        if !restartable || self.effective(i).is_none() {
            return;
        }
        let now = Instant::now();
        match self.sv_restart_delay(i, Duration::ZERO) {
            Some(d) => {
                if let Some(rw) = self.workers[i].as_mut() {
                    rw.sv.crash_restart_at = (d > Duration::ZERO).then_some(now + d);
                }
            }
            None => self.sv_mark_failed(i),
        }
    }

    /// End of a crash cycle, before the workers are queued again: failed
    /// workers stay failed, a crasher with a backoff waits for it.
    pub(super) fn sv_after_crash_reset(&mut self) {
        let now = Instant::now();
        for i in 0..self.workers.len() {
            let Some(rw) = self.workers[i].as_mut() else {
                continue;
            };
            if rw.sv.failed {
                self.sv_mark_failed(i);
                continue;
            }
            if let Some(at) = rw.sv.crash_restart_at.take() {
                if at > now {
                    rw.restart_at = Some(at);
                    self.restarts.push(Reverse((at, i)));
                    self.seg.slot_facts(i).restart_at(facts::instant_ms(at));
                }
            }
        }
    }

    /// SIGTERM was sent to worker `i` (terminate, smart or fast shutdown):
    /// arm its stop timeout.
    pub(super) fn sv_arm_stop(&mut self, i: usize) {
        let Some(t) = self.effective(i).stop_timeout_ms else {
            return;
        };
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        if rw.pid <= 0 || rw.sv.stop_deadline.is_some() {
            return;
        }
        let d = Instant::now() + ms(t);
        rw.sv.stop_deadline = Some(d);
        self.sv.heap.push(Reverse((d, i, T_STOP, rw.sv.starts)));
    }

    /// An immediate shutdown or a crash cycle: stop timeouts do not apply
    /// (PostgreSQL's SIGKILL grace does); nor do start timeouts and
    /// watchdogs of processes being stopped.
    pub(super) fn sv_disarm_all(&mut self) {
        for rw in self.workers.iter_mut().flatten() {
            rw.sv.stop_deadline = None;
            rw.sv.start_deadline = None;
            rw.sv.watchdog_deadline = None;
        }
    }

    pub(super) fn sv_next_deadline(&self) -> Option<Instant> {
        self.sv.heap.peek().map(|Reverse((t, ..))| *t)
    }

    /// Fire the supervision timers that are due.
    pub(super) fn sv_run_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((t, i, kind, n))) = self.sv.heap.peek().copied() {
            if t > now {
                break;
            }
            self.sv.heap.pop();
            let eff = self.effective(i);
            let Some(rw) = self.workers[i].as_mut() else {
                continue;
            };
            if rw.pid <= 0 || rw.sv.starts != n || rw.sv.kill_reason.is_some() {
                continue;
            }
            // A process being stopped (terminate, shutdown, crash cycle)
            // is past its start and no longer watched: only its stop
            // timeout applies.
            let stopping = rw.terminate || self.shutdown != SHUTDOWN_NONE || self.fatal_error;
            if stopping && kind != T_STOP {
                continue;
            }
            let (pid, name) = (rw.pid, rw.def.name());
            let sv = &mut rw.sv;
            let why = match kind {
                T_START if sv.start_deadline == Some(t) && !sv.ready => {
                    sv.start_deadline = None;
                    let ms = eff.start_timeout_ms.unwrap_or(0);
                    Some((
                        EXIT_START_TIMEOUT,
                        format!("background worker \"{name}\" (PID {pid}) was not ready within {ms} ms (start_timeout); sending SIGKILL"),
                    ))
                }
                T_STOP if sv.stop_deadline == Some(t) => {
                    sv.stop_deadline = None;
                    let ms = eff.stop_timeout_ms.unwrap_or(0);
                    Some((
                        EXIT_STOP_TIMEOUT,
                        format!("background worker \"{name}\" (PID {pid}) did not stop within {ms} ms of SIGTERM (stop_timeout); sending SIGKILL"),
                    ))
                }
                T_WATCHDOG if sv.watchdog_deadline == Some(t) => {
                    let Some((interval, _)) = eff.watchdog else {
                        sv.watchdog_deadline = None;
                        continue;
                    };
                    // Believe a check-in only from the process we forked,
                    // and never from the future.
                    let w = self.seg.supervision(i);
                    let mono = words::monotonic_ms();
                    if w.checkin_pid.load(Ordering::Acquire) == pid {
                        let c = w.checkin_ms.load(Ordering::Acquire).min(mono);
                        sv.checkin_ms = sv.checkin_ms.max(c);
                    }
                    let due = sv.checkin_ms.saturating_add(interval as u64);
                    if due > mono {
                        let d = now + Duration::from_millis(due - mono);
                        sv.watchdog_deadline = Some(d);
                        self.sv.heap.push(Reverse((d, i, T_WATCHDOG, n)));
                        continue;
                    }
                    sv.watchdog_deadline = None;
                    Some((
                        EXIT_WATCHDOG,
                        format!("background worker \"{name}\" (PID {pid}) missed its watchdog check-in for {} ms (watchdog_interval {interval} ms); sending SIGKILL", mono - sv.checkin_ms),
                    ))
                }
                _ => None,
            };
            if let Some((reason, msg)) = why {
                sv.kill_reason = Some(reason);
                log::emit(log::LOG, &msg);
                kill(pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_units_lie_in_zero_to_one_and_vary() {
        let mut t = Timers::default();
        let v: Vec<f64> = (0..1000).map(|_| t.next_unit()).collect();
        assert!(v.iter().all(|u| (0.0..1.0).contains(u)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }

    #[test]
    fn what_a_supervision_kill_counts_as() {
        let wd = |a| Effective {
            watchdog: Some((100, a)),
            ..Effective::NONE
        };
        assert!(counts_as_exit1(Some(EXIT_START_TIMEOUT), &Effective::NONE));
        assert!(counts_as_exit1(Some(EXIT_STOP_TIMEOUT), &Effective::NONE));
        assert!(counts_as_exit1(
            Some(EXIT_WATCHDOG),
            &wd(WatchdogAction::Exit1)
        ));
        assert!(!counts_as_exit1(
            Some(EXIT_WATCHDOG),
            &wd(WatchdogAction::Crash)
        ));
        assert!(!counts_as_exit1(None, &wd(WatchdogAction::Exit1)));
        assert_eq!(exit_reason(None, true, false), EXIT_CRASH);
        assert_eq!(exit_reason(None, true, true), EXIT_STOPPED);
        assert_eq!(exit_reason(None, false, false), EXIT_NORMAL);
        assert_eq!(exit_reason(Some(EXIT_WATCHDOG), true, true), EXIT_WATCHDOG);
    }
}
