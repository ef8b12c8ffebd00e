//! `worker_containment = descendants`: when a worker exits, every process
//! it left behind goes with it, double-forked and setsid()-ed daemons
//! included, as systemd's KillMode=control-group does for a unit. Beyond
//! PostgreSQL, whose postmaster knows only its own children; the default
//! (`none`) keeps PostgreSQL's behaviour. bgworkerd only: an embedding host
//! is refused at start (it would become the reaper of orphans that are not
//! its own).
//!
//! How descendants are known without cgroups (cgroup v2 delegation is not
//! assumed):
//! - bgworkerd is a child subreaper (PR_SET_CHILD_SUBREAPER), and so is
//!   every worker. An orphan is reparented to its nearest living subreaper
//!   ancestor, so while worker W runs, the orphans of its subtree are
//!   adopted by W itself (they stay W's business; a zombie among them
//!   stays one until W reaps it or exits), and only when W exits do its
//!   children and adopted orphans reach bgworkerd, all at once, before
//!   W's SIGCHLD.
//! - Therefore every child of bgworkerd is a worker, the sentinel, one of
//!   the supervisor's own children (a module forked it in `_PG_init` or in
//!   a hook run by the supervisor), or a descendant of a worker that has
//!   exited. The own children are recorded whenever module code has run in
//!   the supervisor's process: all children before the loop starts (no
//!   worker has run yet), and the children that appeared while a module's
//!   hook ran (crash reset, reload); everything else is adopted. (An orphan
//!   adopted during such a hook would count as own: only the orphan of an
//!   adopted process dying at that very moment can be.)
//! - On every reap of a worker or of an adopted process, the children of
//!   bgworkerd are listed (/proc: this kernel has no
//!   /proc/PID/task/TID/children) and every adopted one gets SIGKILL. Its
//!   own children are adopted in turn when it dies, and killed on that
//!   reap. Pids are safe to signal: a child of ours cannot be reaped (nor
//!   its pid reused) by anyone but us.
//! - An adopted process that exits is reaped silently (no crash cycle: it
//!   was no child of ours). The supervisor's own children keep the postmaster's rules
//!   (tests/children.rs): exit 0/1 forgotten, anything else a crash.
//!   Orphans of the supervisor's own children count as adopted.
//! - At shutdown, after the last worker, the adopted processes still there
//!   are killed and reaped before bgworkerd exits.
//!
//! Cost: one /proc scan per worker exit, only with this setting.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::*;

/// Make this process a child subreaper (bgworkerd at start, each worker
/// after its fork).
pub(super) fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Children of process `parent`, zombies included, from /proc.
fn children_of(parent: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    let mut buf = Vec::with_capacity(512);
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        buf.clear();
        let path = format!("/proc/{pid}/stat");
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue;
        };
        use std::io::Read;
        if f.read_to_end(&mut buf).is_err() {
            continue;
        }
        // "pid (comm) S ppid ...": comm may hold anything, so from the last ')'.
        let Some(close) = buf.iter().rposition(|&b| b == b')') else {
            continue;
        };
        let rest = String::from_utf8_lossy(&buf[close + 1..]);
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<i32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// The state of containment in a running supervisor.
#[derive(Default)]
pub(super) struct Containment {
    /// Off: PostgreSQL's behaviour, nothing here is used.
    pub on: bool,
    /// Children the supervisor's own process made (see the module comment).
    own: HashSet<i32>,
}

impl Containment {
    pub(super) fn new(on: bool) -> Containment {
        Containment {
            on,
            own: HashSet::new(),
        }
    }
}

impl Supervisor {
    fn is_known_child(&self, pid: i32) -> bool {
        self.by_pid.contains_key(&pid) || self.is_sentinel(pid) || self.contain.own.contains(&pid)
    }

    /// The children of this process now (empty without containment): taken
    /// before module code runs in the supervisor, for
    /// [`Self::note_own_children`].
    pub(super) fn children_before_hook(&self) -> Vec<i32> {
        if self.contain.on {
            children_of(self.my_pid)
        } else {
            Vec::new()
        }
    }

    /// After module code ran in this process: the children that appeared
    /// meanwhile are the supervisor's own (forked by that code). `before`
    /// is None before the loop starts, when no worker has ever run and so
    /// every child is the supervisor's own.
    pub(super) fn note_own_children(&mut self, before: Option<Vec<i32>>) {
        if !self.contain.on {
            return;
        }
        let before: HashSet<i32> = before.unwrap_or_default().into_iter().collect();
        for pid in children_of(self.my_pid) {
            if !before.contains(&pid) && !self.is_known_child(pid) {
                self.contain.own.insert(pid);
            }
        }
    }

    /// Is `pid`, a child that was not a worker nor the sentinel, adopted
    /// (a worker's descendant)? Forgets an own child (it was reaped).
    pub(super) fn reaped_adopted(&mut self, pid: i32) -> bool {
        self.contain.on && !self.contain.own.remove(&pid)
    }

    /// SIGKILL every adopted child (descendants of exited workers). Returns
    /// how many there were (zombies among them included).
    pub(super) fn kill_adopted(&mut self) -> usize {
        if !self.contain.on {
            return 0;
        }
        let adopted: Vec<i32> = children_of(self.my_pid)
            .into_iter()
            .filter(|&p| !self.is_known_child(p))
            .collect();
        for &p in &adopted {
            kill(p, libc::SIGKILL);
        }
        if !adopted.is_empty() {
            crate::elog!(
                log::DEBUG1,
                "worker_containment: terminating {} process(es) left behind by exited workers: {:?}",
                adopted.len(),
                adopted
            );
        }
        adopted.len()
    }

    /// An adopted process was reaped (no crash: it was no child of ours).
    /// The caller takes down what it left behind in turn (kill_adopted).
    pub(super) fn adopted_exited(&mut self, pid: i32, status: i32) {
        lifecycle::log_child_exit(log::DEBUG1, "descendant of an exited worker", pid, status);
    }

    /// At the end of a shutdown (no worker left): kill and reap every
    /// adopted process, so none outlives bgworkerd. Bounded: a process in
    /// uninterruptible sleep may take long to die; after the bound it is
    /// left to the next reaper (logged).
    pub(super) fn reap_adopted_at_exit(&mut self) {
        if !self.contain.on {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = self.kill_adopted();
            if left == 0 {
                return;
            }
            // Reap what died (adopted ones silently, others as usual).
            self.reap();
            if Instant::now() >= deadline {
                log::emit(
                    log::LOG,
                    &format!(
                        "worker_containment: {left} process(es) left behind by workers did not end within 5 s"
                    ),
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
