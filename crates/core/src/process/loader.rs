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
    let path = settings::current().dynamic_library_path;
    if name.contains('/') {
        for c in &candidates {
            let p = substitute_libdir(c);
            if exists(&p) {
                return p;
            }
        }
        // `$libdir/NAME` that bgworkerd's own library directory lacks:
        // modules name PostgreSQL's own libraries so (plpgsql_check loads
        // "$libdir/plpgsql"), and under bgworkerd those live in the
        // directories dynamic_library_path names, where PostgreSQL's
        // $libdir would have them.
        if let Some(rest) = name.strip_prefix("$libdir/") {
            if !rest.contains('/') {
                let rest_so = format!("{rest}.so");
                let names: Vec<&str> = if rest.ends_with(".so") {
                    vec![rest]
                } else {
                    vec![rest, rest_so.as_str()]
                };
                for c in names {
                    for dir in path
                        .split(':')
                        .filter(|d| !d.is_empty() && !d.starts_with("$libdir"))
                    {
                        let p = format!("{dir}/{c}");
                        if exists(&p) {
                            return p;
                        }
                    }
                }
            }
        }
        return substitute_libdir(name);
    }
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

/// The fields of Pg_magic_struct (fmgr.h) that PostgreSQL compares, as
/// PostgreSQL 15 and 17 lay them out (56 bytes). PostgreSQL 18's block
/// (PG_MODULE_MAGIC_EXT, 72 bytes) starts with the same 56 bytes (`len`,
/// then `Pg_abi_values` with the same fields in the same order) and adds
/// the module's name and version pointers, which the loader does not read.
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

/// `sizeof(Pg_magic_struct)` in a module built against `major`'s headers
/// (measured against the real headers: 56, 56, 72).
fn magic_len(major: u32) -> usize {
    if major >= 18 {
        72
    } else {
        56
    }
}

/// PostgreSQL's rendering of a magic block's `version` (PG_VERSION_NUM /
/// 100): majors from 10 on as one number, older ones as X.Y.
fn shown_version(v: i32) -> String {
    if v >= 1000 {
        format!("{}", v / 100)
    } else {
        format!("{}.{}", v / 100, v % 100)
    }
}

/// PostgreSQL's error for a library of another major than the server's.
fn version_mismatch(path: &str, server: u32, library: &str) -> LoadError {
    LoadError {
        message: format!("incompatible library \"{path}\": version mismatch"),
        detail: Some(format!(
            "Server is version {server}, library is version {library}."
        )),
        hint: None,
    }
}

/// Check a module's PG_MODULE_MAGIC block, if it has one, and return the
/// PostgreSQL major it was built for (None: no magic block, as in modules
/// written against bgworker.h alone, which are accepted). A block of a
/// major this library does not serve is refused naming that version, the
/// server version being `server` (this process's major, or the one being
/// decided); a block whose length or fields do not match its own major's
/// is refused as PostgreSQL does.
fn check_magic(
    handle: *mut libc::c_void,
    path: &str,
    server: u32,
) -> Result<Option<u32>, LoadError> {
    // SAFETY: handle is a live dlopen handle; the name is NUL-terminated.
    let f = unsafe { libc::dlsym(handle, c"Pg_magic_func".as_ptr()) };
    if f.is_null() {
        return Ok(None);
    }
    // SAFETY: PG_MODULE_MAGIC defines Pg_magic_func as a function taking no
    // arguments and returning a pointer to a static Pg_magic_struct.
    let m: *const PgMagic =
        unsafe { std::mem::transmute::<*mut libc::c_void, extern "C" fn() -> *const PgMagic>(f)() };
    let mismatch = || LoadError {
        message: format!("incompatible library \"{path}\": magic block mismatch"),
        detail: None,
        hint: None,
    };
    if m.is_null() {
        return Err(LoadError {
            message: format!("incompatible library \"{path}\": missing magic block"),
            detail: None,
            hint: None,
        });
    }
    // SAFETY: every PostgreSQL magic block, old or new, starts with the
    // int fields len and version (PostgreSQL 18: len, abi_fields.version);
    // nothing else is read until len says the block has its major's size.
    let (len, version) = unsafe {
        (
            std::ptr::read(m as *const i32),
            std::ptr::read((m as *const i32).add(1)),
        )
    };
    let major = if version >= 1000 { version / 100 } else { 0 };
    if major <= 0 || !crate::identity::serves(major as u32) {
        return Err(version_mismatch(path, server, &shown_version(version)));
    }
    let major = major as u32;
    if version % 100 != 0 {
        // Not what any server stamps (PG_VERSION_NUM / 100): PostgreSQL
        // compares the field as a whole and reports a version mismatch.
        return Err(version_mismatch(path, server, &shown_version(version)));
    }
    if len < 0 || len as usize != magic_len(major) {
        // Nothing past len and version is read from a block of the wrong
        // size; PostgreSQL's message for it.
        return Err(LoadError {
            detail: Some("Magic block has unexpected length or padding difference.".into()),
            ..mismatch()
        });
    }
    // SAFETY: len says the block is its major's Pg_magic_struct, which is
    // at least as long as PgMagic and starts with its fields (see PgMagic).
    let m = unsafe { &*m };
    let extra_len = m.abi_extra.iter().position(|&b| b == 0).unwrap_or(32);
    let extra = String::from_utf8_lossy(&m.abi_extra[..extra_len]);
    if extra != "PostgreSQL" {
        return Err(LoadError {
            message: format!("incompatible library \"{path}\": ABI mismatch"),
            detail: Some(format!(
                "Server has ABI \"PostgreSQL\", library has \"{extra}\"."
            )),
            hint: None,
        });
    }
    // PostgreSQL's incompatible_module_error: one line per field that
    // differs from the server's.
    let bool_text = |b: i32| if b != 0 { "true" } else { "false" };
    let mut details = Vec::new();
    if m.funcmaxargs != 100 {
        details.push(format!(
            "Server has FUNC_MAX_ARGS = 100, library has {}.",
            m.funcmaxargs
        ));
    }
    if m.indexmaxkeys != 32 {
        details.push(format!(
            "Server has INDEX_MAX_KEYS = 32, library has {}.",
            m.indexmaxkeys
        ));
    }
    if m.namedatalen != 64 {
        details.push(format!(
            "Server has NAMEDATALEN = 64, library has {}.",
            m.namedatalen
        ));
    }
    if m.float8byval != 1 {
        details.push(format!(
            "Server has FLOAT8PASSBYVAL = true, library has {}.",
            bool_text(m.float8byval)
        ));
    }
    if !details.is_empty() {
        return Err(LoadError {
            detail: Some(details.join("\n")),
            ..mismatch()
        });
    }
    Ok(Some(major))
}

