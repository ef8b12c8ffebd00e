//! bgworkerctl: see, launch and steer the workers of a running bgworkerd.
//! See `bgworkerctl --help` and README.md.

fn main() {
    // As other command-line tools: a closed pipe (`bgworkerctl status |
    // head -1`) ends the program quietly instead of making the next write
    // fail.
    // SAFETY: restoring a signal's default disposition, before any thread
    // or output exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let code = bgworker::ctl::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
