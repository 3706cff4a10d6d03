//! A `head` log file is not replayed from its start: before the first read the server
//! moves to the first line dated at or after now - findtime (upstream `seekToTime`, a
//! half-interval search over the file). The file here is built so that the search shows:
//! a recent failure hidden among old lines near the start is never visited by the
//! search, so it is not counted, while a server reading every line would count it.
//! Upstream 1.0.2 runs the same scenario to prove it.

use chrono::{DateTime, Duration as CDuration, Local};
use compat_tests::e2e::{sshd_line, Impl, Scratch, Server};
use std::time::Duration;

const HIDDEN: &str = "192.0.2.50";
const RECENT: &str = "192.0.2.60";

fn old_line(t: DateTime<Local>, i: u32) -> String {
    format!(
        "{} e2ehost sshd[{}]: Accepted publickey for deploy from 198.51.100.{} port 4242 ssh2",
        t.format("%b %e %H:%M:%S"),
        1000 + i,
        1 + i % 200
    )
}

/// 4000 lines: old ones (two hours ago, ascending), one recent failure of `HIDDEN` at a
/// quarter of the file, and three recent failures of `RECENT` at the end.
fn log_lines(now: DateTime<Local>) -> Vec<String> {
    let old = now - CDuration::hours(2);
    let mut v: Vec<String> = (0..3997)
        .map(|i| old_line(old + CDuration::milliseconds(i64::from(i) * 100), i))
        .collect();
    v.insert(1000, sshd_line(now - CDuration::seconds(60), 500, HIDDEN));
    for i in 0..3 {
        v.push(sshd_line(now - CDuration::seconds(30), 600 + i, RECENT));
    }
    v
}

fn seek(imp: Impl) {
    if !imp.available() {
        return;
    }
    let sc = Scratch::new();
    let log = sc.path("auth.log");
    Scratch::append(&log, &log_lines(Local::now()));
    sc.jail(
        "sshd",
        &format!(
            "logpath = {}\nbackend = polling\nfindtime = 10m\nmaxretry = 10\naction =\n",
            log.display()
        ),
    );
    let srv = Server::start(imp, &sc, None);
    srv.wait_jails(&["sshd"]);
    srv.wait_status("sshd", Duration::from_secs(30), |s| s.total_failed >= 3);
    // the whole file is read at once; give a late count time to show up
    std::thread::sleep(Duration::from_millis(1500));
    let st = srv.status("sshd").expect("status");
    let log_text = srv.log();
    assert_eq!(
        st.total_failed,
        3,
        "{}: {st:?}\n{}",
        imp.name(),
        compat_tests::e2e::tail(&log_text, 20)
    );
    assert!(
        log_text.contains(&format!("Found {RECENT}")),
        "{}",
        imp.name()
    );
    assert!(
        !log_text.contains(&format!("Found {HIDDEN}")),
        "{}",
        imp.name()
    );
}

#[test]
fn upstream_head_file_starts_at_findtime() {
    seek(Impl::Upstream);
}

#[test]
fn ours_head_file_starts_at_findtime() {
    seek(Impl::Ours);
}
