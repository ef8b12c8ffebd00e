//! [`Attachment`]: this process attached to a running supervisor
//! (bgworkerd, or a program embedding one), to register, watch and
//! terminate dynamic workers.

use std::ffi::CString;
use std::path::Path;

use bgworker_core::backend::{self, Role};

use super::definition::WorkerDefinition;
use super::handle::{register_on, Handle};
use super::Error;

/// The process's attachment to a running supervisor. One per process at
/// a time; dropping it detaches, which the borrow checker allows only once
/// no [`Handle`] registered through it is left.
///
/// ```no_run
/// use bgworker::safe::Attachment;
/// let sup = Attachment::attach("/run/bgworkerd")?;
/// println!("supervisor pid {}", sup.supervisor_pid());
/// drop(sup); // detaches
/// # Ok::<(), bgworker::safe::Error>(())
/// ```
#[derive(Debug)]
pub struct Attachment {
    supervisor_pid: i32,
}

impl Attachment {
    /// Attach to the supervisor of run directory `where_` (the directory
    /// holding `bgworkerd.pid`) or of the segment so named. Fails with
    /// [`Error::AlreadyConnected`] when this process is attached already,
    /// is a worker, or runs a supervisor, and with [`Error::Attach`] (the
    /// reason: no daemon, stale pid file, ...) otherwise. As `bgw_attach`,
    /// installs a no-op SIGUSR1 handler if SIGUSR1 has its default action.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, Error};
    /// match Attachment::attach("/run/bgworkerd") {
    ///     Ok(_sup) => println!("attached"),
    ///     Err(Error::Attach(why)) => eprintln!("no supervisor there: {why}"),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// ```
    pub fn attach(where_: impl AsRef<Path>) -> Result<Attachment, Error> {
        if backend::current().is_some() {
            return Err(Error::AlreadyConnected);
        }
        let path = where_.as_ref();
        let text = path
            .to_str()
            .ok_or_else(|| Error::Attach(format!("{} is not valid UTF-8", path.display())))?;
        let c = CString::new(text).map_err(|_| {
            Error::Attach(format!("\"{}\" contains a NUL byte", text.escape_debug()))
        })?;
        backend::attach(&c).map_err(Error::Attach)?;
        let supervisor_pid = backend::current().map_or(0, |c| c.supervisor_pid);
        Ok(Attachment { supervisor_pid })
    }

    /// The supervisor's process id.
    ///
    /// ```no_run
    /// # use bgworker::safe::Attachment;
    /// let sup = Attachment::attach("/run/bgworkerd")?;
    /// assert!(sup.supervisor_pid() > 0);
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn supervisor_pid(&self) -> i32 {
        self.supervisor_pid
    }

    /// Is the supervisor still running?
    ///
    /// ```no_run
    /// # use bgworker::safe::Attachment;
    /// let sup = Attachment::attach("/run/bgworkerd")?;
    /// if !sup.supervisor_alive() {
    ///     eprintln!("bgworkerd has gone away");
    /// }
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn supervisor_alive(&self) -> bool {
        backend::current().is_some_and(|c| c.supervisor_alive())
    }

    /// Register a dynamic worker (RegisterDynamicBackgroundWorker).
    /// [`Error::NoFreeSlot`] when every slot is taken,
    /// [`Error::InvalidDefinition`] with PostgreSQL's message when the
    /// supervisor's rules refuse it.
    ///
    /// ```no_run
    /// # use bgworker::safe::{Attachment, WorkerBuilder};
    /// let sup = Attachment::attach("/run/bgworkerd")?;
    /// let def = WorkerBuilder::new("job").library("my_module").function("job_main").build()?;
    /// let handle = sup.register(&def)?;
    /// println!("{:?}", handle.status());
    /// # Ok::<(), bgworker::safe::Error>(())
    /// ```
    pub fn register(&self, def: &WorkerDefinition) -> Result<Handle<'_>, Error> {
        let conn = backend::current().ok_or(Error::NotConnected)?;
        register_on(conn, def)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if backend::role() == Some(Role::Attached) {
            // SAFETY: every Handle borrows this Attachment, so none is left;
            // the only other users of the connection are the unsafe C
            // exports, whose callers promise not to race bgw_detach (here:
            // the drop of the process's single Attachment).
            unsafe { backend::uninstall() };
        }
    }
}
