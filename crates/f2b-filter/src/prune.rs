//! Alternatives that cannot match are taken out before the backtracker runs.
//!
//! A conditional rewritten by [`crate::distribute`] leaves a pattern that
//! ends in an alternation of whole continuations, `X(?:A|B)`, and sshd's
//! `Failed ...` rule nests two of them. The backtracker tries `A` to its
//! very end (through the whole address and port) before it gives up for
//! `B`, on nearly every line. Whether any match can go through `A` at all is
//! one pass of a lazy DFA over the line. An alternative through which no
//! match exists can be dropped without changing which match the backtracker
//! finds (the first in priority order among those that exist), so the
//! backtracker then runs on the pattern with it disabled: its branch starts
//! with the empty class `[^\s\S]`, which keeps every capture group and its
//! number.
//!
//! The alternatives considered form the tree of trailing alternations: the
//! pattern's last element (through groups) when it is an alternation, and
//! the same inside each of its branches. None is under a repetition, so a
//! match uses at most one branch of each, and a leaf of the tree can be
//! reached by a match exactly when the pattern with the other branches along
//! its path disabled matches.

use regex_syntax::ast::{Alternation, Ast};

/// What a branch is disabled with.
const NEVER: &str = r"[^\s\S]";
/// Leaves beyond this are not worth a DFA pass each.
const MAX_LEAVES: usize = 8;

/// A leaf of the tree: where its branch starts and the starts of the other
/// branches along its path.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub(crate) start: usize,
    pub(crate) others: Vec<usize>,
}

fn trailing(ast: &Ast) -> Option<&Alternation> {
    match ast {
        Ast::Alternation(a) => Some(a),
        Ast::Group(g) => trailing(&g.ast),
        Ast::Concat(c) => c.asts.last().and_then(trailing),
        _ => None,
    }
}

fn leaves(alt: &Alternation, path: &mut Vec<usize>, out: &mut Vec<Leaf>) {
    let starts: Vec<usize> = alt.asts.iter().map(|a| a.span().start.offset).collect();
    for (i, branch) in alt.asts.iter().enumerate() {
        let siblings = starts.iter().enumerate().filter(|&(j, _)| j != i);
        let mark = path.len();
        path.extend(siblings.map(|(_, &s)| s));
        match trailing(branch) {
            Some(inner) => leaves(inner, path, out),
            None => out.push(Leaf {
                start: starts[i],
                others: path.clone(),
            }),
        }
        path.truncate(mark);
    }
}

/// The leaves of `pat`'s tree of trailing alternations, in priority order;
/// `None` when there is nothing to prune (fewer than two) or too much.
pub(crate) fn tree_leaves(pat: &str) -> Option<Vec<Leaf>> {
    let ast = regex_syntax::ast::parse::Parser::new().parse(pat).ok()?;
    let mut out = Vec::new();
    leaves(trailing(&ast)?, &mut Vec::new(), &mut out);
    (2..=MAX_LEAVES).contains(&out.len()).then_some(out)
}

/// `pat` with a branch disabled at each of the offsets `at`.
pub(crate) fn disabled(pat: &str, at: &[usize]) -> String {
    let mut at = at.to_vec();
    at.sort_unstable();
    let mut out = String::with_capacity(pat.len() + at.len() * NEVER.len());
    let mut from = 0;
    for p in at {
        out.push_str(&pat[from..p]);
        out.push_str(NEVER);
        from = p;
    }
    out.push_str(&pat[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_of_nested_trailing_alternations() {
        let pat = r"^F (?:(?P<i>i )(?:a1|a2)|(?:b1 x|b2))";
        let l = tree_leaves(pat).unwrap();
        let texts: Vec<&str> = l.iter().map(|x| &pat[x.start..x.start + 2]).collect();
        assert_eq!(texts, ["a1", "a2", "b1", "b2"]);
        // the check pattern of a leaf keeps only its path
        let only_b1 = disabled(pat, &l[2].others);
        let re = regex::Regex::new(&only_b1).unwrap();
        assert!(re.is_match("F b1 x") && !re.is_match("F b2") && !re.is_match("F i a1"));
        // disabling keeps the groups
        let off = disabled(pat, &[l[0].start, l[1].start]);
        assert_eq!(regex::Regex::new(&off).unwrap().captures_len(), 2);
        // an alternation under a repetition, or none at the end: nothing to do
        assert!(tree_leaves(r"^(?:a|b)+").is_none());
        assert!(tree_leaves(r"^(?:a|b)c").is_none());
    }
}
