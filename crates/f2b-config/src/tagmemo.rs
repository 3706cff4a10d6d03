//! Tag substitution shared between readers of one filter or action file.
//!
//! `getCombined` substitutes `<tag>`s for every jail that uses an action, and the
//! inputs differ between jails only in a few plain values (`name`, `port`,
//! `actname`, ...). Substitution is run once on a *template*: every value without
//! `<` or `>` (a leaf, it cannot take part in forming a tag) is replaced by a
//! sentinel character; the result is then instantiated per jail by putting the leaf
//! values back.
//!
//! Why this gives the same result as substituting the real values: a tag is
//! `<[^ <>]+>`. A leaf holds no `<` or `>`, so a tag can only touch a leaf's text by
//! spanning all of it; with the sentinel in its place the same tag is found with the
//! sentinel inside its name, which aborts the template run (the real substitution is
//! done instead). Without such a tag, every lookup, replacement count and error
//! check sees the same tag names in both runs. The fallback lookups (`addrepl`) are
//! recorded with their answers; a cached template is used only when the reader gets
//! the same answers again.

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
use std::hash::BuildHasher;
use std::rc::Rc;

use f2b_ini::{scan, OMap};

use crate::tags::{substitute_recursive_tags, TagError};

/// First sentinel: leaf `i` is `U+F0000 + i` (plane 15, private use).
const SENTINEL_BASE: u32 = 0xF0000;
/// Lead byte of the UTF-8 encoding of U+C0000..U+FFFFF, sentinels included.
const LEAD: u8 = 0xF3;
/// Plane 15 holds 65534 usable code points.
const MAX_LEAVES: usize = 0xFFFE;

/// Cached templates keyed by the file, the ignored tags and the input template.
#[derive(Debug, Default)]
pub struct TagMemo {
    map: HashMap<Vec<u8>, Rc<Entry>>,
    /// Hashes of the keys seen once (most are never seen again: kept small).
    seen: std::collections::HashSet<u64, foldhash::fast::FixedState>,
    /// Per file: names whose values were seen forming tag names (`<lt_<logtype>>`),
    /// kept as they are in the template (they select which tags exist).
    pinned: HashMap<String, Vec<String>>,
}

#[derive(Debug)]
struct Entry {
    /// Fallback lookups made by the template run: the tag, its answer, and whether
    /// the reader's vars gave the tag.
    asked: Vec<(String, Option<String>, bool)>,
    /// The memo id of the reader that made the template (see `same` below).
    id: Option<u32>,
    /// Substituted values with sentinels, in the order of the input; `None` where
    /// the value stays as it is.
    values: Vec<Option<Tpl>>,
}

/// Why a template run gave up.
enum Abort {
    /// A tag name holds the sentinels of these leaves: pin them and retry.
    Pin(Vec<usize>),
    /// Substitution failed or cannot be templated: substitute the real values.
    Plain,
}

