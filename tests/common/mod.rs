//! Shared harness for the integration tests: builds the C programs and
//! modules under `c-tests/`, runs `bgworkerd` and host programs, watches their
//! output, and inspects processes through `/proc`.
//!
//! [`pg`] runs a real PostgreSQL 15 server, to compare a module's behaviour
//! under bgworkerd with PostgreSQL's (tests/compat.rs).
//!
//! Every integration test file includes it with `mod common;` and
//! `use common::*;`. Items a given test file does not use are fine (the module
//! allows dead code).
//!
//! # Building C code
//!
//! * [`pgxs_module`]`("name.c")` compiles `c-tests/name.c` into a loadable
//!   module the way PostgreSQL extensions are built: `pg_config --cppflags`,
//!   `--cflags`, `--cflags_sl`, `-I$(pg_config --includedir-server)`,
//!   `-shared`, and no `-lbgworker` (symbols resolve against the supervisor at
//!   `dlopen` time). Panics with "PostgreSQL 15 server headers missing:
//!   apt-get install -y postgresql-server-dev-15" if `pg_config` or
//!   `postmaster/bgworker.h` is absent. Returns the absolute `.so` path.
//! * [`host_program`]`("name.c")` compiles `c-tests/name.c` into an executable
//!   against `include/bgworker.h`, linked with `-lbgworker` and an rpath to
//!   the build's library directory (plus target/c-tests/lib, where a symlink
//!   named after the library's soname is kept). Returns the absolute
//!   executable path.
//! * [`host_program_with`]`("name.c", &["-rdynamic"])` is the same with
//!   extra compiler/linker arguments (cached under a name that hashes them).
//! * The argument is a file name inside `c-tests/` or an absolute path.
//!   Outputs are cached in `target/c-tests/` by source name and rebuilt when
//!   the source (or any `c-tests/*.h`, this harness, or `include/bgworker.h`
//!   for hosts) is newer. Compile errors panic with the compiler's output.
//!
//! # Running bgworkerd: [`Daemon`]
//!
//! ```ignore
//! let _w = watchdog(60, "my_test");
//! let m = pgxs_module("lc_static.c");
//! let d = Daemon::builder("my_test")
//!     .preload(&[&m])                      // shared_preload_libraries
//!     .set("log_min_messages", "debug1")  // one `-c name=value`
//!     .env("LC_MODE", "exit0")            // environment of daemon + workers
//!     .start();                            // waits for "bgworkerd ready"
//! let line = d.wait_log("marker: alive", secs(10));
//! ```
//!
//! * `Daemon::start(&[("name", "value"), ...])` is the short form.
//! * Builder options: `set(k, v)`, `settings(&[(k, v), ...])`,
//!   `preload(&[paths])`, `env(k, v)`,
//!   `conf_file(text)` (written to `RUNDIR/bgworker.conf` before start),
//!   `arg(raw)` (extra argv), `rundir(path)` (use an existing directory that
//!   the Daemon will not delete, e.g. a second daemon on the same RUNDIR),
//!   `ready_timeout(d)`. `start()` waits for the ready line and panics (with
//!   the log) if the daemon exits first; `spawn()` returns at once, for
//!   daemons expected to fail at startup.
//! * Log: `wait_log(needle, timeout) -> String` (first line containing
//!   `needle`; panics with the whole log on timeout or if the stream closed
//!   without it), `wait_log_all(&[needles], timeout)` (first line containing
//!   all of them), `wait_log_from(cursor, needle, timeout) -> (index, line)`
//!   (first match at index >= cursor; `log_len()` gives a cursor),
//!   `wait_log_count(needle, n, timeout) -> Vec<String>` (until `n` lines
//!   match), `count_log(needle)`, `log_lines()`, `log_text()`,
//!   `wait_log_closed(timeout)`.
//! * Process: `pid()`, `signal(sig)`, `try_exit()`, `wait_exit(timeout) ->
//!   ExitStatus` (panics with the log on timeout), `rundir()`, `pid_file()`,
//!   `segment_name()` (line 2 of the pid file, read at ready time),
//!   `segment_path()` (`/dev/shm/...`), `children()` (live child pids).
//! * Drop: SIGKILL to the daemon's process group (`-pid`), reap, remove the
//!   rundir (if the Daemon created it) and any leftover shared segment.
//!   Nothing is ever killed by name.
//! * The daemon's stderr (which carries the workers' stderr too) is collected
//!   line by line and echoed to the test's stderr as `[bgworkerd PID] line`.
//!
//! # Host programs: [`Proc`]
//!
//! `Proc::spawn(exe, &args, &[("ENV","v")], "label")` runs a program in its
//! own process group with stdout and stderr merged into one line log
//! (echoed as `[label PID] line`; the two pipes are read independently, so
//! their relative order is not preserved). Same log API as Daemon, named
//! `wait_line`, `wait_line_all`, `wait_line_from`, `wait_line_count`,
//! `count_lines`, `lines`, `text`, `len`; plus `pid()`, `signal()`, `try_exit()`, `wait_exit(timeout)`.
//! `run_host(exe, &args, &env, timeout) -> (ExitStatus, String)` runs one to
//! completion. Drop kills its process group.
//!
//! # Watchdog
//!
//! `let _w = watchdog(seconds, "name");` — if the guard is still alive after
//! `seconds`, prints "watchdog: name timed out" and the last lines of every
//! live Daemon and Proc of this test process (straight to fd 2, since
//! captured output is lost on abort), SIGKILLs their process groups, and
//! aborts the process, so a hang fails instead of stalling the suite. Use it in every test that starts a
//! daemon, forks or signals. [`DEFAULT_WATCHDOG`] is 60 s.
//!
//! # /proc helpers
//!
//! `pid_alive(pid)` (exists and is not a zombie), `ppid(pid)`,
//! `proc_status(pid)`, `status_field(pid, "SigBlk")`, `sigmask(pid, field)`
//! (parsed hex), `sig_bit(sig)`, `children_of(pid)`, `descendants_of(pid)`,
//! `wait_until(timeout, || cond) -> bool`, `wait_pids_gone(&pids, timeout)
//! -> Vec<still alive>`, `field(line, "pid") -> Option<String>` and
//! `field_i64(line, key)` (parse `key=value` tokens out of marker lines),
//! `blocked_in_futex(pid)` (the main thread sleeps in futex(2), e.g. inside
//! a Wait* call), `log_timestamp_ms(line)` (epoch milliseconds of a log line's
//! "YYYY-MM-DD HH:MM:SS.mmm UTC" prefix), `secs(n)`, `millis(n)`.
//!
//! # Helpers shared by the test files
//!
//! `Scratch::new(name)` (a directory under target/tmp removed on drop),
//! `plain_daemon(name, &settings)` (no preload libraries),
//! `start_needle(name)` ("marker: start name=NAME "), `wait_ready(d, name,
//! timeout)` and `wait_ready_from(d, name, cursor, timeout)` (the pid of a
//! worker's "marker: ready name=NAME" line), `assert_no_crash_cycle(d)`.
//!
//! # bgworkerctl and terminals
//!
//! `run_ctl(rundir, &["status", "--json"]) -> CtlRun { code, stdout,
//! stderr }` runs `bgworkerctl -D rundir ...` to completion (its own
//! process group, known to the watchdog, SIGKILLed by pid after 30 s);
//! `run_ctl_raw(&args)` passes the arguments as they are;
//! `bgworkerctl_path()`. `Tmux::start(dir, cols, rows, "shell command")`
//! runs a command in a detached session of a private tmux server (socket
//! in `dir`), with `screen()` (capture-pane), `wait_screen(what, timeout,
//! |s| ...)`, `send_keys(&["C-c"])` and `cmd(&[...])`; dropping it kills
//! that server (by its socket, then by its pid). `Tmux::available()`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

