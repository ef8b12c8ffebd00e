//! Supervision beyond PostgreSQL, opt-in: restart backoff, a give-up limit,
//! readiness with a start timeout, a stop timeout, a watchdog, and exit
//! reasons kept per generation. This module holds the policy (what may be
//! configured, its validation, its precedence and the backoff arithmetic);
//! the supervisor applies it (supervisor/supervision.rs), the segment
//! stores it (shmem/supervision.rs), backends set it and read the results
//! (backend/supervision.rs), and `supervision.rs` exports it to C
//! (include/bgworker_supervision.h).
//!
//! With nothing configured every field is unset, and every decision below
//! falls back to PostgreSQL's: `bgw_restart_time`, never give up, "started"
//! is the only readiness, SIGTERM waits for ever, no watchdog.
//!
//! # The state machine of one registered worker
//!
//! States (`bgworkerctl status` shows them; `ready` is a flag of `running`):
//!
//! | state | meaning |
//! |---|---|
//! | `not started` | registered, waiting for its start phase or its turn |
//! | `running` | its process runs; `ready` once it called `bgw_notify_ready` |
//! | `terminating` | SIGTERM sent (terminate, smart/fast shutdown); the stop timeout runs |
//! | `restarting` | exited; starts again at `restart_at`, or after the crash cycle under way |
//! | `failed` | exited once too often (give-up limit): not restarted; the slot is kept |
//! | `stopped` | unregistered; the slot is free; the facts describe its last worker |
//!
//! Transitions:
//!
//! | from | event | to |
//! |---|---|---|
//! | not started | its turn (phase reached, no crash cycle, no shutdown) | running (fork; the start timeout and watchdog are armed) |
//! | running | `bgw_notify_ready` from its own process | running, ready (start timeout disarmed) |
//! | running | start timeout passes before ready | SIGKILL, LOG; the exit is an *exit 1* with reason `start timeout` |
//! | running | watchdog: no check-in within the interval | SIGKILL, LOG; the exit is a crash or an *exit 1* (`watchdog_action`), reason `watchdog` |
//! | running | terminate / smart or fast shutdown | terminating (SIGTERM; stop deadline armed if a stop timeout is set) |
//! | terminating | stop timeout passes | SIGKILL, LOG; the exit is a plain stop (never a crash), reason `stop timeout` |
//! | running, terminating | exit 0, or terminated, or BGW_NEVER_RESTART, or shutdown | stopped |
//! | running | exit 1 (or a start-timeout / exit-1 watchdog kill) | restarting at now + delay (see *Restart delay*), or failed (see *Give-up*) |
//! | running | any other exit (a crash) | restarting after the crash cycle; delay and give-up as for exit 1, counted for this worker only |
//! | restarting | `restart_at` reached | not started (queued) |
//! | failed | `bgworkerctl restart`, `bgw_relaunch` | not started (history cleared) |
//! | failed | terminate (dynamic workers) | stopped |
//! | any | crash cycle of another worker | its process gets SIGQUIT; after the cycle it restarts at once, as in PostgreSQL: the cycle counts toward nothing of its own |
//!
//! # How each feature meets a crash cycle
//!
//! A crash (any exit but 0 and 1, or a watchdog kill configured as a
//! crash) starts PostgreSQL's crash cycle: SIGQUIT to every other worker,
//! SIGKILL after 5 s, reinitialise, restart. The cycle counts toward the
//! backoff and the give-up limit of the worker that crashed only: its exit
//! is recorded (restart count, give-up window) when it is reaped, and after
//! the cycle it starts at `exit time + its backoff delay` (not at once) or
//! stays `failed`. The workers stopped by SIGQUIT restart at once and their
//! counts do not move. A `failed` worker stays failed through a crash cycle
//! (it has no process to stop). Stop timeouts do not apply to the cycle's
//! SIGQUIT (PostgreSQL's 5 s SIGKILL grace does), nor to an immediate
//! shutdown. Start timeouts and watchdogs do not apply to a process being
//! stopped (by the cycle, a terminate or a shutdown): only its stop timeout
//! does. Exit records are kept: the crasher's says `crash`, the others'
//! say `stopped`, with what ended them (SIGQUIT: exit status 2 or the
//! signal).
//!
//! # Restart delay (backoff)
//!
//! Without `backoff_initial` the delay is `bgw_restart_time`, PostgreSQL's.
//! With it, the k-th consecutive restart (k = 1, 2, …) waits
//! `min(cap, initial × factor^(k−1))`, plus a random extra of up to
//! `jitter` × that (jitter 0..1), the whole capped at [`MAX_DELAY_MS`].
//! k goes back to 1 when the worker has run for `reset_after` without
//! exiting. The arithmetic is in saturating floating point, so no exponent
//! overflows (see [`Effective::delay_ms`]). BGW_NEVER_RESTART workers are
//! never restarted, backoff or not.
//!
//! # Give-up
//!
//! More than `give_up_restarts` restarts within `give_up_window` (as OTP's
//! intensity and period) puts the worker in `failed` instead of restarting
//! it, with a LOG line saying why. So with a limit of N the worker is
//! started N + 1 times at most within the window.
//!
//! # Precedence
//!
//! Field by field: a policy set for the worker itself (`bgw_set_policy` on
//! its handle, or `bgw_set_next_policy` before its registration) wins over
//! the `worker_policy_by_type` entry of its `bgw_type`, which wins over the
//! daemon-wide `worker_*` settings, which win over PostgreSQL's behaviour.
//!
//! # Who calls what
//!
//! The supervisor calls [`Effective::merge`] and [`Effective::delay_ms`];
//! settings.rs calls [`parse_setting`] and [`parse_by_type`]; the C exports
//! and the Rust API build a [`Policy`] and call [`Policy::validate`].

