//! `log_line_prefix`: PostgreSQL's escapes for the start of every log line.
//!
//! Supported: `%m` (time with milliseconds), `%t` (time), `%n` (Unix epoch
//! with milliseconds), `%p` (process id), `%b` (backend type: `bgworkerd`
//! for the supervisor, the worker's `bgw_type`, `attached process`), `%l`
//! (line number within the process), `%%`, and `%q` (stop here: what
//! follows is for session processes only, and there are none). The session
//! escapes PostgreSQL has (`%a %u %d %r %h %i %e %c %s %v %x %P %Q`)
//! produce nothing, as they do for PostgreSQL's background workers.
//! A number between `%` and the letter pads the value to that width (on
//! the left; `-` pads on the right), as in PostgreSQL.
//!
//! The format lives in a fixed array of atomics, so [`format_into`] is
//! async-signal-safe and allocation-free like the rest of the log path.
//! [`set`] is called by the supervisor's thread before it forks (workers
//! inherit the format) and at reload; a line written by another thread of
//! the supervisor's process during that reload may show a mix of the two
//! formats, nothing worse.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::log::Line;

/// PostgreSQL's default, which the built-in fast path writes.
pub(crate) const DEFAULT: &str = "%m [%p] ";
/// Longest accepted format, in bytes.
pub(crate) const MAX_LEN: usize = 256;

static FORMAT: [AtomicU8; MAX_LEN] = [const { AtomicU8::new(0) }; MAX_LEN];
static LEN: AtomicUsize = AtomicUsize::new(0);
/// False while the format is the default (log.rs then takes its own path).
static CUSTOM: AtomicBool = AtomicBool::new(false);

/// Line counter for `%l`, and the process it counts for (a forked worker
/// starts again at 1, as in PostgreSQL).
static LINE_NO: AtomicU64 = AtomicU64::new(0);
static LINE_PID: AtomicI32 = AtomicI32::new(0);

/// Check a `log_line_prefix` value (PostgreSQL's message style).
pub fn check(v: &str) -> Result<(), String> {
    if v.len() > MAX_LEN {
        return Err(format!(
            "invalid value for parameter \"log_line_prefix\": longer than {MAX_LEN} bytes"
        ));
    }
    Ok(())
}

/// Use `fmt` from now on. Caller: the supervisor's thread (see the module
/// comment). A value that fails [`check`] is cut to [`MAX_LEN`] bytes.
pub fn set(fmt: &str) {
    if fmt == DEFAULT {
        CUSTOM.store(false, Ordering::SeqCst);
        return;
    }
    let b = &fmt.as_bytes()[..fmt.len().min(MAX_LEN)];
    CUSTOM.store(false, Ordering::SeqCst);
    for (slot, &c) in FORMAT.iter().zip(b) {
        slot.store(c, Ordering::Relaxed);
    }
    LEN.store(b.len(), Ordering::Release);
    CUSTOM.store(true, Ordering::SeqCst);
}

/// Is a format other than the default in use? (async-signal-safe)
pub fn custom() -> bool {
    CUSTOM.load(Ordering::Acquire)
}

