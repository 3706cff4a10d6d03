//! `fail2ban-client`: parses the command line and runs it through the `f2b-client`
//! library; exits 0 on success and 255 on any error, like upstream.

#[global_allocator]
static ALLOC: f2b_client::alloc::FastAlloc = f2b_client::alloc::FastAlloc::new();

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = f2b_client::run(&argv, &mut out, &mut err);
    drop(out);
    std::process::exit(code);
}
