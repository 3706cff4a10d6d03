//! Differential property test of the option-spec grammar, tag substitution and time
//! abbreviations against upstream's own Python helpers (`fail2ban.helpers`,
//! `MyTime.str2seconds`), on pseudo-random inputs from a fixed seed. Needs `python3`
//! with Debian's fail2ban installed (under `CI=true` its absence is a failure).

use std::io::Write;
use std::process::{Command, Stdio};

use f2b_config::helpers::{extract_options, split_with_options};

/// Debian's interpreter (the one that has the `fail2ban` package).
const PYTHON: &str = "/usr/bin/python3";

const PY: &str = r#"
import json, sys
from fail2ban.helpers import extractOptions, splitWithOptions
from fail2ban.server.mytime import MyTime
out = []
for kind, s in json.load(sys.stdin):
    try:
        if kind == 'extract':
            n, o = extractOptions(s)
            r = ['ok', n, list(o.items())]
        elif kind == 'split':
            r = ['ok', splitWithOptions(s)]
        else:
            v = MyTime.str2seconds(s)
            # eval() may also yield builtins or tuples; only numbers are time values
            r = ['ok', str(v)] if type(v) in (int, float) else ['err']
    except Exception as e:
        r = ['err']
    out.append(r)
json.dump(out, sys.stdout)
"#;

/// xorshift64*: deterministic inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn python_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import fail2ban.helpers"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok && std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("python3 with fail2ban is required under CI");
    }
    ok
}

fn run_python(cases: &[(String, String)]) -> Vec<serde_json::Value> {
    let mut child = Command::new(PYTHON)
        .args(["-c", PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let input =
        serde_json::to_string(&cases.iter().map(|(k, s)| vec![k, s]).collect::<Vec<_>>()).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

fn gen(rng: &mut Rng, atoms: &[&str], max: u64) -> String {
    let len = 1 + rng.next() % max;
    (0..len).map(|_| rng.pick(atoms)).collect()
}

#[test]
fn grammar_and_time_agree_with_upstream_helpers() {
    if !python_available() {
        eprintln!("SKIP: python3 with fail2ban not available");
        return;
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let spec_atoms = [
        "a", "b", "x-y", ".", "_", "=", ",", "[", "]", "\"", "'", " ", "\n", "\t", "k=v", "name=",
        "][", "é", "1",
    ];
    let time_atoms = [
        "1", "2", "0", "10", " ", "d", "h", "m", "s", "w", "mo", "y", "min", "hours", "day", "+",
        "-", "*", "/", "(", ")", ".", "x",
    ];
    let mut cases = Vec::new();
    for _ in 0..1500 {
        let body = gen(&mut rng, &spec_atoms, 14);
        cases.push(("extract".to_string(), format!("act[{body}]")));
        cases.push(("extract".to_string(), format!("act{body}")));
        cases.push(("split".to_string(), body));
    }
    for _ in 0..600 {
        cases.push(("time".to_string(), gen(&mut rng, &time_atoms, 6)));
    }
    let expected = run_python(&cases);
    // the inputs must exercise every outcome, or the comparison proves little
    let count = |kind: &str, pred: &dyn Fn(&serde_json::Value) -> bool| {
        cases
            .iter()
            .zip(&expected)
            .filter(|((k, _), e)| k == kind && pred(e))
            .count()
    };
    let with_opts = count("extract", &|e| {
        e[2].as_array().is_some_and(|a| !a.is_empty())
    });
    let extract_err = count("extract", &|e| e[0] == "err");
    let multi_split = count("split", &|e| e[1].as_array().is_some_and(|a| a.len() > 2));
    let time_ok = count("time", &|e| e[0] == "ok");
    let time_err = count("time", &|e| e[0] == "err");
    assert!(
        with_opts > 50 && extract_err > 50 && multi_split > 100 && time_ok > 50 && time_err > 50,
        "weak inputs: {with_opts} {extract_err} {multi_split} {time_ok} {time_err}"
    );
    let mut failures = Vec::new();
    for ((kind, input), exp) in cases.iter().zip(&expected) {
        let got = match kind.as_str() {
            "extract" => match extract_options(input) {
                Ok((n, o)) => serde_json::json!([
                    "ok",
                    n,
                    o.iter().map(|(k, v)| vec![k, v]).collect::<Vec<_>>()
                ]),
                Err(_) => serde_json::json!(["err"]),
            },
            "split" => serde_json::json!(["ok", split_with_options(input)]),
            _ => match f2b_config::time::str2seconds_num(input) {
                Ok(v) => serde_json::json!(["ok", v.to_string()]),
                Err(_) => serde_json::json!(["err"]),
            },
        };
        if &got != exp {
            failures.push(format!("{kind} {input:?}: python {exp} ours {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}
