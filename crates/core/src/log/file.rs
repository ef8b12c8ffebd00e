//! `log_file`: bgworkerd's log (and its workers' stderr) in a file instead
//! of stderr, reopened on SIGHUP so that a log rotated by renaming starts
//! afresh.
//!
//! The file is opened in append mode and put in place of descriptor 2, so
//! the log path itself (log.rs: one `write(2)` to fd 2 per line) does not
//! change, and workers started afterwards inherit it. A worker that is
//! already running keeps the descriptor it inherited, so it writes to the
//! renamed file until it restarts (as any program whose stderr was
//! redirected); `copytruncate` rotation does not have that gap.
//!
//! A relative path is taken relative to the run directory. An empty value
//! means stderr (the original one, kept aside on the first switch).
//! Callers: bgworkerd's start-up, before preload libraries load, and the
//! supervisor's reload, both on the supervisor's thread.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The original stderr, duplicated before the first switch, or -1.
static ORIGINAL_STDERR: AtomicI32 = AtomicI32::new(-1);
/// Set once bgworkerd has taken charge of fd 2 (see [`manage`]); an
/// embedding host's stderr is its own and is never switched at reload.
static MANAGED: AtomicBool = AtomicBool::new(false);

/// The original stderr kept aside, or -1: the supervisor's, which its
/// workers must not keep (their stderr is descriptor 2).
pub fn original_stderr() -> i32 {
    ORIGINAL_STDERR.load(Ordering::SeqCst)
}

/// Take charge of descriptor 2 for `log_file` (bgworkerd only).
pub fn manage() {
    MANAGED.store(true, Ordering::SeqCst);
}

/// Point descriptor 2 at `value` (see the module comment), if managed.
/// On failure fd 2 is left as it was and the message says why.
pub fn apply(rundir: Option<&Path>, value: &str) -> Result<(), String> {
    if !MANAGED.load(Ordering::SeqCst) {
        return Ok(());
    }
    if value.is_empty() {
        let orig = ORIGINAL_STDERR.load(Ordering::SeqCst);
        if orig >= 0 {
            // SAFETY: orig is our private duplicate of the original stderr.
            unsafe { libc::dup2(orig, 2) };
        }
        return Ok(());
    }
    let path = match rundir {
        Some(d) if Path::new(value).is_relative() => d.join(value),
        _ => Path::new(value).to_path_buf(),
    };
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("invalid value for parameter \"log_file\": \"{value}\""))?;
    // SAFETY: c is a valid path; the descriptor is closed below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
            0o600,
        )
    };
    if fd < 0 {
        return Err(format!(
            "could not open log file \"{}\": {}",
            path.display(),
            crate::errno_text(crate::errno())
        ));
    }
    if ORIGINAL_STDERR.load(Ordering::SeqCst) < 0 {
        // SAFETY: duplicating fd 2 (close-on-exec) to keep the original.
        let orig = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
        ORIGINAL_STDERR.store(orig, Ordering::SeqCst);
    }
    // SAFETY: fd is ours; dup2 atomically replaces fd 2 (no moment without
    // a stderr), and the duplicate at 2 is inherited by later workers.
    let r = unsafe { libc::dup2(fd, 2) };
    let e = crate::errno();
    // SAFETY: closing our own descriptor (fd 2 keeps the file open).
    unsafe { libc::close(fd) };
    if r < 0 {
        return Err(format!(
            "could not redirect the log to \"{}\": {}",
            path.display(),
            crate::errno_text(e)
        ));
    }
    Ok(())
}
