//! Python's text forms that fail2ban's output depends on, byte for byte as
//! CPython 3.11 prints them: `repr()` of `str` (escapes by `str.isprintable()`),
//! of `bytes`, and of `float`. One owner for them: the configuration reader's
//! messages, the wire protocol, fail2ban-regex's report and the server's log
//! all print Python reprs.

#![deny(missing_docs)]

mod printable;

use printable::PRINTABLE;
use std::fmt::Write as _;

/// True when Python's `str.isprintable()` accepts `c` (Unicode 14.0 tables).
/// Python's `str.isprintable()` for one character.
pub fn is_printable(c: char) -> bool {
    let c = c as u32;
    PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `repr()` of a `str`.
pub fn repr_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    repr_str_into(s, &mut out);
    out
}

/// [`repr_str`] appended to `out`.
pub fn repr_str_into(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
}

/// Python's `repr()` of a `bytes` object.
pub fn repr_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 3);
    repr_bytes_into(b, &mut out);
    out
}

/// [`repr_bytes`] appended to `out`.
pub fn repr_bytes_into(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(c as char),
        }
    }
    out.push(quote as char);
}

/// Python's `repr()` of a `float`: the shortest text that reads back, with `.0`
/// for integral values and a two-digit exponent outside `[1e-4, 1e16)`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let ax = x.abs();
    if ax != 0.0 && !(1e-4..1e16).contains(&ax) {
        // Rust `{:e}` gives the shortest mantissa, e.g. `1.5e-5`; Python wants `1.5e-05`.
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_forms() {
        assert_eq!(repr_str("a'b"), "\"a'b\"");
        assert_eq!(repr_str("a\nb\u{85}\u{e9}"), "'a\\nb\\x85\u{e9}'");
        assert_eq!(repr_str("\u{ad}\u{2028}"), "'\\xad\\u2028'");
        assert_eq!(repr_bytes(b"a'\x00"), "b\"a'\\x00\"");
        assert_eq!(float_repr(1124013600.0), "1124013600.0");
        assert_eq!(float_repr(0.5), "0.5");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(1e16), "1e+16");
    }
}
