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
