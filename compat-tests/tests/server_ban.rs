//! End to end: our `fail2ban-server` configures itself from a scratch configuration,
//! follows a log, bans after maxretry failures through the action, reports it in
//! `status`, unbans after bantime, writes upstream-shaped log lines (the recidive
//! filter of Debian's fail2ban matches them) and stops cleanly on `stop`.

use std::time::Duration;

use compat_tests::server::{cmd, request, Scratch};
use compat_tests::{bin, require_oracle};
use f2b_protocol::Value;

fn status_of(v: &Value, section: &str, key: &str) -> Value {
    // (0, [('Filter', [...]), ('Actions', [...])])
    let Value::Tuple(t) = v else {
        panic!("reply {v:?}")
    };
    assert_eq!(t[0], Value::Int(0), "error reply {v:?}");
    for sec in t[1].as_seq().unwrap() {
        let s = sec.as_seq().unwrap();
        if s[0] == Value::str(section) {
            for kv in s[1].as_seq().unwrap() {
                let kv = kv.as_seq().unwrap();
                if kv[0] == Value::str(key) {
                    return kv[1].clone();
                }
            }
        }
    }
    panic!("{section}/{key} not in {v:?}")
}

#[test]
fn bans_after_maxretry_and_unbans_after_bantime() {
    let sc = Scratch::new("3");
    let mut srv = sc.start(&bin("fail2ban-server"));
    let sock = sc.socket();

    // two failures: counted, not banned
    sc.fail("192.0.2.10", 2);
    std::thread::sleep(Duration::from_millis(2500));
    let st = request(&sock, &cmd(&["status", "test"])).unwrap();
    assert_eq!(status_of(&st, "Filter", "Total failed"), Value::Int(2));
    assert_eq!(status_of(&st, "Actions", "Currently banned"), Value::Int(0));

    // the third one bans
    sc.fail("192.0.2.10", 1);
    let acts = sc.wait_actions(Duration::from_secs(10), |a| {
        a.iter().any(|l| l == "+192.0.2.10")
    });
    assert!(
        acts.contains(&"+192.0.2.10".to_string()),
        "actions: {acts:?}"
    );
    let st = request(&sock, &cmd(&["status", "test"])).unwrap();
    assert_eq!(status_of(&st, "Actions", "Currently banned"), Value::Int(1));
    assert_eq!(
        status_of(&st, "Actions", "Banned IP list"),
        Value::List(vec![Value::str("192.0.2.10")])
    );

    // bantime 3 s: the unban follows
    let acts = sc.wait_actions(Duration::from_secs(10), |a| {
        a.iter().any(|l| l == "-192.0.2.10")
    });
    assert!(
        acts.contains(&"-192.0.2.10".to_string()),
        "actions: {acts:?}"
    );
    let st = request(&sock, &cmd(&["status", "test"])).unwrap();
    assert_eq!(status_of(&st, "Actions", "Currently banned"), Value::Int(0));
    assert_eq!(status_of(&st, "Actions", "Total banned"), Value::Int(1));

    // clean stop: reply, exit 0, socket and pid file gone
    let r = request(&sock, &cmd(&["stop"])).unwrap();
    assert_eq!(r, Value::Tuple(vec![Value::Int(0), Value::None]));
    assert_eq!(srv.wait(Duration::from_secs(10)), Some(0));
    assert!(!sock.exists());
    assert!(!sc.path("run/f2b.pid").exists());

    // log lines in upstream's format
    let log = std::fs::read_to_string(sc.path("fail2ban.log")).unwrap();
    let ban = regex_line(
        &log,
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\.actions        \[\d+\]: NOTICE  \[test\] Ban 192\.0\.2\.10$",
    );
    assert!(ban, "no upstream-shaped Ban line in:\n{log}");
    assert!(regex_line(
        &log,
        r"fail2ban\.filter         \[\d+\]: INFO    \[test\] Found 192\.0\.2\.10 - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"
    ));
    assert!(regex_line(&log, r"NOTICE  \[test\] Unban 192\.0\.2\.10$"));

    // Debian's recidive filter (run by the real fail2ban-regex) finds our Ban line
    if require_oracle("/usr/bin/fail2ban-regex")
        && require_oracle("/etc/fail2ban/filter.d/recidive.conf")
    {
        let out = std::process::Command::new("/usr/bin/fail2ban-regex")
            .arg(sc.path("fail2ban.log"))
            .arg("/etc/fail2ban/filter.d/recidive.conf")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Failregex: 1 total"),
            "recidive did not match our log:\n{text}"
        );
    }
}

