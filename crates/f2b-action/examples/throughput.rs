//! Benchmark (not a test): time per ban+unban through an `ActionSet` whose action appends
//! to a file like Debian's dummy.conf, i.e. mostly the cost of spawning `/bin/sh`.
//!
//! `cargo run --release -p f2b-action --example throughput [bans]`

use f2b_action::{ActionSet, Ticket};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("dummy.txt");
    let t = target.display();
    let mut set = ActionSet::new("sshd");
    set.add("dummy").expect("add");
    set.set_pairs(
        "dummy",
        &[
            ("actionstart", format!("touch {t}")),
            ("actionban", format!("printf %b \"+<ip>\\n\" >> {t}")),
            ("actionunban", format!("printf %b \"-<ip>\\n\" >> {t}")),
            ("actionstop", format!("rm -f {t}")),
        ],
    )
    .expect("set");
    set.start();
    let tickets: Vec<Ticket> = (0..n)
        .map(|i| {
            Ticket::new(&format!(
                "10.{}.{}.{}",
                i >> 16 & 255,
                i >> 8 & 255,
                i & 255
            ))
        })
        .collect();
    let t0 = Instant::now();
    for t in &tickets {
        assert!(set.ban(t, false).is_empty());
    }
    for t in &tickets {
        assert!(set.unban(t).is_empty());
    }
    let el = t0.elapsed();
    let lines = std::fs::read_to_string(&target)
        .expect("target")
        .lines()
        .count();
    assert_eq!(lines, 2 * n);
    set.flush_and_stop(&[]);
    println!(
        "f2b-action   {n} bans + {n} unbans: {:.3} s, {:.0} µs per command",
        el.as_secs_f64(),
        el.as_secs_f64() * 1e6 / (2 * n) as f64
    );
}
