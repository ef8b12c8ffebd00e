//! Latches (storage/latch.h) and the process structure they live in.
//!
//! Every worker gets a `PGPROC`-sized entry in an array the supervisor maps
//! shared before it forks anyone, so its address is the same in every
//! process and a latch pointer stored in shared memory by one worker can be
//! set by another. Modules compile `&MyProc->procLatch` as `MyProc + 36`
//! and read `is_set` at offset 0, so [`Latch`] is PostgreSQL's layout and
//! the entries are laid out as the process major's `PGPROC`
//! ([`proc_layout`]: 15's, 17's and 18's differ in size and in where `pid`
//! and the process number live; checked against each major's real headers
//! by tests/compat.rs and tests/majors.rs).
//!
//! Waking: the latch owner waits in poll() on a signalfd for SIGURG, which
//! stays blocked in every mask ([`super::interrupts::init_signal_sets`]);
//! `SetLatch` sets `is_set` and, if the owner may be sleeping, sends it
//! SIGURG. That is PostgreSQL 15's protocol on Linux.

use std::sync::atomic::{fence, AtomicI32, AtomicPtr, AtomicUsize, Ordering};

use crate::backend;

super::c_export! {
    SetLatch => bgw_c_SetLatch,
    ResetLatch => bgw_c_ResetLatch,
    InitLatch => bgw_c_InitLatch,
    InitSharedLatch => bgw_c_InitSharedLatch,
    DisownLatch => bgw_c_DisownLatch,
}

/// PostgreSQL 15's `Latch` (16 bytes).
#[repr(C)]
pub struct Latch {
    pub is_set: AtomicI32,
    pub maybe_sleeping: AtomicI32,
    pub is_shared: AtomicI32,
    pub owner_pid: AtomicI32,
}

/// PostgreSQL 15's `sizeof(PGPROC)`.
pub const PROC_SIZE: usize = 880;
/// `offsetof(PGPROC, procLatch)`, the same in every major served.
pub const PROC_LATCH_OFFSET: usize = 36;

/// Where the fields the runtime writes sit in one major's `PGPROC`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProcLayout {
    pub size: usize,
    pub latch: usize,
    pub pid: usize,
    /// 15's `pgprocno`; 17's and 18's `vxid.procNumber`.
    pub procno: usize,
    /// 15's `backendId` (InvalidBackendId for a worker without a
    /// database); gone from 17 on.
    pub backend_id: Option<usize>,
    pub wait_event_info: usize,
    /// `cvWaitLink`: the node linking a condition variable's sleepers.
    pub cv_wait_link: usize,
}

/// `PGPROC` of `major`'s storage/proc.h (measured against the real
/// headers: 15 880 bytes, pid at 64; 17 888, pid at 60; 18 832, pid at 60).
pub fn proc_layout(major: u32) -> ProcLayout {
    match major {
        18.. => ProcLayout {
            size: 832,
            latch: PROC_LATCH_OFFSET,
            pid: 60,
            procno: 68,
            backend_id: None,
            wait_event_info: 712,
            cv_wait_link: 100,
        },
        17 => ProcLayout {
            size: 888,
            latch: PROC_LATCH_OFFSET,
            pid: 60,
            procno: 68,
            backend_id: None,
            wait_event_info: 712,
            cv_wait_link: 100,
        },
        _ => ProcLayout {
            size: PROC_SIZE,
            latch: PROC_LATCH_OFFSET,
            pid: 64,
            procno: 72,
            backend_id: Some(76),
            wait_event_info: 712,
            cv_wait_link: 104,
        },
    }
}

/// This process's `PGPROC` layout (its major is decided before the
/// supervisor maps the array; workers inherit both).
pub fn layout() -> ProcLayout {
    proc_layout(bgworker_core::identity::pg_major())
}

pub const WL_LATCH_SET: i32 = 1 << 0;
pub const WL_SOCKET_READABLE: i32 = 1 << 1;
pub const WL_SOCKET_WRITEABLE: i32 = 1 << 2;
pub const WL_TIMEOUT: i32 = 1 << 3;
pub const WL_POSTMASTER_DEATH: i32 = 1 << 4;
pub const WL_EXIT_ON_PM_DEATH: i32 = 1 << 5;
pub const WL_SOCKET_CLOSED: i32 = 1 << 7;

/// `PGPROC *MyProc`: this worker's process entry; NULL elsewhere.
#[unsafe(no_mangle)]
pub static MyProc: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