mod majors;
pub mod pg;

#[allow(unused_imports)]
pub(crate) use majors::per_major;
#[allow(unused_imports)]
pub use majors::{dp_lines, dsa_lines, module_matches_postgresql};

#[allow(unused_imports)]
pub use libc::{SIGABRT, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGSEGV, SIGTERM, SIGUSR1, SIGUSR2};

/// Default watchdog period for one test, in seconds.
pub const DEFAULT_WATCHDOG: u64 = 60;

pub const PG_HEADERS_MISSING: &str =
    "PostgreSQL 15 server headers missing: apt-get install -y postgresql-server-dev-15";

const PG_CONFIG: &str = "/usr/lib/postgresql/15/bin/pg_config";

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/// The crate root (where Cargo.toml lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Directory holding the built `bgworkerd` and `libbgworker.so` for the
/// profile these tests were built with (target/release under
/// `cargo test --release`).
pub fn build_dir() -> PathBuf {
    if let Some(exe) = option_env!("CARGO_BIN_EXE_bgworkerd") {
        if let Some(dir) = Path::new(exe).parent() {
            return dir.to_path_buf();
        }
    }
    repo_root().join("target").join("release")
}

fn target_dir() -> PathBuf {
    // build_dir() is target/<profile>.
    build_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The names `file` (a shared object or executable) defines in its
/// dynamic symbol table, without version suffixes.
pub fn defined_dynamic_symbols(file: &Path) -> std::collections::BTreeSet<String> {
    let out = Command::new("nm")
        .arg("-D")
        .arg("--defined-only")
        .arg(file)
        .output()
        .expect("run nm");
    assert!(out.status.success(), "nm -D {}", file.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(2)
                .map(|s| s.split('@').next().unwrap_or(s).to_string())
        })
        .collect()
}

/// The pid a run directory's `bgworkerd.pid` names (first line); panics
/// when there is none.
pub fn pid_in_rundir(rundir: &Path) -> i32 {
    let text = fs::read_to_string(rundir.join("bgworkerd.pid")).expect("read bgworkerd.pid");
    text.lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in bgworkerd.pid: {text:?}"))
}

/// Absolute path of the bgworkerd binary; panics if it was not built.
pub fn bgworkerd_path() -> PathBuf {
    let p = build_dir().join("bgworkerd");
    if !p.exists() {
        panic!(
            "{} not found: run `cargo build --release` first (the Makefile does)",
            p.display()
        );
    }
    p
}

/// Absolute path of libbgworker.so; panics if it was not built.
pub fn libbgworker_path() -> PathBuf {
    let p = build_dir().join("libbgworker.so");
    if !p.exists() {
        panic!(
            "{} not found: run `cargo build --release` first (the Makefile does)",
            p.display()
        );
    }
    p
}

/// Absolute path of libbgworker_pg.so (the library with the PostgreSQL
/// runtime); panics if it was not built.
pub fn libbgworker_pg_path() -> PathBuf {
    let p = build_dir().join("libbgworker_pg.so");
    if !p.exists() {
        panic!(
            "{} not found: run `cargo build --release` first (the Makefile does)",
            p.display()
        );
    }
    p
}

/// Directory of C sources.
pub fn c_tests_dir() -> PathBuf {
    repo_root().join("c-tests")
}

fn c_cache_dir() -> PathBuf {
    let mut d = target_dir().join("c-tests");
    let profile = build_dir()
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if profile != "release" {
        d = d.join(profile);
    }
    // Builds with extra flags (make check-asan) are kept apart.
    let extra = extra_cflags();
    if !extra.is_empty() {
        let mut hash: u32 = 0x811c_9dc5;
        for b in extra.join(" ").bytes() {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        d = d.join(format!("cflags-{hash:08x}"));
    }
    fs::create_dir_all(&d).expect("create target/c-tests");
    d
}

/// A fresh, empty directory under the system's temporary directory, for
/// processes the tests run as another user (nobody, postgres): they can
/// reach it wherever the checkout is (a home directory they cannot enter,
/// say). The caller removes it.
pub fn shared_scratch_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    // Directly in the temporary directory: a common parent would be left
    // behind when the last test is done.
    let dir = std::env::temp_dir().join(format!(
        "bgw-tests.{name}.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create a shared scratch directory");
    dir
}

/// A fresh, empty directory under target/tmp/ named after `name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = target_dir().join("tmp");
    fs::create_dir_all(&base).expect("create target/tmp");
    let n = N.fetch_add(1, Ordering::Relaxed);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = base.join(format!("{}.{}.{}", safe, std::process::id(), n));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create fresh dir");
    dir
}

// ---------------------------------------------------------------------------
// Compiling C
// ---------------------------------------------------------------------------

fn resolve_source(src: &str) -> PathBuf {
    let p = Path::new(src);
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        c_tests_dir().join(p)
    };
    if !p.exists() {
        panic!("C source {} does not exist", p.display());
    }
    p
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// True when `out` is missing or older than any of `inputs`.
fn stale(out: &Path, inputs: &[PathBuf]) -> bool {
    let Some(t) = mtime(out) else { return true };
    inputs.iter().any(|i| mtime(i).is_some_and(|ti| ti > t))
}

/// Inputs every C build depends on besides its source: the c-tests/*.h
/// headers and this harness (which holds the compiler flags).
fn local_headers() -> Vec<PathBuf> {
    let mut v = vec![repo_root().join("tests").join("common").join("mod.rs")];
    if let Ok(rd) = fs::read_dir(c_tests_dir()) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "h") {
                v.push(p);
            }
        }
    }
    v
}

/// Extra flags for every C build of the tests, from BGW_TEST_CFLAGS (e.g.
/// `-fsanitize=address,undefined` under make check-asan).
pub fn extra_cflags() -> Vec<String> {
    std::env::var("BGW_TEST_CFLAGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The C compiler as the `cc` crate configures it for x86-64 Linux, -O2,
/// warnings on, plus [`extra_cflags`].
pub fn cc_command(out_dir: &Path) -> Command {
    let triple = "x86_64-unknown-linux-gnu";
    let compiler = cc::Build::new()
        .target(triple)
        .host(triple)
        .opt_level(2)
        .out_dir(out_dir)
        .cargo_metadata(false)
        .warnings(true)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args(extra_cflags());
    cmd
}

fn build_lock() -> &'static Mutex<()> {
    static L: OnceLock<Mutex<()>> = OnceLock::new();
    L.get_or_init(|| Mutex::new(()))
}

/// Run a compiler command producing `out` through a temporary name and an
/// atomic rename, so concurrent test binaries never see a half-written file.
fn compile(mut cmd: Command, tmp_out: &Path, out: &Path, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler for {what}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let _ = fs::remove_file(tmp_out);
        panic!(
            "compiling {what} failed ({:?}):\n{:?}\n{}",
            output.status, cmd, stderr
        );
    }
    if !stderr.trim().is_empty() {
        eprintln!("[cc {what}] {stderr}");
    }
    fs::rename(tmp_out, out).expect("rename compiled output");
}

