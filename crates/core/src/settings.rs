//! Settings of a supervisor: `-c NAME=VALUE` options and
//! `RUNDIR/bgworker.conf` in postgresql.conf syntax, with PostgreSQL's
//! parsing rules and error messages.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::log;

/// Where a setting's value came from; command-line values win over the file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Source {
    Default,
    File,
    CommandLine,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub shared_preload_libraries: Vec<String>,
    pub max_worker_processes: i32,
    pub max_parallel_workers: i32,
    pub restart_after_crash: bool,
    pub log_min_messages: i32,
    pub dynamic_library_path: String,
    /// PostgreSQL's escapes, see log/prefix.rs.
    pub log_line_prefix: String,
    /// Log to this file instead of stderr (empty: stderr); log/file.rs.
    pub log_file: String,
    /// The PostgreSQL major a supervisor serves when no preloaded module
    /// says (one with a magic block decides; see identity.rs). Only 15, 17
    /// and 18 are accepted.
    pub postgresql_major: i32,
    /// What happens to a worker's descendants when it exits (beyond
    /// PostgreSQL: see supervisor/containment.rs).
    pub worker_containment: Containment,
    /// Module settings (`prefix.name`, lower-cased), kept as given.
    pub custom: BTreeMap<String, String>,
    sources: BTreeMap<&'static str, Source>,
    custom_sources: BTreeMap<String, Source>,
    /// Module setting names in the order first given (a reload applies
    /// them in file order, as PostgreSQL does).
    pub custom_order: Vec<String>,
    /// Opt-in supervision (policy.rs): the daemon-wide `worker_*`
    /// defaults and the per-bgw_type policies of `worker_policy_by_type`.
    pub worker_policy: crate::policy::Policy,
    pub worker_policy_by_type: BTreeMap<String, crate::policy::Policy>,
    /// Each supervision setting's text as given, and its source.
    supervision_given: BTreeMap<String, (String, Source)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            shared_preload_libraries: Vec::new(),
            max_worker_processes: 8,
            max_parallel_workers: 8,
            restart_after_crash: true,
            log_min_messages: log::WARNING,
            dynamic_library_path: "$libdir".into(),
            log_line_prefix: crate::log::prefix::DEFAULT.into(),
            log_file: String::new(),
            postgresql_major: crate::identity::DEFAULT_MAJOR as i32,
            worker_containment: Containment::None,
            custom: BTreeMap::new(),
            sources: BTreeMap::new(),
            custom_sources: BTreeMap::new(),
            custom_order: Vec::new(),
            worker_policy: crate::policy::Policy::default(),
            worker_policy_by_type: BTreeMap::new(),
            supervision_given: BTreeMap::new(),
        }
    }
}

/// `worker_containment`: `none` (PostgreSQL's behaviour: what a worker
/// leaves behind lives on) or `descendants` (bgworkerd takes every
/// descendant of a worker down when the worker exits, as systemd's
/// KillMode=control-group does for a unit).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Containment {
    None,
    Descendants,
}

impl Containment {
    pub fn name(self) -> &'static str {
        match self {
            Containment::None => "none",
            Containment::Descendants => "descendants",
        }
    }
}

/// The settings of this process (the supervisor, or a host before it runs).
pub static CURRENT: Mutex<Option<Settings>> = Mutex::new(None);

/// A copy of the current settings (defaults if none were made yet).
pub fn current() -> Settings {
    CURRENT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Who follows this process's settings: a runtime on top of the core
/// keeps the variables modules read (`max_worker_processes`, ...) in step.
/// Set by the runtime's install (see hooks.rs), before settings are made.
static OBSERVER: Mutex<Option<fn(&Settings)>> = Mutex::new(None);

/// Call `f` with the settings after every change from now on (and once
/// now, with the current ones).
pub fn observe(f: fn(&Settings)) {
    *OBSERVER.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    with_current(|_| {});
}

/// Change the settings of this process; the observer follows.
pub fn with_current<R>(f: impl FnOnce(&mut Settings) -> R) -> R {
    let mut g = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    let s = g.get_or_insert_with(Settings::default);
    let r = f(s);
    if let Some(obs) = *OBSERVER.lock().unwrap_or_else(|e| e.into_inner()) {
        obs(s);
    }
    r
}

/// A setting that could not be applied: PostgreSQL's message, and its HINT
/// where PostgreSQL gives one (the values an enum setting accepts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub message: String,
    pub hint: Option<String>,
}

