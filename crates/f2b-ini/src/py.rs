//! Python string semantics the ini dialect depends on (`str.isspace`, `strip`,
//! `\w`, `os.path` helpers).

/// Python's `str.isspace` for one character (also what `re`'s `\s` matches).
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `\w` for str patterns (alphanumeric or underscore).
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Python's `str.strip()`.
pub fn strip(s: &str) -> &str {
    rstrip(lstrip(s))
}

/// Python's `str.lstrip()`.
pub fn lstrip(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] < 0x80 && is_space(b[i] as char) {
        i += 1;
    }
    if i < b.len() && b[i] >= 0x80 {
        return s[i..].trim_start_matches(is_space);
    }
    &s[i..]
}

/// Python's `str.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = b.len();
    while i > 0 && b[i - 1] < 0x80 && is_space(b[i - 1] as char) {
        i -= 1;
    }
    if i > 0 && b[i - 1] >= 0x80 {
        return s[..i].trim_end_matches(is_space);
    }
    &s[..i]
}

/// [`lower`] that copies only when something changes.
pub fn lower_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if may_change_case(s.as_bytes()) {
        std::borrow::Cow::Owned(lower(s))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// True when `b` holds an ASCII capital or a non-ASCII byte; 8 bytes at a time.
fn may_change_case(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        if w & HIGH != 0 {
            return true;
        }
        // all bytes < 0x80: the sums stay within their byte; the high bit of a byte
        // is set by the first sum for b >= 'A' and by the second for b > 'Z'
        let ge_a = w + (0x80 - u64::from(b'A')) * ONES;
        let gt_z = w + (0x80 - u64::from(b'Z') - 1) * ONES;
        if ge_a & !gt_z & HIGH != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| c.is_ascii_uppercase() || c >= 0x80)
}

/// Python `str.lower()`.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Concatenation of the parts (cheaper than `format!`).
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `os.path.join(a, b)` for POSIX paths.
pub fn path_join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        return b.to_string();
    }
    let mut out = String::with_capacity(a.len() + b.len() + 1);
    out.push_str(a);
    if !a.ends_with('/') {
        out.push('/');
    }
    out.push_str(b);
    out
}

/// `os.path.dirname(p)` for POSIX paths.
pub fn dirname(p: &str) -> &str {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let head = &p[..i];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/')
    } else {
        head
    }
}

/// `os.path.splitext(p)[0]` for POSIX paths.
pub fn splitext_root(p: &str) -> &str {
    let base_start = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let base = &p[base_start..];
    // leading dots of the base name never start an extension
    let lead = base.len() - base.trim_start_matches('.').len();
    match base[lead..].rfind('.') {
        Some(i) => &p[..base_start + lead + i],
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cow_copies_exactly_when_lower_changes_something() {
        let mut cases: Vec<String> = ["", "abc", "failregex", "known/x", "@[`{", "Z", "é"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // every byte value that can be alone in a str, at every offset of a word
        for c in (0u8..0x80).map(char::from).chain(['é', 'ſ', 'İ']) {
            for at in 0..18 {
                cases.push(format!("{}{c}{}", "a".repeat(at), "b".repeat(17 - at)));
            }
        }
        for s in &cases {
            let cow = lower_cow(s);
            assert_eq!(*cow, s.to_lowercase(), "{s:?}");
            let expect_copy = s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80);
            assert_eq!(
                matches!(cow, std::borrow::Cow::Owned(_)),
                expect_copy,
                "{s:?}"
            );
        }
    }

    #[test]
    fn path_helpers_match_python() {
        for (p, root) in [
            ("a/b.conf", "a/b"),
            ("a.b/c", "a.b/c"),
            (".local", ".local"),
            ("x/..conf", "x/..conf"),
            ("a/b.c.d", "a/b.c"),
        ] {
            assert_eq!(splitext_root(p), root, "{p}");
        }
        for (p, d) in [
            ("/a/b", "/a"),
            ("b", ""),
            ("/b", "/"),
            ("a//b", "a"),
            ("//b", "//"),
        ] {
            assert_eq!(dirname(p), d, "{p}");
        }
        assert_eq!(path_join("/etc", "x"), "/etc/x");
        assert_eq!(path_join("/etc/", "/x"), "/x");
        assert_eq!(path_join("", "x"), "x");
        assert_eq!(strip("\x1c a \t"), "a");
    }
}