/// Append the prefix for a line written now. Async-signal-safe: no
/// allocation, no locks.
pub fn format_into(line: &mut Line) {
    let len = LEN.load(Ordering::Acquire).min(MAX_LEN);
    // SAFETY: getpid has no preconditions and is async-signal-safe.
    let pid = unsafe { libc::getpid() };
    if LINE_PID.swap(pid, Ordering::Relaxed) != pid {
        LINE_NO.store(0, Ordering::Relaxed);
    }
    let line_no = LINE_NO.fetch_add(1, Ordering::Relaxed) + 1;
    let mut i = 0;
    while i < len {
        let c = FORMAT[i].load(Ordering::Relaxed);
        i += 1;
        if c != b'%' || i >= len {
            line.push_bytes(&[c]);
            continue;
        }
        // Optional padding: -?digits
        let mut left = false;
        if FORMAT[i].load(Ordering::Relaxed) == b'-' {
            left = true;
            i += 1;
        }
        let mut pad: usize = 0;
        while i < len && FORMAT[i].load(Ordering::Relaxed).is_ascii_digit() {
            pad = (pad * 10 + (FORMAT[i].load(Ordering::Relaxed) - b'0') as usize).min(128);
            i += 1;
        }
        if i >= len {
            break;
        }
        let esc = FORMAT[i].load(Ordering::Relaxed);
        i += 1;
        let mut v = Line::new();
        match esc {
            b'm' => push_time(&mut v, true),
            b't' => push_time(&mut v, false),
            b'n' => {
                let (s, ns) = now();
                v.push_int(s, 0).push(".").push_int(ns / 1_000_000, 3);
            }
            b'p' => {
                v.push_int(pid as i64, 0);
            }
            b'l' => {
                v.push_int(line_no as i64, 0);
            }
            b'b' => push_backend_type(&mut v),
            b'%' => {
                v.push("%");
            }
            b'q' => break,
            // Session escapes: nothing for processes without a session.
            _ => {}
        }
        let n = v.as_bytes().len();
        if !left {
            for _ in n..pad {
                line.push(" ");
            }
        }
        line.push_bytes(v.as_bytes());
        if left {
            for _ in n..pad {
                line.push(" ");
            }
        }
    }
}

// time_t and c_long are i64 on x86-64 only.
#[allow(clippy::unnecessary_cast)]
fn now() -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec; it is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec as i64, ts.tv_nsec as i64)
}

/// `2026-11-22 18:49:52[.123] UTC`
fn push_time(v: &mut Line, millis: bool) {
    let (secs, ns) = now();
    let (y, mo, d) = crate::log::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    v.push_int(y, 4)
        .push("-")
        .push_int(mo, 2)
        .push("-")
        .push_int(d, 2)
        .push(" ");
    v.push_int(sod / 3600, 2)
        .push(":")
        .push_int(sod / 60 % 60, 2)
        .push(":")
        .push_int(sod % 60, 2);
    if millis {
        v.push(".").push_int(ns / 1_000_000, 3);
    }
    v.push(" UTC");
}

fn push_backend_type(v: &mut Line) {
    use crate::identity::Role;
    match crate::identity::role() {
        Some(Role::Supervisor) => {
            v.push("bgworkerd");
        }
        Some(Role::Worker) => {
            // Reading the worker's own definition is async-signal-safe.
            if let Some(w) = crate::identity::my_entry() {
                let t = &w.bgw_type;
                let end = t.iter().position(|&c| c == 0).unwrap_or(t.len());
                for &c in &t[..end] {
                    v.push_bytes(&[c as u8]);
                }
            }
        }
        Some(Role::Attached) => {
            v.push("attached process");
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_padding() {
        set("<%p|%5p|%-3l|%%|%a%u%d|%n> %q tail");
        let pid = std::process::id();
        let mut l = Line::new();
        format_into(&mut l);
        let s = String::from_utf8(l.as_bytes().to_vec()).unwrap();
        let mut parts = s.trim_start_matches('<').split('|');
        assert_eq!(parts.next().unwrap(), pid.to_string());
        assert_eq!(parts.next().unwrap(), format!("{pid:>5}"));
        let n: u64 = parts.next().unwrap().trim_end().parse().unwrap();
        assert!(n >= 1);
        assert_eq!(parts.next().unwrap(), "%");
        assert_eq!(parts.next().unwrap(), "");
        let rest = parts.next().unwrap();
        assert!(rest.ends_with("> "), "{s}");
        assert!(rest.contains('.'), "{s}");
        set("%t ");
        let mut l = Line::new();
        format_into(&mut l);
        let s = String::from_utf8(l.as_bytes().to_vec()).unwrap();
        assert!(
            s.len() == "2026-11-22 18:49:52 UTC ".len() && s.ends_with(" UTC "),
            "{s}"
        );
        set(DEFAULT);
        assert!(!custom());
        assert!(check(&"x".repeat(300)).is_err());
    }
}
