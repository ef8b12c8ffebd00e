//! PostgreSQL's own test_shm_mq (src/test/modules/test_shm_mq of the
//! postgresql-15 source, fetched by tools/pg-source.sh and built unchanged
//! with PGXS) under bgworkerd, compared with the real PostgreSQL 15 server
//! running `SELECT test_shm_mq(...)` / `test_shm_mq_pipelined(...)` on the
//! same inputs: PostgreSQL's regression cases (1 byte up to 270,000-byte
//! messages through a 16 KB queue, 10,000 round trips through a queue
//! smaller than the message), 1, 2 and 3 workers, 10,000 pipelined
//! messages, and its argument errors.
//!
//! Under bgworkerd the functions are called by c-tests/dp_driver.c, a
//! static worker, with a real FunctionCallInfo (see there); test_shm_mq's
//! setup.c registers its worker.c workers, which find their registrant with
//! BackendPidGetProc and wake it through its latch.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::pg::PgServer;
use common::*;

/// (function, queue size, message length, loops, workers).
const CASES: &[(&str, i64, i32, i32, i32)] = &[
    // PostgreSQL's own regression cases (sql/test_shm_mq.sql), with
    // messages of the lengths it draws at random.
    ("mq", 1024, 0, 2000, 1),
    ("mq", 1024, 1, 2001, 1),
    ("mq", 32768, 900, 10000, 1),
    ("mq", 100, 200, 10000, 1),
    ("pipelined", 16384, 270000, 200, 3),
    // Two workers; 10,000 pipelined messages; the smallest queue (an
    // 8-byte ring) carrying 112 bytes a message. (No case with zero
    // workers: test_shm_mq's setup then reads a worker handle past the end
    // of its allocation.)
    ("mq", 1024, 5, 1000, 2),
    ("pipelined", 1024, 100, 10000, 2),
    ("pipelined", 64, 100, 500, 1),
    // Argument errors.
    ("mq", 10, 1, 1, 1),
    ("mq", 1024, 1, -1, 1),
    ("mq", 1024, 1, 1, 0),
    ("pipelined", 1024, 1, 1, -1),
];

fn pg_config() -> String {
    std::env::var("PG_CONFIG").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin/pg_config".into())
}

/// test_shm_mq built with PGXS from the unchanged source, in a copy of its
/// directory under target/c-tests (the source tree stays as fetched).
fn test_shm_mq_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("tools/pg-source.sh"))
            .output()
            .expect("run tools/pg-source.sh");
        assert!(
            out.status.success(),
            "tools/pg-source.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let src = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            .join("src/test/modules/test_shm_mq");
        let dir = repo_root().join("target/c-tests/test_shm_mq");
        let _ = std::fs::remove_dir_all(&dir);
        let st = Command::new("cp")
            .arg("-r")
            .arg(&src)
            .arg(&dir)
            .status()
            .expect("cp");
        assert!(st.success());
        let st = Command::new("make")
            .args(["-s", "-C"])
            .arg(&dir)
            .arg("USE_PGXS=1")
            .arg(format!("PG_CONFIG={}", pg_config()))
            .status()
            .expect("make test_shm_mq");
        assert!(st.success(), "building test_shm_mq with PGXS failed");
        dir
    })
}

/// The message of length `len`, as c-tests/dp_driver.c builds it, in SQL.
fn message_sql(len: i32) -> String {
    format!(
        "(select coalesce(string_agg(chr(32 + (7 * k + {len}) % 95), '' order by k), '') from generate_series(0, {len} - 1) k)"
    )
}

