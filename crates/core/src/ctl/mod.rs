//! bgworkerctl: see, launch and steer the workers of a running bgworkerd
//! from the shell.
//!
//! `bgworkerctl -D RUNDIR COMMAND [OPTIONS]`. The tool attaches to the
//! supervisor named by `RUNDIR/bgworkerd.pid` as any other backend does
//! (backend.rs): `launch` registers through the same path as
//! `RegisterDynamicBackgroundWorker`, with the same validation and
//! messages; `terminate` goes through the generation-checked path of
//! `TerminateBackgroundWorker`; `status` reads the facts the supervisor
//! publishes (shmem/facts.rs) without any lock. `stop` and `reload` signal
//! the supervisor as `pg_ctl` signals the postmaster, through a pidfd so
//! that a recycled pid is never hit.
//!
//! Exit status: `EXIT_OK`, `EXIT_REFUSED`, `EXIT_USAGE`,
//! `EXIT_NO_DAEMON`. Every error is one line on stderr.

pub mod status;
mod supervise;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::abi::*;
use crate::backend::{self, Connection, RegisterError};
use crate::pidfd::Pidfd;

/// Done.
pub(crate) const EXIT_OK: i32 = 0;
/// The operation was refused: no free slot, no such worker, an invalid
/// definition, unreadable facts.
pub(crate) const EXIT_REFUSED: i32 = 1;
/// The command line is wrong.
pub(crate) const EXIT_USAGE: i32 = 2;
/// No daemon to talk to on RUNDIR: no pid file, a stale one, or its shared
/// segment is missing or corrupt (the message says which).
pub(crate) const EXIT_NO_DAEMON: i32 = 3;

const USAGE: &str = "bgworkerctl sees, launches and steers the workers of a running bgworkerd.

Usage:
  bgworkerctl -D RUNDIR status [--json] [--watch[=SECONDS]]
  bgworkerctl -D RUNDIR launch --name NAME --library LIB --function FUNC
                [--type TYPE] [--arg INT] [--extra-hex HEX]
                [--restart SECONDS|never] [--start-time TIME] [--wait]
                [--policy FIELDS] [--wait-ready [--ready-timeout SECONDS]]
  bgworkerctl -D RUNDIR terminate (--pid PID | --slot SLOT[:GEN] | --name NAME) [--wait]
  bgworkerctl -D RUNDIR restart (--pid PID | --slot SLOT[:GEN] | --name NAME)
  bgworkerctl -D RUNDIR stop [--mode smart|fast|immediate] [--wait]
  bgworkerctl -D RUNDIR reload

  TIME is postmaster-start, consistent-state or recovery-finished (default).
  --restart defaults to never.
  \"bgworkerctl COMMAND --help\" (or -h) shows one command's options.

Exit status: 0 done, 1 refused (no free slot, no such worker, invalid
definition), 2 usage error, 3 no bgworkerd running on RUNDIR.
";