fn pg_config(arg: &str) -> String {
    let out = Command::new(PG_CONFIG)
        .arg(arg)
        .output()
        .unwrap_or_else(|_| panic!("{PG_HEADERS_MISSING}"));
    if !out.status.success() {
        panic!("{PG_HEADERS_MISSING}");
    }
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct PgFlags {
    flags: Vec<String>,
}

fn pg_flags() -> &'static PgFlags {
    static F: OnceLock<PgFlags> = OnceLock::new();
    F.get_or_init(|| {
        if !Path::new(PG_CONFIG).exists() {
            panic!("{PG_HEADERS_MISSING}");
        }
        let server = pg_config("--includedir-server");
        if !Path::new(&server).join("postmaster/bgworker.h").exists() {
            panic!("{PG_HEADERS_MISSING}");
        }
        let mut flags = Vec::new();
        for a in ["--cppflags", "--cflags", "--cflags_sl"] {
            flags.extend(pg_config(a).split_whitespace().map(str::to_string));
        }
        flags.push(format!("-I{server}"));
        PgFlags { flags }
    })
}

fn stem_of(src: &Path) -> String {
    src.file_stem()
        .expect("source file name")
        .to_string_lossy()
        .into_owned()
}

/// Compile `c-tests/<src>` into a PostgreSQL-style loadable module (see the
/// module docs). Returns the absolute path of the `.so`.
pub fn pgxs_module(src: &str) -> PathBuf {
    let flags = pg_flags();
    let src = resolve_source(src);
    let dir = c_cache_dir();
    let out = dir.join(format!("{}.so", stem_of(&src)));
    let _g = build_lock().lock().unwrap_or_else(|e| e.into_inner());
    let mut inputs = vec![src.clone()];
    inputs.extend(local_headers());
    if stale(&out, &inputs) {
        let tmp = dir.join(format!(".{}.{}.so.tmp", stem_of(&src), std::process::id()));
        let mut cmd = cc_command(&dir);
        cmd.args(&flags.flags)
            .arg(format!("-I{}", c_tests_dir().display()))
            .arg("-shared")
            .arg("-o")
            .arg(&tmp)
            .arg(&src);
        compile(cmd, &tmp, &out, &src.display().to_string());
    }
    out
}

/// The server include directory of PostgreSQL `major`'s real headers: 15's
/// installed ones, 17's and 18's as `make pg-headers-17`/`-18` unpack them
/// under target/pg (Debian's postgresql-server-dev-N, not installed).
pub fn pg_server_include(major: u32) -> PathBuf {
    if major == 15 {
        return PathBuf::from(pg_config("--includedir-server"));
    }
    let d = repo_root()
        .join("target/pg")
        .join(major.to_string())
        .join(format!("usr/include/postgresql/{major}/server"));
    if !d.join("postmaster/bgworker.h").exists() {
        panic!(
            "PostgreSQL {major} server headers missing under {}: run 'make pg-headers-{major}'",
            d.display()
        );
    }
    d
}

/// [`pgxs_module`] built against PostgreSQL `major`'s real server headers
/// (15, 17 or 18) with PostgreSQL 15's PGXS compiler flags, unchanged
/// source. 15 is [`pgxs_module`] itself; others are cached under
/// target/c-tests/pgN/.
pub fn pgxs_module_for(src: &str, major: u32) -> PathBuf {
    if major == 15 {
        return pgxs_module(src);
    }
    let inc = pg_server_include(major);
    let server15 = format!("-I{}", pg_config("--includedir-server"));
    let flags: Vec<String> = pg_flags()
        .flags
        .iter()
        .map(|f| {
            if *f == server15 {
                format!("-I{}", inc.display())
            } else {
                f.clone()
            }
        })
        .collect();
    let src = resolve_source(src);
    let dir = c_cache_dir().join(format!("pg{major}"));
    fs::create_dir_all(&dir).expect("create target/c-tests/pgN");
    let out = dir.join(format!("{}.so", stem_of(&src)));
    let _g = build_lock().lock().unwrap_or_else(|e| e.into_inner());
    let mut inputs = vec![src.clone(), inc.join("pg_config.h")];
    inputs.extend(local_headers());
    if stale(&out, &inputs) {
        let tmp = dir.join(format!(".{}.{}.so.tmp", stem_of(&src), std::process::id()));
        let mut cmd = cc_command(&dir);
        cmd.args(&flags)
            .arg(format!("-I{}", c_tests_dir().display()))
            .arg("-shared")
            .arg("-o")
            .arg(&tmp)
            .arg(&src);
        compile(cmd, &tmp, &out, &src.display().to_string());
    }
    out
}

/// The DT_SONAME of a shared library, via readelf.
fn soname_of(lib: &Path) -> Option<String> {
    let out = Command::new("readelf").arg("-d").arg(lib).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("(SONAME)"))?;
    let start = line.find('[')? + 1;
    let end = line[start..].find(']')? + start;
    Some(line[start..end].to_string())
}

/// A directory holding a symlink named after libbgworker's soname (e.g.
/// libbgworker.so.0) to the built library, so that a host program linked
/// with -lbgworker (whose DT_NEEDED is the soname) finds it through its
/// rpath even when only `cargo build` ran and nothing created that name
/// next to the library.
fn soname_dir(lib: &Path, cache: &Path) -> PathBuf {
    let dir = cache.join("lib");
    fs::create_dir_all(&dir).expect("create target/c-tests/lib");
    // The library's soname (libbgworker.so.0, libbgworker_pg.so.0).
    let file = lib.file_name().unwrap_or_default().to_string_lossy();
    let names = vec![soname_of(lib).unwrap_or_else(|| format!("{file}.0"))];
    for n in names {
        let link = dir.join(&n);
        if fs::read_link(&link).ok().as_deref() != Some(lib) {
            let tmp = dir.join(format!(".{n}.{}", std::process::id()));
            let _ = fs::remove_file(&tmp);
            std::os::unix::fs::symlink(lib, &tmp).expect("symlink libbgworker soname");
            fs::rename(&tmp, &link).expect("rename libbgworker soname link");
        }
    }
    dir
}

/// Compile `c-tests/<src>` into an executable against include/bgworker.h,
/// linked with libbgworker (see the module docs). Returns its absolute path.
pub fn host_program(src: &str) -> PathBuf {
    let src = resolve_source(src);
    let name = stem_of(&src);
    build_host_program(&src, &name, &[], &libbgworker_path())
}

/// As [`host_program`], with extra compiler/linker arguments appended to
/// the command line (e.g. `-rdynamic`, so that workers whose library is
/// "postgres" or "" find functions of the host executable through
/// `dlopen(NULL)`). The output is cached as `target/c-tests/<stem>-<hash>`,
/// the hash covering the arguments, and rebuilt under the same rules.
pub fn host_program_with(src: &str, extra_args: &[&str]) -> PathBuf {
    host_program_linked(src, extra_args, &libbgworker_path())
}

/// As [`host_program_with`], linked with libbgworker_pg instead: a host
/// that loads PostgreSQL modules (bgw_host_load_library) and therefore
/// needs the PostgreSQL runtime's surface.
pub fn pg_host_program_with(src: &str, extra_args: &[&str]) -> PathBuf {
    host_program_linked(src, extra_args, &libbgworker_pg_path())
}

