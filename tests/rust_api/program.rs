//! The program under test (tests/rust_api.rs runs this binary with
//! `RSAPI_HOST=SCENARIO`): workers written with the safe API, and the
//! supervisor scenarios that run them.

use super::*;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// The program under test: workers
// ---------------------------------------------------------------------------

pub(crate) fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

pub(crate) fn rundir() -> PathBuf {
    PathBuf::from(std::env::var("RSAPI_RUNDIR").unwrap_or_default())
}

/// Marker lines go to stderr (the host's log) in one write each, so that
/// lines of concurrent workers do not interleave.
pub(crate) fn marker(text: &str) {
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
bgworker::entry_point!(pub(crate) TICKER = rsapi_ticker);

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
bgworker::entry_point!(pub(crate) FLAKY = rsapi_flaky);

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
bgworker::entry_point!(pub(crate) INFO = rsapi_info);

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
bgworker::entry_point!(pub(crate) JOB = rsapi_job);

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
bgworker::entry_point!(pub(crate) PARENT = rsapi_parent);

/// Crashes (SIGABRT): a crash cycle.
fn rsapi_crash(w: Worker) -> Result<(), Error> {
    marker(&format!("crash start pid={}", w.pid()));
    std::process::abort();
}
bgworker::entry_point!(pub(crate) CRASH = rsapi_crash);

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
bgworker::entry_point!(pub(crate) FAILING = rsapi_failing);

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
bgworker::entry_point!(pub(crate) READY = rsapi_ready);

/// Never ready; stays up until stopped.
fn rsapi_never_ready(mut w: Worker) -> Result<(), Error> {
    marker(&format!("never-ready start pid={}", w.pid()));
    while !w.wait(None)?.is_shutdown() {}
    Ok(())
}
bgworker::entry_point!(pub(crate) NEVER_READY = rsapi_never_ready);

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
bgworker::entry_point!(pub(crate) STUBBORN = rsapi_stubborn);

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
bgworker::entry_point!(pub(crate) WATCHDOG = rsapi_watchdog);

// ---------------------------------------------------------------------------
// The program under test: supervisor scenarios (RSAPI_HOST)
// ---------------------------------------------------------------------------

pub(crate) fn host_main(scenario: &str) -> i32 {
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
