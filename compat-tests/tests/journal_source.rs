//! The journal follower (f2b-journal `JournalSource`, the server's `systemd` backend):
//! where it starts (now − findtime, or the saved database time), when it reports being
//! in operation, that it follows appended entries, applies matches, stops on request,
//! and reports open and match errors to its caller.

use std::path::Path;
use std::time::Duration;

use compat_tests::journal::{tools_present, write_journal, Entry};
use f2b_journal::{entry_time, system_now, ErrorKind, JournalArgs, JournalConfig, JournalSource};
use f2b_tail::{LineSource, TailEvent};

fn entry(t_us: u64, msg: &str, unit: &str) -> Entry {
    Entry::at(t_us, t_us / 1000)
        .with("_HOSTNAME", "srv")
        .with("SYSLOG_IDENTIFIER", "sshd")
        .with("_PID", "42")
        .with("_SYSTEMD_UNIT", unit)
        .with("MESSAGE", msg)
}

fn config(file: &Path, matches: Vec<Vec<String>>, findtime: f64) -> JournalConfig {
    let args = JournalArgs::from_options(&[("journalfiles", file.to_str().unwrap())]).unwrap();
    let mut c = JournalConfig::new(args, matches, findtime);
    c.sleeptime = Duration::from_millis(200);
    c
}

/// Events until `CaughtUp` and `want_after` more lines (or a generous deadline).
fn collect(src: &JournalSource, want_after: usize) -> (Vec<(String, u64)>, Option<usize>) {
    let mut lines = Vec::new();
    let mut caught = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        match src.events().recv_timeout(Duration::from_millis(100)) {
            Ok(TailEvent::Line(l)) => {
                assert_eq!(l.path.to_str(), Some("systemd-journal"));
                assert_eq!(l.offset, l.end);
                lines.push((l.text, l.offset));
            }
            Ok(TailEvent::CaughtUp { .. }) => {
                assert!(caught.is_none(), "in operation is reported once");
                caught = Some(lines.len());
            }
            Ok(other) => panic!("unexpected event {other:?}"),
            Err(_) => {}
        }
        if caught.is_some_and(|c| lines.len() >= c + want_after) {
            break;
        }
    }
    (lines, caught)
}

fn now_us() -> u64 {
    (system_now() * 1e6) as u64
}

#[test]
fn starts_at_findtime_reports_in_operation_and_follows_appends() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.journal");
    let now = now_us();
    let mut entries = Vec::new();
    for i in 0..5u64 {
        entries.push(entry(
            now - 7_200_000_000 + i * 1_000_000,
            &format!("old {i}"),
            "ssh.service",
        ));
    }
    for i in 0..5u64 {
        entries.push(entry(
            now - 300_000_000 + i * 10_000_000,
            &format!("recent {i}"),
            "ssh.service",
        ));
    }
    write_journal(&file, &entries);
    let mut src = JournalSource::spawn(config(&file, vec![], 600.0)).expect("spawn");
    let (lines, caught) = collect(&src, 0);
    let texts: Vec<&str> = lines.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        (0..5)
            .map(|i| format!("srv sshd[42]: recent {i}"))
            .collect::<Vec<_>>(),
        "only entries newer than now - findtime"
    );
    assert_eq!(caught, Some(5), "in operation after the last old entry");
    for (i, (_, pos)) in lines.iter().enumerate() {
        let want = (now - 300_000_000 + i as u64 * 10_000_000) as f64 / 1e6;
        assert_eq!(*pos, now - 300_000_000 + i as u64 * 10_000_000);
        assert!((entry_time(*pos as i64).time - want).abs() < 1e-6);
    }
    // new entries written while the source runs arrive
    let t = now_us();
    write_journal(
        &file,
        &[
            entry(t, "live 1", "ssh.service"),
            entry(t + 1, "live 2", "ssh.service"),
        ],
    );
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(TailEvent::Line(l)) = src.events().recv_timeout(Duration::from_millis(100)) {
            got.push(l.text);
        }
    }
    assert_eq!(got, ["srv sshd[42]: live 1", "srv sshd[42]: live 2"]);
    src.stop();
    assert!(
        src.events()
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "stopped"
    );
}

