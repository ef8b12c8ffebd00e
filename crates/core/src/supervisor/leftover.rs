//! The shared segment a killed predecessor left behind.
//!
//! A supervisor that ends normally (or through a FATAL it can clean up
//! after) removes its segment and its pid file. One that is SIGKILLed
//! cannot: its pid file stays, naming the segment on line 2, and the
//! segment stays under /dev/shm until reboot. The next supervisor on the
//! same run directory removes it, as PostgreSQL's postmaster removes the
//! shared memory named in a stale postmaster.pid — but only when every one
//! of these holds (otherwise the segment is kept and a WARNING says why):
//!
//! - the caller holds the pid file's lock, so no supervisor of this run
//!   directory is alive (each holds that lock from start to exit);
//! - the name is one [`Segment::create`](crate::shmem::Segment::create)
//!   gives: `/bgworker.<pid>` or `/bgworker.<pid>.<n>`, `<pid>` being the
//!   pid on line 1;
//! - that process is gone, or its pid now belongs to a process that does
//!   not have the segment mapped (a recycled pid);
//! - the object is a regular file owned by this process's effective uid;
//! - its header is ours (magic, layout version, sizes: the checks attaching
//!   processes make) and records that same pid as its supervisor.
//!
//! Once the predecessor is proven gone (the first three conditions), its
//! dynamic shared memory goes too: its control segment and data segments
//! (`/bgworker.<pid>.dsm[.<handle>]`, regular files of this uid; see
//! crate::dsm), whether or not its main segment is still there.
//!
//! Removing the name never disturbs a process that still has the segment
//! mapped (an attached host of the dead supervisor keeps its mapping).
//! Only a process of the same uid could swap the object between the checks
//! and the unlink; /dev/shm's sticky bit keeps everyone else out.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::FromRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use memmap2::MmapOptions;

use crate::log;
use crate::shmem::slots::Header;

/// Remove the segment named in a predecessor's pid file, if it is safe
/// (see the module comment), logging what was done or why not.
///
/// Only the supervisor's process may call this, holding the lock on
/// `pidfile` and before writing its own pid into it; `contents` is what the
/// file held when the lock was taken.
pub fn remove_predecessor_segment(pidfile: &Path, contents: &str) {
    let mut lines = contents.lines();
    let pid_line = lines.next().unwrap_or("").trim();
    let name = lines.next().unwrap_or("").trim();
    if name.is_empty() {
        // A new file (a clean shutdown removes it): nothing was left.
        return;
    }
    let keep = |why: &str| {
        log::emit_full(
            log::WARNING,
            &format!(
                "shared memory segment \"{name}\" named in lock file \"{}\" was not removed",
                pidfile.display()
            ),
            Some(why),
            None,
        )
    };
    let Some(pid) = pid_line.parse::<i32>().ok().filter(|p| *p > 0) else {
        keep(&format!(
            "The lock file's first line \"{pid_line}\" is not a process ID."
        ));
        return;
    };
    if !name_is_ours(name, pid) {
        keep(&format!(
            "The name is not one bgworkerd gives to the segment of process {pid} (\"/bgworker.{pid}\" or \"/bgworker.{pid}.N\")."
        ));
        return;
    }
    if let Err(why) = predecessor_gone(pid, name) {
        keep(&why);
        return;
    }
    // Its dynamic shared memory segments (and their control segment) go
    // on the same proof that it is gone.
    let n = crate::dsm::remove_leftovers(pid);
    if n > 0 {
        log::emit(
            log::LOG,
            &format!(
                "removed {n} dynamic shared memory segment{} left behind by process {pid}, the previous supervisor on this run directory",
                if n == 1 { "" } else { "s" }
            ),
        );
    }
    let Ok(cname) = CString::new(name) else {
        return; // name_is_ours admits no NUL byte
    };
    match inspect(&cname, pid) {
        Ok(true) => {}
        Ok(false) => return, // already gone: nothing to do
        Err(why) => {
            keep(&why);
            return;
        }
    }
    // SAFETY: cname is a valid NUL-terminated name.
    if unsafe { libc::shm_unlink(cname.as_ptr()) } != 0 {
        let e = crate::errno();
        if e != libc::ENOENT {
            keep(&format!("Removing it failed: {}.", crate::errno_text(e)));
        }
        return;
    }
    log::emit(
        log::LOG,
        &format!(
            "removed shared memory segment \"{name}\" left behind by process {pid}, the previous supervisor on this run directory"
        ),
    );
}

