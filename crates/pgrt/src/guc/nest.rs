//! Nesting levels of settings (`NewGUCNestLevel`, `AtEOXact_GUC`), as
//! PostgreSQL's guc.c keeps them: a value set at a nesting level with
//! `set_config_option`'s GUC_ACTION_SAVE (a function's SET clause, or a
//! module setting something for the duration of a call) or SET LOCAL goes
//! back at the end of that level; a plain SET stays on commit and goes
//! back on abort; levels merge as PostgreSQL merges them. Without
//! transactions the levels are the ones modules open and close
//! themselves; outside any (level 0) nothing is stacked.
//!
//! Only values from sources above PGC_S_OVERRIDE are stacked (PostgreSQL's
//! "makeDefault" values, from the configuration, are not). Restoring a
//! value stores it through the setting's check and assign hooks (the
//! registry keeps no `extra` of earlier values); PostgreSQL calls only the
//! assign hook, with the extra it kept.
//!
//! Process-local, as PostgreSQL's; any thread may call, one at a time
//! (the stacks' Mutex).

use super::*;

/// GucAction.
const GUC_ACTION_SET: c_int = 0;
const GUC_ACTION_LOCAL: c_int = 1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Save,
    Set,
    Local,
    SetLocal,
}

/// One stacked level of one setting (PostgreSQL's GucStack).
struct Frame {
    level: i32,
    state: State,
    /// The value before this level changed it.
    prior: (Value, c_int),
    /// SET LOCAL after SET at this level: the SET's value.
    masked: Option<(Value, c_int)>,
}

/// Current nesting level (PostgreSQL's GUCNestLevel).
static NEST_LEVEL: AtomicI32 = AtomicI32::new(0);

/// The stacks, by lower-case setting name, oldest level first.
static STACKS: Mutex<Vec<(String, Vec<Frame>)>> = Mutex::new(Vec::new());

/// `v`'s current value and source (before a change).
pub(super) fn current(v: &Var) -> (Value, c_int) {
    // SAFETY: the variable's address (registry contract).
    let value = unsafe {
        match &v.kind {
            Kind::Bool { addr, .. } => Value::Bool(**addr),
            Kind::Int { addr, .. } => Value::Int(**addr),
            Kind::Real { addr, .. } => Value::Real(**addr),
            Kind::Enum { addr, .. } => Value::Enum(**addr),
            Kind::Str { addr, .. } => {
                Value::Str((!(**addr).is_null()).then(|| CStr::from_ptr(**addr).to_owned()))
            }
        }
    };
    (value, v.source)
}

/// Before `v` changes to a value from `source` with `action`: remember
/// `prior` (its value and source before) at the current level
/// (PostgreSQL's push_old_value).
pub(super) fn push(v: &Var, prior: (Value, c_int), source: c_int, action: c_int) {
    let level = NEST_LEVEL.load(Ordering::Relaxed);
    if level == 0 || source <= PGC_S_OVERRIDE {
        return;
    }
    let key = v.name.to_ascii_lowercase();
    let mut stacks = STACKS.lock().unwrap_or_else(|e| e.into_inner());
    let i = match stacks.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            stacks.push((key, Vec::new()));
            stacks.len() - 1
        }
    };
    let frames = &mut stacks[i].1;
    if let Some(top) = frames.last_mut().filter(|f| f.level >= level) {
        match action {
            GUC_ACTION_SET => {
                top.masked = None;
                top.state = State::Set;
            }
            GUC_ACTION_LOCAL if top.state == State::Set => {
                top.masked = Some(prior);
                top.state = State::SetLocal;
            }
            _ => {}
        }
        return;
    }
    frames.push(Frame {
        level,
        state: match action {
            GUC_ACTION_SET => State::Set,
            GUC_ACTION_LOCAL => State::Local,
            _ => State::Save,
        },
        prior,
        masked: None,
    });
}

/// `NewGUCNestLevel()`: open a level; returns its number.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_NewGUCNestLevel() -> c_int {
    crate::guard("NewGUCNestLevel", 0, || {
        NEST_LEVEL.fetch_add(1, Ordering::Relaxed) + 1
    })
}

/// `AtEOXact_GUC(isCommit, nestLevel)`: close every level from
/// `nest_level` up, restoring or keeping values as PostgreSQL does.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_AtEOXact_GUC(is_commit: bool, nest_level: c_int) {
    crate::guard("AtEOXact_GUC", (), || {
        let nest_level = nest_level.max(1);
        // Decide under the lock; store (which runs module hooks, which
        // may set settings themselves) after it.
        let mut restores: Vec<(String, (Value, c_int))> = Vec::new();
        {
            let mut stacks = STACKS.lock().unwrap_or_else(|e| e.into_inner());
            for (key, frames) in stacks.iter_mut() {
                while let Some(top) = frames.last() {
                    if top.level < nest_level {
                        break;
                    }
                    let top = frames.pop().expect("a frame");
                    let prev_level = frames.last().map(|p| p.level);
                    let restore = if !is_commit || top.state == State::Save {
                        Some(top.prior)
                    } else if top.level == 1 {
                        match top.state {
                            State::SetLocal => top.masked,
                            State::Set => None,
                            _ => Some(top.prior),
                        }
                    } else if prev_level.is_none_or(|l| l < top.level - 1) {
                        // Nothing stacked at the level below: this entry
                        // moves down a level.
                        frames.push(Frame {
                            level: top.level - 1,
                            ..top
                        });
                        continue;
                    } else {
                        let prev = frames.last_mut().expect("a frame below");
                        match top.state {
                            State::Set => {
                                prev.masked = None;
                                prev.state = State::Set;
                            }
                            State::Local => {
                                if prev.state == State::Set {
                                    prev.masked = Some(top.prior);
                                    prev.state = State::SetLocal;
                                }
                            }
                            State::SetLocal => {
                                prev.masked = top.masked;
                                prev.state = State::SetLocal;
                            }
                            State::Save => {}
                        }
                        None
                    };
                    if let Some(r) = restore {
                        restores.push((key.clone(), r));
                    }
                }
            }
            stacks.retain(|(_, f)| !f.is_empty());
        }
        for (key, (value, source)) in restores {
            if let Some(v) = find(&key) {
                if let Err(e) = store(&v, value, source) {
                    report_invalid(WARNING, &e);
                }
            }
        }
        NEST_LEVEL.store(nest_level - 1, Ordering::Relaxed);
    })
}