fn host_program_linked(src: &str, extra_args: &[&str], lib: &Path) -> PathBuf {
    let src = resolve_source(src);
    // FNV-1a over the arguments: a stable, dependency-free cache key.
    let mut hash: u32 = 0x811c_9dc5;
    for b in extra_args.join("\u{1f}").bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    for b in lib.to_string_lossy().bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    let name = format!("{}-{hash:08x}", stem_of(&src));
    build_host_program(&src, &name, extra_args, lib)
}

/// Compile `src` into `target/c-tests/<name>` as [`host_program`] does,
/// with `extra_args` appended to the compiler command line.
fn build_host_program(src: &Path, name: &str, extra_args: &[&str], lib: &Path) -> PathBuf {
    let lib = lib.to_path_buf();
    let link_name = lib
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("lib"))
        .expect("libNAME.so")
        .to_string();
    let header = repo_root().join("include").join("bgworker.h");
    if !header.exists() {
        panic!(
            "{} not found: the core build generates it",
            header.display()
        );
    }
    let dir = c_cache_dir();
    let out = dir.join(name);
    let _g = build_lock().lock().unwrap_or_else(|e| e.into_inner());
    let mut inputs = vec![src.to_path_buf(), header];
    inputs.extend(local_headers());
    let sodir = soname_dir(&lib, &dir);
    if stale(&out, &inputs) {
        let libdir = lib.parent().unwrap().to_path_buf();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut cmd = cc_command(&dir);
        cmd.arg(format!("-I{}", repo_root().join("include").display()))
            .arg(format!("-I{}", c_tests_dir().display()))
            .arg("-o")
            .arg(&tmp)
            .arg(src)
            .arg(format!("-L{}", libdir.display()))
            .arg(format!("-l{link_name}"))
            .arg(format!(
                "-Wl,-rpath,{}:{}",
                libdir.display(),
                sodir.display()
            ))
            .args(extra_args);
        compile(cmd, &tmp, &out, &src.display().to_string());
    }
    out
}

// ---------------------------------------------------------------------------
// Process registry and watchdog
// ---------------------------------------------------------------------------

fn live_groups() -> &'static Mutex<HashMap<i32, (String, LineLog)>> {
    static G: OnceLock<Mutex<HashMap<i32, (String, LineLog)>>> = OnceLock::new();
    G.get_or_init(|| Mutex::new(HashMap::new()))
}

fn register_group(pgid: i32, label: &str, log: &LineLog) {
    live_groups()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pgid, (label.to_string(), log.clone()));
}

fn unregister_group(pgid: i32) {
    live_groups()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&pgid);
}

/// Write straight to fd 2: the test harness captures eprintln! output and
/// that capture is lost when the process aborts.
fn raw_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// SIGKILL every registered group, after printing the tail of its output.
fn kill_all_groups() {
    let groups: Vec<(i32, String, LineLog)> = match live_groups().try_lock() {
        Ok(g) => g
            .iter()
            .map(|(p, (l, log))| (*p, l.clone(), log.clone()))
            .collect(),
        Err(_) => Vec::new(),
    };
    for (g, label, log) in groups {
        // SAFETY: kill(2) with a negative pid signals a process group that
        // this test process created.
        unsafe {
            libc::kill(-g, libc::SIGKILL);
        }
        let lines = match log.inner.0.try_lock() {
            Ok(st) => st.lines.clone(),
            Err(_) => Vec::new(),
        };
        let from = lines.len().saturating_sub(200);
        let mut text = format!(
            "---- last {} lines of {label} (pgid {g}) ----\n",
            lines.len() - from
        );
        for l in &lines[from..] {
            text.push_str(l);
            text.push('\n');
        }
        raw_stderr(&text);
    }
}

/// Guard returned by [`watchdog`]; dropping it disarms the watchdog.
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (m, cv) = &*self.done;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
}

