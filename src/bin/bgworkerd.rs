//! bgworkerd: the supervisor daemon (PostgreSQL's postmaster, for
//! background workers only). See `bgworkerd --help` and README.md.

// Every name of the export table must be linked into this program and
// exported from it (see build.rs): modules resolve RegisterBackgroundWorker,
// palloc and the rest against the daemon itself.
include!(concat!(env!("OUT_DIR"), "/export_refs.rs"));

// DESCRIBE: what bgworkerd provides for each name it exports (build.rs).
include!(concat!(env!("OUT_DIR"), "/describe.rs"));

/// `bgworkerd --describe-symbol NAME...`: for each name, whether it is
/// implemented, PostgreSQL's own code, unavailable (needs the database
/// server), storage, or not exported at all. Exit status 0 when every name
/// is exported, 1 otherwise.
fn describe(names: &[String]) -> i32 {
    if names.is_empty() {
        eprintln!("bgworkerd: option --describe-symbol requires a symbol name");
        return 2;
    }
    let mut code = 0;
    for n in names {
        match DESCRIBE.binary_search_by(|(k, _)| k.cmp(&n.as_str())) {
            Ok(i) => println!("{n}: {}", DESCRIBE[i].1),
            Err(_) => {
                println!("{n}: not exported: neither a PostgreSQL export of a supported major nor libbgworker's own");
                code = 1;
            }
        }
    }
    code
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--describe-symbol") {
        std::process::exit(describe(&args[1..]));
    }
    bgworker_pgrt::runtime::bgw_runtime_init();
    let code = bgworker::daemon::main(args);
    std::process::exit(code);
}
