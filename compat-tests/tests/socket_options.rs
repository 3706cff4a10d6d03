//! Client options against a running server (issue 5, spec 5.3): `-s`, `-v`, `-q`,
//! `--timeout`, a socket that does not exist, and interactive mode (`-i`, commands on
//! stdin). Our client must print what the real client prints, against the real server
//! and against ours; the baseline is the real client against the real server.

use compat_tests::socket::{
    both, client, client_stdin, diff_runs, Daemon, Impl, Run, Setup, UPSTREAM_CLIENT,
};
use std::path::{Path, PathBuf};

/// Command lines after `-c <conf>`; `{dir}` is the scratch directory.
const CASES: &[&[&str]] = &[
    &["-s", "{dir}/run/f2b.sock", "status"],
    &["--socket", "{dir}/run/f2b.sock", "get", "sshd", "maxretry"],
    &["-q", "status", "sshd"],
    &["-q", "status", "nosuchjail"],
    &["--timeout", "5", "get", "sshd", "findtime"],
    &["-s", "{dir}/nonexistent.sock", "status"],
    &["-s", "{dir}/nonexistent.sock", "ping"],
];

/// `-v`: the client's INFO log lines on stderr (kept apart: cosmetic, but upstream's).
const VERBOSE: &[&[&str]] = &[&["-v", "status"], &["-v", "-q", "get", "sshd", "maxretry"]];

/// Commands typed into `fail2ban-client -i`.
const INTERACTIVE: &str = "ping\nstatus\nget sshd maxretry\nset sshd maxretry 4\n\
                           get sshd maxretry\nstatus nosuchjail\nfrobnicate\necho a b\nhelp\nexit\n";

fn run(server: Impl, client_bin: &Path, cases: &[&[&str]], interactive: bool) -> Vec<Run> {
    let setup = Setup::new();
    let _d = Daemon::start(server, &setup);
    let mut runs: Vec<Run> = cases
        .iter()
        .map(|args| client(client_bin, &setup, args))
        .collect();
    if interactive {
        runs.push(client_stdin(client_bin, &setup, &["-i"], INTERACTIVE));
    }
    runs
}

fn check(
    server: Impl,
    client_bin: impl FnOnce() -> PathBuf + std::panic::UnwindSafe,
    cases: &'static [&'static [&'static str]],
    interactive: bool,
) {
    if !Impl::Upstream.available() {
        return;
    }
    let (want, got) = both(
        move || run(Impl::Upstream, UPSTREAM_CLIENT.as_ref(), cases, interactive),
        || run(server, &client_bin(), cases, interactive),
    );
    // the baseline must contain real answers
    assert!(want[0].stdout.contains(":\t"), "{}", want[0]);
    let d = diff_runs(&want, &got);
    assert!(d.is_empty(), "{} differences:\n{}", d.len(), d.join("\n\n"));
}

#[test]
fn our_client_options_against_real_server() {
    check(Impl::Upstream, || Impl::Ours.client(), CASES, true);
}

#[test]
fn our_client_options_against_our_server() {
    check(Impl::Ours, || Impl::Ours.client(), CASES, true);
}

#[test]
fn real_client_options_against_our_server() {
    check(Impl::Ours, || UPSTREAM_CLIENT.into(), CASES, true);
}

#[test]
fn our_client_verbose_log_lines() {
    check(Impl::Upstream, || Impl::Ours.client(), VERBOSE, false);
}
