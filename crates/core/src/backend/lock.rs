//! The registration lock that serialises backends (see the module comment
//! of shmem/slots.rs): a word in the segment holding the holder's identity,
//! taken over when /proc shows the holder is gone, so that a backend that
//! dies holding it does not wedge the others.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::shmem::Segment;

/// Serialisation among backends; see the module comment of shmem/slots.rs.
pub(super) struct BackendLock<'a> {
    word: &'a std::sync::atomic::AtomicU64,
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// State letter and start time (clock ticks after boot) of task `tid`,
/// from /proc/<tid>/stat (thread ids work there too).
fn task_state(tid: i32) -> Option<(u8, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/stat")).ok()?;
    // The command name may contain anything; the fields follow its ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    // starttime is field 22 of the line; state was field 3.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This thread's identity as a lock holder: the thread id in the low half,
/// the low 32 bits of its start time in the high half, so that a thread id
/// reused by a later thread is not taken for the holder.
pub(super) fn lock_identity() -> u64 {
    thread_local! {
        static ID: u64 = {
            let tid = gettid();
            let start = task_state(tid).map_or(0, |(_, s)| s);
            ((start as u32 as u64) << 32) | tid as u32 as u64
        };
    }
    ID.with(|id| *id)
}

/// Has the holder recorded in a lock word gone away: no such task, a
/// zombie, or another task now using its thread id? A word whose thread id
/// is not a task id at all (0 or negative: written by no holder, e.g. a
/// process that scribbled on the segment) names no holder and counts as
/// gone, so the lock is taken over instead of waited out.
pub(super) fn holder_gone(word: u64) -> bool {
    let tid = word as u32 as i32;
    if tid <= 0 {
        return true;
    }
    match task_state(tid) {
        None => is_gone(tid),
        Some((state, start)) => {
            state == b'Z' || state == b'X' || start as u32 != (word >> 32) as u32
        }
    }
}

/// Is thread/process `id` gone? (kill(2) accepts thread ids on Linux.)
pub(super) fn is_gone(id: i32) -> bool {
    // SAFETY: signal 0 only checks existence and permission.
    let r = unsafe { libc::kill(id, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// How long a backend waits for the registration lock before it gives up:
/// a holder that is stopped (SIGSTOP, a debugger) or stuck must not block
/// every registrant for ever. The call then fails with a message naming
/// the holder (see [`BackendLock::acquire`]).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The process a lock holder's thread belongs to (its Tgid), or the thread
/// id itself when /proc does not say.
fn holder_pid(tid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(tid)
}

impl<'a> BackendLock<'a> {
    /// Take the lock: spin briefly, then yield, then sleep with a growing
    /// pause (up to 10 ms) so that a long wait costs no CPU; a dead holder's
    /// lock is taken over. After [`LOCK_TIMEOUT`] the error names the
    /// holder.
    pub(super) fn acquire(seg: &'a Segment) -> Result<Self, String> {
        let word = &seg.header().backend_lock;
        let me = lock_identity();
        let start = std::time::Instant::now();
        let mut spins: u32 = 0;
        let mut pause = Duration::from_micros(100);
        loop {
            // Acquire pairs with the Release in drop(): the previous
            // holder's slot writes are visible to us.
            match word.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Ok(BackendLock { word }),
                Err(holder) => {
                    spins = spins.wrapping_add(1);
                    if !spins.is_multiple_of(64) {
                        std::hint::spin_loop();
                        continue;
                    }
                    if holder != 0
                        && holder_gone(holder)
                        && word
                            .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                    {
                        // The holder died mid-operation. What it left is
                        // harmless (see slots.rs), but it may have published
                        // a slot without marking it: have the supervisor
                        // look at every slot.
                        for w in 0..crate::shmem::slots::pending_words(seg.total_slots()) {
                            seg.pending_word(w).fetch_or(u64::MAX, Ordering::Release);
                        }
                        repair_parallel_count(seg);
                        return Ok(BackendLock { word });
                    }
                    if spins < 64 * 16 {
                        std::thread::yield_now();
                        continue;
                    }
                    if start.elapsed() >= LOCK_TIMEOUT {
                        let tid = holder as u32 as i32;
                        return Err(format!(
                            "could not acquire the background worker registration lock within {} s: it is held by process {}",
                            LOCK_TIMEOUT.as_secs(),
                            holder_pid(tid)
                        ));
                    }
                    // Held for long (a stopped holder): sleep, not spin.
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
            }
        }
    }
}

/// Called by the backend that took over a dead holder's lock (so no
/// registration is under way): a holder that died between counting a
/// parallel registration and publishing it left `parallel_register_count`
/// one too high, the budget one short for good. Lower it to what is
/// outstanding: the given-back count plus the published parallel slots.
/// The given-back count is read after the scan, so a slot the supervisor
/// gives back meanwhile is at worst counted twice: the result errs on the
/// short side and is never below the true count (see the invariant at
/// shmem::slots::Header), so it never wraps. Never raises the count.
fn repair_parallel_count(seg: &Segment) {
    let h = seg.header();
    let published = (0..seg.total_slots())
        .filter(|&i| {
            let s = seg.slot(i);
            s.in_use.load(Ordering::Acquire) != 0
                && s.read_worker()
                    .flags()
                    .contains(crate::abi::WorkerFlags::CLASS_PARALLEL)
        })
        .count() as u32;
    let given_back = h.parallel_terminate_count.load(Ordering::Acquire);
    let registered = h.parallel_register_count.load(Ordering::Acquire);
    if registered.wrapping_sub(given_back) > published {
        h.parallel_register_count
            .store(given_back.wrapping_add(published), Ordering::Release);
    }
}

impl Drop for BackendLock<'_> {
    fn drop(&mut self) {
        // Release pairs with the next holder's Acquire.
        self.word.store(0, Ordering::Release);
    }
}
