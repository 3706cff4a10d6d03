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
    /// Group of the original pattern -> its copies in `re` (the first that
    /// took part is the group's span).
    map: Vec<Vec<usize>>,
    /// (yes markers, no markers, tested group's copies) indices in `re`.
    conds: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)>,
    looks: Vec<Look>,
}

/// True for the marker groups `__g[ynlr]N` (with a copy suffix or not).
fn is_marker(n: Option<&str>) -> bool {
    n.map(crate::distribute::base_name)
        .and_then(|n| n.strip_prefix("__g"))
        .is_some_and(|r| {
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
        // conditionals decided by construction where the pattern allows it
        let conds: Option<Vec<(usize, String)>> = st
            .conds
            .iter()
            .map(|&(n, k)| st.cap_name(k).map(|g| (n, g.to_string())))
            .collect();
        let pat = conds
            .and_then(|c| crate::distribute::distribute_all(&pat, &c))
            .unwrap_or(pat);
        let re = ascii_regex(&pat)?;
        let gnames: Vec<Option<&str>> = re.capture_names().collect();
        let base = |i: usize| gnames[i].map(crate::distribute::base_name);
        let copies = |name: &str| -> Vec<usize> {
            (1..gnames.len())
                .filter(|&i| base(i) == Some(name))
                .collect()
        };
        let unnamed: Vec<usize> = (1..gnames.len()).filter(|&i| gnames[i].is_none()).collect();
        let mut map = vec![vec![0]];
        let mut k_unnamed = 0;
        for n in names.iter().skip(1) {
            let c = match n {
                Some(n) => copies(n),
                None => {
                    k_unnamed += 1;
                    vec![*unnamed.get(k_unnamed - 1)?]
                }
            };
            if c.is_empty() {
                return None;
            }
            map.push(c);
        }
        let plain = (1..gnames.len()).filter(|&i| !is_marker(gnames[i])).count();
        if map.iter().skip(1).map(Vec::len).sum::<usize>() != plain {
            return None;
        }
        let mut conds = Vec::new();
        for &(n, ordinal) in &st.conds {
            conds.push((
                copies(&format!("__gy{n}")),
                copies(&format!("__gn{n}")),
                map.get(ordinal)?.clone(),
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
            for idx in copies(&name) {
                looks.push(Look {
                    idx,
                    neg,
                    rep,
                    test: test.clone(),
                });
            }
        }
        Some(Guarded {
            re,
            map,
            conds,
            looks,
        })
    }

    /// True if the match `spans` (indices of `re`) is the original's match.
    pub(crate) fn check(&self, hay: &[u8], spans: &[Option<(usize, usize)>]) -> bool {
        let any = |v: &[usize]| v.iter().any(|&i| spans[i].is_some());
        for (y, n, g) in &self.conds {
            let took = any(g);
            if (any(y) && !took) || (any(n) && took) {
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
        self.map
            .iter()
            .map(|c| c.iter().find_map(|&i| spans[i]))
            .collect()
    }

    /// True when every conditional was rewritten away (tests).
    #[cfg(test)]
    pub(crate) fn distributed(&self) -> bool {
        self.re
            .capture_names()
            .any(|n| n.is_some_and(|n| n.contains("__c")))
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
    const HEADS: [&str; 4] = [
        "",
        "Bad key for ",
        "Bad pw for bogus user ",
        "Bad key for bogus user ",
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
        let mut distributed = 0;
        let mut matched = 0;
        for p in PATTERNS {
            let ours = PyRegex::new(p, false).expect("compiles");
            if let Some((g, _)) = &ours.guarded {
                guarded += 1;
                distributed += usize::from(g.distributed());
            }
            let fancy = fancy_regex::Regex::new(&crate::pyre::translate(p, false, true).unwrap().0)
                .expect("fancy compiles");
            for _ in 0..3000 {
                let n = (next() % 9) as usize;
                let mut hay: String = HEADS[(next() % 4) as usize].to_string();
                hay.extend((0..n).map(|_| TOKENS[(next() % 16) as usize]));
                let want = fancy.captures(&hay).expect("within limit").map(|c| {
                    (0..c.len())
                        .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                        .collect::<Vec<_>>()
                });
                let got = ours.search(&hay).expect("within limit").map(|c| c.spans);
                assert_eq!(got, want, "pattern {p:?} on {hay:?}");
                matched += usize::from(got.is_some());
            }
        }
        // the shapes fail2ban uses are guarded; a repeated conditional and
        // look-aheads repeated before something else than `.` are not
        assert_eq!(guarded, 4, "guarded patterns");
        // and the three guarded ones with conditionals lose them
        assert_eq!(distributed, 3, "distributed patterns");
        assert!(
            matched > 3000,
            "only {matched} matches: the cases test too little"
        );
    }
}