/// A loading failure: message, and an optional DETAIL.
pub struct LoadError {
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// A library dlopen'ed and checked, whose `_PG_init` has not run yet.
struct Opened {
    name: String,
    path: String,
    handle: *mut libc::c_void,
    /// The major of its magic block, if it has one.
    major: Option<u32>,
    /// False when the library was already loaded in this process.
    fresh: bool,
}

/// Find and dlopen `name` and check its magic block against `server`
/// (see [`check_magic`]); a library of a served major is returned with
/// that major for the caller to compare.
fn open(name: &str, server: u32) -> Result<Opened, LoadError> {
    let known = find_loaded(|l| l.name == name).or_else(|| {
        let path = expand_name(name);
        find_loaded(|l| l.path == path)
    });
    if let Some(h) = known {
        return Ok(Opened {
            name: name.to_string(),
            path: expand_name(name),
            handle: h,
            major: None,
            fresh: false,
        });
    }
    let path = expand_name(name);
    if let Err(e) = std::fs::metadata(&path) {
        let errtext = crate::errno_text(e.raw_os_error().unwrap_or(libc::ENOENT));
        return Err(LoadError {
            message: format!("could not access file \"{name}\": {errtext}"),
            detail: None,
            hint: None,
        });
    }
    let c = CString::new(path.clone()).map_err(|_| LoadError {
        message: format!("could not access file \"{name}\": invalid name"),
        detail: None,
        hint: None,
    })?;
    // SAFETY: c is a valid path string; RTLD_GLOBAL as PostgreSQL, so one
    // module's symbols are visible to modules loaded later.
    let dlopen = || unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    let mut h = dlopen();
    let mut error = if h.is_null() {
        dlerror_text()
    } else {
        String::new()
    };
    // A module may use a library PostgreSQL's server links without linking
    // it itself (OpenSSL, zstd, ...): in the server those symbols are in
    // the process. The runtime makes them visible, once, and only when a
    // module needs it; then the module is tried once more.
    if h.is_null() && error.contains("undefined symbol") && (crate::hooks::get().server_libraries)()
    {
        h = dlopen();
        if h.is_null() {
            error = dlerror_text();
        }
    }
    if h.is_null() {
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
            hint: None,
        });
    }
    match check_magic(h, &path, server) {
        Ok(major) => Ok(Opened {
            name: name.to_string(),
            path,
            handle: h,
            major,
            fresh: true,
        }),
        Err(e) => {
            // SAFETY: h is the handle we just opened and nothing from it is used.
            unsafe { libc::dlclose(h) };
            Err(e)
        }
    }
}

