//! `fail2ban-client` built from this crate alone, for profiling the `-d` path while
//! other crates of the workspace (which the `fail2ban` package also builds) do not
//! compile. The same as `crates/fail2ban/src/bin/fail2ban-client.rs`; to link it
//! statically like that one: `cargo rustc --release -p f2b-client --example client --
//! -C target-feature=+crt-static`, then `F2B_CLIENT=target/release/examples/client
//! benches/config_dump.sh`.

#[global_allocator]
static GLOBAL: f2b_client::alloc::ClientAlloc = f2b_client::alloc::ClientAlloc;

fn main() {
    f2b_client::main()
}
