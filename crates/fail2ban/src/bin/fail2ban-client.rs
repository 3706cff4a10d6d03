//! `fail2ban-client`: parses the command line and runs it through the `f2b-client`
//! library; exits 0 on success and 255 on any error, like upstream.

// A short-lived process making many small allocations: the client's own size-class
// allocator (no locks, blocks never returned) beats mimalloc and glibc here
// (docs/benchmarks.md, "config -d"). The binary is linked statically (build.rs).
#[global_allocator]
static GLOBAL: f2b_client::alloc::ClientAlloc = f2b_client::alloc::ClientAlloc;

fn main() {
    f2b_client::main()
}
