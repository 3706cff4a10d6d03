//! Behaviour of one follower: line splitting, incomplete lines, `\r\n`, decoding, hashes,
//! start positions, rotation kinds, files appearing later. Data-driven where possible.

use f2b_tail::{Encoding, FileFollower, RotationReason, StartPos, TailEvent};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

fn append(p: &Path, data: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.write_all(data).unwrap();
}

fn poll(f: &mut FileFollower) -> Vec<TailEvent> {
    let mut out = Vec::new();
    f.poll(&mut |e| out.push(e)).unwrap();
    out
}

fn lines(evs: &[TailEvent]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            TailEvent::Line(l) => Some(l.text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn writes_become_lines() {
    // (bytes written in successive steps, lines expected after each step)
    type Steps = &'static [&'static [u8]];
    type Expect = &'static [&'static [&'static str]];
    let cases: &[(Steps, Expect)] = &[
        (&[b"a\nb\n"], &[&["a", "b"]]),
        (&[b"par", b"tial\n"], &[&[], &["partial"]]),
        (&[b"crlf\r\n", b"double\r\r\n"], &[&["crlf"], &["double"]]),
        (&[b"\n\n"], &[&["", ""]]),
        (
            &[b"caf\xc3\xa9\n", b"bad\xff\n"],
            &[&["caf\u{e9}"], &["bad\u{fffd}"]],
        ),
        (&[b"x\xc3", b"\xa9y\n"], &[&[], &["x\u{e9}y"]]),
    ];
    for (writes, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
        for (w, exp) in writes.iter().zip(want.iter()) {
            append(&p, w);
            assert_eq!(lines(&poll(&mut f)), *exp, "writes {writes:?}");
        }
    }
}

#[test]
fn decode_warning_once_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    append(&p, b"a\xff\nb\xfe\n");
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    let evs = poll(&mut f);
    let warnings = evs
        .iter()
        .filter(|e| matches!(e, TailEvent::DecodeWarning { .. }))
        .count();
    assert_eq!(warnings, 1);
    let mut l = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Latin1);
    assert_eq!(lines(&poll(&mut l)), ["a\u{ff}", "b\u{fe}"]);
}

#[test]
fn first_line_hash_is_sha1_of_the_line_with_newline() {
    // values from `printf … | sha1sum`
    let cases: &[(&[u8], &str)] = &[
        (b"abc\n", "03cfd743661f07975fa2f1220c5194cbaff48451"),
        (b"abc\nmore\n", "03cfd743661f07975fa2f1220c5194cbaff48451"),
        (
            b"Nov 25 10:00:00 host sshd[1]: x\r\nnext\n",
            "69516845e48a1c73c0340a31ce03abac1de4bfa6",
        ),
        (b"no newline", ""),
        (b"", ""),
    ];
    for (content, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        append(&p, content);
        let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
        let evs = poll(&mut f);
        assert!(
            evs.contains(&TailEvent::Opened {
                path: f.path().clone(),
                hash: want.to_string(),
                pos: 0
            }),
            "{evs:?}"
        );
        assert_eq!(f.hash(), Some(*want));
    }
}

#[test]
fn start_positions() {
    let content = b"one\ntwo\nthree\n";
    let h = "bd9a4d2a0d7ad1a2ea28aabe2a8a3e5d3eb5e9b0"; // not the hash of "one\n"
    let good = f2b_tail::sha1_hex(b"one\n");
    let cases: Vec<(StartPos, Vec<&str>)> = vec![
        (
            StartPos::Head { saved: None },
            vec!["one", "two", "three", "four"],
        ),
        (StartPos::Tail, vec!["four"]),
        (
            StartPos::Head {
                saved: Some((4, good.clone())),
            },
            vec!["two", "three", "four"],
        ),
        (
            StartPos::Head {
                saved: Some((4, h.to_string())),
            },
            vec!["one", "two", "three", "four"],
        ),
        (
            StartPos::Head {
                saved: Some((999, good.clone())),
            },
            vec!["one", "two", "three", "four"],
        ),
    ];
    for (start, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        append(&p, content);
        let mut f = FileFollower::new(&p, start.clone(), Encoding::Utf8);
        let mut got = lines(&poll(&mut f));
        append(&p, b"four\n");
        got.extend(lines(&poll(&mut f)));
        assert_eq!(got, want, "start {start:?}");
    }
}

