//! Attaching a process to a running supervisor: by run directory (through
//! its pid file) or by segment name.

use std::ffi::CStr;
use std::sync::Arc;

use super::lock::is_gone;
use super::*;
use crate::shmem::Segment;

extern "C" fn ignore_signal(_sig: libc::c_int) {}

/// Attach this process to a running supervisor, by run directory (holding
/// `bgworkerd.pid`) or by segment name.
pub fn attach(where_: &CStr) -> Result<(), String> {
    if current().is_some() {
        return Err("already connected to a background worker supervisor".into());
    }
    let arg = where_
        .to_str()
        .map_err(|_| "invalid attach argument (not UTF-8)".to_string())?;
    let path = std::path::Path::new(arg);
    // A path with a directory part is a run directory; a bare name (with or
    // without its leading slash) is a segment name.
    let is_rundir =
        path.is_dir() || arg.trim_start_matches('/').contains('/') || arg == "." || arg == "..";
    let (seg_name, pid_from_file) = if is_rundir {
        let (pid, name) = read_pid_file(path)?;
        (name, Some(pid))
    } else {
        (format!("/{}", arg.trim_start_matches('/')), None)
    };
    attach_segment(&seg_name, pid_from_file)
}

/// The supervisor running on run directory `path`: its pid and segment
/// name from `bgworkerd.pid`, checked to be alive and holding the file's
/// lock. Errors say why no supervisor is there (stale file included).
pub fn read_pid_file(path: &std::path::Path) -> Result<(i32, String), String> {
    let arg = path.display();
    if let Err(e) = std::fs::metadata(path) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return Err(format!(
                "permission denied: this user ({}) cannot reach \"{arg}\"; run this as the user that runs its bgworkerd, or as root",
                user_name(current_uid())
            ));
        }
    }
    if !path.is_dir() {
        let why = if path.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(format!("no bgworkerd is running on \"{arg}\": {why}"));
    }
    let pidfile = path.join("bgworkerd.pid");
    let text = std::fs::read_to_string(&pidfile).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return permission_denied(&pidfile);
        }
        format!(
            "no bgworkerd is running on \"{arg}\": could not read \"{}\": {}",
            pidfile.display(),
            crate::errno_text(e.raw_os_error().unwrap_or(0))
        )
    })?;
    let mut lines = text.lines();
    let pid: i32 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("invalid pid file \"{}\"", pidfile.display()))?;
    let name = lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| format!("invalid pid file \"{}\"", pidfile.display()))?;
    if is_gone(pid) {
        return Err(format!(
            "no bgworkerd is running on \"{arg}\": stale pid file (process {pid} does not exist)"
        ));
    }
    // A live supervisor holds the pid file locked; if we can lock it,
    // the pid belongs to some other process now.
    if let Ok(f) = std::fs::File::open(&pidfile) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; released when f closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
            return Err(format!(
                "no bgworkerd is running on \"{arg}\": stale pid file (process {pid} is not a bgworkerd)"
            ));
        }
    }
    Ok((pid, name))
}

/// Attach to segment `seg_name`, whose supervisor the pid file (if any)
/// named `pid_from_file`.
fn attach_segment(seg_name: &str, pid_from_file: Option<i32>) -> Result<(), String> {
    let file = std::path::Path::new("/dev/shm").join(seg_name.trim_start_matches('/'));
    let cfile = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: a NUL-terminated path; access(2) only checks permissions.
    if file.exists() && unsafe { libc::access(cfile.as_ptr(), libc::R_OK | libc::W_OK) } != 0 {
        return Err(permission_denied(&file));
    }
    let seg = Segment::attach(seg_name).map_err(|e| e.0)?;
    let sup = seg.header().supervisor_pid.load(Ordering::Relaxed);
    if let Some(p) = pid_from_file {
        if p != sup {
            return Err(format!(
                "shared memory segment \"{seg_name}\" belongs to process {sup}, not to {p} named in the pid file"
            ));
        }
    }
    let pidfd = crate::pidfd::Pidfd::open(sup).map_err(|e| {
        format!(
            "background worker supervisor (pid {sup}) of segment \"{seg_name}\" is not running: {}",
            crate::io_text(&e)
        )
    })?;
    // State-change notifications (bgw_notify_pid) arrive as SIGUSR1; make
    // sure one cannot kill a process that did not install a handler.
    // (libc, not nix: nix's sigaction always installs, and the host's own
    // handler must be looked at before deciding to leave it alone.)
    // SAFETY: querying and, if default, replacing the SIGUSR1 disposition
    // with a handler that does nothing (async-signal-safe).
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut old);
        if old.sa_sigaction == libc::SIG_DFL {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
        }
    }
    // Our own descriptor of the segment's file, to test the supervisor
    // lock: a segment no live supervisor holds is refused below.
    let lock_fd = seg.open_file().map_err(|e| {
        format!(
            "could not open shared memory segment \"{seg_name}\": {}",
            crate::io_text(&e)
        )
    })?;
    let conn = Connection {
        seg: Arc::new(seg),
        role: Role::Attached,
        supervisor_pid: sup,
        pidfd: Some(pidfd),
        death_fd: None,
        lock_fd: Some(lock_fd),
    };
    if !conn.supervisor_alive() {
        drop(conn);
        return Err(format!(
            "background worker supervisor (pid {sup}) is not running"
        ));
    }
    let old = install(conn);
    // SAFETY: `old` was unpublished by install(); attach runs with no other
    // thread inside the library (its documented contract).
    unsafe { drop_connection(old) };
    Ok(())
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

/// "name (uid N)", or "uid N" for a uid without a name.
fn user_name(uid: u32) -> String {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: passwd is plain data; getpwuid_r fills it and points result
    // at it (or leaves it NULL), using only `buf` for the strings.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) == 0
            && !result.is_null()
        {
            let name = CStr::from_ptr(pw.pw_name).to_string_lossy();
            return format!("{name} (uid {uid})");
        }
    }
    format!("uid {uid}")
}

/// The message for a file of a supervisor this user may not open: a
/// permission problem, and whose file it is.
fn permission_denied(file: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(file)
        .map(|m| user_name(m.uid()))
        .unwrap_or_else(|_| "another user".into());
    let or_root = if owner.starts_with("root ") {
        ""
    } else {
        ", or as root"
    };
    format!(
        "permission denied: \"{}\" belongs to {owner} and this user ({}) may not open it; run this as {owner}{or_root}",
        file.display(),
        user_name(current_uid())
    )
}
