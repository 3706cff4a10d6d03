//! Captures of a start-anchored ASCII automaton without the lazy DFA's pass.
//!
//! `regex`'s captures search first runs the lazy DFA to find the match's span,
//! then the bounded backtracker on that span. When the caller already knows
//! that a match is likely (the `RegexSet` said so for a failregex, or the DFA
//! found where the prefregex's content starts), the first pass is repeated
//! work: for a pattern that can only match at the start, the backtracker run
//! anchored at 0 finds the same leftmost-first match on its own. A pattern
//! that is not always start-anchored is left to the usual path, as is a
//! haystack too long for the backtracker's visited set.

use std::sync::{Arc, Mutex, OnceLock};

use regex_automata::nfa::thompson::backtrack::{self, BoundedBacktracker};
use regex_automata::nfa::thompson::{self};
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

/// Bits of the backtracker's visited set (states x haystack bytes): 4 Mbit
/// (512 KiB, allocated as needed) covers lines of some thousand bytes on the
/// stock filters' automata.
const VISITED_BITS: usize = 4 << 20;

type Spans = Vec<Option<(usize, usize)>>;

/// Automata kept per pattern for pruned forms: each is a copy of the
/// pattern's NFA, and up to 2^7 masks could occur (sshd's rule needs 2).
const MAX_VARIANTS: usize = 8;

/// The backtracker of one pattern (built on first use, shared by clones) and
/// this clone's search state.
pub(crate) struct Direct {
    bt: Arc<OnceLock<Option<Compiled>>>,
    /// Search state per automaton (0 = the whole pattern, else the mask of
    /// disabled leaves, see [`crate::prune`]).
    cache: Mutex<Vec<(u32, backtrack::Cache, Captures)>>,
}

/// The automata of one pattern.
struct Compiled {
    full: BoundedBacktracker,
    prune: Option<Prune>,
}

/// See [`crate::prune`]: the pattern's leaves, a DFA per leaf but the last
/// telling whether a match can go through it, and the pattern's forms with
/// leaves disabled, by mask, compiled as met.
struct Prune {
    pat: String,
    leaves: Vec<crate::prune::Leaf>,
    checks: Vec<regex::bytes::Regex>,
    variants: Mutex<Vec<(u32, BoundedBacktracker)>>,
}

impl Default for Direct {
    fn default() -> Direct {
        Direct {
            bt: Arc::new(OnceLock::new()),
            cache: Mutex::new(Vec::new()),
        }
    }
}

impl Clone for Direct {
    /// Shares the automata; the search state is per clone (per thread).
    fn clone(&self) -> Direct {
        Direct {
            bt: Arc::clone(&self.bt),
            cache: Mutex::new(Vec::new()),
        }
    }
}

/// The backtracker for `pat` compiled as `pyre::ascii_regex` compiles it
/// (Unicode off, bytes), if the pattern can only match at the start.
fn build(pat: &str) -> Option<BoundedBacktracker> {
    let bt = BoundedBacktracker::builder()
        .configure(BoundedBacktracker::config().visited_capacity(VISITED_BITS))
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(64 << 20)),
        )
        .build(pat)
        .ok()?;
    bt.get_nfa().is_always_start_anchored().then_some(bt)
}

fn compile(pat: &str) -> Option<Compiled> {
    let full = build(pat)?;
    let prune = crate::prune::tree_leaves(pat).and_then(|leaves| {
        let checks: Option<Vec<regex::bytes::Regex>> = leaves[..leaves.len() - 1]
            .iter()
            .map(|l| crate::pyre::ascii_regex(&crate::prune::disabled(pat, &l.others)))
            .collect();
        Some(Prune {
            pat: pat.to_string(),
            checks: checks?,
            leaves,
            variants: Mutex::new(Vec::new()),
        })
    });
    Some(Compiled { full, prune })
}

