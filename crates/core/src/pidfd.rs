//! Process file descriptors (pidfd_open(2)): a handle on one process that a
//! reused pid can never be mistaken for. The supervisor holds one for each
//! attached process it notifies, an attached process one for its
//! supervisor.
//!
//! Hand-written on purpose: nix and std have no pidfd_open or
//! pidfd_send_signal, and each is one system call; the descriptor itself is
//! an OwnedFd, closed when the Pidfd is dropped.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// An open pidfd (close-on-exec, as pidfd_open always makes it).
#[derive(Debug)]
pub struct Pidfd(OwnedFd);

impl Pidfd {
    /// A pidfd of the live process `pid`; ESRCH when there is none.
    pub fn open(pid: i32) -> io::Result<Pidfd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor or -1; nothing is read or written through pointers.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        Ok(Pidfd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// Send `sig` to the process (as kill(2), but never to a successor
    /// that reused its pid).
    pub fn send_signal(&self, sig: i32) -> io::Result<()> {
        // SAFETY: our open pidfd; a null info pointer means "as kill(2)".
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig,
                std::ptr::null::<u8>(),
                0,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Has the process exited? (Its pidfd is then readable; no wait.)
    pub fn exited(&self) -> bool {
        readable_now(self.0.as_fd())
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for Pidfd {
    fn as_raw_fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

/// Is `fd` readable, hung up or in error right now? (A pidfd of an exited
/// process, or a pipe whose writer is gone.) Errors count as "no".
pub fn readable_now(fd: BorrowedFd<'_>) -> bool {
    let mut p = [PollFd::new(fd, PollFlags::POLLIN)];
    let ready = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
    poll(&mut p, PollTimeout::ZERO).is_ok_and(|n| n > 0)
        && p[0].revents().is_some_and(|r| r.intersects(ready))
}
