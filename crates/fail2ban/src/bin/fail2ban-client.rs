//! `fail2ban-client`: parses the command line and runs it through the `f2b-client`
//! library; exits 0 on success and 255 on any error, like upstream.

// Reading a configuration makes many small, short-lived allocations: mimalloc
// runs them in about half the instructions of glibc's malloc (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = f2b_client::run(&argv, &mut out, &mut err);
    drop(out);
    std::process::exit(code);
}
