//! This process's connection to a supervisor, and the backend side of the
//! slot protocol (shmem/slots.rs): registering dynamic workers, reading their
//! status, waiting and terminating.
//!
//! A process is in one of four roles: not connected, the supervisor itself,
//! a worker (forked by the supervisor, which installs its connection before
//! the entry point runs), or an attached process (`bgw_attach`). The
//! connection is a process-wide value published through an atomic pointer;
//! it is replaced only by `bgw_attach`/`bgw_detach` (which callers must not
//! race with other calls into the library) and in a freshly forked worker.

use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::abi::*;
use crate::log;
use crate::shmem::slots::PID_NOT_STARTED;
use crate::shmem::Segment;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Supervisor,
    Worker,
    Attached,
}

pub struct Connection {
    pub seg: Arc<Segment>,
    pub role: Role,
    pub supervisor_pid: i32,
    /// pidfd of the supervisor (attached processes), or -1.
    pub pidfd: i32,
    /// Read end of the supervisor's death-watch pipe (workers), or -1.
    pub death_fd: i32,
}

static CONNECTION: AtomicPtr<Connection> = AtomicPtr::new(std::ptr::null_mut());

/// The current connection, if any.
///
/// The reference is `'static` because a published connection is freed
/// only by the unsafe [`uninstall`] and [`drop_connection`], whose callers
/// guarantee that no reference obtained here is used any more.
pub fn current() -> Option<&'static Connection> {
    let p = CONNECTION.load(Ordering::Acquire);
    // SAFETY: a non-null pointer was produced by Box::into_raw in install()
    // and is freed only by uninstall() or drop_connection(), whose safety
    // contracts exclude any remaining use of references handed out here.
    unsafe { p.as_ref() }
}

/// Install `c` as this process's connection; returns the previous one,
/// which the caller frees with `drop_connection` when nothing can use it.
pub fn install(c: Connection) -> *mut Connection {
    CONNECTION.swap(Box::into_raw(Box::new(c)), Ordering::AcqRel)
}

/// Remove the connection without freeing it: other threads may still be
/// using it (the supervisor, when bgw_host_run returns). Its mapping stays.
pub fn unpublish() {
    CONNECTION.swap(std::ptr::null_mut(), Ordering::AcqRel);
}

