//! Ports of the small helpers in upstream's `helpers.py` that shape configuration:
//! the option-spec grammar (`extractOptions`, `splitWithOptions`), `splitwords`,
//! `_as_bool`, Python `int()` and `json.dumps` for string maps.

use f2b_ini::{py, OMap};

fn is_key_char(c: char) -> bool {
    py::is_word(c) || c == '-' || c == '.'
}

fn first_chars(s: &[char], n: usize) -> String {
    s.iter().take(n).collect()
}

/// `extractOptions("name[k=v, k2=\"v,w\"]")` → `("name", {k: v, k2: "v,w"})`.
/// The error text is upstream's `ValueError` message. A hand-written equivalent of
/// upstream's `OPTION_CRE` / `OPTION_EXTRACT_CRE` (compiling those regexes would
/// cost more than reading a whole configuration).
pub fn extract_options(option: &str) -> Result<(String, OMap<String>), String> {
    // ^([^\[]+)(?:\[(.*)\])?\s*$
    let (name, optstr) = match option.find('[') {
        None => (option, None),
        Some(i) => match py::rstrip(&option[i..]).strip_suffix(']') {
            Some(r) => (&option[..i], Some(&r[1..])),
            None => return Err("unexpected option syntax".into()),
        },
    };
    if name.is_empty() {
        return Err("unexpected option syntax".into());
    }
    let mut opts = OMap::new();
    let Some(optstr) = optstr.filter(|s| !s.is_empty()) else {
        return Ok((name.to_string(), opts));
    };
    let s: Vec<char> = optstr.chars().collect();
    let n = s.len();
    // `$`: at the end, or before a final newline
    let at_end = |i: usize| i == n || (i + 1 == n && s[i] == '\n');
    let mut p = 0;
    while p < n {
        // alternative 1: \s*KEY=VALUE TERMINATOR
        let mut i = p;
        while i < n && py::is_space(s[i]) {
            i += 1;
        }
        let ks = i;
        while i < n && is_key_char(s[i]) {
            i += 1;
        }
        if i > ks && i < n && s[i] == '=' {
            let key: String = s[ks..i].iter().collect();
            let j = i + 1;
            let quoted = |q: char| -> Option<usize> {
                if j < n && s[j] == q {
                    s[j + 1..].iter().position(|&c| c == q).map(|k| j + 1 + k)
                } else {
                    None
                }
            };
            let (val, mut e): (String, usize) = if let Some(q) = quoted('"') {
                (s[j + 1..q].iter().collect(), q + 1)
            } else if let Some(q) = quoted('\'') {
                (s[j + 1..q].iter().collect(), q + 1)
            } else {
                let mut e = j;
                while e < n && s[e] != ',' && s[e] != ']' {
                    e += 1;
                }
                (s[j..e].iter().collect(), e)
            };
            if e < n && s[e] == ',' {
                e += 1;
            } else if e < n && s[e] == ']' && {
                let mut k = e + 1;
                while k < n && py::is_space(s[k]) {
                    k += 1;
                }
                k < n && s[k] == '['
            } {
                e += 1;
                while s[e] != '[' {
                    e += 1;
                }
                e += 1;
            } else if !at_end(e) {
                return Err(format!(
                    "unexpected syntax at {e} after option {}: {}",
                    f2b_protocol::value::repr_str(&key),
                    first_chars(&s[e..], 25)
                ));
            }
            opts.insert(py::strip(&key).to_string(), py::strip(&val).to_string());
            p = e.max(p + 1);
            continue;
        }
        // alternative 2: ,?\s*$
        let mut i = p;
        if s[i] == ',' {
            i += 1;
        }
        while i < n && py::is_space(s[i]) {
            i += 1;
        }
        if i == n {
            break;
        }
        // alternative 3: anything else is an error
        return Err(format!(
            "expected option, wrong syntax at {p}: {}",
            first_chars(&s[p..], 25)
        ));
    }
    Ok((name.to_string(), opts))
}