use std::collections::BTreeMap;

/// Every delay, interval and timeout is at most this long (24 hours); a
/// backoff that would grow beyond it stops there.
pub const MAX_DELAY_MS: u32 = 86_400_000;
/// Largest backoff factor.
pub const MAX_FACTOR: f64 = 1000.0;
/// Largest give-up restart count.
pub const MAX_GIVE_UP_RESTARTS: i32 = 1_000_000;

/// Built-in values of fields left unset where the feature is on.
pub const DEFAULT_FACTOR: f64 = 2.0;
pub const DEFAULT_CAP_MS: u32 = 300_000;
pub const DEFAULT_RESET_AFTER_MS: u32 = 60_000;
pub const DEFAULT_GIVE_UP_WINDOW_MS: u32 = 60_000;

/// What a watchdog kill counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchdogAction {
    /// A crash: PostgreSQL's crash cycle (the default, as systemd's
    /// WatchdogSec counts a failure).
    Crash,
    /// A plain exit with code 1: restarted after its delay, nothing else
    /// stops.
    Exit1,
}

impl WatchdogAction {
    pub fn code(self) -> i32 {
        match self {
            WatchdogAction::Crash => 0,
            WatchdogAction::Exit1 => 1,
        }
    }

    pub fn from_code(c: i32) -> Option<Self> {
        match c {
            0 => Some(WatchdogAction::Crash),
            1 => Some(WatchdogAction::Exit1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WatchdogAction::Crash => "crash",
            WatchdogAction::Exit1 => "exit",
        }
    }
}

/// A supervision policy: every field optional; unset fields fall through
/// to the next level of precedence (see the module comment).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Policy {
    /// First restart delay; setting it turns the backoff on (0: off).
    pub backoff_initial_ms: Option<u32>,
    pub backoff_factor: Option<f64>,
    pub backoff_cap_ms: Option<u32>,
    /// 0.0 ..= 1.0: extra random delay, as a fraction of the delay.
    pub backoff_jitter: Option<f64>,
    /// Uptime after which the backoff starts over (0: never).
    pub backoff_reset_after_ms: Option<u32>,
    /// Restarts allowed within the window (-1: no limit).
    pub give_up_restarts: Option<i32>,
    pub give_up_window_ms: Option<u32>,
    /// Longest time from start to `bgw_notify_ready` (0: none).
    pub start_timeout_ms: Option<u32>,
    /// Longest time from SIGTERM to exit before SIGKILL (0: for ever).
    pub stop_timeout_ms: Option<u32>,
    /// Longest time between watchdog check-ins (0: no watchdog).
    pub watchdog_ms: Option<u32>,
    pub watchdog_action: Option<WatchdogAction>,
}

