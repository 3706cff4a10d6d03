//! Shared test helpers: the python3 oracle, a tiny deterministic RNG, random
//! `Value` generation and a JSON transport of values to python.
#![allow(dead_code)]

use f2b_protocol::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// The python interpreter Debian's fail2ban runs under (`F2B_PYTHON` overrides).
pub fn python3() -> String {
    std::env::var("F2B_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// True when python3 with the fail2ban package is importable. Under `CI=true` a
/// missing oracle panics (tests must fail, not skip, in CI).
pub fn oracle() -> bool {
    let ok = Command::new(python3())
        .args(["-c", "import fail2ban"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let ci = std::env::var("CI")
            .map(|v| v == "true" || v == "1")
            .unwrap_or(false);
        if ci {
            panic!("oracle python3 + fail2ban module is missing under CI");
        }
        eprintln!("SKIP: python3 with the fail2ban module is not available");
    }
    ok
}

/// Runs `python3 -c script` with `input` on stdin, returns stdout (panics on failure).
pub fn python(script: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(python3())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("python3 output");
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Python source of `dec(j)`: rebuilds a value from [`to_json`]'s encoding.
pub const PY_DECODE: &str = r#"
import json, base64, fail2ban.exceptions, builtins, importlib
def dec(j):
    t, v = j['t'], j.get('v')
    if t == 'none': return None
    if t in ('bool', 'str'): return v
    if t == 'int': return int(v)
    if t == 'float': return float(v)
    if t == 'bytes': return base64.b64decode(v)
    if t == 'bytearray': return bytearray(base64.b64decode(v))
    if t == 'list': return [dec(x) for x in v]
    if t == 'tuple': return tuple(dec(x) for x in v)
    if t == 'set': return set(dec(x) for x in v)
    if t == 'frozenset': return frozenset(dec(x) for x in v)
    if t == 'dict': return {dec(k): dec(x) for k, x in v}
    if t == 'exc':
        cls = getattr(importlib.import_module(j['m']), j['c'])
        return cls(*[dec(x) for x in v])
    raise ValueError(t)
"#;

fn b64(b: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Encodes a value as tagged JSON for [`PY_DECODE`].
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::json;
    let seq = |t: &str, items: &[Value]| json!({"t": t, "v": items.iter().map(to_json).collect::<Vec<_>>()});
    match v {
        Value::None => json!({"t": "none"}),
        Value::Bool(b) => json!({"t": "bool", "v": b}),
        Value::Int(i) => json!({"t": "int", "v": i.to_string()}),
        Value::BigInt(s) => json!({"t": "int", "v": s}),
        Value::Float(f) => json!({"t": "float", "v": format!("{f:e}")}),
        Value::Str(s) => json!({"t": "str", "v": s}),
        Value::Bytes(b) => json!({"t": "bytes", "v": b64(b)}),
        Value::ByteArray(b) => json!({"t": "bytearray", "v": b64(b)}),
        Value::List(x) => seq("list", x),
        Value::Tuple(x) => seq("tuple", x),
        Value::Set(x) => seq("set", x),
        Value::FrozenSet(x) => seq("frozenset", x),
        Value::Dict(d) => {
            json!({"t": "dict", "v": d.iter().map(|(k, x)| json!([to_json(k), to_json(x)])).collect::<Vec<_>>()})
        }
        Value::Exception {
            module,
            class,
            args,
        } => {
            json!({"t": "exc", "m": module, "c": class, "v": args.iter().map(to_json).collect::<Vec<_>>()})
        }
    }
}

/// A small xorshift RNG (deterministic per seed).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const CHARS: &[char] = &[
    'a',
    'b',
    'z',
    'A',
    '0',
    '9',
    ' ',
    ' ',
    ' ',
    '\'',
    '"',
    '\\',
    '\n',
    '\r',
    '\t',
    '\x00',
    '\x1b',
    '\x7f',
    '\x1c',
    '\x0b',
    '\u{85}',
    '\u{a0}',
    'é',
    'ß',
    '中',
    '\u{200b}',
    '\u{2028}',
    '\u{3000}',
    '😀',
    '\u{e0001}',
    '\u{ffff}',
    '\u{10ffff}',
    '<',
    '>',
    '(',
    ')',
    '.',
    '*',
    '?',
    '|',
    '^',
    '$',
];

pub fn random_string(r: &mut Rng) -> String {
    let len = match r.below(4) {
        0 => r.below(4),
        1 => r.below(20),
        2 => r.below(120),
        _ => r.below(400),
    };
    let mut s = String::new();
    for _ in 0..len {
        if r.below(3) == 0 {
            s.push(*r.pick(CHARS));
        } else {
            s.push((b'a' + r.below(26) as u8) as char);
            if r.below(6) == 0 {
                s.push(' ');
            }
        }
    }
    s
}

pub fn random_float(r: &mut Rng) -> f64 {
    match r.below(5) {
        0 => r.below(100_000) as f64,
        1 => r.below(1000) as f64 / 7.0,
        2 => f64::from_bits(r.next()),
        3 => (r.below(2000) as f64 - 1000.0) * 10f64.powi(r.below(40) as i32 - 20),
        _ => -(r.below(100) as f64) / 1e6,
    }
}

/// A random nested value (no sets: their repr order is hash-dependent in Python).
pub fn random_value(r: &mut Rng, depth: u32) -> Value {
    let k = if depth == 0 { r.below(6) } else { r.below(10) };
    match k {
        0 => Value::Str(random_string(r)),
        1 => Value::Int(match r.below(3) {
            0 => r.below(100) as i64,
            1 => r.next() as i64,
            _ => -(r.below(100_000) as i64),
        }),
        2 => {
            let f = random_float(r);
            Value::Float(if f.is_nan() { 0.5 } else { f })
        }
        3 => r
            .pick(&[Value::None, Value::Bool(true), Value::Bool(false)])
            .clone(),
        4 => Value::Bytes(
            (0..r.below(40))
                .map(|_| *r.pick(b"ab 'x\"\\\n\x00\xff\x7f"))
                .collect(),
        ),
        5 => Value::Str(random_string(r)),
        6 | 7 => {
            let items: Vec<Value> = (0..r.below(6))
                .map(|_| random_value(r, depth - 1))
                .collect();
            if k == 6 {
                Value::List(items)
            } else {
                Value::Tuple(items)
            }
        }
        _ => {
            let n = r.below(5);
            let strkeys = r.below(3) != 0;
            let mut d: Vec<(Value, Value)> = Vec::new();
            for _ in 0..n {
                let key = if strkeys {
                    Value::Str(random_string(r).chars().take(12).collect())
                } else {
                    Value::Int(r.below(1000) as i64 - 500)
                };
                if d.iter().any(|(k2, _)| *k2 == key) {
                    continue;
                }
                d.push((key, random_value(r, depth - 1)));
            }
            Value::Dict(d)
        }
    }
}

/// Python source of `enc(v)`: the inverse of [`PY_DECODE`]'s `dec` for plain data.
pub const PY_ENCODE: &str = r#"
import base64
def enc(v):
    if v is None: return {'t': 'none'}
    if isinstance(v, bool): return {'t': 'bool', 'v': v}
    if isinstance(v, int): return {'t': 'int', 'v': str(v)}
    if isinstance(v, float): return {'t': 'float', 'v': repr(v)}
    if isinstance(v, str): return {'t': 'str', 'v': v}
    if isinstance(v, bytes): return {'t': 'bytes', 'v': base64.b64encode(v).decode()}
    if isinstance(v, list): return {'t': 'list', 'v': [enc(x) for x in v]}
    if isinstance(v, tuple): return {'t': 'tuple', 'v': [enc(x) for x in v]}
    if isinstance(v, dict): return {'t': 'dict', 'v': [[enc(k), enc(x)] for k, x in v.items()]}
    raise ValueError(type(v))
"#;

/// Rebuilds a value from [`PY_ENCODE`]'s tagged JSON.
pub fn from_json(j: &serde_json::Value) -> Value {
    let items = |j: &serde_json::Value| -> Vec<Value> {
        j["v"]
            .as_array()
            .map(|a| a.iter().map(from_json).collect())
            .unwrap_or_default()
    };
    match j["t"].as_str().unwrap_or("") {
        "none" => Value::None,
        "bool" => Value::Bool(j["v"].as_bool().unwrap_or(false)),
        "int" => {
            let s = j["v"].as_str().unwrap_or("0");
            s.parse()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::BigInt(s.to_string()))
        }
        "float" => Value::Float(j["v"].as_str().unwrap_or("0").parse().unwrap_or(f64::NAN)),
        "str" => Value::Str(j["v"].as_str().unwrap_or("").to_string()),
        "list" => Value::List(items(j)),
        "tuple" => Value::Tuple(items(j)),
        "dict" => Value::Dict(
            j["v"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|kv| (from_json(&kv[0]), from_json(&kv[1])))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        other => panic!("unexpected tag {other}"),
    }
}
