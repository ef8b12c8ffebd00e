//! `bgworkerctl status`: a snapshot of the facts the supervisor publishes
//! (shmem/facts.rs), shown as an 80-column table or as JSON.
//!
//! Everything read here comes from a segment that any process of the user
//! may write, so every value is checked before it is shown and nothing read
//! can make this code panic or loop: a slot whose facts do not settle or
//! hold impossible values is reported as unreadable.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::abi::*;
use crate::shmem::facts::{self, DaemonSnapshot, ReadError, WorkerFacts};
use crate::shmem::Segment;

/// Everything `status` shows, read once.
pub struct Snapshot {
    pub now_ms: u64,
    pub supervisor_pid: i32,
    pub daemon: Result<DaemonSnapshot, ReadError>,
    pub phase: u32,
    pub crash_restarts: u32,
    pub slots_total: usize,
    pub slots_used: usize,
    pub parallel_used: u32,
    pub parallel_max: i32,
    /// Slots that ever had a worker: (slot, facts or why unreadable).
    pub rows: Vec<(usize, Result<WorkerFacts, ReadError>)>,
}

impl Snapshot {
    pub fn read(seg: &Segment) -> Snapshot {
        let h = seg.header();
        let mut rows = Vec::new();
        let mut used = 0;
        for i in 0..seg.total_slots() {
            if seg.slot(i).in_use.load(Ordering::Acquire) != 0 {
                used += 1;
            }
            match seg.slot_facts(i).read() {
                Ok(f) if f.state == facts::STATE_FREE => {}
                r => rows.push((i, r)),
            }
        }
        Snapshot {
            now_ms: facts::now_ms(),
            supervisor_pid: h.supervisor_pid.load(Ordering::Relaxed),
            daemon: seg.daemon_facts().read(),
            phase: h.phase.load(Ordering::Acquire),
            crash_restarts: h.reinit_count.load(Ordering::Acquire),
            slots_total: seg.total_slots(),
            slots_used: used,
            parallel_used: h.parallel_in_use(),
            parallel_max: h.max_parallel_workers.load(Ordering::Relaxed),
            rows,
        }
    }

    /// Problems found in the segment, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Err(e) = &self.daemon {
            v.push(format!("daemon facts are unreadable: {}", why(e)));
        }
        if self.phase > BgWorkerStart_RecoveryFinished {
            v.push(format!("start phase {} is invalid", self.phase));
        }
        for (i, r) in &self.rows {
            if let Err(e) = r {
                v.push(format!("facts of slot {i} are unreadable: {}", why(e)));
            }
        }
        v
    }
}

fn why(e: &ReadError) -> String {
    match e {
        ReadError::Unsettled => {
            "they never settled (a writer stopped mid-update, or the segment is being overwritten)"
                .into()
        }
        ReadError::Corrupt(what) => format!("corrupt ({what})"),
    }
}

pub fn phase_name(p: u32) -> &'static str {
    match p {
        BgWorkerStart_PostmasterStart => "PostmasterStart",
        BgWorkerStart_ConsistentState => "ConsistentState",
        BgWorkerStart_RecoveryFinished => "RecoveryFinished",
        _ => "invalid",
    }
}

pub fn shutdown_name(m: u32) -> Option<&'static str> {
    match m {
        1 => Some("smart"),
        2 => Some("fast"),
        3 => Some("immediate"),
        _ => None,
    }
}

/// Short signal name (SEGV, KILL, ...), or the number.
pub fn signal_name(sig: i32) -> String {
    let n = match sig {
        libc::SIGHUP => "HUP",
        libc::SIGINT => "INT",
        libc::SIGQUIT => "QUIT",
        libc::SIGILL => "ILL",
        libc::SIGTRAP => "TRAP",
        libc::SIGABRT => "ABRT",
        libc::SIGBUS => "BUS",
        libc::SIGFPE => "FPE",
        libc::SIGKILL => "KILL",
        libc::SIGUSR1 => "USR1",
        libc::SIGSEGV => "SEGV",
        libc::SIGUSR2 => "USR2",
        libc::SIGPIPE => "PIPE",
        libc::SIGALRM => "ALRM",
        libc::SIGTERM => "TERM",
        libc::SIGXCPU => "XCPU",
        libc::SIGXFSZ => "XFSZ",
        libc::SIGSYS => "SYS",
        _ => return sig.to_string(),
    };
    n.to_string()
}

