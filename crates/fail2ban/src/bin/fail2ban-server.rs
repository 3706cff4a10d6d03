//! `fail2ban-server`: parses arguments, runs the server library, maps the result to
//! upstream's exit codes (0 / 255). Like upstream, a command other than `start` (or
//! `-i`, `-d`, `-t`) makes it behave as `fail2ban-client`.

use f2b_server::options::{self, Parsed};

// glibc's malloc: an idle server stays under 5 MB with it (mimalloc keeps more
// pages per thread; docs/status/serverperf2.md).

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let args = &argv[1..];
    let client_mode = match options::parse(args, &|s| s.parse().ok()) {
        Parsed::Run(o) => {
            let start = o.args.is_empty() || (o.args.len() == 1 && o.args[0] == "start");
            !start || o.interactive || o.dump > 0 || o.test
        }
        _ => false,
    };
    let code = if client_mode {
        let mut out = std::io::stdout();
        let mut err = std::io::stderr();
        f2b_client::run(&argv, &mut out, &mut err)
    } else {
        f2b_server::main_with_args(args, &f2b_server::FileConfig)
    };
    std::process::exit(code);
}
