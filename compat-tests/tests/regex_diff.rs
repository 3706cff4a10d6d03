//! Differential test of our `fail2ban-regex` against Debian's: every sample
//! filter (with each option set its sample log uses) on its sample log, with
//! `--print-all-matched/missed/ignored` (which lines match, are ignored or missed,
//! and the totals) and with `-o id` (the matched host of every failure); plus a
//! set of option variants on a few filters. Outputs must be identical except for
//! the `[processed in … sec]` line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use compat_tests::filters::{sample_filters, UPSTREAM_TEST_CONF};
use compat_tests::{require_oracle, STOCK_CONF, UPSTREAM_LOGS};

const ORACLE: &str = "/usr/bin/fail2ban-regex";

/// Our binary. `F2B_REGEX_BIN` may point to a prebuilt one (useful while other
/// workspace binaries do not build).
fn ours() -> PathBuf {
    match std::env::var_os("F2B_REGEX_BIN") {
        Some(p) => PathBuf::from(p),
        None => compat_tests::bin("fail2ban-regex"),
    }
}

fn run(bin: &Path, args: &[String]) -> (i32, String) {
    let out = Command::new(bin)
        .args(args)
        .env("TZ", "CET-01CEST-02,M3.5.0,M10.5.0")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    // the program path (argv[0]) and the regex engines' own error texts differ
    let prog = bin.to_string_lossy().into_owned();
    let mut lines = Vec::new();
    let mut skip_next = false;
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if l.starts_with("[processed in ") {
            continue;
        }
        if l.starts_with("ERROR: Unable to compile regular expression") {
            skip_next = true;
        }
        lines.push(sort_sets(&l.replace(&prog, "fail2ban-regex")));
    }
    let text = lines.join("\n");
    (out.status.code().unwrap_or(-1), text)
}

/// Python prints sets (`'users': {…}`) in hash order: sort their items.
fn sort_sets(l: &str) -> String {
    let Some(p) = l.find("'users': {") else {
        return l.to_string();
    };
    let start = p + "'users': {".len();
    let Some(len) = l[start..].find('}') else {
        return l.to_string();
    };
    let mut items: Vec<&str> = l[start..start + len].split(", ").collect();
    items.sort();
    format!("{}{}{}", &l[..start], items.join(", "), &l[start + len..])
}

/// Option sets (`mode=…` etc.) used by a sample log's `filterOptions` lines.
fn option_sets(log: &Path) -> Vec<Vec<(String, String)>> {
    let mut sets: Vec<Vec<(String, String)>> = vec![Vec::new()];
    let text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    for l in text.lines() {
        let h = l.trim_start_matches('#');
        let h = h.strip_prefix(' ').unwrap_or(h);
        let Some(payload) = h.strip_prefix("filterOptions:") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
            continue;
        };
        let list = match v {
            serde_json::Value::Array(a) => a,
            o => vec![o],
        };
        for o in list {
            let mut set: Vec<(String, String)> = o
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !k.starts_with("test."))
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            set.sort();
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    sets
}

fn spec(name: &str, opts: &[(String, String)]) -> String {
    if opts.is_empty() {
        return name.to_string();
    }
    let o: Vec<String> = opts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}[{}]", o.join(", "))
}

/// Runs all cases on both binaries (two worker threads) and returns the
/// differences.
fn compare_all(cases: Vec<Vec<String>>, ours: &Path) -> (usize, Vec<String>) {
    let n = cases.len();
    let queue = Mutex::new(cases);
    let diffs = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(args) = queue.lock().unwrap().pop() else {
                    break;
                };
                let (rc_t, t) = run(Path::new(ORACLE), &args);
                let (rc_o, o) = run(ours, &args);
                if rc_t != rc_o || t != o {
                    let first = t
                        .lines()
                        .zip(o.lines())
                        .find(|(a, b)| a != b)
                        .map(|(a, b)| format!("\n  real: {a}\n  ours: {b}"))
                        .unwrap_or_else(|| {
                            format!(
                                "\n  (lengths {} vs {} lines)",
                                t.lines().count(),
                                o.lines().count()
                            )
                        });
                    diffs.lock().unwrap().push(format!(
                        "fail2ban-regex {args:?}: rc {rc_t} vs {rc_o}{first}"
                    ));
                }
            });
        }
    });
    (n, diffs.into_inner().unwrap())
}