/// `bgworkerctl COMMAND --help`: the usage of one command.
fn command_usage(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "status" => {
            "Shows the workers of the bgworkerd running on RUNDIR: one row a worker
and a summary line.

Usage:
  bgworkerctl -D RUNDIR status [--json] [--watch[=SECONDS]]

Options:
  --json              one JSON object instead of the table
  --watch[=SECONDS]   redraw every SECONDS (default 2; 0.05 to 3600) in place
                      until Ctrl-C
  -h, --help          show this help and exit
"
        }
        "launch" => {
            "Registers a dynamic background worker, as RegisterDynamicBackgroundWorker
does, and prints its handle (slot=N generation=G).

Usage:
  bgworkerctl -D RUNDIR launch --name NAME --library LIB --function FUNC
                [--type TYPE] [--arg INT] [--extra-hex HEX]
                [--restart SECONDS|never] [--start-time TIME] [--wait]
                [--policy FIELDS] [--wait-ready [--ready-timeout SECONDS]]

Options:
  --name NAME              bgw_name
  --library LIB            bgw_library_name, looked up on dynamic_library_path
                           (postgres: a function of bgworkerd itself)
  --function FUNC          bgw_function_name, the worker's entry point
  --type TYPE              bgw_type (default: the name)
  --arg INT                bgw_main_arg
  --extra-hex HEX          bgw_extra, as hex digits (at most 128 bytes)
  --restart SECONDS|never  bgw_restart_time (default never)
  --start-time TIME        postmaster-start, consistent-state or
                           recovery-finished (default)
  --wait                   wait until the worker runs, and print its pid
  --policy FIELDS          its supervision policy, as worker_policy_by_type
                           entries give it: 'backoff_initial=1s,
                           give_up_restarts=3, start_timeout=10s, ...'
  --wait-ready             wait until the worker says it is ready
                           (bgw_notify_ready), and print its pid; exit 1 if
                           it exits or exceeds its start timeout first
  --ready-timeout SECONDS  give up waiting for ready after SECONDS (exit 1)
  -h, --help               show this help and exit
"
        }
        "restart" => {
            "Starts a failed worker again (one that passed its give-up limit), with its
restart history cleared, as bgw_relaunch does.

Usage:
  bgworkerctl -D RUNDIR restart (--pid PID | --slot SLOT[:GEN] | --name NAME)

Options:
  --slot SLOT[:GEN]  the worker in this slot (with GEN: only that generation)
  --name NAME        every failed worker with this name
  --pid PID          accepted for symmetry; a failed worker has no pid
  -h, --help         show this help and exit
"
        }
        "terminate" => {
            "Terminates workers, as TerminateBackgroundWorker does: SIGTERM if running,
never restarted.

Usage:
  bgworkerctl -D RUNDIR terminate (--pid PID | --slot SLOT[:GEN] | --name NAME) [--wait]

Options:
  --pid PID          the worker with this pid
  --slot SLOT[:GEN]  the worker in this slot; with GEN, only if the slot still
                     holds that generation (else: stale handle, exit 1)
  --name NAME        every worker with this name
  --wait             wait until each has stopped
  -h, --help         show this help and exit
"
        }
        "stop" => {
            "Shuts bgworkerd down, signalling it as pg_ctl stop signals the postmaster.

Usage:
  bgworkerctl -D RUNDIR stop [--mode smart|fast|immediate] [--wait]

Options:
  --mode MODE   smart (SIGTERM), fast (SIGINT, the default) or immediate
                (SIGQUIT)
  --wait        wait (up to 60 s) until bgworkerd has exited
  -h, --help    show this help and exit
"
        }
        "reload" => {
            "Makes bgworkerd re-read bgworker.conf and reopen log_file (SIGHUP), as
pg_ctl reload does for the postmaster.

Usage:
  bgworkerctl -D RUNDIR reload

Options:
  -h, --help    show this help and exit
"
        }
        _ => return None,
    })
}

/// Printed after every command's usage.
const COMMAND_USAGE_END: &str = "
-D RUNDIR may also follow the command. Exit status: 0 done, 1 refused,
2 usage error, 3 no bgworkerd running on RUNDIR.
";

fn is_help(a: &str) -> bool {
    a == "--help" || a == "-h" || a == "-?"
}

/// An error to report: its exit status and its one line.
#[derive(Clone, Debug)]
pub struct Failure(pub i32, pub String);

fn usage(msg: impl Into<String>) -> Failure {
    Failure(
        EXIT_USAGE,
        format!("{}; try \"bgworkerctl --help\"", msg.into()),
    )
}

fn refused(msg: impl Into<String>) -> Failure {
    Failure(EXIT_REFUSED, msg.into())
}

/// Command-line options after the command word, `--opt VALUE`,
/// `--opt=VALUE` or a bare `--flag`.
struct Opts {
    items: Vec<(String, Option<String>)>,
}

