//! Differential tests of the journal reader (f2b-journal) against upstream: the same
//! journal files (written by systemd-journal-remote from export data made here) read by
//! Debian's python fail2ban (`FilterSystemd.formatJournalEntry` over python-systemd)
//! and by ours must give the same lines and times: odd fields, encodings, time zones
//! across DST changes, matches, directories and flags.

use compat_tests::journal::{our_lines, tools_present, upstream_lines, write_journal, Entry};

/// 2026-03-29 00:30 UTC: half an hour before the EU summer-time switch.
const SPRING: u64 = 1_774_744_200;
/// 2026-10-25 00:30 UTC: half an hour before the EU winter-time switch.
const AUTUMN: u64 = 1_792_888_200;
/// 2025-11-02 05:30 UTC: the US winter-time switch is at 06:00 UTC.
const US_FALL: u64 = 1_762_061_400;

fn sshd(t_us: u64, mono: u64, host: &str, pid: &str, msg: &str) -> Entry {
    Entry::at(t_us, mono)
        .with("_HOSTNAME", host)
        .with("SYSLOG_IDENTIFIER", "sshd")
        .with("_COMM", "sshd")
        .with("_PID", pid)
        .with("_SYSTEMD_UNIT", "ssh.service")
        .with("MESSAGE", msg)
}

/// Entries covering every branch of upstream's formatting.
fn odd_entries() -> Vec<Entry> {
    let mut v = Vec::new();
    let mut t = SPRING * 1_000_000;
    let mut mono = 5_000_000u64;
    let mut next = |step_us: u64| {
        t += step_us;
        mono += 1_234_567;
        (t, mono)
    };
    let (a, m) = next(1);
    v.push(sshd(
        a,
        m,
        "host1",
        "100",
        "Failed password for root from 192.0.2.1 port 22 ssh2",
    ));
    let (a, m) = next(999_998);
    v.push(sshd(a, m, "host1", "100", "syslog pid differs").with("SYSLOG_PID", "200"));
    let (a, m) = next(500_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("_COMM", "cron")
            .with("_PID", "55")
            .with("MESSAGE", "no identifier, comm instead"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host2")
            .with("MESSAGE", "no ident nor comm"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("SYSLOG_IDENTIFIER", "nohost")
            .with("MESSAGE", "no hostname"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "kernel")
            .with("_SOURCE_MONOTONIC_TIMESTAMP", "123456789")
            .with("MESSAGE", "kernel with source monotonic"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "kernel")
            .with("MESSAGE", "kernel with the entry's monotonic time"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "kernel")
            .with("_PID", "1")
            .with("MESSAGE", "kernel with a pid gets no stamp"),
    );
    let (a, m) = next(1_000_000);
    v.push(sshd(a, m, "host1", "7", "first\nsecond\r\nthird\n"));
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "bin")
            .with("MESSAGE", b"caf\xe9 \xff\xfe ok \xc3\xa9"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "nomsg"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "emptymsg")
            .with("MESSAGE", ""),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "twomsg")
            .with("MESSAGE", "part one")
            .with("MESSAGE", b"part \xfftwo"),
    );
    let pids: [&[u8]; 18] = [
        b"0x1f",
        b"abc",
        b" 42 ",
        b"1_000",
        b"0",
        b"-5",
        b"",
        b"012",
        b"0o17",
        b"0b101",
        b"1__0",
        b"+7",
        b"0_0",
        b"abc'd",
        b"\x01\x80",
        b"it's \"q\"",
        b"0x_ff",
        b"-0",
    ];
    for p in pids {
        let (a, m) = next(1_000_000);
        v.push(
            Entry::at(a, m)
                .with("_HOSTNAME", "host1")
                .with("SYSLOG_IDENTIFIER", "pid")
                .with("SYSLOG_PID", p)
                .with("_PID", "99")
                .with("MESSAGE", "odd syslog pid"),
        );
    }
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", "host1")
            .with("SYSLOG_IDENTIFIER", "pid")
            .with("SYSLOG_PID", "7")
            .with("SYSLOG_PID", "x")
            .with("MESSAGE", "two syslog pids"),
    );
    let (a, m) = next(1_000_000);
    v.push(
        Entry::at(a, m)
            .with("_HOSTNAME", b"h\xf6st")
            .with("SYSLOG_IDENTIFIER", b"id\xe9nt")
            .with("MESSAGE", "latin-1 host and ident"),
    );
    for src in [
        "86400000000",
        " 1774744200000000 ",
        "1774744200000001",
        "1774745000999999",
    ] {
        let (a, m) = next(1_000_000);
        v.push(
            Entry::at(a, m)
                .with("_HOSTNAME", "host1")
                .with("SYSLOG_IDENTIFIER", "src")
                .with("_SOURCE_REALTIME_TIMESTAMP", src)
                .with("MESSAGE", "source realtime"),
        );
    }
    // across the spring switch, with fractions that stress float rounding
    for (i, frac) in [0u64, 1, 499_999, 500_000, 999_999, 123_457, 5, 250_000]
        .iter()
        .enumerate()
    {
        let base = (SPRING + 600 * (i as u64 + 1)) * 1_000_000;
        v.push(sshd(
            base + frac,
            9_000_000 + i as u64,
            "host3",
            "300",
            "spring",
        ));
    }
    for (i, frac) in [0u64, 999_999, 1, 777_777].iter().enumerate() {
        let base = (AUTUMN + 1200 * i as u64) * 1_000_000;
        v.push(sshd(
            base + frac,
            19_000_000 + i as u64,
            "host3",
            "301",
            "autumn",
        ));
    }
    for (i, frac) in [0u64, 654_321, 999_999].iter().enumerate() {
        let base = (US_FALL + 1500 * i as u64) * 1_000_000;
        v.push(sshd(
            base + frac,
            29_000_000 + i as u64,
            "host3",
            "302",
            "us fall",
        ));
    }
    v
}

