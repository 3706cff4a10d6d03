//! Differential tests of configuration loading: our `fail2ban-client -d`, `--dp`, `-t`
//! and `-d -t` against Debian's real `/usr/bin/fail2ban-client` on
//! (a) the stock `/etc/fail2ban` copied to a scratch dir,
//! (b) the same with every jail of `jail.conf` enabled on existing dummy log files,
//! (c) the stock config plus our `etc-fail2ban-samples/` overlay (as is, and with
//!     dummy log files), and
//! (d) the small dialect cases in `data/config/<case>/` (each laid over `data/config/_base/`).
//!
//! Stdout must be byte-identical except that a line starting with `ERROR: ` is compared
//! only by that prefix (upstream prints the Python exception text there); exit codes must
//! be equal. Expected output is produced by running the oracle at test time.

use compat_tests::{bin, copy_tree, require_oracle, target_dir, workspace_root, STOCK_CONF};
use std::path::{Path, PathBuf};
use std::process::Command;

const ORACLE: &str = "/usr/bin/fail2ban-client";
const MODES: &[&[&str]] = &[&["-d"], &["--dp"], &["-t"], &["-d", "-t"]];

/// Our client: `bin()`, or the already built binary when `F2B_PREBUILT=1` (lets this
/// test run while another crate of the workspace does not build).
fn ours() -> PathBuf {
    if std::env::var("F2B_PREBUILT").as_deref() == Ok("1") {
        return target_dir().join("release").join("fail2ban-client");
    }
    bin("fail2ban-client")
}

fn normalize(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            if l.starts_with("ERROR: ") {
                "ERROR: <message>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(client: &Path, dir: &Path, mode: &[&str]) -> (i32, String) {
    let sock = dir.join("f2b-test.sock");
    let out = Command::new(client)
        .arg("-c")
        .arg(dir)
        .arg("-s")
        .arg(&sock)
        .args(mode)
        .output()
        .expect("run fail2ban-client");
    (out.status.code().unwrap_or(-1), normalize(&out.stdout))
}

/// Compares every mode on `dir`; returns a description of each difference.
fn compare(client: &Path, dir: &Path, label: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    for mode in MODES {
        let (rc_real, out_real) = run(Path::new(ORACLE), dir, mode);
        let (rc_ours, out_ours) = run(client, dir, mode);
        if rc_real != rc_ours || out_real != out_ours {
            let first = out_real
                .lines()
                .zip(out_ours.lines())
                .position(|(a, b)| a != b)
                .map(|i| {
                    format!(
                        "first differing line {}:\n  real: {}\n  ours: {}",
                        i + 1,
                        out_real.lines().nth(i).unwrap_or(""),
                        out_ours.lines().nth(i).unwrap_or("")
                    )
                })
                .unwrap_or_else(|| {
                    format!(
                        "line counts {} vs {}",
                        out_real.lines().count(),
                        out_ours.lines().count()
                    )
                });
            diffs.push(format!(
                "{label} {mode:?}: exit {rc_real} vs {rc_ours}; {first}"
            ));
        }
    }
    diffs
}

/// Section names of an ini file (lines `[name]`), in order.
fn sections_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|r| r.strip_suffix(']')))
        .filter(|s| *s != "DEFAULT" && *s != "INCLUDES")
        .map(str::to_string)
        .collect()
}

/// Writes `name` enabling `jails`, each on its own empty dummy log file under `dir/logs`.
fn enable_with_dummy_logs(dir: &Path, name: &str, jails: &[String]) {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::new();
    for j in jails {
        let log = logs.join(format!("{j}.log"));
        std::fs::write(&log, "").unwrap();
        text.push_str(&format!(
            "[{j}]\nenabled = true\nlogpath = {}\n\n",
            log.display()
        ));
    }
    std::fs::write(dir.join(name), text).unwrap();
}