#[test]
fn every_filter_on_its_sample_log() {
    if !require_oracle(ORACLE) || !require_oracle(UPSTREAM_LOGS) {
        return;
    }
    let ours = ours();
    // upstream's test filters include common.conf by a source-tree relative path
    let tmp = tempfile::tempdir().unwrap();
    let test_conf = tmp.path().join("a/b/c/d/e/config");
    std::fs::create_dir_all(test_conf.join("filter.d")).unwrap();
    std::fs::create_dir_all(tmp.path().join("config/filter.d")).unwrap();
    std::fs::copy(
        Path::new(STOCK_CONF).join("filter.d/common.conf"),
        tmp.path().join("config/filter.d/common.conf"),
    )
    .unwrap();
    let mut cases = Vec::new();
    for (basedir, name) in sample_filters() {
        let basedir = if basedir == Path::new(UPSTREAM_TEST_CONF) {
            let f = format!("filter.d/{name}.conf");
            std::fs::copy(basedir.join(&f), test_conf.join(&f)).unwrap();
            test_conf.clone()
        } else {
            basedir
        };
        let log = Path::new(UPSTREAM_LOGS).join(&name);
        for opts in option_sets(&log) {
            let base = vec!["-c".to_string(), basedir.to_string_lossy().into_owned()];
            let target = vec![log.to_string_lossy().into_owned(), spec(&name, &opts)];
            let mut a = base.clone();
            a.extend(
                [
                    "--print-all-matched",
                    "--print-all-missed",
                    "--print-all-ignored",
                ]
                .map(String::from),
            );
            a.extend(target.clone());
            cases.push(a);
            let mut b = base;
            b.extend(["-o", "id"].map(String::from));
            b.extend(target);
            cases.push(b);
        }
    }
    let (n, diffs) = compare_all(cases, &ours);
    println!("{} of {n} fail2ban-regex runs identical", n - diffs.len());
    for d in &diffs {
        println!("DIFF {d}");
    }
    assert!(diffs.is_empty(), "{} of {n} runs differ", diffs.len());
}

#[test]
fn option_variants() {
    if !require_oracle(ORACLE) || !require_oracle(UPSTREAM_LOGS) {
        return;
    }
    let ours = ours();
    let log = |n: &str| {
        Path::new(UPSTREAM_LOGS)
            .join(n)
            .to_string_lossy()
            .into_owned()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut cases: Vec<Vec<String>> = Vec::new();
    for (l, f) in [
        ("sshd", "sshd"),
        ("dovecot", "dovecot"),
        ("nsd", "nsd"),
        ("apache-auth", "apache-auth"),
    ] {
        let (l, f) = (log(l), f.to_string());
        for opts in [
            &["-v"][..],
            &["-vv"],
            &["-r"],
            &["--VD", "-v"],
            &["--no-check-all"],
            &["-o", "row"],
            &["-o", "msg"],
            &["-o", "ip"],
            &["-o", "user"],
            &["-L", "3"],
            &["--print-no-missed", "--print-no-ignored"],
            &["-D"],
            &["--usedns", "no"],
            &["-d", "{^LN-BEG}"],
        ] {
            let mut a = s(opts);
            a.push(l.clone());
            a.push(f.clone());
            cases.push(a);
        }
    }
    // regex strings, single and multi-line log strings, ignoreregex, errors
    cases.push(s(&[
        "Aug 14 11:59:59 host sshd[1]: Invalid user x from 192.0.2.1 port 22",
        "sshd[mode=aggressive]",
    ]));
    cases.push(s(&[
        "Aug 14 11:59:59 failure from 192.0.2.1",
        r"failure from <HOST>$",
    ]));
    cases.push(s(&[
        "Aug 14 11:59:59 failure from 192.0.2.1\nAug 14 11:59:59 ok from 192.0.2.2\n",
        r"from <HOST>$",
        "ok",
    ]));
    cases.push(s(&["-L", "2", "a 192.0.2.1\nb\n", r"^a <HOST>$"]));
    cases.push(s(&["x", r"no id group"]));
    cases.push(s(&["x", r"(unbalanced <HOST>"]));
    cases.push(s(&["x", "y", "z", "w"]));
    cases.push(s(&[
        "--print-all-missed",
        "--print-no-missed",
        "x",
        "<HOST>",
    ]));
    cases.push(s(&[
        "-d",
        "%Y-%m-%d %H:%M:%S",
        "2005-08-14 11:59:59 failure from 192.0.2.1",
        "<HOST>",
    ]));
    cases.push(s(&["-d", "EPOCH", "1124013599 x 192.0.2.1", "<HOST>"]));
    cases.push(s(&[
        "--timezone",
        "UTC+0200",
        "2005-08-14 11:59:59 failure 192.0.2.1",
        "-v",
        "<HOST>",
    ]));
    cases.push(s(&["-V"]));
    cases.push(s(&["--version"]));
    let (n, diffs) = compare_all(cases, &ours);
    println!("{} of {n} fail2ban-regex runs identical", n - diffs.len());
    for d in &diffs {
        println!("DIFF {d}");
    }
    assert!(diffs.is_empty(), "{} of {n} runs differ", diffs.len());
}
