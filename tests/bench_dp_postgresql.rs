//! `make bench`'s data-plane part (bench/dp/run.sh) stays runnable: with
//! tiny counts, one round, bgworkerd and a real PostgreSQL 15 server both
//! run bench/dp/bgw_bench_dp.c over PostgreSQL's test_shm_mq, and the
//! output has every figure beside PostgreSQL's and every goal with its
//! verdict. (The figures themselves are the benchmark's business: nothing
//! here judges speed.)

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const CASES: &str = "64:200:1 64:200:3 8192:50:1 8192:50:3 1048576:4:1 1048576:2:3";

/// The `name MEDIAN ...` line of `name`, split into fields.
fn figure<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no figure {name} in:\n{out}"))
        .split_whitespace()
        .collect()
}

#[test]
fn the_data_plane_benchmark_prints_every_figure_beside_postgresql_15() {
    let _w = watchdog(280, "bench_dp_postgresql");
    let mut child = Command::new("bash")
        .arg(repo_root().join("bench/dp/run.sh"))
        .env("DP_ROUNDS", "1")
        .env("DP_CASES", CASES)
        .env("DP_DSM_N", "3")
        .env("PG_TIMEOUT_S", "120")
        .env(
            "PG_CONFIG",
            std::env::var("PG_CONFIG")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin/pg_config".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("run bench/dp/run.sh");
    let pgid = child.id() as i32;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for bench/dp/run.sh") {
            break st;
        }
        if Instant::now() > deadline {
            // SAFETY: kill(2) of the process group this test created; the
            // script's TERM trap stops its daemon and server.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            let st = child.wait().expect("wait after SIGTERM");
            panic!("bench/dp/run.sh did not finish in 240 s ({st})");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = t_out.join().unwrap();
    let err = t_err.join().unwrap();
    assert!(status.success(), "bench/dp/run.sh: {status}\n{out}\n{err}");
    assert!(
        !out.contains("no PostgreSQL 15 data-plane comparison"),
        "PostgreSQL's side is missing:\n{out}"
    );

    let mut names: Vec<String> = Vec::new();
    for case in CASES.split(' ') {
        let f: Vec<&str> = case.split(':').collect();
        for suffix in ["rate", "mbs", "ms"] {
            names.push(format!("dp_mq_{}b_w{}_{suffix}", f[0], f[2]));
        }
    }
    names.push("dp_memcpy_1048576b_x4_ms".into());
    names.push("dp_ratio_mq_1048576b_w1_to_memcpy".into());
    for k in ["64k", "1024k"] {
        for what in ["create_detach", "attach_detach", "create_attach_detach"] {
            names.push(format!("dp_dsm_{what}_{k}_us"));
        }
    }
    for name in &names {
        // name MEDIAN unit min MIN max MAX rounds 1, then pg15 MEDIAN pg15_min
        // MIN pg15_max MAX ratio R ratio_min LO ratio_max HI: 21 fields
        let f = figure(&out, name);
        assert_eq!(f.len(), 21, "{name}: {f:?}");
        assert_eq!(f[9], "pg15", "{name}: {f:?}");
        let ours: f64 = f[1].parse().expect("our median");
        let theirs: f64 = f[10].parse().expect("PostgreSQL's median");
        assert!(ours > 0.0 && theirs > 0.0, "{name}: {f:?}");
    }
    // Each throughput beside PostgreSQL's, and the memcpy goal, judged.
    for case in CASES.split(' ') {
        let f: Vec<&str> = case.split(':').collect();
        let name = format!("dp_mq_{}b_w{}_rate", f[0], f[2]);
        let line = out
            .lines()
            .find(|l| l.starts_with("#   ") && l.contains(&name) && l.contains(">= pg15"))
            .unwrap_or_else(|| panic!("no goal line for {name}:\n{out}"));
        assert!(
            line.ends_with(" met") || line.ends_with(" MISSED"),
            "{line}"
        );
    }
    let memcpy_goals = out
        .lines()
        .filter(|l| l.contains("dp_ratio_mq_1048576b_w1_to_memcpy") && l.contains("<= 2"))
        .count();
    assert_eq!(memcpy_goals, 2, "ours and PostgreSQL's memcpy goal:\n{out}");
}
