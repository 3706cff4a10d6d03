//! Read-time `<tag>` substitution (`helpers.substituteRecursiveTags`): every
//! `<name>` (regex `<([^ <>]+)>`) in a value is replaced by the option `name` or by
//! a fallback lookup; unknown tags stay (`<HOST>`, `<ip>` survive to the server).

use std::borrow::Cow;

use f2b_ini::{scan, OMap};

/// Upstream's `MAX_TAG_REPLACE_COUNT`.
const MAX_TAG_REPLACE_COUNT: u32 = 25;

/// Next tag at or after byte `from`: (start, end, name).
fn find_tag(s: &str, from: usize) -> Option<(usize, usize, &str)> {
    let b = s.as_bytes();
    let mut i = from;
    while let Some(off) = scan::find(&s[i..], b'<') {
        let st = i + off;
        let mut j = st + 1;
        while j < b.len() && !matches!(b[j], b' ' | b'<' | b'>') {
            j += 1;
        }
        if j < b.len() && b[j] == b'>' && j > st + 1 {
            return Some((st, j + 1, &s[st + 1..j]));
        }
        i = st + 1;
    }
    None
}

/// `value.replace("<tag>", repl)` where the first occurrence is known to be at
/// `start` (earlier ones cannot exist: an earlier `<tag>` would have been met, and
/// replaced or skipped for good, before this one).
fn replace_tag(value: &str, start: usize, tag: &str, repl: &str) -> String {
    let mut out = String::with_capacity(value.len() + repl.len());
    out.push_str(&value[..start]);
    out.push_str(repl);
    // text is copied only up to each further occurrence
    let mut copied = start + tag.len() + 2;
    let mut from = copied;
    while let Some(off) = scan::find(&value[from..], b'<') {
        let at = from + off;
        let after = &value[at + 1..];
        if after.starts_with(tag) && after.as_bytes().get(tag.len()) == Some(&b'>') {
            out.push_str(&value[copied..at]);
            out.push_str(repl);
            copied = at + tag.len() + 2;
            from = copied;
        } else {
            from = at + 1;
        }
    }
    out.push_str(&value[copied..]);
    out
}

/// True when the value contains a `<tag>`.
pub fn has_tag(s: &str) -> bool {
    find_tag(s, 0).is_some()
}

