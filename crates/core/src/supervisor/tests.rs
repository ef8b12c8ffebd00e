//! Unit tests of the supervisor's bookkeeping, on a private segment.

use super::*;

/// A supervisor over a private segment that never forks (its phase
/// stays before every worker's start time) and never signals.
fn supervisor(slots: usize, max_parallel: i32) -> (Supervisor, Connection) {
    let seg = Arc::new(Segment::create(slots, max_parallel).unwrap());
    let seg_lock_fd = seg.open_file().unwrap();
    seg.unlink();
    let backend = Connection {
        seg: Arc::clone(&seg),
        role: Role::Attached,
        supervisor_pid: 0,
        pidfd: None,
        death_fd: None,
        lock_fd: None,
    };
    // Real descriptors (the supervisor owns them), never polled here.
    let (death_r, death_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
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
        last_full_scan: None,
        full_scan_due: None,
        sigfd: SignalFd::new(&SigSet::empty()).unwrap(),
        wake: EventFd::new().unwrap(),
        death_r,
        death_w,
        seg_lock: Some(seg_lock_fd),
        sentinel: None,
        contain: containment::Containment::default(),
        exit_code: None,
        got_slot_signal: false,
        got_child_signal: false,
        got_reload: false,
        sig_pending: false,
        wake_pending: false,
        sv: Default::default(),
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

fn restarting(name: &str) -> BackgroundWorker {
    let mut w = parallel(name);
    w.bgw_flags = BGWORKER_SHMEM_ACCESS;
    w.bgw_restart_time = 1;
    w
}

/// At the end of a crash cycle a failed worker keeps reading "failed":
/// the reset that makes the others "not started" leaves it alone, so no
/// reader sees it "not started" before it is marked failed again.
#[test]
fn a_failed_worker_reads_failed_throughout_the_end_of_a_crash_cycle() {
    let (mut sup, backend) = supervisor(4, 2);
    let (f, _) = backend.register(&restarting("gives-up")).ok().expect("f");
    let (o, _) = backend.register(&restarting("other")).ok().expect("o");
    sup.process_slot_changes();
    sup.workers[f].as_mut().expect("f").sv.failed = true;
    sup.sv_mark_failed(f);
    sup.reset_workers_after_crash();
    let seg = Arc::clone(&sup.seg);
    let state = |i: usize| seg.slot_facts(i).read().expect("facts").state;
    assert_eq!(
        state(f),
        crate::shmem::facts::STATE_FAILED,
        "failed stays failed"
    );
    assert_eq!(state(o), STATE_NOT_STARTED, "the other starts again");
    sup.sv_after_crash_reset();
    assert_eq!(state(f), crate::shmem::facts::STATE_FAILED);
}

/// Whether a fast shutdown arms worker "slow"'s stop timeout, with or
/// without a crash cycle under way. A real child stands in for the
/// worker (it receives the SIGTERM) and is ended after.
fn stop_timeout_armed_by_fast_shutdown(during_crash_cycle: bool) -> bool {
    let (mut sup, backend) = supervisor(4, 2);
    let policy = crate::policy::Policy {
        stop_timeout_ms: Some(50),
        ..Default::default()
    };
    let (i, _) = backend
        .register_with_policy(&restarting("slow"), Some(&policy))
        .ok()
        .expect("registered");
    sup.process_slot_changes();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep");
    let pid = child.id() as i32;
    sup.workers[i].as_mut().expect("i").pid = pid;
    sup.by_pid.insert(pid, i);
    sup.fatal_error = during_crash_cycle;
    sup.begin_shutdown(SHUTDOWN_FAST);
    let armed = sup.workers[i]
        .as_ref()
        .expect("i")
        .sv
        .stop_deadline
        .is_some();
    let _ = child.kill();
    let _ = child.wait();
    armed
}

/// A fast shutdown during a crash cycle arms no stop timeout: the
/// workers were sent SIGQUIT and the cycle's SIGKILL grace governs them.
/// Outside a crash cycle the same shutdown arms it.
#[test]
fn a_shutdown_during_a_crash_cycle_arms_no_stop_timeout() {
    assert!(
        !stop_timeout_armed_by_fast_shutdown(true),
        "no stop timeout during a crash cycle"
    );
    assert!(
        stop_timeout_armed_by_fast_shutdown(false),
        "a fast shutdown arms the stop timeout"
    );
}
