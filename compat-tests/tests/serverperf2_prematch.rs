//! The opt-in search thread (`F2B_PREMATCH=1`, `f2b-server` `jail/prematch.rs`) must
//! not change what the server does: the same log, read once with it and once without,
//! gives the same counters and the same `Found` lines in the same order, and the
//! count matches the failure lines of the generated log.

use compat_tests::e2e::{gen_authlog, Impl, Scratch, Server};
use std::time::Duration;

const LINES: usize = 6000;

/// Runs our server over `lines` and returns (total failed, total banned, Found lines
/// without their time stamp prefix).
fn run(lines: &[String], prematch: bool) -> (u64, u64, Vec<String>) {
    // one test in this binary: the variable only reaches the server started here
    std::env::set_var("F2B_PREMATCH", if prematch { "1" } else { "0" });
    let sc = Scratch::new();
    let log = sc.path("auth.log");
    Scratch::append(&log, lines);
    sc.jail(
        "sshd",
        &format!(
            "logpath = {}\nbackend = polling\nfindtime = 2h\nmaxretry = 5\nbantime = 1h\naction =\n",
            log.display()
        ),
    );
    let mut srv = Server::start(Impl::Ours, &sc, None);
    srv.wait_jails(&["sshd"]);
    let want = expected_failures(lines);
    srv.wait_status("sshd", Duration::from_secs(60), |s| s.total_failed >= want);
    // a late extra count would show up here
    std::thread::sleep(Duration::from_millis(700));
    let st = srv.status("sshd").expect("status");
    let found: Vec<String> = srv
        .log()
        .lines()
        .filter_map(|l| {
            l.split_once("]: INFO    [sshd] Found ")
                .map(|(_, r)| r.to_string())
        })
        .collect();
    srv.stop();
    (st.total_failed, st.total_banned, found)
}

/// Failure lines in the generated log (all are within findtime): `Failed password`
/// and `Invalid user` lines of sshd.
fn expected_failures(lines: &[String]) -> u64 {
    lines
        .iter()
        .filter(|l| l.contains("Failed password") || l.contains("Invalid user"))
        .count() as u64
}

#[test]
fn search_thread_gives_the_same_results_in_the_same_order() {
    let now = chrono::Local::now().timestamp();
    let lines = gen_authlog(LINES, now - 1800, 1790, 300, 7);
    let want = expected_failures(&lines);
    assert!(want > 1000, "{want}");
    let plain = run(&lines, false);
    let piped = run(&lines, true);
    // every failure line counts (the sshd filter may count a few more lines)
    assert!(
        plain.0 >= want && plain.0 < want + want / 50,
        "{} {want}",
        plain.0
    );
    assert_eq!(plain.2.len() as u64, plain.0);
    assert_eq!(piped.0, plain.0, "total failed");
    assert_eq!(piped.1, plain.1, "total banned");
    assert!(plain.1 > 0);
    assert_eq!(piped.2, plain.2, "Found lines and their order");
}
