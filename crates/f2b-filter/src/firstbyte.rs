//! Which failregexes can match a buffer, from its first byte.
//!
//! Most filters' failregexes start at the beginning of the prefregex's content
//! with a word of their own (`^Failed `, `^[iI]nvalid user `, ...). For such a
//! pattern the first byte of the buffer rules it out or in; only the few
//! patterns left are asked, each with its own anchored automaton that stops at
//! the first byte that cannot continue. That replaces one overlapping pass of
//! the `RegexSet` of all patterns over the whole buffer, which cannot stop
//! while any pattern is alive. The answer is the set's: a pattern whose
//! first bytes are not known is asked on every buffer.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::Look;

/// Patterns by the first byte of a buffer they can match.
#[derive(Debug, Clone)]
pub(crate) struct FirstByte {
    by_byte: Vec<Vec<u16>>,
}

/// The bytes a match of `pat` (compiled as `pyre::ascii_regex` does) can
/// start with, if it can only start at the beginning of the haystack and
/// never be empty there; `None` = unknown.
fn first_bytes(pat: &str) -> Option<[bool; 256]> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pat)
        .ok()?;
    if !hir.properties().look_set_prefix().contains(Look::Start) {
        return None;
    }
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    let mut set = [false; 256];
    for l in lits {
        set[usize::from(*l.as_bytes().first()?)] = true;
    }
    Some(set)
}

impl FirstByte {
    /// The table for `pats` (the set's patterns, in order). `None` when no
    /// pattern has known first bytes (the set is then better).
    pub(crate) fn new(pats: &[&str]) -> Option<FirstByte> {
        let firsts: Vec<Option<[bool; 256]>> = pats.iter().map(|p| first_bytes(p)).collect();
        if firsts.iter().all(Option::is_none) || pats.len() > usize::from(u16::MAX) {
            return None;
        }
        let by_byte = (0..256)
            .map(|b| {
                (0..pats.len())
                    .filter(|&i| firsts[i].map_or(true, |s| s[b]))
                    .map(|i| i as u16)
                    .collect()
            })
            .collect();
        Some(FirstByte { by_byte })
    }

    /// The patterns that may match a buffer starting with `first` (`None`:
    /// an empty buffer, where only patterns of unknown start may).
    pub(crate) fn candidates(&self, first: Option<u8>) -> impl Iterator<Item = usize> + '_ {
        // an empty buffer: the byte-0 list holds the unknown ones (and those
        // starting with NUL, which are asked and say no)
        self.by_byte[usize::from(first.unwrap_or(0))]
            .iter()
            .map(|&i| usize::from(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_of_anchored_patterns() {
        let f = |p: &str| {
            first_bytes(p).map(|s| {
                (0..=255u8)
                    .filter(|&b| s[usize::from(b)])
                    .collect::<Vec<u8>>()
            })
        };
        assert_eq!(f(r"^Failed (?P<x>\S+)"), Some(b"F".to_vec()));
        assert_eq!(f(r"^[iI](?:llegal|nvalid) user"), Some(b"Ii".to_vec()));
        assert_eq!(f(r"^(?:error|fatal): "), Some(b"ef".to_vec()));
        // not anchored, empty-able, or too wide a start: unknown
        assert_eq!(f(r"Failed"), None);
        assert_eq!(f(r"^(?:x)?y"), Some(b"xy".to_vec()));
        assert_eq!(f(r"^x*"), None);
        assert_eq!(f(r"^\S+ x"), None);
    }
}
