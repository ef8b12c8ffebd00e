//! `RUNDIR/bgworkerd.pid`: the lock that keeps two supervisors off one run
//! directory, and the address (pid, segment name) attaching processes read.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub struct PidFile {
    path: PathBuf,
    file: std::fs::File,
}

impl PidFile {
    /// Open and lock the pid file of `rundir`. A live supervisor holding the
    /// lock is reported with PostgreSQL's wording; a stale file left by a
    /// supervisor that was killed is taken over, and the segment it names
    /// is removed if it is safe to (leftover.rs).
    pub fn lock(rundir: &Path) -> Result<PidFile, (String, Option<String>)> {
        let path = rundir.join("bgworkerd.pid");
        let shown = path.display().to_string();
        let cpath = CString::new(shown.clone()).map_err(|_| {
            (
                format!("invalid run directory \"{}\"", rundir.display()),
                None,
            )
        })?;
        // SAFETY: cpath is a valid path; the returned descriptor is owned below.
        let fd = unsafe {
            libc::open(
                cpath.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC,
                0o600,
            )
        };
        if fd < 0 {
            return Err((
                format!(
                    "could not create lock file \"{shown}\": {}",
                    crate::errno_text(crate::errno())
                ),
                None,
            ));
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        // SAFETY: flock on our own descriptor.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let other = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
                .unwrap_or(0);
            return Err((
                format!("lock file \"{shown}\" already exists"),
                Some(format!(
                    "Is another bgworkerd (PID {other}) running in directory \"{}\"?",
                    rundir.display()
                )),
            ));
        }
        // Locked: no supervisor of this run directory is alive, so a
        // segment the file still names was left by one that was killed.
        let mut old = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::Read::take(&file, 4096), &mut old);
        super::leftover::remove_predecessor_segment(&path, &old);
        Ok(PidFile { path, file })
    }

    /// Record our pid and the segment name (the file stays locked).
    pub fn write(&mut self, pid: i32, segment: &str) -> std::io::Result<()> {
        self.file.set_len(0)?;
        let text = format!("{pid}\n{segment}\n");
        self.file.write_all_at(text.as_bytes(), 0)
    }

    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the file (clean shutdown); the lock goes with the descriptor.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