fn ms_range(what: &str, v: u32) -> Result<(), String> {
    if v > MAX_DELAY_MS {
        return Err(format!(
            "{what} {v} ms is out of range (0 .. {MAX_DELAY_MS} ms)"
        ));
    }
    Ok(())
}

impl Policy {
    /// Check every field that is set; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        let ms = [
            ("backoff_initial", self.backoff_initial_ms),
            ("backoff_cap", self.backoff_cap_ms),
            ("backoff_reset_after", self.backoff_reset_after_ms),
            ("give_up_window", self.give_up_window_ms),
            ("start_timeout", self.start_timeout_ms),
            ("stop_timeout", self.stop_timeout_ms),
            ("watchdog_interval", self.watchdog_ms),
        ];
        for (what, v) in ms {
            if let Some(v) = v {
                ms_range(what, v)?;
            }
        }
        if let Some(f) = self.backoff_factor {
            if !f.is_finite() || !(1.0..=MAX_FACTOR).contains(&f) {
                return Err(format!(
                    "backoff_factor {f} is out of range (1 .. {MAX_FACTOR})"
                ));
            }
        }
        if let Some(j) = self.backoff_jitter {
            if !j.is_finite() || !(0.0..=1.0).contains(&j) {
                return Err(format!("backoff_jitter {j} is out of range (0 .. 1)"));
            }
        }
        if let Some(n) = self.give_up_restarts {
            if !(-1..=MAX_GIVE_UP_RESTARTS).contains(&n) {
                return Err(format!(
                    "give_up_restarts {n} is out of range (-1 .. {MAX_GIVE_UP_RESTARTS})"
                ));
            }
        }
        if self.give_up_window_ms == Some(0) {
            return Err("give_up_window must be at least 1 ms".into());
        }
        Ok(())
    }

    /// Fields of `self`, with those it leaves unset taken from `under`.
    pub fn over(&self, under: &Policy) -> Policy {
        Policy {
            backoff_initial_ms: self.backoff_initial_ms.or(under.backoff_initial_ms),
            backoff_factor: self.backoff_factor.or(under.backoff_factor),
            backoff_cap_ms: self.backoff_cap_ms.or(under.backoff_cap_ms),
            backoff_jitter: self.backoff_jitter.or(under.backoff_jitter),
            backoff_reset_after_ms: self.backoff_reset_after_ms.or(under.backoff_reset_after_ms),
            give_up_restarts: self.give_up_restarts.or(under.give_up_restarts),
            give_up_window_ms: self.give_up_window_ms.or(under.give_up_window_ms),
            start_timeout_ms: self.start_timeout_ms.or(under.start_timeout_ms),
            stop_timeout_ms: self.stop_timeout_ms.or(under.stop_timeout_ms),
            watchdog_ms: self.watchdog_ms.or(under.watchdog_ms),
            watchdog_action: self.watchdog_action.or(under.watchdog_action),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }

    /// Set one field from its setting-style name (`backoff_initial`, ...)
    /// and text value (times with units: `500ms`, `2s`, `1min`; bare
    /// numbers are milliseconds). On error `self` is unchanged.
    pub fn set_field(&mut self, key: &str, value: &str) -> Result<(), String> {
        let mut p = *self;
        p.set_field_unchecked(key, value)?;
        p.validate()?;
        *self = p;
        Ok(())
    }

    fn set_field_unchecked(&mut self, key: &str, value: &str) -> Result<(), String> {
        let v = value.trim();
        match key {
            "backoff_initial" => self.backoff_initial_ms = Some(parse_ms(key, v)?),
            "backoff_factor" => self.backoff_factor = Some(parse_real(key, v)?),
            "backoff_cap" => self.backoff_cap_ms = Some(parse_ms(key, v)?),
            "backoff_jitter" => self.backoff_jitter = Some(parse_real(key, v)?),
            "backoff_reset_after" => self.backoff_reset_after_ms = Some(parse_ms(key, v)?),
            "give_up_restarts" => {
                self.give_up_restarts = Some(v.parse::<i32>().map_err(|_| {
                    format!(
                        "invalid value for \"{key}\": \"{value}\" (an integer, -1 for no limit)"
                    )
                })?)
            }
            "give_up_window" => self.give_up_window_ms = Some(parse_ms(key, v)?),
            "start_timeout" => self.start_timeout_ms = Some(parse_ms(key, v)?),
            "stop_timeout" => self.stop_timeout_ms = Some(parse_ms(key, v)?),
            "watchdog_interval" => self.watchdog_ms = Some(parse_ms(key, v)?),
            "watchdog_action" => {
                self.watchdog_action = Some(match v.to_ascii_lowercase().as_str() {
                    "crash" => WatchdogAction::Crash,
                    "exit" => WatchdogAction::Exit1,
                    _ => {
                        return Err(format!(
                            "invalid value for \"{key}\": \"{value}\" (crash or exit)"
                        ))
                    }
                })
            }
            _ => return Err(format!("unrecognized supervision policy field \"{key}\"")),
        }
        Ok(())
    }
}

