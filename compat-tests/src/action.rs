//! Helpers for the action tests: turn stock Debian action definitions into the
//! `multi-set <jail> action <name> [[key, value], …]` property lists the real
//! `fail2ban-client -d` sends to the server (read where Debian installs them, never copied
//! into the repo), parsed from the Python literal with a tiny python helper.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{copy_tree, STOCK_CONF};

/// Debian's python (the one fail2ban's scripts use).
pub const PYTHON: &str = "/usr/bin/python3";
/// Debian's real client.
pub const CLIENT: &str = "/usr/bin/fail2ban-client";

/// Copies the stock configuration to `dir/conf`, adds `extra_actions` (file name, text) to
/// its action.d, writes a `sshd` jail using `action_lines` (the jail's `action =` value, one
/// action per line) and returns the `fail2ban-client -d` output.
pub fn dump_jail_actions(
    dir: &Path,
    extra_actions: &[(&str, &str)],
    action_lines: &[String],
) -> String {
    let conf = dir.join("conf");
    copy_tree(Path::new(STOCK_CONF), &conf).expect("copy stock config");
    for e in std::fs::read_dir(conf.join("jail.d")).expect("jail.d") {
        std::fs::remove_file(e.expect("entry").path()).expect("remove jail.d file");
    }
    for (name, text) in extra_actions {
        std::fs::write(conf.join("action.d").join(name), text).expect("write action");
    }
    let log = dir.join("auth.log");
    std::fs::write(&log, "").expect("write log");
    let jail = format!(
        "[sshd]\nenabled = true\nbackend = polling\nlogpath = {}\naction = {}\n",
        log.display(),
        action_lines.join("\n         ")
    );
    std::fs::write(conf.join("jail.local"), jail).expect("write jail.local");
    let out = Command::new(CLIENT)
        .arg("-c")
        .arg(&conf)
        .arg("-d")
        .output()
        .expect("run fail2ban-client -d");
    assert!(
        out.status.success(),
        "fail2ban-client -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 dump")
}

const TO_JSON: &str = r#"
import sys, json, ast
out = []
for line in sys.stdin:
    line = line.strip()
    if line.startswith("['multi-set'"):
        c = ast.literal_eval(line)
        if c[2] == 'action':
            out.append([c[3], [[k, v if isinstance(v, str) else str(v)] for k, v in c[4]]])
print(json.dumps(out))
"#;

/// Runs python `script` with `input` on stdin and parses its stdout as JSON.
pub fn python_json(script: &str, input: &str) -> serde_json::Value {
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("python output");
    assert!(out.status.success(), "python helper failed");
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// The action property lists of a `-d` dump: `(action name, [(key, value)])`.
pub fn action_pairs(dump: &str) -> Vec<(String, Vec<(String, String)>)> {
    let v = python_json(TO_JSON, dump);
    v.as_array()
        .expect("list")
        .iter()
        .map(|a| {
            let pairs = a[1]
                .as_array()
                .expect("pairs")
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().expect("key").to_string(),
                        p[1].as_str().expect("value").to_string(),
                    )
                })
                .collect();
            (a[0].as_str().expect("name").to_string(), pairs)
        })
        .collect()
}
