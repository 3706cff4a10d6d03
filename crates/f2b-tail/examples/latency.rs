//! Latency benchmark (not a test): time from appending a line to a log file until the
//! follower publishes it, for the inotify backend and the polling backend.
//!
//! `cargo run --release -p f2b-tail --example latency [iterations] [poll-interval-ms]`

use f2b_tail::{Encoding, FileSource, InotifyTail, PollingTail, StartPos, TailEvent};
use std::io::Write;
use std::time::{Duration, Instant};

fn measure(name: &str, src: &mut dyn FileSource, iterations: usize, spread_ms: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("auth.log");
    std::fs::write(&path, "").expect("create log");
    src.add_file(&path, StartPos::Tail, Encoding::Utf8);
    std::thread::sleep(Duration::from_millis(200));
    while src.events().try_recv().is_ok() {}
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open log");
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let t0 = Instant::now();
        writeln!(file, "Nov 25 10:00:00 host sshd[1]: line {i}").expect("write");
        loop {
            match src.events().recv_timeout(Duration::from_secs(10)) {
                Ok(TailEvent::Line(_) | TailEvent::Lines(_)) => break,
                Ok(_) => continue,
                Err(_) => panic!("{name}: line {i} never arrived"),
            }
        }
        samples.push(t0.elapsed());
        // pseudo-random pauses so writes hit the polling cycle at random phases
        let r = (i as u64).wrapping_mul(2654435761) % spread_ms.max(1);
        std::thread::sleep(Duration::from_millis(1 + r));
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "{name:<22} n={iterations:<5} p50={:>9.3?} p90={:>9.3?} p99={:>9.3?} max={:>9.3?}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        samples[samples.len() - 1]
    );
    src.stop();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(500);
    let interval: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut ino = InotifyTail::spawn().expect("inotify");
    measure("inotify", &mut ino, n, 3);
    let mut poll = PollingTail::spawn(Duration::from_millis(interval));
    measure(
        &format!("polling ({interval} ms)"),
        &mut poll,
        n.min(100),
        interval,
    );
}
