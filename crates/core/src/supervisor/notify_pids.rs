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
        } else if let Some(&fd) = self.attached.get(&pid) {
            // SAFETY: fd is our pidfd of that process; null info = as kill.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd,
                    libc::SIGUSR1,
                    std::ptr::null::<u8>(),
                    0,
                )
            };
            if r != 0 {
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
        if let Some(&fd) = self.attached.get(&pid) {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no wait.
            if unsafe { libc::poll(&mut p, 1, 0) } == 0 {
                return true;
            }
            self.forget_attached(pid);
        }
        // SAFETY: pidfd_open returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            return false;
        }
        let needle = format!("/dev/shm{}", self.seg.name());
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        if maps.lines().any(|l| l.ends_with(&needle)) {
            // SAFETY: our own fresh descriptor.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            // The pidfd is kept while its process lives (a process that
            // registers once usually registers again); processes that have
            // exited are swept out before the cache grows further.
            if self.attached.len() >= ATTACHED_CACHE_SWEEP {
                self.sweep_attached();
            }
            self.attached.insert(pid, fd);
            true
        } else {
            // SAFETY: closing our own descriptor.
            unsafe { libc::close(fd) };
            false
        }
    }

    /// Drop the pidfds of attached processes that have exited.
    pub(super) fn sweep_attached(&mut self) {
        let gone: Vec<i32> = self
            .attached
            .iter()
            .filter(|(_, &fd)| {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd, no wait.
                (unsafe { libc::poll(&mut p, 1, 0) }) != 0
            })
            .map(|(&pid, _)| pid)
            .collect();
        for pid in gone {
            self.forget_attached(pid);
        }
    }

    pub(super) fn forget_attached(&mut self, pid: i32) {
        if let Some(fd) = self.attached.remove(&pid) {
            // SAFETY: the map owned this descriptor.
            unsafe { libc::close(fd) };
        }
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
