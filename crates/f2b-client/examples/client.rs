//! The `fail2ban-client` binary rebuilt from this crate alone (same allocator as
//! `crates/fail2ban/src/bin/fail2ban-client.rs`), for profiling the `-d` path while
//! the server crates are being changed: `cargo build --release -p f2b-client
//! --example client`, then `F2B_CLIENT=target/release/examples/client
//! benches/config_dump.sh`.

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
