//! The sentinel: a tiny process that outlives a supervisor killed without
//! warning (SIGKILL, a crash) long enough to wake every waiter sleeping on
//! the segment's `change_seq` futex, so that they learn of the death at
//! once instead of at their next periodic check ([`crate::backend::DEATH_CHECK`]).
//!
//! The sentinel decides nothing. It watches two things only the kernel can
//! report: a pidfd of the supervisor's process (readable once that process
//! has exited, which is after its descriptors closed, so after the
//! supervisor lock and the death pipe's write end went away) and the read
//! end of the death pipe (hung up when the supervisor's image is gone, e.g.
//! an exec). When either fires it bumps `change_seq` and wakes all its
//! futex waiters, then exits. Each waiter then asks the process itself
//! (death pipe, pidfd, supervisor lock: Connection::supervisor_alive)
//! whether the supervisor is gone; a wake-up from the sentinel, like any
//! other, is only a hint. A forged or missing wake-up therefore changes
//! nothing but latency: the periodic check stays as the fallback.
//!
//! Life cycle (who may call what):
//! - [`Sentinel::start`] is called by the supervisor's loop thread, before
//!   any worker is forked and again if the sentinel dies (it is restarted).
//! - The child runs [`sentinel_main`] only: raw system calls, no
//!   allocation, no lock, no atfork handler (it is created with a raw
//!   clone(2), so that a threaded host's and modules' pthread_atfork
//!   handlers do not run): async-signal-safe throughout.
//! - [`Sentinel::stop`] on every way out of a supervisor that returns
//!   (SIGKILL through the pidfd, then reaped), so an embedding host keeps no
//!   process and no zombie of it. A supervisor process that dies leaves the
//!   sentinel to its reaper; the sentinel then exits within milliseconds.
//! - It blocks every signal it can, so that a terminal's Ctrl-C or a
//!   signal to the process group (which it shares with bgworkerd) does not
//!   end it before the supervisor; only SIGKILL and SIGSTOP reach it.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::pidfd::Pidfd;

/// The sentinel's process name (what `ps -o comm` shows; 15 bytes at most).
pub const SENTINEL_NAME: &[u8] = b"bgw_sentinel\0";

/// A running sentinel, child of the supervisor's process.
pub(super) struct Sentinel {
    pub pid: i32,
    pidfd: Option<Pidfd>,
}

impl Sentinel {
    /// Fork the sentinel. `change_seq` is the segment's futex word (the
    /// child keeps the inherited mapping), `death_r` the death pipe's read
    /// end. Errors leave nothing behind; the supervisor then runs without
    /// one (waiters fall back to the periodic check).
    pub(super) fn start(change_seq: &AtomicU32, death_r: RawFd) -> io::Result<Sentinel> {
        // A pidfd of our own process, opened before the fork and inherited:
        // the child can never end up watching a process that reused our pid.
        // SAFETY: getpid has no preconditions.
        let me = Pidfd::open(unsafe { libc::getpid() })?;
        let word = change_seq as *const AtomicU32 as usize;
        let me_fd = me.as_raw_fd();
        // SAFETY: a raw fork (clone with only SIGCHLD as the exit signal and
        // no new stack: the child runs on a copy of this stack). The child
        // runs sentinel_main only, which uses raw system calls and never
        // returns; the parent continues normally.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                libc::SIGCHLD as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: the new child; the word lies in the shared mapping,
            // which the child inherited; the descriptors are its copies.
            unsafe { sentinel_main(word as *const AtomicU32, me_fd, death_r) }
        }
        let pid = pid as i32;
        drop(me);
        // Our own handle on the child, to stop it for certain (we are its
        // parent and have not reaped it, so the pid is still the child's).
        let pidfd = Pidfd::open(pid).ok();
        Ok(Sentinel { pid, pidfd })
    }

    /// The descriptor a worker must not inherit (closed in the child).
    pub(super) fn raw_fd(&self) -> RawFd {
        self.pidfd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// End the sentinel and reap it (the supervisor is returning). The host
    /// may have reaped it already (a SIGCHLD handler calling wait, or
    /// SIGCHLD ignored): ECHILD is fine. The wait for its end goes through
    /// the pidfd and is bounded, so that a host whose SIGCHLD is ignored
    /// (where waitpid would wait for all its children) is not held up.
    pub(super) fn stop(self) {
        let mut st = 0;
        match &self.pidfd {
            Some(p) => {
                let _ = p.send_signal(libc::SIGKILL);
                let mut fds = [nix::poll::PollFd::new(
                    p.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                )];
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(1000u16));
                // SAFETY: reaping our own child if it is a zombie; st is a
                // valid int.
                unsafe { libc::waitpid(self.pid, &mut st, libc::WNOHANG) };
            }
            None => {
                // SAFETY: our unreaped child (see start): the pid is still its.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
                loop {
                    // SAFETY: waiting for our own child; st is a valid int.
                    let r = unsafe { libc::waitpid(self.pid, &mut st, 0) };
                    if r >= 0 || crate::errno() != libc::EINTR {
                        break;
                    }
                }
            }
        }
    }
}