/// Arm a watchdog: if the returned guard is still alive after `seconds`,
/// print "watchdog: <name> timed out", kill every daemon/host process group
/// of this test process and abort.
pub fn watchdog(seconds: u64, name: &str) -> Watchdog {
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let d2 = done.clone();
    let name = name.to_string();
    thread::Builder::new()
        .name(format!("watchdog-{name}"))
        .spawn(move || {
            let (m, cv) = &*d2;
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut finished = m.lock().unwrap_or_else(|e| e.into_inner());
            while !*finished {
                let now = Instant::now();
                if now >= deadline {
                    raw_stderr(&format!("watchdog: {name} timed out\n"));
                    kill_all_groups();
                    std::process::abort();
                }
                finished = cv
                    .wait_timeout(finished, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        })
        .expect("spawn watchdog thread");
    Watchdog { done }
}

// ---------------------------------------------------------------------------
// Line logs
// ---------------------------------------------------------------------------

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    open_streams: usize,
}

/// Lines collected from one or more pipes, with waiting.
#[derive(Clone)]
pub struct LineLog {
    inner: Arc<(Mutex<LogState>, Condvar)>,
}

impl LineLog {
    fn new() -> LineLog {
        LineLog {
            inner: Arc::new((Mutex::new(LogState::default()), Condvar::new())),
        }
    }

    fn attach<R: Read + Send + 'static>(&self, r: R, prefix: String) {
        {
            let mut st = self.inner.0.lock().unwrap();
            st.open_streams += 1;
        }
        let me = self.clone();
        thread::spawn(move || {
            let mut rd = BufReader::new(r);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match rd.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches(['\n', '\r'])
                            .to_string();
                        eprintln!("{prefix} {line}");
                        let (m, cv) = &*me.inner;
                        m.lock().unwrap().lines.push(line);
                        cv.notify_all();
                    }
                }
            }
            let (m, cv) = &*me.inner;
            m.lock().unwrap().open_streams -= 1;
            cv.notify_all();
        });
    }

    pub fn lines(&self) -> Vec<String> {
        self.inner.0.lock().unwrap().lines.clone()
    }

    pub fn text(&self) -> String {
        let mut s = self.lines().join("\n");
        s.push('\n');
        s
    }

    pub fn len(&self) -> usize {
        self.inner.0.lock().unwrap().lines.len()
    }

    pub fn count(&self, needle: &str) -> usize {
        self.inner
            .0
            .lock()
            .unwrap()
            .lines
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn closed(&self) -> bool {
        self.inner.0.lock().unwrap().open_streams == 0
    }

    /// First line at index >= `from` satisfying `pred`, waiting up to
    /// `timeout`. None on timeout or when every stream closed without one.
    pub fn wait_match<F: Fn(&str) -> bool>(
        &self,
        from: usize,
        timeout: Duration,
        pred: F,
    ) -> Option<(usize, String)> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut st = m.lock().unwrap();
        let mut scanned = from;
        loop {
            while scanned < st.lines.len() {
                if pred(&st.lines[scanned]) {
                    return Some((scanned, st.lines[scanned].clone()));
                }
                scanned += 1;
            }
            if st.open_streams == 0 {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Wait until at least `n` lines contain `needle`; returns them.
    pub fn wait_count(&self, needle: &str, n: usize, timeout: Duration) -> Option<Vec<String>> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut st = m.lock().unwrap();
        loop {
            let hits: Vec<String> = st
                .lines
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            if hits.len() >= n {
                return Some(hits);
            }
            if st.open_streams == 0 {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Wait until every stream feeding this log reached end of file.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut st = m.lock().unwrap();
        while st.open_streams > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
        true
    }
}

fn send_signal(pid: i32, sig: i32) {
    // SAFETY: plain kill(2) on a pid this test started.
    let rc = unsafe { libc::kill(pid, sig) };
    if rc != 0 {
        eprintln!(
            "kill({pid}, {sig}) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Human-readable exit status ("exit 1", "signal 9").
pub fn describe_status(st: &ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (_, Some(s)) => format!("signal {s}"),
        _ => format!("{st:?}"),
    }
}

// ---------------------------------------------------------------------------
// Watched processes
// ---------------------------------------------------------------------------

/// What [`Daemon`] and [`Proc`] share: a child process in its own process
/// group, its stdout and stderr collected into one [`LineLog`], its exit
/// status once reaped, and how panics name it (`who`: "bgworkerd PID
/// (NAME)" or "LABEL PID") and its lines (`what`: "log" or "output").
struct Watched {
    child: Mutex<Child>,
    status: Mutex<Option<ExitStatus>>,
    pid: i32,
    log: LineLog,
    who: String,
    what: &'static str,
}

impl Watched {
    /// Spawn `cmd` with stdin from /dev/null in a new process group whose
    /// id is the child's pid, echo its stdout and stderr with the prefixes
    /// `prefixes(pid)` gives, and register the group with the watchdog.
    fn spawn(
        mut cmd: Command,
        exe: &Path,
        who: impl FnOnce(i32) -> String,
        what: &'static str,
        prefixes: impl FnOnce(i32) -> (String, String),
    ) -> Watched {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let pid = child.id() as i32;
        let who = who(pid);
        let (out_prefix, err_prefix) = prefixes(pid);
        let log = LineLog::new();
        register_group(pid, &who, &log);
        log.attach(child.stdout.take().unwrap(), out_prefix);
        log.attach(child.stderr.take().unwrap(), err_prefix);
        Watched {
            child: Mutex::new(child),
            status: Mutex::new(None),
            pid,
            log,
            who,
            what,
        }
    }

    /// Exit status if the process has exited (reaps it).
    fn try_exit(&self) -> Option<ExitStatus> {
        let mut s = self.status.lock().unwrap();
        if s.is_none() {
            if let Ok(Some(st)) = self.child.lock().unwrap().try_wait() {
                *s = Some(st);
            }
        }
        *s
    }

    /// Wait for the process to exit; when this call reaps it, also wait up
    /// to `drain` for its output to be fully read. Panics with the output
    /// on timeout.
    fn wait_exit(&self, timeout: Duration, drain: Option<Duration>) -> ExitStatus {
        if let Some(st) = *self.status.lock().unwrap() {
            return st;
        }
        let st = wait_child(&mut self.child.lock().unwrap(), timeout);
        match st {
            Some(st) => {
                *self.status.lock().unwrap() = Some(st);
                if let Some(d) = drain {
                    self.log.wait_closed(d);
                }
                st
            }
            None => panic!(
                "{} did not exit within {:?}; {}:\n{}",
                self.who,
                timeout,
                self.what,
                self.log.text()
            ),
        }
    }

    /// First line at index >= `from` containing `needle`; panics with the
    /// output on timeout or if the output closed without one.
    fn wait_from(&self, from: usize, needle: &str, timeout: Duration) -> (usize, String) {
        match self.log.wait_match(from, timeout, |l| l.contains(needle)) {
            Some(x) => x,
            None => panic!(
                "{}: no {} line containing {:?} (from line {}) within {:?}{}; {}:\n{}",
                self.who,
                self.what,
                needle,
                from,
                timeout,
                if self.log.closed() {
                    format!(" ({} closed)", self.what)
                } else {
                    String::new()
                },
                self.what,
                self.log.text()
            ),
        }
    }

    /// First line containing `needle` (waited for as `wait_from(0, ..)`),
    /// after asserting that its `key=` field is `want`; a mismatch panics
    /// with `what` (what it means, may be empty), the key and the line.
    #[track_caller]
    fn expect_field(
        &self,
        needle: &str,
        key: &str,
        want: &str,
        timeout: Duration,
        what: &str,
    ) -> String {
        let (_, line) = self.wait_from(0, needle, timeout);
        let sep = if what.is_empty() { "" } else { "; " };
        assert_eq!(
            field(&line, key).as_deref(),
            Some(want),
            "{what}{sep}{key}= in line: {line}"
        );
        line
    }

    /// First line containing every one of `needles`.
    fn wait_all(&self, needles: &[&str], timeout: Duration) -> String {
        match self
            .log
            .wait_match(0, timeout, |l| needles.iter().all(|n| l.contains(n)))
        {
            Some((_, l)) => l,
            None => panic!(
                "{}: no {} line containing all of {:?} within {:?}; {}:\n{}",
                self.who,
                self.what,
                needles,
                timeout,
                self.what,
                self.log.text()
            ),
        }
    }

    /// Wait until at least `n` lines contain `needle`; returns all of them.
    fn wait_count(&self, needle: &str, n: usize, timeout: Duration) -> Vec<String> {
        match self.log.wait_count(needle, n, timeout) {
            Some(v) => v,
            None => panic!(
                "{}: fewer than {} lines containing {:?} within {:?} (have {}); {}:\n{}",
                self.who,
                n,
                needle,
                timeout,
                self.log.count(needle),
                self.what,
                self.log.text()
            ),
        }
    }

    /// SIGKILL to the process group, reap the process, and unregister the
    /// group from the watchdog.
    fn kill_group(&self) {
        // SAFETY: kill(2) on the process group `spawn` created
        // (process_group(0) makes the group id equal to the child's pid).
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
        }
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
        unregister_group(self.pid);
    }
}

// ---------------------------------------------------------------------------
// Daemon
// ---------------------------------------------------------------------------

/// Options for starting bgworkerd; see [`Daemon::builder`].
pub struct DaemonBuilder {
    name: String,
    settings: Vec<(String, String)>,
    env: Vec<(String, String)>,
    conf_file: Option<String>,
    extra_args: Vec<String>,
    rundir: Option<PathBuf>,
    /// Started from this directory, with -D relative to it.
    from_dir: Option<PathBuf>,
    ready_timeout: Duration,
}

impl DaemonBuilder {
    /// One `-c name=value`.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// shared_preload_libraries = the given module paths, comma-separated.
    pub fn preload(self, modules: &[&Path]) -> Self {
        let v: Vec<String> = modules.iter().map(|p| p.display().to_string()).collect();
        self.set("shared_preload_libraries", &v.join(","))
    }

    /// An environment variable for the daemon (inherited by its workers).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// One `-c name=value` for each pair, in order.
    pub fn settings(mut self, settings: &[(&str, &str)]) -> Self {
        for (k, v) in settings {
            self = self.set(k, v);
        }
        self
    }

    /// Contents of RUNDIR/bgworker.conf, written before the daemon starts.
    pub fn conf_file(mut self, text: &str) -> Self {
        self.conf_file = Some(text.to_string());
        self
    }

    /// An extra raw command-line argument (appended after the -c settings).
    pub fn arg(mut self, a: &str) -> Self {
        self.extra_args.push(a.to_string());
        self
    }

    /// Use an existing RUNDIR; the Daemon will not delete it on drop.
    pub fn rundir(mut self, dir: &Path) -> Self {
        self.rundir = Some(dir.to_path_buf());
        self
    }

    /// Start bgworkerd with `dir` as its current directory and -D RUNDIR
    /// relative to it (RUNDIR must lie under `dir`).
    pub fn started_in(mut self, dir: &Path) -> Self {
        self.from_dir = Some(dir.to_path_buf());
        self
    }

    pub fn ready_timeout(mut self, t: Duration) -> Self {
        self.ready_timeout = t;
        self
    }

    /// Start and return at once (no wait for readiness).
    pub fn spawn(self) -> Daemon {
        let exe = bgworkerd_path();
        let (rundir, owns) = match &self.rundir {
            Some(d) => (d.clone(), false),
            None => (fresh_dir(&self.name), true),
        };
        if let Some(text) = &self.conf_file {
            fs::write(rundir.join("bgworker.conf"), text).expect("write bgworker.conf");
        }
        let mut cmd = Command::new(&exe);
        match &self.from_dir {
            Some(d) => {
                let rel = rundir.strip_prefix(d).expect("RUNDIR under from_dir");
                cmd.current_dir(d).arg("-D").arg(rel);
            }
            None => {
                cmd.arg("-D").arg(&rundir);
            }
        }
        for (k, v) in &self.settings {
            cmd.arg("-c").arg(format!("{k}={v}"));
        }
        cmd.args(&self.extra_args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let name = &self.name;
        let w = Watched::spawn(
            cmd,
            &exe,
            |pid| format!("bgworkerd {pid} ({name})"),
            "log",
            |pid| {
                (
                    format!("[bgworkerd {pid} stdout]"),
                    format!("[bgworkerd {pid}]"),
                )
            },
        );
        Daemon {
            w,
            rundir,
            owns_rundir: owns,
            segment: Mutex::new(None),
        }
    }

    /// Start and wait for the `bgworkerd ready` line; panics with the log if
    /// the daemon exits or does not become ready in time.
    pub fn start(self) -> Daemon {
        let t = self.ready_timeout;
        let d = self.spawn();
        if d.w
            .log
            .wait_match(0, t, |l| l.contains("bgworkerd ready"))
            .is_none()
        {
            let st = d.try_exit();
            panic!(
                "bgworkerd (pid {}) did not become ready within {:?} (status {:?}); log:\n{}",
                d.pid(),
                t,
                st.map(|s| describe_status(&s)),
                d.log_text()
            );
        }
        d.read_segment();
        d
    }
}

/// A running bgworkerd; see the module docs.
pub struct Daemon {
    w: Watched,
    rundir: PathBuf,
    owns_rundir: bool,
    segment: Mutex<Option<String>>,
}

impl Daemon {
    pub fn builder(name: &str) -> DaemonBuilder {
        DaemonBuilder {
            name: name.to_string(),
            settings: Vec::new(),
            env: Vec::new(),
            conf_file: None,
            extra_args: Vec::new(),
            rundir: None,
            from_dir: None,
            ready_timeout: Duration::from_secs(20),
        }
    }

    /// Start with the given `-c` settings and wait until ready.
    pub fn start(settings: &[(&str, &str)]) -> Daemon {
        Daemon::builder("bgworkerd").settings(settings).start()
    }

    fn read_segment(&self) {
        if let Ok(text) = fs::read_to_string(self.pid_file()) {
            if let Some(seg) = text.lines().nth(1) {
                *self.segment.lock().unwrap() = Some(seg.trim().to_string());
            }
        }
    }

    pub fn pid(&self) -> i32 {
        self.w.pid
    }

    pub fn rundir(&self) -> &Path {
        &self.rundir
    }

    pub fn pid_file(&self) -> PathBuf {
        self.rundir.join("bgworkerd.pid")
    }

    /// Segment name from line 2 of the pid file (e.g. "/bgworker.123").
    pub fn segment_name(&self) -> Option<String> {
        if self.segment.lock().unwrap().is_none() {
            self.read_segment();
        }
        self.segment.lock().unwrap().clone()
    }

    /// The segment's file under /dev/shm.
    pub fn segment_path(&self) -> Option<PathBuf> {
        self.segment_name()
            .map(|s| PathBuf::from("/dev/shm").join(s.trim_start_matches('/')))
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.w.pid, sig);
    }

    /// Exit status if the daemon has exited (reaps it).
    pub fn try_exit(&self) -> Option<ExitStatus> {
        self.w.try_exit()
    }

    /// Wait for the daemon to exit; panics with the log on timeout.
    /// Wait for the daemon to exit; then give the reader a moment to take
    /// the last lines it wrote (its workers, which could hold the pipe
    /// open longer, die with it).
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        self.w.wait_exit(timeout, Some(secs(2)))
    }

    pub fn log(&self) -> &LineLog {
        &self.w.log
    }

    pub fn log_text(&self) -> String {
        self.w.log.text()
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.w.log.lines()
    }

    /// Number of lines so far (a cursor for `wait_log_from`).
    pub fn log_len(&self) -> usize {
        self.w.log.len()
    }

    pub fn count_log(&self, needle: &str) -> usize {
        self.w.log.count(needle)
    }

    /// First log line containing `needle`; panics with the log on timeout.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        self.wait_log_from(0, needle, timeout).1
    }

    /// First log line at index >= `from` containing `needle`.
    pub fn wait_log_from(&self, from: usize, needle: &str, timeout: Duration) -> (usize, String) {
        self.w.wait_from(from, needle, timeout)
    }

    /// First log line containing `needle` (as `wait_log`), asserting that
    /// its `key=` field is `want`; `what` says what a mismatch means.
    #[track_caller]
    pub fn expect_field(
        &self,
        needle: &str,
        key: &str,
        want: &str,
        timeout: Duration,
        what: &str,
    ) -> String {
        self.w.expect_field(needle, key, want, timeout, what)
    }

    /// First log line containing every one of `needles`; panics with the
    /// log on timeout.
    pub fn wait_log_all(&self, needles: &[&str], timeout: Duration) -> String {
        self.w.wait_all(needles, timeout)
    }

    /// Wait until at least `n` lines contain `needle`; returns all of them.
    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) -> Vec<String> {
        self.w.wait_count(needle, n, timeout)
    }

    /// Wait until the log stream (daemon and all workers) reached EOF.
    pub fn wait_log_closed(&self, timeout: Duration) -> bool {
        self.w.log.wait_closed(timeout)
    }

    /// Live (non-zombie) children of the daemon.
    pub fn children(&self) -> Vec<i32> {
        children_of(self.w.pid)
    }
}

/// Remove what a killed supervisor `pid` leaves of dynamic shared memory:
/// its control segment `/bgworker.<pid>.dsm` and segments
/// `/bgworker.<pid>.dsm.<handle>` (a clean shutdown removes them itself).
pub fn remove_dynamic_segments(pid: i32) {
    for name in dynamic_segments(pid) {
        let _ = fs::remove_file(Path::new("/dev/shm").join(name));
    }
}

/// The /dev/shm names of supervisor `pid`'s control and dynamic segments.
pub fn dynamic_segments(pid: i32) -> Vec<String> {
    let prefix = format!("bgworker.{pid}.dsm");
    let mut v: Vec<String> = fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| *n == prefix || n.starts_with(&format!("{prefix}.")))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.w.kill_group();
        if let Some(seg) = self.segment_path() {
            let _ = fs::remove_file(seg);
        }
        remove_dynamic_segments(self.w.pid);
        if self.owns_rundir {
            let _ = fs::remove_dir_all(&self.rundir);
        }
    }
}

