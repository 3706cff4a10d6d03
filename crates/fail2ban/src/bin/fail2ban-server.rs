//! `fail2ban-server`: parses arguments, runs the server library, maps the result to
//! upstream's exit codes (0 / 255).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = f2b_server::main_with_args(&args, &f2b_server::FileConfig);
    std::process::exit(code);
}
