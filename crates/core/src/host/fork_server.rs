//! The fork server of an embedding host (opt-in: bgw_host_start_fork_server).
//!
//! Forking copies the parent's page tables, so a host with a big heap pays
//! for its heap at every worker start (about 5 ms per fork of a 200 MB
//! process on a small machine, against 0.15 ms). A host that calls
//! bgw_host_start_fork_server early, while it is still small, gets a child
//! process, the fork server, that does from then on what the host's own
//! process would do: settings, module loads (and their `_PG_init`), the
//! static registrations, and bgw_host_run's supervisor, which forks the
//! workers. The host's later calls are forwarded to it:
//!
//! - bgw_host_set: applied in the host (for its own log level and the same
//!   error) and in the server;
//! - bgw_host_load_library: in the server only (the module's `_PG_init`
//!   runs where the workers are forked from, as in PostgreSQL's postmaster);
//! - RegisterBackgroundWorker in the host: recorded by the host as usual
//!   and handed to the server, in order, with the policy
//!   bgw_set_next_policy gave it, before the next load or run;
//! - bgw_host_run: the server runs the supervisor; the host's call returns
//!   its result when the supervisor returns;
//! - bgw_host_set_start_phase, bgw_host_request_shutdown: a message on a
//!   second socket (one send(2): async-signal-safe), which a thread of the
//!   server turns into the same call there.
//!
//! So a worker inherits the host as it was at bgw_host_start_fork_server
//! (memory, descriptors, signal dispositions, environment, working
//! directory), plus what the library did in the server since; nothing the
//! host allocated, wrote, opened or installed after that call.
//!
//! The server lives as long as the host: when the host's end of its
//! sockets closes (the host exited or died), a supervisor running in the
//! server gets an immediate shutdown (its workers get SIGQUIT, and the
//! segment and pid file go), and the server exits. A child the host forks
//! without exec keeps the host's ends open (they are close-on-exec only),
//! and with them the server, until it exits too.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::abi::BackgroundWorker;
use crate::log;
use crate::policy::Policy;
use crate::process::loader;
use crate::settings;
use crate::supervisor::{self, registry};

/// Host side: the server's pid, or 0 when no server runs.
static SERVER_PID: AtomicI32 = AtomicI32::new(0);
/// Host side: the control socket (phase, shutdown), for signal handlers.
static CONTROL_FD: AtomicI32 = AtomicI32::new(-1);

/// Host side: the request socket, and how many of the host's static
/// registrations the server has been given.
struct Requests {
    sock: UnixDatagram,
    statics_sent: usize,
}
static REQUESTS: Mutex<Option<Requests>> = Mutex::new(None);

const REQ_SET: u8 = b'S';
const REQ_LOAD: u8 = b'L';
const REQ_STATIC: u8 = b'W';
const REQ_RUN: u8 = b'R';
const CTL_PHASE: u8 = b'P';
const CTL_SHUTDOWN: u8 = b'Q';

/// Largest request or reply (a definition is under 2 kB; paths and
/// messages are shorter than this).
const MAX_MSG: usize = 16 * 1024;

/// A connected pair of SOCK_SEQPACKET sockets (message boundaries, and a
/// read of 0 once the other end is closed), close-on-exec, as
/// `UnixDatagram`s for their send/recv.
fn seqpacket_pair() -> std::io::Result<(UnixDatagram, UnixDatagram)> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair writes two descriptors into a 2-element array.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: two fresh descriptors that nothing else owns.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((UnixDatagram::from(a), UnixDatagram::from(b)))
}

/// Is a fork server serving this (host) process?
pub fn active() -> bool {
    SERVER_PID.load(Ordering::Acquire) > 0
}

