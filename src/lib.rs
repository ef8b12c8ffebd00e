//! libbgworker: PostgreSQL's background-worker facility as a library, for
//! modules and hosts of PostgreSQL 15, 17 and 18.
//!
//! This crate puts the layers together into what is shipped:
//! `libbgworker.so`/`.a` and the programs `bgworkerd` and `bgworkerctl`.
//! The core (`bgworker-core`: ABI, segment and slot protocol, backend side,
//! supervisor, process start, settings, log, the bgworker.h and `bgw_*`
//! exports) knows nothing of PostgreSQL's backend runtime; the runtime
//! (`bgworker-pgrt`) sits on top and plugs in through the core's hooks,
//! which [`bgw_runtime_init`] installs.
//!
//! Which names the library and the daemon export is declared once, in
//! `exports/` (see build.rs).

pub use bgworker_core::*;
pub use bgworker_pgrt as compat;

/// Install the PostgreSQL runtime's hooks in this process. libbgworker
/// does so when it is loaded (a constructor), and bgworkerd at start; a
/// host that links the static library without pkg-config's `--static`
/// flags (which name this function) calls it itself before `bgw_attach`
/// or `bgw_host_run`. Idempotent.
#[no_mangle]
pub extern "C" fn bgw_runtime_init() {
    bgworker_pgrt::runtime::install();
}

/// Runs `bgw_runtime_init` when the library is loaded.
#[used]
#[link_section = ".init_array"]
static RUNTIME_CTOR: extern "C" fn() = bgw_runtime_init;

// A reference to every exported name (see build.rs).
include!(concat!(env!("OUT_DIR"), "/export_refs.rs"));
