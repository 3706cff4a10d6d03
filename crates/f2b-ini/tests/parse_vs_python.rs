//! Differential test of one-file parsing and interpolation against upstream's own
//! parser class (`SafeConfigParserWithIncludes`, i.e. Python's `ConfigParser` as
//! fail2ban configures it), on pseudo-random ini-like texts from a fixed seed.
//! Compared: whether the file parses, its sections, option names and raw values, and
//! for every option the interpolated value or the fact that interpolation fails.
//! Needs Debian's `/usr/bin/python3` with fail2ban (missing under `CI=true` = failure).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use f2b_ini::{parse_str, Config};

const PYTHON: &str = "/usr/bin/python3";

const PY: &str = r#"
import io, json, sys
from fail2ban.client.configparserinc import SafeConfigParserWithIncludes
out = []
for text in json.load(sys.stdin):
    cfg = SafeConfigParserWithIncludes()
    try:
        # newline=None: universal newlines, as when fail2ban reads a file
        cfg.read_file(io.StringIO(text, newline=None))
    except Exception as e:
        out.append(None)
        continue
    secs = []
    for sec in ['DEFAULT'] + cfg.sections():
        raw = cfg.defaults() if sec == 'DEFAULT' else cfg._sections[sec]
        opts = []
        for k in raw:
            try:
                v = cfg.get(sec, k)
            except Exception:
                v = None
            opts.append([k, raw[k], v])
        secs.append([sec, opts])
    out.append(secs)
json.dump(out, sys.stdout)
"#;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

/// Pieces of a value (including the troublesome ones).
const VALUE: &[&str] = &[
    "v",
    "1",
    " ",
    "\t",
    "%%",
    "%",
    "%(a)s",
    "%(b)s",
    "%(KEY)s",
    "%(__name__)s",
    "%(known/a)s",
    "%(default/b)s",
    "%(s/a)s",
    "%(t/key)s",
    "%(zz)s",
    "%(a",
    " ; c",
    ";c",
    " # h",
    "#x",
    "é",
    "x]",
    "[",
    "=",
    ":",
];
const KEYS: &[&str] = &["a", "b", "Key", "key", "c_d", "x y", "", "A"];
const HEADERS: &[&str] = &[
    "[s]",
    "[t]",
    "[DEFAULT]",
    "[x y]",
    "[s] trailing",
    "[]",
    "[a]b]",
    "[Init?family=inet6]",
];

fn line(rng: &mut Rng) -> String {
    let pick = |rng: &mut Rng, l: &[&str]| l[(rng.next() % l.len() as u64) as usize].to_string();
    let value =
        |rng: &mut Rng| -> String { (0..rng.next() % 4).map(|_| pick(rng, VALUE)).collect() };
    match rng.next() % 12 {
        0 => pick(rng, HEADERS),
        1 => String::new(),
        2 => format!("{}# comment", if rng.next() % 2 == 0 { "" } else { "  " }),
        3 => format!("{}; comment", if rng.next() % 2 == 0 { "" } else { "\t" }),
        4 | 5 => format!(
            "{}{}",
            if rng.next() % 2 == 0 { "    " } else { "\t" },
            value(rng)
        ),
        6 => value(rng),
        _ => {
            let delim = if rng.next() % 4 == 0 { ":" } else { " = " };
            format!("{}{delim}{}", pick(rng, KEYS), value(rng))
        }
    }
}

fn python_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import fail2ban.client.configparserinc"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok && std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{PYTHON} with fail2ban is required under CI");
    }
    ok
}

fn ours(text: &str) -> serde_json::Value {
    let name: Arc<str> = Arc::from("<string>");
    let Ok(file) = parse_str(text, &name) else {
        return serde_json::Value::Null;
    };
    // a single file as one Python parser holds it (no conditional folding)
    let cfg = Config::from_file(&file);
    let mut secs = Vec::new();
    let mut names = vec!["DEFAULT".to_string()];
    names.extend(cfg.sections().cloned());
    for sec in names {
        let raw = if sec == "DEFAULT" {
            cfg.defaults()
        } else {
            cfg.section(&sec).unwrap()
        };
        let mut opts = Vec::new();
        for (k, o) in raw.iter() {
            let v = cfg.get(&sec, k, &[]).ok();
            opts.push(serde_json::json!([k, o.value, v]));
        }
        secs.push(serde_json::json!([sec, opts]));
    }
    serde_json::Value::Array(secs)
}

#[test]
fn single_files_agree_with_upstream_parser() {
    if !python_available() {
        eprintln!("SKIP: {PYTHON} with fail2ban not available");
        return;
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut texts = Vec::new();
    for _ in 0..1500 {
        let n = 1 + rng.next() % 12;
        let mut t = String::from(if rng.next() % 8 == 0 { "" } else { "[s]\n" });
        for _ in 0..n {
            t.push_str(&line(&mut rng));
            t.push_str(match rng.next() % 10 {
                0 => "\r\n",
                1 => "\r",
                _ => "\n",
            });
        }
        texts.push(t);
    }
    let mut child = Command::new(PYTHON)
        .args(["-c", PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&texts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let parsed_ok = expected.iter().filter(|e| !e.is_null()).count();
    let with_values = expected
        .iter()
        .filter(|e| {
            e.as_array().is_some_and(|s| {
                s.iter()
                    .any(|x| x[1].as_array().is_some_and(|o| !o.is_empty()))
            })
        })
        .count();
    assert!(
        parsed_ok > 300 && parsed_ok < 1400 && with_values > 200,
        "weak inputs: {parsed_ok} {with_values}"
    );
    let mut failures = Vec::new();
    for (text, exp) in texts.iter().zip(&expected) {
        let got = ours(text);
        if &got != exp {
            failures.push(format!("{text:?}\n  python: {exp}\n  ours:   {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}