// ---------------------------------------------------------------------------
// Host programs
// ---------------------------------------------------------------------------

/// A spawned program (typically a host program) with merged stdout/stderr.
pub struct Proc {
    w: Watched,
}

impl Proc {
    /// Spawn `exe args...` with extra environment, in its own process group.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(
        exe: &Path,
        args: &[S],
        env: &[(&str, &str)],
        label: &str,
    ) -> Proc {
        let mut cmd = Command::new(exe);
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let w = Watched::spawn(
            cmd,
            exe,
            |pid| format!("{label} {pid}"),
            "output",
            |pid| (format!("[{label} {pid}]"), format!("[{label} {pid} err]")),
        );
        Proc { w }
    }

    pub fn pid(&self) -> i32 {
        self.w.pid
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.w.pid, sig);
    }

    pub fn log(&self) -> &LineLog {
        &self.w.log
    }

    pub fn lines(&self) -> Vec<String> {
        self.w.log.lines()
    }

    pub fn text(&self) -> String {
        self.w.log.text()
    }

    pub fn len(&self) -> usize {
        self.w.log.len()
    }

    pub fn count_lines(&self, needle: &str) -> usize {
        self.w.log.count(needle)
    }

    pub fn wait_line(&self, needle: &str, timeout: Duration) -> String {
        self.wait_line_from(0, needle, timeout).1
    }

    pub fn wait_line_from(&self, from: usize, needle: &str, timeout: Duration) -> (usize, String) {
        self.w.wait_from(from, needle, timeout)
    }

    /// First output line containing `needle` (as `wait_line`), asserting
    /// that its `key=` field is `want`; `what` says what a mismatch means.
    #[track_caller]
    pub fn expect_field(
        &self,
        needle: &str,
        key: &str,
        want: &str,
        timeout: Duration,
        what: &str,
    ) -> String {
        self.w.expect_field(needle, key, want, timeout, what)
    }

    /// First output line containing every one of `needles`.
    pub fn wait_line_all(&self, needles: &[&str], timeout: Duration) -> String {
        self.w.wait_all(needles, timeout)
    }

    pub fn wait_line_count(&self, needle: &str, n: usize, timeout: Duration) -> Vec<String> {
        self.w.wait_count(needle, n, timeout)
    }

    pub fn try_exit(&self) -> Option<ExitStatus> {
        self.w.try_exit()
    }

    /// Wait for exit and for its output to be fully read; panics with the
    /// output on timeout.
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        // Output pipes may be held by grandchildren; don't wait forever.
        self.w.wait_exit(timeout, Some(Duration::from_secs(2)))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.w.kill_group();
        // A host that ran bgw_host_run and was killed (a failing test) leaves
        // the segment named after its pid; the process is gone now.
        let _ = fs::remove_file(format!("/dev/shm/bgworker.{}", self.w.pid));
    }
}