impl From<String> for SettingError {
    fn from(message: String) -> Self {
        SettingError {
            message,
            hint: None,
        }
    }
}

/// The values of `log_min_messages` PostgreSQL lists in its HINT (without
/// the hidden alias `debug`), in its order.
const LOG_LEVEL_VALUES: &str =
    "debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic";

/// A configuration file's bytes as text, or an error naming the file and
/// the line of the first byte that is not UTF-8.
fn utf8_text(shown: &str, bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        format!(
            "invalid byte sequence in configuration file \"{shown}\" line {line}: the file must be UTF-8"
        )
    })
}

/// Settings that take effect only at supervisor start.
pub const POSTMASTER_ONLY: &[&str] = &[
    "shared_preload_libraries",
    "max_worker_processes",
    "postgresql_major",
    "worker_containment",
];

const KNOWN: &[&str] = &[
    "shared_preload_libraries",
    "max_worker_processes",
    "max_parallel_workers",
    "restart_after_crash",
    "log_min_messages",
    "dynamic_library_path",
    "log_line_prefix",
    "log_file",
    "postgresql_major",
    "worker_containment",
];

/// Is `name` (lower case) one of bgworkerd's own settings?
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name) || crate::policy::is_setting(name)
}

/// Which names beyond the core's own a runtime knows (see hooks.rs'
/// `extra_setting`; set when hooks are installed). Their values are kept
/// with the module settings.
static EXTRA_NAMES: Mutex<Option<NameTest>> = Mutex::new(None);

/// Says whether a name is a setting.
pub type NameTest = fn(&str) -> bool;

pub fn set_extra_names(f: NameTest) {
    *EXTRA_NAMES.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
}

/// Is `name` (lower case) a runtime's setting, not one of the core's?
fn is_extra(name: &str) -> bool {
    !is_known(name)
        && (*EXTRA_NAMES.lock().unwrap_or_else(|e| e.into_inner())).is_some_and(|f| f(name))
}

/// The run directory whose bgworker.conf a reload re-reads (set by the
/// supervisor at start, inherited by workers).
static RUNDIR: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

pub fn set_rundir(dir: Option<&std::path::Path>) {
    *RUNDIR.lock().unwrap_or_else(|e| e.into_inner()) = dir.map(|d| d.to_path_buf());
}

pub fn rundir() -> Option<std::path::PathBuf> {
    RUNDIR.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Re-read the configuration for a reload: the file of the run directory,
/// then the command-line settings over it. A broken file is reported at
/// `level` and gives None (nothing is applied), as PostgreSQL does.
pub fn reread(level: i32) -> Option<Settings> {
    let mut fresh = Settings::default();
    let dir = RUNDIR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(dir) = dir {
        if let Err((shown, e)) = fresh.apply_conf_file(&dir) {
            log::emit_full(level, &e.message, None, e.hint.as_deref());
            log::emit(
                level,
                &format!("configuration file \"{shown}\" contains errors; no changes were applied"),
            );
            return None;
        }
    }
    for (n, v) in command_line() {
        if let Err(e) = fresh.set(&n, &v, Source::CommandLine) {
            log::emit_full(level, &e.message, None, e.hint.as_deref());
        }
    }
    Some(fresh)
}

/// PostgreSQL's closing line of a reload that could not apply everything.
pub fn report_unaffected(level: i32) {
    let dir = RUNDIR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let shown = dir
        .map(|d| d.join("bgworker.conf").display().to_string())
        .unwrap_or_default();
    log::emit(
        level,
        &format!("configuration file \"{shown}\" contains errors; unaffected changes were applied"),
    );
}

fn parse_int(name: &str, v: &str, min: i64, max: i64) -> Result<i32, String> {
    let t = v.trim();
    let n: i64 = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16)
    } else {
        t.parse()
    }
    .map_err(|_| format!("invalid value for parameter \"{name}\": \"{v}\""))?;
    if n < min || n > max {
        return Err(format!(
            "{n} is outside the valid range for parameter \"{name}\" ({min} .. {max})"
        ));
    }
    Ok(n as i32)
}