const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];

#[test]
fn formatting_equals_upstream_in_all_zones_and_encodings() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.journal");
    let entries = odd_entries();
    write_journal(&file, &entries);
    let f = file.display();
    for tz in ZONES {
        for enc in ["UTF-8", "latin-1"] {
            let up = upstream_lines(&format!("systemd-journal[journalfiles={f}]"), "", enc, tz);
            let ours = our_lines(&format!("journalfiles={f}"), &[], enc, tz);
            assert_eq!(up.len(), entries.len(), "upstream read every entry ({tz})");
            for (i, (u, o)) in up.iter().zip(&ours).enumerate() {
                assert_eq!(u, o, "entry {i}, TZ={tz}, encoding {enc}");
            }
            assert_eq!(up.len(), ours.len(), "TZ={tz}, encoding {enc}");
        }
    }
}

/// Entries of several services and hosts for the match tests.
fn mixed_entries(start: u64, n: u64) -> Vec<Entry> {
    let units = [
        "ssh.service",
        "sshd.service",
        "cron.service",
        "nginx.service",
    ];
    let comms = ["sshd", "sshd", "cron", "nginx"];
    (0..n)
        .map(|i| {
            let k = (i * 7 % 11 % 4) as usize;
            let mut e = Entry::at((start + i) * 1_000_000 + i * 37, 1_000 + i);
            e.set("_HOSTNAME", if i % 3 == 0 { "web2" } else { "web1" })
                .set("_COMM", comms[k])
                .set("_PID", (1000 + i % 5).to_string())
                .set("PRIORITY", (3 + i % 4).to_string())
                .set("_SYSTEMD_UNIT", units[k])
                .set(
                    "MESSAGE",
                    format!("Failed password for user{i} from 198.51.100.{i} port 22 ssh2"),
                );
            if i % 4 == 1 {
                e.set("SYSLOG_IDENTIFIER", if k == 2 { "CRON" } else { "sudo" });
            }
            e
        })
        .collect()
}

/// The `journalmatch` of Debian's sshd filter (read where Debian installs it).
fn stock_sshd_journalmatch() -> String {
    let conf =
        std::fs::read_to_string("/etc/fail2ban/filter.d/sshd.conf").expect("stock sshd.conf");
    conf.lines()
        .find_map(|l| l.strip_prefix("journalmatch = "))
        .expect("sshd.conf has a journalmatch")
        .trim()
        .to_string()
}

#[test]
fn matches_select_the_same_entries_as_upstream() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.journal");
    let entries = mixed_entries(SPRING - 86_400, 60);
    write_journal(&file, &entries);
    let f = file.display();
    let stock = stock_sshd_journalmatch();
    let sets = [
        "_SYSTEMD_UNIT=ssh.service + _COMM=sshd",
        "_SYSTEMD_UNIT=ssh.service _PID=1001",
        "_COMM=sshd _COMM=cron",
        "PRIORITY=3 + _HOSTNAME=web2 SYSLOG_IDENTIFIER=sudo",
        "_HOSTNAME=web2 + + _COMM=nginx",
        "_COMM=nothing",
        stock.as_str(),
    ];
    for m in sets {
        let words: Vec<&str> = m.split_whitespace().collect();
        let up = upstream_lines(
            &format!("systemd-journal[journalfiles={f}]"),
            m,
            "UTF-8",
            "UTC",
        );
        let ours = our_lines(&format!("journalfiles={f}"), &words, "UTF-8", "UTC");
        assert!(up.len() < entries.len(), "match {m:?} filters something");
        assert_eq!(up, ours, "match {m:?}");
    }
}

