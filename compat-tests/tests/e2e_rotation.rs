//! Issue 4, point 4: log rotation while a writer appends failures. The writer appends
//! three batches; between them the log is rotated by rename-and-create and then by
//! copytruncate. Every failure must be counted exactly once: `status` Total failed and the
//! number of `Found` lines equal the number of lines written. Both backends (auto =
//! inotify/pyinotify, and polling), against upstream and ours.

use compat_tests::e2e::{sshd_line, Impl, Scratch, Server};
use std::path::Path;
use std::time::Duration;

const BATCH: u32 = 200;

/// Appends `BATCH` failure lines one by one (a few ms apart, with unique pids so each
/// line, and each file's first line, differs), with a pause of `settle` before and after.
fn write_batch(log: &Path, batch: u32, settle: Duration) {
    std::thread::sleep(settle);
    for i in 0..BATCH {
        let n = batch * BATCH + i;
        // one /24 per batch, so a lost batch is visible in the Found lines
        let ip = format!("198.51.{}.{}", 100 + batch, 1 + n % 50);
        Scratch::append(log, &[sshd_line(chrono::Local::now(), 10_000 + n, &ip)]);
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(settle);
}

/// `settle`: a pause around each rotation. A polling backend looks at the file by path
/// once a second, so lines written to the old file after its last look and before a
/// rename are lost by design, and a truncated file that regrows past the old position
/// before the next look is not seen as truncated (upstream's FileContainer compares the
/// size and re-hashes the first line only every 30 s); a pause longer than the poll
/// interval before and after each rotation avoids those races. Inotify needs no pause.
fn rotation(imp: Impl, backend: &str, settle: Duration) {
    if !imp.available() {
        return;
    }
    let sc = Scratch::new();
    let log = sc.path("auth.log");
    Scratch::append(&log, &[]);
    sc.jail(
        "sshd",
        &format!(
            "logpath = {}\nbackend = {backend}\nmaxretry = 100000\nfindtime = 1d\naction = dummy[target=\"{}\"]\n",
            log.display(),
            sc.path("dummy").display()
        ),
    );
    let srv = Server::start(imp, &sc, None);
    srv.wait_jails(&["sshd"]);

    let w = log.clone();
    let rotated = sc.path("auth.log.1");
    let copied = sc.path("auth.log.2");
    let writer = std::thread::spawn(move || {
        write_batch(&w, 0, settle);
        // logrotate's default: rename, then create a new empty file
        std::fs::rename(&w, &rotated).unwrap();
        Scratch::append(&w, &[]);
        write_batch(&w, 1, settle);
        // copytruncate: copy the content away, truncate in place
        std::fs::copy(&w, &copied).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&w)
            .unwrap();
        write_batch(&w, 2, settle);
    });
    writer.join().unwrap();
    let total = 3 * BATCH as u64;
    let st = srv.status_after("sshd", Duration::from_secs(15), |s| s.total_failed >= total);
    // give a late duplicate (re-read after truncation) the time to show up
    std::thread::sleep(Duration::from_millis(if backend == "polling" {
        2500
    } else {
        800
    }));
    let st2 = srv.status("sshd").unwrap();
    let log = srv.log();
    let found: Vec<usize> = (0..3)
        .map(|b| {
            let want = format!("INFO    [sshd] Found 198.51.{}.", 100 + b);
            log.lines().filter(|l| l.contains(&want)).count()
        })
        .collect();
    assert_eq!(
        found,
        vec![BATCH as usize; 3],
        "{} {backend}: Found lines per batch (before rename, before copytruncate, after)",
        imp.name()
    );
    assert_eq!(
        (st.total_failed, st2.total_failed),
        (total, total),
        "{} {backend}",
        imp.name()
    );
}

#[test]
fn upstream_rotation_auto() {
    rotation(Impl::Upstream, "auto", Duration::ZERO);
}

#[test]
fn upstream_rotation_polling() {
    rotation(Impl::Upstream, "polling", Duration::from_millis(1500));
}

#[test]
fn ours_rotation_auto() {
    rotation(Impl::Ours, "auto", Duration::ZERO);
}

#[test]
fn ours_rotation_polling() {
    rotation(Impl::Ours, "polling", Duration::from_millis(1500));
}