fn push_part(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

fn is_leaf(v: &str) -> bool {
    !scan::contains2(v, b'<', b'>')
}

fn sentinel(i: usize) -> char {
    char::from_u32(SENTINEL_BASE + i as u32).expect("plane 15 code point")
}

/// Leaf indices of the sentinels in `s`.
fn sentinels(s: &str) -> Vec<usize> {
    s.chars()
        .filter(|&c| c as u32 >= SENTINEL_BASE)
        .map(|c| (c as u32 - SENTINEL_BASE) as usize)
        .collect()
}

/// A substituted value as literal text and leaf references.
#[derive(Debug)]
struct Tpl {
    /// The literal parts, concatenated.
    text: String,
    /// (end of the literal part in `text`, leaf after it, if any).
    parts: Vec<(usize, Option<usize>)>,
}

impl Tpl {
    fn new(t: &str) -> Tpl {
        let mut text = String::with_capacity(t.len());
        let mut parts = Vec::new();
        let mut rest = t;
        while let Some(p) = scan::find(rest, LEAD) {
            text.push_str(&rest[..p]);
            let c = rest[p..].chars().next().expect("char boundary");
            parts.push((text.len(), Some((c as u32 - SENTINEL_BASE) as usize)));
            rest = &rest[p + c.len_utf8()..];
        }
        text.push_str(rest);
        parts.push((text.len(), None));
        Tpl { text, parts }
    }

    /// The value with every leaf put back.
    fn instantiate(&self, sub: &[(String, String)]) -> String {
        let leaf = |i: usize| sub.get(i).map_or("", |(_, v)| v.as_str());
        let len = self.text.len()
            + self
                .parts
                .iter()
                .filter_map(|&(_, l)| l.map(|l| leaf(l).len()))
                .sum::<usize>();
        let mut out = String::with_capacity(len);
        let mut from = 0;
        for &(end, l) in &self.parts {
            out.push_str(&self.text[from..end]);
            if let Some(l) = l {
                out.push_str(leaf(l));
            }
            from = end;
        }
        out
    }
}

/// Which values of `sub` become sentinels, and the cache key.
fn plan(
    file: &str,
    sub: &[(String, String)],
    ignore: &[String],
    pinned: &[String],
) -> (Vec<bool>, Vec<u8>) {
    let mut key = Vec::with_capacity(512);
    push_part(&mut key, file);
    for i in ignore {
        push_part(&mut key, i);
    }
    key.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut leaves = Vec::with_capacity(sub.len());
    for (k, v) in sub.iter() {
        push_part(&mut key, k);
        let leaf = is_leaf(v) && !pinned.contains(k);
        if leaf {
            key.extend_from_slice(&u32::MAX.to_le_bytes());
        } else {
            push_part(&mut key, v);
        }
        leaves.push(leaf);
    }
    (leaves, key)
}

/// The memo id of the reader (from [`Memo::vars_id`](crate::memo::Memo::vars_id))
/// and a test whether its vars give a tag: readers of a file with the same id get the
/// same `addrepl` answer for a tag their vars do not give.
pub type SameAnswers<'a> = Option<(u32, &'a dyn Fn(&str) -> bool)>;

/// Replaces the values of `sub` by their substituted form, like
/// [`substitute_recursive_tags`], sharing the work through `memo` (reached through
/// `memo_of`, since `addrepl` needs the same context). With `same`, a template's
/// fallback answers are taken as they are for a reader with the same id.
pub fn substitute_shared<C, E>(
    cx: &mut C,
    memo_of: fn(&mut C) -> &mut TagMemo,
    file: &str,
    sub: &mut Vec<(String, String)>,
    ignore: &[String],
    same: SameAnswers,
    mut addrepl: impl FnMut(&mut C, &str) -> Result<Option<String>, E>,
) -> Result<(), TagError<E>> {
    let cacheable = sub.len() <= MAX_LEAVES
        && sub
            .iter()
            .all(|(k, v)| !scan::contains(k, LEAD) && !scan::contains(v, LEAD));
    if !cacheable {
        return plain(sub, ignore, |t| addrepl(cx, t));
    }
    let entry = loop {
        let memo = memo_of(cx);
        let pinned = memo.pinned.get(file).map_or(&[][..], Vec::as_slice);
        let (leaves, key) = plan(file, sub, ignore, pinned);
        match memo.map.get(&key) {
            Some(e) => {
                let e = e.clone();
                if same_answers(cx, &e, same, &mut addrepl) {
                    break e;
                }
            }
            // most inputs are seen once (a filter of one jail): no template for them
            None => {
                let h = memo.map.hasher().hash_one(&key);
                if memo.seen.insert(h) {
                    return plain(sub, ignore, |t| addrepl(cx, t));
                }
            }
        }
        match template_run(cx, sub, &leaves, ignore, same, &mut addrepl) {
            Ok(e) => {
                let e = Rc::new(e);
                memo_of(cx).map.insert(key, e.clone());
                break e;
            }
            Err(Abort::Pin(idx)) => {
                let names = memo_of(cx).pinned.entry(file.to_string()).or_default();
                for i in idx {
                    let (k, _) = &sub[i];
                    if !names.contains(k) {
                        names.push(k.clone());
                    }
                }
            }
            Err(Abort::Plain) => return plain(sub, ignore, |t| addrepl(cx, t)),
        }
    };
    let out: Vec<(usize, String)> = entry
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.as_ref().map(|t| (i, t.instantiate(sub))))
        .collect();
    for (i, v) in out {
        sub[i].1 = v;
    }
    Ok(())
}