/// PostgreSQL's parse_bool: on/off, true/false, yes/no, 1/0 and unique
/// prefixes, case-insensitive.
pub fn parse_bool(v: &str) -> Option<bool> {
    let s = v.trim().to_ascii_lowercase();
    if s.is_empty() {
        return None;
    }
    let pre = |full: &str, min: usize| s.len() >= min && full.starts_with(&s);
    if pre("true", 1) || pre("yes", 1) || s == "on" || s == "1" {
        Some(true)
    } else if pre("false", 1) || pre("no", 1) || pre("off", 2) || s == "0" {
        Some(false)
    } else {
        None
    }
}

/// Split a list setting the way PostgreSQL's SplitDirectoriesString does
/// for shared_preload_libraries: commas, surrounding blanks dropped,
/// double quotes allowed.
fn split_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
            }
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Settings {
    /// Set `name` to `value` from `source`. A value from a lower-priority
    /// source does not replace one from a higher one. Errors carry
    /// PostgreSQL's message texts (and HINT).
    pub fn set(&mut self, name: &str, value: &str, source: Source) -> Result<(), SettingError> {
        let lname = name.to_ascii_lowercase();
        if lname.contains('.') || is_extra(&lname) {
            if self.custom_sources.get(&lname).is_some_and(|s| *s > source) {
                return Ok(());
            }
            if self
                .custom
                .insert(lname.clone(), value.to_string())
                .is_none()
            {
                self.custom_order.push(lname.clone());
            }
            self.custom_sources.insert(lname, source);
            return Ok(());
        }
        if crate::policy::is_setting(&lname) {
            return self.set_supervision(&lname, value, source);
        }
        let Some(&key) = KNOWN.iter().find(|k| **k == lname) else {
            return Err(format!("unrecognized configuration parameter \"{name}\"").into());
        };
        if self.sources.get(key).is_some_and(|s| *s > source) {
            return Ok(());
        }
        match key {
            "shared_preload_libraries" => self.shared_preload_libraries = split_list(value),
            "max_worker_processes" => {
                self.max_worker_processes =
                    parse_int(key, value, 0, crate::shmem::slots::MAX_SLOTS as i64)?
            }
            "max_parallel_workers" => self.max_parallel_workers = parse_int(key, value, 0, 1024)?,
            "restart_after_crash" => {
                self.restart_after_crash = parse_bool(value)
                    .ok_or_else(|| format!("parameter \"{key}\" requires a Boolean value"))?
            }
            "log_min_messages" => {
                self.log_min_messages =
                    log::parse_level(value.trim()).ok_or_else(|| SettingError {
                        message: format!("invalid value for parameter \"{key}\": \"{value}\""),
                        hint: Some(format!("Available values: {LOG_LEVEL_VALUES}.")),
                    })?
            }
            "dynamic_library_path" => self.dynamic_library_path = value.to_string(),
            "log_line_prefix" => {
                crate::log::prefix::check(value)?;
                self.log_line_prefix = value.to_string()
            }
            "log_file" => self.log_file = value.trim().to_string(),
            "postgresql_major" => {
                let bad = || SettingError {
                    message: format!(
                        "invalid value for parameter \"{key}\": \"{}\"",
                        value.trim()
                    ),
                    hint: Some("Available values: 15, 17, 18.".into()),
                };
                let m: u32 = value.trim().parse().map_err(|_| bad())?;
                if !crate::identity::serves(m) {
                    return Err(bad());
                }
                self.postgresql_major = m as i32
            }
            "worker_containment" => {
                self.worker_containment = match value.trim().to_ascii_lowercase().as_str() {
                    "none" => Containment::None,
                    "descendants" => Containment::Descendants,
                    _ => {
                        return Err(SettingError {
                            message: format!(
                                "invalid value for parameter \"{key}\": \"{}\"",
                                value.trim()
                            ),
                            hint: Some("Available values: none, descendants.".into()),
                        })
                    }
                }
            }
            _ => unreachable!("every KNOWN name is handled"),
        }
        self.sources.insert(key, source);
        Ok(())
    }

    /// The value of a known setting as text (for reload comparisons).
    pub fn show(&self, key: &str) -> String {
        match key {
            "shared_preload_libraries" => self.shared_preload_libraries.join(","),
            "max_worker_processes" => self.max_worker_processes.to_string(),
            "max_parallel_workers" => self.max_parallel_workers.to_string(),
            "restart_after_crash" => if self.restart_after_crash {
                "on"
            } else {
                "off"
            }
            .into(),
            "log_min_messages" => self.log_min_messages.to_string(),
            "dynamic_library_path" => self.dynamic_library_path.clone(),
            "log_line_prefix" => self.log_line_prefix.clone(),
            "log_file" => self.log_file.clone(),
            "postgresql_major" => self.postgresql_major.to_string(),
            "worker_containment" => self.worker_containment.name().into(),
            k if crate::policy::is_setting(k) => self
                .supervision_given
                .get(k)
                .map(|(v, _)| v.clone())
                .unwrap_or_default(),
            _ => self.custom.get(key).cloned().unwrap_or_default(),
        }
    }

    /// A supervision setting (policy.rs): `worker_FIELD` sets the field of
    /// the daemon-wide policy, `worker_policy_by_type` the per-type ones.
    /// A bad value changes nothing.
    fn set_supervision(
        &mut self,
        name: &str,
        value: &str,
        source: Source,
    ) -> Result<(), SettingError> {
        if self
            .supervision_given
            .get(name)
            .is_some_and(|(_, s)| *s > source)
        {
            return Ok(());
        }
        let bad = |why: String| SettingError {
            message: format!("invalid value for parameter \"{name}\": \"{value}\""),
            hint: Some(why),
        };
        if name == crate::policy::BY_TYPE_SETTING {
            self.worker_policy_by_type = crate::policy::parse_by_type(value).map_err(bad)?;
        } else {
            let field = crate::policy::setting_field(name).expect("is_setting checked");
            self.worker_policy.set_field(field, value).map_err(bad)?;
        }
        self.supervision_given
            .insert(name.to_string(), (value.to_string(), source));
        Ok(())
    }

    /// Was `name` given (file or command line), not left at its default?
    pub fn is_set(&self, name: &str) -> bool {
        self.sources.get(name).is_some_and(|s| *s > Source::Default)
    }

    /// Read `RUNDIR/bgworker.conf`, if it exists, into these settings.
    /// On error returns the file's shown name and PostgreSQL's message.
    pub fn apply_conf_file(
        &mut self,
        rundir: &std::path::Path,
    ) -> Result<(), (String, SettingError)> {
        let path = rundir.join("bgworker.conf");
        if !path.exists() {
            return Ok(());
        }
        let shown = path.display().to_string();
        std::fs::read(&path)
            .map_err(|e| {
                format!(
                    "could not open configuration file \"{shown}\": {}",
                    crate::io_text(&e)
                )
            })
            .and_then(|bytes| utf8_text(&shown, bytes))
            .and_then(|t| parse_file(&shown, &t))
            .map_err(SettingError::from)
            .and_then(|entries| self.apply_file(&shown, &entries))
            .map_err(|e| (shown, e))
    }

    /// Apply a configuration file's entries (from [`parse_file`]).
    pub fn apply_file(
        &mut self,
        path: &str,
        entries: &[(String, String, usize)],
    ) -> Result<(), SettingError> {
        for (name, value, line) in entries {
            self.set(name, value, Source::File).map_err(|mut e| {
                if e.message
                    .starts_with("unrecognized configuration parameter")
                {
                    e.message = format!("{} in file \"{path}\" line {line}", e.message);
                }
                e
            })?;
        }
        Ok(())
    }
}

