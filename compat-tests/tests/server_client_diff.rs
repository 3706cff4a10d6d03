//! Differential: Debian's real `fail2ban-client` talking to our server gives the same
//! output and exit codes as talking to the real `fail2ban-server`, both started on
//! equivalent scratch configurations.

use compat_tests::server::Scratch;
use compat_tests::{bin, require_oracle};
use std::process::Command;

const CLIENT: &str = "/usr/bin/fail2ban-client";
const SERVER: &str = "/usr/bin/fail2ban-server";

/// Client command lines, run in order against both servers.
const SESSION: &[&[&str]] = &[
    &["ping"],
    &["version"],
    &["echo", "hello", "world"],
    &["status"],
    &["status", "test"],
    &["status", "test", "short"],
    &["status", "nosuchjail"],
    &[
        "set",
        "test",
        "banip",
        "192.0.2.1",
        "192.0.2.2",
        "2001:db8::bad",
    ],
    &["set", "test", "banip", "192.0.2.1"],
    &["get", "test", "banned"],
    &["get", "test", "banned", "192.0.2.2"],
    &["banned"],
    &["banned", "192.0.2.2", "203.0.113.9"],
    &["get", "test", "banip"],
    &["status", "test"],
    &["set", "test", "unbanip", "192.0.2.1"],
    &["set", "test", "unbanip", "9.9.9.9"],
    &["set", "test", "unbanip", "--report-absent", "9.9.9.9"],
    &["unban", "2001:db8::bad"],
    &["get", "test", "banip"],
    &["get", "test", "maxretry"],
    &["set", "test", "maxretry", "notanumber"],
    &["set", "test", "maxretry", "4"],
    &["get", "test", "findtime"],
    &["set", "test", "findtime", "1h"],
    &["get", "test", "bantime"],
    &["set", "test", "bantime", "10m"],
    &["get", "test", "logpath"],
    &["get", "test", "failregex"],
    &["get", "test", "ignoreregex"],
    &["get", "test", "actions"],
    &["get", "test", "ignoreip"],
    &["set", "test", "addignoreip", "10.0.0.0/8"],
    &["get", "test", "ignoreself"],
    &["get", "test", "usedns"],
    &["get", "test", "maxlines"],
    &["get", "test", "datepattern"],
    &["get", "loglevel"],
    &["get", "dbfile"],
    &["get", "dbpurgeage"],
    &["get", "test", "nosuchthing"],
    &["set", "test", "nosuchthing", "x"],
    &["frobnicate"],
    &["stop", "test"],
    &["status"],
];

fn run_session(sc: &Scratch) -> Vec<String> {
    run_session_with(CLIENT.as_ref(), sc)
}

fn run_session_with(client: &std::path::Path, sc: &Scratch) -> Vec<String> {
    let dir = sc.dir.path().display().to_string();
    SESSION
        .iter()
        .map(|args| {
            let out = Command::new(client)
                .arg("-c")
                .arg(sc.conf())
                .args(*args)
                .output()
                .expect("run fail2ban-client");
            let stdout = String::from_utf8_lossy(&out.stdout).replace(&dir, "<DIR>");
            format!(
                "$ {}\n{}[rc={}]",
                args.join(" "),
                stdout,
                out.status.code().unwrap_or(-1)
            )
        })
        .collect()
}

#[test]
fn real_client_sees_the_same_answers_from_both_servers() {
    if !require_oracle(CLIENT) || !require_oracle(SERVER) {
        return;
    }
    let theirs = Scratch::new("600");
    let ours = Scratch::new("600");
    let expected = {
        let mut srv = theirs.start(SERVER.as_ref());
        let r = run_session(&theirs);
        let _ = Command::new(CLIENT)
            .arg("-c")
            .arg(theirs.conf())
            .arg("stop")
            .output();
        srv.wait(std::time::Duration::from_secs(15));
        r
    };
    let got = {
        let mut srv = ours.start(&bin("fail2ban-server"));
        let r = run_session(&ours);
        let _ = Command::new(CLIENT)
            .arg("-c")
            .arg(ours.conf())
            .arg("stop")
            .output();
        srv.wait(std::time::Duration::from_secs(15));
        r
    };
    // the transcript must show a working session, not two identical failures
    let all = expected.join("\n");
    assert!(all.contains("Server replied: pong"), "{all}");
    assert!(
        all.contains("Banned IP list:\t192.0.2.1 192.0.2.2 2001:db8::bad"),
        "{all}"
    );
    let mut diffs = Vec::new();
    for (e, g) in expected.iter().zip(&got) {
        if e != g {
            diffs.push(format!("--- upstream\n{e}\n+++ ours\n{g}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}

/// Our client against our server prints what the real client prints against the real
/// server (stdout and exit codes; log lines on stderr carry times and pids).
#[test]
fn our_client_and_server_match_the_real_pair() {
    if !require_oracle(CLIENT) || !require_oracle(SERVER) {
        return;
    }
    let theirs = Scratch::new("600");
    let ours = Scratch::new("600");
    let expected = {
        let mut srv = theirs.start(SERVER.as_ref());
        let r = run_session(&theirs);
        let _ = Command::new(CLIENT)
            .arg("-c")
            .arg(theirs.conf())
            .arg("stop")
            .output();
        srv.wait(std::time::Duration::from_secs(15));
        r
    };
    let client = bin("fail2ban-client");
    let got = {
        let mut srv = ours.start(&bin("fail2ban-server"));
        let r = run_session_with(&client, &ours);
        let _ = Command::new(&client)
            .arg("-c")
            .arg(ours.conf())
            .arg("stop")
            .output();
        srv.wait(std::time::Duration::from_secs(15));
        r
    };
    let diffs: Vec<String> = expected
        .iter()
        .zip(&got)
        .filter(|(e, g)| e != g)
        .map(|(e, g)| format!("--- upstream\n{e}\n+++ ours\n{g}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}