/// Start the fork server (bgw_host_start_fork_server). Host process only,
/// before any supervisor ran in it; the caller's thread should live as
/// long as the host (see the module comment).
pub fn start() -> Result<i32, String> {
    if active() {
        return Err("bgw_host_start_fork_server: a fork server is already running".into());
    }
    if registry::SUPERVISOR_RUNNING.load(Ordering::SeqCst) {
        return Err(
            "bgw_host_start_fork_server: a supervisor has already run in this process".into(),
        );
    }
    if crate::backend::role().is_some() {
        return Err(
            "bgw_host_start_fork_server: only a host that is not attached to a supervisor can start one"
                .into(),
        );
    }
    let err = |what: &str, e: std::io::Error| {
        format!(
            "bgw_host_start_fork_server: could not {what}: {}",
            crate::io_text(&e)
        )
    };
    let (req_host, req_server) = seqpacket_pair().map_err(|e| err("create a socket", e))?;
    let (ctl_host, ctl_server) = seqpacket_pair().map_err(|e| err("create a socket", e))?;
    // Flush stdio first, or the server's exit would write the host's
    // buffered output again.
    // SAFETY: fflush(NULL) flushes all output streams.
    unsafe { libc::fflush(std::ptr::null_mut()) };
    // SAFETY: plain fork; the child runs serve(), which never returns.
    match unsafe { libc::fork() } {
        -1 => Err(err("fork", std::io::Error::last_os_error())),
        0 => {
            drop(req_host);
            drop(ctl_host);
            serve(req_server, ctl_server)
        }
        pid => {
            drop(req_server);
            drop(ctl_server);
            CONTROL_FD.store(ctl_host.as_raw_fd(), Ordering::Release);
            // The control socket lives as long as the process.
            std::mem::forget(ctl_host);
            // The server has its own copy of the registrations made so far.
            *REQUESTS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Requests {
                sock: req_host,
                statics_sent: registry::static_workers().len(),
            });
            SERVER_PID.store(pid, Ordering::Release);
            Ok(pid)
        }
    }
}

/// One request to the server and its reply: `(status, message)`.
fn request(r: &mut Requests, tag: u8, payload: &[u8]) -> Result<(i32, String), String> {
    let mut msg = Vec::with_capacity(payload.len() + 1);
    msg.push(tag);
    msg.extend_from_slice(payload);
    let sent = r.sock.send(&msg);
    let lost = || "the fork server has exited".to_string();
    if sent.is_err() {
        return Err(lost());
    }
    let mut buf = vec![0u8; MAX_MSG];
    let n = loop {
        match r.sock.recv(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(lost()),
        }
    };
    if n < 4 {
        return Err(lost());
    }
    let status = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    Ok((status, String::from_utf8_lossy(&buf[4..n]).into_owned()))
}

/// Fields of a policy in a static registration's request.
const POLICY_FIELDS: usize = 11;
/// Each field as a presence byte and an 8-byte little-endian value.
const POLICY_BYTES: usize = POLICY_FIELDS * 9;

/// A policy as request bytes (read back by [`policy_from`]).
fn policy_bytes(p: &Policy) -> Vec<u8> {
    let vals: [Option<u64>; POLICY_FIELDS] = [
        p.backoff_initial_ms.map(u64::from),
        p.backoff_factor.map(f64::to_bits),
        p.backoff_cap_ms.map(u64::from),
        p.backoff_jitter.map(f64::to_bits),
        p.backoff_reset_after_ms.map(u64::from),
        p.give_up_restarts.map(|n| n as i64 as u64),
        p.give_up_window_ms.map(u64::from),
        p.start_timeout_ms.map(u64::from),
        p.stop_timeout_ms.map(u64::from),
        p.watchdog_ms.map(u64::from),
        p.watchdog_action.map(|a| a.code() as i64 as u64),
    ];
    let mut out = Vec::with_capacity(POLICY_BYTES);
    for v in vals {
        out.push(u8::from(v.is_some()));
        out.extend_from_slice(&v.unwrap_or(0).to_le_bytes());
    }
    out
}

/// The policy of [`policy_bytes`], checked again.
fn policy_from(b: &[u8]) -> Result<Policy, String> {
    let bad = || "malformed request".to_string();
    if b.len() != POLICY_BYTES {
        return Err(bad());
    }
    let mut v = [None; POLICY_FIELDS];
    for (slot, c) in v.iter_mut().zip(b.chunks_exact(9)) {
        let mut n = [0u8; 8];
        n.copy_from_slice(&c[1..]);
        *slot = match c[0] {
            0 => None,
            1 => Some(u64::from_le_bytes(n)),
            _ => return Err(bad()),
        };
    }
    let ms = |x: Option<u64>| x.map(|n| u32::try_from(n).map_err(|_| bad())).transpose();
    let p = Policy {
        backoff_initial_ms: ms(v[0])?,
        backoff_factor: v[1].map(f64::from_bits),
        backoff_cap_ms: ms(v[2])?,
        backoff_jitter: v[3].map(f64::from_bits),
        backoff_reset_after_ms: ms(v[4])?,
        give_up_restarts: v[5]
            .map(|n| i32::try_from(n as i64).map_err(|_| bad()))
            .transpose()?,
        give_up_window_ms: ms(v[6])?,
        start_timeout_ms: ms(v[7])?,
        stop_timeout_ms: ms(v[8])?,
        watchdog_ms: ms(v[9])?,
        watchdog_action: v[10]
            .map(|n| crate::policy::WatchdogAction::from_code(n as i64 as i32).ok_or_else(bad))
            .transpose()?,
    };
    p.validate()?;
    Ok(p)
}

