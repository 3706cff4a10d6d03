//! `fail2ban-regex`: tests filters against log lines (see the f2b-regex crate).

// Every log line makes a few short-lived allocations; mimalloc's thread-local
// free lists cost a fraction of glibc malloc's (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args();
    let prog = args.next().unwrap_or_else(|| "fail2ban-regex".into());
    let rest: Vec<String> = args.collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = f2b_regex::run(&prog, &rest, &mut out, &mut err);
    drop(out);
    std::process::exit(code);
}
