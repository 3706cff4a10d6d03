//! One filter regex (`failregex.py Regex`/`FailRegex`): tag expansion,
//! compilation, search over a buffer of (before-date, date, after-date) lines,
//! the split of the buffer into matched and unmatched lines (`<SKIPLINES>`
//! lines go back to the unmatched ones) and the group dictionary with `alt_*`
//! merging.

use std::borrow::Cow;
use std::sync::Arc;

use crate::pyre::{Caps, Overflow, PyRegex};
use crate::tags;

/// One log line split around its date: (before, date, after).
pub type TupleLine = (String, String, String);

/// The line text of a tuple line without its date (`"".join(v[::2])`).
pub fn stripped(t: &TupleLine) -> String {
    let mut s = String::with_capacity(t.0.len() + t.2.len());
    s.push_str(&t.0);
    s.push_str(&t.2);
    s
}

/// The whole line (`"".join(v)`).
pub fn joined(t: &TupleLine) -> String {
    let mut s = String::with_capacity(t.0.len() + t.1.len() + t.2.len());
    s.push_str(&t.0);
    s.push_str(&t.1);
    s.push_str(&t.2);
    s
}

/// `Regex._tupleLinesBuf`: date-stripped lines joined by `\n`, plus `\n`.
pub fn tuple_lines_buf(lines: &[TupleLine]) -> String {
    let len: usize = lines.iter().map(|t| t.0.len() + t.2.len() + 1).sum();
    let mut s = String::with_capacity(len.max(1));
    for (i, t) in lines.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(&t.0);
        s.push_str(&t.2);
    }
    s.push('\n');
    s
}

/// Group values of a match in group order (Python's `groupdict()`), possibly
/// extended by merged `alt_*` values.
/// Names are shared (`Arc<str>`): a dictionary is built for every match.
pub type Groups = Vec<(Arc<str>, Option<String>)>;

/// A compiled filter regex.
#[derive(Debug, Clone)]
pub struct FRegex {
    /// The regex after tag expansion (`getRegex()`, as fail2ban-regex prints it).
    pub expanded: String,
    /// The regex as configured (tags unexpanded).
    pub original: String,
    pub(crate) re: PyRegex,
    /// Group names by index, shared by every [`Groups`] built.
    names: Vec<Option<Arc<str>>>,
    alt: Vec<(usize, Arc<str>)>,
    skip: Vec<usize>,
}

/// A successful search over the lines `'o` (borrowed for a one-line buffer:
/// most searches, and their lines need no copy).
#[derive(Debug, Clone)]
pub struct Hit<'o> {
    /// Group spans in the searched buffer.
    pub caps: Caps,
    /// Lines of the buffer covered by the match (without `<SKIPLINES>` lines).
    pub matched: Cow<'o, [TupleLine]>,
    /// The other lines.
    pub unmatched: Cow<'o, [TupleLine]>,
}

impl FRegex {
    /// `Regex(regex, multiline, useDns)`.
    pub fn new(
        regex: &str,
        multiline: bool,
        use_dns: &str,
        limit: usize,
    ) -> Result<FRegex, String> {
        let expanded = tags::resolve_host_tag(regex, use_dns);
        if expanded.trim_start().is_empty() {
            return Err("Cannot add empty regex".into());
        }
        let expanded = tags::glob_to_local_flags(&expanded);
        let re = PyRegex::with_limit(&expanded, multiline, limit)
            .map_err(|e| format!("Unable to compile regular expression '{expanded}':\n{e}"))?;
        let mut alt: Vec<(String, usize, String)> = Vec::new();
        let mut skip = Vec::new();
        for (i, n) in re.group_names().iter().enumerate() {
            let Some(n) = n else { continue };
            if n.len() > 4 {
                if let Some(rest) = n.strip_prefix("alt_") {
                    alt.push((n.clone(), i, tags::map_tag_to_opt(strip_num_suffix(rest))));
                }
            }
        }
        let mut k = 0;
        while let Some(i) = re.group_index(&format!("skiplines{k}")) {
            skip.push(i);
            k += 1;
        }
        alt.sort();
        Ok(FRegex {
            original: regex.to_string(),
            expanded,
            names: re
                .group_names()
                .iter()
                .map(|n| n.as_deref().map(Arc::from))
                .collect(),
            re,
            alt: alt.into_iter().map(|(_, i, n)| (i, Arc::from(n))).collect(),
            skip,
        })
    }