/// A definition's bytes, for a process running this very library.
fn worker_bytes(w: &BackgroundWorker) -> &[u8] {
    // SAFETY: BackgroundWorker is plain data (repr(C), Copy); its bytes go
    // to a process running this very library, which reads them back as
    // the same type.
    unsafe {
        std::slice::from_raw_parts(
            (w as *const BackgroundWorker).cast::<u8>(),
            std::mem::size_of::<BackgroundWorker>(),
        )
    }
}

/// Hand the host's static registrations the server has not had yet, each
/// with the policy set for it (bgw_set_next_policy).
fn send_statics(r: &mut Requests) -> Result<(), String> {
    let all = registry::static_workers();
    let policies = registry::static_policies();
    while r.statics_sent < all.len() {
        let w = &all[r.statics_sent];
        let p = policies.get(r.statics_sent).copied().unwrap_or_default();
        let mut msg = worker_bytes(w).to_vec();
        msg.extend_from_slice(&policy_bytes(&p));
        request(r, REQ_STATIC, &msg)?;
        r.statics_sent += 1;
    }
    Ok(())
}

fn with_requests<T>(f: impl FnOnce(&mut Requests) -> Result<T, String>) -> Result<T, String> {
    let mut g = REQUESTS.lock().unwrap_or_else(|e| e.into_inner());
    match g.as_mut() {
        Some(r) => f(r),
        None => Err("the fork server has exited".into()),
    }
}

/// bgw_host_set's forwarding (the host has applied the setting already).
pub fn set(name: &str, value: &str) -> Result<(), String> {
    let mut p = name.as_bytes().to_vec();
    p.push(0);
    p.extend_from_slice(value.as_bytes());
    match with_requests(|r| request(r, REQ_SET, &p))? {
        (0, _) => Ok(()),
        (_, m) => Err(m),
    }
}

/// A relative path the host gives, made absolute against the host's
/// working directory now: the server's is still the one the host had when
/// it started the server.
fn host_path(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    match std::env::current_dir() {
        Ok(d) => d.join(p).to_string_lossy().into_owned(),
        Err(_) => p.to_string(),
    }
}

/// bgw_host_load_library in the server. A name with a directory part is a
/// path (relative to the host's working directory, as without a server);
/// a bare name or one starting with `$libdir` is looked up as usual.
pub fn load_library(name: &str) -> Result<(), String> {
    let name = if name.contains('/') && !name.starts_with('$') {
        host_path(name)
    } else {
        name.to_string()
    };
    with_requests(|r| {
        send_statics(r)?;
        match request(r, REQ_LOAD, name.as_bytes())? {
            (0, _) => Ok(()),
            (_, m) => Err(m),
        }
    })
}

/// bgw_host_run in the server: its result once the supervisor returned.
/// A relative run directory is the host's (see host_path).
pub fn run(rundir: Option<&str>) -> Result<i32, String> {
    let mut p = vec![u8::from(rundir.is_some())];
    p.extend_from_slice(rundir.map(host_path).unwrap_or_default().as_bytes());
    with_requests(|r| {
        send_statics(r)?;
        request(r, REQ_RUN, &p).map(|(rc, _)| rc)
    })
}

/// Send a control message (async-signal-safe: one send(2)).
fn control(tag: u8, value: i32) {
    let fd = CONTROL_FD.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    let v = value.to_le_bytes();
    let msg = [tag, v[0], v[1], v[2], v[3]];
    // SAFETY: send(2) of a local buffer on a socket this process owns.
    unsafe { libc::send(fd, msg.as_ptr().cast(), msg.len(), libc::MSG_DONTWAIT) };
}

/// bgw_host_set_start_phase, forwarded (async-signal-safe).
pub fn set_phase_limit(phase: u32) {
    control(CTL_PHASE, phase as i32);
}

/// bgw_host_request_shutdown, forwarded (async-signal-safe).
pub fn request_shutdown(mode: i32) {
    control(CTL_SHUTDOWN, mode);
}

