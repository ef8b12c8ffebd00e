//! A SIGKILLed bgworkerd leaves its pid file and its shared segment
//! behind; the next bgworkerd on the same run directory removes that
//! segment, but only when its predecessor is really gone and the segment is
//! really that predecessor's (src/supervisor/leftover.rs). Every case where
//! it must stay is shown with the WARNING and DETAIL that say why, and with
//! the new daemon running normally.
//!
//! Every test owns its run directories (under target/tmp) and removes the
//! /dev/shm objects it made, also when it fails.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

/// Byte offset of `supervisor_pid` in the segment header (after magic,
/// version, header_size, slot_size, total_slots and segment_size).
const SUPERVISOR_PID_OFFSET: u64 = 32;

/// Removes a /dev/shm object when dropped.
struct ShmFile(PathBuf);

impl ShmFile {
    fn of(name: &str) -> ShmFile {
        ShmFile(shm_path(name))
    }
}

/// The file under /dev/shm of segment `name` ("/bgworker.123").
fn shm_path(name: &str) -> PathBuf {
    Path::new("/dev/shm").join(name.trim_start_matches('/'))
}

impl Drop for ShmFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// A pid that belonged to a process that has exited.
fn dead_pid() -> i32 {
    let mut c = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = c.id() as i32;
    c.wait().expect("wait for true");
    assert!(!pid_alive(pid));
    pid
}

/// Start a daemon on `dir`, SIGKILL it, and return it (its Drop removes its
/// segment if a test left it) with its segment's name. The pid file and
/// the segment are left behind, as after a real kill.
fn killed_daemon(name: &str, dir: &Path) -> (Daemon, String) {
    let d = Daemon::builder(name).rundir(dir).start();
    let seg = d.segment_name().expect("segment name in the pid file");
    d.signal(SIGKILL);
    let st = d.wait_exit(secs(10));
    assert_eq!(st.signal(), Some(SIGKILL), "{}", describe_status(&st));
    assert!(
        d.pid_file().exists(),
        "a SIGKILLed daemon cannot remove its pid file"
    );
    assert!(
        shm_path(&seg).exists(),
        "segment {seg} is gone before the next daemon started"
    );
    (d, seg)
}

/// Start the next daemon on `dir`, which must become ready, and return it.
fn next_daemon(name: &str, dir: &Path) -> Daemon {
    let d = Daemon::builder(name).rundir(dir).start();
    assert!(
        d.try_exit().is_none(),
        "bgworkerd exited; log:\n{}",
        d.log_text()
    );
    d
}

/// The daemon logged that it kept `seg`, with a DETAIL containing `why`.
fn assert_kept(d: &Daemon, seg: &str, why: &str) {
    let pidfile = d.pid_file().display().to_string();
    let (i, l) = d.wait_log_from(
        0,
        &format!(
            "shared memory segment \"{seg}\" named in lock file \"{pidfile}\" was not removed"
        ),
        secs(5),
    );
    assert!(l.contains("WARNING:  "), "must be a WARNING: {l}");
    let detail = d
        .log()
        .wait_match(i + 1, secs(5), |_| true)
        .map(|(_, l)| l)
        .unwrap_or_default();
    assert!(
        detail.contains("DETAIL:  ") && detail.contains(why),
        "DETAIL line {detail:?} should say {why:?}; log:\n{}",
        d.log_text()
    );
    assert_eq!(
        d.count_log("removed shared memory segment"),
        0,
        "{}",
        d.log_text()
    );
    assert!(
        shm_path(seg).exists(),
        "segment {seg} was removed; log:\n{}",
        d.log_text()
    );
}

/// The new daemon works: its own segment exists and bgworkerctl sees it.
fn assert_working(d: &Daemon) {
    let own = d.segment_path().expect("own segment");
    assert!(own.exists(), "{} missing", own.display());
    let r = run_ctl(d.rundir(), &["status", "--json"]);
    assert_eq!(r.code, 0, "bgworkerctl status: {r:?}");
    assert!(r.stdout.contains(&format!("\"pid\":{}", d.pid())), "{r:?}");
}

#[test]
fn segment_of_a_killed_daemon_is_removed_by_the_next_one() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "segment_of_a_killed_daemon_is_removed_by_the_next_one",
    );
    let dir = Scratch::new("stale-removed");
    let (old, seg) = killed_daemon("stale-first", &dir);
    let _guard = ShmFile::of(&seg);
    let new = next_daemon("stale-next", &dir);
    let l = new.wait_log(
        &format!(
            "removed shared memory segment \"{seg}\" left behind by process {}, the previous supervisor on this run directory",
            old.pid()
        ),
        secs(5),
    );
    assert!(l.contains("LOG:  "), "{l}");
    assert!(
        !shm_path(&seg).exists(),
        "{seg} is still there; log:\n{}",
        new.log_text()
    );
    assert_working(&new);
    drop(new);
    drop(old);
}

#[test]
fn segment_still_mapped_by_its_live_supervisor_is_kept() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "segment_still_mapped_by_its_live_supervisor_is_kept",
    );
    // A running daemon, and a copy of its pid file in another run
    // directory: the lock there is free, but the process named is alive and
    // uses the segment.
    let live = plain_daemon("stale-live", &[]);
    let seg = live.segment_name().unwrap();
    let dir = Scratch::new("stale-live-copy");
    fs::copy(live.pid_file(), dir.join("bgworkerd.pid")).unwrap();
    let new = next_daemon("stale-live-next", &dir);
    assert_kept(
        &new,
        &seg,
        &format!(
            "Process {} is still running and has the segment mapped.",
            live.pid()
        ),
    );
    assert_working(&new);
    assert_working(&live);
    drop(new);
    drop(live);
}

