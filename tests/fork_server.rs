//! An embedding host's fork server (bgw_host_start_fork_server): workers are
//! forked from a small process the host started early, and inherit the
//! host as it was then; the host's requests and shutdown reach the
//! supervisor there, and the host's death takes it down cleanly.
//!
//! Program: c-tests/host_forksrv.c (described at the top of that file).

mod common;

use common::*;

fn host_exe() -> std::path::PathBuf {
    host_program_with("host_forksrv.c", &["-rdynamic"])
}

struct Started {
    host: Proc,
    server: i32,
    worker: i32,
    segment: std::path::PathBuf,
}

fn start(rundir: &std::path::Path, label: &str) -> Started {
    let host = Proc::spawn(&host_exe(), &[rundir.display().to_string()], &[], label);
    let l = host.wait_line("host: server pid=", secs(20));
    let server = field_i64(&l, "pid") as i32;
    assert_eq!(field_i64(&l, "host") as i32, host.pid(), "{l}");
    assert_ne!(server, host.pid());
    host.wait_line("bgworkerd ready", secs(20));
    let m = host.wait_line("marker: start name=forksrv_a ", secs(20));
    let worker = field_i64(&m, "pid") as i32;
    let pidfile = std::fs::read_to_string(rundir.join("bgworkerd.pid")).expect("pid file");
    let mut lines = pidfile.lines();
    assert_eq!(
        lines.next().and_then(|p| p.trim().parse::<i32>().ok()),
        Some(server),
        "the pid file names the server, which runs the supervisor:\n{pidfile}"
    );
    let segment = std::path::PathBuf::from("/dev/shm").join(
        lines
            .next()
            .expect("segment line")
            .trim()
            .trim_start_matches('/'),
    );
    Started {
        host,
        server,
        worker,
        segment,
    }
}

#[test]
fn workers_fork_from_the_server_and_inherit_the_host_as_it_was_when_it_started() {
    let _w = watchdog(90, "workers_fork_from_the_server");
    let rundir = Scratch::new("forksrv");
    let s = start(&rundir, "forksrv");
    let h = &s.host;

    // One server only; a bad setting is refused with the host's error.
    let l = h.wait_line("host: second start ", secs(5));
    assert_eq!(field_i64(&l, "rc"), -1, "{l}");
    assert!(l.contains("already running"), "{l}");
    let l = h.wait_line("host: bad set ", secs(5));
    assert_eq!(field_i64(&l, "rc"), -1, "{l}");
    assert!(l.contains("max_worker_processes"), "{l}");

    // The worker: a child of the server, with the host's state as of the
    // bgw_host_start_fork_server call, not the host's later writes.
    let m = h.wait_line("marker: start name=forksrv_a ", secs(5));
    assert_eq!(ppid(s.worker), Some(s.server), "{m}");
    assert_eq!(field_i64(&m, "ppid") as i32, s.server, "{m}");
    assert_eq!(field_i64(&m, "before"), 1, "{m}");
    assert_eq!(field_i64(&m, "after"), 0, "{m}");
    assert_eq!(field_i64(&m, "fd_before"), 1, "{m}");
    assert_eq!(field_i64(&m, "fd_after"), 0, "{m}");
    // Nothing of the server's supervisor (nor its sockets to the host).
    let held = supervisor_fds_in(s.worker, s.server);
    assert!(held.is_empty(), "the worker holds the server's {held:?}");
    // So did the policy the host gave its second static worker.
    h.wait_line("marker: start name=forksrv_b ", secs(20));
    let js = run_ctl(&rundir, &["status", "--json"]).stdout;
    let b = js
        .split("\"name\":\"forksrv_b\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no forksrv_b in {js}"));
    assert!(
        b.contains("\"stop_timeout_ms\":45000"),
        "forksrv_b's policy did not reach the server: {js}"
    );
    // The setting made after the start reached the server.
    let st = run_ctl(&rundir, &["status"]);
    assert!(st.stdout.contains("forksrv_a"), "{}", st.stdout);
    assert!(
        st.stdout.contains("3"),
        "max_worker_processes=3: {}",
        st.stdout
    );

    // A restart after a crash comes from the server too.
    // SAFETY: kill(2) of the worker this test started.
    unsafe { libc::kill(s.worker, libc::SIGKILL) };
    let again = h.wait_line_count("marker: start name=forksrv_a ", 2, secs(20));
    let w2 = field_i64(&again[1], "pid") as i32;
    assert_eq!(ppid(w2), Some(s.server), "{}", again[1]);

    // Shutdown from the host's signal handler reaches the server.
    h.signal(libc::SIGUSR2);
    let r = h.wait_line("host: run returned ", secs(20));
    assert_eq!(field_i64(&r, "rc"), 0, "{r}\n{}", h.text());
    assert!(wait_pids_gone(&[s.worker, w2], secs(10)).is_empty());
    assert!(h.wait_exit(secs(10)).success(), "{}", h.text());
    assert!(
        wait_pids_gone(&[s.server], secs(10)).is_empty(),
        "the server outlived its host"
    );
    assert!(!s.segment.exists(), "segment {} left", s.segment.display());
    assert!(!rundir.join("bgworkerd.pid").exists(), "pid file left");
}

#[test]
fn a_host_that_dies_takes_its_servers_supervisor_down_cleanly() {
    let _w = watchdog(60, "a_host_that_dies_takes_its_server_down");
    let rundir = Scratch::new("forksrv-kill");
    let s = start(&rundir, "forksrv-kill");
    s.host.signal(libc::SIGKILL);
    let _ = s.host.wait_exit(secs(10));
    assert!(
        wait_pids_gone(&[s.worker, s.server], secs(20)).is_empty(),
        "worker {} or server {} outlived the host",
        s.worker,
        s.server
    );
    assert!(!s.segment.exists(), "segment {} left", s.segment.display());
    assert!(!rundir.join("bgworkerd.pid").exists(), "pid file left");
}
