//! Exact linear form of conditionals: distribute the rest of the pattern over
//! the choice that decides the tested group.
//!
//! In `X(?P<g>a)?Y(?(g)b|c)Z` whether `g` took part is decided where `(?P<g>a)?`
//! is crossed, so the pattern equals `X(?:(?P<g>a)Y b Z|Y' c Z')`: the greedy
//! `?` tries the group first, and each copy of the rest has its conditional
//! resolved. The same holds for an alternation one of whose alternatives is
//! the whole group `g`. Groups in the copies get a `__cK` suffix (the caller
//! maps them back by name). This works on the guarded pattern (see
//! [`crate::guarded`]), where a conditional is the group
//! `(?:(?P<__gyN>)b|(?P<__gnN>)c)`; a pattern it cannot rewrite is left as is.

use regex_syntax::ast::{Alternation, Ast, Concat, Flags, Group, GroupKind, RepetitionKind};

/// Name of group `g` without its copy suffix.
pub(crate) fn base_name(n: &str) -> &str {
    match n.rfind("__c") {
        Some(i) if i > 0 && n[i + 3..].bytes().all(|b| b.is_ascii_digit()) && n.len() > i + 3 => {
            &n[..i]
        }
        _ => n,
    }
}

fn cap_name(a: &Ast) -> Option<&str> {
    match a {
        Ast::Group(g) => match &g.kind {
            GroupKind::CaptureName { name, .. } => Some(&name.name),
            _ => None,
        },
        _ => None,
    }
}

/// The name of the group an alternative starts with (a conditional's marker).
fn marker_of(alt: &Ast) -> Option<&str> {
    match alt {
        Ast::Concat(c) => c.asts.first().and_then(cap_name),
        a => cap_name(a),
    }
}

/// Copies `a` with every named group renamed; `None` if it has unnamed ones.
fn renamed(a: &Ast, copy: usize) -> Option<Ast> {
    Some(match a {
        Ast::Group(g) => {
            let kind = match &g.kind {
                GroupKind::CaptureIndex(_) => return None,
                GroupKind::CaptureName {
                    starts_with_p,
                    name,
                } => {
                    let mut name = name.clone();
                    name.name = format!("{}__c{copy}", base_name(&name.name));
                    GroupKind::CaptureName {
                        starts_with_p: *starts_with_p,
                        name,
                    }
                }
                k => k.clone(),
            };
            Ast::Group(Box::new(Group {
                span: g.span,
                kind,
                ast: Box::new(renamed(&g.ast, copy)?),
            }))
        }
        Ast::Repetition(r) => {
            let mut r = (**r).clone();
            r.ast = Box::new(renamed(&r.ast, copy)?);
            Ast::Repetition(Box::new(r))
        }
        Ast::Alternation(x) => Ast::Alternation(Box::new(Alternation {
            span: x.span,
            asts: renamed_all(&x.asts, copy)?,
        })),
        Ast::Concat(x) => Ast::Concat(Box::new(Concat {
            span: x.span,
            asts: renamed_all(&x.asts, copy)?,
        })),
        other => other.clone(),
    })
}

fn renamed_all(asts: &[Ast], copy: usize) -> Option<Vec<Ast>> {
    asts.iter().map(|a| renamed(a, copy)).collect()
}

/// Keeps only the `yes` (or `no`) branch of conditional `n` inside `a`.
fn resolve(a: &mut Ast, n: usize, yes: bool) -> bool {
    let want = if yes { "__gy" } else { "__gn" };
    let is_cond = |x: &Alternation| {
        x.asts.len() == 2
            && x.asts
                .iter()
                .zip(["__gy", "__gn"])
                .all(|(alt, p)| marker_of(alt).is_some_and(|nm| base_name(nm) == format!("{p}{n}")))
    };
    match a {
        Ast::Group(g) => {
            if let Ast::Alternation(x) = &mut *g.ast {
                if is_cond(x) {
                    let keep = x
                        .asts
                        .iter()
                        .position(|alt| {
                            marker_of(alt).is_some_and(|nm| base_name(nm).starts_with(want))
                        })
                        .unwrap_or(0);
                    let alt = x.asts.swap_remove(keep);
                    *g.ast = alt;
                    return true;
                }
            }
            resolve(&mut g.ast, n, yes)
        }
        Ast::Repetition(r) => resolve(&mut r.ast, n, yes),
        Ast::Alternation(x) => {
            // every copy of the conditional is resolved (no short cut)
            let mut any = false;
            for a in x.asts.iter_mut() {
                any |= resolve(a, n, yes);
            }
            any
        }
        Ast::Concat(x) => {
            let mut any = false;
            for a in x.asts.iter_mut() {
                any |= resolve(a, n, yes);
            }
            any
        }
        _ => false,
    }
}

fn non_capturing(span: regex_syntax::ast::Span, ast: Ast) -> Ast {
    Ast::Group(Box::new(Group {
        span,
        kind: GroupKind::NonCapturing(Flags {
            span,
            items: vec![],
        }),
        ast: Box::new(ast),
    }))
}

fn concat(span: regex_syntax::ast::Span, mut asts: Vec<Ast>) -> Ast {
    if asts.len() == 1 {
        return asts.pop().expect("one");
    }
    Ast::Concat(Box::new(Concat { span, asts }))
}