#[test]
fn directories_globs_and_flags_open_the_same_files() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.journal");
    let b = dir.path().join("b.journal");
    // interleaved times: readers must merge the two files by time
    let ea: Vec<Entry> = mixed_entries(AUTUMN, 20).into_iter().step_by(2).collect();
    let eb: Vec<Entry> = mixed_entries(AUTUMN, 20)
        .into_iter()
        .skip(1)
        .step_by(2)
        .collect();
    write_journal(&a, &ea);
    write_journal(&b, &eb);
    let d = dir.path().display();
    let cases = [
        (format!("journalpath={d}"), 20),
        (format!("journalfiles={d}/*.journal"), 20),
        (format!("journalfiles={d}/a.journal {d}/a.journal"), 10),
        (format!("journalpath={d},journalflags=4"), 0),
        ("namespace=f2bnosuchns".to_string(), 0),
    ];
    for (opts, expect) in cases {
        let spec = format!("systemd-journal[{opts}]");
        let up = upstream_lines(&spec, "", "UTF-8", "Europe/Berlin");
        let ours = our_lines(&opts, &[], "UTF-8", "Europe/Berlin");
        assert_eq!(up.len(), expect, "upstream count for {opts}");
        assert_eq!(up, ours, "{opts}");
    }
}
/// The lines fail2ban-regex printed in its matched, ignored and missed sections, and
/// its line count.
fn regex_output_lines(out: &str) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut inside = false;
    let mut total = None;
    for l in out.lines() {
        if l.starts_with("|- ") && l.ends_with(" line(s):") {
            inside = true;
        } else if l == "`-" {
            inside = false;
        } else if inside {
            lines.push(l.strip_prefix("|  ").expect("a listed line").to_string());
        } else if let Some(rest) = l.strip_prefix("Lines: ") {
            total = rest.split(' ').next().and_then(|n| n.parse().ok());
        }
    }
    (lines, total.expect("a Lines: summary"))
}

#[test]
fn fail2ban_regex_reads_the_same_lines() {
    if !tools_present() || !compat_tests::require_oracle("/usr/bin/fail2ban-regex") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regex.journal");
    let mut entries = mixed_entries(US_FALL - 3_600, 40);
    entries.extend(odd_entries());
    write_journal(&file, &entries);
    let f = file.display();
    let stock = stock_sshd_journalmatch();
    // (-m words or the filter's own journalmatch, the words our reader gets)
    let cases: [(Option<&str>, &str); 3] = [
        (None, stock.as_str()),
        (
            Some("_SYSTEMD_UNIT=ssh.service + _COMM=cron"),
            "_SYSTEMD_UNIT=ssh.service + _COMM=cron",
        ),
        (Some("_HOSTNAME=host1"), "_HOSTNAME=host1"),
    ];
    for (m, words) in cases {
        let mut cmd = std::process::Command::new("/usr/bin/fail2ban-regex");
        cmd.env("TZ", "America/New_York").args([
            "--print-all-matched",
            "--print-all-missed",
            "--print-all-ignored",
        ]);
        if let Some(m) = m {
            cmd.args(["-m", m]);
        }
        let out = cmd
            .arg(format!("systemd-journal[journalfiles={f}]"))
            .arg("sshd")
            .output()
            .expect("run fail2ban-regex");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "fail2ban-regex failed: {text}");
        assert!(
            text.contains(&format!("Use    journal match : {words}")),
            "the match in use is {words}: {text}"
        );
        let (mut up, total) = regex_output_lines(&text);
        let w: Vec<&str> = words.split_whitespace().collect();
        let mut ours: Vec<String> = our_lines(
            &format!("journalfiles={f}"),
            &w,
            "UTF-8",
            "America/New_York",
        )
        .into_iter()
        // fail2ban-regex prints listed lines right-stripped (printLines)
        .map(|s| s.joined.trim_end().to_string())
        .collect();
        assert!(
            total > 0 && total < entries.len(),
            "{words}: the match selects some entries"
        );
        assert_eq!(total, ours.len(), "{words}: line count");
        up.sort();
        ours.sort();
        assert_eq!(up, ours, "{words}");
    }
}

#[test]
fn binaries_do_not_need_libsystemd_until_a_journal_is_opened() {
    if !tools_present() {
        return;
    }
    let bin = compat_tests::journal::dump_bin();
    let ldd = std::process::Command::new("ldd")
        .arg(&bin)
        .output()
        .expect("run ldd");
    let deps = String::from_utf8_lossy(&ldd.stdout);
    assert!(deps.contains("libc.so"), "ldd lists the libraries: {deps}");
    assert!(
        !deps.contains("libsystemd"),
        "linked against libsystemd: {deps}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.journal");
    write_journal(&file, &mixed_entries(SPRING, 3));
    let run = |lib: Option<&str>| {
        let mut c = std::process::Command::new(&bin);
        c.arg(format!("journalfiles={}", file.display()));
        if let Some(l) = lib {
            c.env("F2B_LIBSYSTEMD", l);
        }
        c.output().expect("run dump")
    };
    let ok = run(None);
    assert!(ok.status.success());
    assert_eq!(String::from_utf8_lossy(&ok.stdout).lines().count(), 3);
    let missing = run(Some("/nonexistent/libsystemd.so.0"));
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("LibraryMissing") && err.contains("libsystemd"),
        "{err}"
    );
}