/// Close every descriptor but `keep` (sorted, distinct).
/// Async-signal-safe (close_range(2)).
fn close_all_but(keep: [RawFd; 2]) {
    let mut from: u32 = 0;
    for k in keep {
        let k = k as u32;
        if k > from {
            // SAFETY: closing descriptors of this (child) process only.
            unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0u32) };
        }
        from = k + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) };
}

/// The sentinel process. Async-signal-safe: raw system calls and atomics.
///
/// # Safety
/// Called only in the child of [`Sentinel::start`]'s clone, with `word`
/// pointing into the inherited shared mapping.
unsafe fn sentinel_main(word: *const AtomicU32, sup_pidfd: RawFd, death_r: RawFd) -> ! {
    // SAFETY: (whole function) raw system calls on this process's own
    // descriptors and mask; `word` is valid for the life of the process
    // (the mapping is never unmapped here).
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &all as *const libc::sigset_t,
            std::ptr::null_mut::<libc::sigset_t>(),
            8usize,
        );
        libc::prctl(
            libc::PR_SET_NAME,
            SENTINEL_NAME.as_ptr() as libc::c_ulong,
            0,
            0,
            0,
        );
        // Nothing of the supervisor's (pid file lock, segment lock, pipes,
        // the terminal) stays open here.
        let mut keep = [sup_pidfd, death_r];
        keep.sort_unstable();
        close_all_but(keep);
        let mut fds = [
            libc::pollfd {
                fd: sup_pidfd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: death_r,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        loop {
            fds[0].revents = 0;
            fds[1].revents = 0;
            let n = libc::poll(fds.as_mut_ptr(), 2, -1);
            if n > 0 {
                break;
            }
            if n < 0 && *libc::__errno_location() != libc::EINTR {
                break;
            }
        }
        if fds[0].revents == 0 {
            // The pipe hung up first: the supervisor's descriptors are
            // closing. If its process is dying, its pidfd becomes readable
            // within moments; wait for that (bounded), so that the waiters
            // we wake find the death already visible to them.
            fds[0].revents = 0;
            libc::poll(fds.as_mut_ptr(), 1, 1000);
        }
        let w = &*word;
        w.fetch_add(1, Ordering::SeqCst);
        crate::backend::futex_wake_all(w);
        libc::_exit(0);
    }
}

impl super::Supervisor {
    /// Is `pid` this supervisor's sentinel?
    pub(super) fn is_sentinel(&self, pid: i32) -> bool {
        self.sentinel.as_ref().is_some_and(|s| s.pid == pid)
    }

    /// The sentinel ended while this supervisor runs (someone killed it):
    /// it is no worker and no crash; start another one unless shutting
    /// down. Called by reap with the child already reaped.
    pub(super) fn sentinel_exited(&mut self, pid: i32, status: i32) {
        // Reaped already: only the pidfd is left to close.
        self.sentinel = None;
        super::lifecycle::log_child_exit(crate::log::LOG, "supervisor sentinel", pid, status);
        if self.shutdown != super::SHUTDOWN_NONE {
            return;
        }
        match Sentinel::start(&self.seg.header().change_seq, self.death_r.as_raw_fd()) {
            Ok(s) => self.sentinel = Some(s),
            Err(e) => crate::log::emit(
                crate::log::LOG,
                &format!(
                    "could not start the supervisor's sentinel process: {}",
                    crate::io_text(&e)
                ),
            ),
        }
    }
}
