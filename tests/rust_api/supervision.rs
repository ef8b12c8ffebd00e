//! The opt-in supervision through the safe API: out-of-range policies, and
//! each feature end to end.

use super::program::*;
use super::*;

/// Supervision policies out of range are refused before they reach a
/// supervisor; the extremes that are allowed are kept.
pub(crate) fn policy_refuses_bad_input() {
    let bad = |p: Policy, what: &str| match p.validate() {
        Err(Error::InvalidPolicy(m)) => assert!(m.contains(what), "{m} (wanted {what})"),
        other => panic!("{p:?}: expected an invalid policy about {what}, got {other:?}"),
    };
    let b = Backoff::new(Duration::from_secs(1));
    bad(Policy::new().backoff(b.factor(f64::NAN)), "backoff_factor");
    bad(Policy::new().backoff(b.factor(0.5)), "backoff_factor");
    bad(Policy::new().backoff(b.factor(1e9)), "backoff_factor");
    bad(Policy::new().backoff(b.jitter(-0.1)), "backoff_jitter");
    bad(Policy::new().backoff(b.jitter(2.0)), "backoff_jitter");
    bad(
        Policy::new().backoff(Backoff::new(Duration::ZERO)),
        "at least 1 ms",
    );
    bad(Policy::new().backoff(b.cap(MAX_DELAY * 2)), "backoff cap");
    bad(
        Policy::new().give_up(2_000_000, Duration::from_secs(1)),
        "give_up restarts",
    );
    bad(Policy::new().give_up(2, Duration::ZERO), "give_up_window");
    bad(
        Policy::new().stop_timeout(Duration::from_secs(u64::MAX)),
        "stop timeout",
    );
    bad(
        Policy::new().start_timeout(MAX_DELAY + Duration::from_millis(1)),
        "start timeout",
    );
    bad(
        Policy::new().watchdog(Duration::from_secs(200_000), WatchdogAction::Crash),
        "watchdog",
    );
    // The largest backoff is allowed: its growth stops at the cap.
    let most = Backoff::new(MAX_DELAY)
        .factor(1000.0)
        .cap(MAX_DELAY)
        .jitter(1.0);
    assert!(Policy::new().backoff(most).validate().is_ok());
    // The builder refuses a backoff that can never apply.
    let e = WorkerBuilder::new("w")
        .function("f")
        .policy(Policy::new().backoff(b))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidPolicy(_)), "{e:?}");
    let e = WorkerBuilder::new("w")
        .function("f")
        .policy(Policy::new().stop_timeout(MAX_DELAY * 3))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidPolicy(_)), "{e:?}");
    // Restart::Backoff: bgw_restart_time is the initial delay rounded up.
    let d = WorkerBuilder::new("w")
        .function("f")
        .restart(Restart::Backoff(Backoff::new(Duration::from_millis(1500))))
        .build()
        .unwrap();
    assert_eq!(
        d.restart(),
        Restart::Backoff(Backoff::new(Duration::from_millis(1500)))
    );
    assert_eq!(
        d.policy().backoff_part().map(|b| b.initial),
        Some(Duration::from_millis(1500))
    );
}

