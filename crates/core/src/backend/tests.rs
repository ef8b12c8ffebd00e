use super::lock::{holder_gone, lock_identity};
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
        pidfd: None,
        death_fd: None,
        lock_fd: None,
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

#[test]
fn lock_held_by_a_dead_process_is_taken_over() {
    // A thread id that a later task reuses is not taken for the holder.
    let me = lock_identity();
    assert!(!holder_gone(me), "a live holder is not gone");
    assert!(
        holder_gone(me ^ (1 << 32)),
        "same tid, other start time: gone"
    );
    // Words no holder writes: kill(0 or -n, 0) would ask about process
    // groups, which exist; such a word must not make registrants wait.
    assert!(holder_gone(0xffff_ffff_0000_0000), "thread id 0: gone");
    assert!(holder_gone(u64::MAX), "thread id -1: gone");
    assert!(
        holder_gone((1 << 40) | 0x8000_0000),
        "negative thread id: gone"
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
    c.terminate(s0, g0).unwrap();
    assert_eq!(c.seg.slot(s1).terminate.load(Ordering::Relaxed), 0);
    c.terminate(s1, g1).unwrap();
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