fn ours() -> Vec<String> {
    let dir = test_shm_mq_dir();
    let driver = pgxs_module("dp_driver.c");
    let cases: Vec<String> = CASES
        .iter()
        .map(|(f, q, l, n, w)| format!("{f} {q} {l} {n} {w}"))
        .collect();
    let d = Daemon::builder("dp-test-shm-mq")
        .preload(&[&driver])
        .set(
            "dynamic_library_path",
            &format!("{}:{}", dir.display(), driver.parent().unwrap().display()),
        )
        .set("max_worker_processes", "8")
        .env(
            "DP_TEST_SHM_MQ",
            &dir.join("test_shm_mq.so").display().to_string(),
        )
        .env("DP_CASES", &cases.join(";"))
        .start();
    // Done, or a crash (which would end the driver too).
    d.log().wait_match(0, secs(120), |l| {
        l.contains("dp_driver: done") || l.contains("terminated by signal")
    });
    let lines = d.log_lines();
    let r = (1..=CASES.len())
        .map(|i| {
            let tag = format!("case {i}: ");
            let l = lines
                .iter()
                .find(|l| l.contains(&tag))
                .unwrap_or_else(|| panic!("no result for case {i}:\n{}", lines.join("\n")));
            l[l.find(&tag).unwrap() + tag.len()..].to_string()
        })
        .collect();
    // Nothing crashed, and the segments went with the runs.
    assert_eq!(d.count_log("terminated by signal"), 0, "{}", d.log_text());
    d.signal(libc::SIGTERM);
    let st = d.wait_exit(secs(60));
    assert!(st.success(), "{}", d.log_text());
    r
}

fn postgresql() -> Vec<String> {
    let dir = test_shm_mq_dir();
    // make install DESTDIR=...: the server finds the extension there
    // through Debian's extension_destdir; nothing under /usr is touched.
    let dest = shared_scratch_dir("tsm-ext");
    let st = Command::new("make")
        .args(["-s", "-C"])
        .arg(dir)
        .arg("USE_PGXS=1")
        .arg(format!("PG_CONFIG={}", pg_config()))
        .arg("install")
        .arg(format!("DESTDIR={}", dest.display()))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("make install");
    assert!(st.success(), "make install DESTDIR failed");
    // Preloaded too (it has no _PG_init), which puts it in the server's
    // dynamic_library_path, where its workers' bgw_library_name
    // "test_shm_mq" is looked up.
    let so = dir.join("test_shm_mq.so");
    let pg = PgServer::start(
        "dp-test-shm-mq",
        &[&so],
        &[("extension_destdir", &dest.display().to_string())],
    );
    let sock = pg.data_dir().parent().unwrap().to_path_buf();
    let psql = |sql: &str| {
        Command::new(common::pg::pg_bin(15).join("psql"))
            .args([
                "-X", "-q", "-A", "-t", "-U", "postgres", "-d", "postgres", "-h",
            ])
            .arg(&sock)
            .arg("-c")
            .arg(sql)
            .output()
            .expect("run psql")
    };
    let out = psql("CREATE EXTENSION test_shm_mq");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = CASES
        .iter()
        .map(|(f, q, l, n, w)| {
            let sql = if *f == "mq" {
                format!("SELECT test_shm_mq({q}, {}, {n}, {w})", message_sql(*l))
            } else {
                format!(
                    "SELECT test_shm_mq_pipelined({q}, {}, {n}, {w})",
                    message_sql(*l)
                )
            };
            let out = psql(&sql);
            if out.status.success() {
                "ok".to_string()
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                let line = err
                    .lines()
                    .find(|l| l.starts_with("ERROR:"))
                    .unwrap_or_else(|| panic!("psql failed without an ERROR: {err}"));
                format!("ERROR: {}", line["ERROR:".len()..].trim())
            }
        })
        .collect();
    drop(pg);
    let _ = std::fs::remove_dir_all(&dest);
    r
}

#[test]
fn test_shm_mq_under_bgworkerd_matches_postgresql_15() {
    let _w = watchdog(300, "test_shm_mq_under_bgworkerd_matches_postgresql_15");
    let ours = ours();
    let theirs = postgresql();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let (f, q, l, n, w) = CASES[i];
        assert_eq!(
            a,
            b,
            "case {} ({f} queue {q}, message {l} bytes, {n} times, {w} workers): bgworkerd vs PostgreSQL 15",
            i + 1
        );
    }
    // The successful cases are the ones PostgreSQL's test expects to pass.
    assert_eq!(ours.iter().filter(|r| *r == "ok").count(), 8, "{ours:?}");
}

// ---------------------------------------------------------------------------
// c-tests/dp_module.c under the real servers (15, 17, 18), compared with
// bgworkerd running the same module built for the same major.
// ---------------------------------------------------------------------------

