//! Ticket data <-> the `data JSON` column.
//!
//! Upstream stores `json.dumps(data, ensure_ascii=False).encode('utf-8')`, i.e.
//! a BLOB of UTF-8 bytes with Python's `", "` / `": "` separators; we write
//! the same bytes so files stay byte-compatible.  Reading accepts BLOB or
//! TEXT and, like upstream, treats unparsable data as `{}`.

use f2b_jail::pyfmt::py_float_repr;
use f2b_jail::{FailTicket, MatchLine};
use serde_json::{Map, Value};

/// `json.dumps(v, ensure_ascii=False)` byte-for-byte.
pub fn dumps(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v);
    s
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                out.push_str(&match py_float_repr(f).as_str() {
                    "inf" => "Infinity".to_string(),
                    "-inf" => "-Infinity".to_string(),
                    "nan" => "NaN".to_string(),
                    r => r.to_string(),
                });
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write(out, x);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    // runs without a character to escape are copied whole (all escaped ones are ASCII)
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b => {
                out.push_str("\\u00");
                out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The ticket's data dict as upstream builds it: `matches` (trimmed to the
/// last `max_matches`, dropped when 0), `failures`, then captured groups.
pub fn ticket_data(t: &FailTicket, max_matches: usize) -> Value {
    let mut m = Map::new();
    if let Some(ms) = &t.matches {
        if max_matches > 0 {
            let start = ms.len().saturating_sub(max_matches);
            let v: Vec<Value> = ms[start..].iter().map(match_value).collect();
            m.insert("matches".into(), Value::Array(v));
        }
    }
    m.insert("failures".into(), Value::from(t.failures));
    for (k, v) in &t.data {
        if k != "matches" && k != "failures" && !v.is_null() {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

fn match_value(l: &MatchLine) -> Value {
    match l {
        MatchLine::Line(s) => Value::String(s.clone()),
        MatchLine::Split(a, b, c) => Value::Array(vec![
            Value::String(a.clone()),
            Value::String(b.clone()),
            Value::String(c.clone()),
        ]),
    }
}

/// Parses a stored data value (`None` for SQL NULL); bad JSON gives `{}`.
pub fn loads(raw: Option<&[u8]>) -> Option<Map<String, Value>> {
    let raw = raw?;
    let text = String::from_utf8_lossy(raw);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Some(m),
        _ => Some(Map::new()),
    }
}

/// Applies a stored data dict to a ticket (upstream `Ticket(data=...)`):
/// `matches`, `failures` (also the retry count) and the remaining groups.
pub fn apply_data(t: &mut FailTicket, data: Option<Map<String, Value>>) {
    t.matches = Some(Vec::new());
    t.failures = 0;
    let Some(data) = data else {
        t.retry = 0;
        return;
    };
    for (k, v) in data {
        match k.as_str() {
            "matches" => {
                t.matches = match v {
                    Value::Array(a) => Some(a.iter().map(value_match).collect()),
                    Value::Null => t.matches.take(),
                    other => Some(vec![MatchLine::Line(other.to_string())]),
                }
            }
            "failures" => t.failures = v.as_u64().unwrap_or(0) as u32,
            _ if v.is_null() => {}
            _ => {
                t.data.insert(k, v);
            }
        }
    }
    t.retry = t.failures;
}

fn value_match(v: &Value) -> MatchLine {
    match v {
        Value::String(s) => MatchLine::Line(s.clone()),
        Value::Array(p) if p.len() == 3 && p.iter().all(Value::is_string) => MatchLine::Split(
            p[0].as_str().unwrap_or_default().into(),
            p[1].as_str().unwrap_or_default().into(),
            p[2].as_str().unwrap_or_default().into(),
        ),
        Value::Array(p) => MatchLine::Line(
            p.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect(),
        ),
        other => MatchLine::Line(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_dump() {
        let v: Value = serde_json::from_str(
            r#"{"matches": [["", "Nov 25", " x\t\"y\""], "z\u0001ü"], "failures": 5, "f": 1.5, "n": null}"#,
        )
        .unwrap();
        assert_eq!(
            dumps(&v),
            "{\"matches\": [[\"\", \"Nov 25\", \" x\\t\\\"y\\\"\"], \"z\\u0001ü\"], \"failures\": 5, \"f\": 1.5, \"n\": null}"
        );
    }

    #[test]
    fn string_escapes_are_python_json_ones() {
        // json.dumps(s, ensure_ascii=False) for each s, as Python 3 prints them
        for (s, want) in [
            ("plain", r#""plain""#),
            ("", r#""""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("t\tn\nr\r", r#""t\tn\nr\r""#),
            ("\u{8}\u{c}\u{0}\u{1f}\u{7f}", r#""\b\f\u0000\u001f\u{7f}""#),
            ("ünï €\"", r#""ünï €\"""#),
        ] {
            let mut out = String::new();
            write_str(&mut out, s);
            assert_eq!(out, want.replace("\\u{7f}", "\u{7f}"), "{s:?}");
        }
    }
}