/// The setting-style field names, in documentation order.
pub const FIELDS: &[&str] = &[
    "backoff_initial",
    "backoff_factor",
    "backoff_cap",
    "backoff_jitter",
    "backoff_reset_after",
    "give_up_restarts",
    "give_up_window",
    "start_timeout",
    "stop_timeout",
    "watchdog_interval",
    "watchdog_action",
];

/// A time in milliseconds: a number with an optional unit (`ms`, `s`,
/// `min`, `h`; none means ms), as PostgreSQL's time settings take them.
pub fn parse_ms(key: &str, v: &str) -> Result<u32, String> {
    let bad = || format!("invalid value for \"{key}\": \"{v}\" (a time such as 500ms, 2s, 1min)");
    let t = v.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult = match unit.trim() {
        "" | "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(bad()),
    };
    let ms = (n * mult).round();
    if !ms.is_finite() || ms < 0.0 || ms > MAX_DELAY_MS as f64 {
        return Err(format!(
            "\"{key}\" {v} is out of range (0 .. {MAX_DELAY_MS} ms)"
        ));
    }
    Ok(ms as u32)
}

fn parse_real(key: &str, v: &str) -> Result<f64, String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("invalid value for \"{key}\": \"{v}\" (a number)"))
}

/// The daemon-wide setting for a field: `worker_` + the field name.
pub fn setting_field(name: &str) -> Option<&'static str> {
    let f = name.strip_prefix("worker_")?;
    FIELDS.iter().copied().find(|k| *k == f)
}

thread_local! {
    /// The policy for this thread's next registration (bgw_set_next_policy).
    static NEXT: std::cell::Cell<Option<Policy>> = const { std::cell::Cell::new(None) };
}

/// Set (or, with None, clear) the policy of this thread's next
/// registration. Callers validate first.
pub fn set_next(p: Option<Policy>) {
    NEXT.with(|n| n.set(p));
}

/// Take the policy of this thread's next registration (the registration
/// calls this, whatever becomes of it).
pub fn take_next() -> Option<Policy> {
    NEXT.with(|n| n.take())
}

/// Is `name` (lower case) one of the supervision settings?
pub fn is_setting(name: &str) -> bool {
    setting_field(name).is_some() || name == BY_TYPE_SETTING
}

/// Name of the per-type setting.
pub const BY_TYPE_SETTING: &str = "worker_policy_by_type";

