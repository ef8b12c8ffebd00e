//! bgworkerctl's part of the opt-in supervision (policy.rs): `launch
//! --policy` and `--wait-ready`, and `restart` of a failed worker. The
//! status table and JSON show the rest (status.rs).

use std::time::Duration;

use super::{refused, resolve, usage, Failure, Opts, Target, EXIT_NO_DAEMON};
use crate::backend::supervision::ReadyStatus;
use crate::backend::Connection;
use crate::policy::Policy;
use crate::shmem::facts::STATE_FAILED;

/// What `launch` does beyond PostgreSQL's registration.
pub(super) struct LaunchOptions {
    pub policy: Option<Policy>,
    /// Some: wait for ready, for at most this long (None: no limit).
    pub wait_ready: Option<Option<Duration>>,
}

/// `--policy 'field=value, ...'`, `--wait-ready`, `--ready-timeout S`,
/// checked before the daemon is touched.
pub(super) fn launch_options(opts: &Opts) -> Result<LaunchOptions, Failure> {
    let policy = match opts.get("--policy") {
        None => None,
        Some(text) => {
            let mut p = Policy::default();
            for kv in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--policy: \"{kv}\" is not field=value")))?;
                p.set_field(k.trim(), v)
                    .map_err(|e| usage(format!("--policy: {e}")))?;
            }
            Some(p)
        }
    };
    let timeout = match opts.get("--ready-timeout") {
        None => None,
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => {
                Some(Duration::from_secs_f64(s))
            }
            _ => {
                return Err(usage(format!(
                    "invalid ready timeout \"{v}\" (seconds, 0 to 86400)"
                )))
            }
        },
    };
    if timeout.is_some() && !opts.has("--wait-ready") {
        return Err(usage("--ready-timeout needs --wait-ready"));
    }
    Ok(LaunchOptions {
        policy,
        wait_ready: opts.has("--wait-ready").then_some(timeout),
    })
}

/// `launch --wait-ready`: print the handle and pid once ready, or fail
/// saying what happened instead.
pub(super) fn wait_ready(
    conn: &Connection,
    slot: usize,
    generation: u64,
    timeout: Option<Duration>,
) -> Result<(), Failure> {
    let what = format!("the worker in slot {slot} (generation {generation})");
    match conn.wait_for_ready(slot, generation, timeout) {
        ReadyStatus::Ready(pid) => {
            println!("slot={slot} generation={generation} pid={pid} ready");
            Ok(())
        }
        ReadyStatus::TimedOut => Err(refused(format!(
            "{what} was not ready within the ready timeout"
        ))),
        ReadyStatus::Exited => Err(refused(format!("{what} exited before it was ready"))),
        ReadyStatus::StartTimeout => Err(refused(format!(
            "{what} was not ready within its start timeout and was killed"
        ))),
        ReadyStatus::Stopped => Err(refused(format!("{what} stopped before it was ready"))),
        ReadyStatus::SupervisorDied => Err(Failure(
            EXIT_NO_DAEMON,
            format!("bgworkerd exited before {what} was ready"),
        )),
    }
}

/// `restart`: relaunch the failed workers the target names.
pub(super) fn restart(conn: &Connection, target: Target) -> Result<(), Failure> {
    let picked = resolve(conn, &target)?;
    // With a name, the failed ones among them; a single target must be
    // failed (the error says what it is instead).
    let failed: Vec<(usize, u64)> = picked
        .iter()
        .copied()
        .filter(|&(i, g)| {
            conn.seg
                .slot_facts(i)
                .read()
                .is_ok_and(|f| f.generation == g && f.state == STATE_FAILED)
        })
        .collect();
    let todo = if failed.is_empty() { picked } else { failed };
    for (i, g) in todo {
        conn.relaunch(i, g).map_err(refused)?;
        println!("relaunching slot={i} generation={g}");
    }
    Ok(())
}
