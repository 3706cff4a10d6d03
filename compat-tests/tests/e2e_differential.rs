//! Issue 4, point 5: differential run. The same generated 100k-line auth log is consumed
//! at the same time by the real fail2ban-server and by ours (each with its own scratch
//! config, same jail, a file-writing action). Both must produce the same bans: the same
//! `banip --with-time` listing (address, ban start, bantime, ban end), the same action
//! lines (ban/unban with address, time and bantime) and the same `Ban`/`Unban` log lines
//! apart from timestamps and pids.
//!
//! Determinism: the log covers the SPAN seconds before the test starts (fail2ban clamps
//! future times to now, so they cannot be used), findtime covers the whole window plus a
//! MARGIN, and bantime is SPAN + MARGIN: no line ages out of findtime and no ban can end
//! before MARGIN seconds have passed. If both servers are done by then (checked), the
//! result depends on the log only. The test then waits until every ban has ended in real
//! time (between MARGIN and SPAN + MARGIN) and compares the unbans too.

use compat_tests::e2e::{gen_authlog, log_messages, wait_until, Impl, JailStatus, Scratch, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const LINES: usize = 100_000;
const SPAN: i64 = 10;
const MARGIN: i64 = 40;
const BANTIME: i64 = SPAN + MARGIN;
const FINDTIME: i64 = SPAN + MARGIN + 5;

fn config(sc: &Scratch, log: &Path) {
    sc.write_conf(
        "action.d/e2e-file.conf",
        &format!(
            "[Definition]\nactionban = echo \"ban <ip> <time> <bantime>\" >> {out}\n\
             actionunban = echo \"unban <ip> <time> <bantime>\" >> {out}\n",
            out = sc.path("actions.txt").display()
        ),
    );
    sc.jail(
        "sshd",
        &format!(
            "logpath = {}\nbackend = auto\nmaxretry = 5\nfindtime = {FINDTIME}\nbantime = {BANTIME}\n\
             action = e2e-file\n",
            log.display()
        ),
    );
}

/// Sorted multiset (value → count).
fn multiset<I: IntoIterator<Item = String>>(it: I) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in it {
        *m.entry(s).or_insert(0) += 1;
    }
    m
}

fn ban_lines(log: &str) -> BTreeMap<String, usize> {
    multiset(
        log_messages(log).into_iter().filter(|m| {
            m.starts_with("NOTICE [sshd] Ban ") || m.starts_with("NOTICE [sshd] Unban ")
        }),
    )
}

fn actions(sc: &Scratch) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(sc.path("actions.txt")).unwrap_or_default();
    multiset(text.lines().map(str::to_owned))
}

/// Asserts equal multisets, showing only the differences.
fn assert_same(ours: &BTreeMap<String, usize>, up: &BTreeMap<String, usize>, what: &str) {
    let diff = |a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>| {
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k} x{v}"))
            .collect::<Vec<_>>()
    };
    let (only_o, only_u) = (diff(ours, up), diff(up, ours));
    assert!(
        only_o.is_empty() && only_u.is_empty(),
        "{what} differ ({} entries upstream): only ours {only_o:?}, only upstream {only_u:?}",
        up.len()
    );
}

#[test]
fn ours_bans_like_upstream_on_100k_lines() {
    if !Impl::Upstream.available() {
        return;
    }
    let ours_bin = Impl::Ours.server(); // build before the clock starts
    assert!(ours_bin.exists());
    let up = Scratch::new();
    let us = Scratch::new();
    let log = up.path("auth.log");
    let start = chrono::Local::now().timestamp() - SPAN;
    let t_gen = Instant::now();
    let lines = gen_authlog(LINES, start, SPAN, 150, 7);
    Scratch::append(&log, &lines);
    config(&up, &log);
    config(&us, &log);
    let first_end = Duration::from_secs(MARGIN as u64);

    let su = Server::start(Impl::Upstream, &up, None);
    let so = Server::start(Impl::Ours, &us, None);
    su.wait_jails(&["sshd"]);
    so.wait_jails(&["sshd"]);

    // both done reading and banning: counters stable for 2 s
    let mut last = (None, None);
    let mut stable_since = Instant::now();
    let settled = wait_until(first_end, Duration::from_millis(250), || {
        let now = (su.status("sshd"), so.status("sshd"));
        let key = |s: &Option<JailStatus>| {
            s.as_ref()
                .map(|s| (s.total_failed, s.total_banned, s.currently_banned))
        };
        if key(&now.0) != key(&last.0)
            || key(&now.1) != key(&last.1)
            || now.0.as_ref().is_none_or(|s| s.total_failed == 0)
        {
            last = now;
            stable_since = Instant::now();
        }
        stable_since.elapsed() > Duration::from_secs(2)
    });
    let listing_u = su.ok(&["get", "sshd", "banip", "--with-time"]);
    let listing_o = so.ok(&["get", "sshd", "banip", "--with-time"]);
    assert!(
        settled && t_gen.elapsed() < first_end,
        "the servers did not finish before the first ban could end ({:?}): machine too \
         busy for this test; statuses {last:?}",
        t_gen.elapsed()
    );
    let (st_u, st_o) = (last.0.unwrap(), last.1.unwrap());
    for (n, s) in [("upstream", &st_u), ("ours", &st_o)] {
        eprintln!("{n}: failed {} banned {}", s.total_failed, s.total_banned);
    }
    assert!(st_u.total_banned > 20, "too few bans to compare: {st_u:?}");
    assert_eq!(
        (st_o.total_failed, st_o.total_banned, st_o.currently_banned),
        (st_u.total_failed, st_u.total_banned, st_u.currently_banned),
        "status counters"
    );
    let mut lu: Vec<&str> = listing_u.lines().collect();
    let mut lo: Vec<&str> = listing_o.lines().collect();
    lu.sort();
    lo.sort();
    assert_eq!(lo, lu, "banip --with-time (address, start + bantime = end)");

    // every ban ends in real time; then compare the unbans as well
    let all_ended = Duration::from_secs((SPAN + MARGIN) as u64);
    for s in [&su, &so] {
        let left = all_ended.saturating_sub(t_gen.elapsed()) + Duration::from_secs(20);
        s.wait_status("sshd", left, |st| st.currently_banned == 0);
    }
    // `Currently banned` drops before the unban command has run: let the commands finish
    wait_until(Duration::from_secs(10), Duration::from_millis(100), || {
        actions(&us) == actions(&up) && ban_lines(&su.log()) == ban_lines(&so.log())
    });
    assert_same(&actions(&us), &actions(&up), "action command lines");
    let (bu, bo) = (ban_lines(&su.log()), ban_lines(&so.log()));
    assert_same(&bo, &bu, "Ban/Unban log lines");
    assert_eq!(
        bu.keys().filter(|k| k.contains("] Unban ")).count(),
        bu.keys().filter(|k| k.contains("] Ban ")).count()
    );
}