/// The last exit in a few characters: `0`, `1`, `SEGV`, with `!` when it
/// was handled as a crash; `-` if the worker never exited.
fn exit_short(f: &WorkerFacts) -> String {
    if !f.has_exit {
        return "-".into();
    }
    let s = f.exit_status;
    let mut t = if libc::WIFEXITED(s) {
        libc::WEXITSTATUS(s).to_string()
    } else if libc::WIFSIGNALED(s) {
        signal_name(libc::WTERMSIG(s))
    } else {
        "?".into()
    };
    if f.exit_crash {
        t.push('!');
    }
    t
}

/// How the worker's last run ended, as a sentence.
pub fn exit_sentence(f: &WorkerFacts) -> String {
    let s = f.exit_status;
    let how = if !f.has_exit {
        return format!("worker (PID {}) is still running", f.pid);
    } else if libc::WIFEXITED(s) {
        format!("exited with exit code {}", libc::WEXITSTATUS(s))
    } else if libc::WIFSIGNALED(s) {
        format!(
            "was terminated by signal {} (SIG{})",
            libc::WTERMSIG(s),
            signal_name(libc::WTERMSIG(s))
        )
    } else {
        format!("exited with unrecognized status {s}")
    };
    let crash = if f.exit_crash {
        ", handled as a crash"
    } else {
        ""
    };
    format!("worker (PID {}) has already {how}{crash}", f.pid)
}

/// A duration in at most 6 characters: 42s, 12m05s, 5h03m, 3d04h.
pub fn short_duration(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s < 100 * 86_400 {
        format!("{}d{:02}h", s / 86_400, s / 3600 % 24)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// `2026-11-22T18:49:52.123Z`
pub fn iso_time(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = crate::log::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        ms % 1000
    )
}

fn state_word(state: u32) -> &'static str {
    match state {
        facts::STATE_NOT_STARTED => "waiting",
        facts::STATE_RUNNING => "running",
        facts::STATE_RESTARTING => "restart",
        facts::STATE_TERMINATING => "stopping",
        facts::STATE_FAILED => "failed",
        _ => "stopped",
    }
}

/// Cut `s` to `w` characters, marking a cut with `~`.
fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('~');
        t
    }
}

/// Cut `library:function` to `w` characters, taking from the library
/// first: the function says more.
fn fit_lib_func(s: &str, w: usize) -> String {
    let n = s.chars().count();
    match s.rsplit_once(':') {
        Some((lib, func)) if n > w && func.chars().count() + 2 <= w => {
            let keep = w - func.chars().count() - 2;
            format!("{}~:{func}", lib.chars().take(keep).collect::<String>())
        }
        Some((_, func)) if n > w && w >= 4 => format!("~:{}", fit(func, w - 2)),
        _ => fit(s, w),
    }
}

/// `library:function`, the library shown by its file name without `.so`.
fn lib_func(f: &WorkerFacts) -> String {
    let lib = f.library.rsplit('/').next().unwrap_or("");
    let lib = lib.strip_suffix(".so").unwrap_or(lib);
    format!("{lib}:{}", f.function)
}

/// One table row, before it is fitted to the terminal.
struct Row {
    slot: usize,
    cells: Result<[String; 11], String>,
}

/// Column headers; 2 (NAME), 3 (TYPE) and 10 (LIBRARY:FUNCTION) are the
/// columns that give up width when the terminal is narrow.
const HEADERS: [&str; 11] = [
    "SL",
    "PID",
    "NAME",
    "TYPE",
    "STATE",
    "UPTIME",
    "STARTS",
    "EXIT",
    "RESTART",
    "PG",
    "LIBRARY:FUNCTION",
];
const SHRINKABLE: [usize; 3] = [2, 3, 10];
/// How much more each shrinkable column keeps when width is short: the
/// function tells most, the type (often the name again) least.
const KEEP_BIAS: [(usize, usize); 3] = [(2, 4), (3, 0), (10, 8)];
const LEFT_ALIGNED: [usize; 4] = [2, 3, 4, 10];
/// Narrowest a shrinkable column gets.
const MIN_WIDTH: usize = 6;

