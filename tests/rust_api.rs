//! The safe Rust API (`bgworker::safe`) end to end: this test binary is
//! also the program under test. Run with `RSAPI_HOST=SCENARIO`, it embeds
//! the supervisor ([`Supervisor`]) with workers written in Rust
//! ([`bgworker::entry_point!`], named `rsapi_*`, which build.rs exports
//! from the test binaries), and the tests attach to it ([`Attachment`]) to
//! register, watch and terminate dynamic workers: register, run, crash,
//! restart, stop, bad input. The examples (`rust_supervisor`,
//! `rust_attach`) run here too.
//!
//! A custom harness (`harness = false`): the supervisor must run in the
//! program's main thread, where process-directed signals (SIGINT, SIGTERM)
//! reach its signalfd, as in a real program. Tests run one after another,
//! each under the watchdog; names given on the command line select tests.

mod common;

use common::*;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgworker::safe::{
    Attachment, Backoff, Error, Event, ExitReason, Outcome, Policy, Restart, Status, Supervisor,
    WatchdogAction, Worker, WorkerBuilder, WorkerFlags, WorkerState, MAX_DELAY,
};

// ---------------------------------------------------------------------------
// The program under test: workers
// ---------------------------------------------------------------------------

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

fn rundir() -> PathBuf {
    PathBuf::from(std::env::var("RSAPI_RUNDIR").unwrap_or_default())
}

