//! Ports of the small helpers in upstream's `helpers.py` that shape configuration:
//! the option-spec grammar (`extractOptions`, `splitWithOptions`), `splitwords`,
//! `_as_bool`, Python `int()` and `json.dumps` for string maps.

use std::sync::OnceLock;

use f2b_ini::{py, OMap};
use fancy_regex::Regex;

/// `OPTION_EXTRACT_CRE` (Python `$` written as `(?=\n?\z)`).
fn extract_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?s)\s*([\w\-_\.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|(?=\n?\z)|(?P<wrngA>.+))|,?\s*(?=\n?\z)|(?P<wrngB>.+)"#,
        )
        .expect("valid regex")
    })
}

/// `OPTION_SPLIT_CRE`.
fn split_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?s)(?:[^\[\s]+(?:\s*\[\s*(?:[\w\-_\.]+=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|\n?\z)"#,
        )
        .expect("valid regex")
    })
}

fn char_index(s: &str, byte: usize) -> usize {
    s[..byte].chars().count()
}

fn first_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `extractOptions("name[k=v, k2=\"v,w\"]")` → `("name", {k: v, k2: "v,w"})`.
/// The error text is upstream's `ValueError` message.
pub fn extract_options(option: &str) -> Result<(String, OMap<String>), String> {
    // ^([^\[]+)(?:\[(.*)\])?\s*$
    let (name, optstr) = match option.find('[') {
        None => (option, None),
        Some(0) => return Err("unexpected option syntax".into()),
        Some(i) => match py::rstrip(&option[i..]).strip_suffix(']') {
            Some(r) => (&option[..i], Some(&r[1..])),
            None => return Err("unexpected option syntax".into()),
        },
    };
    if name.is_empty() {
        return Err("unexpected option syntax".into());
    }
    let mut opts = OMap::new();
    if let Some(optstr) = optstr.filter(|s| !s.is_empty()) {
        for caps in extract_re().captures_iter(optstr) {
            let caps = caps.map_err(|e| format!("regex error: {e}"))?;
            if let Some(w) = caps.name("wrngA") {
                let key = caps.get(1).map(|m| m.as_str()).unwrap_or("");
                return Err(format!(
                    "unexpected syntax at {} after option {}: {}",
                    char_index(optstr, w.start()),
                    f2b_protocol::value::repr_str(key),
                    first_chars(w.as_str(), 25)
                ));
            }
            if let Some(w) = caps.name("wrngB") {
                return Err(format!(
                    "expected option, wrong syntax at {}: {}",
                    char_index(optstr, w.start()),
                    first_chars(w.as_str(), 25)
                ));
            }
            let Some(key) = caps.get(1) else { continue };
            let val = caps
                .get(2)
                .or(caps.get(3))
                .or(caps.get(4))
                .map(|m| m.as_str())
                .unwrap_or("");
            opts.insert(
                py::strip(key.as_str()).to_string(),
                py::strip(val).to_string(),
            );
        }
    }
    Ok((name.to_string(), opts))
}

/// `splitWithOptions`: splits an `action` value into entries, keeping bracketed
/// argument lists (which may span lines) with their name.
pub fn split_with_options(option: &str) -> Vec<String> {
    split_re()
        .find_iter(option)
        .filter_map(|m| m.ok())
        .map(|m| m.as_str().to_string())
        .collect()
}

/// `splitwords`: split on commas, spaces and newlines, dropping empty words.
pub fn splitwords(s: &str) -> Vec<String> {
    s.split([' ', ',', '\n'])
        .map(py::strip)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `_as_bool` for strings: `1`, `on`, `true`, `yes` (any case).
pub fn as_bool(s: &str) -> bool {
    matches!(py::lower(s).as_str(), "1" | "on" | "true" | "yes")
}

/// Python `int(str)`: optional sign, decimal digits (single `_` between digits),
/// surrounding whitespace allowed.
pub fn py_int(s: &str) -> Option<i64> {
    let t = py::strip(s);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut v: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(10)? as i64;
        v = v.checked_mul(10)?.checked_add(d)?;
    }
    Some(if neg { -v } else { v })
}

/// `json.dumps` of a string→string dict with Python's default settings.
pub fn json_dumps_str_map(m: &OMap<String>) -> String {
    fn esc(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for u in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{:04x}", u));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("{");
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        esc(&mut out, k);
        out.push_str(": ");
        esc(&mut out, v);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_cases() {
        let (n, o) =
            extract_options("iptables[name=SSH, port=\"ssh,smtp\", protocol='tcp']").unwrap();
        assert_eq!(n, "iptables");
        let v: Vec<_> = o.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(v, ["name=SSH", "port=ssh,smtp", "protocol=tcp"]);
        let (n, o) = extract_options("a[x=1][y=2]").unwrap();
        assert_eq!((n.as_str(), o.len()), ("a", 2));
        assert_eq!(extract_options("sshd").unwrap().1.len(), 0);
        assert!(extract_options("a[b=c]d]")
            .unwrap_err()
            .starts_with("unexpected syntax at 3 after option 'b'"));
        assert!(extract_options("a[=c]")
            .unwrap_err()
            .starts_with("expected option, wrong syntax at 0"));
        assert_eq!(
            extract_options("a[b").unwrap_err(),
            "unexpected option syntax"
        );
    }

    #[test]
    fn split_cases() {
        let v = split_with_options("a[x=1,\n y=\"2 3\"]\nb c[p=q]  ");
        let v: Vec<_> = v.iter().map(|s| s.trim().to_string()).collect();
        assert_eq!(v, ["a[x=1,\n y=\"2 3\"]", "b", "c[p=q]"]);
    }

    #[test]
    fn ints_and_json() {
        assert_eq!(py_int(" 1_0 "), Some(10));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("-3"), Some(-3));
        let mut m = OMap::new();
        m.insert("a".into(), "é\"".into());
        assert_eq!(json_dumps_str_map(&m), r#"{"a": "\u00e9\""}"#);
    }
}
