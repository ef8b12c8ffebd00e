//! bgworkerd: the supervisor daemon (PostgreSQL's postmaster, for
//! background workers only). See `bgworkerd --help` and README.md.

// Every name of the export table must be linked into this program and
// exported from it (see build.rs): modules resolve RegisterBackgroundWorker,
// palloc and the rest against the daemon itself.
include!(concat!(env!("OUT_DIR"), "/export_refs.rs"));

fn main() {
    bgworker::bgw_runtime_init();
    let code = match bgworker::utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => bgworker::daemon::main(args),
        Err(e) => {
            eprintln!("bgworkerd: {e}\nTry \"bgworkerd --help\" for more information.");
            2
        }
    };
    std::process::exit(code);
}
