//! Python formatting helpers for byte-identical output: `repr()` of strings and
//! dicts, `urllib.parse.quote_plus`, and `shortstr`.

/// Python's `repr(str)`.
pub fn repr_str(s: &str) -> String {
    f2b_py::repr_str(s)
}

/// `repr()` of a dict of optional strings (`None` for absent values).
pub fn repr_dict<K: AsRef<str>>(items: &[(K, Option<String>)]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Some(v) => repr_str(v),
                None => "None".to_string(),
            };
            format!("{}: {}", repr_str(k.as_ref()), v)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// `urllib.parse.quote_plus` of UTF-8 bytes.
pub fn quote_plus(s: &[u8]) -> String {
    let mut out = String::new();
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `shortstr(s, 53)`: at most 50 characters + "...".
pub fn shortstr(s: &str) -> String {
    if s.chars().count() > 53 {
        let t: String = s.chars().take(50).collect();
        format!("{t}...")
    } else {
        s.to_string()
    }
}

/// Python's `repr(float)` for the values we print (times).
pub fn repr_float(f: f64) -> String {
    f2b_py::float_repr(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_forms() {
        assert_eq!(repr_str("a'b"), "\"a'b\"");
        assert_eq!(repr_str("a\nb"), "'a\\nb'");
        assert_eq!(
            repr_dict(&[("mode", Some("aggressive".to_string()))]),
            "{'mode': 'aggressive'}"
        );
        assert_eq!(quote_plus(b"a b/c"), "a+b%2Fc");
        assert_eq!(shortstr(&"x".repeat(54)).len(), 53);
        assert_eq!(repr_float(1124013599.0), "1124013599.0");
    }
}
