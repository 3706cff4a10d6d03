//! Expansion of fail2ban's regex tags (`failregex.py Regex._resolveHostTag`):
//! `<HOST>`, `<ADDR>`, `<IP4>`, `<IP6>`, `<DNS>`, `<CIDR>`, `<SUBNET>`, `<F-ID/>`,
//! `<F-PORT/>`, `<F-NAME>…</F-NAME>` and `<SKIPLINES>`; and the rewrite of global
//! flags in groups (`((?i)x)` → `(?i:x)`).

use std::collections::HashSet;

const IP4: &str = r"(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})";
const IP6: &str = r"(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))";
const DNS: &str = r"(?P<dns>[\w\-.^_]*\w)";
const CIDR: &str = r"(?P<cidr>\d+)";

fn addr() -> String {
    format!(r"\[?(?:{IP4}|{IP6})\]?")
}

fn host() -> String {
    format!(r"(?:{}|{DNS})", addr())
}

fn subnet() -> String {
    format!(r"\[?(?:{IP4}|{IP6})(?:/{CIDR})?\]?")
}

/// Static tag table (`RH4TAG`).
fn static_tag(tn: &str) -> Option<String> {
    Some(match tn {
        "IP4" | "F-IP4/" => IP4.to_string(),
        "IP6" | "F-IP6/" => IP6.to_string(),
        "ADDR" | "F-ADDR/" => addr(),
        "CIDR" | "F-CIDR/" => CIDR.to_string(),
        "SUBNET" | "F-SUBNET/" => subnet(),
        "DNS" | "F-DNS/" => DNS.to_string(),
        "F-ID/" => r"(?P<fid>\S+)".to_string(),
        "F-PORT/" => r"(?P<fport>\w+)".to_string(),
        _ => return None,
    })
}

/// `mapTag2Opt`: lower-case, `id` → `fid`, `port` → `fport`.
pub fn map_tag_to_opt(tag: &str) -> String {
    let t = tag.to_lowercase();
    match t.as_str() {
        "id" => "fid".into(),
        "port" => "fport".into(),
        _ => t,
    }
}

/// `FTAG_CRE = </?[\w\-]+/?>`: length of a tag starting at `s[0] == '<'`.
fn tag_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let start = if b.get(1) == Some(&b'/') { 2 } else { 1 };
    let word_end = s[start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map(|o| start + o)?;
    if word_end == start {
        return None;
    }
    let j = if b.get(word_end) == Some(&b'/') {
        word_end + 1
    } else {
        word_end
    };
    (b.get(j) == Some(&b'>')).then_some(j + 1)
}

/// `Regex._resolveHostTag(regex, useDns)`.
pub fn resolve_host_tag(regex: &str, use_dns: &str) -> String {
    let mut out = String::with_capacity(regex.len() * 2);
    let mut open: HashSet<String> = HashSet::new();
    let mut nl = 0;
    let mut rest = regex;
    while let Some(p) = rest.find('<') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let Some(len) = tag_len(rest) else {
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[..len];
        rest = &rest[len..];
        let tn = &tag[1..tag.len() - 1];
        if tn == "HOST" {
            out.push_str(&if use_dns != "no" { host() } else { addr() });
            continue;
        }
        if tn == "SKIPLINES" {
            out.push_str(&format!(r"\n(?P<skiplines{nl}>(?:(?:.*\n)*?))"));
            nl += 1;
            continue;
        }
        if let Some(r) = static_tag(tn) {
            out.push_str(&r);
            continue;
        }
        // FCUSTNAME_CRE = ^(/?)F-([A-Z0-9_\-]+)$
        let (close, name) = match tn.strip_prefix('/') {
            Some(n) => (true, n),
            None => (false, tn),
        };
        if let Some(name) = name.strip_prefix("F-").filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
        }) {
            if close {
                if open.contains(name) {
                    out.push(')');
                } else {
                    out.push_str(tag);
                }
            } else {
                open.insert(name.to_string());
                out.push_str(&format!("(?P<{}>", map_tag_to_opt(name)));
            }
            continue;
        }
        out.push_str(tag);
    }
    out.push_str(rest);
    out
}

/// `R_GLOB2LOCFLAGS`: `(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)` → `\1:`.
pub fn glob_to_local_flags(regex: &str) -> String {
    let b = regex.as_bytes();
    let mut out = String::with_capacity(regex.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'(' && (i == 0 || b[i - 1] != b'\\') {
            let mut j = i + 1;
            if b[j..].starts_with(b"?:") {
                j += 2;
            }
            if b[j..].starts_with(b"(?") {
                let k0 = j + 2;
                let mut k = k0;
                while k < b.len() && b[k].is_ascii_lowercase() {
                    k += 1;
                }
                if k > k0 && b.get(k) == Some(&b')') {
                    out.push_str(&regex[last..i]);
                    out.push_str(&regex[j..k]);
                    out.push(':');
                    i = k + 1;
                    last = i;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&regex[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let cases: &[(&str, &str, &str)] = &[
            ("<F-USER>.*</F-USER>", "yes", "(?P<user>.*)"),
            ("</F-USER>x", "yes", "</F-USER>x"),
            ("<F-ID>\\S+</F-ID>", "yes", "(?P<fid>\\S+)"),
            ("<F-ID/>", "yes", "(?P<fid>\\S+)"),
            ("<unknown> <F-x>", "yes", "<unknown> <F-x>"),
            ("a<SKIPLINES>b<SKIPLINES>", "yes",
             "a\\n(?P<skiplines0>(?:(?:.*\\n)*?))b\\n(?P<skiplines1>(?:(?:.*\\n)*?))"),
            ("<HOST>", "no", "\\[?(?:(?:::f{4,6}:)?(?P<ip4>(?:\\d{1,3}\\.){3}\\d{1,3})|(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)))\\]?"),
            ("x <", "yes", "x <"),
        ];
        for (i, u, want) in cases {
            assert_eq!(resolve_host_tag(i, u), *want, "{i}");
        }
        assert!(resolve_host_tag("<HOST>", "yes").ends_with(r"|(?P<dns>[\w\-.^_]*\w))"));
    }

    #[test]
    fn glob_flags() {
        assert_eq!(glob_to_local_flags("((?i)abc)"), "(?i:abc)");
        assert_eq!(glob_to_local_flags("(?:(?i)abc)"), "(?i:abc)");
        assert_eq!(glob_to_local_flags("\\((?i)abc)"), "\\((?i)abc)");
        assert_eq!(glob_to_local_flags("(?i)abc"), "(?i)abc");
    }
}
