//! The examples run: rust_supervisor with rust_attach, and the
//! rust_module worker under bgworkerd.

use super::*;

/// The examples: rust_supervisor with its workers, rust_attach registering
/// a job in it.
pub(crate) fn examples_run() {
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
pub(crate) fn module_worker_under_bgworkerd() {
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