/// Parse `worker_policy_by_type`: entries `TYPE: field=value, field=value`
/// separated by `;`. TYPE may be double-quoted (to hold `:` or `;`);
/// surrounding blanks are dropped. An empty value has no entries.
pub fn parse_by_type(v: &str) -> Result<BTreeMap<String, Policy>, String> {
    let mut out = BTreeMap::new();
    for entry in split_outside_quotes(v, ';') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let colon = find_outside_quotes(entry, ':').ok_or_else(|| {
            format!("{BY_TYPE_SETTING}: entry \"{entry}\" has no \"TYPE:\" before its fields")
        })?;
        let ty = entry[..colon].trim().trim_matches('"').to_string();
        if ty.is_empty() || ty.len() >= crate::abi::BGW_MAXLEN {
            return Err(format!(
                "{BY_TYPE_SETTING}: invalid worker type \"{ty}\" (1 to {} bytes)",
                crate::abi::BGW_MAXLEN - 1
            ));
        }
        let mut p = Policy::default();
        for kv in entry[colon + 1..].split(',') {
            let kv = kv.trim();
            if kv.is_empty() {
                continue;
            }
            let (k, val) = kv.split_once('=').ok_or_else(|| {
                format!("{BY_TYPE_SETTING}: \"{kv}\" for type \"{ty}\" is not field=value")
            })?;
            p.set_field(k.trim(), val)
                .map_err(|e| format!("{BY_TYPE_SETTING}: type \"{ty}\": {e}"))?;
        }
        if out.insert(ty.clone(), p).is_some() {
            return Err(format!("{BY_TYPE_SETTING}: type \"{ty}\" appears twice"));
        }
    }
    Ok(out)
}

fn find_outside_quotes(s: &str, sep: char) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            return Some(i);
        }
    }
    None
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find_outside_quotes(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + 1..];
    }
    out.push(rest);
    out
}

/// The policy a worker runs under, every field decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effective {
    /// None: PostgreSQL's fixed `bgw_restart_time`.
    pub backoff: Option<Backoff>,
    /// None: never give up.
    pub give_up: Option<(u32, u32)>,
    pub start_timeout_ms: Option<u32>,
    pub stop_timeout_ms: Option<u32>,
    pub watchdog: Option<(u32, WatchdogAction)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub initial_ms: u32,
    pub factor: f64,
    pub cap_ms: u32,
    pub jitter: f64,
    pub reset_after_ms: u32,
}

impl Effective {
    /// PostgreSQL's behaviour: nothing configured.
    pub const NONE: Effective = Effective {
        backoff: None,
        give_up: None,
        start_timeout_ms: None,
        stop_timeout_ms: None,
        watchdog: None,
    };

    /// The policy of a worker: `own` over `by_type` over `daemon` (see
    /// Precedence), with built-in values for the rest.
    pub fn merge(own: &Policy, by_type: Option<&Policy>, daemon: &Policy) -> Effective {
        let p = own.over(&by_type.copied().unwrap_or_default().over(daemon));
        let nz = |v: Option<u32>| v.filter(|&x| x > 0);
        Effective {
            backoff: nz(p.backoff_initial_ms).map(|initial_ms| Backoff {
                initial_ms,
                factor: p.backoff_factor.unwrap_or(DEFAULT_FACTOR),
                cap_ms: p.backoff_cap_ms.unwrap_or(DEFAULT_CAP_MS).max(initial_ms),
                jitter: p.backoff_jitter.unwrap_or(0.0),
                reset_after_ms: p.backoff_reset_after_ms.unwrap_or(DEFAULT_RESET_AFTER_MS),
            }),
            give_up: p.give_up_restarts.filter(|&n| n >= 0).map(|n| {
                (
                    n as u32,
                    p.give_up_window_ms.unwrap_or(DEFAULT_GIVE_UP_WINDOW_MS),
                )
            }),
            start_timeout_ms: nz(p.start_timeout_ms),
            stop_timeout_ms: nz(p.stop_timeout_ms),
            watchdog: nz(p.watchdog_ms)
                .map(|ms| (ms, p.watchdog_action.unwrap_or(WatchdogAction::Crash))),
        }
    }

    pub fn is_none(&self) -> bool {
        *self == Effective::NONE
    }
}

