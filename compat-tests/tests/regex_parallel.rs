//! Our `fail2ban-regex` searches single-line filters on several threads and
//! takes the results back in log order (f2b-regex `process_parallel`). This
//! feeds it a log of many 512-line batches whose multi-line state (sshd's
//! `F-MLFID` sessions) crosses batch borders, and checks that every matched,
//! missed and ignored line and every total equals Debian's fail2ban-regex.

use std::path::{Path, PathBuf};
use std::process::Command;

use compat_tests::{require_oracle, UPSTREAM_LOGS};

const ORACLE: &str = "/usr/bin/fail2ban-regex";

fn ours() -> PathBuf {
    match std::env::var_os("F2B_REGEX_BIN") {
        Some(p) => PathBuf::from(p),
        None => compat_tests::bin("fail2ban-regex"),
    }
}

fn run(bin: &Path, log: &Path, filter: &str) -> String {
    let out = Command::new(bin)
        .arg("--print-all-matched")
        .arg("--print-all-missed")
        .arg("--print-all-ignored")
        .arg(log)
        .arg(filter)
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    assert!(out.status.success(), "{} failed", bin.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("[processed in "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn many_batches_give_upstream_output() {
    if !require_oracle(ORACLE) {
        return;
    }
    let sample = std::fs::read_to_string(Path::new(UPSTREAM_LOGS).join("sshd")).expect("sample");
    let lines: Vec<&str> = sample
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    // 30 copies, each shifted by one line, so batches cut sessions differently
    let mut text = String::new();
    for k in 0..30 {
        for l in lines.iter().skip(k).chain(lines.iter().take(k)) {
            text.push_str(l);
            text.push('\n');
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("auth.log");
    std::fs::write(&log, &text).expect("write log");
    assert!(text.lines().count() > 4 * 512, "several batches");
    for filter in ["sshd", "sshd[mode=aggressive]"] {
        let want = run(Path::new(ORACLE), &log, filter);
        let got = run(&ours(), &log, filter);
        assert!(want.contains("Lines: "), "{want}");
        assert_eq!(got, want, "{filter}");
    }
}