/// `Latch *MyLatch`: the process latch (MyProc's in a worker, a private
/// one in the supervisor and in other processes).
#[unsafe(no_mangle)]
pub static MyLatch: AtomicPtr<Latch> = AtomicPtr::new(std::ptr::null_mut());

/// Where `pgstat_report_wait_start` (inline in modules) stores the current
/// wait event: a process-local word, then the worker's PGPROC entry, as
/// in PostgreSQL. The runtime's own waits record theirs there too.
#[unsafe(no_mangle)]
pub static my_wait_event_info: AtomicPtr<u32> = AtomicPtr::new(LOCAL_WAIT_EVENT_INFO.as_ptr());

static LOCAL_WAIT_EVENT_INFO: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

pub(crate) fn report_wait(info: u32) {
    let p = my_wait_event_info.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: points to LOCAL_WAIT_EVENT_INFO or this worker's PGPROC
        // entry, both live for the process's life.
        unsafe { std::ptr::write_volatile(p, info) };
    }
}

/// The shared process array (created by the supervisor, inherited).
static PROCS: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static NPROCS: AtomicUsize = AtomicUsize::new(0);

/// This process's SIGURG signalfd, or -1 before first use.
static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);

/// A process-private latch for processes without a PGPROC.
static LOCAL_LATCH: Latch = Latch {
    is_set: AtomicI32::new(0),
    maybe_sleeping: AtomicI32::new(0),
    is_shared: AtomicI32::new(0),
    owner_pid: AtomicI32::new(0),
};

/// Map the shared process array for `n` workers. Supervisor only, before
/// the first fork; calling it again (a crash cycle) clears the entries.
pub fn create_proc_array(n: usize) {
    let existing = PROCS.load(Ordering::Acquire);
    if !existing.is_null() && NPROCS.load(Ordering::Acquire) >= n {
        // SAFETY: the mapping holds NPROCS entries; no worker is alive
        // during a crash reset, so nobody else touches it.
        unsafe {
            std::ptr::write_bytes(existing, 0, NPROCS.load(Ordering::Acquire) * layout().size)
        };
        return;
    }
    let len = n.max(1) * layout().size;
    let Some(p) = map_shared(len, "the process array") else {
        return;
    };
    PROCS.store(p, Ordering::Release);
    NPROCS.store(n, Ordering::Release);
}

/// A fresh zeroed anonymous mapping of `len` bytes shared with the
/// processes forked after it (the supervisor's process array and its
/// header); None, with a LOG line naming `what`, when it cannot be made.
pub(crate) fn map_shared(len: usize, what: &str) -> Option<*mut u8> {
    // SAFETY: a fresh anonymous shared mapping; checked for failure.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        bgworker_core::elog!(
            crate::log::LOG,
            "could not map {what}: {}",
            bgworker_core::errno_text(bgworker_core::errno())
        );
        return None;
    }
    Some(p.cast())
}

/// The poll(2) events that watch a socket for `wl`'s WL_SOCKET_* events.
pub(crate) fn socket_poll_events(wl: i32) -> i16 {
    let mut ev = 0;
    if wl & WL_SOCKET_READABLE != 0 {
        ev |= libc::POLLIN;
    }
    if wl & WL_SOCKET_WRITEABLE != 0 {
        ev |= libc::POLLOUT;
    }
    if wl & WL_SOCKET_CLOSED != 0 {
        ev |= libc::POLLRDHUP;
    }
    ev
}

/// Which of `wl`'s WL_SOCKET_* events poll's `revents` report, as
/// PostgreSQL reads epoll's (an error or hang-up wakes every kind).
pub(crate) fn socket_events_ready(wl: i32, revents: i16) -> i32 {
    let broken = libc::POLLERR | libc::POLLHUP;
    let mut out = 0;
    if wl & WL_SOCKET_READABLE != 0 && revents & (libc::POLLIN | broken) != 0 {
        out |= WL_SOCKET_READABLE;
    }
    if wl & WL_SOCKET_WRITEABLE != 0 && revents & (libc::POLLOUT | broken) != 0 {
        out |= WL_SOCKET_WRITEABLE;
    }
    if wl & WL_SOCKET_CLOSED != 0 && revents & (libc::POLLRDHUP | broken) != 0 {
        out |= WL_SOCKET_CLOSED;
    }
    out
}