impl Opts {
    /// Parse `args`; `with_value` lists the options that take a value,
    /// `flags` those that do not, `optional` those whose value is
    /// optional (given only as `--opt=VALUE`).
    fn parse(
        args: &[String],
        with_value: &[&str],
        flags: &[&str],
        optional: &[&str],
    ) -> Result<Opts, Failure> {
        let mut items: Vec<(String, Option<String>)> = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if a.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (a.clone(), None),
            };
            if is_help(a) {
                // `COMMAND --help` wherever an option may stand.
                items.push((a.clone(), None));
                continue;
            }
            if items.iter().any(|(n, _)| *n == name) {
                return Err(usage(format!("option \"{name}\" given twice")));
            }
            if with_value.contains(&name.as_str()) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage(format!("option \"{name}\" requires a value")))?,
                };
                items.push((name, Some(v)));
            } else if flags.contains(&name.as_str()) && inline.is_none() {
                items.push((name, None));
            } else if optional.contains(&name.as_str()) {
                items.push((name, inline));
            } else if flags.contains(&name.as_str()) {
                return Err(usage(format!("option \"{name}\" takes no value")));
            } else {
                return Err(usage(format!("unrecognized argument \"{a}\"")));
            }
        }
        Ok(Opts { items })
    }

    fn has(&self, name: &str) -> bool {
        self.items.iter().any(|(n, _)| n == name)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Run bgworkerctl with `args` (without the program name); returns the
/// exit status. Output goes to stdout, errors to stderr.
pub fn main(args: Vec<String>) -> i32 {
    match run(args) {
        Ok(()) => EXIT_OK,
        Err(Failure(code, msg)) => {
            eprintln!("bgworkerctl: {msg}");
            code
        }
    }
}

fn run(args: Vec<String>) -> Result<(), Failure> {
    let mut rundir: Option<PathBuf> = None;
    let mut rest: Vec<String> = Vec::new();
    let mut it = args.into_iter();
    // -D may come before or after the command.
    while let Some(a) = it.next() {
        if a == "-D" {
            let v = it
                .next()
                .ok_or_else(|| usage("option \"-D\" requires a value"))?;
            rundir = Some(PathBuf::from(v));
        } else if let Some(v) = a.strip_prefix("-D") {
            rundir = Some(PathBuf::from(v));
        } else if !rest.is_empty() {
            rest.push(a);
        } else if is_help(&a) {
            print!("{USAGE}");
            return Ok(());
        } else if a == "--version" || a == "-V" {
            println!("bgworkerctl (libbgworker) {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        } else if a.starts_with('-') {
            return Err(usage(format!("unrecognized argument \"{a}\"")));
        } else {
            rest.push(a);
        }
    }
    let Some(cmd) = rest.first().cloned() else {
        return Err(usage("no command given"));
    };
    let args = &rest[1..];
    let opts = match cmd.as_str() {
        "status" => Opts::parse(args, &[], &["--json"], &["--watch"])?,
        "launch" => Opts::parse(
            args,
            &[
                "--name",
                "--library",
                "--function",
                "--type",
                "--arg",
                "--extra-hex",
                "--restart",
                "--start-time",
                "--policy",
                "--ready-timeout",
            ],
            &["--wait", "--wait-ready"],
            &[],
        )?,
        "restart" => Opts::parse(args, &["--pid", "--slot", "--name"], &[], &[])?,
        "terminate" => Opts::parse(args, &["--pid", "--slot", "--name"], &["--wait"], &[])?,
        "stop" => Opts::parse(args, &["--mode"], &["--wait"], &[])?,
        "reload" => Opts::parse(args, &[], &[], &[])?,
        _ => return Err(usage(format!("unknown command \"{cmd}\""))),
    };
    if opts.items.iter().any(|(n, _)| is_help(n)) {
        let text = command_usage(&cmd).expect("commands checked above");
        print!("{text}{COMMAND_USAGE_END}");
        return Ok(());
    }
    // Check the options fully before touching the daemon.
    let launch_def = if cmd == "launch" {
        Some(worker_from(&opts)?)
    } else {
        None
    };
    let launch_sv = if cmd == "launch" {
        Some(supervise::launch_options(&opts)?)
    } else {
        None
    };
    let watch = if cmd == "status" && opts.has("--watch") {
        Some(match opts.get("--watch") {
            None => Duration::from_secs(2),
            Some(v) => parse_interval(v)?,
        })
    } else {
        None
    };
    if cmd == "status" && watch.is_some() && opts.has("--json") {
        return Err(usage("--watch and --json cannot be combined"));
    }
    let target = if cmd == "terminate" || cmd == "restart" {
        Some(target_from(&opts, &cmd)?)
    } else {
        None
    };
    let mode = match opts.get("--mode").unwrap_or("fast") {
        "smart" | "s" => ("smart", libc::SIGTERM),
        "fast" | "f" => ("fast", libc::SIGINT),
        "immediate" | "i" => ("immediate", libc::SIGQUIT),
        m => return Err(usage(format!("invalid shutdown mode \"{m}\""))),
    };
    let Some(rundir) = rundir else {
        return Err(usage("no run directory specified (-D RUNDIR)"));
    };
    // stop and reload need only the process: they still work when the
    // segment is corrupt (the pid file and its lock name the daemon).
    if cmd == "stop" || cmd == "reload" {
        let owned;
        let (pid, pidfd) = match attach(&rundir) {
            Ok(conn) => (
                conn.supervisor_pid,
                conn.pidfd
                    .as_ref()
                    .ok_or_else(|| refused("no pidfd of bgworkerd"))?,
            ),
            Err(attach_failed) => {
                owned = pid_file_holder(&rundir).map_err(|_| attach_failed.clone())?;
                eprintln!(
                    "bgworkerctl: warning: {}; using the pid file instead",
                    attach_failed.1
                );
                (owned.0, &owned.1)
            }
        };
        return if cmd == "stop" {
            stop(pid, pidfd, mode, opts.has("--wait"))
        } else {
            signal_daemon(pid, pidfd, libc::SIGHUP)?;
            println!("bgworkerd (PID {pid}): configuration reload requested");
            Ok(())
        };
    }
    let conn = attach(&rundir)?;
    match cmd.as_str() {
        "status" => match watch {
            Some(every) => watch_status(conn, every, &rundir),
            None => show_status(conn, opts.has("--json")),
        },
        "launch" => launch(
            conn,
            launch_def.expect("parsed above"),
            opts.has("--wait"),
            launch_sv.expect("parsed above"),
        ),
        "restart" => supervise::restart(conn, target.expect("parsed above")),
        "terminate" => terminate(conn, target.expect("parsed above"), opts.has("--wait")),
        _ => unreachable!("commands checked above"),
    }
}

fn parse_interval(v: &str) -> Result<Duration, Failure> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.05..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(usage(format!(
            "invalid watch interval \"{v}\" (seconds, 0.05 to 3600)"
        ))),
    }
}

