//! bgworkerd's command line: `bgworkerd -D RUNDIR [-c NAME=VALUE]...`.

use std::path::PathBuf;

use crate::log;
use crate::process::loader;
use crate::settings::{self, Settings};
use crate::supervisor::{self, pidfile::PidFile};

const USAGE: &str = "bgworkerd runs PostgreSQL-style background workers.\n\n\
Usage:\n  bgworkerd -D RUNDIR [-c NAME=VALUE]...\n\n\
Options:\n  -D RUNDIR         run directory (bgworkerd.pid, optional bgworker.conf)\n  \
-c NAME=VALUE     set a configuration parameter (wins over bgworker.conf)\n  \
-V, --version     print the version and exit\n  \
--describe-symbol NAME...\n                    say how bgworkerd provides each PostgreSQL symbol\n  \
-?, -h, --help    show this help and exit\n";

fn fatal(msg: &str, hint: Option<&str>) -> i32 {
    log::emit_full(log::FATAL, msg, None, hint);
    1
}

/// Run bgworkerd with `args` (without the program name); returns the exit
/// status.
pub fn main(args: Vec<String>) -> i32 {
    crate::identity::mark_daemon_image();
    crate::process::signals::set_postmaster_dispositions();
    let mut rundir: Option<PathBuf> = None;
    let mut sets: Vec<(String, String)> = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let (flag, inline) = if a.len() > 2 && (a.starts_with("-D") || a.starts_with("-c")) {
            (a[..2].to_string(), Some(a[2..].to_string()))
        } else {
            (a.clone(), None)
        };
        match flag.as_str() {
            "-D" | "-c" => {
                let Some(v) = inline.or_else(|| it.next()) else {
                    eprintln!("bgworkerd: option {flag} requires an argument\n{USAGE}");
                    return 2;
                };
                if flag == "-D" {
                    rundir = Some(PathBuf::from(v));
                } else {
                    match v.split_once('=') {
                        Some((n, val)) => sets.push((n.trim().to_string(), val.to_string())),
                        None => return fatal(&format!("-c {v} requires a value"), None),
                    }
                }
            }
            "-?" | "-h" | "--help" => {
                print!("{USAGE}");
                return 0;
            }
            "-V" | "--version" => {
                println!(
                    "bgworkerd (libbgworker) {} (PostgreSQL 15, 17 and 18 bgworker.h ABI)",
                    env!("CARGO_PKG_VERSION")
                );
                return 0;
            }
            _ => {
                eprintln!("bgworkerd: invalid argument: \"{a}\"\n{USAGE}");
                return 2;
            }
        }
    }
    let Some(rundir) = rundir else {
        eprintln!("bgworkerd: no run directory specified (-D RUNDIR)\n{USAGE}");
        return 2;
    };
    let shown = rundir.display();
    match std::fs::metadata(&rundir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return fatal(
                &format!("run directory \"{shown}\" is not a directory"),
                None,
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fatal(&format!("run directory \"{shown}\" does not exist"), None)
        }
        Err(e) => {
            return fatal(
                &format!(
                    "could not access run directory \"{shown}\": {}",
                    crate::io_text(&e)
                ),
                None,
            )
        }
    }

    // PostgreSQL's ChangeToDataDir: the daemon and its workers work in the
    // run directory, where files modules name relatively land (autoprewarm's
    // autoprewarm.blocks, credcheck's pg_password_history, ...), as they land
    // in the data directory under PostgreSQL. Relative paths in the settings
    // are therefore relative to it, as in PostgreSQL; RUNDIR itself is made
    // absolute first.
    let rundir = match std::path::absolute(&rundir) {
        Ok(p) => p,
        Err(e) => {
            return fatal(
                &format!(
                    "could not access run directory \"{shown}\": {}",
                    crate::io_text(&e)
                ),
                None,
            )
        }
    };
    if let Err(e) = std::env::set_current_dir(&rundir) {
        return fatal(
            &format!(
                "could not change directory to \"{}\": {}",
                rundir.display(),
                crate::io_text(&e)
            ),
            None,
        );
    }

    // Settings: defaults, then the file, then -c (which wins).
    let mut s = Settings::default();
    if let Err((_, e)) = s.apply_conf_file(&rundir) {
        return fatal(&e.message, e.hint.as_deref());
    }
    for (n, v) in &sets {
        if let Err(e) = s.set(n, v, settings::Source::CommandLine) {
            return fatal(&e.message, e.hint.as_deref());
        }
    }
    log::set_min_level(s.log_min_messages);
    crate::log::prefix::set(&s.log_line_prefix);
    crate::log::file::manage();
    if let Err(e) = crate::log::file::apply(Some(&rundir), &s.log_file) {
        return fatal(&e, None);
    }
    let preload = s.shared_preload_libraries.clone();
    settings::with_current(|cur| *cur = s);
    for (n, v) in &sets {
        // Already validated above; recorded for reloads.
        let _ = settings::set_from_command_line(n, v);
    }

    let pidfile = match PidFile::lock(&rundir) {
        Ok(p) => p,
        Err((m, hint)) => return fatal(&m, hint.as_deref()),
    };
    supervisor::arm_preload_cleanup(pidfile.path());
    // The runtime names the configuration file in its start-up errors.
    settings::set_rundir(Some(&rundir));
    if let Err(e) = loader::load_preload_libraries(&preload) {
        log::emit_full(
            log::FATAL,
            &e.message,
            e.detail.as_deref(),
            e.hint.as_deref(),
        );
        pidfile.remove();
        return 1;
    }
    // The major is decided now (the modules' or postgresql_major).
    crate::process::signals::set_sigurg_disposition();
    (crate::hooks::get().prepare_daemon)();
    supervisor::run(Some(&rundir), Some(pidfile))
}