/// Make the process latch usable in a process that is not a worker (the
/// supervisor, a host): a private latch owned by this pid.
pub fn init_local_latch() {
    // SAFETY: getpid has no preconditions.
    LOCAL_LATCH
        .owner_pid
        .store(unsafe { libc::getpid() }, Ordering::Relaxed);
    MyLatch.store(
        &LOCAL_LATCH as *const Latch as *mut Latch,
        Ordering::Release,
    );
}

/// Set up MyProc/MyLatch for the worker in `slot` (in the child, before
/// its entry point).
pub fn init_worker(slot: usize) {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let base = PROCS.load(Ordering::Acquire);
    if base.is_null() || slot >= NPROCS.load(Ordering::Acquire) {
        init_local_latch();
        return;
    }
    let lay = layout();
    // SAFETY: slot < NPROCS, so the entry lies inside the mapping; this
    // worker is the entry's only user while it lives (one worker a slot);
    // every offset lies inside the major's entry size.
    unsafe {
        let proc = base.add(slot * lay.size);
        std::ptr::write_bytes(proc, 0, lay.size);
        (proc.add(lay.pid) as *mut i32).write(pid);
        (proc.add(lay.procno) as *mut i32).write(slot as i32);
        if let Some(b) = lay.backend_id {
            // InvalidBackendId: a background worker without a database.
            (proc.add(b) as *mut i32).write(-1);
        }
        let latch = &*(proc.add(lay.latch) as *const Latch);
        latch.is_shared.store(1, Ordering::Relaxed);
        latch.owner_pid.store(pid, Ordering::Release);
        // PostgreSQL sets a new process's latch once it owns it
        // (SwitchToSharedLatch), so its first wait returns at once.
        latch.is_set.store(1, Ordering::Release);
        MyProc.store(proc, Ordering::Release);
        MyLatch.store(latch as *const Latch as *mut Latch, Ordering::Release);
        my_wait_event_info.store(proc.add(lay.wait_event_info) as *mut u32, Ordering::Release);
    }
}

/// Set the process latch from a signal handler (async-signal-safe).
pub fn set_my_latch() {
    let l = MyLatch.load(Ordering::Acquire);
    if !l.is_null() {
        // SAFETY: MyLatch points at a live latch (static or shared map).
        unsafe { set_latch(&*l) };
    }
}

/// SetLatch's protocol (async-signal-safe): publish is_set, then wake the
/// owner only if it announced it may be sleeping.
fn set_latch(latch: &Latch) {
    fence(Ordering::SeqCst);
    if latch.is_set.load(Ordering::Relaxed) != 0 {
        return;
    }
    latch.is_set.store(1, Ordering::Relaxed);
    fence(Ordering::SeqCst);
    if latch.maybe_sleeping.load(Ordering::Relaxed) == 0 {
        return;
    }
    let owner = latch.owner_pid.load(Ordering::Relaxed);
    if owner > 0 {
        // SAFETY: kill is async-signal-safe; SIGURG's default action is
        // to ignore it, so a stale owner pid does no harm.
        unsafe { libc::kill(owner, libc::SIGURG) };
    }
}

/// `SetLatch`: from the owner, another process of this supervisor, or a
/// signal handler.
///
/// # Safety
/// `latch` is NULL or points to a live Latch (process-local or shared).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_SetLatch(latch: *mut Latch) {
    super::guard("SetLatch", (), || {
        // SAFETY: the caller passes a latch (PostgreSQL has no NULL check
        // either; we ignore NULL rather than crash).
        if let Some(l) = unsafe { latch.as_ref() } {
            set_latch(l);
        }
    })
}

/// `ResetLatch`: clear, with a full barrier so that a condition checked
/// afterwards is not read before the clear.
///
/// # Safety
/// `latch` is NULL or points to a live Latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_ResetLatch(latch: *mut Latch) {
    super::guard("ResetLatch", (), || {
        // SAFETY: as SetLatch.
        if let Some(l) = unsafe { latch.as_ref() } {
            l.is_set.store(0, Ordering::Relaxed);
            fence(Ordering::SeqCst);
        }
    })
}

/// `InitLatch`: a process-local latch owned by the caller.
///
/// # Safety
/// `latch` is NULL or points to writable storage for a Latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_InitLatch(latch: *mut Latch) {
    super::guard("InitLatch", (), || {
        // SAFETY: the caller passes writable storage for a Latch.
        if let Some(l) = unsafe { latch.as_ref() } {
            l.is_set.store(0, Ordering::Relaxed);
            l.maybe_sleeping.store(0, Ordering::Relaxed);
            l.is_shared.store(0, Ordering::Relaxed);
            // SAFETY: getpid has no preconditions.
            l.owner_pid
                .store(unsafe { libc::getpid() }, Ordering::Release);
        }
    })
}