fn attach(rundir: &Path) -> Result<&'static Connection, Failure> {
    // Fail early, with the stale pid file named, before mapping anything.
    // An existing directory is always taken as a run directory by attach.
    // A permission problem is a refusal (1): a daemon may well be running.
    let failure = |m: String| {
        let code = if m.starts_with("permission denied") {
            EXIT_REFUSED
        } else {
            EXIT_NO_DAEMON
        };
        Failure(code, m)
    };
    backend::read_pid_file(rundir).map_err(failure)?;
    let c = std::ffi::CString::new(rundir.as_os_str().as_encoded_bytes())
        .map_err(|_| usage("run directory contains a NUL byte"))?;
    backend::attach(&c).map_err(failure)?;
    backend::current().ok_or_else(|| Failure(EXIT_NO_DAEMON, "not attached".into()))
}

// ---------------------------------------------------------------- status

fn show_status(conn: &Connection, json: bool) -> Result<(), Failure> {
    let snap = status::Snapshot::read(&conn.seg);
    if json {
        print!("{}", status::json(&snap));
    } else {
        print!("{}", status::table(&snap, terminal_width().unwrap_or(80)));
    }
    let problems = snap.problems();
    if let Some(first) = problems.first() {
        return Err(refused(if problems.len() == 1 {
            first.clone()
        } else {
            format!("{first} (and {} more problems)", problems.len() - 1)
        }));
    }
    Ok(())
}

