//! Server log: PostgreSQL's severities, its default `%m [%p] ` line prefix
//! (or `log_line_prefix`, [`prefix`]), `log_min_messages` filtering, and
//! the log file ([`file`]).
//!
//! Every line is assembled in a stack buffer and written to stderr with one
//! `write(2)`, so lines from the supervisor and its workers (which share the
//! same stderr) do not interleave mid-line. Nothing here allocates or locks:
//! [`emit`] may be called from a signal handler and between `fork` and the
//! worker's entry point.

use std::sync::atomic::{AtomicI32, Ordering};

pub mod file;
pub mod prefix;

/// PostgreSQL 15's error levels (elog.h); the numbers are part of the ABI
/// that compiled modules use.
pub const DEBUG5: i32 = 10;
pub const DEBUG4: i32 = 11;
pub const DEBUG3: i32 = 12;
pub const DEBUG2: i32 = 13;
pub const DEBUG1: i32 = 14;
pub const LOG: i32 = 15;
pub const INFO: i32 = 17;
pub const NOTICE: i32 = 18;
pub const WARNING: i32 = 19;
pub const ERROR: i32 = 21;
pub const FATAL: i32 = 22;
pub const PANIC: i32 = 23;

/// `log_min_messages`, shared by the supervisor and (inherited at fork) its
/// workers. Relaxed ordering: a level change racing with a message only
/// decides whether that one message is shown.
static MIN_LEVEL: AtomicI32 = AtomicI32::new(WARNING);

pub fn set_min_level(level: i32) {
    MIN_LEVEL.store(level, Ordering::Relaxed);
}

pub fn min_level() -> i32 {
    MIN_LEVEL.load(Ordering::Relaxed)
}

/// Rank of a level for server-log filtering: LOG sorts between ERROR and
/// FATAL, as in PostgreSQL's `is_log_level_output`.
fn rank(level: i32) -> i32 {
    if level == LOG {
        ERROR * 2 + 1
    } else {
        level * 2
    }
}

/// Would a message at `level` be written with the current setting?
pub fn enabled(level: i32) -> bool {
    rank(level) >= rank(min_level())
}

/// The word PostgreSQL prints for a level.
pub fn level_name(level: i32) -> &'static str {
    match level {
        DEBUG5..=DEBUG1 => "DEBUG",
        LOG | 16 => "LOG",
        INFO => "INFO",
        NOTICE => "NOTICE",
        WARNING | 20 => "WARNING",
        ERROR => "ERROR",
        FATAL => "FATAL",
        _ => "PANIC",
    }
}

/// The setting's spelling of a level (`debug1`, `warning`, ...).
pub fn level_word(level: i32) -> &'static str {
    match level {
        DEBUG5 => "debug5",
        DEBUG4 => "debug4",
        DEBUG3 => "debug3",
        DEBUG2 => "debug2",
        DEBUG1 => "debug1",
        INFO => "info",
        NOTICE => "notice",
        WARNING => "warning",
        ERROR => "error",
        LOG => "log",
        FATAL => "fatal",
        _ => "panic",
    }
}

/// Parse a `log_min_messages` value (case-insensitive, as PostgreSQL).
pub fn parse_level(s: &str) -> Option<i32> {
    Some(match s.to_ascii_lowercase().as_str() {
        "debug5" => DEBUG5,
        "debug4" => DEBUG4,
        "debug3" => DEBUG3,
        "debug2" | "debug" => DEBUG2,
        "debug1" => DEBUG1,
        "info" => INFO,
        "notice" => NOTICE,
        "warning" => WARNING,
        "error" => ERROR,
        "log" => LOG,
        "fatal" => FATAL,
        "panic" => PANIC,
        _ => return None,
    })
}

