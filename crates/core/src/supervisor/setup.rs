//! Setting a supervisor up and tearing it down: the signalfd and event
//! descriptors, the segment and the runtime's start hook, the pid file, and
//! what must be removed if the process dies inside module code.

use nix::fcntl::OFlag;
use nix::sys::eventfd::EfdFlags;
use nix::sys::signal::{pthread_sigmask, SigmaskHow, Signal};
use nix::sys::signalfd::SfdFlags;
use nix::unistd::pipe2;

use super::*;

fn supervisor_signals() -> SigSet {
    let mut s = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGUSR1,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ] {
        s.add(sig);
    }
    s
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
/// out: the running flag, the signal mask, the wake-up descriptor's number
/// (the descriptors themselves are owned, and closed, by the Supervisor,
/// which `run` drops before this guard).
struct RunGuard {
    old_mask: Option<SigSet>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        WAKE_FD.store(-1, Ordering::Release);
        if let Some(m) = &self.old_mask {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(m), None);
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
    crate::log::prefix::set(&settings.log_line_prefix);
    if SUPERVISOR_RUNNING.swap(true, Ordering::SeqCst) {
        log::emit(
            log::FATAL,
            "a background worker supervisor is already running in this process",
        );
        return 1;
    }
    // A supervisor whose modules did not decide its major serves the
    // postgresql_major setting's; its workers inherit it.
    loader::decide_major_from_settings();
    let mut guard = RunGuard { old_mask: None };
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
    let mut old_mask = SigSet::empty();
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&sigs), Some(&mut old_mask));
    guard.old_mask = Some(old_mask);
    warn_unblocking_threads();
    let sources = SignalFd::with_flags(&sigs, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .and_then(|sigfd| {
            let wake = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
            let (death_r, death_w) = pipe2(OFlag::O_CLOEXEC)?;
            Ok((sigfd, wake, death_r, death_w))
        });
    let (sigfd, wake, death_r, death_w) = match sources {
        Ok(s) => s,
        Err(e) => {
            log::emit(
                log::FATAL,
                &format!(
                    "could not set up the supervisor's event sources: {}",
                    crate::errno_text(e as i32)
                ),
            );
            if let Some(p) = pidfile.take() {
                p.remove();
            }
            return 1;
        }
    };
    WAKE_FD.store(wake.as_raw_fd(), Ordering::Release);

    let nslots = settings.max_worker_processes.max(0) as usize;
    let seg = match Segment::create(nslots, settings.max_parallel_workers) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            // Segment::create's errors name the segment and the call. The
            // pid file goes too: no supervisor ran (PostgreSQL removes
            // postmaster.pid on this way out as well).
            log::emit(log::FATAL, &crate::io_text(&e));
            if let Some(p) = pidfile.take() {
                p.remove();
            }
            return 1;
        }
    };
    // The supervisor lock, held for as long as this supervisor runs (its
    // descriptor lives in the Supervisor), and this process's own
    // descriptor to test it (for the host threads that wait on handles).
    let lock = seg.open_file().and_then(|fd| {
        crate::shmem::segment::take_supervisor_lock(fd.as_fd())?;
        Ok((fd, seg.open_file()?))
    });
    let (seg_lock, own_lock_fd) = match lock {
        Ok(l) => l,
        Err(e) => {
            log::emit(
                log::FATAL,
                &format!(
                    "could not lock shared memory segment \"{}\": {}",
                    seg.name(),
                    crate::io_text(&e)
                ),
            );
            seg.unlink();
            if let Some(p) = pidfile.take() {
                p.remove();
            }
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
        pidfd: None,
        death_fd: None,
        lock_fd: Some(own_lock_fd),
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
        wake,
        death_r,
        death_w,
        seg_lock,
        exit_code: None,
        got_slot_signal: false,
        // A child a module forked in _PG_init may have exited before
        // the signalfd existed: reap once at the start.
        got_child_signal: true,
        got_reload: false,
        sig_pending: true,
        wake_pending: true,
        sv: Default::default(),
    };
    for (i, w) in registry::static_workers()
        .into_iter()
        .take(nslots)
        .enumerate()
    {
        sup.workers[i] = Some(Registered::new(w));
    }
    for (i, p) in registry::static_policies()
        .into_iter()
        .take(nslots)
        .enumerate()
    {
        if let Some(rw) = sup.workers[i].as_mut() {
            rw.sv.own = p;
        }
    }
    sup.seg.daemon_facts().init(facts::now_ms());
    sup.init_slots();
    // Modules' shmem hooks run here; if one fails, shut down at once
    // (without writing the pid file).
    let runtime_ok = (crate::hooks::get().supervisor_start)(nslots);
    let written = runtime_ok
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
        sd_notify::send(&format!(
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
    // Other host threads may still hold the connection: unpublish it but
    // keep it (and its mapping) alive rather than free it under them.
    backend::unpublish();
    // No signal handler may write to the wake-up descriptor once it is
    // closed (with the rest of the supervisor's descriptors and pidfds).
    WAKE_FD.store(-1, Ordering::Release);
    drop(sup);
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

/// bgworkerd while it loads shared_preload_libraries (before [`run`]): a
/// module's FATAL in `_PG_init` exits from inside module code, and the pid
/// file must go with it, as the postmaster's lock file does.
pub fn arm_preload_cleanup(pidfile: &std::path::Path) {
    set_emergency_cleanup("", Some(pidfile.to_path_buf()));
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