#[test]
fn rotations_are_detected_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    let rotated = dir.path().join("log.1");
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    assert!(matches!(poll(&mut f)[..], [TailEvent::Missing { .. }]));
    assert!(poll(&mut f).is_empty(), "missing is reported once");
    append(&p, b"a1\na2\n");
    assert_eq!(lines(&poll(&mut f)), ["a1", "a2"]);

    // rename + create, with a late write to the renamed file before we look
    std::fs::rename(&p, &rotated).unwrap();
    append(&p, b"b1\n");
    append(&rotated, b"a3\n");
    let evs = poll(&mut f);
    assert_eq!(lines(&evs), ["a3", "b1"]);
    assert!(evs.iter().any(|e| matches!(
        e,
        TailEvent::Rotated {
            reason: RotationReason::InodeChanged,
            ..
        }
    )));

    // copytruncate, polled while empty
    std::fs::copy(&p, &rotated).unwrap();
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&p)
        .unwrap();
    let evs = poll(&mut f);
    assert!(evs.iter().any(|e| matches!(
        e,
        TailEvent::Rotated {
            reason: RotationReason::Truncated,
            ..
        }
    )));
    append(&p, b"c1\n");
    assert_eq!(lines(&poll(&mut f)), ["c1"]);

    // copytruncate that grew back past the position before we looked
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&p)
        .unwrap();
    append(&p, b"d1-longer-line\n");
    let evs = poll(&mut f);
    assert_eq!(lines(&evs), ["d1-longer-line"]);
    assert!(evs.iter().any(|e| matches!(
        e,
        TailEvent::Rotated {
            reason: RotationReason::FirstLineChanged,
            ..
        }
    )));

    // delete, then the file comes back
    std::fs::remove_file(&p).unwrap();
    assert!(matches!(poll(&mut f)[..], [TailEvent::Missing { .. }]));
    append(&p, b"e1\n");
    assert_eq!(lines(&poll(&mut f)), ["e1"]);
}

#[test]
fn positions_point_after_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    append(&p, b"ab\r\ncde\nf");
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    let got: Vec<(u64, u64)> = poll(&mut f)
        .into_iter()
        .filter_map(|e| match e {
            TailEvent::Line(l) => Some((l.offset, l.end)),
            _ => None,
        })
        .collect();
    assert_eq!(got, [(0, 4), (4, 8)]);
    assert_eq!(f.position(), Some(8));
}

#[test]
fn big_files_and_long_lines_are_read_in_one_poll() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    let long = "y".repeat(1_500_000);
    let mut content = String::new();
    for i in 0..40_000 {
        content.push_str(&format!("line {i:06} padding padding padding padding\n"));
    }
    content.push_str(&long);
    content.push('\n');
    append(&p, content.as_bytes());
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    let got = lines(&poll(&mut f));
    assert_eq!(got.len(), 40_001);
    assert_eq!(got[39_999], "line 039999 padding padding padding padding");
    assert_eq!(got[40_000], long);
    assert_eq!(f.position(), Some(content.len() as u64));
}

#[test]
fn caught_up_once_and_hash_reported_when_first_line_completes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    append(&p, b"first li");
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    let evs = poll(&mut f);
    let caught = |evs: &[TailEvent]| {
        evs.iter()
            .filter(|e| matches!(e, TailEvent::CaughtUp { .. }))
            .count()
    };
    assert_eq!(caught(&evs), 1);
    assert_eq!(f.hash(), Some(""));
    append(&p, b"ne\nsecond\n");
    let evs = poll(&mut f);
    assert_eq!(caught(&evs), 0);
    let want = f2b_tail::sha1_hex(b"first line\n");
    assert!(evs.contains(&TailEvent::HashChanged {
        path: f.path().clone(),
        hash: want.clone()
    }));
    assert_eq!(f.hash(), Some(want.as_str()));
}

