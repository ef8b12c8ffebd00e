//! bgw_notify_pid: SIGUSR1 to the process a registration names, and the
//! cache of pidfds that proves an attached process is still the one that
//! registered (so that a reused pid is never signalled).

use super::*;

impl Supervisor {
    /// Send SIGUSR1 to a notify pid: a worker by pid (it is our child, so
    /// the pid cannot have been reused before we reaped it), an attached
    /// process through its pidfd (so a reused pid is never signalled).
    pub(super) fn notify(&mut self, pid: i32) {
        if pid == 0 {
            return;
        }
        if let Some(&slot) = self.by_pid.get(&pid) {
            // A registrant that is a worker is woken as a PostgreSQL
            // backend is: its latch set, then the signal.
            (crate::hooks::get().notify_worker)(slot, pid);
            kill(pid, libc::SIGUSR1);
        } else if let Some(fd) = self.attached.get(&pid) {
            if fd.send_signal(libc::SIGUSR1).is_err() {
                self.forget_attached(pid);
            }
        }
    }

    /// Is `pid` a process of this supervisor: one of its workers, or a
    /// process attached to its segment (PostgreSQL accepts only its own
    /// backends)? Attached processes are recognised by the segment in
    /// their mappings, once, and then held by a pidfd.
    pub(super) fn valid_notify_target(&mut self, pid: i32) -> bool {
        if pid <= 0 {
            return false;
        }
        if self.by_pid.contains_key(&pid) {
            return true;
        }
        if let Some(fd) = self.attached.get(&pid) {
            if !fd.exited() {
                return true;
            }
            self.forget_attached(pid);
        }
        // The pidfd is kept while its process lives (a process that
        // registers once usually registers again). The descriptors of
        // processes that have exited go back first, so they never crowd
        // out a new one; the cache is bounded (ATTACHED_CACHE_MAX).
        self.sweep_attached();
        if self.attached.len() >= ATTACHED_CACHE_MAX {
            log::emit(
                log::LOG,
                &format!(
                    "worker notification PID {pid} ignored: {ATTACHED_CACHE_MAX} attached processes are already notified"
                ),
            );
            return false;
        }
        let out_of_fds = |what: &str, e: &std::io::Error| {
            log::emit(
                log::LOG,
                &format!(
                    "worker notification PID {pid} ignored: could not {what}: {}",
                    crate::io_text(e)
                ),
            );
        };
        let fd = match Pidfd::open(pid) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                out_of_fds("open a process descriptor for it", &e);
                return false;
            }
            // ESRCH: the process is gone already.
            Err(_) => return false,
        };
        // Opened before the check, so the pid cannot change hands between
        // the two: the process checked is the one the pidfd holds.
        let needle = format!("/dev/shm{}", self.seg.name());
        let maps = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            Ok(m) => m,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                out_of_fds("read its memory map", &e);
                return false;
            }
            Err(_) => return false,
        };
        if !maps.lines().any(|l| l.ends_with(&needle)) {
            return false;
        }
        self.attached.insert(pid, fd);
        true
    }

    /// Drop the pidfds of attached processes that have exited.
    pub(super) fn sweep_attached(&mut self) {
        let gone: Vec<i32> = self
            .attached
            .iter()
            .filter(|(_, fd)| fd.exited())
            .map(|(&pid, _)| pid)
            .collect();
        for pid in gone {
            self.forget_attached(pid);
        }
    }

    pub(super) fn forget_attached(&mut self, pid: i32) {
        // Dropping the Pidfd closes it.
        self.attached.remove(&pid);
    }

    pub(super) fn add_notify_ref(&mut self, pid: i32) {
        if pid != 0 {
            *self.notify_refs.entry(pid).or_insert(0) += 1;
        }
    }

    pub(super) fn drop_notify_ref(&mut self, pid: i32) {
        if let Some(n) = self.notify_refs.get_mut(&pid) {
            *n -= 1;
            if *n == 0 {
                self.notify_refs.remove(&pid);
            }
        }
    }
}
