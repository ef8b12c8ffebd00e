//! Definitions, embedding and attaching: bad input refused, and a
//! supervisor with Rust workers end to end.

use super::program::*;
use super::*;

/// Bad definitions never reach a supervisor: each error names the field
/// and the limit.
pub(crate) fn builder_refuses_bad_input() {
    let ok = || WorkerBuilder::new("w").function("w_main");
    let name_err = |r: Result<_, Error>, f: &str| match r {
        Err(Error::InvalidName { field, reason }) if field == f => reason,
        other => panic!("expected an invalid {f}, got {other:?}"),
    };
    let r = name_err(
        WorkerBuilder::new(&"n".repeat(96)).function("f").build(),
        "name",
    );
    assert!(r.contains("96 bytes long, at most 95"), "{r}");
    assert!(WorkerBuilder::new(&"n".repeat(95))
        .function("f")
        .build()
        .is_ok());
    name_err(WorkerBuilder::new("").function("f").build(), "name");
    name_err(
        WorkerBuilder::new("tab\there").function("f").build(),
        "name",
    );
    name_err(WorkerBuilder::new("é").function("f").build(), "name");
    name_err(ok().worker_type(&"t".repeat(200)).build(), "type");
    name_err(ok().library(&"l".repeat(96)).build(), "library");
    name_err(WorkerBuilder::new("w").build(), "function");
    let r = name_err(ok().function("has space").build(), "function");
    assert!(r.contains("not a C identifier"), "{r}");
    name_err(ok().function("9lives").build(), "function");
    assert!(matches!(
        ok().extra(&[1; 129]),
        Err(Error::InvalidDefinition(_))
    ));
    assert!(ok().extra(&[1; 128]).is_ok());
    for bad in [Duration::from_millis(1500), Duration::from_secs(86_400_001)] {
        let e = ok().restart(Restart::After(bad)).build().unwrap_err();
        assert!(matches!(e, Error::InvalidDefinition(_)), "{e:?}");
    }
    assert!(ok()
        .restart(Restart::After(Duration::from_secs(86_400_000)))
        .build()
        .is_ok());
    assert!(matches!(
        ok().notify_pid(-5).build(),
        Err(Error::InvalidDefinition(_))
    ));
    // PostgreSQL's own sanity check, with its message.
    let e = ok().flags(WorkerFlags::empty()).build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid worker definition: background worker \"w\": background workers without shared memory access are not supported"
    );
    let e = ok()
        .flags(WorkerFlags::SHMEM_ACCESS | WorkerFlags::CLASS_PARALLEL)
        .restart(Restart::After(Duration::from_secs(1)))
        .build()
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("parallel workers may not be configured for restart"),
        "{e}"
    );
    // And the good one is whole.
    let d = ok()
        .worker_type("t")
        .main_arg(9)
        .extra(b"xy")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        (d.name(), d.type_name(), d.main_arg()),
        ("w".into(), "t".into(), 9)
    );
    assert_eq!(&d.extra()[..3], b"xy\0");
}

/// Attaching where no supervisor runs fails with the reason; a later
/// attach to a live one works (the failure left nothing behind).
pub(crate) fn attach_refuses_without_supervisor() {
    let _w = watchdog(DEFAULT_WATCHDOG, "attach_refuses_without_supervisor");
    let empty = Scratch::new("rsapi-empty");
    match Attachment::attach(&*empty) {
        Err(Error::Attach(why)) => assert!(why.contains("bgworkerd.pid"), "{why}"),
        other => panic!("attach to an empty directory: {other:?}"),
    }
    assert!(matches!(
        Attachment::attach("bad\0name"),
        Err(Error::Attach(_))
    ));
    let host = Host::start("main");
    let sup = Attachment::attach(&host.dir).expect("attach after failures");
    assert_eq!(sup.supervisor_pid(), host.proc_.pid());
}

