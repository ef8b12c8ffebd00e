//! bgworkerd: the supervisor daemon (PostgreSQL's postmaster, for
//! background workers only). See `bgworkerd --help` and README.md.

// The library's C API must be linked into this program and exported from
// it (see build.rs): preload modules resolve RegisterBackgroundWorker and
// friends against the daemon itself. Naming the entry points here keeps
// the linker from dropping them.
#[used]
static EXPORTS: [unsafe extern "C" fn(*mut bgworker::abi::BackgroundWorker); 1] =
    [bgworker::api::RegisterBackgroundWorker];

fn main() {
    let _ = &EXPORTS;
    bgworker::bgw_runtime_init();
    let code = bgworker::daemon::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