impl Backoff {
    /// Delay before the `k`-th consecutive restart (k >= 1; 0 counts as 1),
    /// `unit` in [0, 1) choosing the jitter: `min(cap, initial ×
    /// factor^(k−1)) × (1 + jitter × unit)`, at most [`MAX_DELAY_MS`]. Never
    /// overflows: the power is computed in floating point, where it
    /// saturates to infinity, and is capped before conversion.
    pub fn delay_ms(&self, k: u32, unit: f64) -> u32 {
        let exp = k.saturating_sub(1).min(i32::MAX as u32) as i32;
        let base = (self.initial_ms as f64 * self.factor.powi(exp)).min(self.cap_ms as f64);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let d = base * (1.0 + self.jitter * unit);
        if d.is_nan() {
            return MAX_DELAY_MS;
        }
        d.min(MAX_DELAY_MS as f64).max(0.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_never_overflows() {
        let b = Backoff {
            initial_ms: 100,
            factor: 2.0,
            cap_ms: 1000,
            jitter: 0.0,
            reset_after_ms: 0,
        };
        let d: Vec<u32> = (1..=6).map(|k| b.delay_ms(k, 0.0)).collect();
        assert_eq!(d, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay_ms(u32::MAX, 0.0), 1000);
        let huge = Backoff {
            initial_ms: MAX_DELAY_MS,
            factor: MAX_FACTOR,
            cap_ms: MAX_DELAY_MS,
            jitter: 1.0,
            reset_after_ms: 0,
        };
        assert_eq!(huge.delay_ms(u32::MAX, 0.999), MAX_DELAY_MS);
        let j = Backoff { jitter: 1.0, ..b };
        assert!((100..=200).contains(&j.delay_ms(1, 0.5)));
        assert_eq!(j.delay_ms(1, f64::NAN), 100);
    }

    #[test]
    fn precedence_is_field_by_field() {
        let own = Policy {
            backoff_initial_ms: Some(50),
            ..Policy::default()
        };
        let ty = Policy {
            backoff_factor: Some(3.0),
            stop_timeout_ms: Some(7),
            backoff_initial_ms: Some(999),
            ..Policy::default()
        };
        let daemon = Policy {
            stop_timeout_ms: Some(9),
            give_up_restarts: Some(2),
            ..Policy::default()
        };
        let e = Effective::merge(&own, Some(&ty), &daemon);
        let b = e.backoff.unwrap();
        assert_eq!((b.initial_ms, b.factor), (50, 3.0));
        assert_eq!(e.stop_timeout_ms, Some(7));
        assert_eq!(e.give_up, Some((2, DEFAULT_GIVE_UP_WINDOW_MS)));
        assert!(Effective::merge(&Policy::default(), None, &Policy::default()).is_none());
    }

    #[test]
    fn bad_values_are_refused_with_the_field_named() {
        let mut p = Policy::default();
        assert!(p
            .set_field("backoff_factor", "0.5")
            .unwrap_err()
            .contains("backoff_factor"));
        assert!(p
            .set_field("stop_timeout", "-1s")
            .unwrap_err()
            .contains("out of range"));
        assert!(p.set_field("stop_timeout", "2days").is_err());
        assert!(p.set_field("watchdog_action", "reboot").is_err());
        assert!(p.set_field("give_up_restarts", "-7").is_err());
        assert!(p.set_field("nonsense", "1").is_err());
        p.set_field("stop_timeout", "1.5s").unwrap();
        assert_eq!(p.stop_timeout_ms, Some(1500));
        let t =
            parse_by_type("a: backoff_initial=1s, give_up_restarts=3; \"b:c\": stop_timeout=2s")
                .unwrap();
        assert_eq!(t["a"].backoff_initial_ms, Some(1000));
        assert_eq!(t["b:c"].stop_timeout_ms, Some(2000));
        assert!(parse_by_type("a backoff_initial=1s").is_err());
        assert!(parse_by_type("a: x=1").is_err());
        assert!(parse_by_type("a: stop_timeout=1s; a: stop_timeout=2s").is_err());
        let f = Policy {
            backoff_jitter: Some(f64::NAN),
            ..Policy::default()
        };
        assert!(f.validate().is_err());
    }
}