/// Is `name` `/bgworker.<pid>` or `/bgworker.<pid>.<n>` (n in 1..100, as
/// `Segment::create` picks them)?
fn name_is_ours(name: &str, pid: i32) -> bool {
    let Some(rest) = name
        .strip_prefix("/bgworker.")
        .and_then(|r| r.strip_prefix(pid.to_string().as_str()))
    else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    rest.strip_prefix('.')
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (1..100).contains(&n))
}

/// Ok if process `pid` is gone, or is a different process now (it does not
/// have segment `name` mapped); otherwise why the segment must stay.
fn predecessor_gone(pid: i32, name: &str) -> Result<(), String> {
    // SAFETY: getpid has no preconditions.
    if pid == unsafe { libc::getpid() } {
        // The pid was recycled for this very process, which has not
        // created its segment yet.
        return Ok(());
    }
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 && crate::errno() == libc::ESRCH {
        return Ok(());
    }
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|e| {
        format!(
            "Process {pid} is still running, and whether it uses the segment cannot be checked: could not read \"/proc/{pid}/maps\": {}.",
            crate::io_text(&e)
        )
    })?;
    let path = format!("/dev/shm{name}");
    let mapped = maps.lines().any(|l| {
        let l = l.trim_end();
        let l = l.strip_suffix(" (deleted)").unwrap_or(l);
        l.ends_with(&path) && l[..l.len() - path.len()].ends_with(' ')
    });
    if mapped {
        return Err(format!(
            "Process {pid} is still running and has the segment mapped."
        ));
    }
    Ok(())
}

/// Check that segment `cname` is a bgworkerd segment of this uid whose
/// header names `pid` as its supervisor. Ok(false) if it does not exist.
fn inspect(cname: &CString, pid: i32) -> Result<bool, String> {
    // SAFETY: cname is a valid NUL-terminated string.
    let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        let e = crate::errno();
        if e == libc::ENOENT {
            return Ok(false);
        }
        return Err(format!("It could not be opened: {}.", crate::errno_text(e)));
    }
    // SAFETY: fd was just returned by shm_open and is owned by nobody else.
    let file = unsafe { File::from_raw_fd(fd) };
    let meta = file
        .metadata()
        .map_err(|e| format!("It could not be examined: {}.", crate::io_text(&e)))?;
    if !meta.file_type().is_file() {
        return Err("It is not a regular file.".into());
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "It is owned by user ID {}, not by user ID {me} running this supervisor.",
            meta.uid()
        ));
    }
    let size = meta.len() as usize;
    if size < std::mem::size_of::<Header>() {
        return Err(format!(
            "It is not a bgworkerd segment: {size} bytes is too small for a header."
        ));
    }
    let map = MmapOptions::new()
        .len(size)
        .map_raw_read_only(&file)
        .map_err(|e| format!("It could not be mapped: {}.", crate::io_text(&e)))?;
    // SAFETY: the mapping is at least one header long (checked above) and
    // page-aligned; Header is plain data and atomics, and is only loaded
    // from here (the mapping is read-only).
    let header = unsafe { &*(map.as_ptr() as *const Header) };
    header
        .validate(size)
        .map_err(|why| format!("It is not a bgworkerd segment of this version: {why}."))?;
    let recorded = header.supervisor_pid.load(Ordering::Relaxed);
    if recorded != pid {
        return Err(format!(
            "Its header names process {recorded} as its supervisor, not process {pid} named in the lock file."
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::name_is_ours;

    #[test]
    fn segment_names() {
        assert!(name_is_ours("/bgworker.123", 123));
        assert!(name_is_ours("/bgworker.123.1", 123));
        assert!(name_is_ours("/bgworker.123.99", 123));
        assert!(!name_is_ours("/bgworker.123.100", 123));
        assert!(!name_is_ours("/bgworker.123.0", 123));
        assert!(!name_is_ours("/bgworker.123.01", 123));
        assert!(!name_is_ours("/bgworker.123.", 123));
        assert!(!name_is_ours("/bgworker.1234", 123));
        assert!(!name_is_ours("/bgworker.12", 123));
        assert!(!name_is_ours("/bgworker.124", 123));
        assert!(!name_is_ours("bgworker.123", 123));
        assert!(!name_is_ours("/PostgreSQL.123", 123));
        assert!(!name_is_ours("/bgworker.123/x", 123));
        assert!(!name_is_ours("/bgworker.123.1.2", 123));
    }
}
