//! The supervisor: PostgreSQL's postmaster, for background workers only.
//!
//! One thread runs [`run`]: signal handlers are replaced by a signalfd, so
//! signals only record what happened and the loop does the work: reap
//! children, notice slot changes, advance timers, run the crash and shutdown
//! state machines, start workers whose time has come, publish the changes to
//! waiters, then sleep until the next signal, host request or deadline. No
//! lock on shared memory is ever taken here, and nothing read from it is
//! trusted (see shmem/slots.rs).

pub mod notify;
pub mod pidfile;
pub mod registry;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::abi::*;
use crate::backend::{self, Connection, Role};
use crate::log;
use crate::process::child::{self, ChildContext};
use crate::process::loader;
use crate::settings::{self, Settings};
use crate::shmem::facts::{self, STATE_NOT_STARTED, STATE_STOPPED, STATE_TERMINATING};
use crate::shmem::slots::PID_NOT_STARTED;
use crate::shmem::Segment;
use pidfile::PidFile;
use registry::{Registered, SUPERVISOR_RUNNING};

/// Shutdown modes, in escalating order (values of `bgw_host_request_shutdown`).
pub const SHUTDOWN_NONE: i32 = 0;
pub const SHUTDOWN_SMART: i32 = 1;
pub const SHUTDOWN_FAST: i32 = 2;
pub const SHUTDOWN_IMMEDIATE: i32 = 3;

/// Shutdown requested by the host (async-signal-safe to set).
static REQUESTED_SHUTDOWN: AtomicI32 = AtomicI32::new(SHUTDOWN_NONE);
/// Latest start phase the supervisor may reach.
static PHASE_LIMIT: AtomicU32 = AtomicU32::new(BgWorkerStart_RecoveryFinished);
/// eventfd that wakes the loop for host requests, or -1.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// After a crash or immediate shutdown, workers that ignore SIGQUIT get
/// SIGKILL after this long (PostgreSQL: SIGKILL_CHILDREN_AFTER_SECS).
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Attached-process pidfds kept before exited processes are swept out.
const ATTACHED_CACHE_SWEEP: usize = 64;
/// Delay before retrying a failed fork.
const FORK_RETRY: Duration = Duration::from_secs(1);

fn wake_loop() {
    let fd = WAKE_FD.load(Ordering::Acquire);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: write(2) of 8 bytes to an eventfd; async-signal-safe.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

/// In a new worker: the supervisor's eventfd is not ours to write.
pub fn forget_wake_fd() {
    WAKE_FD.store(-1, Ordering::Release);
}

/// Ask the running supervisor to shut down (async-signal-safe).
pub fn request_shutdown(mode: i32) {
    if (SHUTDOWN_SMART..=SHUTDOWN_IMMEDIATE).contains(&mode) {
        REQUESTED_SHUTDOWN.fetch_max(mode, Ordering::SeqCst);
        wake_loop();
    }
}

/// Let the supervisor advance up to `phase` (async-signal-safe).
pub fn set_phase_limit(phase: BgWorkerStartTime) {
    PHASE_LIMIT.store(phase.min(BgWorkerStart_RecoveryFinished), Ordering::SeqCst);
    wake_loop();
}

fn kill(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: sending a signal has no memory-safety preconditions.
        unsafe { libc::kill(pid, sig) };
    }
}

fn strsignal(sig: i32) -> String {
    // SAFETY: strsignal returns a valid C string (static or thread-local).
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        format!("signal {sig}")
    } else {
        // SAFETY: non-null C string from libc.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }
}

/// PostgreSQL's LogChildExit.
fn log_child_exit(level: i32, what: &str, pid: i32, status: i32) {
    if !log::enabled(level) {
        return;
    }
    let msg = if libc::WIFEXITED(status) {
        format!(
            "{what} (PID {pid}) exited with exit code {}",
            libc::WEXITSTATUS(status)
        )
    } else if libc::WIFSIGNALED(status) {
        let s = libc::WTERMSIG(status);
        format!(
            "{what} (PID {pid}) was terminated by signal {s}: {}",
            strsignal(s)
        )
    } else {
        format!("{what} (PID {pid}) exited with unrecognized status {status}")
    };
    log::emit(level, &msg);
}

struct Supervisor {
    seg: Arc<Segment>,
    settings: Settings,
    pidfile: Option<PidFile>,
    workers: Vec<Option<Registered>>,
    by_pid: HashMap<i32, usize>,
    /// Our own pid (never read back from shared memory).
    my_pid: i32,
    /// pidfds of attached processes known to be valid notify targets.
    attached: HashMap<i32, i32>,
    /// How many registered workers name each notify pid.
    notify_refs: HashMap<i32, u32>,
    start_queue: VecDeque<usize>,
    restarts: BinaryHeap<Reverse<(Instant, usize)>>,
    phase: BgWorkerStartTime,
    /// A crash is being handled (PostgreSQL's FatalError).
    fatal_error: bool,
    shutdown: i32,
    kill_deadline: Option<Instant>,
    /// Slot state changed since waiters were last woken.
    changed: bool,
    sigfd: i32,
    wakefd: i32,
    death_r: i32,
    death_w: i32,
    exit_code: Option<i32>,
    got_slot_signal: bool,
    got_child_signal: bool,
    got_reload: bool,
    /// The signalfd / the host's wake-up eventfd became readable.
    sig_pending: bool,
    wake_pending: bool,
}

fn supervisor_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for sig in [
            libc::SIGCHLD,
            libc::SIGUSR1,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGHUP,
        ] {
            libc::sigaddset(&mut s, sig);
        }
        s
    }
}