/// Parse a file in postgresql.conf syntax: `name = value` or `name value`,
/// `#` comments, values bare or single-quoted (`''` or `\'` for a quote).
/// Returns `(name, value, line)` triples, or PostgreSQL's syntax error.
pub fn parse_file(path: &str, text: &str) -> Result<Vec<(String, String, usize)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let syntax = |near: &str| {
            format!("syntax error in file \"{path}\" line {lineno}, near token \"{near}\"")
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'))
            .unwrap_or(line.len());
        if name_end == 0 {
            return Err(syntax(
                &line[..line.chars().next().map_or(0, |c| c.len_utf8())],
            ));
        }
        let name = &line[..name_end];
        let mut rest = line[name_end..].trim_start();
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start();
        }
        let (value, after) = if let Some(q) = rest.strip_prefix('\'') {
            let mut v = String::new();
            let mut chars = q.char_indices().peekable();
            let mut end = None;
            while let Some((idx, c)) = chars.next() {
                match c {
                    '\'' if chars.peek().map(|p| p.1) == Some('\'') => {
                        chars.next();
                        v.push('\'');
                    }
                    '\'' => {
                        end = Some(idx + 1);
                        break;
                    }
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    other => v.push(other),
                }
            }
            let Some(end) = end else {
                return Err(syntax(rest));
            };
            (v, &q[end..])
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '#')
                .unwrap_or(rest.len());
            if end == 0 {
                return Err(syntax(if rest.is_empty() { name } else { rest }));
            }
            (rest[..end].to_string(), &rest[end..])
        };
        let after = after.trim_start();
        if !(after.is_empty() || after.starts_with('#')) {
            return Err(syntax(after.split_whitespace().next().unwrap_or(after)));
        }
        if name == "include" || name == "include_dir" || name == "include_if_exists" {
            return Err(format!(
                "configuration directive \"{name}\" in file \"{path}\" line {lineno} is not supported"
            ));
        }
        out.push((name.to_string(), value, lineno));
    }
    Ok(out)
}