/// [`substitute_recursive_tags`] on a list.
fn plain<E>(
    sub: &mut Vec<(String, String)>,
    ignore: &[String],
    addrepl: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<(), TagError<E>> {
    let mut m: OMap<String> = OMap::with_capacity(sub.len());
    for (k, v) in sub.drain(..) {
        m.insert(k, v);
    }
    let r = substitute_recursive_tags(&mut m, ignore, addrepl);
    sub.extend(m.into_entries());
    r
}

/// True when every recorded fallback lookup gets the same answer now (an error
/// counts as different: the real substitution then reports it).
fn same_answers<C, E>(
    cx: &mut C,
    e: &Entry,
    same: SameAnswers,
    addrepl: &mut impl FnMut(&mut C, &str) -> Result<Option<String>, E>,
) -> bool {
    let same_id = match same {
        Some((id, given)) if e.id == Some(id) => Some(given),
        _ => None,
    };
    e.asked.iter().all(|(t, want, was_given)| {
        if let Some(given) = same_id {
            if !*was_given && !given(t) {
                return true;
            }
        }
        matches!(addrepl(cx, t), Ok(got) if got == *want)
    })
}

/// Substitutes the template of `sub` (the values marked in `leaves` replaced by
/// sentinels).
fn template_run<C, E>(
    cx: &mut C,
    sub: &[(String, String)],
    leaves: &[bool],
    ignore: &[String],
    same: SameAnswers,
    addrepl: &mut impl FnMut(&mut C, &str) -> Result<Option<String>, E>,
) -> Result<Entry, Abort> {
    let mut tpl: OMap<String> = OMap::new();
    for (i, (k, v)) in sub.iter().enumerate() {
        let v = if leaves[i] {
            sentinel(i).to_string()
        } else {
            v.clone()
        };
        tpl.push_unique(k.clone(), v);
    }
    let mut asked = Vec::new();
    let r = substitute_recursive_tags::<Abort>(&mut tpl, ignore, |t| {
        if scan::contains(t, LEAD) {
            return Err(Abort::Pin(sentinels(t)));
        }
        let got = addrepl(cx, t).map_err(|_| Abort::Plain)?;
        if got.as_ref().is_some_and(|g| scan::contains(g, LEAD)) {
            return Err(Abort::Plain);
        }
        let given = match same {
            Some((_, given)) => given(t),
            None => true,
        };
        asked.push((t.to_string(), got.clone(), given));
        Ok(got)
    });
    match r {
        Ok(()) => Ok(Entry {
            asked,
            id: same.map(|(id, _)| id),
            values: tpl
                .iter()
                .zip(sub.iter())
                .enumerate()
                .map(|(i, ((_, t), (_, v)))| {
                    let same = if leaves[i] {
                        t.chars().eq(std::iter::once(sentinel(i)))
                    } else {
                        t == v
                    };
                    (!same).then(|| Tpl::new(t))
                })
                .collect(),
        }),
        Err(TagError::Lookup(a)) => Err(a),
        Err(TagError::Recursive(_)) => Err(Abort::Plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case<'a> = &'a [(&'a str, &'a str)];

    fn omap(pairs: Case) -> OMap<String> {
        let mut m = OMap::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }

    fn fallback(t: &str) -> Result<Option<String>, String> {
        match t {
            "fb" => Ok(Some("F<name>".into())),
            "bad" => Err("lookup failed".into()),
            _ => Ok(None),
        }
    }

    fn plain(pairs: Case) -> Result<Vec<(String, String)>, String> {
        let mut m = omap(pairs);
        substitute_recursive_tags(&mut m, &["ign".to_string()], fallback).map_err(err)?;
        Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn shared(memo: &mut TagMemo, pairs: Case) -> Result<Vec<(String, String)>, String> {
        let mut m: Vec<(String, String)> = omap(pairs).into_entries().collect();
        substitute_shared(
            memo,
            |m| m,
            "f",
            &mut m,
            &["ign".to_string()],
            // the fallback's answers depend on no vars: one id for all
            Some((7, &|_: &str| false)),
            |_, t| fallback(t),
        )
        .map_err(err)?;
        Ok(m)
    }

    fn err(e: TagError<String>) -> String {
        match e {
            TagError::Recursive(m) => m,
            TagError::Lookup(m) => m,
        }
    }

    #[test]
    fn shared_equals_plain_substitution() {
        // groups of inputs differing only in leaf values: the first is substituted
        // plainly, the second builds the template, the others use it
        let groups: &[&[Case]] = &[
            &[
                &[("a", "<name>-<port>"), ("name", "sshd"), ("port", "22")],
                &[("a", "<name>-<port>"), ("name", "smtp"), ("port", "25,465")],
                &[("a", "<name>-<port>"), ("name", "x y"), ("port", "")],
                &[("a", "<name>-<port>"), ("name", "<"), ("port", "1")],
            ],
            &[
                &[("a", "x <fb> <ign> <HOST>"), ("name", "j1")],
                &[("a", "x <fb> <ign> <HOST>"), ("name", "j2")],
                &[("a", "x <fb> <ign> <HOST>"), ("name", "j3")],
            ],
            // a tag formed around a leaf: that leaf is kept in the template
            &[
                &[("a", "<lt_<t>>"), ("t", "file"), ("lt_file", "L")],
                &[("a", "<lt_<t>>"), ("t", "journal"), ("lt_journal", "J")],
                &[("a", "<lt_<t>>"), ("t", "file"), ("lt_file", "M")],
                &[("a", "<lt_<t>>"), ("t", "file"), ("lt_file", "N")],
            ],
            &[
                &[("a", "<x<t>y>"), ("t", "a b"), ("xa by", "no")],
                &[("a", "<x<t>y>"), ("t", "ab"), ("xaby", "yes")],
                &[("a", "<x<t>y>"), ("t", "ab"), ("xaby", "again")],
            ],
            // errors
            &[
                &[("a", "<b>"), ("b", "<a>"), ("n", "1")],
                &[("a", "<b>"), ("b", "<a>"), ("n", "2")],
                &[("a", "<b>"), ("b", "<a>"), ("n", "3")],
            ],
            &[
                &[("a", "<bad>"), ("n", "1")],
                &[("a", "<bad>"), ("n", "2")],
                &[("a", "<bad>"), ("n", "3")],
            ],
            &[&[("a", "<a>"), ("n", "1")], &[("a", "<a>"), ("n", "2")]],
        ];
        let mut memo = TagMemo::default();
        for g in groups {
            for c in g.iter() {
                assert_eq!(shared(&mut memo, c), plain(c), "{c:?}");
            }
        }
        let templates = memo.map.len();
        assert!(templates >= 3, "{templates} templates");
    }

    #[test]
    fn changed_fallback_answers_are_not_reused() {
        let mut memo = TagMemo::default();
        let run = |memo: &mut TagMemo, ans: &str| {
            let mut m: Vec<(String, String)> = omap(&[("a", "<fb>/<name>"), ("name", "n")])
                .into_entries()
                .collect();
            let ans = ans.to_string();
            substitute_shared::<_, ()>(
                memo,
                |m| m,
                "f",
                &mut m,
                &[],
                None,
                |_, _| Ok(Some(ans.clone())),
            )
            .unwrap();
            m[0].1.clone()
        };
        // plain, then template, then the template with another answer
        assert_eq!(run(&mut memo, "one"), "one/n");
        assert_eq!(run(&mut memo, "one"), "one/n");
        assert_eq!(run(&mut memo, "two"), "two/n");
        assert_eq!(run(&mut memo, "one"), "one/n");
    }
}