/// Distributes conditional `n` (testing group `g`) in `a`. `copies` numbers
/// the renamed copies. Returns false if no concatenation holds both the
/// deciding choice and the conditional in a form handled here.
fn distribute(a: &mut Ast, n: usize, g: &str, copies: &mut usize) -> bool {
    match a {
        Ast::Concat(c) => {
            let marker = format!("__gy{n}");
            for i in 0..c.asts.len() {
                let rest_has = c.asts[i + 1..].iter().any(|x| contains_base(x, &marker));
                if !rest_has {
                    continue;
                }
                let span = c.span;
                let rest: Vec<Ast> = c.asts[i + 1..].to_vec();
                let rest = concat(span, rest);
                let elem = c.asts[i].clone();
                let new = match &elem {
                    // (?P<g>…)? with the group itself optional
                    Ast::Repetition(r)
                        if r.op.kind == RepetitionKind::ZeroOrOne
                            && cap_name(&r.ast).is_some_and(|x| base_name(x) == g) =>
                    {
                        let mut taken = rest.clone();
                        let mut skipped = match renamed(&rest, next(copies)) {
                            Some(x) => x,
                            None => return false,
                        };
                        if !resolve(&mut taken, n, true) || !resolve(&mut skipped, n, false) {
                            return false;
                        }
                        let taken = concat(span, vec![(*r.ast).clone(), taken]);
                        let mut alts = vec![taken, skipped];
                        if !r.greedy {
                            alts.reverse();
                        }
                        non_capturing(
                            span,
                            Ast::Alternation(Box::new(Alternation { span, asts: alts })),
                        )
                    }
                    // (?P<G>(?P<g>…)|…): the alternative taken decides
                    Ast::Group(grp)
                        if matches!(grp.kind, GroupKind::CaptureName { .. })
                            && matches!(&*grp.ast, Ast::Alternation(x)
                                if x.asts.iter().any(|a| cap_name(a).is_some_and(|x| base_name(x) == g))
                                    && x.asts.iter().all(|a| cap_name(a).is_some_and(|x| base_name(x) == g) || !contains_base(a, g))) =>
                    {
                        let Ast::Alternation(x) = &*grp.ast else {
                            return false;
                        };
                        let mut alts = Vec::new();
                        for (j, alt) in x.asts.iter().enumerate() {
                            let is_g = cap_name(alt).is_some_and(|x| base_name(x) == g);
                            let (head, mut tail) = if j == 0 {
                                (
                                    Ast::Group(Box::new(Group {
                                        span: grp.span,
                                        kind: grp.kind.clone(),
                                        ast: Box::new(alt.clone()),
                                    })),
                                    rest.clone(),
                                )
                            } else {
                                let k = next(copies);
                                let head = Ast::Group(Box::new(Group {
                                    span: grp.span,
                                    kind: grp.kind.clone(),
                                    ast: Box::new(alt.clone()),
                                }));
                                match (renamed(&head, k), renamed(&rest, k)) {
                                    (Some(h), Some(t)) => (h, t),
                                    _ => return false,
                                }
                            };
                            if !resolve(&mut tail, n, is_g) {
                                return false;
                            }
                            alts.push(concat(span, vec![head, tail]));
                        }
                        non_capturing(
                            span,
                            Ast::Alternation(Box::new(Alternation { span, asts: alts })),
                        )
                    }
                    _ => continue,
                };
                c.asts.truncate(i);
                c.asts.push(new);
                return true;
            }
            c.asts.iter_mut().any(|x| distribute(x, n, g, copies))
        }
        Ast::Group(grp) => distribute(&mut grp.ast, n, g, copies),
        Ast::Alternation(x) => {
            // every alternative holding the conditional must be rewritten
            let mut any = false;
            for alt in x.asts.iter_mut() {
                if contains_base(alt, &format!("__gy{n}")) {
                    if !distribute(alt, n, g, copies) {
                        return false;
                    }
                    any = true;
                }
            }
            any
        }
        _ => false,
    }
}

fn next(copies: &mut usize) -> usize {
    *copies += 1;
    *copies
}

/// True if `a` holds a group whose base name is `name`.
fn contains_base(a: &Ast, name: &str) -> bool {
    match a {
        Ast::Group(g) => {
            cap_name(a).is_some_and(|x| base_name(x) == name) || contains_base(&g.ast, name)
        }
        Ast::Repetition(r) => contains_base(&r.ast, name),
        Ast::Alternation(x) => x.asts.iter().any(|a| contains_base(a, name)),
        Ast::Concat(x) => x.asts.iter().any(|a| contains_base(a, name)),
        _ => false,
    }
}

/// Rewrites the guarded pattern `pat` so that each conditional `(marker,
/// tested group name)` in `conds` is decided by construction. `None` when one
/// of them cannot be rewritten.
pub(crate) fn distribute_all(pat: &str, conds: &[(usize, String)]) -> Option<String> {
    let mut ast = regex_syntax::ast::parse::Parser::new().parse(pat).ok()?;
    let mut copies = 0;
    for (n, g) in conds {
        if !distribute(&mut ast, *n, g, &mut copies) {
            return None;
        }
    }
    let mut out = String::new();
    regex_syntax::ast::print::Printer::new()
        .print(&ast, &mut out)
        .ok()?;
    Some(out)
}
