//! Backtracking-only patterns run on the linear engine, checked afterwards.
//!
//! A pattern with look-aheads or conditionals (sshd's `Failed …` regex has
//! both) is translated once more with each of them replaced by an empty marker
//! group: a conditional `(?(g)A|B)` becomes `(?:(?P<__gyN>)A|(?P<__gnN>)B)`, a
//! look-ahead `(?!X)` becomes `(?P<__glN>)`, and `(?:(?!X).)*` becomes
//! `(?P<__grN>(?:.)*)`. That pattern accepts every path of the original, in
//! the same priority order (the linear engine's leftmost-first semantics are a
//! backtracker's), plus paths the original refuses. So if its first match
//! passes the checks (the tested group took part exactly when the `y` branch
//! was taken; each look-ahead holds at its marker, or at every character of a
//! repetition) it is the original's first match too: every path before it
//! failed without the checks, so it fails with them. When a check fails, the
//! backtracking engine decides as before. Patterns where a marker would be
//! repeated, a tested group could change after the test, or with look-behinds,
//! back-references or atomic groups are not guarded.

use crate::pyre::{ascii_regex, translate, translate_guarded};
use regex_automata::{meta, util::syntax, Anchored, Input};

/// How a look-ahead body is tested at a position.
#[derive(Debug, Clone)]
enum Test {
    Literal(Vec<u8>),
    Regex(meta::Regex),
}

impl Test {
    fn at(&self, hay: &[u8], p: usize) -> bool {
        match self {
            Test::Literal(l) => hay[p..].starts_with(l),
            Test::Regex(r) => r
                .search(&Input::new(hay).range(p..).anchored(Anchored::Yes))
                .is_some(),
        }
    }
}

#[derive(Debug, Clone)]
struct Look {
    idx: usize,
    neg: bool,
    rep: bool,
    test: Test,
}

/// A guarded linear form of a backtracking pattern (ASCII haystacks).
#[derive(Debug, Clone)]
pub(crate) struct Guarded {
    pub(crate) re: regex::bytes::Regex,
    /// Group index of the original pattern -> index in `re`.
    map: Vec<usize>,
    /// (yes marker, no marker, tested group) indices in `re`.
    conds: Vec<(usize, usize, usize)>,
    looks: Vec<Look>,
}

fn is_marker(n: Option<&str>) -> bool {
    n.and_then(|n| n.strip_prefix("__g")).is_some_and(|r| {
        r.len() > 1
            && matches!(r.as_bytes()[0], b'y' | b'n' | b'l' | b'r')
            && r[1..].bytes().all(|b| b.is_ascii_digit())
    })
}

fn python_literal(body: &str) -> Option<Vec<u8>> {
    let meta = |c: char| "\\.^$*+?{}[]|()".contains(c);
    (body.is_ascii() && !body.chars().any(meta)).then(|| body.as_bytes().to_vec())
}

impl Guarded {
    /// Builds the guarded form of `py`, whose original groups are `names`.
    pub(crate) fn new(py: &str, multiline: bool, names: &[Option<String>]) -> Option<Guarded> {
        let (pat, st) = translate_guarded(py, multiline)?;
        let re = ascii_regex(&pat)?;
        let gnames: Vec<Option<&str>> = re.capture_names().collect();
        let plain: Vec<usize> = (0..gnames.len())
            .filter(|&i| !is_marker(gnames[i]))
            .collect();
        if plain.len() != names.len()
            || plain
                .iter()
                .zip(names)
                .any(|(&i, n)| gnames[i] != n.as_deref())
        {
            return None;
        }
        let idx = |name: String| gnames.iter().position(|n| *n == Some(name.as_str()));
        let mut conds = Vec::new();
        for (n, ordinal) in st.conds {
            conds.push((
                idx(format!("__gy{n}"))?,
                idx(format!("__gn{n}"))?,
                *plain.get(ordinal)?,
            ));
        }
        let mut looks = Vec::new();
        for (n, neg, body, rep) in st.looks {
            let test = match python_literal(&body) {
                Some(l) => Test::Literal(l),
                None => {
                    let (t, fancy) = translate(&body, multiline, false).ok()?;
                    if fancy {
                        return None;
                    }
                    let r = meta::Regex::builder()
                        .syntax(syntax::Config::new().unicode(false).utf8(false))
                        .build(&t)
                        .ok()?;
                    Test::Regex(r)
                }
            };
            let name = if rep {
                format!("__gr{n}")
            } else {
                format!("__gl{n}")
            };
            looks.push(Look {
                idx: idx(name)?,
                neg,
                rep,
                test,
            });
        }
        Some(Guarded {
            re,
            map: plain,
            conds,
            looks,
        })
    }