/// Register, run, status, bounded waits, terminate; a worker registering
/// its own; events; exit 1 and panics restarted after their interval;
/// exit 0 is done; a crash cycle restarts the others; slots run out and
/// come back; the supervisor's death is seen.
pub(crate) fn end_to_end() {
    let _w = watchdog(90, "end_to_end");
    let host = Host::start("main");
    let p = &host.proc_;

    // A static worker that reads its own definition, and is done.
    let info = p.wait_line("marker: info ", secs(20));
    assert_eq!(field(&info, "name").as_deref(), Some("info"));
    assert_eq!(field(&info, "type").as_deref(), Some("info-type"));
    assert_eq!(field(&info, "function").as_deref(), Some("rsapi_info"));
    assert_eq!(field(&info, "main_arg").as_deref(), Some("42"));
    assert_eq!(field(&info, "extra").as_deref(), Some("hello-extra"));
    assert_eq!(field(&info, "restart").as_deref(), Some("Never"));

    // Events as values.
    let start = p.wait_line("marker: start name=ticker", secs(20));
    let ticker = field_i64(&start, "pid") as i32;
    send_signal(ticker, SIGHUP);
    p.wait_line_all(
        &["event name=ticker event=Reload", &format!("pid={ticker}")],
        secs(10),
    );
    send_signal(ticker, SIGUSR1);
    p.wait_line_all(
        &["event name=ticker event=Wakeup", &format!("pid={ticker}")],
        secs(10),
    );

    // Err and panic: exit 1, restarted after at least 1 s (at most 2 s +
    // 1 s), with the error logged.
    p.wait_line("marker: flaky steady", secs(30));
    p.wait_line(
        "ERROR:  background worker \"flaky\" failed: invalid setting: first run fails",
        secs(1),
    );
    p.wait_line(
        "ERROR:  background worker panicked: second run panics",
        secs(1),
    );
    for n in 1..=2 {
        let exit = p.wait_line(&format!("marker: flaky exiting n={n} "), secs(1));
        let next = p.wait_line(&format!("marker: flaky start n={} ", n + 1), secs(1));
        let delay = field_i64(&next, "ms") - field_i64(&exit, "ms");
        assert!(
            (1000..=3000).contains(&delay),
            "restart {n} came after {delay} ms"
        );
    }

    // Dynamic registration through an attachment.
    let sup = Attachment::attach(&host.dir).expect("attach");
    assert!(matches!(
        Attachment::attach(&host.dir),
        Err(Error::AlreadyConnected)
    ));
    let job = WorkerBuilder::new("job one")
        .entry(&JOB)
        .extra(b"payload-1")
        .unwrap()
        .build()
        .unwrap();
    let h = sup.register(&job).expect("register");
    let pid = h.wait_for_startup(secs(20)).expect("job starts");
    assert_eq!(h.status(), Status::Started { pid });
    let line = p.wait_line("marker: job start name=job_one", secs(20));
    assert_eq!(field_i64(&line, "pid") as u32, pid);
    assert_eq!(field(&line, "extra").as_deref(), Some("payload-1"));
    // A bounded wait that runs out changes nothing.
    let t0 = std::time::Instant::now();
    assert!(matches!(
        h.wait_for_shutdown(millis(300)),
        Err(Error::Timeout)
    ));
    assert!(t0.elapsed() >= millis(300));
    assert_eq!(h.status(), Status::Started { pid });
    h.terminate().expect("terminate");
    h.wait_for_shutdown(secs(20)).expect("job stops");
    assert_eq!(h.status(), Status::Stopped);
    p.wait_line(
        &format!("marker: job terminated name=job_one pid={pid}"),
        secs(10),
    );
    assert!(matches!(
        h.wait_for_startup(secs(5)),
        Err(Error::WorkerStopped)
    ));
    h.terminate()
        .expect("terminating a stopped worker does nothing");

    // A worker registers its own worker.
    let parent = WorkerBuilder::new("parent").entry(&PARENT).build().unwrap();
    let ph = sup.register(&parent).unwrap();
    let done = p.wait_line("marker: parent done", secs(30));
    assert_eq!(field(&done, "after").as_deref(), Some("Stopped"));
    ph.wait_for_shutdown(secs(20)).expect("parent is done");

    // Slots run out (5: ticker, flaky and three more), with a typed error;
    // freeing one makes room again.
    let mut held = Vec::new();
    let err = loop {
        match sup.register(&job) {
            Ok(h) => held.push(h),
            Err(e) => break e,
        }
        assert!(held.len() <= 5, "more registrations than slots");
    };
    assert!(matches!(err, Error::NoFreeSlot), "{err:?}");
    assert_eq!(held.len(), 3);
    for h in &held {
        h.wait_for_startup(secs(20)).expect("held job starts");
    }
    let last = held.pop().unwrap();
    last.terminate().unwrap();
    last.wait_for_shutdown(secs(20)).unwrap();
    let again = sup.register(&job).expect("a freed slot is used again");
    again.wait_for_startup(secs(20)).unwrap();
    for h in held.iter().chain([&again]) {
        h.terminate().unwrap();
        h.wait_for_shutdown(secs(20)).unwrap();
    }

    // A crash: every other worker is stopped and the restartable ones come
    // back; the crashed one (never restart) is gone.
    let from = p.len();
    let crash = WorkerBuilder::new("crash").entry(&CRASH).build().unwrap();
    let ch = sup.register(&crash).unwrap();
    let cpid = ch.wait_for_startup(secs(20)).unwrap_or(0);
    p.wait_line_from(from, "was terminated by signal 6", secs(20));
    ch.wait_for_shutdown(secs(20))
        .expect("the crashed worker stops");
    let (_, again) = p.wait_line_from(from, "marker: start name=ticker", secs(20));
    let ticker2 = field_i64(&again, "pid") as i32;
    assert_ne!(ticker2, ticker, "the ticker was restarted after the crash");
    assert_ne!(ticker2 as u32, cpid);

    // A fast shutdown (SIGINT): the ticker sees Shutdown and returns.
    p.signal(SIGINT);
    p.wait_line(
        &format!("marker: shutdown name=ticker pid={ticker2}"),
        secs(20),
    );
    let st = p.wait_exit(secs(20));
    assert!(st.success(), "host: {}", describe_status(&st));
    assert!(p.text().contains("host: run returned Ok"));
    // The supervisor is gone, and the attachment says so.
    assert!(!sup.supervisor_alive());
    let h = sup
        .register(&job)
        .expect("a free slot of the dead supervisor's segment");
    assert!(matches!(
        h.wait_for_startup(secs(10)),
        Err(Error::SupervisorGone)
    ));
}