fn terminal_width() -> Option<usize> {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it or fails.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: ioctl on stdout with a valid winsize pointer.
    let r = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// Set by the SIGINT/SIGTERM handler of `--watch`.
static STOP_WATCHING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_sig: libc::c_int) {
    // Async-signal-safe: one atomic store.
    STOP_WATCHING.store(true, Ordering::SeqCst);
}

fn write_out(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Redraw the status every `every` until SIGINT (Ctrl-C) or SIGTERM, then
/// leave the terminal as it was and succeed. On a terminal the table is
/// drawn on the alternate screen, in place; otherwise frames follow each
/// other, separated by a blank line.
fn watch_status(conn: &Connection, every: Duration, rundir: &Path) -> Result<(), Failure> {
    // SAFETY: installing a handler that only stores an atomic; no
    // SA_RESTART, so the sleep below is cut short by the signal.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
    // SAFETY: isatty has no preconditions.
    let tty = unsafe { libc::isatty(1) } == 1;
    if tty {
        // Alternate screen, cursor hidden.
        write_out("\x1b[?1049h\x1b[?25l");
    }
    let mut gone = false;
    while !STOP_WATCHING.load(Ordering::SeqCst) {
        let snap = status::Snapshot::read(&conn.seg);
        let width = terminal_width().unwrap_or(80);
        // Title: what is shown, and when (cut to the terminal's width).
        let clock = &status::iso_time(snap.now_ms)[11..19];
        let what = format!(
            "every {:.1}s: bgworkerctl -D {} status",
            every.as_secs_f64(),
            rundir.display()
        );
        let room = width.saturating_sub(clock.len() + 1);
        let what = if what.chars().count() > room {
            let mut t: String = what.chars().take(room.saturating_sub(1)).collect();
            t.push('~');
            t
        } else {
            what
        };
        let mut frame = format!("{what:<room$} {clock}\n\n");
        frame.push_str(&status::table(&snap, width));
        for p in snap.problems() {
            frame.push_str(&format!("problem: {p}\n"));
        }
        if !conn.supervisor_alive() {
            frame.push_str("bgworkerd has exited\n");
            gone = true;
        }
        if tty {
            let mut screen = String::from("\x1b[H");
            for line in frame.lines() {
                screen.push_str(line);
                screen.push_str("\x1b[K\n");
            }
            screen.push_str("\x1b[J");
            write_out(&screen);
        } else {
            write_out(&format!("{frame}\n"));
        }
        if gone {
            break;
        }
        let deadline = Instant::now() + every;
        while !STOP_WATCHING.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // poll without descriptors: a sleep that SIGINT interrupts.
            // SAFETY: no descriptors are passed.
            unsafe { libc::poll(std::ptr::null_mut(), 0, left.as_millis().max(1) as i32) };
        }
    }
    if tty {
        write_out("\x1b[?25h\x1b[?1049l");
    }
    if gone {
        return Err(Failure(EXIT_NO_DAEMON, "bgworkerd has exited".into()));
    }
    Ok(())
}

// ---------------------------------------------------------------- launch

fn copy_name(opts: &Opts, opt: &str, buf: &mut [std::os::raw::c_char]) {
    if let Some(v) = opts.get(opt) {
        // Longer values fill the buffer without a terminator, so that the
        // library's own check reports them as PostgreSQL-style errors.
        for (d, s) in buf.iter_mut().zip(v.bytes()) {
            *d = s as std::os::raw::c_char;
        }
    }
}