/// Marker lines go to stderr (the host's log) in one write each, so that
/// lines of concurrent workers do not interleave.
fn marker(text: &str) {
    let line = format!("marker: {text}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Logs its events until asked to shut down.
fn rsapi_ticker(mut w: Worker) -> Result<(), Error> {
    let name = w.definition().name();
    marker(&format!("start name={name} pid={}", w.pid()));
    loop {
        match w.wait(Some(Duration::from_millis(200)))? {
            Event::Timeout => {}
            Event::Shutdown => {
                marker(&format!("shutdown name={name} pid={}", w.pid()));
                return Ok(());
            }
            e => marker(&format!("event name={name} event={e:?} pid={}", w.pid())),
        }
    }
}
bgworker::entry_point!(TICKER = rsapi_ticker);

/// Fails its first run (Err), panics on its second, then stays up.
fn rsapi_flaky(mut w: Worker) -> Result<(), Error> {
    let counter = rundir().join("flaky.starts");
    let n = fs::read_to_string(&counter).map_or(0, |s| s.len()) + 1;
    fs::write(&counter, "x".repeat(n)).map_err(Error::Io)?;
    marker(&format!(
        "flaky start n={n} pid={} ms={}",
        w.pid(),
        now_ms()
    ));
    match n {
        1 => {
            marker(&format!("flaky exiting n=1 ms={}", now_ms()));
            Err(Error::InvalidSetting("first run fails".into()))
        }
        2 => {
            marker(&format!("flaky exiting n=2 ms={}", now_ms()));
            panic!("second run panics");
        }
        _ => {
            marker("flaky steady");
            while !w.wait(None)?.is_shutdown() {}
            Ok(())
        }
    }
}
bgworker::entry_point!(FLAKY = rsapi_flaky);

/// Reports its own definition and is done.
fn rsapi_info(w: Worker) -> Result<(), Error> {
    let d = w.definition();
    let extra = String::from_utf8_lossy(w.extra())
        .trim_end_matches('\0')
        .to_string();
    marker(&format!(
        "info name={} type={} function={} main_arg={} extra={} restart={:?}",
        d.name(),
        d.type_name(),
        d.function(),
        w.main_arg(),
        extra,
        d.restart()
    ));
    Ok(())
}
bgworker::entry_point!(INFO = rsapi_info);

/// A dynamic worker: reports its extra, waits to be terminated.
fn rsapi_job(mut w: Worker) -> Result<(), Error> {
    let extra = String::from_utf8_lossy(w.extra())
        .trim_end_matches('\0')
        .to_string();
    let name = w.definition().name().replace(' ', "_");
    marker(&format!(
        "job start name={name} pid={} extra={extra}",
        w.pid()
    ));
    while !w.wait(None)?.is_shutdown() {}
    marker(&format!("job terminated name={name} pid={}", w.pid()));
    Ok(())
}
bgworker::entry_point!(JOB = rsapi_job);

/// Registers a job itself (Worker::register), then stops it.
fn rsapi_parent(w: Worker) -> Result<(), Error> {
    let def = WorkerBuilder::new("child job")
        .entry(&JOB)
        .extra(b"from-parent")?
        .build()?;
    let h = w.register(&def)?;
    let pid = h.wait_for_startup(Duration::from_secs(20))?;
    h.terminate()?;
    h.wait_for_shutdown(Duration::from_secs(20))?;
    marker(&format!(
        "parent done child_pid={pid} after={:?}",
        h.status()
    ));
    Ok(())
}
bgworker::entry_point!(PARENT = rsapi_parent);

/// Crashes (SIGABRT): a crash cycle.
fn rsapi_crash(w: Worker) -> Result<(), Error> {
    marker(&format!("crash start pid={}", w.pid()));
    std::process::abort();
}
bgworker::entry_point!(CRASH = rsapi_crash);

/// Counts its starts (in a file named after it); fails (exit 1) while the
/// count is at most its main_arg, then stays up.
fn rsapi_failing(mut w: Worker) -> Result<(), Error> {
    let name = w.definition().name().replace(' ', "_");
    let counter = rundir().join(format!("{name}.starts"));
    let n = fs::read_to_string(&counter).map_or(0, |s| s.len()) + 1;
    fs::write(&counter, "x".repeat(n)).map_err(Error::Io)?;
    marker(&format!("failing start name={name} n={n} ms={}", now_ms()));
    if n <= w.main_arg() {
        marker(&format!("failing exit name={name} n={n} ms={}", now_ms()));
        return Err(Error::InvalidSetting(format!("failure {n}")));
    }
    marker(&format!("failing steady name={name}"));
    while !w.wait(None)?.is_shutdown() {}
    Ok(())
}
bgworker::entry_point!(FAILING = rsapi_failing);

/// Ready after main_arg milliseconds.
fn rsapi_ready(mut w: Worker) -> Result<(), Error> {
    marker(&format!(
        "ready-worker start pid={} ms={}",
        w.pid(),
        now_ms()
    ));
    std::thread::sleep(Duration::from_millis(w.main_arg() as u64));
    // A child the worker forks is not the worker: its ready call is refused.
    // SAFETY: fork in a single-threaded worker; the child only formats,
    // writes to stderr and _exits.
    let child = unsafe { libc::fork() };
    if child == 0 {
        let r = w.ready();
        marker(&format!("ready-worker child result={r:?}"));
        let r = w.watchdog_checkin();
        marker(&format!("ready-worker child checkin={r:?}"));
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: waitpid of our own child.
    unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
    marker(&format!(
        "ready-worker ready pid={} ms={}",
        w.pid(),
        now_ms()
    ));
    w.ready()?;
    w.ready()?; // a repeat does nothing
    while !w.wait(None)?.is_shutdown() {}
    Ok(())
}
bgworker::entry_point!(READY = rsapi_ready);

/// Never ready; stays up until stopped.
fn rsapi_never_ready(mut w: Worker) -> Result<(), Error> {
    marker(&format!("never-ready start pid={}", w.pid()));
    while !w.wait(None)?.is_shutdown() {}
    Ok(())
}
bgworker::entry_point!(NEVER_READY = rsapi_never_ready);

/// Ignores the shutdown request: only SIGKILL ends it.
fn rsapi_stubborn(mut w: Worker) -> Result<(), Error> {
    let name = w.definition().name().replace(' ', "_");
    marker(&format!("stubborn start name={name} pid={}", w.pid()));
    while !w.wait(None)?.is_shutdown() {}
    marker(&format!(
        "stubborn ignores shutdown name={name} ms={}",
        now_ms()
    ));
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}
bgworker::entry_point!(STUBBORN = rsapi_stubborn);

/// Checks in main_arg times every 100 ms, then stops checking in.
fn rsapi_watchdog(mut w: Worker) -> Result<(), Error> {
    marker(&format!("watchdog start pid={}", w.pid()));
    for _ in 0..w.main_arg() {
        // Marked before the check-in: the mark is never later than it.
        marker(&format!("watchdog checkin ms={}", now_ms()));
        w.watchdog_checkin()?;
        if w.wait(Some(Duration::from_millis(100)))?.is_shutdown() {
            return Ok(());
        }
    }
    marker(&format!("watchdog silent ms={}", now_ms()));
    while !w.wait(None)?.is_shutdown() {}
    Ok(())
}
bgworker::entry_point!(WATCHDOG = rsapi_watchdog);

// ---------------------------------------------------------------------------
// The program under test: supervisor scenarios (RSAPI_HOST)
// ---------------------------------------------------------------------------

fn host_main(scenario: &str) -> i32 {
    let dir = rundir();
    let r = match scenario {
        "main" => host_scenario_main(&dir),
        "bad" => host_scenario_bad(&dir),
        "superv" => host_scenario_superv(&dir),
        other => {
            eprintln!("host: unknown scenario {other}");
            return 2;
        }
    };
    match r {
        Ok(()) => {
            eprintln!("host: run returned Ok");
            0
        }
        Err(e) => {
            eprintln!("host: error: {e}");
            1
        }
    }
}

fn host_scenario_main(dir: &Path) -> Result<(), Error> {
    let mut sup = Supervisor::new()?;
    sup.set("max_worker_processes", "5")?;
    sup.register(
        &WorkerBuilder::new("ticker")
            .entry(&TICKER)
            .restart(Restart::After(Duration::from_secs(1)))
            .build()?,
    )?;
    sup.register(
        &WorkerBuilder::new("flaky")
            .entry(&FLAKY)
            .restart(Restart::After(Duration::from_secs(1)))
            .build()?,
    )?;
    sup.register(
        &WorkerBuilder::new("info")
            .worker_type("info-type")
            .entry(&INFO)
            .main_arg(42)
            .extra(b"hello-extra")?
            .build()?,
    )?;
    sup.run(Some(dir))
}

/// One static worker with a policy of its own (it ignores SIGTERM; its
/// stop timeout ends it at shutdown); the tests register the others.
fn host_scenario_superv(dir: &Path) -> Result<(), Error> {
    let mut sup = Supervisor::new()?;
    sup.set("max_worker_processes", "5")?;
    sup.register(
        &WorkerBuilder::new("static stubborn")
            .entry(&STUBBORN)
            .policy(Policy::new().stop_timeout(Duration::from_millis(500)))
            .build()?,
    )?;
    sup.run(Some(dir))
}

/// Bad input to the supervisor side, each refused with its error, then a
/// normal run: nothing else changed.
fn host_scenario_bad(dir: &Path) -> Result<(), Error> {
    let mut sup = Supervisor::new()?;
    eprintln!("bad: second supervisor: {:?}", Supervisor::new().err());
    eprintln!(
        "bad: setting: {}",
        sup.set("max_worker_processes", "lots").unwrap_err()
    );
    let missing = WorkerBuilder::new("missing")
        .function("rsapi_missing")
        .build()?;
    eprintln!(
        "bad: missing entry: {}",
        sup.register(&missing).unwrap_err()
    );
    let notify = WorkerBuilder::new("notify")
        .entry(&TICKER)
        .notify_pid(1)
        .build()?;
    eprintln!("bad: notify: {}", sup.register(&notify).unwrap_err());
    eprintln!(
        "bad: load: {}",
        sup.load_library("/nonexistent/rsapi_module").unwrap_err()
    );
    // Outside a worker, an entry point's symbol does nothing but log.
    // SAFETY: dlopen(NULL) is the program; rsapi_info is the extern "C"
    // fn(usize) entry_point! exported (checked non-null before the call).
    unsafe {
        let f = libc::dlsym(
            libc::dlopen(std::ptr::null(), libc::RTLD_NOW),
            c"rsapi_info".as_ptr(),
        );
        assert!(!f.is_null());
        let f: extern "C" fn(usize) = std::mem::transmute(f);
        f(0);
    }
    eprintln!("bad: entry outside a worker returned");
    sup.set("max_worker_processes", "1")?;
    let ticker = WorkerBuilder::new("ticker").entry(&TICKER).build()?;
    sup.register(&ticker)?;
    eprintln!("bad: too many: {}", sup.register(&ticker).unwrap_err());
    sup.run(Some(dir))
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

struct Host {
    proc_: Proc,
    dir: PathBuf,
}

impl Host {
    fn start(scenario: &str) -> Host {
        let dir = fresh_dir(&format!("rsapi-{scenario}"));
        let exe = std::env::current_exe().expect("current_exe");
        let d = dir.display().to_string();
        let proc_ = Proc::spawn(
            &exe,
            &[] as &[&str],
            &[("RSAPI_HOST", scenario), ("RSAPI_RUNDIR", &d)],
            &format!("rsapi-{scenario}"),
        );
        proc_.wait_line("bgworkerd ready", secs(20));
        Host { proc_, dir }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // SAFETY: kill(2) of the process group Proc made for the host.
        unsafe { libc::kill(-self.proc_.pid(), libc::SIGKILL) };
        let _ = self.proc_.wait_exit(secs(10));
        let _ = fs::remove_file(format!("/dev/shm/bgworker.{}", self.proc_.pid()));
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Bad definitions never reach a supervisor: each error names the field
/// and the limit.
fn builder_refuses_bad_input() {
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
fn attach_refuses_without_supervisor() {
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
fn end_to_end() {
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
fn supervisor_refuses_bad_input() {
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

/// The examples: rust_supervisor with its workers, rust_attach registering
/// a job in it.
fn examples_run() {
    let _w = watchdog(DEFAULT_WATCHDOG, "examples_run");
    let ex = build_dir().join("examples");
    let sup_exe = ex.join("rust_supervisor");
    let attach_exe = ex.join("rust_attach");
    for e in [&sup_exe, &attach_exe] {
        assert!(
            e.exists(),
            "{} is missing: build the examples (make, or cargo build --release --examples)",
            e.display()
        );
    }
    let dir = Scratch::new("rsapi-example");
    let d = dir.display().to_string();
    let sup = Proc::spawn(&sup_exe, &[&d], &[], "rust_supervisor");
    sup.wait_line("bgworkerd ready", secs(20));
    sup.wait_line("example: counter done", secs(20));
    sup.wait_line("example: ticker tick 1", secs(20));
    let (st, out) = run_host(&attach_exe, &[&d], &[], secs(60));
    assert!(st.success(), "rust_attach: {}\n{out}", describe_status(&st));
    let started = out
        .lines()
        .find(|l| l.starts_with("started: "))
        .expect(&out);
    let pid = field_i64(started, "pid");
    assert!(out.contains(&format!("ready: pid={pid}\n")), "{out}");
    assert!(out.contains("stopped: status=Stopped"), "{out}");
    assert!(
        out.contains("last exit: outcome=Some(Code(0)) reason=Normal starts=1"),
        "{out}"
    );
    sup.wait_line(
        &format!("example: job \"attached job\" started pid={pid} extra=from rust_attach"),
        secs(10),
    );
    sup.wait_line("example: job \"attached job\" terminated", secs(10));
    sup.signal(SIGINT);
    sup.wait_line("example: ticker stopping after", secs(20));
    let st = sup.wait_exit(secs(20));
    assert!(st.success(), "rust_supervisor: {}", describe_status(&st));
    assert!(sup.text().contains("example: supervisor shut down"));
    let _ = fs::remove_file(format!("/dev/shm/bgworker.{}", sup.pid()));
}

/// A Rust worker in a module (the rust_module example, a cdylib) that
/// bgworkerd loads: started, terminated, failing with exit 1, and refused
/// registration with its error.
fn module_worker_under_bgworkerd() {
    let _w = watchdog(DEFAULT_WATCHDOG, "module_worker_under_bgworkerd");
    let ex = build_dir().join("examples");
    assert!(
        ex.join("librust_module.so").exists(),
        "librust_module.so is missing: build the examples (make, or cargo build --release --examples)"
    );
    let d = Daemon::builder("rsapi_module")
        .set("dynamic_library_path", &ex.display().to_string())
        .start();
    let sup = Attachment::attach(d.rundir()).expect("attach to bgworkerd");
    let def = |name: &str, arg: usize| {
        WorkerBuilder::new(name)
            .library("librust_module")
            .function("rust_module_main")
            .main_arg(arg)
            .extra(b"module-extra")
            .unwrap()
            .build()
            .unwrap()
    };
    let h = sup.register(&def("modjob", 0)).unwrap();
    let pid = h
        .wait_for_startup(secs(20))
        .expect("the module's worker starts");
    // Its readiness goes through what bgworkerd exports.
    assert_eq!(
        h.wait_for_ready(secs(20)).expect("it says it is ready"),
        pid
    );
    d.wait_log(
        &format!("rust_module: \"modjob\" started pid={pid} extra=module-extra"),
        secs(20),
    );
    h.terminate().unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();
    d.wait_log("rust_module: \"modjob\" stopping", secs(10));

    let h = sup.register(&def("modfail", 1)).unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();
    d.wait_log(
        "ERROR:  background worker \"modfail\" failed: asked to fail (bgw_main_arg 1)",
        secs(10),
    );
    let exit = d.wait_log("\"modfail\" (PID", secs(10));
    assert!(exit.contains("exited with exit code 1"), "{exit}");

    let h = sup.register(&def("modreg", 2)).unwrap();
    h.wait_for_shutdown(secs(20)).unwrap();
    d.wait_log("rust_module: register: a worker in a module loaded by its supervisor cannot register workers", secs(10));
    assert_no_crash_cycle(&d);
}

/// Supervision policies out of range are refused before they reach a
/// supervisor; the extremes that are allowed are kept.
fn policy_refuses_bad_input() {
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
fn supervision_end_to_end() {
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

fn send_signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) of a worker pid this test read from its own host.
    unsafe { libc::kill(pid, sig) };
}

fn main() {
    if let Ok(scenario) = std::env::var("RSAPI_HOST") {
        std::process::exit(host_main(&scenario));
    }
    let tests: &[(&str, fn())] = &[
        ("builder_refuses_bad_input", builder_refuses_bad_input),
        (
            "attach_refuses_without_supervisor",
            attach_refuses_without_supervisor,
        ),
        ("end_to_end", end_to_end),
        ("supervisor_refuses_bad_input", supervisor_refuses_bad_input),
        ("examples_run", examples_run),
        (
            "module_worker_under_bgworkerd",
            module_worker_under_bgworkerd,
        ),
        ("policy_refuses_bad_input", policy_refuses_bad_input),
        ("supervision_end_to_end", supervision_end_to_end),
    ];
    // As libtest: arguments select tests by substring, `--skip PATTERN`
    // leaves tests out, `--list` lists them; its other options
    // (--test-threads=N, --nocapture, ...) are accepted and ignored.
    let mut filters: Vec<String> = Vec::new();
    let mut skips: Vec<String> = Vec::new();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--skip" {
            skips.extend(args.next());
        } else if let Some(v) = a.strip_prefix("--skip=") {
            skips.push(v.to_string());
        } else if a == "--list" {
            list = true;
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    let tests: Vec<&(&str, fn())> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|x| name.contains(x.as_str())))
        .filter(|(name, _)| !skips.iter().any(|x| name.contains(x.as_str())))
        .collect();
    if list {
        for (name, _) in &tests {
            println!("{name}: test");
        }
        return;
    }
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, f) in tests {
        ran += 1;
        println!("test {name} ...");
        let t0 = std::time::Instant::now();
        match std::panic::catch_unwind(f) {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", t0.elapsed().as_secs_f64()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        ran - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(101);
    }
}