/// Run a program to completion; returns its status and merged output.
/// Panics (with the output) if it does not finish within `timeout`.
pub fn run_host<S: AsRef<std::ffi::OsStr>>(
    exe: &Path,
    args: &[S],
    env: &[(&str, &str)],
    timeout: Duration,
) -> (ExitStatus, String) {
    let label = exe
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "host".into());
    let p = Proc::spawn(exe, args, env, &label);
    let st = p.wait_exit(timeout);
    (st, p.text())
}

// ---------------------------------------------------------------------------
// /proc helpers
// ---------------------------------------------------------------------------

/// Contents of /proc/<pid>/status.
pub fn proc_status(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// The value of one field of /proc/<pid>/status ("SigBlk", "PPid", ...).
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let text = proc_status(pid)?;
    let prefix = format!("{field}:");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}

/// A signal mask field of /proc/<pid>/status (SigBlk, SigIgn, SigCgt, SigPnd) as bits.
pub fn sigmask(pid: i32, field: &str) -> Option<u64> {
    status_field(pid, field).and_then(|v| u64::from_str_radix(&v, 16).ok())
}

/// The bit of `sig` in a /proc signal mask.
pub fn sig_bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Parse a hex signal mask as printed in /proc (e.g. "0000000000014a07").
pub fn parse_mask(hex: &str) -> Option<u64> {
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// (state, ppid) from /proc/<pid>/stat.
fn stat_state_ppid(pid: i32) -> Option<(char, i32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let mut it = rest.split_whitespace();
    let state = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((state, ppid))
}

/// True if the process exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    match stat_state_ppid(pid) {
        Some((s, _)) => s != 'Z' && s != 'X',
        None => false,
    }
}

pub fn ppid(pid: i32) -> Option<i32> {
    stat_state_ppid(pid).map(|(_, p)| p)
}

/// Live (non-zombie) processes whose parent is `pid`.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut v = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Some((s, pp)) = stat_state_ppid(p) {
                if pp == pid && s != 'Z' && s != 'X' {
                    v.push(p);
                }
            }
        }
    }
    v.sort_unstable();
    v
}

/// The live child of `pid` whose process name (`comm`) is `comm`, if any
/// (e.g. the supervisor's sentinel, "bgw_sentinel").
pub fn child_named(pid: i32, comm: &str) -> Option<i32> {
    children_of(pid).into_iter().find(|&c| {
        fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|t| t.trim_end() == comm)
    })
}

/// Descriptors of supervisor `sup` that its worker `worker` still holds
/// (same number, same file), each as "N -> TARGET". Only the supervisor's
/// own descriptors count, which are all close-on-exec (what bgworkerd or a
/// host inherited across exec is not, and a worker inherits it as well),
/// except the death pipe's read end (a pipe of which the supervisor holds
/// both ends), which every worker keeps.
pub fn supervisor_fds_in(worker: i32, sup: i32) -> Vec<String> {
    let link = |pid: i32, fd: &str| fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok();
    let cloexec = |pid: i32, fd: &str| {
        fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("flags:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .is_some_and(|f| f & libc::O_CLOEXEC as u32 != 0)
    };
    let sup_targets: Vec<PathBuf> = fs::read_dir(format!("/proc/{sup}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| fs::read_link(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    let mut held = Vec::new();
    let Ok(rd) = fs::read_dir(format!("/proc/{worker}/fd")) else {
        return held;
    };
    for e in rd.flatten() {
        let fd = e.file_name().to_string_lossy().into_owned();
        let (Some(w), Some(s)) = (link(worker, &fd), link(sup, &fd)) else {
            continue;
        };
        let t = w.to_string_lossy().into_owned();
        let death_pipe =
            t.starts_with("pipe:") && sup_targets.iter().filter(|x| **x == w).count() >= 2;
        if w == s && cloexec(sup, &fd) && !death_pipe {
            held.push(format!("{fd} -> {t}"));
        }
    }
    held.sort();
    held
}

/// Live descendants of `pid` (children, grandchildren, ...).
pub fn descendants_of(pid: i32) -> Vec<i32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children_of(p) {
            all.push(c);
            todo.push(c);
        }
    }
    all.sort_unstable();
    all
}

/// Poll `cond` (every few milliseconds) until it holds or `timeout` passes.
pub fn wait_until<F: FnMut() -> bool>(timeout: Duration, mut cond: F) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Wait until none of `pids` is alive; returns those still alive at timeout.
pub fn wait_pids_gone(pids: &[i32], timeout: Duration) -> Vec<i32> {
    let mut left: Vec<i32> = pids.to_vec();
    wait_until(timeout, || {
        left.retain(|p| pid_alive(*p));
        left.is_empty()
    });
    left
}

// ---------------------------------------------------------------------------
// Marker lines
// ---------------------------------------------------------------------------

/// Value of a `key=value` token in a line (value ends at whitespace).
pub fn field(line: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=");
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(pat.as_str()))
        .map(str::to_string)
}

