//! The systemd backend: a jail with `backend = systemd[journalfiles=...]` reads a
//! journal file (written by Debian's systemd-journal-remote), bans after maxretry
//! failures and reports its journal matches in `status`.

use std::time::Duration;

use compat_tests::bin;
use compat_tests::journal::{tools_present, write_journal, Entry};
use compat_tests::server::{cmd, request, Scratch};
use f2b_protocol::Value;

#[test]
fn systemd_jail_bans_from_a_journal_file() {
    if !tools_present() {
        return;
    }
    let sc = Scratch::new("600");
    let journal = sc.path("test.journal");
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let entries: Vec<Entry> = (0..3)
        .map(|i| {
            Entry::at(now_us - 3_000_000 + i * 1000, 1_000_000 + i * 1000)
                .with("_HOSTNAME", "host")
                .with("SYSLOG_IDENTIFIER", "test-auth")
                .with("_PID", "42")
                .with("_SYSTEMD_UNIT", "test-auth.service")
                .with("MESSAGE", "Failed password for root from 192.0.2.55")
        })
        .collect();
    write_journal(&journal, &entries);
    let conf = sc.path("etc/jail.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let text = text.replace(
        "backend = polling",
        &format!("backend = systemd[journalfiles=\"{}\"]", journal.display()),
    );
    std::fs::write(&conf, text).unwrap();
    let filter = sc.path("etc/filter.d/test-auth.conf");
    let mut f = std::fs::read_to_string(&filter).unwrap();
    f.push_str("journalmatch = _SYSTEMD_UNIT=test-auth.service\n");
    std::fs::write(&filter, f).unwrap();
    let _srv = sc.start(&bin("fail2ban-server"));
    let acts = sc.wait_actions(Duration::from_secs(15), |a| {
        a.iter().any(|l| l == "+192.0.2.55")
    });
    assert!(acts.contains(&"+192.0.2.55".to_string()), "{acts:?}");
    let st = request(&sc.socket(), &cmd(&["get", "test", "journalmatch"])).unwrap();
    assert_eq!(
        st,
        Value::Tuple(vec![
            Value::Int(0),
            Value::List(vec![Value::List(vec![Value::str(
                "_SYSTEMD_UNIT=test-auth.service"
            )])])
        ])
    );
}
