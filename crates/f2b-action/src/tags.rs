//! Tag substitution, a port of upstream's `CommandAction.replaceTag` (static, recursive,
//! family-conditional) and `replaceDynamicTags` (per ticket, not recursive, attacker-controlled
//! values passed as positional shell arguments instead of being inlined).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::error::{Error, ErrorKind};
use crate::exec::ShellCommand;
use crate::ticket::TagSource;

/// Upstream `MAX_TAG_REPLACE_COUNT`: bound on recursive substitution rounds.
const MAX_TAG_REPLACE_COUNT: usize = 25;

/// Tags whose value is backslash-escaped in static substitution (`CommandAction._escapedTags`).
const ESCAPED_TAGS: [&str; 3] = ["matches", "ipmatches", "ipjailmatches"];

fn tag_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"<([^ <>]+)>").expect("static regex"))
}

fn fcustag_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"<F-([A-Z0-9_\-]+)>").expect("static regex"))
}

fn nonword_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\W").expect("static regex"))
}

/// Characters that make a dynamic value unsafe to inline into a shell script
/// (upstream `ESCAPE_CRE`).
pub fn needs_shell_escape(value: &str) -> bool {
    value.chars().any(|c| {
        matches!(
            c,
            '\\' | '#'
                | '&'
                | ';'
                | '`'
                | '|'
                | '*'
                | '?'
                | '~'
                | '<'
                | '>'
                | '^'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '$'
                | '\''
                | '"'
                | '\n'
                | '\r'
        )
    })
}

/// Backslash-escapes shell-special characters (upstream `escapeTag`; `\n` → `\\n`).
pub fn escape_tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if needs_shell_escape(&c.to_string()) {
            out.push('\\');
            match c {
                '\n' => out.push('n'),
                '\r' => out.push('r'),
                c => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The built-in replacements every command gets (`ADD_REPL_TAGS`): `<br>`, `<sp>`,
/// `<fq-hostname>`, `<sh-hostname>`.
pub fn builtin_tag(tag: &str) -> Option<String> {
    match tag {
        "br" => Some("\n".to_string()),
        "sp" => Some(" ".to_string()),
        "fq-hostname" => Some(crate::ticket::hostname(true)),
        "sh-hostname" => Some(crate::ticket::hostname(false)),
        _ => None,
    }
}

/// An ordered set of action properties (name → value), as set by the config stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    keys: Vec<String>,
    map: HashMap<String, String>,
}

impl Properties {
    /// An empty property set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces, keeping its position) a property.
    pub fn set(&mut self, key: &str, value: &str) {
        if self
            .map
            .insert(key.to_string(), value.to_string())
            .is_none()
        {
            self.keys.push(key.to_string());
        }
    }

    /// Removes a property.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let v = self.map.remove(key)?;
        self.keys.retain(|k| k != key);
        Some(v)
    }

    /// The value of a property.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Property names in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Upstream `substituteRecursiveTags` (without `addrepl`): resolves tags inside property values
/// using other properties, preferring `<tag>?<conditional>` keys. Missing tags stay literal.
pub fn substitute_recursive(
    props: &Properties,
    conditional: &str,
) -> Result<HashMap<String, String>, Error> {
    let re = tag_re();
    let mut tags = props.map.clone();
    let ignore: HashSet<&str> = ESCAPED_TAGS.into_iter().collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut rep_counts: HashMap<String, HashMap<String, usize>> = HashMap::new();
    loop {
        let mut rep_flag = false;
        for tag in &props.keys {
            if ignore.contains(tag.as_str()) || done.contains(tag) {
                continue;
            }
            let orgval = tags[tag].clone();
            let mut value = orgval.clone();
            let mut rplc = rep_counts.get(tag).cloned().unwrap_or_default();
            let mut m = re.captures_at(&value, 0).map(cap_parts);
            while let Some((start, end, rtag)) = m {
                if ignore.contains(rtag.as_str()) {
                    m = re.captures_at(&value, end).map(cap_parts);
                    continue;
                }
                if rtag == *tag || rplc.get(&rtag).copied().unwrap_or(1) > MAX_TAG_REPLACE_COUNT {
                    return Err(Error::new(
                        ErrorKind::Substitution,
                        format!(
                            "properties contain self referencing definitions and cannot be \
                             resolved, fail tag: {tag}, found: {rtag}, value: {value}"
                        ),
                    ));
                }
                let mut repl = None;
                if !conditional.is_empty() {
                    repl = tags.get(&format!("{rtag}?{conditional}")).cloned();
                }
                if repl.is_none() {
                    repl = tags.get(&rtag).cloned();
                }
                let Some(repl) = repl else {
                    m = re.captures_at(&value, end).map(cap_parts);
                    continue;
                };
                value = value.replace(&format!("<{rtag}>"), &repl);
                *rplc.entry(rtag).or_insert(0) += 1;
                m = re.captures_at(&value, start).map(cap_parts);
            }
            if orgval != value {
                if re.is_match(&value) {
                    rep_counts.insert(tag.clone(), rplc);
                    rep_flag = true;
                }
                tags.insert(tag.clone(), value.clone());
            }
            if !value.contains('<') {
                done.insert(tag.clone());
            }
        }
        if !rep_flag {
            break;
        }
    }
    Ok(tags)
}

fn cap_parts(c: regex::Captures<'_>) -> (usize, usize, String) {
    let m = c.get(0).expect("group 0");
    (m.start(), m.end(), c[1].to_string())
}

/// Upstream `replaceTag` over properties: substitutes `query` with the recursively resolved
/// properties (family-conditional keys win) and the built-in tags, repeating while the result
/// still changes. `subst` is the output of [`substitute_recursive`] for the same conditional.
pub fn replace_static(
    query: &str,
    subst: &HashMap<String, String>,
    conditional: &str,
) -> Result<String, Error> {
    if !query.contains('<') {
        return Ok(query.to_string());
    }
    let re = tag_re();
    let mut query = query.to_string();
    let mut count = MAX_TAG_REPLACE_COUNT + 1;
    loop {
        let value = re
            .replace_all(&query, |c: &regex::Captures<'_>| {
                let tag = &c[1];
                let mut v = None;
                if !conditional.is_empty() {
                    v = subst.get(&format!("{tag}?{conditional}"));
                }
                if v.is_none() {
                    v = subst.get(tag);
                }
                match v {
                    None => builtin_tag(tag).unwrap_or_else(|| c[0].to_string()),
                    Some(v) if ESCAPED_TAGS.contains(&tag) => escape_tag(v),
                    Some(v) => v.clone(),
                }
            })
            .into_owned();
        if value == query || !value.contains('<') {
            return Ok(value);
        }
        query = value;
        count -= 1;
        if count == 0 {
            return Err(Error::new(
                ErrorKind::Substitution,
                format!(
                    "unexpected too long replacement interpolation, possible self referencing \
                     definitions in query: {query}"
                ),
            ));
        }
    }
}