fn regex_line(log: &str, re: &str) -> bool {
    let re = regex_lite(re);
    log.lines().any(re)
}

/// A tiny matcher on top of f2b-filter's Python-regex engine.
fn regex_lite(re: &str) -> impl Fn(&str) -> bool {
    let r = f2b_filter::pyre::PyRegex::new(re, false).expect("test regex compiles");
    move |l: &str| r.is_match(l).unwrap_or(false)
}

#[test]
fn bans_persist_in_the_database_and_are_restored() {
    let sc = Scratch::new("600");
    let server = bin("fail2ban-server");
    let mut srv = sc.start(&server);
    let sock = sc.socket();
    let r = request(&sock, &cmd(&["set", "test", "banip", "198.51.100.7"])).unwrap();
    assert_eq!(r, Value::Tuple(vec![Value::Int(0), Value::Int(1)]));
    let _ = request(&sock, &cmd(&["stop"]));
    assert_eq!(srv.wait(Duration::from_secs(10)), Some(0));
    // stop flushed the action but kept the ban in the database
    let acts = sc.actions();
    assert_eq!(
        acts.iter().filter(|l| *l == "+198.51.100.7").count(),
        1,
        "{acts:?}"
    );

    let mut srv = sc.start(&server);
    let acts = sc.wait_actions(Duration::from_secs(10), |a| {
        a.iter().filter(|l| *l == "+198.51.100.7").count() == 2
    });
    assert_eq!(
        acts.iter().filter(|l| *l == "+198.51.100.7").count(),
        2,
        "{acts:?}"
    );
    let r = request(&sock, &cmd(&["get", "test", "banned", "198.51.100.7"])).unwrap();
    assert_eq!(r, Value::Tuple(vec![Value::Int(0), Value::Int(1)]));
    let _ = request(&sock, &cmd(&["stop"]));
    assert_eq!(srv.wait(Duration::from_secs(10)), Some(0));
    let log = std::fs::read_to_string(sc.path("fail2ban.log")).unwrap();
    assert!(
        log.contains("NOTICE  [test] Restore Ban 198.51.100.7"),
        "{log}"
    );
}

#[test]
fn bantime_increment_weighs_known_bad_addresses_and_prolongs() {
    let sc = Scratch::new("2");
    let conf = sc.path("etc/jail.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace("bantime = 2\n", "bantime = 2\nbantime.increment = true\n"),
    )
    .unwrap();
    let mut srv = sc.start(&bin("fail2ban-server"));
    let sock = sc.socket();
    sc.fail("192.0.2.44", 3);
    let acts = sc.wait_actions(Duration::from_secs(10), |a| {
        a.iter().any(|l| l == "-192.0.2.44")
    });
    assert!(acts.contains(&"-192.0.2.44".to_string()), "{acts:?}");
    // known bad now: two failures reach maxretry 3 (the second counts 2)
    sc.fail("192.0.2.44", 2);
    let acts = sc.wait_actions(Duration::from_secs(10), |a| {
        a.iter().filter(|l| *l == "+192.0.2.44").count() == 2
    });
    assert_eq!(
        acts.iter().filter(|l| *l == "+192.0.2.44").count(),
        2,
        "{acts:?}"
    );
    let _ = request(&sock, &cmd(&["stop"]));
    assert_eq!(srv.wait(Duration::from_secs(10)), Some(0));
    let log = std::fs::read_to_string(sc.path("fail2ban.log")).unwrap();
    assert!(
        regex_line(
            &log,
            r"INFO    \[test\] Found 192\.0\.2\.44, bad - \S+ \S+, 1 # -> 2\.0$"
        ),
        "{log}"
    );
    assert!(
        regex_line(
            &log,
            r"\[test\] IP 192\.0\.2\.44 is bad: 1 # last \S+ \S+ - incr 2s to 4s$"
        ),
        "{log}"
    );
    assert!(
        regex_line(
            &log,
            r"NOTICE  \[test\] Increase Ban 192\.0\.2\.44 \(2 # 4s -> \S+ \S+\)$"
        ),
        "{log}"
    );
}