/// The server: serve the host's requests until it goes away.
fn serve(req: UnixDatagram, ctl: UnixDatagram) -> ! {
    supervisor::close_in_workers(req.as_raw_fd());
    supervisor::close_in_workers(ctl.as_raw_fd());
    // The control thread: phase changes and shutdown requests, at any time
    // (the supervisor's calls for them may come from any thread).
    // The thread blocks every signal (it inherits the mask in force when
    // it is created), so that the supervisor's signals reach the
    // supervisor's thread alone.
    let ctl_fd: RawFd = ctl.as_raw_fd();
    std::mem::forget(ctl);
    let all = nix::sys::signal::SigSet::all();
    let mut old = nix::sys::signal::SigSet::empty();
    let _ = nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&all),
        Some(&mut old),
    );
    let spawned = std::thread::Builder::new()
        .name("bgw fork server".into())
        .spawn(move || control_loop(ctl_fd));
    let _ = nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&old),
        None,
    );
    if spawned.is_err() {
        log::emit(
            log::LOG,
            "fork server: could not start its control thread; exiting",
        );
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(1) };
    }
    let mut buf = vec![0u8; MAX_MSG];
    loop {
        let n = match req.recv(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (status, msg) = handle(buf[0], &buf[1..n]);
        let mut reply = status.to_le_bytes().to_vec();
        reply.extend_from_slice(msg.as_bytes());
        reply.truncate(MAX_MSG);
        if req.send(&reply).is_err() {
            break;
        }
    }
    // The host closed its end (or is gone): nothing more will be asked.
    // SAFETY: _exit has no preconditions; the host's atexit handlers are
    // the host's.
    unsafe { libc::_exit(0) }
}

fn handle(tag: u8, p: &[u8]) -> (i32, String) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match tag {
        REQ_SET => {
            let (n, v) = match p.iter().position(|&b| b == 0) {
                Some(i) => (text(&p[..i]), text(&p[i + 1..])),
                None => return (-1, "malformed request".into()),
            };
            match settings::set_from_command_line(&n, &v) {
                Ok(()) => {
                    log::set_min_level(settings::current().log_min_messages);
                    (0, String::new())
                }
                Err(m) => (-1, m),
            }
        }
        REQ_LOAD => match loader::load_preload_libraries(&[text(p)]) {
            Ok(()) => (0, String::new()),
            Err(e) => {
                log::emit_full(log::ERROR, &e.message, e.detail.as_deref(), None);
                (-1, e.message)
            }
        },
        REQ_STATIC => {
            let n = std::mem::size_of::<BackgroundWorker>();
            if p.len() != n + POLICY_BYTES {
                return (-1, "malformed request".into());
            }
            // SAFETY: the bytes of a BackgroundWorker (plain data) sent by
            // the host running this very library; read unaligned.
            let w: BackgroundWorker =
                unsafe { std::ptr::read_unaligned(p.as_ptr().cast::<BackgroundWorker>()) };
            match policy_from(&p[n..]) {
                Ok(policy) => {
                    registry::adopt_static(w, policy);
                    (0, String::new())
                }
                Err(m) => (-1, m),
            }
        }
        REQ_RUN => {
            let dir = (p.first() == Some(&1)).then(|| text(&p[1..]));
            let rc = supervisor::run(dir.as_deref().map(std::path::Path::new), None);
            (rc, String::new())
        }
        _ => (-1, "unknown request".into()),
    }
}

fn control_loop(fd: RawFd) {
    // SAFETY: fd is the server's end of the control socket, owned by this
    // thread from now on.
    let sock = unsafe { UnixDatagram::from(OwnedFd::from_raw_fd(fd)) };
    let mut m = [0u8; 5];
    loop {
        match sock.recv(&mut m) {
            Ok(5) => {
                let v = i32::from_le_bytes([m[1], m[2], m[3], m[4]]);
                match m[0] {
                    CTL_PHASE => supervisor::set_phase_limit(v.max(0) as u32),
                    CTL_SHUTDOWN => supervisor::request_shutdown(v),
                    _ => {}
                }
            }
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    // The host is gone: so goes the supervisor it asked for (immediate
    // shutdown; a request before any run is kept, and the main thread,
    // finding the request socket closed too, exits).
    supervisor::request_shutdown(supervisor::SHUTDOWN_IMMEDIATE);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::WatchdogAction;

    #[test]
    fn a_static_policy_reaches_the_server_unchanged() {
        let full = Policy {
            backoff_initial_ms: Some(100),
            backoff_factor: Some(1.5),
            backoff_cap_ms: Some(2000),
            backoff_jitter: Some(0.25),
            backoff_reset_after_ms: Some(0),
            give_up_restarts: Some(-1),
            give_up_window_ms: Some(60_000),
            start_timeout_ms: Some(3000),
            stop_timeout_ms: Some(4000),
            watchdog_ms: Some(500),
            watchdog_action: Some(WatchdogAction::Exit1),
        };
        for p in [full, Policy::default()] {
            assert_eq!(policy_from(&policy_bytes(&p)), Ok(p));
        }
        // Damaged bytes are refused, not taken.
        let mut b = policy_bytes(&full);
        b[0] = 7;
        assert!(policy_from(&b).is_err());
        assert!(policy_from(&b[1..]).is_err());
    }
}