/// Upstream `mapTag2Opt`: `F-ID` → `fid`, `F-PORT` → `fport`, otherwise lower case.
pub fn map_capture_name(tag: &str) -> String {
    let t = tag.to_lowercase();
    match t.as_str() {
        "id" => "fid".to_string(),
        "port" => "fport".to_string(),
        _ => t,
    }
}

/// Upstream `replaceDynamicTags`: one non-recursive pass over `cmd` with the ticket's values,
/// then a pass for `<F-NAME>` capture tags (missing → empty). A value containing a
/// shell-special character is replaced by `$f2bV_<tag>` and passed as positional argument.
pub fn replace_dynamic(cmd: &str, source: &dyn TagSource) -> ShellCommand {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut escape_val = |tag: &str, value: String| -> String {
        if needs_shell_escape(&value) {
            let name = format!("f2bV_{}", nonword_re().replace_all(tag, "_"));
            match vars.iter_mut().find(|(k, _)| *k == name) {
                Some(slot) => slot.1 = value,
                None => vars.push((name.clone(), value)),
            }
            format!("${name}")
        } else {
            value
        }
    };
    let mut real = tag_re()
        .replace_all(cmd, |c: &regex::Captures<'_>| {
            let tag = &c[1];
            match source.tag(tag) {
                Some(v) => escape_val(tag, v),
                None => builtin_tag(tag).unwrap_or_else(|| c[0].to_string()),
            }
        })
        .into_owned();
    if real.contains('<') {
        real = fcustag_re()
            .replace_all(&real, |c: &regex::Captures<'_>| {
                let tag = map_capture_name(&c[1]);
                match source.capture(&tag) {
                    Some(v) => escape_val(&format!("F_{tag}"), v),
                    None => String::new(),
                }
            })
            .into_owned();
    }
    ShellCommand::with_vars(real, vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Ticket;

    fn props(kv: &[(&str, &str)]) -> Properties {
        let mut p = Properties::new();
        for (k, v) in kv {
            p.set(k, v);
        }
        p
    }

    fn resolve(p: &Properties, q: &str, cond: &str) -> String {
        let s = substitute_recursive(p, cond).unwrap();
        replace_static(q, &s, cond).unwrap()
    }

    #[test]
    fn static_cases() {
        let p = props(&[
            ("name", "SSH"),
            ("addr_set", "addr-set-<name>"),
            ("addr_set?family=inet6", "addr6-set-<name>"),
            ("opts", "<sp>flags<br>x"),
            ("abc", "<xyz> keep"),
        ]);
        let cases = [
            ("<addr_set>", "", "addr-set-SSH"),
            ("<addr_set>", "family=inet4", "addr-set-SSH"),
            ("<addr_set>", "family=inet6", "addr6-set-SSH"),
            ("a<opts>", "", "a flags\nx"),
            ("<abc> <ip>", "", "<xyz> keep <ip>"),
            ("no tags", "", "no tags"),
        ];
        for (q, cond, want) in cases {
            assert_eq!(resolve(&p, q, cond), want, "query {q:?} cond {cond:?}");
        }
    }

    #[test]
    fn self_reference_is_an_error() {
        let p = props(&[("a", "x<b>"), ("b", "<a>")]);
        assert!(substitute_recursive(&p, "").is_err());
    }

    #[test]
    fn dynamic_values_with_shell_chars_become_arguments() {
        let mut t = Ticket::new("192.0.2.1");
        t.matches = vec!["a $(touch x)".into(), "b".into()];
        t.captures.insert("user".into(), "root`id`".into());
        t.captures.insert("fport".into(), "22".into());
        let c = replace_dynamic("echo <ip> <matches> <F-USER> <F-PORT> <F-NONE>|", &t);
        assert_eq!(
            c.script,
            "f2bV_matches=$0 f2bV_F_user=$1 \necho 192.0.2.1 $f2bV_matches $f2bV_F_user 22 |"
        );
        assert_eq!(
            c.args,
            vec!["a $(touch x)\nb".to_string(), "root`id`".to_string()]
        );
        let plain = replace_dynamic("x <ip> <unknown> <br>", &t);
        assert_eq!(plain.script, "x 192.0.2.1 <unknown> \n");
        assert!(plain.args.is_empty());
    }

    #[test]
    fn escape_tag_matches_upstream() {
        assert_eq!(escape_tag("a;b\nc$d"), "a\\;b\\nc\\$d");
    }
}
