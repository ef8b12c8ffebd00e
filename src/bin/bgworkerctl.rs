//! bgworkerctl: see, launch and steer the workers of a running bgworkerd.
//! See `bgworkerctl --help` and README.md.

fn main() {
    // As other command-line tools: a closed pipe (`bgworkerctl status |
    // head -1`) ends the program quietly instead of making the next write
    // fail.
    // SAFETY: restoring a signal's default disposition, before any thread
    // or output exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let code = match bgworker::utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => bgworker::ctl::main(args),
        Err(e) => {
            eprintln!("bgworkerctl: {e}");
            2
        }
    };
    std::process::exit(code);
}
