//! The Python values that travel over fail2ban's socket, and their Python `repr()`
//! and `str()` renderings (byte for byte as CPython 3.11 prints them).
//!
//! Pretty printing (`pprint.pformat`) is [`Value::pformat`]; this module only
//! knows the flat renderings.

pub use f2b_py::{repr_bytes, repr_str};
use f2b_py::{repr_bytes_into, repr_str_into};
use std::fmt::Write as _;

/// A Python value as carried by fail2ban's pickled commands and replies.
///
/// Only plain data exists here: there is no way to name or call arbitrary Python
/// objects. Exceptions are kept as `(module, class, args)` so that a reply can be
/// re-pickled exactly as upstream's server sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` outside the `i64` range, as decimal digits with an optional leading `-`.
    BigInt(String),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `bytes` object.
    Bytes(Vec<u8>),
    /// A `bytearray` object.
    ByteArray(Vec<u8>),
    /// A `list`.
    List(Vec<Value>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A `set`, in the order its items were decoded.
    Set(Vec<Value>),
    /// A `frozenset`, in the order its items were decoded.
    FrozenSet(Vec<Value>),
    /// An exception instance such as `fail2ban.exceptions.UnknownJailException('x')`.
    Exception {
        /// Python module of the class (`builtins` for built-in exceptions).
        module: String,
        /// Class name, e.g. `ValueError`.
        class: String,
        /// The exception's `args` tuple.
        args: Vec<Value>,
    },
}

impl Value {
    /// A `str` value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A `list` built from anything convertible to values.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// A `tuple` built from anything convertible to values.
    pub fn tuple<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::Tuple(items.into_iter().map(Into::into).collect())
    }

    /// A `dict` built from key/value pairs (insertion order is kept).
    pub fn dict<K: Into<Value>, V: Into<Value>>(items: impl IntoIterator<Item = (K, V)>) -> Value {
        Value::Dict(
            items
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// An exception of a built-in class, e.g. `Value::builtin_exception("ValueError", ..)`.
    pub fn builtin_exception(class: &str, args: Vec<Value>) -> Value {
        Value::Exception {
            module: "builtins".into(),
            class: class.into(),
            args,
        }
    }

    /// The string, when this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is an `int` (or `bool`) fitting in 64 bits.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// The items, when this is a `list` or a `tuple`.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Python's truth value (`bool(x)`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) | Value::ByteArray(b) => !b.is_empty(),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => !v.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Exception { .. } => true,
        }
    }

    /// Python's type name (`type(x).__name__`).
    pub fn type_name(&self) -> &str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Exception { class, .. } => class,
        }
    }

    /// Python's `repr(x)`.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, false);
        out
    }

    /// Python's `str(x)`.
    pub fn str_(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Exception { class, args, .. } if is_os_error(class) && os_error_form(args) => {
                // OSError.__str__: "[Errno n] strerror" (+ ": 'filename'" [+ " -> 'filename2'"]).
                let mut s = format!("[Errno {}] {}", args[0].str_(), args[1].str_());
                if let Some(f) = args.get(2).filter(|f| **f != Value::None) {
                    s.push_str(&format!(": {}", f.repr()));
                    if let Some(f2) = args.get(4).filter(|f| **f != Value::None) {
                        s.push_str(&format!(" -> {}", f2.repr()));
                    }
                }
                s
            }
            Value::Exception { class, args, .. } => match args.len() {
                0 => String::new(),
                // KeyError (and fail2ban's UnknownJailException) show the repr of the key.
                1 if is_key_error(class) => args[0].repr(),
                1 => args[0].str_(),
                _ => Value::Tuple(args.clone()).repr(),
            },
            other => other.repr(),
        }
    }

    /// Writes `repr(self)`; with `sort_dicts` dict items are sorted as pprint does.
    pub(crate) fn write_repr(&self, out: &mut String, sort_dicts: bool) {
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::BigInt(s) => out.push_str(s),
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => repr_str_into(s, out),
            Value::Bytes(b) => repr_bytes_into(b, out),
            Value::ByteArray(b) => {
                out.push_str("bytearray(");
                repr_bytes_into(b, out);
                out.push(')');
            }
            Value::List(v) => write_seq(out, "[", v, "]", sort_dicts),
            Value::Tuple(v) if v.len() == 1 => write_seq(out, "(", v, ",)", sort_dicts),
            Value::Tuple(v) => write_seq(out, "(", v, ")", sort_dicts),
            Value::Dict(items) => {
                out.push('{');
                let order: Vec<usize> = if sort_dicts {
                    sorted_indices(items.len(), |a, b| py_lt(&items[a].0, &items[b].0))
                } else {
                    (0..items.len()).collect()
                };
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    items[i].0.write_repr(out, sort_dicts);
                    out.push_str(": ");
                    items[i].1.write_repr(out, sort_dicts);
                }
                out.push('}');
            }
            Value::Set(v) if v.is_empty() => out.push_str("set()"),
            Value::Set(v) => write_seq(out, "{", v, "}", sort_dicts),
            Value::FrozenSet(v) if v.is_empty() => out.push_str("frozenset()"),
            Value::FrozenSet(v) => write_seq(out, "frozenset({", v, "})", sort_dicts),
            Value::Exception { class, args, .. } => {
                out.push_str(class);
                // OSError keeps only (errno, strerror) in .args; the filename travels
                // as a third reduce argument.
                let args = if is_os_error(class) && args.len() > 2 && os_error_form(args) {
                    &args[..2]
                } else {
                    &args[..]
                };
                if args.len() == 1 {
                    out.push('(');
                    args[0].write_repr(out, sort_dicts);
                    out.push(')');
                } else {
                    write_seq(out, "(", args, ")", sort_dicts);
                }
            }
        }
    }
}