fn worker_from(opts: &Opts) -> Result<BackgroundWorker, Failure> {
    for o in ["--name", "--library", "--function"] {
        if !opts.has(o) {
            return Err(usage(format!("launch needs {o}")));
        }
    }
    let mut w = BackgroundWorker::zeroed();
    copy_name(opts, "--name", &mut w.bgw_name);
    copy_name(opts, "--type", &mut w.bgw_type);
    copy_name(opts, "--library", &mut w.bgw_library_name);
    copy_name(opts, "--function", &mut w.bgw_function_name);
    w.bgw_flags = BGWORKER_SHMEM_ACCESS;
    w.bgw_start_time = match opts.get("--start-time").unwrap_or("recovery-finished") {
        "postmaster-start" | "PostmasterStart" => BgWorkerStart_PostmasterStart,
        "consistent-state" | "ConsistentState" => BgWorkerStart_ConsistentState,
        "recovery-finished" | "RecoveryFinished" => BgWorkerStart_RecoveryFinished,
        t => return Err(usage(format!("invalid start time \"{t}\""))),
    };
    w.bgw_restart_time = match opts.get("--restart").unwrap_or("never") {
        "never" => BGW_NEVER_RESTART,
        v => v.parse::<i32>().map_err(|_| {
            usage(format!(
                "invalid restart interval \"{v}\" (seconds or \"never\")"
            ))
        })?,
    };
    if let Some(a) = opts.get("--arg") {
        let v: i64 = a
            .parse()
            .map_err(|_| usage(format!("invalid main argument \"{a}\" (an integer)")))?;
        w.bgw_main_arg = v as Datum;
    }
    if let Some(h) = opts.get("--extra-hex") {
        let bytes = parse_hex(h)?;
        if bytes.len() > BGW_EXTRALEN {
            return Err(usage(format!(
                "--extra-hex holds {} bytes, at most {BGW_EXTRALEN} fit",
                bytes.len()
            )));
        }
        for (d, s) in w.bgw_extra.iter_mut().zip(bytes) {
            *d = s as std::os::raw::c_char;
        }
    }
    Ok(w)
}

fn parse_hex(h: &str) -> Result<Vec<u8>, Failure> {
    let h = h.strip_prefix("0x").unwrap_or(h);
    if !h.len().is_multiple_of(2) {
        return Err(usage("--extra-hex needs an even number of hex digits"));
    }
    (0..h.len())
        .step_by(2)
        .map(|i| {
            h.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| usage(format!("invalid hex digits in --extra-hex \"{h}\"")))
        })
        .collect()
}

fn launch(
    conn: &Connection,
    mut w: BackgroundWorker,
    wait: bool,
    sv: supervise::LaunchOptions,
) -> Result<(), Failure> {
    // The definition takes the daemon's major's layout, so that a 17 or 18
    // daemon's workers may name a library as long as their modules can.
    if let Ok(d) = conn.seg.daemon_facts().read() {
        if crate::identity::serves(d.major) {
            w.bgw_major = d.major;
        }
    }
    let (slot, generation) = match conn.register_with_policy(&w, sv.policy.as_ref()) {
        Ok(h) => h,
        Err(RegisterError::Invalid(msg) | RegisterError::LockTimeout(msg)) => {
            return Err(refused(msg))
        }
        Err(RegisterError::NoCapacity) => {
            let parallel = w.flags().contains(WorkerFlags::CLASS_PARALLEL);
            return Err(refused(if parallel {
                "no free background worker slot (max_parallel_workers reached)".to_string()
            } else {
                format!(
                    "no free background worker slot: all {} are in use (max_worker_processes)",
                    conn.seg.total_slots()
                )
            }));
        }
        Err(RegisterError::NotConnected) => {
            return Err(Failure(
                EXIT_NO_DAEMON,
                "not attached to a bgworkerd".into(),
            ))
        }
    };
    if let Some(timeout) = sv.wait_ready {
        return supervise::wait_ready(conn, slot, generation, timeout);
    }
    if !wait {
        println!("slot={slot} generation={generation}");
        return Ok(());
    }
    let (st, pid) = conn.wait_until(slot, generation, |st| st != BGWH_NOT_YET_STARTED);
    match st {
        BGWH_STARTED => {
            println!("slot={slot} generation={generation} pid={pid}");
            Ok(())
        }
        BGWH_POSTMASTER_DIED => Err(Failure(
            EXIT_NO_DAEMON,
            format!("bgworkerd exited before the worker in slot {slot} started"),
        )),
        _ => match conn.seg.slot_facts(slot).read() {
            // It ran, briefly: report its pid and how it ended.
            Ok(f) if f.generation == generation && f.starts > 0 && f.pid > 0 => {
                println!("slot={slot} generation={generation} pid={}", f.pid);
                println!("{}", status::exit_sentence(&f));
                Ok(())
            }
            _ => Err(refused(format!(
                "the worker in slot {slot} (generation {generation}) stopped before it started"
            ))),
        },
    }
}