/// Continuation-passing backtracking matcher for upstream's `OPTION_SPLIT_CRE`.
struct Split<'a> {
    s: &'a [char],
}

impl Split<'_> {
    fn ws_end(&self, mut i: usize) -> usize {
        while i < self.s.len() && py::is_space(self.s[i]) {
            i += 1;
        }
        i
    }

    /// `\s*` (greedy, backtracking) then `k`.
    fn ws_then(&self, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        let w = self.ws_end(i);
        (i..=w).rev().any(k)
    }

    /// `\s*(?:,|\]\s*\[)?\s*` then `k`.
    fn after_value(&self, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        let s = self.s;
        let w = self.ws_end(i);
        for a in (i..=w).rev() {
            if a < s.len() && s[a] == ',' && self.ws_then(a + 1, k) {
                return true;
            }
            if a < s.len() && s[a] == ']' {
                let b = self.ws_end(a + 1);
                if b < s.len() && s[b] == '[' && self.ws_then(b + 1, k) {
                    return true;
                }
            }
            if self.ws_then(a, k) {
                return true;
            }
        }
        false
    }

    /// One `KEY=VALUE\s*SEP?\s*` then `k`.
    fn item(&self, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        let s = self.s;
        let mut j = i;
        while j < s.len() && is_key_char(s[j]) {
            j += 1;
        }
        if j == i || j >= s.len() || s[j] != '=' {
            return false;
        }
        let j = j + 1;
        for q in ['"', '\''] {
            if j < s.len() && s[j] == q {
                if let Some(off) = s[j + 1..].iter().position(|&c| c == q) {
                    if self.after_value(j + 2 + off, k) {
                        return true;
                    }
                }
            }
        }
        let mut m = j;
        while m < s.len() && s[m] != ',' && s[m] != ']' {
            m += 1;
        }
        (j..=m).rev().any(|e| self.after_value(e, k))
    }

    /// `(ITEM)*\]` then `k`.
    fn items(&self, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        if self.item(i, &mut |j| j > i && self.items(j, k)) {
            return true;
        }
        i < self.s.len() && self.s[i] == ']' && k(i + 1)
    }

    /// End of the match at `p`, if any.
    fn match_at(&self, p: usize) -> Option<usize> {
        let s = self.s;
        let n = s.len();
        let lookahead_ok = |e: usize| e == n || py::is_space(s[e]);
        let tail = |e: usize| -> usize {
            // \s* then (?=\s|$): all whitespace, minus one if not at the end
            let w = self.ws_end(e);
            if w == n || w == e {
                w
            } else {
                w - 1
            }
        };
        if !py::is_space(s[p]) && s[p] != '[' {
            let mut a = p;
            while a < n && !py::is_space(s[a]) && s[a] != '[' {
                a += 1;
            }
            // optional bracket group
            let b = self.ws_end(a);
            if b < n && s[b] == '[' {
                let start = self.ws_end(b + 1);
                let mut found = None;
                if self.items(start, &mut |e| {
                    if lookahead_ok(e) {
                        found = Some(e);
                        true
                    } else {
                        false
                    }
                }) {
                    return found.map(tail);
                }
            }
            if lookahead_ok(a) {
                return Some(tail(a));
            }
        }
        if py::is_space(s[p]) {
            return None;
        }
        let mut e = p;
        while e < n && !py::is_space(s[e]) {
            e += 1;
        }
        Some(e)
    }
}

/// `splitWithOptions`: splits an `action` value into entries, keeping bracketed
/// argument lists (which may span lines) with their name.
pub fn split_with_options(option: &str) -> Vec<String> {
    let s: Vec<char> = option.chars().collect();
    let m = Split { s: &s };
    let mut out = Vec::new();
    let mut p = 0;
    while p < s.len() {
        match m.match_at(p) {
            Some(e) if e > p => {
                out.push(s[p..e].iter().collect());
                p = e;
            }
            _ => p += 1,
        }
    }
    out
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
