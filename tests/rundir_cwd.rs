//! bgworkerd works in its run directory, as PostgreSQL's postmaster works
//! in its data directory: started from elsewhere with a relative -D, its
//! pid file is in RUNDIR and a file a worker writes by a relative name
//! (as autoprewarm writes autoprewarm.blocks) lands there too, not in the
//! directory bgworkerd was started from.

mod common;

use common::*;

#[test]
fn workers_write_relative_files_into_the_run_directory() {
    let _w = watchdog(120, "rundir as working directory");
    let m = pgxs_module("cwd_module.c");
    let base = fresh_dir("cwd-base");
    let run = base.join("run");
    std::fs::create_dir_all(&run).unwrap();
    {
        let d = Daemon::builder("cwd")
            .rundir(&run)
            .started_in(&base)
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .start();
        let line = d.wait_log("cwd: wrote cwd_probe in ", secs(60));
        assert!(
            line.ends_with(&format!("cwd: wrote cwd_probe in {}", run.display())),
            "{line}"
        );
        assert!(run.join("bgworkerd.pid").exists(), "pid file in RUNDIR");
    }
    assert!(
        run.join("cwd_probe").exists(),
        "the worker's file in RUNDIR"
    );
    assert!(
        !base.join("cwd_probe").exists(),
        "nothing where it was started"
    );
    std::fs::remove_dir_all(&base).unwrap();
}