/// `field` parsed as an integer; panics if absent or malformed.
pub fn field_i64(line: &str, key: &str) -> i64 {
    let v = field(line, key).unwrap_or_else(|| panic!("no {key}= in line {line:?}"));
    v.parse()
        .unwrap_or_else(|_| panic!("{key}={v} is not an integer in line {line:?}"))
}

/// The pid in a log line's "(PID n)" part, if any.
pub fn logged_pid(line: &str) -> Option<i32> {
    let i = line.find("(PID ")?;
    line[i + 5..].split(')').next()?.trim().parse().ok()
}

/// The futex(2) system call number of this architecture.
#[cfg(target_arch = "x86_64")]
pub const SYS_FUTEX: i64 = 202;
#[cfg(not(target_arch = "x86_64"))]
pub const SYS_FUTEX: i64 = libc::SYS_futex as i64;

/// True while the thread `pid` (a process's main thread) is blocked in
/// futex(2): `/proc/PID/syscall` starts with the futex number, or
/// `/proc/PID/wchan` names the kernel's futex wait.
pub fn blocked_in_futex(pid: i32) -> bool {
    let sys = fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    if sys.split_whitespace().next() == Some(SYS_FUTEX.to_string().as_str()) {
        return true;
    }
    let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    wchan.starts_with("futex_wait")
}

/// Milliseconds since the Unix epoch of a log line's PostgreSQL "%m" prefix
/// ("2026-11-22 18:49:52.123 UTC [pid] LOG:  ..."); panics if the line does
/// not start with one.
pub fn log_timestamp_ms(line: &str) -> i64 {
    parse_log_timestamp(line)
        .unwrap_or_else(|| panic!("no \"YYYY-MM-DD HH:MM:SS.mmm UTC\" prefix in log line {line:?}"))
}

fn parse_log_timestamp(line: &str) -> Option<i64> {
    let mut words = line.split_whitespace();
    let (date, time) = (words.next()?, words.next()?);
    if words.next()? != "UTC" {
        return None;
    }
    let ymd: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.')?;
    let hms: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if ymd.len() != 3 || hms.len() != 3 || frac.len() != 3 {
        return None;
    }
    let ms: i64 = frac.parse().ok()?;
    // Days from 1970-01-01 to the civil date (proleptic Gregorian).
    let (y, m, d) = (ymd[0] - i64::from(ymd[1] <= 2), ymd[1], ymd[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hms[0]) * 60 + hms[1]) * 60_000 + hms[2] * 1000 + ms)
}

// ---------------------------------------------------------------------------
// Helpers shared by the test files
// ---------------------------------------------------------------------------

/// A scratch directory under target/tmp, removed when dropped (also when
/// the test fails).
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        Scratch(fresh_dir(name))
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A daemon without preloaded libraries, started with the given settings.
pub fn plain_daemon(name: &str, settings: &[(&str, &str)]) -> Daemon {
    Daemon::builder(name).settings(settings).start()
}

/// What a worker's first marker line contains: "marker: start name=NAME ".
pub fn start_needle(name: &str) -> String {
    format!("marker: start name={name} ")
}

/// Wait for "marker: ready name=NAME" (the worker's signal handlers are
/// installed and signals unblocked) at or after log line `from`; returns
/// the worker's pid.
pub fn wait_ready_from(d: &Daemon, name: &str, from: usize, t: Duration) -> i32 {
    let (_, line) = d.wait_log_from(from, &format!("marker: ready name={name} "), t);
    field_i64(&line, "pid") as i32
}

/// [`wait_ready_from`] the start of the log.
pub fn wait_ready(d: &Daemon, name: &str, t: Duration) -> i32 {
    wait_ready_from(d, name, 0, t)
}

/// The daemon never went through a crash cycle.
pub fn assert_no_crash_cycle(d: &Daemon) {
    assert_eq!(
        d.count_log("terminating any other active server processes"),
        0,
        "unexpected crash cycle; log:\n{}",
        d.log_text()
    );
}

// ---------------------------------------------------------------------------
// bgworkerctl and terminals
// ---------------------------------------------------------------------------

/// Absolute path of the bgworkerctl binary; panics if it was not built.
pub fn bgworkerctl_path() -> PathBuf {
    let p = build_dir().join("bgworkerctl");
    if !p.exists() {
        panic!(
            "{} not found: run `cargo build --release` first (the Makefile does)",
            p.display()
        );
    }
    p
}

/// What one bgworkerctl run did.
#[derive(Debug)]
pub struct CtlRun {
    /// Exit status; a death by signal is reported as 128 + signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `bgworkerctl -D rundir args...` to completion (within 30 s, else
/// SIGKILL by its pid and panic). The child runs in its own process group,
/// registered with the watchdog while it runs.
pub fn run_ctl(rundir: &Path, args: &[&str]) -> CtlRun {
    let mut full: Vec<String> = vec!["-D".into(), rundir.display().to_string()];
    full.extend(args.iter().map(|s| s.to_string()));
    run_ctl_raw(&full)
}

/// Run bgworkerctl with exactly `args`; see [`run_ctl`].
pub fn run_ctl_raw<S: AsRef<str>>(args: &[S]) -> CtlRun {
    let exe = bgworkerctl_path();
    let mut cmd = Command::new(&exe);
    cmd.args(args.iter().map(|a| a.as_ref()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("start bgworkerctl");
    let pid = child.id() as i32;
    let log = LineLog::new();
    register_group(pid, "bgworkerctl", &log);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let st = wait_child(&mut child, Duration::from_secs(30));
    unregister_group(pid);
    let Some(st) = st else {
        // SAFETY: kill(2) of the process group this function created.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = child.wait();
        panic!(
            "bgworkerctl {:?} did not finish within 30 s",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
        );
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let code = st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0));
    eprintln!(
        "[bgworkerctl {:?}] exit {code}\n{stdout}{stderr}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
    );
    CtlRun {
        code,
        stdout,
        stderr,
    }
}

/// A private tmux server (its own socket under a scratch directory) for
/// driving programs in a real terminal. Dropping it kills the server by
/// its pid (and asks it to exit through its socket first).
pub struct Tmux {
    socket: PathBuf,
    server_pid: Option<i32>,
}

impl Tmux {
    /// Is tmux installed?
    pub fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Start a detached session `cols`x`rows` running `shell_command`.
    pub fn start(dir: &Path, cols: u32, rows: u32, shell_command: &str) -> Tmux {
        let socket = dir.join("tmux.sock");
        let st = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(shell_command)
            .status()
            .expect("run tmux");
        assert!(st.success(), "tmux new-session failed: {st:?}");
        let mut t = Tmux {
            socket,
            server_pid: None,
        };
        let pid = t.cmd(&["display-message", "-p", "#{pid}"]);
        t.server_pid = pid.trim().parse().ok();
        t
    }

    /// Run a tmux command against this server; returns its stdout.
    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen of the session's only pane.
    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    /// Wait until the screen satisfies `cond`; returns it, or panics with
    /// the last screen.
    pub fn wait_screen(
        &self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            if Instant::now() >= deadline {
                panic!("tmux screen never showed {what} within {timeout:?}; last screen:\n{s}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn send_keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys"];
        a.extend_from_slice(keys);
        self.cmd(&a);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
        if let Some(pid) = self.server_pid {
            if pid_alive(pid) {
                send_signal(pid, libc::SIGKILL);
            }
        }
    }
}