#[test]
fn resumes_from_the_saved_time_and_applies_matches() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.journal");
    let now = now_us();
    let mut entries = Vec::new();
    for i in 0..8u64 {
        let unit = if i % 2 == 0 {
            "ssh.service"
        } else {
            "cron.service"
        };
        entries.push(entry(
            now - 400_000_000 + i * 20_000_000,
            &format!("e{i}"),
            unit,
        ));
    }
    write_journal(&file, &entries);
    // between e3 and e4 (reading resumes at the first entry at or after it)
    let saved = (now - 400_000_000 + 4 * 20_000_000 - 500_000) as f64 / 1e6;
    let mut cfg = config(&file, vec![vec!["_SYSTEMD_UNIT=ssh.service".into()]], 600.0);
    cfg.saved_time = Some(saved);
    let mut src = JournalSource::spawn(cfg).expect("spawn");
    let (lines, caught) = collect(&src, 0);
    let texts: Vec<&str> = lines.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(texts, ["srv sshd[42]: e4", "srv sshd[42]: e6"]);
    assert_eq!(caught, Some(2));
    // a match change reaches the running reader
    src.set_matches(vec![vec!["_SYSTEMD_UNIT=cron.service".into()]]);
    std::thread::sleep(Duration::from_millis(600));
    let t = now_us();
    write_journal(
        &file,
        &[
            entry(t, "ssh live", "ssh.service"),
            entry(t + 1, "cron live", "cron.service"),
        ],
    );
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Ok(TailEvent::Line(l)) = src.events().recv_timeout(Duration::from_millis(100)) {
            got.push(l.text);
        }
    }
    // the reader goes on from its position (e6) under the new matches
    assert_eq!(got, ["srv sshd[42]: e7", "srv sshd[42]: cron live"]);
    src.stop();
}

#[test]
fn empty_selection_is_in_operation_at_once_and_errors_reach_the_caller() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.journal");
    write_journal(&file, &[entry(now_us() - 10_000_000, "x", "cron.service")]);
    let mut src = JournalSource::spawn(config(
        &file,
        vec![vec!["_SYSTEMD_UNIT=ssh.service".into()]],
        600.0,
    ))
    .expect("spawn");
    let (lines, caught) = collect(&src, 0);
    assert!(lines.is_empty());
    assert_eq!(
        caught,
        Some(0),
        "nothing to read: in operation before any line"
    );
    write_journal(&file, &[entry(now_us(), "first ssh", "ssh.service")]);
    let mut got = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.is_none() && std::time::Instant::now() < deadline {
        if let Ok(TailEvent::Line(l)) = src.events().recv_timeout(Duration::from_millis(100)) {
            got = Some(l.text);
        }
    }
    assert_eq!(got.as_deref(), Some("srv sshd[42]: first ssh"));
    src.stop();

    let bad = config(&file, vec![vec!["lowercase=x".into()]], 600.0);
    assert_eq!(
        JournalSource::spawn(bad).err().map(|e| e.kind),
        Some(ErrorKind::Match)
    );
    let args = JournalArgs::from_options(&[("journalpath", "/nonexistent/journal/dir")]).unwrap();
    let missing = JournalConfig::new(args, vec![], 600.0);
    let err = JournalSource::spawn(missing)
        .err()
        .expect("no such directory");
    assert_eq!((err.kind, err.errno), (ErrorKind::Open, Some(libc::ENOENT)));
}

#[test]
fn idle_pauses_reading_without_losing_entries() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("i.journal");
    write_journal(
        &file,
        &[entry(now_us() - 5_000_000, "before", "ssh.service")],
    );
    let mut src = JournalSource::spawn(config(&file, vec![], 600.0)).expect("spawn");
    let (lines, caught) = collect(&src, 0);
    assert_eq!((lines.len(), caught), (1, Some(1)));
    src.set_idle(true);
    std::thread::sleep(Duration::from_millis(500));
    write_journal(&file, &[entry(now_us(), "during idle", "ssh.service")]);
    assert!(
        src.events()
            .recv_timeout(Duration::from_millis(1500))
            .is_err(),
        "nothing is read while idle"
    );
    src.set_idle(false);
    match src.events().recv_timeout(Duration::from_secs(20)) {
        Ok(TailEvent::Line(l)) => assert_eq!(l.text, "srv sshd[42]: during idle"),
        other => panic!("expected the entry written while idle, got {other:?}"),
    }
    src.stop();
}