/// Process-directed signals go to any thread that does not block them, and
/// then never reach our signalfd. An embedding host must block them in its
/// other threads; say so if one does not (threads started later are not
/// seen).
fn warn_unblocking_threads() {
    let wanted: u64 = [
        libc::SIGCHLD,
        libc::SIGUSR1,
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGHUP,
    ]
    .iter()
    .map(|s| 1u64 << (s - 1))
    .sum();
    // SAFETY: gettid has no preconditions.
    let me = unsafe { libc::syscall(libc::SYS_gettid) } as i64;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for e in dir.flatten() {
        let Ok(tid) = e.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        if tid == me {
            continue;
        }
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        let blocked = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(wanted);
        if blocked & wanted != wanted {
            log::emit_full(
                log::WARNING,
                &format!("thread {tid} of this process does not block the supervisor's signals"),
                Some("SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGQUIT and SIGHUP delivered to that thread never reach the supervisor."),
                Some("Block them in every thread of the host, e.g. before creating threads."),
            );
        }
    }
}

/// What `run` sets up in the calling process and must undo on every way
/// out: the running flag, the signal mask, the event descriptors.
struct RunGuard {
    old_mask: Option<libc::sigset_t>,
    fds: [i32; 4],
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        WAKE_FD.store(-1, Ordering::Release);
        for fd in self.fds {
            if fd >= 0 {
                // SAFETY: descriptors created by run() and owned by it.
                unsafe { libc::close(fd) };
            }
        }
        if let Some(m) = &self.old_mask {
            // SAFETY: restoring the mask saved by run().
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, m, std::ptr::null_mut()) };
        }
        REQUESTED_SHUTDOWN.store(SHUTDOWN_NONE, Ordering::SeqCst);
        SUPERVISOR_RUNNING.store(false, Ordering::SeqCst);
    }
}

/// Run a supervisor in the calling thread until it shuts down; returns the
/// exit status (0 after a clean shutdown, 1 otherwise). `pidfile` is the
/// already-locked pid file of `rundir`, if any.
pub fn run(rundir: Option<&Path>, pidfile: Option<PidFile>) -> i32 {
    let settings = settings::current();
    log::set_min_level(settings.log_min_messages);
    crate::log_prefix::set(&settings.log_line_prefix);
    if SUPERVISOR_RUNNING.swap(true, Ordering::SeqCst) {
        log::emit(
            log::FATAL,
            "a background worker supervisor is already running in this process",
        );
        return 1;
    }
    let mut guard = RunGuard {
        old_mask: None,
        fds: [-1; 4],
    };
    let mut pidfile = pidfile;
    if pidfile.is_none() {
        if let Some(dir) = rundir {
            match PidFile::lock(dir) {
                Ok(p) => pidfile = Some(p),
                Err((m, hint)) => {
                    log::emit_full(log::FATAL, &m, None, hint.as_deref());
                    return 1;
                }
            }
        }
    }

    // Signals arrive through a signalfd; block them in this thread first.
    let sigs = supervisor_signals();
    // SAFETY: sigset_t is plain data.
    let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &sigs, &mut old_mask) };
    guard.old_mask = Some(old_mask);
    warn_unblocking_threads();
    // SAFETY: plain syscalls creating new descriptors.
    let (sigfd, wakefd) = unsafe {
        (
            libc::signalfd(-1, &sigs, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC),
            libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC),
        )
    };
    let mut pipefd = [-1i32; 2];
    // SAFETY: pipe2 fills two descriptors.
    let pipe_ok = unsafe { libc::pipe2(pipefd.as_mut_ptr(), libc::O_CLOEXEC) } == 0;
    guard.fds = [sigfd, wakefd, pipefd[0], pipefd[1]];
    if sigfd < 0 || wakefd < 0 || !pipe_ok {
        log::emit(
            log::FATAL,
            &format!(
                "could not set up the supervisor's event sources: {}",
                crate::errno_text(crate::errno())
            ),
        );
        return 1;
    }
    WAKE_FD.store(wakefd, Ordering::Release);

    let nslots = settings.max_worker_processes.max(0) as usize;
    let seg = match Segment::create(nslots, settings.max_parallel_workers) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            log::emit(
                log::FATAL,
                &format!(
                    "could not create shared memory segment: {}",
                    crate::io_text(&e)
                ),
            );
            return 1;
        }
    };
    // SAFETY: getpid has no preconditions.
    let my_pid = unsafe { libc::getpid() };
    set_emergency_cleanup(seg.name(), pidfile.as_ref().map(|p| p.path().to_path_buf()));
    settings::set_rundir(rundir);
    let old = backend::install(Connection {
        seg: Arc::clone(&seg),
        role: Role::Supervisor,
        supervisor_pid: my_pid,
        pidfd: -1,
        death_fd: -1,
    });
    // SAFETY: whatever connection this process had (none, in practice:
    // run() refuses a second supervisor) was just unpublished.
    unsafe { backend::drop_connection(old) };

    let mut sup = Supervisor {
        seg,
        settings,
        pidfile,
        workers: (0..nslots).map(|_| None).collect(),
        by_pid: HashMap::new(),
        notify_refs: HashMap::new(),
        my_pid,
        attached: HashMap::new(),
        start_queue: VecDeque::new(),
        restarts: BinaryHeap::new(),
        phase: BgWorkerStart_PostmasterStart,
        fatal_error: false,
        shutdown: SHUTDOWN_NONE,
        kill_deadline: None,
        changed: false,
        sigfd,
        wakefd,
        death_r: pipefd[0],
        death_w: pipefd[1],
        exit_code: None,
        got_slot_signal: false,
        got_child_signal: false,
        got_reload: false,
        sig_pending: true,
        wake_pending: true,
    };
    for (i, w) in registry::static_workers()
        .into_iter()
        .take(nslots)
        .enumerate()
    {
        sup.workers[i] = Some(Registered::new(w));
    }
    sup.seg.daemon_facts().init(facts::now_ms());
    sup.init_slots();
    // Modules' shmem hooks run here; if one fails, shut down at once
    // (without writing the pid file).
    let compat_ok = crate::compat::supervisor_start(nslots);
    let written = compat_ok
        && match sup
            .pidfile
            .as_mut()
            .map(|p| p.write(my_pid, sup.seg.name()))
        {
            Some(Err(e)) => {
                log::emit(
                    log::FATAL,
                    &format!("could not write lock file: {}", crate::io_text(&e)),
                );
                false
            }
            _ => true,
        };
    let code = if written {
        log::emit(
            log::LOG,
            &format!(
                "bgworkerd ready: {nslots} worker slots, segment {}",
                sup.seg.name()
            ),
        );
        notify::send(&format!(
            "READY=1\nSTATUS=ready: {nslots} worker slots\nMAINPID={my_pid}"
        ));
        sup.main_loop()
    } else {
        1
    };

    // Tell waiters in still-running processes (an embedding host lives on
    // after bgw_host_run returns) that the supervisor is gone.
    let h = sup.seg.header();
    h.supervisor_exited.store(1, Ordering::SeqCst);
    h.change_seq.fetch_add(1, Ordering::SeqCst);
    backend::futex_wake_all(&h.change_seq);

    // Leave the process as we found it (the guard does the rest).
    set_emergency_cleanup("", None);
    sup.seg.unlink();
    if let Some(p) = sup.pidfile.take() {
        p.remove();
    }
    for fd in sup.attached.values() {
        // SAFETY: pidfds owned by the supervisor's cache.
        unsafe { libc::close(*fd) };
    }
    // Other host threads may still hold the connection: unpublish it but
    // keep it (and its mapping) alive rather than free it under them.
    backend::unpublish();
    drop(guard);
    code
}

