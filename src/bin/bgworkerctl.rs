//! bgworkerctl: see, launch and steer the workers of a running bgworkerd.
//! See `bgworkerctl --help` and README.md.

fn main() {
    let code = bgworker::ctl::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