/// `InitSharedLatch`: a latch in shared memory, owned by nobody yet.
///
/// # Safety
/// `latch` is NULL or points to writable storage for a Latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_InitSharedLatch(latch: *mut Latch) {
    super::guard("InitSharedLatch", (), || {
        // SAFETY: the caller passes writable storage for a Latch.
        if let Some(l) = unsafe { latch.as_ref() } {
            l.is_set.store(0, Ordering::Relaxed);
            l.maybe_sleeping.store(0, Ordering::Relaxed);
            l.is_shared.store(1, Ordering::Relaxed);
            l.owner_pid.store(0, Ordering::Release);
        }
    })
}

/// `OwnLatch`: become the owner of a shared latch.
///
/// # Safety
/// `latch` is NULL or points to a live Latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_OwnLatch(latch: *mut Latch) {
    super::guard("bgw_rs_OwnLatch", (), || {
        // SAFETY: the caller passes a latch.
        let Some(l) = (unsafe { latch.as_ref() }) else {
            return;
        };
        let owner = l.owner_pid.load(Ordering::Acquire);
        if owner != 0 {
            super::elog::raise(
                crate::log::ERROR,
                super::elog::ERRCODE_INTERNAL_ERROR,
                "latch already owned by PID ".to_string() + &owner.to_string(),
                None,
            );
            return;
        }
        l.maybe_sleeping.store(0, Ordering::Relaxed);
        // SAFETY: getpid has no preconditions.
        l.owner_pid
            .store(unsafe { libc::getpid() }, Ordering::Release);
    })
}

/// `DisownLatch`.
///
/// # Safety
/// `latch` is NULL or points to a live Latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_DisownLatch(latch: *mut Latch) {
    super::guard("DisownLatch", (), || {
        // SAFETY: the caller passes a latch.
        if let Some(l) = unsafe { latch.as_ref() } {
            l.owner_pid.store(0, Ordering::Release);
        }
    })
}

pub(crate) fn signal_fd() -> i32 {
    let fd = SIGNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        return fd;
    }
    // SAFETY: a signalfd for SIGURG, which every mask keeps blocked.
    let fd = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGURG);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
    };
    SIGNAL_FD.store(fd, Ordering::Relaxed);
    fd
}

/// Forget the parent's signalfd in a new child (its queue is the
/// parent's).
pub fn reset_after_fork() {
    let fd = SIGNAL_FD.swap(-1, Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: the descriptor was this process's copy of the parent's.
        unsafe { libc::close(fd) };
    }
}

pub(crate) fn drain(fd: i32) {
    let mut buf = [0u8; 128 * 8];
    // SAFETY: reads into a local buffer until the non-blocking fd is empty.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// Descriptor that becomes readable (or hangs up) when the supervisor
/// dies, if this process has one.
pub(crate) fn death_fd() -> Option<i32> {
    use std::os::fd::AsRawFd;
    Some(backend::current()?.death_watch()?.as_raw_fd())
}

/// `PostmasterIsAliveInternal` (storage/pmsignal.h; the inline
/// `PostmasterIsAlive()` calls it once `postmaster_possibly_dead` is set):
/// whether the supervisor this process belongs to still runs. True in the
/// supervisor itself and in processes that belong to none.
#[unsafe(no_mangle)]
pub extern "C" fn PostmasterIsAliveInternal() -> bool {
    super::guard("PostmasterIsAliveInternal", true, || !supervisor_gone())
}

pub(crate) fn supervisor_gone() -> bool {
    backend::current().is_some_and(|c| c.role != backend::Role::Supervisor && !c.supervisor_alive())
}

pub(crate) fn now_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

/// `WaitLatchOrSocket` (and `WaitLatch`): returns the event that ended the
/// wait, as PostgreSQL does: the latch first, then supervisor death, then
/// the socket, else WL_TIMEOUT. With WL_EXIT_ON_PM_DEATH the process exits
/// (status 1, exit callbacks run) as soon as the supervisor is gone.
///
/// # Safety
/// `latch` is NULL or points to a live Latch (read only with WL_LATCH_SET).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_WaitLatchOrSocket(
    latch: *mut Latch,
    wake_events: i32,
    sock: i32,
    timeout: libc::c_long,
    wait_event_info: u32,
) -> i32 {
    super::guard("bgw_rs_WaitLatchOrSocket", 0, || {
        report_wait(wait_event_info);
        // SAFETY: the caller's arguments, passed on unchanged.
        let rc = unsafe { wait_latch_or_socket(latch, wake_events, sock, timeout) };
        report_wait(0);
        rc
    })
}