/// Upstream's follower: `FilterSystemd.run` on a thread for `secs` seconds, with a
/// stand-in jail whose database returns `saved`; prints each processed line and each
/// switch to "in operation".
const UPSTREAM_RUN: &str = r#"
import sys, time, threading, json
from fail2ban.server.filtersystemd import FilterSystemd
files, findtime, saved, match, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
class DB:
    def getJournalPos(s, jail, name): return float(saved) if saved else None
    def updateJournal(s, *a): pass
class Jail:
    name = 'j'
    database = DB()
flt = FilterSystemd(Jail(), journalfiles=files)
flt.setFindTime(findtime)
flt.sleeptime = 0.2
if match: flt.addJournalMatch(match.split())
flt.processLineAndAdd = lambda line, tm: print(json.dumps(["L", "".join(line), tm]), flush=True)
orig = flt.inOperationMode
def iom():
    print(json.dumps(["C"]), flush=True); orig()
flt.inOperationMode = iom
flt.active = True
t = threading.Thread(target=flt.run); t.start(); time.sleep(secs); flt.active = False; t.join()
"#;

#[derive(Debug, PartialEq)]
enum Ev {
    Line(String, f64),
    InOperation,
}

fn upstream_run(file: &Path, findtime: u32, saved: Option<f64>, matches: &str) -> Vec<Ev> {
    let saved = saved.map(|s| format!("{s:?}")).unwrap_or_default();
    let out = std::process::Command::new(compat_tests::journal::SYSTEM_PYTHON)
        .args(["-c", UPSTREAM_RUN, file.to_str().unwrap()])
        .args([&findtime.to_string(), &saved, matches, "1.0"])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v[0].as_str() {
                Some("L") => Ev::Line(v[1].as_str().unwrap().into(), v[2].as_f64().unwrap()),
                _ => Ev::InOperation,
            }
        })
        .collect()
}

fn our_run(file: &Path, findtime: u32, saved: Option<f64>, matches: &str) -> Vec<Ev> {
    let words: Vec<&str> = matches.split_whitespace().collect();
    let mut cfg = config(file, f2b_journal::match_groups(&words), findtime as f64);
    if words.is_empty() {
        cfg.matches.clear();
    }
    cfg.saved_time = saved;
    let mut src = JournalSource::spawn(cfg).expect("spawn");
    let mut evs = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_millis(1000);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match src.events().recv_timeout(left) {
            Ok(TailEvent::Line(l)) => {
                let t = entry_time(l.offset as i64);
                evs.push(Ev::Line(format!("{} {}", t.iso, l.text), t.time));
            }
            Ok(TailEvent::CaughtUp { .. }) => evs.push(Ev::InOperation),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    src.stop();
    evs
}

#[test]
fn follower_start_and_in_operation_match_upstream_run_loop() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.journal");
    let now = system_now().trunc() as i64;
    // the last two stay in the future for the whole test (upstream: "tm >= now - 1")
    let offsets = [-7200i64, -7100, -300, -200, -100, 300, 400];
    let times: Vec<u64> = offsets
        .iter()
        .enumerate()
        .map(|(i, o)| ((now + o) * 1_000_000 + 37 * i as i64) as u64)
        .collect();
    let entries: Vec<Entry> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let unit = if i % 2 == 0 {
                "ssh.service"
            } else {
                "cron.service"
            };
            entry(t, &format!("m{i}"), unit)
        })
        .collect();
    write_journal(&file, &entries);
    let at = |i: usize| times[i] as f64 / 1e6;
    let cases: Vec<(u32, Option<f64>, &str)> = vec![
        (600, None, ""),
        (600, Some((now - 150) as f64), ""),
        (600, Some(at(3)), ""),
        (600, Some(at(4)), "_SYSTEMD_UNIT=ssh.service"),
        (60, None, ""),
        (600, None, "_SYSTEMD_UNIT=none.service"),
        (600, Some((now + 3600) as f64), ""),
        (
            86400,
            None,
            "_SYSTEMD_UNIT=cron.service + _SYSTEMD_UNIT=ssh.service _HOSTNAME=srv",
        ),
    ];
    for (findtime, saved, m) in cases {
        let up = upstream_run(&file, findtime, saved, m);
        let ours = our_run(&file, findtime, saved, m);
        assert!(up.contains(&Ev::InOperation), "upstream went in operation");
        assert_eq!(
            up, ours,
            "findtime {findtime}, saved {saved:?}, match {m:?}"
        );
    }
}