/// Close libraries [`open`] opened whose `_PG_init` never ran.
fn close_unused(list: Vec<Opened>) {
    for o in list.into_iter().filter(|o| o.fresh) {
        // SAFETY: opened by us, not recorded, nothing from it used.
        unsafe { libc::dlclose(o.handle) };
    }
}

/// Record an opened library and run its `_PG_init` on first load.
fn init(o: Opened) -> Result<*mut libc::c_void, LoadError> {
    if !o.fresh {
        return Ok(o.handle);
    }
    if let Some(h) = find_loaded(|l| l.path == o.path) {
        // Listed twice: the first entry's load stands; drop our reference.
        // SAFETY: o.handle is an extra reference to the loaded library.
        unsafe { libc::dlclose(o.handle) };
        return Ok(h);
    }
    let h = o.handle;
    let path = o.path;
    LOADED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Loaded {
            name: o.name,
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
                hint: None,
            });
        }
    }
    Ok(h)
}

/// Load a library (once per process), calling its `_PG_init` on first load.
/// A library with a magic block must be of this process's major
/// (identity::pg_major), else PostgreSQL's "version mismatch" error.
/// Returns the dlopen handle.
pub fn load(name: &str) -> Result<*mut libc::c_void, LoadError> {
    let server = crate::identity::pg_major();
    let o = open(name, server)?;
    if let Some(m) = o.major.filter(|&m| m != server) {
        let path = o.path.clone();
        close_unused(vec![o]);
        return Err(version_mismatch(&path, server, &m.to_string()));
    }
    init(o)
}

/// Decide this process's major, if nothing has yet, from the
/// `postgresql_major` setting (a supervisor without preloaded modules).
pub fn decide_major_from_settings() {
    if !crate::identity::pg_major_decided() {
        let m = settings::current().postgresql_major as u32;
        crate::identity::set_pg_major(m);
    }
}

/// Open every library of `libs` and decide the process's major from their
/// magic blocks before any `_PG_init` runs: all must agree with each other
/// (and with `postgresql_major` if it was set, or with the major already
/// decided); a library of another major is refused with PostgreSQL's
/// "version mismatch", naming the major being served as the server's, and
/// no `_PG_init` runs. Without any magic block the setting decides.
///
/// A library that cannot be opened at all ends the list there, as in
/// PostgreSQL, which loads the libraries before it: they are returned with
/// the error, to be initialised before it is reported.
fn open_all_and_decide(libs: &[String]) -> Result<(Vec<Opened>, Option<LoadError>), LoadError> {
    let s = settings::current();
    let decided = crate::identity::pg_major_decided();
    let tentative = if decided {
        crate::identity::pg_major()
    } else {
        s.postgresql_major as u32
    };
    let mut opened: Vec<Opened> = Vec::new();
    let mut failed = None;
    for l in libs {
        match open(l, tentative) {
            Ok(o) => opened.push(o),
            Err(e) if e.message.ends_with(": version mismatch") => {
                close_unused(opened);
                return Err(e);
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let first = opened.iter().find_map(|o| o.major);
    let server = if decided || s.is_set("postgresql_major") {
        tentative
    } else {
        first.unwrap_or(tentative)
    };
    if let Some(bad) = opened.iter().find(|o| o.major.is_some_and(|m| m != server)) {
        let e = version_mismatch(&bad.path, server, &bad.major.unwrap_or(0).to_string());
        close_unused(opened);
        return Err(e);
    }
    crate::identity::set_pg_major(server);
    Ok((opened, failed))
}

/// Load every shared_preload_libraries entry with the "preload in
/// progress" flag set, so their `_PG_init` may register static workers.
pub fn load_preload_libraries(libs: &[String]) -> Result<(), LoadError> {
    PRELOAD_IN_PROGRESS.store(true, Ordering::SeqCst);
    let hooks = crate::hooks::get();
    let r = open_all_and_decide(libs).and_then(|(opened, failed)| {
        (hooks.preload_in_progress)(true);
        (hooks.apply_extra_settings)().map_err(|e| LoadError {
            message: e.message,
            detail: None,
            hint: e.hint,
        })?;
        let mut it = opened.into_iter();
        while let Some(o) = it.next() {
            if let Err(e) = init(o) {
                close_unused(it.collect());
                return Err(e);
            }
        }
        failed.map_or(Ok(()), Err)
    });
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
        hint: None,
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
            hint: None,
        });
    }
    // SAFETY: a worker entry point has type bgworker_main_type,
    // `void (*)(Datum)`; the module promised so by naming it.
    Ok(unsafe { std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn(usize)>(f) })
}
