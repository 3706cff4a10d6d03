//! Differential test of log reading (f2b-tail, tested here next to the action tests): for
//! files with CRLF, invalid UTF-8, multi-byte characters, empty lines and an incomplete
//! last line, upstream's python `FileContainer` and `f2b_tail::FileFollower` must yield the
//! same lines, the same final position and the same first-line hash.

use compat_tests::action::{python_json, PYTHON};
use compat_tests::require_oracle;
use f2b_tail::{Encoding, FileFollower, StartPos, TailEvent};
use serde_json::{json, Value};

const READER: &str = r#"
import sys, json
from fail2ban.server.filter import FileContainer
out = []
for path in json.load(sys.stdin):
    fc = FileContainer(path, 'utf-8', tail=False)
    lines = []
    if fc.open():
        while True:
            l = fc.readline()
            if l is None:
                break
            lines.append(l)
        fc.close()
    out.append({'hash': fc.getHash(), 'pos': fc.getPos(), 'lines': lines})
print(json.dumps(out))
"#;

const CASES: &[&[u8]] = &[
    b"plain\nlines\n",
    b"crlf\r\nlines\r\n",
    b"double cr\r\r\nx\n",
    b"incomplete last\nline",
    b"no newline at all",
    b"",
    b"\n\n\nempty lines\n",
    b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\n",
    b"invalid \xff byte\nand \xc3 truncated seq\nok\n",
    b"surrogate \xed\xa0\x80 and overlong \xc0\xaf\n",
    b"mixed\rcr only\nend\n",
    b"Nov 25 10:00:00 host sshd[123]: Failed password for root from 192.0.2.1 port 22 ssh2\n",
];

#[test]
fn file_reading_matches_upstream_file_container() {
    if !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = dir.path().join(format!("case{i}.log"));
            std::fs::write(&p, c).unwrap();
            p.display().to_string()
        })
        .collect();
    let expected = python_json(READER, &json!(paths).to_string());
    for (i, path) in paths.iter().enumerate() {
        let mut f = FileFollower::new(path, StartPos::Head { saved: None }, Encoding::Utf8);
        let mut lines = Vec::new();
        f.poll(&mut |e| {
            if let TailEvent::Line(l) = e {
                lines.push(Value::String(l.text));
            }
        })
        .unwrap();
        let want = &expected[i];
        assert_eq!(Value::Array(lines), want["lines"], "case {:?}", CASES[i]);
        assert_eq!(
            f.position().unwrap(),
            want["pos"].as_u64().unwrap(),
            "case {:?}",
            CASES[i]
        );
        assert_eq!(f.hash().unwrap(), want["hash"], "case {:?}", CASES[i]);
    }
}

/// Upstream `FileFilter.seekToTime` with an `^EPOCH` date pattern: final positions.
const SEEKER: &str = r#"
import sys, json
from fail2ban.server.filter import FileFilter, FileContainer
from fail2ban.tests.dummyjail import DummyJail
out = []
for path, start, target in json.load(sys.stdin):
    flt = FileFilter(DummyJail())
    flt.setDatePattern('^EPOCH')
    fc = FileContainer(path, 'utf-8', tail=False)
    fc.setPos(start)
    fc.open()
    flt.seekToTime(fc, target)
    out.append(fc.getPos())
    fc.close()
print(json.dumps(out))
"#;

/// Leading 10-11 digit epoch (what `^EPOCH` matches for these files).
fn epoch_of(line: &str) -> Option<f64> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if !(10..=11).contains(&digits) {
        return None;
    }
    line[..digits].parse().ok()
}

/// Test logs: (name, content). Times start at T0 with various gaps, undated lines, jitter.
fn seek_logs() -> Vec<(String, String, Vec<f64>)> {
    const T0: u64 = 1_795_500_000;
    let mut seed: u64 = 42;
    let mut rnd = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut logs = Vec::new();
    for (name, n, undated_every, cont, header, jitter, tail_newline) in [
        ("regular", 1000usize, 0usize, 1usize, 0usize, false, true),
        ("undated-mixed", 800, 3, 1, 20, false, true),
        ("jittered", 600, 7, 1, 0, true, true),
        ("no-final-newline", 300, 0, 1, 0, false, false),
        ("one-line", 1, 0, 1, 0, false, true),
        ("two-lines", 2, 0, 1, 0, false, true),
        ("all-undated", 0, 0, 1, 50, false, true),
        ("long-gaps", 200, 2, 1, 5, true, true),
        ("sparse-dates", 120, 1, 8, 3, true, true),
        ("blocks", 150, 5, 12, 0, false, true),
    ] {
        let mut s = String::new();
        let mut times = Vec::new();
        for h in 0..header {
            s.push_str(&format!("header line {h} without a date\n"));
        }
        let mut t = T0;
        for i in 0..n {
            t += if jitter { rnd(30) } else { 10 };
            times.push(t as f64);
            s.push_str(&format!("{t} host sshd[{i}]: message {i}\n"));
            if undated_every > 0 && i % undated_every == 0 {
                for _ in 0..cont {
                    s.push_str("  continuation without date\n");
                }
            }
        }
        if !tail_newline {
            s.pop();
        }
        logs.push((name.to_string(), s, times));
    }
    logs
}

#[test]
fn seek_to_time_matches_upstream() {
    if !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queries = Vec::new();
    for (name, content, times) in seek_logs() {
        let p = dir.path().join(format!("{name}.log"));
        std::fs::write(&p, &content).unwrap();
        let first = times.first().copied().unwrap_or(1_795_500_000.0);
        let last = times.last().copied().unwrap_or(first);
        let mut targets = vec![
            first - 100.0,
            first,
            last,
            last + 1000.0,
            (first + last) / 2.0,
        ];
        targets.extend(times.iter().step_by(37).map(|t| t + 1.0));
        // a saved start position at some line start in the middle, and 0
        let mid = content[..content.len() / 3]
            .rfind('\n')
            .map_or(0, |i| i + 1) as u64;
        for start in [0u64, mid] {
            for t in &targets {
                queries.push((p.display().to_string(), start, *t));
            }
        }
    }
    let expected = python_json(SEEKER, &json!(queries).to_string());
    let expected = expected.as_array().unwrap();
    assert_eq!(expected.len(), queries.len());
    let mut moved = 0;
    for ((path, start, target), want) in queries.iter().zip(expected) {
        let mut file = std::fs::File::open(path).unwrap();
        let mut date_of = |l: &str| epoch_of(l);
        let got = f2b_tail::seek_to_time(&mut file, *start, *target, Encoding::Utf8, &mut date_of)
            .unwrap();
        assert_eq!(
            got,
            want.as_u64().unwrap(),
            "seek in {path} from {start} to {target}"
        );
        if got != *start {
            moved += 1;
        }
    }
    assert!(
        moved > queries.len() / 3,
        "the search moved in only {moved} cases"
    );
}