/// Bad input to the embedding side: each refused with its own error, and
/// the supervisor then runs normally.
pub(crate) fn supervisor_refuses_bad_input() {
    let _w = watchdog(DEFAULT_WATCHDOG, "supervisor_refuses_bad_input");
    let host = Host::start("bad");
    let p = &host.proc_;
    let t = p.text();
    assert!(
        t.contains("bad: second supervisor: Some(SupervisorExists)"),
        "{t}"
    );
    assert!(t.contains("bad: setting: invalid setting: "), "{t}");
    assert!(
        t.contains(
            "bad: missing entry: function \"rsapi_missing\" is not exported by this program"
        ),
        "{t}"
    );
    assert!(t.contains("bad: notify: static registration failed: background worker \"notify\": only dynamic background workers can request notification"), "{t}");
    assert!(
        t.contains("bad: load: could not access file \"/nonexistent/rsapi_module\""),
        "{t}"
    );
    assert!(
        t.contains("worker entry point: this process is not a background worker"),
        "{t}"
    );
    assert!(t.contains("bad: entry outside a worker returned"), "{t}");
    assert!(
        t.contains(
            "bad: too many: static registration failed: too many background workers: up to 1"
        ),
        "{t}"
    );
    // Nothing else changed: the one good worker runs, and only it.
    p.wait_line("marker: start name=ticker", secs(20));
    assert_eq!(p.count_lines("marker: start name="), 1);
    p.signal(SIGTERM);
    p.wait_line("marker: shutdown name=ticker", secs(20));
    let st = p.wait_exit(secs(20));
    assert!(st.success(), "host: {}", describe_status(&st));
}
