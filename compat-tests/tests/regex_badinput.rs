//! Hostile input for fail2ban-regex and the filter engine: a catastrophic-
//! backtracking line finishes within the bound and counts as missed; invalid
//! UTF-8 and NUL bytes are handled exactly like upstream; a 1 MB line is
//! reported, never matched, and does not stall the run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use compat_tests::require_oracle;

const ORACLE: &str = "/usr/bin/fail2ban-regex";

fn ours() -> PathBuf {
    match std::env::var_os("F2B_REGEX_BIN") {
        Some(p) => PathBuf::from(p),
        None => compat_tests::bin("fail2ban-regex"),
    }
}

fn run(bin: &Path, args: &[&str]) -> (String, String, Duration) {
    let t = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("run fail2ban-regex");
    let stdout = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("[processed in "))
        .collect::<Vec<_>>()
        .join("\n");
    (
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t.elapsed(),
    )
}

fn lines_total(out: &str) -> &str {
    out.lines().find(|l| l.starts_with("Lines: ")).unwrap_or("")
}

#[test]
fn catastrophic_backtracking_is_bounded_and_missed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("redos.log");
    // passes the linear superset pre-check, then explodes in a backtracking engine
    let evil = format!("{}b 192.0.2.1", "a".repeat(5000));
    std::fs::write(&log, format!("{evil}\nab 192.0.2.2\n")).unwrap();
    let (out, err, took) = run(&ours(), &[log.to_str().unwrap(), r"^(a+)+(?<!aa)b <HOST>$"]);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(
        lines_total(&out),
        "Lines: 2 lines, 0 ignored, 1 matched, 1 missed",
        "{out}"
    );
    assert!(err.contains("over the length or matching limit"), "{err}");
}

#[test]
fn long_lines_are_reported_and_never_match() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("long.log");
    let long = format!("{} from 192.0.2.9", "x".repeat(1 << 20));
    std::fs::write(&log, format!("{long}\nfailure from 192.0.2.1\n")).unwrap();
    let (out, err, took) = run(
        &ours(),
        &["-o", "id", log.to_str().unwrap(), r"from <HOST>$"],
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(out.trim(), "192.0.2.1");
    assert!(err.contains("over the length or matching limit"), "{err}");
}

#[test]
fn invalid_utf8_and_nul_like_upstream() {
    if !require_oracle(ORACLE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bytes.log");
    let mut data: Vec<u8> = Vec::new();
    data.extend_from_slice(b"Aug 14 11:59:59 host sshd[1]: Invalid user \xff\xfe from 192.0.2.1\n");
    data.extend_from_slice(b"Aug 14 11:59:59 host sshd[1]: Invalid user a\x00b from 192.0.2.2\n");
    data.extend_from_slice(b"Aug 14 11:59:59 host sshd[1]: Invalid user \xc3 from 192.0.2.3\n");
    data.extend_from_slice(b"\x00\x00\x00\n");
    data.extend_from_slice(b"Aug 14 11:59:59 host sshd[1]: Invalid user ok from 192.0.2.4\n");
    std::fs::write(&log, data).unwrap();
    for args in [
        vec![
            "--print-all-matched",
            "--print-all-missed",
            log.to_str().unwrap(),
            "sshd",
        ],
        vec!["-o", "id", log.to_str().unwrap(), "sshd"],
    ] {
        let (theirs, _, _) = run(Path::new(ORACLE), &args);
        let (mine, _, _) = run(&ours(), &args);
        assert_eq!(mine, theirs, "fail2ban-regex {args:?}");
    }
}

#[test]
fn engine_reports_over_limit_lines() {
    let mut f = f2b_filter::FilterBuilder::new()
        .failregex(r"^(a+)+(?<!aa)b <HOST>$")
        .backtrack_limit(100_000)
        .max_line_len(4096)
        .build()
        .unwrap();
    let r = f.process_line(&format!("{}b 192.0.2.1", "a".repeat(64)), 0.0);
    assert!(r.over_limit && r.failures.is_empty());
    let r = f.process_line(&"a".repeat(5000), 0.0);
    assert!(r.over_limit && r.failures.is_empty());
    let r = f.process_line("ab 192.0.2.1", 0.0);
    assert!(!r.over_limit);
    assert_eq!(
        r.real_failures()
            .next()
            .and_then(|x| x.id.clone())
            .as_deref(),
        Some("192.0.2.1")
    );
}