/// `-c` options (and `bgw_host_set` calls), kept for re-reading the
/// configuration on SIGHUP: they keep winning over the file.
static COMMAND_LINE: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Record and apply a command-line setting.
/// The error is PostgreSQL's message, with its HINT in parentheses.
pub fn set_from_command_line(name: &str, value: &str) -> Result<(), String> {
    with_current(|s| s.set(name, value, Source::CommandLine)).map_err(|e| match e.hint {
        Some(h) => format!("{} ({h})", e.message),
        None => e.message,
    })?;
    COMMAND_LINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((name.to_string(), value.to_string()));
    Ok(())
}

pub fn command_line() -> Vec<(String, String)> {
    COMMAND_LINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_syntax() {
        let t = "# comment\nmax_worker_processes = 16\nlog_min_messages debug1 # trailing\n\
                 shared_preload_libraries = 'a, \"b c\",d.so'\nmymod.greeting = 'it''s'\n";
        let e = parse_file("f", t).unwrap();
        let mut s = Settings::default();
        s.apply_file("f", &e).unwrap();
        assert_eq!(s.max_worker_processes, 16);
        assert_eq!(s.log_min_messages, log::DEBUG1);
        assert_eq!(s.shared_preload_libraries, vec!["a", "b c", "d.so"]);
        assert_eq!(s.custom["mymod.greeting"], "it's");
        assert!(parse_file("f", "x = 'unterminated\n")
            .unwrap_err()
            .contains("syntax error in file \"f\" line 1"));
        assert!(parse_file("f", "x = 1 2\n")
            .unwrap_err()
            .contains("near token \"2\""));
    }

    #[test]
    fn postgresql_messages() {
        let mut s = Settings::default();
        assert_eq!(
            s.set("max_worker_processes", "abc", Source::CommandLine)
                .unwrap_err()
                .message,
            "invalid value for parameter \"max_worker_processes\": \"abc\""
        );
        assert_eq!(
            s.set("max_parallel_workers", "5000", Source::CommandLine)
                .unwrap_err()
                .message,
            "5000 is outside the valid range for parameter \"max_parallel_workers\" (0 .. 1024)"
        );
        assert_eq!(
            s.set("nosuch", "1", Source::CommandLine)
                .unwrap_err()
                .message,
            "unrecognized configuration parameter \"nosuch\""
        );
        assert_eq!(
            s.set("restart_after_crash", "maybe", Source::CommandLine)
                .unwrap_err()
                .message,
            "parameter \"restart_after_crash\" requires a Boolean value"
        );
        s.set("restart_after_crash", "o", Source::CommandLine)
            .unwrap_err();
        s.set("restart_after_crash", "OFF", Source::CommandLine)
            .unwrap();
        assert!(!s.restart_after_crash);
        // the file does not override the command line
        s.set("restart_after_crash", "on", Source::File).unwrap();
        assert!(!s.restart_after_crash);
        // an enum lists its values, as PostgreSQL's HINT does
        let e = s
            .set("log_min_messages", "loud", Source::CommandLine)
            .unwrap_err();
        assert_eq!(
            e.message,
            "invalid value for parameter \"log_min_messages\": \"loud\""
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("Available values: debug5, debug4, debug3, debug2, debug1, info, notice, warning, error, log, fatal, panic.")
        );
        // every value listed is accepted, and nothing the list leaves out
        // but PostgreSQL's hidden alias "debug"
        for v in LOG_LEVEL_VALUES.split(", ").chain(["debug", "WARNING"]) {
            s.set("log_min_messages", v, Source::CommandLine).unwrap();
        }
    }

    #[test]
    fn postgresql_major_takes_served_majors_only() {
        let mut s = Settings::default();
        assert_eq!(s.postgresql_major, 15);
        assert!(!s.is_set("postgresql_major"));
        for bad in ["16", "14", "19", "0", "x"] {
            let e = s
                .set("postgresql_major", bad, Source::CommandLine)
                .unwrap_err();
            assert_eq!(
                e.message,
                format!("invalid value for parameter \"postgresql_major\": \"{bad}\"")
            );
            assert_eq!(e.hint.as_deref(), Some("Available values: 15, 17, 18."));
        }
        assert_eq!(s.postgresql_major, 15);
        s.set("postgresql_major", "18", Source::File).unwrap();
        assert_eq!(s.postgresql_major, 18);
        assert!(s.is_set("postgresql_major"));
        assert_eq!(s.show("postgresql_major"), "18");
    }

    #[test]
    fn worker_containment_takes_none_or_descendants() {
        let mut s = Settings::default();
        assert_eq!(s.worker_containment, Containment::None);
        for bad in ["cgroup", "", "all", "1"] {
            let e = s
                .set("worker_containment", bad, Source::CommandLine)
                .unwrap_err();
            assert_eq!(
                e.message,
                format!("invalid value for parameter \"worker_containment\": \"{bad}\"")
            );
            assert_eq!(
                e.hint.as_deref(),
                Some("Available values: none, descendants.")
            );
        }
        assert_eq!(s.worker_containment, Containment::None);
        s.set("worker_containment", " Descendants ", Source::File)
            .unwrap();
        assert_eq!(s.worker_containment, Containment::Descendants);
        assert_eq!(s.show("worker_containment"), "descendants");
        // A restart is needed to change it (a reload keeps it, and says so).
        assert!(POSTMASTER_ONLY.contains(&"worker_containment"));
    }
}
