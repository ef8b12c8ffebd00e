//! libbgworker: PostgreSQL's background-worker facility as a library, for
//! modules and hosts of PostgreSQL 15, 17 and 18.
//!
//! This crate puts the layers together into what is shipped:
//! `libbgworker.so`/`.a`, the plain library a C host links for the
//! bgworker.h API, and the programs `bgworkerd` and `bgworkerctl`.
//! The core (`bgworker-core`: ABI, segment and slot protocol, backend side,
//! supervisor, process start, settings, log, the bgworker.h and `bgw_*`
//! exports) knows nothing of PostgreSQL's backend runtime; the runtime
//! (`bgworker-pgrt`) sits on top and plugs in through the core's hooks.
//! The plain library does not link the runtime, so it carries none of
//! PostgreSQL's thousands of names (which could interpose on a host's own
//! `strlcpy` or `progname`); bgworkerd links it, and so does
//! `libbgworker_pg` (crates/pg), the library for hosts that load
//! PostgreSQL modules.
//!
//! Rust programs use [`safe`], the safe Rust API over the same core
//! (worker definitions, registration, handles, entry points, embedding
//! and attaching).
//!
//! Which names the libraries and the daemon export is declared once, in
//! `exports/` (see build.rs).

pub use bgworker_core::*;

pub mod safe;

// A reference to every exported name (see build.rs).
include!(concat!(env!("OUT_DIR"), "/plain_refs.rs"));
