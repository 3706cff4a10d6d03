//! `fail2ban-server`: parses arguments, runs the server library, maps the result to
//! upstream's exit codes (0 / 255). Like upstream, a command other than `start` (or
//! `-i`, `-d`, `-t`) makes it behave as `fail2ban-client`.

use f2b_server::options::{self, Parsed};

// glibc malloc with a per-thread cache of small blocks for the busy threads: cheap
// per line, and an idle server stays small (f2b-server's `alloc` module)
#[global_allocator]
static GLOBAL: f2b_server::alloc::ThreadCache = f2b_server::alloc::ThreadCache;

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
