//! The `portsentry` binary: everything happens in [`portsentry::cli::main`].

fn main() {
    std::process::exit(portsentry::cli::main(std::env::args_os().collect()));
}