/// The opt-in supervision through the Rust API, end to end: backoff
/// delays within bounds, the give-up point exact in counts and a
/// relaunch, ready strictly after started, the start timeout, the stop
/// timeout kill no earlier than the timeout, the watchdog kill, and the
/// last exit read after the slot was reused.
pub(crate) fn supervision_end_to_end() {
    let _w = watchdog(90, "supervision_end_to_end");
    let host = Host::start("superv");
    let p = &host.proc_;
    let sup = Attachment::attach(&host.dir).expect("attach");

    // Backoff: 500 ms, then 1000 ms (each at least the configured delay,
    // at most twice it plus a second).
    let def = WorkerBuilder::new("backoff")
        .entry(&FAILING)
        .main_arg(2)
        .restart(Restart::Backoff(
            Backoff::new(millis(500)).factor(2.0).cap(secs(8)),
        ))
        .build()
        .unwrap();
    let h = sup.register(&def).unwrap();
    p.wait_line("marker: failing steady name=backoff", secs(30));
    for (n, want) in [(1, 500), (2, 1000)] {
        let exit = p.wait_line(
            &format!("marker: failing exit name=backoff n={n} "),
            secs(1),
        );
        let next = p.wait_line(
            &format!("marker: failing start name=backoff n={} ", n + 1),
            secs(1),
        );
        let delay = field_i64(&next, "ms") - field_i64(&exit, "ms");
        assert!(
            delay >= want && delay <= 2 * want + 1000,
            "restart {n}: {delay} ms after a configured {want} ms"
        );
    }
    let e = h.last_exit().unwrap().expect("it exited twice");
    assert_eq!(
        (e.outcome, e.crash, e.reason),
        (Some(Outcome::Code(1)), false, ExitReason::Normal)
    );
    assert_eq!(e.starts, 3);
    assert_eq!(e.state, WorkerState::Running);
    h.terminate().unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();

    // Give up: more than 2 restarts within a minute: started exactly 3
    // times, then failed (slot kept); relaunched, it runs again.
    let def = WorkerBuilder::new("giveup")
        .entry(&FAILING)
        .main_arg(1000)
        .restart(Restart::Backoff(Backoff::new(millis(50)).factor(1.0)))
        .policy(Policy::new().give_up(2, secs(60)))
        .build()
        .unwrap();
    let h = sup.register(&def).unwrap();
    p.wait_line("giving up on background worker \"giveup\"", secs(30));
    assert!(
        wait_until(secs(10), || h.state() == WorkerState::Failed),
        "{:?}",
        h.state()
    );
    std::thread::sleep(millis(300));
    assert_eq!(p.count_lines("marker: failing start name=giveup "), 3);
    let e = h.last_exit().unwrap().unwrap();
    assert_eq!((e.starts, e.state), (3, WorkerState::Failed));
    // Its last process exited before it was ready, and none follows.
    let r = h.wait_for_ready(secs(5));
    assert!(matches!(r, Err(Error::ExitedBeforeReady)), "{r:?}");
    h.relaunch().expect("relaunch a failed worker");
    p.wait_line("marker: failing start name=giveup n=4 ", secs(20));
    h.terminate().unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();
    // Relaunching what has not failed is refused, and changes nothing.
    let other = sup
        .register(
            &WorkerBuilder::new("steady")
                .entry(&NEVER_READY)
                .build()
                .unwrap(),
        )
        .unwrap();
    other.wait_for_startup(secs(20)).unwrap();
    match other.relaunch() {
        Err(Error::Rejected(m)) => assert!(m.contains("is not failed"), "{m}"),
        r => panic!("relaunch of a running worker: {r:?}"),
    }
    assert!(matches!(
        other.set_policy(&Policy::new().give_up(3_000_000, secs(1))),
        Err(Error::InvalidPolicy(_))
    ));
    assert_eq!(other.state(), WorkerState::Running);
    other.terminate().unwrap();
    other.wait_for_shutdown(secs(20)).unwrap();

    // Ready, strictly after started.
    let def = WorkerBuilder::new("ready")
        .entry(&READY)
        .main_arg(300)
        .policy(Policy::new().start_timeout(secs(20)))
        .build()
        .unwrap();
    let h = sup.register(&def).unwrap();
    let pid = h.wait_for_startup(secs(20)).unwrap();
    let pid2 = h.wait_for_ready(secs(20)).expect("ready");
    let returned = now_ms() as i64;
    assert_eq!(pid, pid2);
    let start = p.wait_line(&format!("marker: ready-worker start pid={pid} "), secs(5));
    let ready = p.wait_line(&format!("marker: ready-worker ready pid={pid} "), secs(5));
    assert!(field_i64(&ready, "ms") > field_i64(&start, "ms"));
    let checkin = p.wait_line("marker: ready-worker child checkin=", secs(5));
    assert!(
        checkin
            .contains("Rejected(\"bgw_watchdog_checkin: this process is not a background worker"),
        "{checkin}"
    );
    let child = p.wait_line("marker: ready-worker child result=", secs(5));
    assert!(
        child.contains("Rejected(") && child.contains("this process is not a background worker"),
        "{child}"
    );
    assert!(
        returned >= field_i64(&ready, "ms"),
        "wait_for_ready returned before the worker was ready"
    );
    h.terminate().unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();

    // Start timeout: never ready, killed no earlier than 500 ms.
    let def = WorkerBuilder::new("unready")
        .entry(&NEVER_READY)
        .policy(Policy::new().start_timeout(millis(500)))
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    let h = sup.register(&def).unwrap();
    assert!(matches!(
        h.wait_for_ready(secs(20)),
        Err(Error::StartTimeout)
    ));
    assert!(t0.elapsed() >= millis(500));
    h.wait_for_shutdown(secs(20)).unwrap();
    assert_eq!(
        h.last_exit().unwrap().unwrap().reason,
        ExitReason::StartTimeout
    );

    // Stop timeout: SIGTERM ignored; SIGKILL no earlier than 700 ms later.
    let def = WorkerBuilder::new("stubborn")
        .entry(&STUBBORN)
        .policy(Policy::new().stop_timeout(millis(700)))
        .build()
        .unwrap();
    let h = sup.register(&def).unwrap();
    h.wait_for_startup(secs(20)).unwrap();
    p.wait_line("marker: stubborn start name=stubborn ", secs(20));
    let t0 = std::time::Instant::now();
    h.terminate().unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();
    assert!(
        t0.elapsed() >= millis(700),
        "killed after {:?}",
        t0.elapsed()
    );
    let e = h.last_exit().unwrap().unwrap();
    assert_eq!(
        (e.outcome, e.reason, e.crash),
        (Some(Outcome::Signal(9)), ExitReason::StopTimeout, false)
    );

    // Watchdog (as exit 1): three check-ins 100 ms apart, then silence,
    // then the kill, no earlier than the interval after the last check-in
    // (whose marker is written just before it). The interval is generous:
    // a loaded machine may delay a check-in.
    let def = WorkerBuilder::new("watched")
        .entry(&WATCHDOG)
        .main_arg(3)
        .policy(Policy::new().watchdog(millis(1000), WatchdogAction::Exit1))
        .build()
        .unwrap();
    let watched = sup.register(&def).unwrap();
    watched.wait_for_startup(secs(20)).unwrap();
    p.wait_line("marker: watchdog silent", secs(20));
    let kill = p.wait_line("\"watched\" (PID", secs(20));
    assert!(kill.contains("missed its watchdog check-in"), "{kill}");
    let checkins = p.wait_line_count("marker: watchdog checkin ", 3, secs(5));
    let last = field_i64(checkins.last().unwrap(), "ms");
    // (both clocks read in whole milliseconds)
    let after = log_timestamp_ms(&kill) - last;
    assert!(
        after >= 1000 - 1,
        "killed {after} ms after the last check-in"
    );
    watched.wait_for_shutdown(secs(20)).unwrap();
    let e = watched.last_exit().unwrap().unwrap();
    assert_eq!((e.reason, e.crash), (ExitReason::Watchdog, false));
    assert!(
        !p.text()
            .contains("terminating any other active server processes"),
        "a crash cycle"
    );

    // The last exit through the handle after its slot was reused.
    let mut held = Vec::new();
    while let Ok(h) = sup.register(
        &WorkerBuilder::new("filler")
            .entry(&NEVER_READY)
            .build()
            .unwrap(),
    ) {
        held.push(h);
        assert!(held.len() <= 5);
    }
    assert!(
        held.iter().any(|h| h.slot() == watched.slot()),
        "the slot was not reused"
    );
    assert_eq!(watched.status(), Status::Stopped);
    assert_eq!(watched.state(), WorkerState::Stopped);
    let again = watched.last_exit().unwrap().unwrap();
    assert_eq!((again.reason, again.starts), (ExitReason::Watchdog, 1));
    for h in &held {
        h.terminate().unwrap();
        h.wait_for_shutdown(secs(20)).unwrap();
    }
    // A fast shutdown: the static worker ignores SIGTERM; its own stop
    // timeout (given before registration) ends it no earlier than 500 ms
    // later, and the supervisor shuts down cleanly.
    p.wait_line("marker: stubborn start name=static_stubborn ", secs(5));
    let sent = now_ms() as i64;
    p.signal(SIGINT);
    p.wait_line(
        "marker: stubborn ignores shutdown name=static_stubborn ",
        secs(20),
    );
    let kill = p.wait_line("\"static stubborn\" (PID", secs(20));
    assert!(
        kill.contains("did not stop within 500 ms of SIGTERM (stop_timeout)"),
        "{kill}"
    );
    // SIGTERM follows the SIGINT sent at `sent`; the kill comes no earlier
    // than 500 ms after it (both clocks read in whole milliseconds).
    let after = log_timestamp_ms(&kill) - sent;
    assert!(
        after >= 500 - 1,
        "killed {after} ms after the shutdown request"
    );
    let st = p.wait_exit(secs(20));
    assert!(st.success(), "host: {}", describe_status(&st));
}
