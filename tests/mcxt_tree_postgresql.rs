//! c-tests/mx_module.c under the real PostgreSQL servers (15, 17, 18) and
//! under bgworkerd running the same module built for the same major: a
//! context moved under a new parent (MemoryContextSetParent) is deleted
//! with it, MemoryContextResetOnly / MemoryContextResetChildren reach the
//! contexts PostgreSQL's do, and MemoryContextIsEmpty, GetParent,
//! SetIdentifier, AllowInCriticalSection and pchomp give the same "mx:"
//! lines.

mod common;

use common::*;

fn matches_for(major: u32) {
    module_matches_postgresql(major, "mx_module.c", "mx:", "", &[]);
}
per_major!(memory_context_tree_matches_postgresql, matches_for);