fn assert_no_diffs(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn stock_debian_config() {
    if !require_oracle(ORACLE) {
        return;
    }
    let client = ours();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    copy_tree(Path::new(STOCK_CONF), &dir).unwrap();
    assert_no_diffs(compare(&client, &dir, "stock"));
}

#[test]
fn stock_with_every_jail_enabled() {
    if !require_oracle(ORACLE) {
        return;
    }
    let client = ours();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    copy_tree(Path::new(STOCK_CONF), &dir).unwrap();
    let jails = sections_of(&dir.join("jail.conf"));
    assert!(
        jails.len() > 50,
        "expected Debian's full jail.conf, got {} jails",
        jails.len()
    );
    enable_with_dummy_logs(&dir, "jail.local", &jails);
    assert_no_diffs(compare(&client, &dir, "all-jails"));
    // the same without dummy logs: -d warns, -t fails, for both
    std::fs::remove_dir_all(dir.join("logs")).unwrap();
    assert_no_diffs(compare(&client, &dir, "all-jails-no-logs"));
}

#[test]
fn stock_with_sample_setup() {
    if !require_oracle(ORACLE) {
        return;
    }
    let samples = workspace_root().join("etc-fail2ban-samples");
    assert!(
        samples.join("jail.d").is_dir(),
        "etc-fail2ban-samples/jail.d is missing"
    );
    let client = ours();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    copy_tree(Path::new(STOCK_CONF), &dir).unwrap();
    for sub in ["jail.d", "filter.d", "action.d", "fail2ban.d"] {
        if samples.join(sub).is_dir() {
            copy_tree(&samples.join(sub), &dir.join(sub)).unwrap();
        }
    }
    for f in ["fail2ban.local", "jail.local"] {
        if samples.join(f).is_file() {
            std::fs::copy(samples.join(f), dir.join(f)).unwrap();
        }
    }
    assert_no_diffs(compare(&client, &dir, "samples"));
    let mut jails = Vec::new();
    for e in std::fs::read_dir(samples.join("jail.d")).unwrap() {
        jails.extend(sections_of(&e.unwrap().path()));
    }
    jails.sort();
    jails.dedup();
    enable_with_dummy_logs(&dir, "jail.d/zzz-test-logs.local", &jails);
    assert_no_diffs(compare(&client, &dir, "samples-with-logs"));
}

/// Our own `jail.local` over the stock files: action shortcuts (`%(action_mwl)s`, `xarf`,
/// cloudflare, blocklist.de, abuseipdb), nftables banactions, arguments with spaces, a Python
/// action, and a `filter.d/sshd.local` that extends the stock regexes with `%(known/failregex)s`.
const SHORTCUTS_JAIL_LOCAL: &str = r#"[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports
action = %(action_mwl)s
destemail = admin@example.org
cfemail = cf@example.org
cftoken = token
cfapikey = key
blocklist_de_apikey = bkey
logpath = LOGDIR/a.log

[sshd]
enabled = true
mode = aggressive
logpath = LOGDIR/a.log

[apache-auth]
enabled = true
logpath = LOGDIR/a.log
action = %(action_xarf)s

[postfix]
enabled = true
action = %(action_cf_mwl)s
logpath = LOGDIR/a.log

[recidive]
enabled = true
logpath = LOGDIR/a.log
action = %(action_blocklist_de)s
         iptables-ipset-proto6-allports[name=recidive]
         %(action_abuseipdb)s[abuseipdb_apikey=x, abuseipdb_category=18]

[nginx-http-auth]
enabled = true
logpath = LOGDIR/a.log
action = ufw[application="Nginx Full"]
         hostsdeny[daemon_list=sshd]
         route
         dummy
         smtp.py[host="127.0.0.1:25", dest=root]
"#;

#[test]
fn stock_with_action_shortcuts() {
    if !require_oracle(ORACLE) {
        return;
    }
    let client = ours();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    copy_tree(Path::new(STOCK_CONF), &dir).unwrap();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("a.log"), "").unwrap();
    let text = SHORTCUTS_JAIL_LOCAL.replace("LOGDIR", &logs.display().to_string());
    std::fs::write(dir.join("jail.local"), text).unwrap();
    std::fs::write(
        dir.join("filter.d/sshd.local"),
        "[Definition]\nfailregex = %(known/failregex)s\n            ^extra local rule from <HOST>$\n",
    )
    .unwrap();
    let (rc, out) = run(Path::new(ORACLE), &dir, &["-t"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, "OK: configuration test is successful"),
        "upstream rejects the case"
    );
    assert_no_diffs(compare(&client, &dir, "action-shortcuts"));
}

/// Lays `data/config/_base` and then `data/config/<case>` into `dst`; a file named
/// `X.omit` in the case removes `X`.
fn prepare_case(case: &Path, dst: &Path) {
    let data = case.parent().unwrap();
    copy_tree(&data.join("_base"), dst).unwrap();
    copy_tree(case, dst).unwrap();
    fn omit(dir: &Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                omit(&p);
            } else if let Some(target) = p.to_str().and_then(|s| s.strip_suffix(".omit")) {
                let _ = std::fs::remove_file(target);
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    omit(dst);
}

#[test]
fn dialect_cases() {
    if !require_oracle(ORACLE) {
        return;
    }
    let client = ours();
    let data = workspace_root().join("compat-tests/data/config");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "only {} dialect cases", cases.len());
    let tmp = tempfile::tempdir().unwrap();
    let mut diffs = Vec::new();
    let mut error_cases = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let dir = tmp.path().join(&name);
        prepare_case(case, &dir);
        diffs.extend(compare(&client, &dir, &name));
        if name.starts_with("err_") {
            // an error case must really fail somewhere (test or dump), for both
            let (rc, _) = run(Path::new(ORACLE), &dir, &["-t"]);
            assert_eq!(
                rc, 255,
                "{name}: upstream accepts this config; not an error case"
            );
            error_cases += 1;
        }
    }
    assert!(error_cases >= 10, "only {error_cases} error cases");
    assert_no_diffs(diffs);
}