/// (registrant's lines, child's lines).
fn split_child(lines: Vec<String>) -> (Vec<String>, Vec<String>) {
    lines.into_iter().partition(|l| !l.contains("dp: child"))
}

/// The scenario under bgworkerd (`pg` false) or the real server of `major`.
fn scenario(major: u32, pg: bool, name: &str, signal_child: Option<&str>) -> Vec<String> {
    let m = pgxs_module_for("dp_module.c", major);
    let lines = if pg {
        let s = PgServer::spawn_major(
            major,
            &format!("dp-{name}"),
            &[&m],
            "",
            &[("DP_SCENARIO", name)],
        );
        s.wait_ready();
        if let Some(needle) = signal_child {
            let line = s.wait_log(needle, secs(60));
            s.wait_log(&format!("dp: {name}: child attached"), secs(60));
            let pid = common::pg::pid_of(&line).expect("child pid");
            // SAFETY: kill(2) of a worker of the server this test started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        s.wait_log("dp: done", secs(60));
        s.log_lines()
    } else {
        let d = Daemon::builder(&format!("dp-{name}-{major}"))
            .preload(&[&m])
            .set(
                "dynamic_library_path",
                &m.parent().unwrap().display().to_string(),
            )
            .env("DP_SCENARIO", name)
            .start();
        if let Some(needle) = signal_child {
            let line = d.wait_log(needle, secs(60));
            d.wait_log(&format!("dp: {name}: child attached"), secs(60));
            let pid = common::pg::pid_of(&line).expect("child pid");
            // SAFETY: kill(2) of a worker of the daemon this test started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        d.wait_log("dp: done", secs(60));
        d.log_lines()
    };
    dp_lines(&lines)
}

/// The API scenario gives the same lines under both, the number of
/// segments before the limit apart: 64 + 5 × MaxBackends, whose
/// MaxBackends counts the server's connections, autovacuum and WAL
/// senders there and max_worker_processes + 100 here (604).
fn api_matches_for(major: u32) {
    let _w = watchdog(240, &format!("dataplane api vs postgresql {major}"));
    let limit = |v: &mut Vec<String>| {
        let i = v
            .iter()
            .position(|l| l.starts_with("dp: segments before the limit: "))
            .expect("limit line");
        v.remove(i)
    };
    let mut ours = scenario(major, false, "api", None);
    let mut theirs = scenario(major, true, "api", None);
    assert_eq!(limit(&mut ours), "dp: segments before the limit: 604");
    let n: usize = limit(&mut theirs)
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // (The server's own segments take some of its items.)
    assert!(
        n > 64,
        "64 + 5 x MaxBackends, less what the server holds: {n}"
    );
    // The deliberate difference: BackendPidGetProc finds every worker of
    // the supervisor here; PostgreSQL finds only database backends, so a
    // background worker without a connection does not find itself.
    let me = |v: &mut Vec<String>, found: &str| {
        let i = v
            .iter()
            .position(|l| l.contains("BackendPidGetProc(me): "))
            .expect("BackendPidGetProc line");
        assert!(
            v[i].contains(&format!("BackendPidGetProc(me): {found},")),
            "{}",
            v[i]
        );
        v[i] = v[i].replace(&format!("(me): {found},"), "(me): -,");
    };
    me(&mut ours, "MyProc");
    me(&mut theirs, "other");
    assert_eq!(ours, theirs, "bgworkerd vs PostgreSQL {major}");
}
per_major!(api_matches_postgresql, api_matches_for);

/// A child that fails mid-stream, never starts, or is ended by SIGTERM
/// while blocked in receive or send: the registrant sees what it sees
/// under PostgreSQL, and nothing hangs.
fn children_match_for(major: u32) {
    let _w = watchdog(300, &format!("dataplane children vs postgresql {major}"));
    for (name, needle) in [
        ("error", None),
        ("never", None),
        ("recv", Some("dp: child blocks in receive")),
        ("send", Some("dp: child blocks in send")),
        ("keep", Some("dp: child keeps the segment")),
    ] {
        let ours = split_child(scenario(major, false, name, needle));
        let theirs = split_child(scenario(major, true, name, needle));
        assert_eq!(ours, theirs, "{name}: bgworkerd vs PostgreSQL {major}");
    }
}
per_major!(children_match_postgresql, children_match_for);