/// What a supervisor must remove if its process exits without returning
/// from [`run`] (a module's FATAL or PANIC in a hook it runs).
static EMERGENCY_CLEANUP: std::sync::Mutex<(String, Option<std::path::PathBuf>)> =
    std::sync::Mutex::new((String::new(), None));

fn set_emergency_cleanup(segment: &str, pidfile: Option<std::path::PathBuf>) {
    let mut c = EMERGENCY_CLEANUP.lock().unwrap_or_else(|e| e.into_inner());
    *c = (segment.to_string(), pidfile);
}

/// Remove the running supervisor's segment and pid file and tell waiters
/// it is gone. Called on the way out of a process that exits from inside
/// module code (proc_exit or PANIC in the supervisor).
pub fn emergency_cleanup() {
    let (segment, pidfile) = {
        let c = EMERGENCY_CLEANUP.lock().unwrap_or_else(|e| e.into_inner());
        c.clone()
    };
    if let Some(conn) = backend::current() {
        let h = conn.seg.header();
        h.supervisor_exited.store(1, Ordering::SeqCst);
        h.change_seq.fetch_add(1, Ordering::SeqCst);
        backend::futex_wake_all(&h.change_seq);
    }
    if !segment.is_empty() {
        if let Ok(c) = std::ffi::CString::new(segment) {
            // SAFETY: a NUL-terminated name.
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
    }
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
}

impl Supervisor {
    fn main_loop(&mut self) -> i32 {
        // Workers of the first phase (PostmasterStart) start at once; later
        // phases are queued as advance_phase reaches them.
        for i in 0..self.workers.len() {
            self.enqueue(i);
        }
        self.advance_phase();
        loop {
            self.drain_signals();
            let req = REQUESTED_SHUTDOWN.load(Ordering::SeqCst);
            if req > self.shutdown {
                self.begin_shutdown(req);
            }
            if self.got_reload {
                self.got_reload = false;
                self.reload();
            }
            if self.got_child_signal {
                self.got_child_signal = false;
                self.reap();
            }
            if self.got_slot_signal {
                self.got_slot_signal = false;
                self.process_slot_changes();
            }
            self.advance_phase();
            self.run_timers();
            self.advance_state();
            if let Some(code) = self.exit_code {
                self.publish();
                return code;
            }
            if !self.fatal_error && self.shutdown == SHUTDOWN_NONE {
                self.start_queued();
            }
            self.publish();
            self.sleep();
        }
    }

    /// Wake everyone waiting on slot state, if anything changed.
    fn publish(&mut self) {
        if !self.changed {
            return;
        }
        self.changed = false;
        let h = self.seg.header();
        // SeqCst pairs with the waiters' SeqCst increment-then-sample (see
        // Connection::wait_until): either they see the new sequence number,
        // or we see them and wake them.
        h.change_seq.fetch_add(1, Ordering::SeqCst);
        if h.waiters.load(Ordering::SeqCst) > 0 {
            backend::futex_wake_all(&h.change_seq);
        }
    }

    fn sleep(&mut self) {
        let now = Instant::now();
        let mut deadline = self.kill_deadline;
        if let Some(Reverse((t, _))) = self.restarts.peek() {
            deadline = Some(deadline.map_or(*t, |d| d.min(*t)));
        }
        let timeout = match deadline {
            None => -1,
            Some(d) => {
                d.saturating_duration_since(now)
                    .as_millis()
                    .min(i32::MAX as u128 - 1) as i32
                    + 1
            }
        };
        let mut fds = [
            libc::pollfd {
                fd: self.sigfd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wakefd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
        self.sig_pending = fds[0].revents != 0;
        self.wake_pending = fds[1].revents != 0;
    }

    fn drain_signals(&mut self) {
        if !self.sig_pending {
            return self.drain_wake();
        }
        self.sig_pending = false;
        // SAFETY: signalfd_siginfo is plain data; all-zero is valid.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let sz = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: reading one signalfd_siginfo into a properly sized buffer.
            let n = unsafe {
                libc::read(
                    self.sigfd,
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    sz,
                )
            };
            if n != sz as isize {
                break;
            }
            match info.ssi_signo as i32 {
                libc::SIGCHLD => self.got_child_signal = true,
                libc::SIGUSR1 => self.got_slot_signal = true,
                libc::SIGHUP => self.got_reload = true,
                libc::SIGTERM => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_SMART, Ordering::SeqCst);
                }
                libc::SIGINT => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_FAST, Ordering::SeqCst);
                }
                libc::SIGQUIT => {
                    REQUESTED_SHUTDOWN.fetch_max(SHUTDOWN_IMMEDIATE, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        self.drain_wake();
    }

    fn drain_wake(&mut self) {
        if self.wake_pending {
            self.wake_pending = false;
            let mut buf = 0u64;
            // SAFETY: reading the eventfd counter (8 bytes) to re-arm it.
            unsafe { libc::read(self.wakefd, (&mut buf as *mut u64).cast(), 8) };
        }
    }

    /// Copy the registry into the fresh segment: registered (static)
    /// workers in their slots, not started yet; every other slot free
    /// (PostgreSQL's BackgroundWorkerShmemInit).
    fn init_slots(&mut self) {
        let h = self.seg.header();
        h.parallel_register_count.store(0, Ordering::Relaxed);
        h.parallel_terminate_count.store(0, Ordering::Relaxed);
        for w in 0..crate::shmem::slots::pending_words(self.seg.total_slots()) {
            self.seg.pending_word(w).store(0, Ordering::Relaxed);
        }
        for i in 0..self.workers.len() {
            let s = self.seg.slot(i);
            match &self.workers[i] {
                Some(rw) => {
                    let mut def = rw.def;
                    def.bgw_notify_pid = 0;
                    s.write_worker(&def);
                    s.terminate.store(0, Ordering::Relaxed);
                    s.pid.store(PID_NOT_STARTED, Ordering::Relaxed);
                    s.in_use.store(1, Ordering::Release);
                    self.seg.slot_facts(i).registered(
                        &def,
                        s.generation.load(Ordering::Relaxed),
                        self.my_pid,
                    );
                }
                None => {
                    s.pid.store(0, Ordering::Relaxed);
                    s.in_use.store(0, Ordering::Release);
                }
            }
        }
        self.changed = true;
    }

    /// After a crash cycle (PostgreSQL reinitialises shared memory): the
    /// surviving workers read "not started yet" again. Slots owned by
    /// backends, terminate flags and pending bits are left alone: attached
    /// processes keep running through a crash cycle, and one of them may be
    /// in the middle of registering or terminating. The parallel counters
    /// are left alone too (see the invariant at `Header`): every parallel
    /// registration already counted is given back through `forget` or the
    /// rejection in `examine_slot`, including one published after the last
    /// intake, so no recomputation is needed and none could be exact.
    fn reset_slots_after_crash(&mut self) {
        for (i, rw) in self.workers.iter().enumerate() {
            if rw.is_some() {
                self.seg
                    .slot(i)
                    .pid
                    .store(PID_NOT_STARTED, Ordering::Release);
            }
        }
        self.changed = true;
    }

    fn eligible(&self, i: usize) -> bool {
        match &self.workers[i] {
            Some(rw) => {
                rw.pid == 0
                    && !rw.terminate
                    && rw.restart_at.is_none()
                    && rw.def.bgw_start_time <= self.phase
            }
            None => false,
        }
    }

    fn enqueue(&mut self, i: usize) {
        if self.eligible(i) {
            let rw = self.workers[i]
                .as_mut()
                .expect("eligible implies registered");
            if !rw.queued {
                rw.queued = true;
                self.start_queue.push_back(i);
            }
        }
    }

    fn advance_phase(&mut self) {
        let limit = PHASE_LIMIT.load(Ordering::SeqCst);
        if limit > self.phase {
            self.phase = limit;
            self.seg.header().phase.store(limit, Ordering::Release);
            for i in 0..self.workers.len() {
                self.enqueue(i);
            }
        }
    }

    /// Send SIGUSR1 to a notify pid: a worker by pid (it is our child, so
    /// the pid cannot have been reused before we reaped it), an attached
    /// process through its pidfd (so a reused pid is never signalled).
    fn notify(&mut self, pid: i32) {
        if pid == 0 {
            return;
        }
        if self.by_pid.contains_key(&pid) {
            kill(pid, libc::SIGUSR1);
        } else if let Some(&fd) = self.attached.get(&pid) {
            // SAFETY: fd is our pidfd of that process; null info = as kill.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd,
                    libc::SIGUSR1,
                    std::ptr::null::<u8>(),
                    0,
                )
            };
            if r != 0 {
                self.forget_attached(pid);
            }
        }
    }

    /// Is `pid` a process of this supervisor: one of its workers, or a
    /// process attached to its segment (PostgreSQL accepts only its own
    /// backends)? Attached processes are recognised by the segment in
    /// their mappings, once, and then held by a pidfd.
    fn valid_notify_target(&mut self, pid: i32) -> bool {
        if pid <= 0 {
            return false;
        }
        if self.by_pid.contains_key(&pid) {
            return true;
        }
        if let Some(&fd) = self.attached.get(&pid) {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no wait.
            if unsafe { libc::poll(&mut p, 1, 0) } == 0 {
                return true;
            }
            self.forget_attached(pid);
        }
        // SAFETY: pidfd_open returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            return false;
        }
        let needle = format!("/dev/shm{}", self.seg.name());
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        if maps.lines().any(|l| l.ends_with(&needle)) {
            // SAFETY: our own fresh descriptor.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            // The pidfd is kept while its process lives (a process that
            // registers once usually registers again); processes that have
            // exited are swept out before the cache grows further.
            if self.attached.len() >= ATTACHED_CACHE_SWEEP {
                self.sweep_attached();
            }
            self.attached.insert(pid, fd);
            true
        } else {
            // SAFETY: closing our own descriptor.
            unsafe { libc::close(fd) };
            false
        }
    }

    /// Drop the pidfds of attached processes that have exited.
    fn sweep_attached(&mut self) {
        let gone: Vec<i32> = self
            .attached
            .iter()
            .filter(|(_, &fd)| {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd, no wait.
                (unsafe { libc::poll(&mut p, 1, 0) }) != 0
            })
            .map(|(&pid, _)| pid)
            .collect();
        for pid in gone {
            self.forget_attached(pid);
        }
    }

    fn forget_attached(&mut self, pid: i32) {
        if let Some(fd) = self.attached.remove(&pid) {
            // SAFETY: the map owned this descriptor.
            unsafe { libc::close(fd) };
        }
    }

    fn add_notify_ref(&mut self, pid: i32) {
        if pid != 0 {
            *self.notify_refs.entry(pid).or_insert(0) += 1;
        }
    }

    fn drop_notify_ref(&mut self, pid: i32) {
        if let Some(n) = self.notify_refs.get_mut(&pid) {
            *n -= 1;
            if *n == 0 {
                self.notify_refs.remove(&pid);
            }
        }
    }

    /// Forget worker `i` and free its slot (PostgreSQL's
    /// ForgetBackgroundWorker). The caller notifies, if appropriate.
    fn forget(&mut self, i: usize) {
        let Some(rw) = self.workers[i].take() else {
            return;
        };
        let h = self.seg.header();
        let s = self.seg.slot(i);
        if rw.parallel() {
            h.parallel_terminate_count.fetch_add(1, Ordering::AcqRel);
        }
        // Give the slot back; pairs with the backends' Acquire load when
        // they look for a free slot. `pid` is left alone: readers check
        // in_use first, and a slot that reads "stopped" is already free, so
        // a waiter that re-registers at once finds it (PostgreSQL leaves a
        // short window there).
        self.seg.slot_facts(i).set_state(STATE_STOPPED);
        s.in_use.store(0, Ordering::Release);
        self.changed = true;
        self.drop_notify_ref(rw.notify_pid);
        crate::elog!(
            log::DEBUG1,
            "unregistering background worker \"{}\"",
            rw.def.name()
        );
    }

    /// Collect the slots backends marked, or every slot if none is marked.
    /// The slot count is our own, never the header's (which anyone with the
    /// segment could overwrite).
    fn process_slot_changes(&mut self) {
        let mut any = false;
        for w in 0..crate::shmem::slots::pending_words(self.workers.len()) {
            let mut bits = self.seg.pending_word(w).swap(0, Ordering::Acquire);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let i = w * 64 + b;
                if i < self.workers.len() {
                    any = true;
                    self.examine_slot(i);
                }
            }
        }
        if !any {
            for i in 0..self.workers.len() {
                self.examine_slot(i);
            }
        }
    }

    /// PostgreSQL's BackgroundWorkerStateChange, for one slot.
    fn examine_slot(&mut self, i: usize) {
        let s = self.seg.slot(i);
        // Acquire pairs with the backend's Release store of in_use: the
        // slot's contents are complete.
        if s.in_use.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(rw) = self.workers[i].as_mut() {
            if s.terminate.load(Ordering::Acquire) != 0 && !rw.terminate {
                rw.terminate = true;
                rw.queued = false;
                if rw.pid != 0 {
                    kill(rw.pid, libc::SIGTERM);
                    self.seg.slot_facts(i).set_state(STATE_TERMINATING);
                } else {
                    // Never started (or waiting to restart): gone now.
                    let notify = rw.notify_pid;
                    self.forget(i);
                    self.notify(notify);
                }
            }
            return;
        }
        // A new registration. Refused while a crash or shutdown is being
        // handled, so its waiters hear about it at once.
        if self.fatal_error || self.shutdown != SHUTDOWN_NONE {
            s.terminate.store(1, Ordering::Release);
        }
        let raw = s.read_worker();
        let (generation, registrant) = (
            s.generation.load(Ordering::Acquire),
            s.registrant.load(Ordering::Relaxed).max(0),
        );
        let mut def = raw.sanitized();
        let check = backend::sanity_check(&mut def);
        if s.terminate.load(Ordering::Acquire) != 0 || check.is_err() {
            if let Err(msg) = check {
                log::emit(log::LOG, &msg);
            }
            if raw.bgw_flags & BGWORKER_CLASS_PARALLEL != 0 {
                self.seg
                    .header()
                    .parallel_terminate_count
                    .fetch_add(1, Ordering::AcqRel);
            }
            s.in_use.store(0, Ordering::Release);
            self.changed = true;
            self.notify(raw.bgw_notify_pid);
            return;
        }
        if def.bgw_notify_pid != 0 && !self.valid_notify_target(def.bgw_notify_pid) {
            // As PostgreSQL: only processes of this supervisor are notified.
            crate::elog!(
                log::DEBUG1,
                "worker notification PID {} is not valid",
                def.bgw_notify_pid
            );
            def.bgw_notify_pid = 0;
        }
        crate::elog!(
            log::DEBUG1,
            "registering background worker \"{}\"",
            def.name()
        );
        self.seg
            .slot_facts(i)
            .registered(&def, generation, registrant);
        let rw = Registered::new(def);
        self.add_notify_ref(rw.notify_pid);
        self.workers[i] = Some(rw);
        self.enqueue(i);
    }

    fn start_queued(&mut self) {
        while let Some(i) = self.start_queue.pop_front() {
            if let Some(rw) = self.workers[i].as_mut() {
                rw.queued = false;
            }
            if self.eligible(i) {
                self.fork_worker(i);
            }
        }
    }

    fn fork_worker(&mut self, i: usize) {
        let def = self.workers[i].as_ref().expect("caller checked").def;
        crate::elog!(
            log::DEBUG1,
            "starting background worker process \"{}\"",
            def.name()
        );
        let mut close = vec![
            self.sigfd,
            self.wakefd,
            self.death_w,
            self.pidfile.as_ref().map_or(-1, PidFile::fd),
        ];
        close.extend(self.attached.values().copied());
        let entry = loader::resolve_loaded(&def.library(), &def.function());
        // Flush stdio first, or what modules and hosts buffered would be
        // written again by each worker's exit (as PostgreSQL's fork_process).
        // SAFETY: fflush(NULL) flushes all output streams.
        unsafe { libc::fflush(std::ptr::null_mut()) };
        // SAFETY: fork from the supervisor's loop thread; the child never
        // returns into this loop (child::run ends the process). In an
        // embedding host with other threads, the child must not need a
        // lock one of them held (see bgw_host_run).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            child::run(
                ChildContext {
                    seg: &self.seg,
                    supervisor_pid: self.my_pid,
                    death_read: self.death_r,
                    close_fds: &close,
                    entry,
                    slot: i,
                },
                &def,
            );
        }
        if pid < 0 {
            let err = crate::errno_text(crate::errno());
            log::emit(log::LOG, &format!("could not fork worker process: {err}"));
            let at = Instant::now() + FORK_RETRY;
            self.workers[i].as_mut().expect("caller checked").restart_at = Some(at);
            self.seg.slot_facts(i).restart_at(facts::instant_ms(at));
            self.restarts.push(Reverse((at, i)));
            return;
        }
        // Publish the pid and wake the waiters before any bookkeeping: the
        // supervisor's first writes after a fork are copy-on-write faults,
        // and the waiter should not wait for them.
        // The facts first (shared memory, no copy-on-write fault): whoever
        // sees the pid published finds the worker running in the facts.
        self.seg.slot_facts(i).started(pid);
        self.seg.slot(i).pid.store(pid, Ordering::Release);
        self.changed = true;
        self.publish();
        let rw = self.workers[i].as_mut().expect("caller checked");
        rw.pid = pid;
        let notify = rw.notify_pid;
        self.notify(notify);
        self.by_pid.insert(pid, i);
    }

    /// Reap exited children. Peeks first so that a host program's own
    /// children (not workers) are left for it to reap.
    fn reap(&mut self) {
        loop {
            // SAFETY: siginfo_t is plain data filled by waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: valid siginfo pointer; WNOWAIT leaves the child reapable.
            let r = unsafe {
                libc::waitid(
                    libc::P_ALL,
                    0,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            // SAFETY: si_pid is valid for SIGCHLD-type siginfo (0 if none).
            let pid = if r == 0 { unsafe { info.si_pid() } } else { 0 };
            if pid == 0 {
                return;
            }
            if self.by_pid.contains_key(&pid) {
                let mut status = 0;
                // SAFETY: reaping a known child.
                unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                self.child_exited(pid, status);
                continue;
            }
            // Someone else's child sits first in line: check ours one by one.
            let pids: Vec<i32> = self.by_pid.keys().copied().collect();
            for p in pids {
                let mut status = 0;
                // SAFETY: reaping a known child, without blocking.
                if unsafe { libc::waitpid(p, &mut status, libc::WNOHANG) } == p {
                    self.child_exited(p, status);
                }
            }
            return;
        }
    }

    /// PostgreSQL's CleanupBackgroundWorker.
    fn child_exited(&mut self, pid: i32, status: i32) {
        let Some(i) = self.by_pid.remove(&pid) else {
            return;
        };
        // Stop notifying a process that is gone (its pid may be reused).
        if self.notify_refs.contains_key(&pid) {
            for rw in self.workers.iter_mut().flatten() {
                if rw.notify_pid == pid {
                    rw.notify_pid = 0;
                }
            }
            self.notify_refs.remove(&pid);
        }
        let Some(rw) = self.workers[i].as_mut() else {
            return;
        };
        rw.pid = 0;
        let what = format!("background worker \"{}\"", rw.def.type_name());
        let exited0 = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let exited1 = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1;
        if exited0 {
            rw.terminate = true;
        }
        let notify = rw.notify_pid;
        let restart_secs = rw.def.bgw_restart_time;
        let forget_now = rw.terminate || rw.never_restart() || self.shutdown != SHUTDOWN_NONE;
        let crash = !exited0 && !exited1 && self.shutdown != SHUTDOWN_IMMEDIATE;
        if !exited0 && !exited1 {
            // Restarting (or not) is decided at the end of the crash cycle.
            self.seg.slot_facts(i).exited(status, crash, 0, false);
            // As PostgreSQL's HandleChildCrash, the stop is not reported:
            // the crash cycle decides the worker's fate (reinitialisation
            // forgets never-restart workers and restarts the rest), and
            // that is what waiters hear about.
            self.handle_crash(pid, &what, status);
            return;
        }
        // The facts first, with what comes next (without a restart time, a
        // crash cycle under way decides), then the pid waiters read.
        let restart = (!forget_now && !self.fatal_error)
            .then(|| Instant::now() + Duration::from_secs(restart_secs.max(0) as u64));
        self.seg.slot_facts(i).exited(
            status,
            crash,
            restart.map(facts::instant_ms).unwrap_or(0),
            forget_now,
        );
        if !forget_now {
            // Stays registered: "stopped" until it runs again.
            self.seg.slot(i).pid.store(0, Ordering::Release);
        }
        self.changed = true;
        log_child_exit(
            if exited0 { log::DEBUG1 } else { log::LOG },
            &what,
            pid,
            status,
        );
        if forget_now {
            self.forget(i);
        } else if let Some(at) = restart {
            self.workers[i]
                .as_mut()
                .expect("still registered")
                .restart_at = Some(at);
            self.restarts.push(Reverse((at, i)));
        }
        self.notify(notify);
    }

    /// PostgreSQL's HandleChildCrash: the first crash is logged and every
    /// other worker gets SIGQUIT; the cycle ends in advance_state.
    fn handle_crash(&mut self, pid: i32, what: &str, status: i32) {
        let take_action = !self.fatal_error && self.shutdown != SHUTDOWN_IMMEDIATE;
        if take_action {
            log_child_exit(log::LOG, what, pid, status);
            log::emit(log::LOG, "terminating any other active server processes");
            for &p in self.by_pid.keys() {
                kill(p, libc::SIGQUIT);
            }
            self.kill_deadline = Some(Instant::now() + KILL_GRACE);
        }
        // Workers ended by an immediate shutdown's SIGQUIT are no crash.
        if self.shutdown != SHUTDOWN_IMMEDIATE {
            self.fatal_error = true;
        }
        self.start_queue.clear();
        for rw in self.workers.iter_mut().flatten() {
            rw.queued = false;
        }
    }

    fn begin_shutdown(&mut self, mode: i32) {
        let prev = self.shutdown;
        self.shutdown = mode;
        let word = match mode {
            SHUTDOWN_SMART => "smart",
            SHUTDOWN_FAST => "fast",
            _ => "immediate",
        };
        log::emit(log::LOG, &format!("received {word} shutdown request"));
        self.seg.daemon_facts().set_shutdown(mode as u32);
        notify::send(&format!("STOPPING=1\nSTATUS={word} shutdown"));
        // Nothing starts any more: forget every worker that is not running
        // and wake whoever waits for it.
        self.start_queue.clear();
        for i in 0..self.workers.len() {
            if let Some(rw) = &self.workers[i] {
                if rw.pid == 0 {
                    let notify = rw.notify_pid;
                    self.forget(i);
                    self.notify(notify);
                }
            }
        }
        let sig = if mode == SHUTDOWN_IMMEDIATE {
            libc::SIGQUIT
        } else {
            libc::SIGTERM
        };
        if mode == SHUTDOWN_IMMEDIATE || prev == SHUTDOWN_NONE {
            for &p in self.by_pid.keys() {
                kill(p, sig);
            }
        }
        for &i in self.by_pid.values() {
            self.seg.slot_facts(i).set_state(STATE_TERMINATING);
        }
        if mode == SHUTDOWN_IMMEDIATE {
            self.kill_deadline = Some(Instant::now() + KILL_GRACE);
        }
    }

    fn run_timers(&mut self) {
        let now = Instant::now();
        if self.kill_deadline.is_some_and(|d| d <= now) {
            self.kill_deadline = None;
            for &p in self.by_pid.keys() {
                kill(p, libc::SIGKILL);
            }
        }
        while let Some(Reverse((t, i))) = self.restarts.peek().copied() {
            if t > now {
                break;
            }
            self.restarts.pop();
            if let Some(rw) = self.workers[i].as_mut() {
                if rw.restart_at == Some(t) {
                    rw.restart_at = None;
                    self.enqueue(i);
                }
            }
        }
    }

    /// End of a crash cycle or of a shutdown, once no worker is left.
    fn advance_state(&mut self) {
        if !self.by_pid.is_empty() {
            return;
        }
        self.kill_deadline = None;
        if self.shutdown != SHUTDOWN_NONE {
            if self.fatal_error {
                // A worker crashed during the shutdown (PostgreSQL: exit 1).
                log::emit(log::LOG, "abnormal bgworkerd shutdown");
                self.exit_code = Some(1);
            } else {
                log::emit(log::LOG, "bgworkerd shut down");
                self.exit_code = Some(0);
            }
            return;
        }
        if !self.fatal_error {
            return;
        }
        if !self.settings.restart_after_crash {
            log::emit(log::LOG, "shutting down because restart_after_crash is off");
            self.exit_code = Some(1);
            return;
        }
        log::emit(log::LOG, "all server processes terminated; reinitializing");
        // PostgreSQL's ResetBackgroundWorkerCrashTimes: never-restart
        // workers are forgotten, the rest start again at once and lose
        // their waiters.
        for i in 0..self.workers.len() {
            let Some(rw) = self.workers[i].as_mut() else {
                continue;
            };
            if rw.never_restart() || rw.terminate {
                self.forget(i);
            } else {
                rw.restart_at = None;
                let old = rw.notify_pid;
                rw.notify_pid = 0;
                self.seg.slot_facts(i).set_state(STATE_NOT_STARTED);
                self.drop_notify_ref(old);
            }
        }
        self.restarts.clear();
        self.reset_slots_after_crash();
        if !crate::compat::after_crash_reset(self.workers.len()) {
            // A module's shmem_startup_hook failed (logged): PostgreSQL's
            // postmaster exits.
            self.exit_code = Some(1);
            return;
        }
        self.seg
            .header()
            .reinit_count
            .fetch_add(1, Ordering::AcqRel);
        self.fatal_error = false;
        for i in 0..self.workers.len() {
            self.enqueue(i);
        }
        notify::send("STATUS=reinitialized after a worker crash");
    }

    fn reload(&mut self) {
        log::emit(log::LOG, "received SIGHUP, reloading configuration files");
        let Some(mut fresh) = settings::reread(log::LOG) else {
            self.forward_sighup();
            return;
        };
        let mut unaffected = false;
        for key in settings::POSTMASTER_ONLY {
            if fresh.show(key) != self.settings.show(key) {
                unaffected = true;
                log::emit(
                    log::LOG,
                    &format!("parameter \"{key}\" cannot be changed without restarting the server"),
                );
            }
        }
        fresh.shared_preload_libraries = self.settings.shared_preload_libraries.clone();
        fresh.max_worker_processes = self.settings.max_worker_processes;
        for key in [
            "max_parallel_workers",
            "restart_after_crash",
            "log_min_messages",
            "dynamic_library_path",
            "log_line_prefix",
            "log_file",
        ] {
            let (old, new) = (self.settings.show(key), fresh.show(key));
            if old != new {
                let shown = if key == "log_min_messages" {
                    crate::log::level_word(fresh.log_min_messages).to_string()
                } else {
                    new
                };
                log::emit(
                    log::LOG,
                    &format!("parameter \"{key}\" changed to \"{shown}\""),
                );
            }
        }
        log::set_min_level(fresh.log_min_messages);
        crate::log_prefix::set(&fresh.log_line_prefix);
        // Reopened even when unchanged: a rotated (renamed) file is left.
        if let Err(e) = crate::log_file::apply(settings::rundir().as_deref(), &fresh.log_file) {
            log::emit(log::LOG, &e);
        }
        self.seg
            .header()
            .max_parallel_workers
            .store(fresh.max_parallel_workers, Ordering::Relaxed);
        // Module variables defined in this process (by _PG_init).
        if crate::compat::guc::apply_settings(&fresh, log::LOG, true) || unaffected {
            settings::report_unaffected(log::LOG);
        }
        settings::with_current(|s| *s = fresh.clone());
        self.settings = fresh;
        self.forward_sighup();
    }

    fn forward_sighup(&self) {
        for &p in self.by_pid.keys() {
            kill(p, libc::SIGHUP);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A supervisor over a private segment that never forks (its phase
    /// stays before every worker's start time) and never signals.
    fn supervisor(slots: usize, max_parallel: i32) -> (Supervisor, Connection) {
        let seg = Arc::new(Segment::create(slots, max_parallel).unwrap());
        seg.unlink();
        let backend = Connection {
            seg: Arc::clone(&seg),
            role: Role::Attached,
            supervisor_pid: 0,
            pidfd: -1,
            death_fd: -1,
        };
        let sup = Supervisor {
            seg,
            settings: Settings::default(),
            pidfile: None,
            workers: (0..slots).map(|_| None).collect(),
            by_pid: HashMap::new(),
            notify_refs: HashMap::new(),
            my_pid: 0,
            attached: HashMap::new(),
            start_queue: VecDeque::new(),
            restarts: BinaryHeap::new(),
            phase: BgWorkerStart_PostmasterStart,
            fatal_error: false,
            shutdown: SHUTDOWN_NONE,
            kill_deadline: None,
            changed: false,
            sigfd: -1,
            wakefd: -1,
            death_r: -1,
            death_w: -1,
            exit_code: None,
            got_slot_signal: false,
            got_child_signal: false,
            got_reload: false,
            sig_pending: false,
            wake_pending: false,
        };
        (sup, backend)
    }

    fn parallel(name: &str) -> BackgroundWorker {
        let mut w = BackgroundWorker::zeroed();
        set_fixed_str(&mut w.bgw_name, name);
        set_fixed_str(&mut w.bgw_library_name, "lib");
        set_fixed_str(&mut w.bgw_function_name, "f");
        w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL;
        w.bgw_start_time = BgWorkerStart_RecoveryFinished;
        w.bgw_restart_time = BGW_NEVER_RESTART;
        w
    }

    /// A parallel registration published after the supervisor's last
    /// intake but before a crash reset is counted once and given back
    /// once: the budget never wraps.
    #[test]
    fn parallel_budget_survives_a_registration_published_before_a_crash_reset() {
        let (mut sup, backend) = supervisor(4, 2);
        let (a, _) = backend.register(&parallel("a")).ok().expect("a");
        sup.process_slot_changes();
        assert!(sup.workers[a].is_some(), "a taken in");
        // Published and counted, not taken in yet.
        let (b, _) = backend.register(&parallel("b")).ok().expect("b");
        assert!(sup.workers[b].is_none());
        sup.reset_slots_after_crash();
        let seg = Arc::clone(&sup.seg);
        let h = seg.header();
        assert_eq!(h.parallel_in_use(), 2, "a and b after the reset");
        sup.process_slot_changes();
        assert!(sup.workers[b].is_some(), "b taken in");
        sup.forget(a);
        sup.forget(b);
        assert_eq!(h.parallel_in_use(), 0, "both given back");
        // The whole budget is usable again.
        backend.register(&parallel("c")).ok().expect("c");
        backend.register(&parallel("d")).ok().expect("d");
        assert!(backend.register(&parallel("e")).is_err(), "budget of 2");
    }
}