fn row_cells(snap: &Snapshot, i: usize, f: &WorkerFacts) -> [String; 11] {
    let running = f.state == facts::STATE_RUNNING || f.state == facts::STATE_TERMINATING;
    let pid = if running && f.pid > 0 {
        f.pid.to_string()
    } else {
        "-".into()
    };
    let uptime = if running && f.last_start_ms > 0 {
        short_duration(snap.now_ms.saturating_sub(f.last_start_ms))
    } else {
        "-".into()
    };
    let restart = if f.state == facts::STATE_RESTARTING {
        if f.restart_at_ms == 0 {
            "crash".into()
        } else if f.restart_at_ms <= snap.now_ms {
            "now".into()
        } else {
            // Rounded up: "in 1s" until the second has passed.
            format!(
                "in {}",
                short_duration((f.restart_at_ms - snap.now_ms).saturating_add(999))
            )
        }
    } else {
        "-".into()
    };
    [
        i.to_string(),
        pid,
        f.name.clone(),
        f.type_.clone(),
        if f.state == facts::STATE_RUNNING && f.ready {
            // It declared itself ready (the opt-in supervision).
            "ready".into()
        } else {
            state_word(f.state).into()
        },
        uptime,
        f.starts.to_string(),
        exit_short(f),
        restart,
        major_cell(f),
        lib_func(f),
    ]
}

/// The PostgreSQL major a worker runs as ("-" when unknown).
fn major_cell(f: &WorkerFacts) -> String {
    if f.major == 0 {
        "-".into()
    } else {
        f.major.to_string()
    }
}

/// The major for `status --json`: a number, or null when unknown.
fn major_json(f: &WorkerFacts) -> String {
    if f.major == 0 {
        "null".into()
    } else {
        f.major.to_string()
    }
}

/// The table, for a terminal `width` columns wide (80 when unknown):
/// columns as wide as their contents, the name, type and
/// library:function columns cut (marked `~`) until the rows fit.
pub fn table(snap: &Snapshot, width: usize) -> String {
    let width = width.max(80);
    let rows: Vec<Row> = snap
        .rows
        .iter()
        .map(|(i, r)| Row {
            slot: *i,
            cells: match r {
                Ok(f) => Ok(row_cells(snap, *i, f)),
                Err(e) => Err(format!("unreadable: {}", why(e))),
            },
        })
        .collect();
    let mut w: [usize; 11] = HEADERS.map(|h| h.len());
    for r in &rows {
        if let Ok(c) = &r.cells {
            for (k, cell) in c.iter().enumerate() {
                w[k] = w[k].max(cell.chars().count());
            }
        }
    }
    // Shrink the widest shrinkable column, one character at a time.
    while w.iter().sum::<usize>() + w.len() - 1 > width {
        let k = KEEP_BIAS
            .into_iter()
            .filter(|&(k, _)| w[k] > MIN_WIDTH)
            .max_by_key(|&(k, bias)| w[k].saturating_sub(bias))
            .map_or(SHRINKABLE[0], |(k, _)| k);
        if w[k] <= MIN_WIDTH {
            break;
        }
        w[k] -= 1;
    }
    let mut headers = HEADERS.map(String::from);
    if w[10] < HEADERS[10].len() {
        headers[10] = "LIB:FUNC".into();
    }
    let line = |cells: &[String; 11]| {
        let mut l = String::new();
        for (k, c) in cells.iter().enumerate() {
            let c = if k == 10 {
                fit_lib_func(c, w[k])
            } else {
                fit(c, w[k])
            };
            if k == 10 {
                l.push_str(&c);
            } else if LEFT_ALIGNED.contains(&k) {
                let _ = write!(l, "{c:<width$} ", width = w[k]);
            } else {
                let _ = write!(l, "{c:>width$} ", width = w[k]);
            }
        }
        l.trim_end().to_string()
    };
    let mut out = line(&headers);
    out.push('\n');
    for r in &rows {
        match &r.cells {
            Ok(c) => out.push_str(&line(c)),
            Err(e) => out.push_str(&fit(&format!("{:>w0$} {e}", r.slot, w0 = w[0]), width)),
        }
        out.push('\n');
    }
    out.push_str(&summary(snap));
    out.push('\n');
    out
}

