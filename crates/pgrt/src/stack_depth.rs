//! The stack depth check (miscadmin.h): `check_stack_depth` raises
//! PostgreSQL's ERROR (SQLSTATE 54001, with its hint naming
//! `max_stack_depth`) when the stack has grown more than the
//! `max_stack_depth` setting past the reference point, which each process
//! takes when it starts ([`take_base`]: the supervisor before its first
//! fork, every worker before its entry point) and which `set_stack_base` /
//! `restore_stack_base` move, as in PostgreSQL. The bodies are C
//! (c/stack_depth.c).

super::c_export! {
    check_stack_depth => bgw_c_check_stack_depth,
    stack_is_too_deep => bgw_c_stack_is_too_deep,
    set_stack_base => bgw_c_set_stack_base,
    restore_stack_base => bgw_c_restore_stack_base,
}

mod c {
    unsafe extern "C" {
        pub fn bgw_c_take_stack_base();
    }
}

/// Make the caller's frame the reference point of the stack depth check.
/// Called when a process starts, before module code runs in it.
pub fn take_base() {
    // SAFETY: stores a frame address in the C file's process-global
    // variable; nothing else runs in this thread meanwhile.
    unsafe { c::bgw_c_take_stack_base() }
}
