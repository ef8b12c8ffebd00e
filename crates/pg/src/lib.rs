//! libbgworker_pg: libbgworker together with the PostgreSQL runtime and
//! PostgreSQL 15's whole exported surface, for an embedding host that
//! loads PostgreSQL modules (`bgw_host_load_library`) and links this
//! library on purpose instead of the plain libbgworker. It exports what
//! bgworkerd exports: bgworker.h, the `bgw_*` API, `bgw_runtime_init`,
//! and every name of the real postgres binary (implemented, PostgreSQL's
//! own code, or an entry that needs the database server), no more.
//!
//! The runtime is installed when the library is loaded (a constructor);
//! a host linking the static library without pkg-config's `--static`
//! flags calls `bgw_runtime_init` itself.

pub use bgworker_pgrt::runtime::bgw_runtime_init;

/// Runs `bgw_runtime_init` when the library is loaded.
#[used]
#[unsafe(link_section = ".init_array")]
static RUNTIME_CTOR: extern "C" fn() = bgw_runtime_init;

// A reference to every exported name (see build.rs).
include!(concat!(env!("OUT_DIR"), "/export_refs.rs"));
