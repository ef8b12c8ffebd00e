//! `RegisterCustomRmgr`: a custom WAL resource manager's registration,
//! with PostgreSQL's checks and errors, in c/rmgr.c (see there). There is
//! no WAL here, so the resource manager's callbacks never run.

super::c_export! {
    RegisterCustomRmgr => bgw_c_RegisterCustomRmgr,
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, c_int, CStr};

    unsafe extern "C" {
        fn bgw_rmgr_builtin_names(n: *mut c_int) -> *const *const c_char;
    }

    /// The built-in resource managers' names, by ID, are those of
    /// PostgreSQL 15's access/rmgrlist.h (the real header).
    #[test]
    fn builtin_names_are_those_of_the_real_header() {
        let header = "/usr/include/postgresql/15/server/access/rmgrlist.h";
        let text = std::fs::read_to_string(header).expect("postgresql-server-dev-15's rmgrlist.h");
        let real: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("PG_RMGR("))
            .map(|l| l.split('"').nth(1).expect("a quoted name").to_string())
            .collect();
        let mut n: c_int = 0;
        // SAFETY: returns a static array of n static NUL-terminated names.
        let ours: Vec<String> = unsafe {
            let p = bgw_rmgr_builtin_names(&mut n);
            (0..n as usize)
                .map(|i| CStr::from_ptr(*p.add(i)).to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(ours, real);
        assert_eq!(ours.len(), 22);
    }
}
