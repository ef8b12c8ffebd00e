//! Worker entry points written in Rust: [`entry_point!`](crate::entry_point)
//! emits the `extern "C"` symbol the supervisor looks up by
//! `bgw_function_name` and an [`EntryPoint`] naming it; [`run`] is the
//! panic boundary between that symbol and the worker's Rust function.

use std::panic::{catch_unwind, AssertUnwindSafe};

use bgworker_core::log;

use super::worker::Worker;

/// A worker entry point declared with [`entry_point!`](crate::entry_point):
/// the symbol's name, for [`WorkerBuilder::entry`](super::WorkerBuilder::entry).
///
/// ```
/// use bgworker::safe::Worker;
/// fn idle(_w: Worker) -> Result<(), bgworker::safe::Error> { Ok(()) }
/// bgworker::entry_point!(IDLE = idle);
/// assert_eq!(IDLE.name(), "idle");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EntryPoint {
    name: &'static str,
    symbol: extern "C" fn(usize),
}

impl EntryPoint {
    /// Made by the macro only: `symbol` is the exported function called
    /// `name`.
    #[doc(hidden)]
    pub const fn __new(name: &'static str, symbol: extern "C" fn(usize)) -> Self {
        EntryPoint { name, symbol }
    }

    /// The exported symbol's name (`bgw_function_name`).
    ///
    /// ```
    /// # use bgworker::safe::Worker;
    /// # fn w(_w: Worker) -> Result<(), bgworker::safe::Error> { Ok(()) }
    /// bgworker::entry_point!(W = w);
    /// assert_eq!(W.name(), "w");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the program's dynamic symbol table resolves the name to this
    /// very function (what the supervisor will call). False when the
    /// program was linked without `-rdynamic`.
    ///
    /// ```no_run
    /// # use bgworker::safe::Worker;
    /// # fn w(_w: Worker) -> Result<(), bgworker::safe::Error> { Ok(()) }
    /// bgworker::entry_point!(W = w);
    /// assert!(W.is_exported(), "link with -rdynamic");
    /// ```
    pub fn is_exported(&self) -> bool {
        resolve_self(self.name) == Some(self.symbol as usize)
    }
}

/// The address `name` has in this program's dynamic symbol table, as the
/// loader resolves a worker whose library is the program itself.
pub(crate) fn resolve_self(name: &str) -> Option<usize> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: dlopen(NULL) returns the main program's handle (never
    // unloaded); c is NUL-terminated.
    let p = unsafe { libc::dlsym(libc::dlopen(std::ptr::null(), libc::RTLD_NOW), c.as_ptr()) };
    (!p.is_null()).then_some(p as usize)
}

/// Declare a worker entry point: `entry_point!(NAME = function)` exports
/// `extern "C" fn function(Datum)` under the function's own name (the
/// `bgw_function_name` the supervisor looks up) and defines the constant
/// `NAME: EntryPoint` for [`WorkerBuilder::entry`](crate::safe::WorkerBuilder::entry).
///
/// `function` is `fn(Worker) -> Result<(), E>` with `E: Display`: `Ok`
/// ends the worker with status 0 (done: not restarted), `Err` logs the
/// error at ERROR and exits with status 1 (restarted after its restart
/// interval), and a panic is caught at the boundary, logged, and ends the
/// worker with status 1 as well. Called outside a worker, the symbol logs
/// an error and returns.
///
/// The supervisor finds the symbol in the program's dynamic symbol table,
/// so a program that runs the supervisor is linked with `-rdynamic` (in
/// its build.rs: `println!("cargo:rustc-link-arg-bins=-rdynamic")`);
/// [`Supervisor::register`](crate::safe::Supervisor::register) refuses a
/// definition whose entry the program does not export. In a cdylib (a
/// module bgworkerd loads) the symbol is exported as it is; see
/// [`Worker`](crate::safe::Worker) for what such a worker can do.
///
/// ```no_run
/// use bgworker::safe::{Event, Worker};
/// use std::time::Duration;
///
/// fn ticker(mut w: Worker) -> Result<(), bgworker::safe::Error> {
///     loop {
///         match w.wait(Some(Duration::from_secs(1)))? {
///             Event::Shutdown => return Ok(()),
///             _ => println!("tick from {}", w.definition().name()),
///         }
///     }
/// }
/// bgworker::entry_point!(TICKER = ticker);
/// ```
#[macro_export]
macro_rules! entry_point {
    ($(#[$meta:meta])* $vis:vis $name:ident = $function:ident) => {
        $(#[$meta])*
        $vis const $name: $crate::safe::EntryPoint = {
            #[export_name = ::core::stringify!($function)]
            extern "C" fn __bgw_entry(arg: usize) {
                $crate::safe::__run_entry(arg, $function)
            }
            $crate::safe::EntryPoint::__new(::core::stringify!($function), __bgw_entry)
        };
    };
}

/// The body of every symbol [`entry_point!`](crate::entry_point) emits:
/// builds the [`Worker`] and calls `f` inside the panic boundary. Never
/// unwinds. Returns only outside a worker (the error is logged); in a
/// worker it ends the process (0 after `Ok`, 1 after `Err` or a panic).
#[doc(hidden)]
pub fn run<E: std::fmt::Display>(arg: usize, f: fn(Worker) -> Result<(), E>) {
    let mut local = true;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let w = match Worker::start(arg) {
            Ok(w) => w,
            Err(e) => {
                log::emit(log::ERROR, &format!("worker entry point: {e}"));
                return None;
            }
        };
        local = w.is_local();
        let name = w.definition().name();
        Some(match f(w) {
            Ok(()) => 0,
            Err(e) => {
                log::emit(
                    log::ERROR,
                    &format!("background worker \"{name}\" failed: {e}"),
                );
                1
            }
        })
    }));
    let code = match r {
        Ok(None) => return,
        Ok(Some(code)) => code,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            log::emit(log::ERROR, &format!("background worker panicked: {what}"));
            1
        }
    };
    if local {
        // The runtime's proc_exit where one is installed, else exit as a
        // worker does (see hooks.rs).
        (bgworker_core::hooks::get().exit_process)(code)
    }
    exit_foreign(code)
}

/// End a worker of a module loaded by its supervisor: status 0 by returning
/// to the supervisor's code, which ends the worker as after any entry
/// point; any other status through the process's `proc_exit` (bgworkerd's
/// PostgreSQL runtime: exit callbacks, then exit), else exit().
fn exit_foreign(code: i32) {
    if code == 0 {
        return;
    }
    // SAFETY: RTLD_DEFAULT lookup of a NUL-terminated name.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"proc_exit".as_ptr()) };
    if !f.is_null() {
        // SAFETY: PostgreSQL's `void proc_exit(int)`, which does not return.
        let proc_exit: extern "C" fn(i32) = unsafe { std::mem::transmute(f) };
        proc_exit(code);
    }
    // SAFETY: exit has no preconditions.
    unsafe { libc::exit(code) }
}
