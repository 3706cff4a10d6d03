//! Differential tests of the client paths that need no server: usage, version, `--str2sec`,
//! getopt errors, command-line overrides of `fail2ban.conf` in the dump (`--loglevel`,
//! `--logtarget`, `--syslogsocket`), a bad log level, and a missing configuration directory.
//! Stdout and exit code must equal the real `/usr/bin/fail2ban-client`'s (an `ERROR: ` line is
//! compared by prefix only).

use compat_tests::{bin, require_oracle, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

const ORACLE: &str = "/usr/bin/fail2ban-client";

fn ours() -> PathBuf {
    if std::env::var("F2B_PREBUILT").as_deref() == Ok("1") {
        return target_dir().join("release").join("fail2ban-client");
    }
    bin("fail2ban-client")
}

fn run(client: &Path, args: &[String]) -> (i32, String) {
    let out = Command::new(client)
        .args(args)
        .output()
        .expect("run fail2ban-client");
    let text = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            if l.starts_with("ERROR: ") {
                "ERROR: <message>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn serverless_paths_match_upstream() {
    if !require_oracle(ORACLE) {
        return;
    }
    let client = ours();
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("fail2ban.conf"),
        "[Definition]\nloglevel = INFO\nlogtarget = /tmp/x.log\n[DEFAULT]\nallowipv6 = auto\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("jail.conf"),
        "[DEFAULT]\nenabled = false\n[j]\nport = 1\n",
    )
    .unwrap();
    let c = conf.display().to_string();
    let sock = tmp.path().join("s.sock").display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["-h"],
        vec!["--help"],
        vec!["-V"],
        vec!["--version"],
        vec!["--vers"],
        vec!["--str2sec", "1d12h"],
        vec!["--str2sec", "1mo"],
        vec!["--str2sec", "-1"],
        vec!["--str2sec", "1h 30m"],
        vec!["--str2sec", "abc"],
        vec!["--str2sec=10m"],
        vec!["--bogus"],
        vec!["-Z"],
        vec!["-c"],
        vec!["--d"],
        vec!["-c", &c, "-s", &sock],
        vec!["-c", &c, "-s", &sock, "-d"],
        vec!["-c", &c, "-s", &sock, "--dump-pretty"],
        vec![
            "-c",
            &c,
            "-s",
            &sock,
            "-d",
            "--loglevel",
            "DEBUG",
            "--logtarget",
            "SYSLOG",
        ],
        vec![
            "-c",
            &c,
            "-s",
            &sock,
            "-d",
            "--syslogsocket",
            "/dev/log",
            "-q",
        ],
        vec!["-c", &c, "-s", &sock, "-dt"],
        vec!["-c", &c, "-s", &sock, "-t"],
        vec!["-c", &c, "-s", &sock, "--loglevel", "LOUD", "-d"],
        vec!["-c", &c, "-s", &sock, "--loglevel", "10", "-d"],
        vec!["-c", "/nonexistent/dir", "-s", &sock, "-d"],
        vec!["-c", "/nonexistent/dir", "-s", &sock, "-t"],
        vec!["-V", "-c", "/nonexistent/dir", "-d"],
        vec!["-c", &c, "-s", &sock, "-h", "-d"],
    ];
    let mut diffs = Vec::new();
    for case in cases {
        let args: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        let real = run(Path::new(ORACLE), &args);
        let got = run(&client, &args);
        if real != got {
            diffs.push(format!("{case:?}:\n  real: {real:?}\n  ours: {got:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