/// Body of WaitLatchOrSocket (see there).
///
/// # Safety
/// As [`bgw_rs_WaitLatchOrSocket`].
unsafe fn wait_latch_or_socket(
    latch: *mut Latch,
    wake_events: i32,
    sock: i32,
    timeout: libc::c_long,
) -> i32 {
    let latch: Option<&Latch> = if wake_events & WL_LATCH_SET != 0 {
        // SAFETY: the caller passes a latch when it asks for WL_LATCH_SET.
        unsafe { latch.as_ref() }
    } else {
        None
    };
    if let Some(l) = latch {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let owner = l.owner_pid.load(Ordering::Acquire);
        if owner != me {
            super::elog::raise(
                crate::log::ERROR,
                super::elog::ERRCODE_INTERNAL_ERROR,
                "cannot wait on a latch owned by another process".into(),
                None,
            );
            return 0;
        }
    }
    let watch_death = wake_events & (WL_POSTMASTER_DEATH | WL_EXIT_ON_PM_DEATH) != 0;
    let sock_events = wake_events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE | WL_SOCKET_CLOSED);
    let deadline = (wake_events & WL_TIMEOUT != 0 && timeout >= 0).then(|| now_ms() + timeout);
    let sfd = signal_fd();
    loop {
        if let Some(l) = latch {
            l.maybe_sleeping.store(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if l.is_set.load(Ordering::Relaxed) != 0 {
                l.maybe_sleeping.store(0, Ordering::Relaxed);
                return WL_LATCH_SET;
            }
        }
        if watch_death && supervisor_gone() {
            if let Some(l) = latch {
                l.maybe_sleeping.store(0, Ordering::Relaxed);
            }
            return death_event(wake_events);
        }
        let mut fds: [libc::pollfd; 3] = [libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        }; 3];
        fds[0] = libc::pollfd {
            fd: sfd,
            events: libc::POLLIN,
            revents: 0,
        };
        if watch_death {
            if let Some(fd) = death_fd() {
                fds[1] = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
            }
        }
        if sock_events != 0 && sock >= 0 {
            fds[2] = libc::pollfd {
                fd: sock,
                events: socket_poll_events(sock_events),
                revents: 0,
            };
        }
        let wait_ms = match deadline {
            None => -1,
            Some(d) => (d - now_ms()).clamp(0, i32::MAX as i64) as i32,
        };
        // With a death descriptor we still look every 100 ms at the
        // supervisor's exit flag (embedded supervisors have no pipe).
        let wait_ms = if watch_death && fds[1].fd < 0 && !(0..=100).contains(&wait_ms) {
            100
        } else {
            wait_ms
        };
        // SAFETY: three valid pollfd entries (fd -1 is ignored by poll).
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 3, wait_ms) };
        if let Some(l) = latch {
            l.maybe_sleeping.store(0, Ordering::Relaxed);
        }
        if rc < 0 {
            let e = bgworker_core::errno();
            if e == libc::EINTR {
                continue;
            }
            super::elog::raise(
                crate::log::ERROR,
                super::elog::ERRCODE_INTERNAL_ERROR,
                format!("poll() failed: {}", bgworker_core::errno_text(e)),
                None,
            );
            return 0;
        }
        if fds[0].revents != 0 {
            drain(sfd);
        }
        if let Some(l) = latch {
            if l.is_set.load(Ordering::Relaxed) != 0 {
                return WL_LATCH_SET;
            }
        }
        if watch_death
            && (fds[1].revents != 0 || supervisor_gone())
            && supervisor_gone_or_hup(fds[1].revents)
        {
            return death_event(wake_events);
        }
        if fds[2].revents != 0 {
            let out = socket_events_ready(sock_events, fds[2].revents);
            if out != 0 {
                return out;
            }
        }
        if let Some(d) = deadline {
            if now_ms() >= d {
                return WL_TIMEOUT;
            }
        }
    }
}

pub(crate) fn supervisor_gone_or_hup(revents: i16) -> bool {
    revents & (libc::POLLHUP | libc::POLLIN | libc::POLLERR) != 0 || supervisor_gone()
}