    /// True when the regex (or its superset pre-check) has an automaton for
    /// ASCII text ([`FRegex::ascii_superset_match`] answers).
    pub(crate) fn has_ascii(&self) -> bool {
        self.re.ascii_superset_match(b"").is_some()
    }

    /// Does the [`FRegex::superset_pattern`] match ASCII `hay` (`None`: no
    /// ASCII automaton).
    pub(crate) fn ascii_superset_match(&self, hay: &[u8]) -> Option<bool> {
        self.re.ascii_superset_match(hay)
    }

    /// True if the regex has a group of that name.
    pub fn has_group(&self, name: &str) -> bool {
        self.re.has_group(name)
    }

    /// A linear-engine pattern matching a superset of this regex.
    pub fn superset_pattern(&self) -> Option<&str> {
        self.re.superset_pattern()
    }

    /// True when the regex runs on the linear-time engine.
    pub fn is_linear(&self) -> bool {
        self.re.is_linear()
    }

    /// `search(buf)` when only the groups matter (no line split).
    pub fn search_caps(&self, buf: &str) -> Result<Option<Caps>, Overflow> {
        self.re.search(buf)
    }

    /// [`FRegex::search_caps`] when a match is likely (see [`PyRegex::search_known`]).
    pub fn search_caps_known(
        &self,
        buf: &str,
        tail_end: Option<usize>,
    ) -> Result<Option<Caps>, Overflow> {
        self.re.search_known(buf, tail_end)
    }

    /// `search(buf, orgLines)`.
    pub fn search<'o>(&self, buf: &str, org: &'o [TupleLine]) -> Result<Option<Hit<'o>>, Overflow> {
        self.search_hinted(buf, org, false)
    }

    /// [`FRegex::search`], with `likely` when a match is likely (see
    /// [`PyRegex::search_known`]).
    pub fn search_hinted<'o>(
        &self,
        buf: &str,
        org: &'o [TupleLine],
        likely: bool,
    ) -> Result<Option<Hit<'o>>, Overflow> {
        let found = if likely {
            self.re.search_known(buf, None)?
        } else {
            self.re.search(buf)?
        };
        let Some(caps) = found else {
            return Ok(None);
        };
        Ok(Some(self.hit(caps, buf, org)))
    }

    /// Where the `content` group (`F-CONTENT`, the last group) of a match
    /// starts, found without the captures engine: `Some(None)` = no match,
    /// `None` = this needs [`FRegex::search_caps`] (see
    /// [`PyRegex::tail_group_start`]).
    pub fn content_start(&self, buf: &str) -> Option<Option<usize>> {
        match self.re.group_names().last() {
            Some(Some(n)) if n == "content" => self.re.tail_group_start(buf),
            _ => None,
        }
    }

    /// The text of the `content` group (`F-CONTENT`) of a match.
    pub fn content<'b>(&self, buf: &'b str, caps: &Caps) -> Option<&'b str> {
        caps.get(buf, self.re.group_index("content")?)
    }

    /// The [`Hit`] of a match `caps` of this regex in `buf`.
    pub fn hit<'o>(&self, caps: Caps, buf: &str, org: &'o [TupleLine]) -> Hit<'o> {
        if org.len() <= 1 {
            return Hit {
                caps,
                matched: Cow::Borrowed(org),
                unmatched: Cow::Borrowed(&[]),
            };
        }
        let (s, e) = (caps.start(), caps.end());
        let b = buf.as_bytes();
        let line_start = b[..(s + 1).min(b.len())]
            .iter()
            .rposition(|&c| c == b'\n')
            .map(|p| p + 1)
            .unwrap_or(0);
        let from = e.saturating_sub(1);
        let line_end = b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map(|p| from + p + 1)
            .unwrap_or(b.len());
        let count = |end: usize| b[..end].iter().filter(|&&c| c == b'\n').count();
        let lc1 = count(line_start).min(org.len());
        let lc2 = count(line_end).min(org.len()).max(lc1);
        let mut matched: Vec<TupleLine> = org[lc1..lc2].to_vec();
        let mut unmatched: Vec<TupleLine> = org[..lc1].to_vec();
        let mut n = 0;
        for skipped in self.skipped_lines(buf, &caps) {
            if let Some(m) = matched[n.min(matched.len())..]
                .iter()
                .position(|t| t.0.len() + t.2.len() == skipped.len() && stripped(t) == skipped)
            {
                unmatched.push(matched.remove(n + m));
                n += m;
            }
        }
        unmatched.extend_from_slice(&org[lc2..]);
        Hit {
            caps,
            matched: Cow::Owned(matched),
            unmatched: Cow::Owned(unmatched),
        }
    }

    fn skipped_lines(&self, buf: &str, caps: &Caps) -> Vec<String> {
        let mut all = String::new();
        for &i in &self.skip {
            if let Some(t) = caps.get(buf, i) {
                all.push_str(t);
            }
        }
        all.lines().map(str::to_string).collect()
    }

    /// `getGroups()`: the group dictionary, with `alt_*` merged.
    pub fn groups(&self, buf: &str, caps: &Caps) -> Groups {
        let mut g: Groups = Vec::with_capacity(self.names.len() + self.alt.len());
        for (i, n) in self.names.iter().enumerate() {
            if let Some(n) = n {
                g.push((Arc::clone(n), caps.get(buf, i).map(str::to_string)));
            }
        }
        for (i, target) in &self.alt {
            let v = caps.get(buf, *i).filter(|v| !v.is_empty());
            if let Some(v) = v {
                match g.iter_mut().find(|(k, _)| k == target) {
                    Some((_, cur)) => {
                        if cur.as_deref().map_or(true, str::is_empty) {
                            *cur = Some(v.to_string());
                        }
                    }
                    None => g.push((target.clone(), Some(v.to_string()))),
                }
            }
        }
        g
    }
}