// ------------------------------------------------------------- terminate

pub(crate) enum Target {
    Pid(i32),
    Slot(usize, Option<u64>),
    Name(String),
}

fn target_from(opts: &Opts, cmd: &str) -> Result<Target, Failure> {
    let given: Vec<&str> = ["--pid", "--slot", "--name"]
        .into_iter()
        .filter(|o| opts.has(o))
        .collect();
    if given.len() != 1 {
        return Err(usage(format!(
            "{cmd} needs exactly one of --pid, --slot, --name"
        )));
    }
    let v = opts.get(given[0]).unwrap_or("");
    Ok(match given[0] {
        "--pid" => Target::Pid(
            v.parse()
                .ok()
                .filter(|p: &i32| *p > 0)
                .ok_or_else(|| usage(format!("invalid pid \"{v}\"")))?,
        ),
        "--slot" => {
            let (s, g) = match v.split_once(':') {
                Some((s, g)) => (s, Some(g)),
                None => (v, None),
            };
            let slot = s
                .parse()
                .map_err(|_| usage(format!("invalid slot \"{v}\" (SLOT or SLOT:GENERATION)")))?;
            let generation = match g {
                Some(g) => Some(g.parse().map_err(|_| {
                    usage(format!("invalid slot \"{v}\" (SLOT or SLOT:GENERATION)"))
                })?),
                None => None,
            };
            Target::Slot(slot, generation)
        }
        _ => Target::Name(v.to_string()),
    })
}

/// The current tenant of slot `i` if the slot is in use: its generation,
/// read so that the definition and pid belong to it (same generation
/// before and after).
pub(crate) fn tenant(conn: &Connection, i: usize) -> Option<(u64, BackgroundWorker, i32)> {
    let s = conn.seg.slot(i);
    let g = s.generation.load(Ordering::Acquire);
    if s.in_use.load(Ordering::Acquire) == 0 {
        return None;
    }
    let def = s.read_worker();
    let pid = s.pid.load(Ordering::Acquire);
    std::sync::atomic::fence(Ordering::Acquire);
    (s.in_use.load(Ordering::Acquire) != 0 && s.generation.load(Ordering::Acquire) == g)
        .then_some((g, def, pid))
}

/// The (slot, generation) handles `target` names, each read with
/// [`tenant`]; a refusal saying why when it names none. Shared by
/// `terminate` and `restart`.
pub(crate) fn resolve(conn: &Connection, target: &Target) -> Result<Vec<(usize, u64)>, Failure> {
    let total = conn.seg.total_slots();
    let handles: Vec<(usize, u64)> = match target {
        Target::Slot(i, g) => {
            if *i >= total {
                return Err(refused(format!(
                    "no such worker: slot {i} does not exist (there are {total})"
                )));
            }
            match (tenant(conn, *i), g) {
                (Some((cur, _, _)), Some(g)) if cur != *g => {
                    return Err(refused(format!(
                        "no such worker: slot {i} holds generation {cur}, not {g} (stale handle)"
                    )))
                }
                (Some((cur, _, _)), _) => vec![(*i, cur)],
                (None, _) => return Err(refused(format!("no such worker: slot {i} is free"))),
            }
        }
        Target::Pid(p) => (0..total)
            .filter_map(|i| tenant(conn, i).filter(|t| t.2 == *p).map(|t| (i, t.0)))
            .collect(),
        Target::Name(n) => (0..total)
            .filter_map(|i| {
                tenant(conn, i)
                    .filter(|t| t.1.sanitized().name() == *n)
                    .map(|t| (i, t.0))
            })
            .collect(),
    };
    if handles.is_empty() {
        return Err(refused(match target {
            Target::Pid(p) => format!("no such worker: no background worker has PID {p}"),
            Target::Name(n) => format!("no such worker: no background worker is named \"{n}\""),
            Target::Slot(..) => unreachable!("handled above"),
        }));
    }
    Ok(handles)
}