#[test]
fn head_seek_starts_at_the_first_line_not_older_than_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    let mut content = String::new();
    for i in 0..500u64 {
        content.push_str(&format!("{} event {i}\n", 1_795_500_000 + i * 60));
    }
    append(&p, content.as_bytes());
    let date_of: f2b_tail::DateFn = std::sync::Arc::new(std::sync::Mutex::new(|l: &str| {
        l.split(' ').next().and_then(|t| t.parse::<f64>().ok())
    }));
    // (target, first line expected)
    let cases = [
        (1_795_500_000.0 + 250.0 * 60.0, "1795515000 event 250"),
        (
            1_795_500_000.0 + 250.0 * 60.0 - 30.0,
            "1795515000 event 250",
        ),
        (0.0, "1795500000 event 0"),
    ];
    for (target, first) in cases {
        let start = StartPos::HeadSeek {
            saved: None,
            target,
            date_of: date_of.clone(),
        };
        let mut f = FileFollower::new(&p, start, Encoding::Utf8);
        let got = lines(&poll(&mut f));
        assert_eq!(
            got.first().map(String::as_str),
            Some(first),
            "target {target}"
        );
        assert_eq!(got.last().unwrap(), "1795529940 event 499");
    }
    let start = StartPos::HeadSeek {
        saved: None,
        target: 2e9,
        date_of,
    };
    let mut f = FileFollower::new(&p, start, Encoding::Utf8);
    assert!(
        lines(&poll(&mut f)).is_empty(),
        "everything older than the target"
    );
}

#[test]
fn backends_pick_up_files_in_directories_created_later() {
    use f2b_tail::{FileSource, InotifyTail, PollingTail};
    use std::time::Duration;
    let sources: Vec<Box<dyn FileSource>> = vec![
        Box::new(InotifyTail::spawn().unwrap()),
        Box::new(PollingTail::spawn(Duration::from_millis(20))),
    ];
    for mut src in sources {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("later");
        let p = sub.join("app.log");
        src.add_file(&p, StartPos::Tail, Encoding::Utf8);
        std::thread::sleep(Duration::from_millis(100));
        std::fs::create_dir(&sub).unwrap();
        append(&p, b"first\nsecond\n");
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while got.len() < 2 && std::time::Instant::now() < deadline {
            if let Ok(ev) = src.events().recv_timeout(Duration::from_millis(50)) {
                for ev in ev.flatten() {
                    if let TailEvent::Line(l) = ev {
                        got.push(l.text);
                    }
                }
            }
        }
        // a file that appears after start is new: read from its beginning even for `tail`
        assert_eq!(got, ["first", "second"]);
        src.stop();
    }
}

#[test]
fn sources_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<FileFollower>();
    send::<f2b_tail::PollingTail>();
    send::<f2b_tail::InotifyTail>();
}

#[test]
fn a_deleted_file_is_released_after_draining() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    append(&p, b"a\n");
    let mut f = FileFollower::new(&p, StartPos::Head { saved: None }, Encoding::Utf8);
    assert_eq!(lines(&poll(&mut f)), ["a"]);
    // written, then deleted before the next look: still delivered, then the file is let go
    append(&p, b"b\n");
    std::fs::remove_file(&p).unwrap();
    assert_eq!(lines(&poll(&mut f)), ["b"]);
    assert_eq!(f.position(), None, "deleted file still held open");
    // renamed away: kept open while the path is missing
    append(&p, b"c\n");
    assert_eq!(lines(&poll(&mut f)), ["c"]);
    std::fs::rename(&p, dir.path().join("log.1")).unwrap();
    poll(&mut f);
    assert!(f.position().is_some());
}
