//! The bundled sample setup (`etc-fail2ban-samples/`): every sample filter matches the attack
//! lines of its sample log and never the legitimate user's address (198.51.100.20), with the real
//! `fail2ban-regex` and with ours, and both print the same totals and matched lines.

use compat_tests::{bin, require_oracle, workspace_root, STOCK_CONF};
use std::path::Path;
use std::process::Command;

/// (filter argument, sample log, whether the filter is one of ours in `filter.d/`)
const CASES: &[(&str, &str, bool)] = &[
    ("sshd", "sshd.log", false),
    ("proftpd", "proftpd.log", false),
    ("recidive", "fail2ban.log", false),
    ("nextcloud", "nextcloud.log", true),
    ("wordpress", "wordpress.log", true),
    ("dokuwiki", "dokuwiki.log", true),
];

const LEGIT: &str = "198.51.100.20";

struct Run {
    totals: String,
    matched: Vec<String>,
}

fn run(regex_bin: &Path, filter: &str, log: &str, ours: bool) -> Run {
    let samples = workspace_root().join("etc-fail2ban-samples");
    let filter_arg = if ours {
        samples
            .join("filter.d")
            .join(format!("{filter}.conf"))
            .display()
            .to_string()
    } else {
        filter.to_string()
    };
    let out = Command::new(regex_bin)
        .args(["-c", STOCK_CONF, "--print-all-matched", "--print-no-missed"])
        .arg(samples.join("logs").join(log))
        .arg(&filter_arg)
        .env("TZ", "UTC")
        .output()
        .expect("run fail2ban-regex");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {filter_arg} failed:\n{text}",
        regex_bin.display()
    );
    let totals = text
        .lines()
        .find(|l| l.starts_with("Lines: "))
        .unwrap_or_else(|| panic!("no totals line in:\n{text}"))
        .to_string();
    let mut matched = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("|- Matched line(s):") {
            inside = true;
        } else if inside && line.starts_with("`-") {
            inside = false;
        } else if inside {
            matched.push(line.trim_start_matches("|  ").to_string());
        }
    }
    Run { totals, matched }
}

#[test]
fn sample_filters_match_attacks_only_real_and_ours_agree() {
    if !require_oracle("/usr/bin/fail2ban-regex") {
        return;
    }
    let ours = bin("fail2ban-regex");
    for &(filter, log, own) in CASES {
        let real = run(Path::new("/usr/bin/fail2ban-regex"), filter, log, own);
        assert!(
            !real.matched.is_empty(),
            "{filter}: upstream matched nothing in {log}"
        );
        assert!(
            real.matched.iter().all(|l| !l.contains(LEGIT)),
            "{filter}: the legitimate address was matched: {:?}",
            real.matched
        );
        let mine = run(&ours, filter, log, own);
        assert_eq!(mine.totals, real.totals, "{filter}: totals differ");
        assert_eq!(mine.matched, real.matched, "{filter}: matched lines differ");
    }
}
