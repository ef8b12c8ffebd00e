//! Processes: loading modules ([`loader`]), and the worker side of a fork
//! ([`child`]), with PostgreSQL's worker signal set-up ([`signals`]).

pub mod child;
pub mod loader;
pub mod signals;