fn terminate(conn: &Connection, target: Target, wait: bool) -> Result<(), Failure> {
    let handles = resolve(conn, &target)?;
    let mut hit = Vec::new();
    for (i, g) in handles {
        // The same generation-checked path as TerminateBackgroundWorker.
        if conn.terminate(i, g).map_err(refused)? {
            println!("terminating slot={i} generation={g}");
            hit.push((i, g));
        }
    }
    if hit.is_empty() {
        return Err(refused("no such worker: its slot was reused meanwhile"));
    }
    if wait {
        for (i, g) in hit {
            let (st, _) = conn.wait_until(i, g, |st| st == BGWH_STOPPED);
            if st == BGWH_POSTMASTER_DIED {
                return Err(Failure(
                    EXIT_NO_DAEMON,
                    "bgworkerd exited while waiting".into(),
                ));
            }
            println!("stopped slot={i} generation={g}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------- stop, reload

/// Send `sig` to the supervisor through its pidfd.
fn signal_daemon(pid: i32, pidfd: &Pidfd, sig: i32) -> Result<(), Failure> {
    pidfd.send_signal(sig).map_err(|e| {
        Failure(
            EXIT_NO_DAEMON,
            format!(
                "could not signal bgworkerd (PID {pid}): {}",
                crate::io_text(&e)
            ),
        )
    })
}

/// The process that holds the pid file's lock of `rundir`, when it is the
/// pid the file names: a running bgworkerd of that directory, found
/// without its segment (/proc/locks lists each flock holder by device and
/// inode). Errors say why not.
fn pid_file_holder(rundir: &Path) -> Result<(i32, Pidfd), String> {
    use std::os::unix::fs::MetadataExt;
    let (pid, _segment) = backend::read_pid_file(rundir)?;
    let path = rundir.join("bgworkerd.pid");
    let meta = std::fs::metadata(&path).map_err(|e| crate::io_text(&e))?;
    let dev = meta.dev();
    let file_id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").map_err(|e| crate::io_text(&e))?;
    let holder = locks
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 5 && f[1] == "FLOCK" && f[5] == file_id)
        .and_then(|f| f[4].parse::<i32>().ok());
    match holder {
        Some(h) if h == pid => Pidfd::open(pid)
            .map(|p| (pid, p))
            .map_err(|e| crate::io_text(&e)),
        Some(h) => Err(format!(
            "the pid file names {pid} but process {h} holds its lock"
        )),
        None => Err("no process holds the pid file's lock".into()),
    }
}

/// How long `stop --wait` waits (pg_ctl's default).
const STOP_WAIT: Duration = Duration::from_secs(60);

fn stop(pid: i32, pidfd: &Pidfd, (word, sig): (&str, i32), wait: bool) -> Result<(), Failure> {
    signal_daemon(pid, pidfd, sig)?;
    println!("bgworkerd (PID {pid}): {word} shutdown requested");
    if !wait {
        return Ok(());
    }
    // The pidfd becomes readable when the process exits.
    let deadline = Instant::now() + STOP_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(refused(format!(
                "bgworkerd (PID {pid}) did not stop within {} s",
                STOP_WAIT.as_secs()
            )));
        }
        let mut p = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let ms =
            PollTimeout::try_from(left.as_millis().min(1000) as i32).unwrap_or(PollTimeout::ZERO);
        if poll(&mut p, ms).is_ok_and(|n| n > 0) {
            println!("bgworkerd (PID {pid}) stopped");
            return Ok(());
        }
    }
}