/// A fixed-capacity line; pushes past the end are dropped (the line is cut,
/// never overrun).
pub struct Line {
    buf: [u8; 2048],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    pub const fn new() -> Self {
        Line {
            buf: [0; 2048],
            len: 0,
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.push_bytes(s.as_bytes())
    }

    pub fn push_bytes(&mut self, b: &[u8]) -> &mut Self {
        let n = b.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self
    }

    /// Decimal integer, zero-padded to `width` digits.
    pub fn push_int(&mut self, v: i64, width: usize) -> &mut Self {
        let mut tmp = [0u8; 24];
        let mut i = tmp.len();
        let neg = v < 0;
        let mut u = v.unsigned_abs();
        loop {
            i -= 1;
            tmp[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        while tmp.len() - i < width {
            i -= 1;
            tmp[i] = b'0';
        }
        if neg {
            i -= 1;
            tmp[i] = b'-';
        }
        self.push_bytes(&tmp[i..])
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// PostgreSQL's default prefix: `2026-11-22 18:49:52.123 UTC [1234] `.
    pub fn push_prefix(&mut self) -> &mut Self {
        if crate::log::prefix::custom() {
            crate::log::prefix::format_into(self);
            return self;
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec; it is async-signal-safe.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        let secs = ts.tv_sec;
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        self.push_int(y, 4)
            .push("-")
            .push_int(mo, 2)
            .push("-")
            .push_int(d, 2)
            .push(" ");
        self.push_int(sod / 3600, 2)
            .push(":")
            .push_int(sod / 60 % 60, 2)
            .push(":");
        self.push_int(sod % 60, 2)
            .push(".")
            .push_int(ts.tv_nsec / 1_000_000, 3);
        // SAFETY: getpid has no preconditions and is async-signal-safe.
        let pid = unsafe { libc::getpid() };
        self.push(" UTC [").push_int(pid as i64, 0).push("] ")
    }

    /// Write the line to stderr in one call (async-signal-safe).
    pub fn write_stderr(&self) {
        write_all(self.as_bytes());
    }
}

/// Write `b` to the log (stderr) with as few write(2) calls as it takes
/// (async-signal-safe).
pub fn write_all(b: &[u8]) {
    {
        let mut off = 0;
        while off < b.len() {
            // SAFETY: the pointer and length describe initialised bytes of
            // `self.buf`; write(2) is async-signal-safe.
            let n = unsafe { libc::write(2, b[off..].as_ptr().cast(), b.len() - off) };
            if n <= 0 {
                // EINTR: try again; anything else: the log is gone, give up.
                if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return;
            }
            off += n as usize;
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Log `msg` at `level` with optional DETAIL and HINT lines, if the level
/// passes `log_min_messages`. Async-signal-safe (no allocation).
pub fn emit_full(level: i32, msg: &str, detail: Option<&str>, hint: Option<&str>) {
    if !enabled(level) {
        return;
    }
    let mut line = Line::new();
    line.push_prefix()
        .push(level_name(level))
        .push(":  ")
        .push(msg)
        .push("\n");
    for (word, text) in [("DETAIL", detail), ("HINT", hint)] {
        if let Some(t) = text {
            line.push_prefix().push(word).push(":  ").push(t).push("\n");
        }
    }
    line.write_stderr();
}

/// Format and log a message only if `level` passes `log_min_messages`, so
/// disabled debug messages cost no formatting (allocates: not for signal
/// handlers).
#[macro_export]
macro_rules! elog {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, &format!($($arg)*));
        }
    };
}

/// Log `msg` at `level`. Async-signal-safe (no allocation).
pub fn emit(level: i32, msg: &str) {
    emit_full(level, msg, None, None);
}

/// The one wording of every call that needs the database server (the
/// runtime's generated entries, SPI and transactions, and
/// BackgroundWorkerInitializeConnection): `who` is the caller as the log
/// names it, `function` the PostgreSQL function it called.
pub fn needs_server_message(who: &str, function: &str) -> String {
    format!("{who}: {function} needs the database server, which is not available in libbgworker")
}

/// The HINT that goes with [`needs_server_message`].
pub const NEEDS_SERVER_HINT: &str =
    "Modules run by libbgworker can use shared memory, latches and signals, not the database server.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sorts_between_error_and_fatal() {
        set_min_level(WARNING);
        assert!(enabled(LOG) && enabled(ERROR) && !enabled(NOTICE) && !enabled(DEBUG1));
        set_min_level(FATAL);
        assert!(!enabled(LOG) && !enabled(ERROR) && enabled(PANIC));
        set_min_level(WARNING);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn ints() {
        let mut l = Line::new();
        l.push_int(7, 3)
            .push(" ")
            .push_int(-42, 0)
            .push(" ")
            .push_int(0, 0);
        assert_eq!(l.as_bytes(), b"007 -42 0");
    }
}
