//! Finding and loading modules and their entry points, with PostgreSQL's
//! rules (`dynamic_library_path`, `$libdir`, optional `.so`) and messages.

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::settings;

/// The directory `$libdir` stands for.
pub const PKGLIBDIR: &str = match option_env!("BGW_PKGLIBDIR") {
    Some(d) => d,
    None => "/usr/local/lib/bgworker",
};

/// True while shared_preload_libraries are being loaded (PostgreSQL's
/// `process_shared_preload_libraries_in_progress`).
pub static PRELOAD_IN_PROGRESS: AtomicBool = AtomicBool::new(false);

/// Libraries loaded in this process (inherited by workers at fork): the
/// name asked for, the path it resolved to, and the dlopen handle, so that
/// `_PG_init` runs once per process image and a worker whose library was
/// preloaded finds it without searching the file system.
struct Loaded {
    name: String,
    path: String,
    handle: usize,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

fn find_loaded(pred: impl Fn(&Loaded) -> bool) -> Option<*mut libc::c_void> {
    let list = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    list.iter()
        .find(|l| pred(l))
        .map(|l| l.handle as *mut libc::c_void)
}

fn exists(p: &str) -> bool {
    std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false)
}

fn substitute_libdir(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("$libdir") {
        format!("{PKGLIBDIR}{rest}")
    } else {
        p.to_string()
    }
}

/// Resolve a library name as PostgreSQL's expand_dynamic_library_name:
/// a name with a slash is taken as a path (`$libdir` substituted), else
/// searched on dynamic_library_path; either way `.so` may be left out.
/// Returns the name unchanged when nothing is found, so that the caller's
/// error names what the user wrote.
pub fn expand_name(name: &str) -> String {
    let candidates = if name.ends_with(".so") {
        vec![name.to_string()]
    } else {
        vec![name.to_string(), format!("{name}.so")]
    };
    if name.contains('/') {
        for c in &candidates {
            let p = substitute_libdir(c);
            if exists(&p) {
                return p;
            }
        }
        return substitute_libdir(name);
    }
    let path = settings::current().dynamic_library_path;
    for c in &candidates {
        for dir in path.split(':').filter(|d| !d.is_empty()) {
            let p = format!("{}/{c}", substitute_libdir(dir));
            if exists(&p) {
                return p;
            }
        }
    }
    name.to_string()
}

fn dlerror_text() -> String {
    // SAFETY: dlerror returns NULL or a valid C string owned by libdl.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (see above).
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// PostgreSQL 15's Pg_magic_struct (fmgr.h), as PG_MODULE_MAGIC emits it.
#[repr(C)]
struct PgMagic {
    len: i32,
    version: i32,
    funcmaxargs: i32,
    indexmaxkeys: i32,
    namedatalen: i32,
    float8byval: i32,
    abi_extra: [u8; 32],
}

/// Check a module's PG_MODULE_MAGIC block, if it has one. Modules written
/// against bgworker.h alone have none and are accepted; a module built for
/// another PostgreSQL major version is refused, as the server would.
fn check_magic(handle: *mut libc::c_void, path: &str) -> Result<(), (String, Option<String>)> {
    // SAFETY: handle is a live dlopen handle; the name is NUL-terminated.
    let f = unsafe { libc::dlsym(handle, c"Pg_magic_func".as_ptr()) };
    if f.is_null() {
        return Ok(());
    }
    // SAFETY: PG_MODULE_MAGIC defines Pg_magic_func as a function taking no
    // arguments and returning a pointer to a static Pg_magic_struct.
    let m: *const PgMagic =
        unsafe { std::mem::transmute::<*mut libc::c_void, extern "C" fn() -> *const PgMagic>(f)() };
    if m.is_null() {
        return Err((
            format!("incompatible library \"{path}\": missing magic block"),
            None,
        ));
    }
    // SAFETY: every PostgreSQL magic block, old or new, starts with the
    // int fields len and version; nothing else is read until len says the
    // block has PostgreSQL 15's size.
    let (len, version) = unsafe {
        (
            std::ptr::read(m as *const i32),
            std::ptr::read((m as *const i32).add(1)),
        )
    };
    if version != 1500 {
        // PostgreSQL prints majors from 10 on as one number, older ones as X.Y.
        let v = version;
        let shown = if v >= 1000 {
            format!("{}", v / 100)
        } else {
            format!("{}.{}", v / 100, v % 100)
        };
        return Err((
            format!("incompatible library \"{path}\": version mismatch"),
            Some(format!("Server is version 15, library is version {shown}.")),
        ));
    }
    if len as usize != std::mem::size_of::<PgMagic>() {
        return Err((
            format!("incompatible library \"{path}\": magic block mismatch"),
            None,
        ));
    }
    // SAFETY: len says the block is a PostgreSQL 15 Pg_magic_struct.
    let m = unsafe { &*m };
    if m.funcmaxargs != 100 || m.indexmaxkeys != 32 || m.namedatalen != 64 || m.float8byval != 1 {
        return Err((
            format!("incompatible library \"{path}\": magic block mismatch"),
            None,
        ));
    }
    Ok(())
}

/// A loading failure: message, and an optional DETAIL.
pub struct LoadError {
    pub message: String,
    pub detail: Option<String>,
}

/// Load a library (once per process), calling its `_PG_init` on first load.
/// Returns the dlopen handle.
pub fn load(name: &str) -> Result<*mut libc::c_void, LoadError> {
    if let Some(h) = find_loaded(|l| l.name == name) {
        return Ok(h);
    }
    let path = expand_name(name);
    if let Some(h) = find_loaded(|l| l.path == path) {
        return Ok(h);
    }
    if let Err(e) = std::fs::metadata(&path) {
        let errtext = crate::errno_text(e.raw_os_error().unwrap_or(libc::ENOENT));
        return Err(LoadError {
            message: format!("could not access file \"{name}\": {errtext}"),
            detail: None,
        });
    }
    let c = CString::new(path.clone()).map_err(|_| LoadError {
        message: format!("could not access file \"{name}\": invalid name"),
        detail: None,
    })?;
    // SAFETY: c is a valid path string; RTLD_GLOBAL as PostgreSQL, so one
    // module's symbols are visible to modules loaded later.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if h.is_null() {
        let error = dlerror_text();
        // A host linked with the plain libbgworker has no PostgreSQL
        // runtime, so a module's first PostgreSQL name is undefined.
        let detail = (crate::hooks::get().name == crate::hooks::Hooks::PLAIN.name
            && error.contains("undefined symbol"))
        .then(|| {
            "This process has no PostgreSQL runtime: a host that loads PostgreSQL modules links libbgworker_pg (pkg-config bgworker-pg), not libbgworker.".to_string()
        });
        return Err(LoadError {
            message: format!("could not load library \"{path}\": {error}"),
            detail,
        });
    }
    if let Err((message, detail)) = check_magic(h, &path) {
        // SAFETY: h is the handle we just opened and nothing from it is used.
        unsafe { libc::dlclose(h) };
        return Err(LoadError { message, detail });
    }
    LOADED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Loaded {
            name: name.to_string(),
            path: path.clone(),
            handle: h as usize,
        });
    // SAFETY: h is live; the name is NUL-terminated.
    let init = unsafe { libc::dlsym(h, c"_PG_init".as_ptr()) };
    if !init.is_null() {
        // SAFETY: _PG_init is declared `void _PG_init(void)` by every
        // PostgreSQL module.
        let f: unsafe extern "C" fn() = unsafe { std::mem::transmute(init) };
        // An ERROR in _PG_init is logged by the guard; the load fails.
        if !(crate::hooks::get().call_module_init)(f) {
            return Err(LoadError {
                message: format!("_PG_init of library \"{path}\" failed"),
                detail: None,
            });
        }
    }
    Ok(h)
}