pub(crate) fn death_event(wake_events: i32) -> i32 {
    if wake_events & WL_EXIT_ON_PM_DEATH != 0 {
        // PostgreSQL: exit at once, status 1, through proc_exit.
        super::misc::exit_process(1);
    }
    WL_POSTMASTER_DEATH
}

/// The process entry of `slot`, if the array holds it.
fn proc_entry(slot: usize) -> Option<*mut u8> {
    let base = PROCS.load(Ordering::Acquire);
    if base.is_null() || slot >= NPROCS.load(Ordering::Acquire) {
        return None;
    }
    // SAFETY: slot < NPROCS: inside the mapping.
    Some(unsafe { base.add(slot * layout().size) })
}

/// The pid an entry records (0: free or exited).
fn entry_pid(proc: *mut u8) -> i32 {
    // SAFETY: proc is an entry of the mapping; pid is an aligned i32 inside it.
    unsafe { (*(proc.add(layout().pid) as *const AtomicI32)).load(Ordering::Acquire) }
}

/// The supervisor's `notify_worker` hook: set the latch of the worker in
/// `slot` if that entry is still process `pid`'s (async-signal-safe; no
/// lock, a single store and a signal).
pub fn notify_worker(slot: usize, pid: i32) {
    if let Some(proc) = proc_entry(slot) {
        if pid > 0 && entry_pid(proc) == pid {
            // SAFETY: the entry's latch lies at the layout's offset.
            set_latch(unsafe { &*(proc.add(layout().latch) as *const Latch) });
        }
    }
}

/// The supervisor's `worker_exited` hook: the entry of `slot` no longer
/// names `pid` (a worker that was killed, or exited without proc_exit,
/// could not clear it itself). A single compare-and-swap: an entry a new
/// worker has taken meanwhile keeps its pid. True when the entry is still
/// linked into a condition variable's wait list (its `cvWaitLink` is not
/// the unlinked 0/0): the worker left prepared to sleep without its
/// clean-up, so that list names a process that is gone and the next worker
/// in the slot would relink the node; only a crash cycle, which
/// reinitialises shared memory, repairs it.
pub fn worker_exited(slot: usize, pid: i32) -> bool {
    let Some(proc) = proc_entry(slot) else {
        return false;
    };
    let lay = layout();
    // SAFETY: proc is an entry of the mapping; pid an aligned i32 in it.
    let at = unsafe { &*(proc.add(lay.pid) as *const AtomicI32) };
    let _ = at.compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Acquire);
    // SAFETY: cvWaitLink (two aligned i32: next, prev) lies inside the
    // entry; the process that wrote it is gone, and no live process writes
    // a departed one's node except through the list it is in.
    let (next, prev) = unsafe {
        let link = proc.add(lay.cv_wait_link) as *const AtomicI32;
        (
            (*link).load(Ordering::Acquire),
            (*link.add(1)).load(Ordering::Acquire),
        )
    };
    next != 0 || prev != 0
}

/// The shared process array: its first entry and how many there are, or
/// None before the supervisor mapped it.
pub fn proc_array() -> Option<(*mut u8, usize)> {
    let base = PROCS.load(Ordering::Acquire);
    (!base.is_null()).then(|| (base, NPROCS.load(Ordering::Acquire)))
}

/// On the way out of a worker (after its exit callbacks): its entry no
/// longer names it, so `BackendPidGetProc` does not find a dead process.
pub fn clear_my_proc() {
    let proc = MyProc.load(Ordering::Acquire);
    if !proc.is_null() {
        // SAFETY: MyProc is this worker's entry; pid an aligned i32 in it.
        unsafe { (*(proc.add(layout().pid) as *const AtomicI32)).store(0, Ordering::Release) };
    }
}

/// `BackendPidGetProc`: the `PGPROC` of a live worker of this supervisor
/// with process id `pid`, or NULL. PostgreSQL finds only database
/// backends; here every worker has a `PGPROC` (a process attached with
/// `bgw_attach` has none), so a worker's registrant that is itself a
/// worker is found.
/// Its C wrapper (c/dsm.c) raises what the guard records.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_BackendPidGetProc(pid: i32) -> *mut u8 {
    super::guard("BackendPidGetProc", std::ptr::null_mut(), || {
        if pid == 0 {
            return std::ptr::null_mut();
        }
        (0..NPROCS.load(Ordering::Acquire))
            .filter_map(proc_entry)
            .find(|&p| entry_pid(p) == pid)
            .unwrap_or(std::ptr::null_mut())
    })
}
