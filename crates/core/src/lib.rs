//! libbgworker's core: PostgreSQL's background-worker facility as a
//! library, without the PostgreSQL backend runtime.
//!
//! A C module written against PostgreSQL 15's, 17's or 18's
//! `postmaster/bgworker.h` (see abi.rs and identity.rs for the majors) links
//! against this library (or is loaded by `bgworkerd`) unchanged and runs
//! with PostgreSQL's semantics: static workers registered at load time,
//! dynamic workers registered at run time from any attached process,
//! generation-checked handles, restart intervals, crash-and-restart cycles,
//! `bgw_notify_pid` notifications, waiting and termination.
//!
//! Modules: [`abi`] (the C types), [`api`] (the exported functions, each
//! behind one panic boundary), [`host`] (embedding and attach API),
//! [`shmem`] (segment and slot protocol), [`supervisor`] (the postmaster's
//! loop), [`process`] (loading modules, worker set-up), [`backend`] (the
//! calling process's side of the protocol), [`settings`], [`log`],
//! [`daemon`] (bgworkerd's command line) and [`ctl`] (bgworkerctl).
//!
//! A runtime on top (the PostgreSQL runtime of the `bgworker-pgrt` crate)
//! takes part through [`hooks`]; the core never names it. [`identity`]
//! says what this process is, for log lines and the runtime. [`policy`]
//! is the opt-in supervision beyond PostgreSQL's (its state machine is
//! documented there).
//!
//! Layers, lowest first; a module uses only modules of lower layers (the
//! layering test checks it): `abi`; `identity`, `pidfd`, `policy`; `log` (with its
//! `prefix` and `file`); `shmem`; `settings`; `hooks`; `backend`; `process`;
//! `supervisor`; `api`; `host`, `daemon`, `ctl`, `supervision` (the
//! supervision's C exports).

#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod api;
pub mod backend;
pub mod ctl;
pub mod daemon;
pub mod hooks;
pub mod host;
pub mod identity;
pub mod log;
pub mod pidfd;
/// cbindgen:ignore
pub mod policy;
pub mod process;
pub mod settings;
pub mod shmem;
pub mod supervision;
pub mod supervisor;

/// Command-line arguments as text: every argument must be UTF-8 (names,
/// paths and settings are shown in messages and compared as text). The
/// error names the first argument that is not, by position, as it would
/// print with the invalid bytes replaced.
pub fn utf8_args(args: impl Iterator<Item = std::ffi::OsString>) -> Result<Vec<String>, String> {
    args.enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|a| {
                format!(
                    "argument {} is not valid UTF-8: \"{}\"",
                    i + 1,
                    a.to_string_lossy()
                )
            })
        })
        .collect()
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// strerror text of an errno value, as PostgreSQL's `%m` prints it.
pub fn errno_text(e: i32) -> String {
    let s = std::io::Error::from_raw_os_error(e).to_string();
    // std appends " (os error N)"; PostgreSQL prints the bare text.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// An I/O error's text without std's " (os error N)" suffix.
pub fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(n),
        None => e.to_string(),
    }
}

/// The header cbindgen generated from this crate (include/bgworker.h is the
/// checked-in copy; the header test compares them).
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/bgworker.h"));
