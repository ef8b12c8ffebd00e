//! PostgreSQL calls that need a database. There is none here, so each
//! ends the calling process with a FATAL that says so, instead of leaving
//! the module unloadable for an undefined symbol (or, worse, pretending to
//! work). A module that only reaches these on some code path still runs
//! everything else.

use crate::log::FATAL;

fn needs_database(what: &str) -> ! {
    // SAFETY: MyBgworkerEntry is NULL or this worker's own definition.
    let who = match unsafe { crate::api::MyBgworkerEntry.as_ref() } {
        Some(w) => format!("background worker \"{}\"", w.type_name()),
        None => "this process".into(),
    };
    super::elog::report(
        FATAL,
        &format!("{who}: {what} needs a database, and database connections are not available in libbgworker"),
        None,
        Some("Only background workers that do not connect to a database can run under bgworkerd."),
        None,
    );
    super::misc::exit_process(1)
}

/// One export per name; the arguments are never read (the call does not
/// return), so one signature serves every function.
macro_rules! needs_database {
    ($($name:ident),* $(,)?) => {
        $(
            #[unsafe(no_mangle)]
            pub extern "C" fn $name() {
                super::guard(stringify!($name), (), || needs_database(stringify!($name)))
            }
        )*
    };
}

needs_database! {
    SPI_connect,
    SPI_connect_ext,
    SPI_finish,
    SPI_execute,
    SPI_exec,
    SPI_execute_with_args,
    SPI_prepare,
    SPI_execute_plan,
    SPI_getbinval,
    SPI_getvalue,
    StartTransactionCommand,
    CommitTransactionCommand,
    AbortCurrentTransaction,
    GetTransactionSnapshot,
    PushActiveSnapshot,
    PopActiveSnapshot,
    SetCurrentStatementStartTimestamp,
}
