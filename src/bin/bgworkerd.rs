//! bgworkerd: the supervisor daemon (PostgreSQL's postmaster, for
//! background workers only). See `bgworkerd --help` and README.md.

// Every name of the export table must be linked into this program and
// exported from it (see build.rs): modules resolve RegisterBackgroundWorker,
// palloc and the rest against the daemon itself.
include!(concat!(env!("OUT_DIR"), "/export_refs.rs"));

// DESCRIBE_TEXT/DESCRIBE_END: what bgworkerd provides for each name it
// exports (build.rs).
include!(concat!(env!("OUT_DIR"), "/describe.rs"));

/// Line `i` of DESCRIBE_TEXT as (name, description).
fn describe_line(i: usize) -> (&'static str, &'static str) {
    let start = if i == 0 {
        0
    } else {
        DESCRIBE_END[i - 1] as usize
    };
    let line = &DESCRIBE_TEXT[start..DESCRIBE_END[i] as usize - 1];
    line.split_once('\t').unwrap_or((line, ""))
}

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
        let idx: Vec<usize> = (0..DESCRIBE_END.len()).collect();
        match idx.binary_search_by(|&i| describe_line(i).0.cmp(n.as_str())) {
            Ok(i) => println!("{n}: {}", describe_line(idx[i]).1),
            Err(_) => {
                println!("{n}: not exported: neither a PostgreSQL export of a supported major nor libbgworker's own");
                code = 1;
            }
        }
    }
    code
}

fn main() {
    let args = match bgworker::utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bgworkerd: {e}\nTry \"bgworkerd --help\" for more information.");
            std::process::exit(2);
        }
    };
    if args.first().map(String::as_str) == Some("--describe-symbol") {
        std::process::exit(describe(&args[1..]));
    }
    bgworker_pgrt::runtime::bgw_runtime_init();
    let code = bgworker::daemon::main(args);
    std::process::exit(code);
}