/// Substitutes tags in all values of `tags` (in place, in key order, repeated while
/// nested tags appear). `addrepl` is asked for tags that are not keys; it may fail.
/// The error text is upstream's `ValueError` message.
pub fn substitute_recursive_tags<E>(
    tags: &mut OMap<String>,
    ignore: &[String],
    mut addrepl: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<(), TagError<E>> {
    let n = tags.len();
    let ignored = |t: &str| ignore.iter().any(|i| i == t);
    // ignored keys are never substituted: done from the start
    let mut done: Vec<bool> = (0..n)
        .map(|i| tags.get_index(i).is_some_and(|(k, _)| ignored(k)))
        .collect();
    let mut rep_counts: Vec<Option<Vec<(String, u32)>>> = Vec::new();
    let mut rtag = String::new();
    // tags neither a key nor known to `addrepl`: they stay so for this call (keys are
    // fixed, the fallback gives the same answer), and need no lookup again
    let mut missing: Vec<String> = Vec::new();
    loop {
        let mut rep_flag = false;
        for idx in 0..n {
            if done[idx] {
                continue;
            }
            let (tag, orgval) = tags.get_index(idx).expect("index in range");
            if !scan::contains(orgval, b'<') {
                done[idx] = true;
                continue;
            }
            // borrowed until the first replacement
            let mut value: Cow<str> = Cow::Borrowed(orgval.as_str());
            let had = rep_counts.get(idx).is_some_and(Option::is_some);
            let mut rplc = match rep_counts.get_mut(idx) {
                Some(slot) => slot.take().unwrap_or_default(),
                None => Vec::new(),
            };
            let mut m = find_tag(&value, 0).map(|(s, e, n)| {
                rtag.clear();
                rtag.push_str(n);
                (s, e)
            });
            while let Some((start, end)) = m {
                if ignored(&rtag) || missing.contains(&rtag) {
                    m = find_tag(&value, end).map(|(s, e, n)| {
                        rtag.clear();
                        rtag.push_str(n);
                        (s, e)
                    });
                    continue;
                }
                let count = rplc
                    .iter()
                    .find(|(k, _)| *k == rtag)
                    .map(|(_, c)| *c)
                    .unwrap_or(1);
                if rtag == *tag || count > MAX_TAG_REPLACE_COUNT {
                    let mut counts: Vec<_> =
                        rplc.iter().map(|(k, v)| format!("'{k}': {v}")).collect();
                    counts.sort();
                    return Err(TagError::Recursive(format!(
                        "properties contain self referencing definitions and cannot be resolved, \
                         fail tag: {tag}, found: {rtag} in {{{}}}, value: {value}",
                        counts.join(", ")
                    )));
                }
                let repl: Option<Cow<str>> = match tags.get(rtag.as_str()) {
                    Some(v) => Some(Cow::Borrowed(v.as_str())),
                    None => addrepl(&rtag).map_err(TagError::Lookup)?.map(Cow::Owned),
                };
                let Some(repl) = repl else {
                    missing.push(rtag.clone());
                    m = find_tag(&value, end).map(|(s, e, n)| {
                        rtag.clear();
                        rtag.push_str(n);
                        (s, e)
                    });
                    continue;
                };
                value = Cow::Owned(replace_tag(&value, start, &rtag, &repl));
                match rplc.iter_mut().find(|(k, _)| *k == rtag) {
                    Some((_, c)) => *c += 1,
                    None => rplc.push((rtag.clone(), 1)),
                }
                m = find_tag(&value, start).map(|(s, e, n)| {
                    rtag.clear();
                    rtag.push_str(n);
                    (s, e)
                });
            }
            let new = match value {
                Cow::Owned(v) if v != *orgval => Some(v),
                _ => None,
            };
            let changed = new.is_some();
            let still = new.as_deref().is_some_and(has_tag);
            if had || still {
                if rep_counts.len() < n {
                    rep_counts.resize(n, None);
                }
                rep_counts[idx] = Some(rplc);
            }
            // unchanged: every tag left is missing or ignored, and stays so (keys are
            // fixed, the fallback is cached), so later passes cannot change it either
            if !changed || !new.as_deref().is_some_and(|v| scan::contains(v, b'<')) {
                done[idx] = true;
            }
            if let Some(v) = new {
                rep_flag |= still;
                *tags.get_index_mut(idx).expect("index in range") = v;
            }
        }
        if !rep_flag {
            break;
        }
    }
    Ok(())
}

/// Failure of [`substitute_recursive_tags`].
#[derive(Debug)]
pub enum TagError<E> {
    /// Self reference or too many replacements (upstream `ValueError`).
    Recursive(String),
    /// The fallback lookup failed.
    Lookup(E),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let mut m = OMap::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.to_string());
        }
        substitute_recursive_tags::<()>(&mut m, &[], |_| Ok(None)).map_err(|e| match e {
            TagError::Recursive(s) => s,
            TagError::Lookup(()) => "lookup".into(),
        })?;
        Ok(m.iter().map(|(k, v)| format!("{k}={v}")).collect())
    }

    #[test]
    fn substitution() {
        assert_eq!(
            run(&[("a", "3"), ("b", "<a>_3")]).unwrap(),
            ["a=3", "b=3_3"]
        );
        assert_eq!(
            run(&[("x", "<lt_<t>>"), ("t", "file"), ("lt_file", "L")]).unwrap(),
            ["x=L", "t=file", "lt_file=L"]
        );
        assert_eq!(
            run(&[("a", "<HOST> <b>"), ("b", "1")]).unwrap(),
            ["a=<HOST> 1", "b=1"]
        );
        assert!(run(&[("a", "<b>"), ("b", "<a>")]).is_err());
    }
}