/// The summary line: slots, parallel budget, phase (or shutdown), uptime,
/// crash restarts.
pub fn summary(snap: &Snapshot) -> String {
    let (state, up) = match &snap.daemon {
        Ok(d) => (
            match shutdown_name(d.shutdown) {
                Some(m) => format!("{m} shutdown"),
                None => format!("phase {}", phase_name(snap.phase)),
            },
            short_duration(snap.now_ms.saturating_sub(d.start_ms)),
        ),
        Err(_) => (format!("phase {}", phase_name(snap.phase)), "?".into()),
    };
    format!(
        "slots {}/{}, parallel {}/{}, {state}, up {up}, crash restarts {}",
        snap.slots_used,
        snap.slots_total,
        snap.parallel_used,
        snap.parallel_max,
        snap.crash_restarts
    )
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_time(out: &mut String, ms: u64) {
    if ms == 0 {
        out.push_str("null");
    } else {
        json_str(out, &iso_time(ms));
    }
}

/// The JSON document (schema in README.md, "status --json").
pub fn json(snap: &Snapshot) -> String {
    let mut o = String::new();
    o.push_str("{\"version\":1,\"daemon\":{");
    let _ = write!(o, "\"pid\":{}", snap.supervisor_pid);
    match &snap.daemon {
        Ok(d) => {
            o.push_str(",\"start_time\":");
            json_time(&mut o, d.start_ms);
            let _ = write!(
                o,
                ",\"uptime_s\":{}",
                snap.now_ms.saturating_sub(d.start_ms) / 1000
            );
            o.push_str(",\"shutdown\":");
            match shutdown_name(d.shutdown) {
                Some(m) => json_str(&mut o, m),
                None => o.push_str("null"),
            }
            o.push_str(",\"major\":");
            if d.major == 0 {
                o.push_str("null");
            } else {
                let _ = write!(o, "{}", d.major);
            }
        }
        Err(_) => {
            o.push_str(",\"start_time\":null,\"uptime_s\":null,\"shutdown\":null,\"major\":null")
        }
    }
    o.push_str(",\"phase\":");
    json_str(&mut o, phase_name(snap.phase));
    let _ = write!(
        o,
        ",\"crash_restarts\":{},\"slots_total\":{},\"slots_used\":{},\"parallel_used\":{},\"parallel_max\":{}}}",
        snap.crash_restarts, snap.slots_total, snap.slots_used, snap.parallel_used, snap.parallel_max
    );
    o.push_str(",\"workers\":[");
    for (n, (i, r)) in snap.rows.iter().enumerate() {
        if n > 0 {
            o.push(',');
        }
        let _ = write!(o, "{{\"slot\":{i}");
        let f = match r {
            Ok(f) => f,
            Err(e) => {
                o.push_str(",\"error\":");
                json_str(&mut o, &why(e));
                o.push('}');
                continue;
            }
        };
        let _ = write!(o, ",\"generation\":{},\"state\":", f.generation);
        // A failed worker (the opt-in supervision's give-up limit) is
        // "stopped" with "failed": true, so that "state" keeps version 1's
        // values; its slot stays in use.
        json_str(
            &mut o,
            facts::state_name(if f.state == facts::STATE_FAILED {
                facts::STATE_STOPPED
            } else {
                f.state
            }),
        );
        o.push_str(",\"pid\":");
        let running = f.state == facts::STATE_RUNNING || f.state == facts::STATE_TERMINATING;
        if running && f.pid > 0 {
            let _ = write!(o, "{}", f.pid);
        } else {
            o.push_str("null");
        }
        for (k, v) in [
            ("name", &f.name),
            ("type", &f.type_),
            ("library", &f.library),
            ("function", &f.function),
        ] {
            let _ = write!(o, ",\"{k}\":");
            json_str(&mut o, v);
        }
        let _ = write!(
            o,
            ",\"main_arg\":{},\"flags\":{},\"major\":{},\"start_phase\":",
            f.main_arg,
            f.flags,
            major_json(f)
        );
        json_str(&mut o, phase_name(f.start_phase));
        o.push_str(",\"restart_interval_s\":");
        if f.restart_time == BGW_NEVER_RESTART {
            o.push_str("null");
        } else {
            let _ = write!(o, "{}", f.restart_time);
        }
        o.push_str(",\"registered_by\":");
        if f.registrant > 0 {
            let _ = write!(o, "{}", f.registrant);
        } else {
            o.push_str("null");
        }
        o.push_str(",\"registered_at\":");
        json_time(&mut o, f.registered_ms);
        o.push_str(",\"last_start\":");
        json_time(&mut o, f.last_start_ms);
        o.push_str(",\"last_exit\":");
        json_time(&mut o, f.last_exit_ms);
        let _ = write!(o, ",\"starts\":{},\"last_exit_status\":", f.starts);
        if !f.has_exit {
            o.push_str("null");
        } else if libc::WIFEXITED(f.exit_status) {
            let _ = write!(o, "{{\"code\":{}}}", libc::WEXITSTATUS(f.exit_status));
        } else if libc::WIFSIGNALED(f.exit_status) {
            let sig = libc::WTERMSIG(f.exit_status);
            let _ = write!(o, "{{\"signal\":{sig},\"signal_name\":");
            json_str(&mut o, &format!("SIG{}", signal_name(sig)));
            o.push('}');
        } else {
            let _ = write!(o, "{{\"raw\":{}}}", f.exit_status);
        }
        let _ = write!(o, ",\"last_exit_crash\":{}", f.has_exit && f.exit_crash);
        o.push_str(",\"restart_at\":");
        if f.state == facts::STATE_RESTARTING {
            json_time(&mut o, f.restart_at_ms);
        } else {
            o.push_str("null");
        }
        let running = f.state == facts::STATE_RUNNING || f.state == facts::STATE_TERMINATING;
        let _ = write!(o, ",\"failed\":{}", f.state == facts::STATE_FAILED);
        let _ = write!(o, ",\"ready\":{}", running && f.ready);
        o.push_str(",\"ready_at\":");
        if running && f.ready && f.ready_ms > 0 {
            json_time(&mut o, f.ready_ms);
        } else {
            o.push_str("null");
        }
        o.push_str(",\"last_exit_reason\":");
        if f.has_exit {
            json_str(
                &mut o,
                crate::shmem::supervision::exit_reason_name(f.exit_reason),
            );
        } else {
            o.push_str("null");
        }
        let _ = write!(
            o,
            ",\"backoff_step\":{},\"restarts_in_window\":{}",
            f.backoff_step, f.window_restarts
        );
        o.push_str(",\"policy\":");
        policy_json(&mut o, f.policy.as_ref());
        o.push('}');
    }
    o.push_str("]}\n");
    o
}

/// The effective supervision policy (policy.rs) as JSON: null when
/// nothing is configured (PostgreSQL's behaviour), else every feature,
/// null where it is off.
fn policy_json(o: &mut String, p: Option<&crate::policy::Effective>) {
    use std::fmt::Write as _;
    let Some(p) = p else {
        o.push_str("null");
        return;
    };
    let opt = |v: Option<u32>| v.map_or("null".to_string(), |v| v.to_string());
    o.push_str("{\"backoff\":");
    match p.backoff {
        None => o.push_str("null"),
        Some(b) => {
            let _ = write!(
                o,
                "{{\"initial_ms\":{},\"factor\":{},\"cap_ms\":{},\"jitter\":{},\"reset_after_ms\":{}}}",
                b.initial_ms, b.factor, b.cap_ms, b.jitter, b.reset_after_ms
            );
        }
    }
    o.push_str(",\"give_up\":");
    match p.give_up {
        None => o.push_str("null"),
        Some((n, w)) => {
            let _ = write!(o, "{{\"restarts\":{n},\"window_ms\":{w}}}");
        }
    }
    let _ = write!(
        o,
        ",\"start_timeout_ms\":{},\"stop_timeout_ms\":{},\"watchdog\":",
        opt(p.start_timeout_ms),
        opt(p.stop_timeout_ms)
    );
    match p.watchdog {
        None => o.push_str("null"),
        Some((ms, a)) => {
            let _ = write!(o, "{{\"interval_ms\":{ms},\"action\":\"{}\"}}", a.name());
        }
    }
    o.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(short_duration(42_000), "42s");
        assert_eq!(short_duration(725_000), "12m05s");
        assert_eq!(short_duration(5 * 3_600_000 + 180_000), "5h03m");
        assert_eq!(short_duration(3 * 86_400_000 + 4 * 3_600_000), "3d04h");
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_795_379_392_123), "2026-11-22T20:29:52.123Z");
        assert_eq!(fit("abcdef", 4), "abc~");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(
            fit_lib_func("lifecycle_demo:demo_main", 14),
            "lif~:demo_main"
        );
        assert_eq!(fit_lib_func("lib:a_very_long_function", 8), "~:a_ver~");
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn table_fits_80_columns() {
        let seg = Segment::create(3, 2).unwrap();
        seg.unlink();
        let mut w = BackgroundWorker::zeroed();
        set_fixed_str(&mut w.bgw_name, &"n".repeat(90));
        set_fixed_str(&mut w.bgw_type, &"t".repeat(90));
        set_fixed_str(&mut w.bgw_library_name, &format!("/x/{}", "l".repeat(80)));
        set_fixed_str(&mut w.bgw_function_name, &"f".repeat(90));
        seg.daemon_facts().init(facts::now_ms());
        seg.slot_facts(0).registered(&w, 1, 1);
        seg.slot_facts(0).started(4_194_304);
        seg.slot_facts(1).registered(&w, 1, 1);
        seg.slot_facts(1).exited(11, true, 0, false);
        seg.slot_facts(1).restart_at(facts::now_ms() + 86_000_000);
        let t = table(&Snapshot::read(&seg), 80);
        for l in t.lines() {
            assert!(
                l.chars().count() <= 80,
                "{} columns: {l}",
                l.chars().count()
            );
        }
        assert_eq!(t.lines().count(), 4, "{t}");
        assert!(t.contains("SEGV!"), "{t}");
    }
}
