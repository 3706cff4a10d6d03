//! Ban table cost at scale, side by side with upstream's BanManager.
//!
//! `cargo run --release -p f2b-jail --example banmanager_bench [N]` (default
//! 100000): adds N bans spread over an hour, lists them (`get banip`, with
//! and without `--with-time`), then runs the actions loop's unban rounds
//! (<= 20 per round, one clock step per second) until the table is empty.
//! The same workload runs in upstream's python `BanManager` when
//! /usr/bin/python3 has the fail2ban module.  Also times FailManager with N
//! failures from N/4 ids.

use f2b_jail::{AddBan, BanManager, FailManager, FailTicket, IpAddr, UNBAN_MAX_PER_ROUND};
use std::process::Command;
use std::time::Instant;

const BASE: f64 = 1_790_000_000.0;

fn ip(i: usize) -> IpAddr {
    IpAddr::V4 {
        addr: 0x0a00_0000 | i as u32,
        plen: 32,
    }
}

fn ours(n: usize) -> [f64; 5] {
    let mut bm = BanManager::new();
    let t = Instant::now();
    for i in 0..n {
        let time = BASE + i as f64 * 3600.0 / n as f64;
        let r = bm.add_ban_ticket(FailTicket::new(ip(i), time, vec![]), time);
        assert_eq!(r, AddBan::Banned);
    }
    let add = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let l = bm.ids_by_end();
    assert_eq!(l.len(), n);
    let list = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let l = bm.ids_by_end_with_time();
    assert_eq!(l.len(), n);
    let list_time = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut now = BASE + 600.0;
    let mut unbanned = 0;
    while bm.size() > 0 {
        loop {
            let r = bm.unban_list(now, UNBAN_MAX_PER_ROUND);
            if r.is_empty() {
                break;
            }
            unbanned += r.len();
        }
        now += 1.0;
    }
    assert_eq!(unbanned, n);
    let unban = t.elapsed().as_secs_f64();

    let mut fm = FailManager::new();
    fm.set_max_retry(1_000_000);
    let t = Instant::now();
    for i in 0..n {
        let time = BASE + i as f64 * 0.01;
        fm.add_failure(FailTicket::new(ip(i % (n / 4).max(1)), time, vec![]), 1);
        if i % 100 == 0 {
            fm.cleanup(time);
        }
    }
    let fail = t.elapsed().as_secs_f64();
    [add, list, list_time, unban, fail]
}

const PY: &str = r#"
import sys, time
from fail2ban.server.banmanager import BanManager
from fail2ban.server.failmanager import FailManager
from fail2ban.server.ticket import BanTicket, FailTicket
from fail2ban.server.mytime import MyTime
from fail2ban.server.ipdns import IPAddr
n = int(sys.argv[1]); BASE = 1790000000.0
ips = ['10.%d.%d.%d' % ((i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(n)]
bm = BanManager()
t = time.perf_counter()
for i in range(n):
    tm = BASE + i * 3600.0 / n
    MyTime.setTime(tm)
    assert bm.addBanTicket(BanTicket(ips[i], tm))
add = time.perf_counter() - t
t = time.perf_counter(); l = bm.getBanList(ordered=True); lst = time.perf_counter() - t
t = time.perf_counter(); l = bm.getBanList(ordered=True, withTime=True); lstt = time.perf_counter() - t
t = time.perf_counter()
now = BASE + 600.0; cnt = 0
while bm.size():
    while True:
        r = bm.unBanList(now, 20)
        if not r: break
        cnt += len(r)
    now += 1.0
unban = time.perf_counter() - t
assert cnt == n
fm = FailManager(); fm.setMaxRetry(1000000)
t = time.perf_counter()
for i in range(n):
    tm = BASE + i * 0.01
    fm.addFailure(FailTicket(ips[i % max(n // 4, 1)], tm))
    if i % 100 == 0: fm.cleanup(tm)
fail = time.perf_counter() - t
print(add, lst, lstt, unban, fail)
"#;

fn upstream(n: usize) -> Option<Vec<f64>> {
    let out = Command::new("/usr/bin/python3")
        .args(["-c", PY, &n.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "upstream run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().ok())
        .collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let o = ours(n);
    let u = upstream(n);
    let names = [
        "add N bans",
        "get banip (ordered)",
        "get banip --with-time",
        "unban all (rounds of 20, 1 s steps)",
        "FailManager: N failures, cleanup/100",
    ];
    println!("| N = {n} | f2b-jail | upstream 1.0.2 (python) |");
    println!("|---|---|---|");
    for (i, name) in names.iter().enumerate() {
        let up = u
            .as_ref()
            .map(|u| format!("{:.3} s", u[i]))
            .unwrap_or_else(|| "n/a".into());
        println!("| {name} | {:.3} s | {up} |", o[i]);
    }
}
