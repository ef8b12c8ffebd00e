//! The POSIX shared-memory objects behind dynamic segments: created
//! owner-only (0600) with their pages reserved, mapped, unmapped, removed.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::FromRawFd;

use super::DsmError;

/// Create `name` exclusively with `size` bytes reserved (posix_fallocate:
/// a tmpfs that cannot back them fails here, not with a SIGBUS at the first
/// write). On failure nothing is left behind. An existing name is
/// [`DsmError::Exists`] (the caller picks another handle).
pub fn create_object(name: &str, size: usize) -> Result<File, DsmError> {
    let cname = CString::new(name).map_err(|_| DsmError::Other("invalid name".into()))?;
    // SAFETY: a valid NUL-terminated name.
    let fd = unsafe {
        libc::shm_open(
            cname.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC,
            0o600,
        )
    };
    if fd < 0 {
        let e = crate::errno();
        if e == libc::EEXIST {
            return Err(DsmError::Exists);
        }
        return Err(DsmError::Os {
            message: format!(
                "could not open shared memory segment \"{name}\": {}",
                crate::errno_text(e)
            ),
            errno: e,
        });
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let file = unsafe { File::from_raw_fd(fd) };
    // The size is passed as PostgreSQL passes it (an off_t), so a size
    // beyond the address space fails as there (EINVAL).
    // SAFETY: a valid descriptor.
    let r = if unsafe { libc::ftruncate(fd, size as libc::off_t) } != 0 {
        Err(crate::errno())
    } else {
        // posix_fallocate returns the error; retried on EINTR, which a
        // signal arriving during a long reservation gives.
        let mut rc;
        loop {
            // SAFETY: a valid descriptor.
            rc = unsafe { libc::posix_fallocate(fd, 0, size as libc::off_t) };
            if rc != libc::EINTR {
                break;
            }
        }
        if rc == 0 {
            Ok(())
        } else {
            Err(rc)
        }
    };
    if let Err(e) = r {
        drop(file);
        unlink(name);
        return Err(DsmError::Os {
            message: format!(
                "could not resize shared memory segment \"{name}\" to {size} bytes: {}",
                crate::errno_text(e)
            ),
            errno: e,
        });
    }
    Ok(file)
}

/// Remove a name (its mappings stay valid until unmapped).
pub fn unlink(name: &str) {
    if let Ok(c) = CString::new(name) {
        // SAFETY: a valid NUL-terminated name.
        unsafe { libc::shm_unlink(c.as_ptr()) };
    }
}

/// Map `file` (`size` bytes) read-write, shared.
pub fn map(file: &File, name: &str, size: usize) -> Result<(*mut u8, usize), DsmError> {
    use std::os::fd::AsRawFd;
    // SAFETY: mapping a file we hold open; the kernel checks the length.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        let e = crate::errno();
        return Err(DsmError::Os {
            message: format!(
                "could not map shared memory segment \"{name}\": {}",
                crate::errno_text(e)
            ),
            errno: e,
        });
    }
    Ok((p as *mut u8, size))
}

/// Open and map an existing object for attaching.
pub fn open_and_map(name: &str) -> Result<(*mut u8, usize), DsmError> {
    let cname = CString::new(name).map_err(|_| DsmError::Other("invalid name".into()))?;
    // SAFETY: a valid NUL-terminated name.
    let fd = unsafe { libc::shm_open(cname.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        let e = crate::errno();
        return Err(DsmError::Os {
            message: format!(
                "could not open shared memory segment \"{name}\": {}",
                crate::errno_text(e)
            ),
            errno: e,
        });
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let file = unsafe { File::from_raw_fd(fd) };
    let size = match file.metadata() {
        Ok(m) => m.len() as usize,
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(0);
            return Err(DsmError::Os {
                message: format!(
                    "could not stat shared memory segment \"{name}\": {}",
                    crate::io_text(&e)
                ),
                errno,
            });
        }
    };
    map(&file, name, size)
}

/// Unmap a mapping made by [`map`].
///
/// # Safety
/// `addr`/`len` come from [`map`] and nothing uses the range any more.
pub unsafe fn unmap(addr: *mut u8, len: usize) {
    // SAFETY: the caller's contract.
    unsafe { libc::munmap(addr.cast(), len) };
}