/// `(.*?)(?:_\d+)?$` on the part after `alt_`.
fn strip_num_suffix(s: &str) -> &str {
    if let Some(p) = s.rfind('_') {
        let tail = &s[p + 1..];
        if !tail.is_empty() && tail.bytes().all(|c| c.is_ascii_digit()) {
            return &s[..p];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(s: &str) -> TupleLine {
        (String::new(), String::new(), s.to_string())
    }

    #[test]
    fn multi_line_split_with_skiplines() {
        let r = FRegex::new(r"^a <HOST>$<SKIPLINES>^c$", true, "no", 1000).unwrap();
        let org = vec![tl("x"), tl("a 192.0.2.1"), tl("b"), tl("c"), tl("d")];
        let buf = tuple_lines_buf(&org);
        let hit = r.search(&buf, &org).unwrap().unwrap();
        let m: Vec<_> = hit.matched.iter().map(|t| t.2.as_str()).collect();
        let u: Vec<_> = hit.unmatched.iter().map(|t| t.2.as_str()).collect();
        assert_eq!(m, ["a 192.0.2.1", "c"]);
        assert_eq!(u, ["x", "b", "d"]);
    }

    #[test]
    fn alt_groups() {
        let r = FRegex::new(
            r"u=<F-USER>\S*</F-USER> r=<F-ALT_USER>\S*</F-ALT_USER> <HOST>",
            false,
            "no",
            1000,
        )
        .unwrap();
        let buf = "u= r=bob 192.0.2.1\n";
        let hit = r.search(buf, &[]).unwrap().unwrap();
        let g = r.groups(buf, &hit.caps);
        let user = g.iter().find(|(k, _)| &**k == "user").unwrap();
        assert_eq!(user.1.as_deref(), Some("bob"));
        assert_eq!(strip_num_suffix("user_1"), "user");
        assert_eq!(strip_num_suffix("user1"), "user1");
    }
}
