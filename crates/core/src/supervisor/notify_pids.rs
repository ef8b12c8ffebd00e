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
        if self.by_pid.contains_key(&pid) {
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
        let Ok(fd) = Pidfd::open(pid) else {
            return false;
        };
        let needle = format!("/dev/shm{}", self.seg.name());
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        if !maps.lines().any(|l| l.ends_with(&needle)) {
            return false;
        }
        // The pidfd is kept while its process lives (a process that
        // registers once usually registers again); processes that have
        // exited are swept out before the cache grows further.
        if self.attached.len() >= ATTACHED_CACHE_SWEEP {
            self.sweep_attached();
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
