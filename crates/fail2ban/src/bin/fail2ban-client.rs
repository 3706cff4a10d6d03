//! `fail2ban-client`: parses the command line and runs it through the `f2b-client`
//! library; exits 0 on success and 255 on any error, like upstream.

// Many small allocations in a few ms: mimalloc is cheaper per call than glibc's
// malloc here (docs/benchmarks.md, "config -d"). The binary is linked statically
// (build.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    f2b_client::main()
}