/// Remove the connection and free it (closing its descriptors).
///
/// # Safety
/// No reference returned by [`current`] may be used after this call, by
/// any thread: no other thread is inside the library (bgw_detach's
/// documented contract), and the caller holds no such reference itself.
///
/// A safe call does not compile:
/// ```compile_fail
/// bgworker::backend::uninstall();
/// ```
pub unsafe fn uninstall() {
    let p = CONNECTION.swap(std::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: p was published by install() and is now unpublished; the
    // caller guarantees no reference to it is used any more.
    unsafe { drop_connection(p) };
}

/// Free a connection returned by [`install`] (NULL is fine).
///
/// # Safety
/// `p` is NULL or came from `install` and is no longer published nor used.
pub unsafe fn drop_connection(p: *mut Connection) {
    if !p.is_null() {
        // SAFETY: p came from Box::into_raw in install() (caller's contract).
        drop(unsafe { Box::from_raw(p) });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for fd in [self.pidfd, self.death_fd] {
            if fd >= 0 {
                // SAFETY: the connection owns these descriptors.
                unsafe { libc::close(fd) };
            }
        }
    }
}

pub fn role() -> Option<Role> {
    current().map(|c| c.role)
}

thread_local! {
    static LAST_ERROR: std::cell::RefCell<std::ffi::CString> =
        std::cell::RefCell::new(std::ffi::CString::default());
}

/// Remember `msg` as this thread's last error (see `bgw_last_error`).
pub fn set_last_error(msg: &str) {
    let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

pub fn last_error_ptr() -> *const std::os::raw::c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Report an error of the kind PostgreSQL raises with `ereport(ERROR)`.
/// In a worker there is no caller to return to, so, as a PostgreSQL worker
/// without an error handler, it logs and exits with status 1. Elsewhere it
/// logs, records the message for `bgw_last_error`, and returns so that the
/// caller can return its failure value.
pub fn raise_error(msg: &str) {
    log::emit(log::ERROR, msg);
    set_last_error(msg);
    if role() == Some(Role::Worker) {
        // As an uncaught ERROR in a PostgreSQL worker: exit callbacks run.
        crate::compat::misc::exit_process(1);
    }
}

/// Set by bgworkerd's main before anything else: this process image is
/// bgworkerd (not a host program embedding or attaching to a supervisor).
static DAEMON_IMAGE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called once by bgworkerd's main (see [`exit_process`]).
pub fn mark_daemon_image() {
    DAEMON_IMAGE.store(true, Ordering::Relaxed);
}

/// End this process the way PostgreSQL's proc_exit does, after the exit
/// callbacks: stdio is flushed, and
/// * in bgworkerd (supervisor and workers) and in any process that is not
///   a worker, with exit(): atexit handlers run, as in PostgreSQL, whose
///   workers run the postmaster's handlers;
/// * in a worker forked from an embedding host, with _exit() after
///   flushing stdio: the host's atexit handlers belong to the host's own
///   process (a host is not the postmaster; its handlers may remove its
///   files, talk to its peers or flush its own state), so they do not run
///   once more in every worker.
pub fn exit_process(code: i32) -> ! {
    if role() == Some(Role::Worker) && !DAEMON_IMAGE.load(Ordering::Relaxed) {
        // SAFETY: fflush(NULL) flushes every output stream; _exit has no
        // preconditions.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            libc::_exit(code)
        }
    }
    // SAFETY: exit has no preconditions.
    unsafe { libc::exit(code) }
}

/// Validate a definition the way PostgreSQL's SanityCheckBackgroundWorker
/// does, plus the checks PostgreSQL leaves to undefined behaviour
/// (unterminated names). On success fills `bgw_type` from `bgw_name` when
/// empty. On failure returns the message to report.
pub fn sanity_check(w: &mut BackgroundWorker) -> Result<(), String> {
    for (field, buf) in [
        ("bgw_name", &w.bgw_name),
        ("bgw_type", &w.bgw_type),
        ("bgw_library_name", &w.bgw_library_name),
        ("bgw_function_name", &w.bgw_function_name),
    ] {
        if !buf.contains(&0) {
            return Err(format!(
                "background worker \"{}\": {field} is not NUL-terminated within {BGW_MAXLEN} bytes",
                fixed_str(&w.bgw_name_terminated())
            ));
        }
    }
    let name = w.name();
    if w.bgw_flags & BGWORKER_SHMEM_ACCESS == 0 {
        return Err(format!(
            "background worker \"{name}\": background workers without shared memory access are not supported"
        ));
    }
    if w.bgw_flags & BGWORKER_BACKEND_DATABASE_CONNECTION != 0
        && w.bgw_start_time == BgWorkerStart_PostmasterStart
    {
        return Err(format!(
            "background worker \"{name}\": cannot request database access if starting at postmaster start"
        ));
    }
    // PostgreSQL: at most USECS_PER_DAY / 1000 seconds.
    if (w.bgw_restart_time < 0 && w.bgw_restart_time != BGW_NEVER_RESTART)
        || w.bgw_restart_time > 86_400_000
    {
        return Err(format!(
            "background worker \"{name}\": invalid restart interval"
        ));
    }
    if w.bgw_restart_time != BGW_NEVER_RESTART && w.bgw_flags & BGWORKER_CLASS_PARALLEL != 0 {
        return Err(format!(
            "background worker \"{name}\": parallel workers may not be configured for restart"
        ));
    }
    if w.bgw_start_time > BgWorkerStart_RecoveryFinished {
        return Err(format!(
            "background worker \"{name}\": invalid start time {}",
            w.bgw_start_time
        ));
    }
    if w.bgw_type[0] == 0 {
        w.bgw_type = w.bgw_name;
    }
    Ok(())
}

impl BackgroundWorker {
    fn bgw_name_terminated(&self) -> [std::os::raw::c_char; BGW_MAXLEN] {
        let mut n = self.bgw_name;
        n[BGW_MAXLEN - 1] = 0;
        n
    }
}

/// Why a dynamic registration did not happen.
pub enum RegisterError {
    /// Not attached to a supervisor, or this is the supervisor (PostgreSQL:
    /// `!IsUnderPostmaster`): false, no message.
    NotConnected,
    /// The definition failed validation: the message is raised as ERROR.
    Invalid(String),
    /// No free slot, or max_parallel_workers reached: false, no message.
    NoCapacity,
}

/// Serialisation among backends; see the module comment of shmem/slots.rs.
struct BackendLock<'a> {
    word: &'a std::sync::atomic::AtomicU64,
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// State letter and start time (clock ticks after boot) of task `tid`,
/// from /proc/<tid>/stat (thread ids work there too).
fn task_state(tid: i32) -> Option<(u8, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/stat")).ok()?;
    // The command name may contain anything; the fields follow its ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // starttime is field 22 of the line; state was field 3.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This thread's identity as a lock holder: the thread id in the low half,
/// the low 32 bits of its start time in the high half, so that a thread id
/// reused by a later thread is not taken for the holder.
fn lock_identity() -> u64 {
    thread_local! {
        static ID: u64 = {
            let tid = gettid();
            let start = task_state(tid).map_or(0, |(_, s)| s);
            ((start as u32 as u64) << 32) | tid as u32 as u64
        };
    }
    ID.with(|id| *id)
}

/// Has the holder recorded in a lock word gone away: no such task, a
/// zombie, or another task now using its thread id?
fn holder_gone(word: u64) -> bool {
    let tid = word as u32 as i32;
    match task_state(tid) {
        None => is_gone(tid),
        Some((state, start)) => {
            state == b'Z' || state == b'X' || start as u32 != (word >> 32) as u32
        }
    }
}

/// Is thread/process `id` gone? (kill(2) accepts thread ids on Linux.)
fn is_gone(id: i32) -> bool {
    // SAFETY: signal 0 only checks existence and permission.
    let r = unsafe { libc::kill(id, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

impl<'a> BackendLock<'a> {
    fn acquire(seg: &'a Segment) -> Self {
        let word = &seg.header().backend_lock;
        let me = lock_identity();
        let mut spins: u32 = 0;
        loop {
            // Acquire pairs with the Release in drop(): the previous
            // holder's slot writes are visible to us.
            match word.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return BackendLock { word },
                Err(holder) => {
                    spins = spins.wrapping_add(1);
                    if !spins.is_multiple_of(64) {
                        std::hint::spin_loop();
                        continue;
                    }
                    if holder != 0
                        && holder_gone(holder)
                        && word
                            .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                    {
                        // The holder died mid-operation. What it left is
                        // harmless (see slots.rs), but it may have published
                        // a slot without marking it: have the supervisor
                        // look at every slot.
                        for w in 0..crate::shmem::slots::pending_words(seg.total_slots()) {
                            seg.pending_word(w).fetch_or(u64::MAX, Ordering::Release);
                        }
                        repair_parallel_count(seg);
                        return BackendLock { word };
                    }
                    if spins < 64 * 16 {
                        std::thread::yield_now();
                    } else {
                        // Held for long (a stopped holder): stop burning CPU.
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            }
        }
    }
}

/// Called by the backend that took over a dead holder's lock (so no
/// registration is under way): a holder that died between counting a
/// parallel registration and publishing it left `parallel_register_count`
/// one too high, the budget one short for good. Lower it to what is
/// outstanding: the given-back count plus the published parallel slots.
/// The given-back count is read after the scan, so a slot the supervisor
/// gives back meanwhile is at worst counted twice: the result errs on the
/// short side and is never below the true count (see the invariant at
/// shmem::slots::Header), so it never wraps. Never raises the count.
fn repair_parallel_count(seg: &Segment) {
    let h = seg.header();
    let published = (0..seg.total_slots())
        .filter(|&i| {
            let s = seg.slot(i);
            s.in_use.load(Ordering::Acquire) != 0
                && s.read_worker().bgw_flags & BGWORKER_CLASS_PARALLEL != 0
        })
        .count() as u32;
    let given_back = h.parallel_terminate_count.load(Ordering::Acquire);
    let registered = h.parallel_register_count.load(Ordering::Acquire);
    if registered.wrapping_sub(given_back) > published {
        h.parallel_register_count
            .store(given_back.wrapping_add(published), Ordering::Release);
    }
}

impl Drop for BackendLock<'_> {
    fn drop(&mut self) {
        self.word.store(0, Ordering::Release);
    }
}

impl Connection {
    /// Mark slot `i` for the supervisor's attention. Callers hold the
    /// backend lock, so a holder's death cannot separate a change from its
    /// mark.
    fn mark_pending(&self, i: usize) {
        self.seg
            .pending_word(i / 64)
            .fetch_or(1u64 << (i % 64), Ordering::Release);
    }

    /// Wake the supervisor (after marking what changed).
    fn poke_supervisor(&self) {
        if self.pidfd >= 0 {
            // SAFETY: pidfd is our open pidfd of the supervisor; a null info
            // pointer means "as kill(2)".
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    self.pidfd,
                    libc::SIGUSR1,
                    std::ptr::null::<u8>(),
                    0,
                )
            };
        } else if self.supervisor_pid > 0 {
            // SAFETY: plain kill of the supervisor (our parent, in a worker).
            unsafe { libc::kill(self.supervisor_pid, libc::SIGUSR1) };
        }
    }

    /// Is the supervisor still there? Workers watch the death pipe (EOF once
    /// the supervisor is gone), attached processes poll their pidfd.
    pub fn supervisor_alive(&self) -> bool {
        if self.seg.header().supervisor_exited.load(Ordering::SeqCst) != 0 {
            return false;
        }
        let fd = if self.death_fd >= 0 {
            self.death_fd
        } else {
            self.pidfd
        };
        if fd < 0 {
            return true;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let r = unsafe { libc::poll(&mut p, 1, 0) };
        !(r > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
    }

    /// RegisterDynamicBackgroundWorker's core: validate, claim a free slot,
    /// publish it. Returns `(slot, generation)`.
    pub fn register(&self, def: &BackgroundWorker) -> Result<(usize, u64), RegisterError> {
        if self.role == Role::Supervisor {
            return Err(RegisterError::NotConnected);
        }
        let mut w = *def;
        sanity_check(&mut w).map_err(RegisterError::Invalid)?;
        let parallel = w.bgw_flags & BGWORKER_CLASS_PARALLEL != 0;
        let h = self.seg.header();
        let found = {
            let _lock = BackendLock::acquire(&self.seg);
            if parallel
                && h.parallel_in_use()
                    >= h.max_parallel_workers.load(Ordering::Relaxed).max(0) as u32
            {
                return Err(RegisterError::NoCapacity);
            }
            let mut found = None;
            for i in 0..self.seg.total_slots() {
                let s = self.seg.slot(i);
                // Acquire pairs with the supervisor's Release when it freed
                // the slot: its last writes happened before ours.
                if s.in_use.load(Ordering::Acquire) != 0 {
                    continue;
                }
                s.write_worker(&w);
                let g = s.generation.load(Ordering::Relaxed).wrapping_add(1);
                s.generation.store(g, Ordering::Release);
                s.terminate.store(0, Ordering::Release);
                s.pid.store(PID_NOT_STARTED, Ordering::Release);
                // SAFETY: getpid has no preconditions.
                s.registrant
                    .store(unsafe { libc::getpid() }, Ordering::Relaxed);
                // Counted before publishing (see the invariant at Header):
                // the supervisor gives back only slots it has seen
                // published, which are then always counted already.
                if parallel {
                    h.parallel_register_count.fetch_add(1, Ordering::AcqRel);
                }
                // Hand the slot to the supervisor (pairs with its Acquire load).
                s.in_use.store(1, Ordering::Release);
                self.mark_pending(i);
                found = Some((i, g));
                break;
            }
            found
        };
        match found {
            Some((i, g)) => {
                self.poke_supervisor();
                Ok((i, g))
            }
            None => Err(RegisterError::NoCapacity),
        }
    }

    pub fn status(&self, slot: usize, generation: u64) -> (BgwHandleStatus, i32) {
        self.seg.slot(slot).status(generation)
    }

    /// Set the terminate flag of the handle's slot unless it was reused;
    /// returns whether the flag was set.
    pub fn terminate(&self, slot: usize, generation: u64) -> bool {
        let s = self.seg.slot(slot);
        let hit = {
            let _lock = BackendLock::acquire(&self.seg);
            if s.generation.load(Ordering::Acquire) == generation {
                s.terminate.store(1, Ordering::Release);
                self.mark_pending(slot);
                true
            } else {
                false
            }
        };
        if hit {
            self.poke_supervisor();
        }
        hit
    }

    /// Wait until `done(status)` holds, or the supervisor is gone.
    ///
    /// Sleeps on the segment's `change_seq` futex, which the supervisor
    /// bumps and wakes after every batch of slot changes; a bounded sleep
    /// lets a supervisor that died without waking anyone be noticed (within
    /// [`DEATH_CHECK`]).
    pub fn wait_until(
        &self,
        slot: usize,
        generation: u64,
        done: impl Fn(BgwHandleStatus) -> bool,
    ) -> (BgwHandleStatus, i32) {
        let h = self.seg.header();
        if let Some(r) = self.spin_while_not_started(slot, generation, &done) {
            return r;
        }
        loop {
            // Announce ourselves before sampling the sequence number, so that
            // a supervisor bumping it after our sample sees waiters > 0
            // (both SeqCst; see the supervisor's wake_waiters).
            h.waiters.fetch_add(1, Ordering::SeqCst);
            let seq = h.change_seq.load(Ordering::SeqCst);
            let (st, pid) = self.status(slot, generation);
            if done(st) {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return (st, pid);
            }
            if !self.supervisor_alive() {
                h.waiters.fetch_sub(1, Ordering::SeqCst);
                return (BGWH_POSTMASTER_DIED, 0);
            }
            futex_wait(&h.change_seq, seq, DEATH_CHECK);
            h.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Before parking, spin briefly while the worker is not started yet.
    ///
    /// A registration is answered by the supervisor within one fork (about
    /// 100 us), while waking a parked thread can cost as much again on an
    /// idle CPU. So while the next change is the supervisor's (the worker
    /// is registered but not started) and another CPU is there to make it,
    /// the waiter watches the slot for at most [`SPIN_LIMIT`]. Once the
    /// worker runs, the next change depends on the worker, which needs the
    /// CPU more than we do: park at once.
    fn spin_while_not_started(
        &self,
        slot: usize,
        generation: u64,
        done: &impl Fn(BgwHandleStatus) -> bool,
    ) -> Option<(BgwHandleStatus, i32)> {
        if !multi_cpu() {
            return None;
        }
        let start = std::time::Instant::now();
        loop {
            let (st, pid) = self.status(slot, generation);
            if done(st) {
                return Some((st, pid));
            }
            if st != BGWH_NOT_YET_STARTED || start.elapsed() >= SPIN_LIMIT {
                return None;
            }
            // Yield rather than pause: if the supervisor (or the new worker)
            // was woken onto this CPU, it runs now instead of after the spin.
            std::thread::yield_now();
        }
    }

    /// The bgw_type of the running worker with this pid, if any.
    pub fn type_by_pid(&self, pid: i32) -> Option<[std::os::raw::c_char; BGW_MAXLEN]> {
        if pid <= 0 {
            return None;
        }
        for i in 0..self.seg.total_slots() {
            let s = self.seg.slot(i);
            if s.pid.load(Ordering::Acquire) != pid || s.in_use.load(Ordering::Acquire) == 0 {
                continue;
            }
            let g = s.generation.load(Ordering::Acquire);
            let mut t = s.read_worker().bgw_type;
            t[BGW_MAXLEN - 1] = 0;
            // Order the copy before the re-checks: still in use, same tenant
            // and same pid mean the copy is that worker's type.
            std::sync::atomic::fence(Ordering::Acquire);
            if s.in_use.load(Ordering::Acquire) != 0
                && s.generation.load(Ordering::Acquire) == g
                && s.pid.load(Ordering::Acquire) == pid
            {
                return Some(t);
            }
        }
        None
    }
}

/// Longest a waiter spins before parking (see spin_while_not_started).
pub const SPIN_LIMIT: Duration = Duration::from_micros(250);

/// More than one CPU to run on (spinning on one CPU only delays the
/// process being waited for).
fn multi_cpu() -> bool {
    static N: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// How long a waiter sleeps before checking that the supervisor is alive.
pub const DEATH_CHECK: Duration = Duration::from_millis(100);

/// Sleep while `*word == expected`, at most `timeout` (shared futex: the
/// word lives in memory shared between processes).
pub fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // SAFETY: word is a valid, aligned u32 for the duration of the call;
    // EAGAIN/EINTR/ETIMEDOUT are all fine outcomes for the caller's loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            0usize,
            0u32,
        )
    };
}

/// Wake every thread sleeping on `word`.
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: word is a valid, aligned u32; waking has no other effect.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            0usize,
            0usize,
            0u32,
        )
    };
}

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
    if !path.is_dir() {
        return Err(format!(
            "no bgworkerd is running on \"{arg}\": no such directory"
        ));
    }
    let pidfile = path.join("bgworkerd.pid");
    let text = std::fs::read_to_string(&pidfile).map_err(|e| {
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
    let seg = Segment::attach(seg_name).map_err(|e| e.0)?;
    let sup = seg.header().supervisor_pid.load(Ordering::Relaxed);
    if let Some(p) = pid_from_file {
        if p != sup {
            return Err(format!(
                "shared memory segment \"{seg_name}\" belongs to process {sup}, not to {p} named in the pid file"
            ));
        }
    }
    // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, sup, 0) } as i32;
    if pidfd < 0 {
        return Err(format!(
            "background worker supervisor (pid {sup}) of segment \"{seg_name}\" is not running: {}",
            crate::errno_text(crate::errno())
        ));
    }
    // SAFETY: FD_CLOEXEC on our own fresh descriptor.
    unsafe { libc::fcntl(pidfd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // State-change notifications (bgw_notify_pid) arrive as SIGUSR1; make
    // sure one cannot kill a process that did not install a handler.
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
    let conn = Connection {
        seg: Arc::new(seg),
        role: Role::Attached,
        supervisor_pid: sup,
        pidfd,
        death_fd: -1,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn conn(slots: usize, max_parallel: i32) -> Connection {
        let seg = Segment::create(slots, max_parallel).unwrap();
        seg.unlink();
        // supervisor_pid 0: nobody is signalled; the test plays supervisor.
        Connection {
            seg: Arc::new(seg),
            role: Role::Attached,
            supervisor_pid: 0,
            pidfd: -1,
            death_fd: -1,
        }
    }

    fn def(name: &str, flags: i32, restart: i32) -> BackgroundWorker {
        let mut w = BackgroundWorker::zeroed();
        set_fixed_str(&mut w.bgw_name, name);
        w.bgw_flags = flags;
        w.bgw_restart_time = restart;
        w.bgw_start_time = BgWorkerStart_RecoveryFinished;
        w
    }

    #[test]
    fn concurrent_registrations_never_share_a_slot() {
        let c = Arc::new(conn(64, 8));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(h) = c.register(&def(&format!("t{t}"), BGWORKER_SHMEM_ACCESS, 1)) {
                        got.push(h);
                    }
                    got
                })
            })
            .collect();
        let mut all: Vec<(usize, u64)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 64, "every slot handed out exactly once");
        for (i, g) in &all {
            assert_eq!(c.status(*i, *g).0, BGWH_NOT_YET_STARTED);
        }
        // every slot's pending bit is set for the supervisor
        assert_eq!(c.seg.pending_word(0).load(Ordering::Relaxed), u64::MAX);
    }

    /// A holder that died after counting a parallel registration and
    /// before publishing it: the backend taking over its lock gives the
    /// budget back.
    #[test]
    fn parallel_count_of_a_dead_holder_is_given_back_at_takeover() {
        let c = conn(4, 2);
        let par = def(
            "p",
            BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL,
            BGW_NEVER_RESTART,
        );
        c.register(&par)
            .ok()
            .expect("one published parallel worker");
        let h = c.seg.header();
        // The dead holder: counted, never published, lock still held.
        h.parallel_register_count.fetch_add(1, Ordering::AcqRel);
        h.backend_lock
            .store(lock_identity() ^ (1 << 32), Ordering::Relaxed);
        assert_eq!(h.parallel_in_use(), 2);
        c.register(&par)
            .ok()
            .expect("the dead holder's unit of the budget is back");
        assert_eq!(h.parallel_in_use(), 2);
        assert!(matches!(c.register(&par), Err(RegisterError::NoCapacity)));
    }

    #[test]
    fn lock_held_by_a_dead_process_is_taken_over() {
        // A thread id that a later task reuses is not taken for the holder.
        let me = lock_identity();
        assert!(!holder_gone(me), "a live holder is not gone");
        assert!(
            holder_gone(me ^ (1 << 32)),
            "same tid, other start time: gone"
        );
        let c = conn(2, 8);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id() as i32;
        child.wait().unwrap();
        c.seg
            .header()
            .backend_lock
            .store(dead as u64, Ordering::Relaxed);
        let (slot, g) = c
            .register(&def("after", BGWORKER_SHMEM_ACCESS, 1))
            .ok()
            .expect("registration");
        assert_eq!(c.status(slot, g).0, BGWH_NOT_YET_STARTED);
        assert_eq!(
            c.seg.header().backend_lock.load(Ordering::Relaxed),
            0,
            "lock released"
        );
    }

    #[test]
    fn parallel_budget_and_terminate_generation_check() {
        let c = conn(4, 1);
        let par = def(
            "p",
            BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL,
            BGW_NEVER_RESTART,
        );
        let (s0, g0) = c.register(&par).ok().expect("first parallel worker");
        assert!(matches!(c.register(&par), Err(RegisterError::NoCapacity)));
        // The supervisor forgets it: budget comes back.
        let h = c.seg.header();
        h.parallel_terminate_count.fetch_add(1, Ordering::AcqRel);
        c.seg.slot(s0).in_use.store(0, Ordering::Release);
        let (s1, g1) = c
            .register(&par)
            .ok()
            .expect("parallel worker after one was forgotten");
        assert_eq!(s1, s0);
        assert_ne!(g1, g0);
        // A stale handle cannot terminate the new tenant.
        c.terminate(s0, g0);
        assert_eq!(c.seg.slot(s1).terminate.load(Ordering::Relaxed), 0);
        c.terminate(s1, g1);
        assert_eq!(c.seg.slot(s1).terminate.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn sanity_check_messages() {
        let mut w = def("x", 0, 1);
        assert_eq!(
            sanity_check(&mut w).unwrap_err(),
            "background worker \"x\": background workers without shared memory access are not supported"
        );
        let mut w = def("x", BGWORKER_SHMEM_ACCESS, -5);
        assert_eq!(
            sanity_check(&mut w).unwrap_err(),
            "background worker \"x\": invalid restart interval"
        );
        let mut w = def("x", BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL, 1);
        assert!(sanity_check(&mut w)
            .unwrap_err()
            .contains("parallel workers may not be configured for restart"));
        let mut w = def(
            "x",
            BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
            1,
        );
        w.bgw_start_time = BgWorkerStart_PostmasterStart;
        assert!(sanity_check(&mut w)
            .unwrap_err()
            .contains("cannot request database access if starting at postmaster start"));
        let mut w = def("x", BGWORKER_SHMEM_ACCESS, 1);
        w.bgw_function_name = [b'f' as std::os::raw::c_char; BGW_MAXLEN];
        assert!(sanity_check(&mut w)
            .unwrap_err()
            .contains("bgw_function_name is not NUL-terminated"));
        let mut w = def("x", BGWORKER_SHMEM_ACCESS, 1);
        sanity_check(&mut w).unwrap();
        assert_eq!(w.type_name(), "x");
    }
}