impl Prune {
    /// The leaves no match can go through (a bit per leaf).
    fn impossible(&self, hay: &[u8]) -> u32 {
        let mut mask = 0;
        for (i, c) in self.checks.iter().enumerate() {
            if !c.is_match(hay) {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The backtracker of the pattern with the leaves of `mask` disabled
    /// (`None` past [`MAX_VARIANTS`] of them: the usual path then).
    fn variant(&self, mask: u32) -> Option<BoundedBacktracker> {
        let mut v = self.variants.lock().ok()?;
        if let Some((_, bt)) = v.iter().find(|(m, _)| *m == mask) {
            return Some(bt.clone());
        }
        if v.len() >= MAX_VARIANTS {
            return None;
        }
        let at: Vec<usize> = (0..self.leaves.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| self.leaves[i].start)
            .collect();
        let bt = build(&crate::prune::disabled(&self.pat, &at))?;
        v.push((mask, bt.clone()));
        Some(bt)
    }
}

impl Direct {
    /// The spans of `re`'s leftmost-first match in `hay` that starts at 0 and
    /// ends at or before `end` (look-around still sees all of `hay`), as
    /// `re.captures_read_at(hay, 0)` gives them when the match ends there.
    /// `None`: this path does not apply; use the usual one.
    pub(crate) fn spans(
        &self,
        re: &regex::bytes::Regex,
        hay: &[u8],
        end: usize,
    ) -> Option<Option<Spans>> {
        let c = self.bt.get_or_init(|| compile(re.as_str())).as_ref()?;
        if end > c.full.max_haystack_len() {
            return None;
        }
        // the checks ask about the whole haystack
        let mask = match &c.prune {
            Some(p) if end == hay.len() => p.impossible(hay),
            _ => 0,
        };
        let variant;
        let bt = match (&c.prune, mask) {
            (Some(p), m) if m != 0 => {
                variant = p.variant(m)?;
                &variant
            }
            _ => &c.full,
        };
        if end > bt.max_haystack_len() {
            return None;
        }
        let mut guard = self.cache.try_lock().ok()?;
        let k = match guard.iter().position(|(m, _, _)| *m == mask) {
            Some(k) => k,
            None => {
                guard.push((mask, bt.create_cache(), bt.create_captures()));
                guard.len() - 1
            }
        };
        let (_, cache, caps) = &mut guard[k];
        let input = Input::new(hay).span(0..end).anchored(Anchored::Yes);
        bt.try_search(cache, &input, caps).ok()?;
        if !caps.is_match() {
            return Some(None);
        }
        Some(Some(
            (0..caps.group_len())
                .map(|i| caps.get_group(i).map(|s| (s.start, s.end)))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same spans as the `regex` crate's captures, on matching and failing
    /// lines, for the shapes of the stock filters.
    #[test]
    fn same_spans_as_the_regex_crate() {
        let pats = [
            r"^Failed (?:(?P<nofail>publickey)|\S+) for (?P<user>.*?) from (?P<ip4>(?:\d{1,3}\.){3}\d{1,3})(?: port \d+)?(?: ssh\d*)?\s*(?:\n?\z)",
            r"^(?P<a>x*)(?P<b>x*?)y\b",
            r"^(?:(?P<p>a)|b)+c$",
            // the shape of a distributed conditional (see crate::prune)
            r"^F (?:(?P<i>i )(?:(?P<u>\S+) x: |(?P<v>[^:]+) x(?:\n?\z))|(?:(?P<w>\S+) y: |(?P<z>[^:]+) y(?:\n?\z)))",
        ];
        let hays = [
            "Failed password for root from 10.0.0.1 port 22 ssh2\n",
            "Failed publickey for a from b from 10.0.0.1\n",
            "Failed password for root from 10.0.0.1 port x\n",
            "xxxy z",
            "xxxyz",
            "ababbac",
            "abab",
            "F i a x: b x\n",
            "F i a b x\n",
            "F a y: q\n",
            "F a b y\n",
            "F a y: b y\n",
            "F a b\n",
            "",
        ];
        for p in pats {
            let re = crate::pyre::ascii_regex(p).unwrap();
            let d = Direct::default();
            for h in hays {
                let b = h.as_bytes();
                let want = {
                    let mut locs = re.capture_locations();
                    re.captures_read_at(&mut locs, b, 0)
                        .map(|_| (0..locs.len()).map(|i| locs.get(i)).collect::<Spans>())
                };
                assert_eq!(d.spans(&re, b, b.len()), Some(want), "{p} on {h:?}");
            }
            let pruned =
                d.bt.get()
                    .and_then(|c| c.as_ref())
                    .is_some_and(|c| c.prune.is_some());
            assert_eq!(pruned, p.starts_with("^F (?:"), "{p}");
        }
        // more pruned forms than kept: the rest take the usual path, same spans
        let p = r"^x(?:(?P<a>\d*1)|(?P<b>\d*2)|(?P<c>\d*3)|(?P<d>\d*4)|(?P<e>\d*5)|(?P<f>\d*6)|(?P<g>\d*7)|(?P<h>\d*8))";
        let re = crate::pyre::ascii_regex(p).unwrap();
        let d = Direct::default();
        for n in 1u32..256 {
            let h: String = std::iter::once('x')
                .chain(
                    (0..8)
                        .filter(|b| n & (1 << b) != 0)
                        .map(|b| char::from(b'1' + b as u8)),
                )
                .collect();
            let b = h.as_bytes();
            let mut locs = re.capture_locations();
            let want = re
                .captures_read_at(&mut locs, b, 0)
                .map(|_| (0..locs.len()).map(|i| locs.get(i)).collect::<Spans>());
            let got = d.spans(&re, b, b.len()).unwrap_or(Some(Vec::new()));
            if got != Some(Vec::new()) {
                assert_eq!(got, want, "{h}");
            }
        }
        let c = d.bt.get().and_then(|c| c.as_ref()).unwrap();
        let kept = c.prune.as_ref().unwrap().variants.lock().unwrap().len();
        assert_eq!(kept, MAX_VARIANTS);
        // a pattern that may match later in the line is left to the usual path
        let re = crate::pyre::ascii_regex(r"a(?P<x>b)").unwrap();
        assert_eq!(Direct::default().spans(&re, b"xab", 3), None);
    }
}