#[test]
fn segment_of_a_recycled_pid_is_removed() {
    let _w = watchdog(DEFAULT_WATCHDOG, "segment_of_a_recycled_pid_is_removed");
    // The pid in the pid file now belongs to an unrelated live process
    // (a sleep) that does not have the segment mapped: the supervisor that
    // had it is gone. Made by moving a killed daemon's segment to the
    // sleeper's pid.
    let dir = Scratch::new("stale-recycled");
    let (old, seg) = killed_daemon("stale-recycled-first", &dir);
    let _g0 = ShmFile::of(&seg);
    let sleeper = Proc::spawn(Path::new("/bin/sleep"), &["60"], &[], "sleep");
    let pid = sleeper.pid();
    let moved = format!("/bgworker.{pid}");
    let _g1 = ShmFile::of(&moved);
    fs::rename(shm_path(&seg), shm_path(&moved)).unwrap();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(shm_path(&moved))
        .unwrap();
    f.write_all_at(&pid.to_le_bytes(), SUPERVISOR_PID_OFFSET)
        .unwrap();
    drop(f);
    fs::write(dir.join("bgworkerd.pid"), format!("{pid}\n{moved}\n")).unwrap();

    let new = next_daemon("stale-recycled-next", &dir);
    new.wait_log(
        &format!("removed shared memory segment \"{moved}\" left behind by process {pid}"),
        secs(5),
    );
    assert!(!shm_path(&moved).exists());
    assert!(pid_alive(pid), "the unrelated process was touched");
    assert_working(&new);
    drop(new);
    drop(old);
}

#[test]
fn segment_without_our_header_is_kept() {
    let _w = watchdog(DEFAULT_WATCHDOG, "segment_without_our_header_is_kept");
    let dir = Scratch::new("stale-foreign");
    let pid = dead_pid();
    let seg = format!("/bgworker.{pid}");
    let guard = ShmFile::of(&seg);
    let junk = vec![0x5au8; 8192];
    fs::write(&guard.0, &junk).unwrap();
    fs::write(dir.join("bgworkerd.pid"), format!("{pid}\n{seg}\n")).unwrap();
    let new = next_daemon("stale-foreign-next", &dir);
    assert_kept(
        &new,
        &seg,
        "It is not a bgworkerd segment of this version: bad magic number.",
    );
    assert_eq!(
        fs::read(&guard.0).unwrap(),
        junk,
        "the foreign object was changed"
    );
    assert_working(&new);
}

#[test]
fn segment_recording_another_supervisor_is_kept() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "segment_recording_another_supervisor_is_kept",
    );
    let dir = Scratch::new("stale-otherpid");
    let (old, seg) = killed_daemon("stale-otherpid-first", &dir);
    let guard = ShmFile::of(&seg);
    let other = dead_pid();
    let f = fs::OpenOptions::new().write(true).open(&guard.0).unwrap();
    f.write_all_at(&other.to_le_bytes(), SUPERVISOR_PID_OFFSET)
        .unwrap();
    drop(f);
    let new = next_daemon("stale-otherpid-next", &dir);
    assert_kept(
        &new,
        &seg,
        &format!("Its header names process {other} as its supervisor, not process {} named in the lock file.", old.pid()),
    );
    assert_working(&new);
    drop(new);
    drop(old);
}

#[test]
fn segment_with_a_name_bgworkerd_does_not_give_is_kept() {
    let _w = watchdog(
        DEFAULT_WATCHDOG,
        "segment_with_a_name_bgworkerd_does_not_give_is_kept",
    );
    // A valid image of a killed daemon's segment under another name, and
    // under the name of another pid: neither is touched.
    let dir = Scratch::new("stale-name");
    let (old, seg) = killed_daemon("stale-name-first", &dir);
    let _g0 = ShmFile::of(&seg);
    let image = fs::read(shm_path(&seg)).unwrap();
    let pid = old.pid();
    let other = dead_pid();
    for (i, name) in [format!("/bgwtest.{pid}"), format!("/bgworker.{other}")]
        .into_iter()
        .enumerate()
    {
        let guard = ShmFile::of(&name);
        fs::write(&guard.0, &image).unwrap();
        fs::write(dir.join("bgworkerd.pid"), format!("{pid}\n{name}\n")).unwrap();
        let new = next_daemon(&format!("stale-name-next-{i}"), &dir);
        assert_kept(
            &new,
            &name,
            &format!("The name is not one bgworkerd gives to the segment of process {pid}"),
        );
        assert_working(&new);
        drop(new);
    }
    drop(old);
}

#[test]
fn segment_owned_by_another_user_is_kept() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Giving a file to another user needs root; CI runs the suite as root.
        eprintln!(
            "segment_owned_by_another_user_is_kept: skipped (needs root to chown the segment)"
        );
        return;
    }
    let _w = watchdog(DEFAULT_WATCHDOG, "segment_owned_by_another_user_is_kept");
    let dir = Scratch::new("stale-owner");
    let (old, seg) = killed_daemon("stale-owner-first", &dir);
    let guard = ShmFile::of(&seg);
    std::os::unix::fs::chown(&guard.0, Some(65534), Some(65534)).unwrap();
    let new = next_daemon("stale-owner-next", &dir);
    assert_kept(
        &new,
        &seg,
        "It is owned by user ID 65534, not by user ID 0 running this supervisor.",
    );
    assert_working(&new);
    drop(new);
    drop(old);
}
