//! `f2b_config::read_filter` (what `fail2ban-regex <log> <filter[args]>` uses) must agree with
//! what the real `fail2ban-client -d` sends for a jail using the same filter: for each spec, a
//! jail `frt` is enabled on the stock configuration with `filter = <spec>`, and every filter
//! command we derive from the `FilterDef` (prefregex, maxlines, failregex, ignoreregex,
//! datepattern, journal matches) must appear verbatim among the real client's commands for `frt`.

use compat_tests::{copy_tree, require_oracle, STOCK_CONF};
use f2b_protocol::Value;
use std::path::Path;
use std::process::Command;

const ORACLE: &str = "/usr/bin/fail2ban-client";

const SPECS: &[&str] = &[
    "sshd",
    "sshd[mode=aggressive]",
    "sshd[mode=ddos]",
    "sshd[logtype=journal]",
    "apache-auth",
    "postfix[mode=aggressive]",
    "nginx-http-auth",
    "recidive",
    "dovecot",
    "selinux-ssh",
];

fn cmd(items: Vec<Value>) -> String {
    Value::List(items).repr()
}

fn regex_cmd(jail: &str, opt: &str, list: &[String]) -> Option<String> {
    let name = Value::str(format!("add{opt}"));
    match list {
        [] => None,
        [one] => Some(cmd(vec![
            Value::str("set"),
            Value::str(jail),
            name,
            Value::str(one.as_str()),
        ])),
        many => Some(cmd(vec![
            Value::str("multi-set"),
            Value::str(jail),
            name,
            Value::List(many.iter().map(|r| Value::str(r.as_str())).collect()),
        ])),
    }
}

#[test]
fn read_filter_agrees_with_the_dump() {
    if !require_oracle(ORACLE) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    copy_tree(Path::new(STOCK_CONF), &dir).unwrap();
    let log = tmp.path().join("x.log");
    std::fs::write(&log, "").unwrap();
    let mut failures = Vec::new();
    for spec in SPECS {
        std::fs::write(
            dir.join("jail.local"),
            format!(
                "[sshd]\nenabled = false\n\n[frt]\nenabled = true\nfilter = {spec}\nlogpath = {}\n",
                log.display()
            ),
        )
        .unwrap();
        let out = Command::new(ORACLE)
            .arg("-c")
            .arg(&dir)
            .arg("-d")
            .output()
            .unwrap();
        let dump = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            dump.contains("['add', 'frt', "),
            "{spec}: upstream did not load the jail:\n{dump}"
        );
        let def = match f2b_config::read_filter(&dir, spec, &[("backend".into(), "auto".into())]) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{spec}: read_filter failed: {e}"));
                continue;
            }
        };
        let j = "frt";
        let mut expected = Vec::new();
        if let Some(p) = &def.prefregex {
            expected.push(cmd(vec![
                Value::str("set"),
                Value::str(j),
                Value::str("prefregex"),
                Value::str(p.as_str()),
            ]));
        }
        if let Some(m) = def.maxlines {
            expected.push(cmd(vec![
                Value::str("set"),
                Value::str(j),
                Value::str("maxlines"),
                Value::Int(m as i64),
            ]));
        }
        expected.extend(regex_cmd(j, "failregex", &def.failregex));
        expected.extend(regex_cmd(j, "ignoreregex", &def.ignoreregex));
        if let Some(d) = &def.datepattern {
            expected.push(cmd(vec![
                Value::str("set"),
                Value::str(j),
                Value::str("datepattern"),
                Value::str(d.as_str()),
            ]));
        }
        for group in &def.journalmatch {
            let mut c = vec![
                Value::str("set"),
                Value::str(j),
                Value::str("addjournalmatch"),
            ];
            c.extend(group.iter().map(|w| Value::str(w.as_str())));
            expected.push(cmd(c));
        }
        if def.failregex.is_empty() {
            failures.push(format!("{spec}: no failregex read"));
        }
        for line in expected {
            if !dump.lines().any(|l| l == line) {
                failures.push(format!(
                    "{spec}: missing in the real dump: {}",
                    &line[..line.len().min(200)]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
