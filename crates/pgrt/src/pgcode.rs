//! PostgreSQL's own libpgport/libpgcommon code (the export table's
//! `postgres` rows): the archive members build.rs extracts from PostgreSQL
//! 15's `_shlib` archives, with every global renamed `bgw_pg_NAME`, are
//! exported here under PostgreSQL's names. A function is a naked jump to
//! its renamed body (every argument register untouched); a variable is
//! storage of its real size that [`INIT`] fills, when the library or
//! program is loaded, with the archive object's initial bytes, so that
//! tables, function pointers (`pg_comp_crc32c`, `pg_popcount64`) and
//! strategies (`PGLZ_strategy_default`) hold what PostgreSQL's do.

/// `NAME => bgw_pg_NAME`: one naked export each.
macro_rules! postgres_exports {
    ($($name:ident => $target:ident),* $(,)?) => {
        $(
            /// # Safety
            /// Called from C with the arguments of PostgreSQL's function of
            /// this name, which its own code receives untouched.
            #[unsafe(naked)]
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name() {
                #[cfg(target_arch = "x86_64")]
                core::arch::naked_asm!("jmp {0}", sym c::$target);
                #[cfg(target_arch = "aarch64")]
                core::arch::naked_asm!("b {0}", sym c::$target);
            }
        )*
    };
}

#[allow(non_upper_case_globals, unused_imports)]
mod generated {
    use crate::nodb::{Align1, Align16, Align2, Align4, Align8};
    include!(concat!(env!("OUT_DIR"), "/postgres.rs"));
}

extern "C" fn init() {
    generated::copy_initial_values();
}

/// Runs [`init`] when the program or library is loaded, before any
/// module's code can read the variables.
#[used]
#[unsafe(link_section = ".init_array")]
pub static INIT: extern "C" fn() = init;
