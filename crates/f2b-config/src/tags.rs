//! Read-time `<tag>` substitution (`helpers.substituteRecursiveTags`): every
//! `<name>` (regex `<([^ <>]+)>`) in a value is replaced by the option `name` or by
//! a fallback lookup; unknown tags stay (`<HOST>`, `<ip>` survive to the server).

use std::collections::{HashMap, HashSet};

use f2b_ini::OMap;

/// Upstream's `MAX_TAG_REPLACE_COUNT`.
const MAX_TAG_REPLACE_COUNT: u32 = 25;

/// Next tag at or after byte `from`: (start, end, name).
fn find_tag(s: &str, from: usize) -> Option<(usize, usize, &str)> {
    let b = s.as_bytes();
    let mut i = from;
    while let Some(off) = s[i..].find('<') {
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

/// True when the value contains a `<tag>`.
pub fn has_tag(s: &str) -> bool {
    find_tag(s, 0).is_some()
}

/// Substitutes tags in all values of `tags` (in place, in key order, repeated while
/// nested tags appear). `addrepl` is asked for tags that are not keys; it may fail.
/// The error text is upstream's `ValueError` message.
pub fn substitute_recursive_tags<E>(
    tags: &mut OMap<String>,
    ignore: &HashSet<String>,
    mut addrepl: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<(), TagError<E>> {
    let keys: Vec<String> = tags.keys().cloned().collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut rep_counts: HashMap<String, HashMap<String, u32>> = HashMap::new();
    loop {
        let mut rep_flag = false;
        for tag in &keys {
            if ignore.contains(tag) || done.contains(tag) {
                continue;
            }
            let orgval = tags.get(tag).cloned().unwrap_or_default();
            let mut value = orgval.clone();
            let had = rep_counts.contains_key(tag);
            let mut rplc = rep_counts.remove(tag).unwrap_or_default();
            let mut m = find_tag(&value, 0).map(|(s, e, n)| (s, e, n.to_string()));
            while let Some((start, end, rtag)) = m {
                if ignore.contains(&rtag) {
                    m = find_tag(&value, end).map(|(s, e, n)| (s, e, n.to_string()));
                    continue;
                }
                if &rtag == tag || *rplc.get(&rtag).unwrap_or(&1) > MAX_TAG_REPLACE_COUNT {
                    let mut counts: Vec<_> =
                        rplc.iter().map(|(k, v)| format!("'{k}': {v}")).collect();
                    counts.sort();
                    return Err(TagError::Recursive(format!(
                        "properties contain self referencing definitions and cannot be resolved, \
                         fail tag: {tag}, found: {rtag} in {{{}}}, value: {value}",
                        counts.join(", ")
                    )));
                }
                let repl = match tags.get(&rtag) {
                    Some(v) => Some(v.clone()),
                    None => addrepl(&rtag).map_err(TagError::Lookup)?,
                };
                let Some(repl) = repl else {
                    m = find_tag(&value, end).map(|(s, e, n)| (s, e, n.to_string()));
                    continue;
                };
                value = value.replace(&format!("<{rtag}>"), &repl);
                *rplc.entry(rtag).or_insert(0) += 1;
                m = find_tag(&value, start).map(|(s, e, n)| (s, e, n.to_string()));
            }
            let changed = orgval != value;
            if had || (changed && has_tag(&value)) {
                rep_counts.insert(tag.clone(), rplc);
            }
            if changed {
                if has_tag(&value) {
                    rep_flag = true;
                }
                if !value.contains('<') {
                    done.insert(tag.clone());
                }
                tags.insert(tag.clone(), value);
            } else if !value.contains('<') {
                done.insert(tag.clone());
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
        substitute_recursive_tags::<()>(&mut m, &HashSet::new(), |_| Ok(None)).map_err(
            |e| match e {
                TagError::Recursive(s) => s,
                TagError::Lookup(()) => "lookup".into(),
            },
        )?;
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