    /// True if the match `spans` (indices of `re`) is the original's match.
    pub(crate) fn check(&self, hay: &[u8], spans: &[Option<(usize, usize)>]) -> bool {
        for &(y, n, g) in &self.conds {
            let took = spans[g].is_some();
            if (spans[y].is_some() && !took) || (spans[n].is_some() && took) {
                return false;
            }
        }
        for l in &self.looks {
            let Some((s, e)) = spans[l.idx] else { continue };
            if l.rep {
                if (s..e).any(|p| l.test.at(hay, p) == l.neg) {
                    return false;
                }
            } else if l.test.at(hay, s) == l.neg {
                return false;
            }
        }
        true
    }

    /// The original pattern's spans from the guarded match's.
    pub(crate) fn original(&self, spans: &[Option<(usize, usize)>]) -> Vec<Option<(usize, usize)>> {
        self.map.iter().map(|&i| spans[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::pyre::PyRegex;

    /// Our own patterns with the shapes of fail2ban's backtracking filters:
    /// conditionals on an optional group, an alternation that defines a tested
    /// group, look-aheads alone and at every repetition, lazy and greedy.
    const PATTERNS: [&str; 7] = [
        r"^Bad (?:(?P<nf>key)|\S+) for (?P<inv>bogus user )?(?P<u>(?P<cu>\S+)|(?(inv)(?:(?! at ).)*?|[^:]+)) at (?P<h>\d+\.\d+)(?: p \d+)?(?(cu): |(?:(?:(?! at ).)*)$)",
        r"^Bad key for bogus user (?P<u>(?P<cu>\S+)|(?:(?! at ).)*?) at (?P<h>\d+\.\d+)(?(cu): |(?:(?:(?! at ).)*)$)",
        r"^(?P<a>x)?(?(a)y|z)+$",
        r"user (?P<u>\S+)(?! at )",
        r"(?:(?=\d)\w)+ (?P<r>.*)",
        r"^(?:(?!ab)[a-z])*?b(?P<t>.*)",
        r"(?P<p>q)?(?(p)r)s",
    ];
    const TOKENS: [&str; 16] = [
        "Bad ",
        "key ",
        "pw ",
        "for ",
        "bogus user ",
        " at ",
        "1.2",
        " p 22",
        ": ",
        "x",
        " ",
        "root",
        "ab",
        "y",
        "z",
        "user ",
    ];

    #[test]
    fn guarded_search_equals_the_backtracking_engine() {
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut guarded = 0;
        for p in PATTERNS {
            let ours = PyRegex::new(p, false).expect("compiles");
            if ours.guarded.is_some() {
                guarded += 1;
            }
            let fancy = fancy_regex::Regex::new(&crate::pyre::translate(p, false, true).unwrap().0)
                .expect("fancy compiles");
            for _ in 0..3000 {
                let n = (next() % 9) as usize;
                let hay: String = (0..n).map(|_| TOKENS[(next() % 16) as usize]).collect();
                let want = fancy.captures(&hay).expect("within limit").map(|c| {
                    (0..c.len())
                        .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                        .collect::<Vec<_>>()
                });
                let got = ours.search(&hay).expect("within limit").map(|c| c.spans);
                assert_eq!(got, want, "pattern {p:?} on {hay:?}");
            }
        }
        // the shapes fail2ban uses are guarded; a repeated conditional and
        // look-aheads repeated before something else than `.` are not
        assert_eq!(guarded, 4, "guarded patterns");
    }
}
