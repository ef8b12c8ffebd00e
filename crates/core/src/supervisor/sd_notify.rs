//! systemd's readiness protocol (sd_notify(3)), spoken directly: when
//! `NOTIFY_SOCKET` names a unix datagram socket (a path, or an abstract
//! address written with a leading `@`), the supervisor sends it `READY=1`
//! once it supervises, `STOPPING=1` when a shutdown begins, and `STATUS=`
//! lines saying what it is doing, as PostgreSQL's postmaster does.
//!
//! Caller: the supervisor's loop thread (allocates; not for signal
//! handlers). Without `NOTIFY_SOCKET` every call does nothing. Failures are
//! ignored, as sd_notify's callers do: the service manager may be gone.

/// Send one notification message (newline-separated `KEY=VALUE` lines).
/// Returns whether it was sent (false also when there is no socket).
pub fn send(msg: &str) -> bool {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(addr) => send_to(addr.as_encoded_bytes(), msg),
        None => false,
    }
}

/// Send `msg` to the socket named by `addr` (NOTIFY_SOCKET's syntax).
pub fn send_to(addr: &[u8], msg: &str) -> bool {
    // SAFETY: sockaddr_un is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let (path, abstract_) = match addr.first() {
        Some(b'@') => (&addr[1..], true),
        Some(b'/') => (addr, false),
        // systemd also accepts vsock addresses; bgworkerd does not.
        _ => return false,
    };
    // Abstract names start with a NUL byte; path names need room for their
    // terminating NUL.
    let room = sa.sun_path.len() - 1;
    if path.len() > room || path.is_empty() {
        return false;
    }
    let start = usize::from(abstract_);
    for (i, &b) in path.iter().enumerate() {
        sa.sun_path[start + i] = b as libc::c_char;
    }
    let base = std::mem::size_of::<libc::sa_family_t>();
    let len = if abstract_ {
        base + 1 + path.len()
    } else {
        base + path.len() + 1
    };
    // SAFETY: plain socket(2); the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return false;
    }
    // SAFETY: msg's bytes and the initialised address of `len` bytes are
    // valid for the call; MSG_NOSIGNAL keeps a closed peer from raising
    // SIGPIPE.
    let n = unsafe {
        libc::sendto(
            fd,
            msg.as_ptr().cast(),
            msg.len(),
            libc::MSG_NOSIGNAL,
            (&sa as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        )
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    n == msg.len() as isize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn path_and_abstract_addresses() {
        let dir = std::env::temp_dir().join(format!("bgw-notify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("sock");
        let _ = std::fs::remove_file(&p);
        let rx = UnixDatagram::bind(&p).unwrap();
        assert!(send_to(p.to_str().unwrap().as_bytes(), "READY=1"));
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let _ = std::fs::remove_dir_all(&dir);

        use std::os::linux::net::SocketAddrExt;
        let name = format!("bgw-notify-test-{}", std::process::id());
        let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&a).unwrap();
        assert!(send_to(format!("@{name}").as_bytes(), "STOPPING=1"));
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
        assert!(!send_to(b"relative/name", "READY=1"));
    }
}