/// The built-in `OSError` family (their `str()` formats errno and strerror).
fn is_os_error(class: &str) -> bool {
    matches!(
        class,
        "OSError"
            | "BlockingIOError"
            | "ChildProcessError"
            | "ConnectionError"
            | "BrokenPipeError"
            | "ConnectionAbortedError"
            | "ConnectionRefusedError"
            | "ConnectionResetError"
            | "FileExistsError"
            | "FileNotFoundError"
            | "InterruptedError"
            | "IsADirectoryError"
            | "NotADirectoryError"
            | "PermissionError"
            | "ProcessLookupError"
            | "TimeoutError"
    )
}

/// `OSError(errno, strerror[, filename[, winerror[, filename2]]])`.
fn os_error_form(args: &[Value]) -> bool {
    (2..=5).contains(&args.len())
}

fn is_key_error(class: &str) -> bool {
    matches!(class, "KeyError" | "UnknownJailException")
}

fn write_seq(out: &mut String, open: &str, items: &[Value], close: &str, sort_dicts: bool) {
    out.push_str(open);
    for (n, v) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        v.write_repr(out, sort_dicts);
    }
    out.push_str(close);
}

/// Python's `repr()` of a `float` (shortest round-trip digits, `r` format rules).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde<exp>".
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1;
    if !(-4 < decpt && decpt <= 16) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let nd = digits.len() as i32;
    let body = if decpt <= 0 {
        format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
    } else if decpt >= nd {
        format!("{}{}.0", digits, "0".repeat((decpt - nd) as usize))
    } else {
        let (a, b) = digits.split_at(decpt as usize);
        format!("{a}.{b}")
    };
    format!("{sign}{body}")
}

/// Python's `<` between two values; `None` where Python raises `TypeError`.
pub(crate) fn py_lt(a: &Value, b: &Value) -> Option<bool> {
    py_cmp(a, b).map(|o| o == std::cmp::Ordering::Less)
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::BigInt(s) => s.parse().ok(),
        _ => None,
    }
}

fn py_cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bytes(x) | ByteArray(x), Bytes(y) | ByteArray(y)) => Some(x.cmp(y)),
        (List(x), List(y)) | (Tuple(x), Tuple(y)) => {
            for (p, q) in x.iter().zip(y) {
                if p != q {
                    return py_cmp(p, q);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Option::None,
        },
    }
}

/// A stable merge sort over indices driven by Python's `<` with pprint's fallback
/// (unorderable pairs compare by type name). Never panics on inconsistent orders.
pub(crate) fn sorted_indices(
    n: usize,
    lt: impl Fn(usize, usize) -> Option<bool> + Copy,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    merge_sort(&mut idx, lt);
    idx
}

fn merge_sort(v: &mut Vec<usize>, lt: impl Fn(usize, usize) -> Option<bool> + Copy) {
    if v.len() <= 1 {
        return;
    }
    let mut right = v.split_off(v.len() / 2);
    merge_sort(v, lt);
    merge_sort(&mut right, lt);
    let left = std::mem::take(v);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        // Take from the right only when it is strictly smaller (stability).
        if lt(right[j], left[i]).unwrap_or(false) {
            v.push(right[j]);
            j += 1;
        } else {
            v.push(left[i]);
            i += 1;
        }
    }
    v.extend_from_slice(&left[i..]);
    v.extend_from_slice(&right[j..]);
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i.into())
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i.into())
    }
}
impl From<usize> for Value {
    fn from(i: usize) -> Value {
        i64::try_from(i).map_or_else(|_| Value::BigInt(i.to_string()), Value::Int)
    }
}
impl From<u64> for Value {
    fn from(i: u64) -> Value {
        i64::try_from(i).map_or_else(|_| Value::BigInt(i.to_string()), Value::Int)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::List(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::None, Into::into)
    }
}

impl std::fmt::Display for Value {
    /// Formats as Python's `str()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.str_())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_forms() {
        for (f, s) in [
            (600.0, "600.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5e300, "1.5e+300"),
            (123.456, "123.456"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(f), s, "{f:e}");
        }
    }

    #[test]
    fn str_quotes() {
        assert_eq!(repr_str("a'b"), "\"a'b\"");
        assert_eq!(repr_str("a'b\""), "'a\\'b\"'");
        assert_eq!(repr_str("é\u{200b}\x1b"), "'é\\u200b\\x1b'");
    }

    #[test]
    fn exceptions() {
        let e = Value::Exception {
            module: "fail2ban.exceptions".into(),
            class: "UnknownJailException".into(),
            args: vec!["x".into()],
        };
        assert_eq!(e.repr(), "UnknownJailException('x')");
        assert_eq!(e.str_(), "'x'");
        let e = Value::builtin_exception("ValueError", vec![]);
        assert_eq!(e.repr(), "ValueError()");
    }
}