/// Load every shared_preload_libraries entry with the "preload in
/// progress" flag set, so their `_PG_init` may register static workers.
pub fn load_preload_libraries(libs: &[String]) -> Result<(), LoadError> {
    PRELOAD_IN_PROGRESS.store(true, Ordering::SeqCst);
    let hooks = crate::hooks::get();
    (hooks.preload_in_progress)(true);
    let r = libs.iter().try_for_each(|l| load(l).map(|_| ()));
    (hooks.preload_in_progress)(false);
    PRELOAD_IN_PROGRESS.store(false, Ordering::SeqCst);
    r
}

/// Is `library` the supervisor program itself ("postgres" or empty)?
pub fn is_self(library: &str) -> bool {
    library.is_empty() || library == "postgres"
}

/// The entry point of a worker whose library is already loaded in this
/// process (preloaded, or the program itself), or None. The supervisor
/// calls this before forking, so that such a worker's child takes no lock
/// and touches no loader state on its way to the entry point (safe even if
/// another thread of an embedding host held one at fork time). Anything
/// else, errors included, is left to [`lookup_entry`] in the child.
pub fn resolve_loaded(library: &str, function: &str) -> Option<unsafe extern "C" fn(usize)> {
    let handle = if is_self(library) {
        // SAFETY: dlopen(NULL) returns the handle of the main program.
        unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_NOW) }
    } else {
        find_loaded(|l| l.name == library)?
    };
    let cf = CString::new(function).ok()?;
    // SAFETY: handle is live; cf is NUL-terminated.
    let f = unsafe { libc::dlsym(handle, cf.as_ptr()) };
    if f.is_null() {
        return None;
    }
    // SAFETY: as in lookup_entry: the module named it as a worker entry.
    Some(unsafe { std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn(usize)>(f) })
}

/// Find a worker's entry point, loading its library if needed, as
/// PostgreSQL's LookupBackgroundWorkerFunction.
pub fn lookup_entry(
    library: &str,
    function: &str,
) -> Result<unsafe extern "C" fn(usize), LoadError> {
    let cf = CString::new(function).map_err(|_| LoadError {
        message: format!("invalid function name \"{function}\""),
        detail: None,
    })?;
    let handle = if is_self(library) {
        // SAFETY: dlopen(NULL) returns the handle of the main program.
        unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_NOW) }
    } else {
        load(library)?
    };
    // SAFETY: handle is a live handle; cf is NUL-terminated.
    let f = unsafe { libc::dlsym(handle, cf.as_ptr()) };
    if f.is_null() {
        let message = if is_self(library) {
            format!("internal function \"{function}\" not found")
        } else {
            format!(
                "could not find function \"{function}\" in file \"{}\"",
                expand_name(library)
            )
        };
        return Err(LoadError {
            message,
            detail: None,
        });
    }
    // SAFETY: a worker entry point has type bgworker_main_type,
    // `void (*)(Datum)`; the module promised so by naming it.
    Ok(unsafe { std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn(usize)>(f) })
}
