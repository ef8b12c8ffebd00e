//! The supervisor with many slots: what it holds in memory must not grow
//! with slots nobody uses. (Speed with many slots is `make bench-scale`'s;
//! this checks only memory, with generous bounds.)

mod common;

use common::*;

/// A `kB` field of /proc/PID/status.
fn status_kb(pid: i32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status:\n{text}"))
}

/// At 10,000 slots the segment is about 20 MB. Before any worker runs, the
/// supervisor has touched none of the free slots (RssShmem: the pages of
/// the segment it mapped in) and holds no per-slot definition in private
/// memory (RssAnon). Before the free slots were left alone, both were
/// about 15 MB.
#[test]
fn ten_thousand_free_slots_stay_out_of_the_supervisors_memory() {
    let _w = watchdog(60, "ten_thousand_free_slots_stay_out_of_memory");
    let d = Daemon::builder("scale-rss")
        .set("max_worker_processes", "10000")
        .start();
    let seg = d.segment_path().expect("segment name in the pid file");
    let seg_kb = std::fs::metadata(&seg).expect("segment file").len() / 1024;
    assert!(
        seg_kb > 16 * 1024,
        "segment of {seg_kb} kB for 10,000 slots"
    );
    let shmem = status_kb(d.pid(), "RssShmem:");
    let anon = status_kb(d.pid(), "RssAnon:");
    assert!(
        shmem < seg_kb / 8,
        "the supervisor has {shmem} kB of its {seg_kb} kB segment in memory"
    );
    assert!(
        anon < 4 * 1024,
        "the supervisor holds {anon} kB of private memory at 10,000 slots"
    );
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(secs(20)).success(), "{}", d.log_text());
}
