//! Python's `int()` and `float()` on command arguments, with Python's errors.

use super::RequestError;
use crate::value::{repr_str, Value};

/// Python's `int(v)`, with Python's error for what it refuses.
pub fn py_int(v: &Value) -> Result<i64, RequestError> {
    let literal_err = |shown: String| {
        RequestError::builtin(
            "ValueError",
            format!("invalid literal for int() with base 10: {shown}"),
        )
    };
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Float(f) if f.is_nan() => Err(RequestError::builtin(
            "ValueError",
            "cannot convert float NaN to integer",
        )),
        Value::Float(f) if f.is_infinite() => Err(RequestError::builtin(
            "OverflowError",
            "cannot convert float infinity to integer",
        )),
        Value::Float(f) if f.abs() < 9.2e18 => Ok(f.trunc() as i64),
        Value::Str(s) => parse_int_text(s).ok_or_else(|| literal_err(repr_str(s))),
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(parse_int_text)
            .ok_or_else(|| literal_err(crate::value::repr_bytes(b))),
        Value::BigInt(_) | Value::Float(_) => Err(RequestError::builtin(
            "OverflowError",
            "Python int too large to convert to C long",
        )),
        other => Err(RequestError::builtin(
            "TypeError",
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                other.type_name()
            ),
        )),
    }
}

fn parse_int_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = body.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `float(v)`.
pub fn py_float(v: &Value) -> Result<f64, RequestError> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as i64 as f64),
        Value::Float(f) => Ok(*f),
        Value::BigInt(s) => s.parse().map_err(|_| {
            RequestError::builtin("OverflowError", "int too large to convert to float")
        }),
        Value::Str(s) => {
            let t = s.trim();
            let lower = t.to_ascii_lowercase();
            let special = match lower.trim_start_matches(['+', '-']) {
                "inf" | "infinity" => Some(f64::INFINITY),
                "nan" => Some(f64::NAN),
                _ => None,
            };
            let parsed = match special {
                Some(x) if lower.starts_with('-') => Some(-x),
                Some(x) => Some(x),
                None if underscores_ok(t)
                    && t.chars()
                        .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c)) =>
                {
                    t.replace('_', "").parse().ok()
                }
                None => None,
            };
            parsed.ok_or_else(|| {
                RequestError::builtin(
                    "ValueError",
                    format!("could not convert string to float: {}", repr_str(s)),
                )
            })
        }
        other => Err(RequestError::builtin(
            "TypeError",
            format!(
                "float() argument must be a string or a real number, not '{}'",
                other.type_name()
            ),
        )),
    }
}

/// Python allows `_` in numbers only between two digits.
fn underscores_ok(t: &str) -> bool {
    let b = t.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
    })
}
