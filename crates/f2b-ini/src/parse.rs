//! Parsing one file exactly like Python's `RawConfigParser._read` with fail2ban's
//! settings (`inline_comment_prefixes=";"`, strict, `=`/`:` delimiters, empty lines
//! kept inside values, lower-cased keys).

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Src};
use crate::omap::OMap;
use crate::py;

/// One option value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    /// The raw (not interpolated) value.
    pub value: String,
    /// Definition site; `None` for values injected by code.
    pub src: Option<Src>,
}

impl Opt {
    /// A value injected by code (no source location).
    pub fn injected(value: impl Into<String>) -> Self {
        Opt {
            value: value.into(),
            src: None,
        }
    }
}

/// The options of one section.
pub type Section = OMap<Opt>;

/// The content of one parsed file: `[DEFAULT]` and the other sections in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IniFile {
    /// Options of `[DEFAULT]`.
    pub defaults: Section,
    /// Other sections, in order of first appearance.
    pub sections: OMap<Section>,
}

/// Splits text into lines like Python's universal-newline text mode.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            None => {
                let l = rest;
                rest = "";
                Some(l)
            }
            Some(i) => {
                let l = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(l)
            }
        }
    })
}

/// Start of an inline `;` comment: at column 0 or preceded by whitespace.
fn inline_comment_start(line: &str) -> Option<usize> {
    let mut prev: Option<char> = None;
    for (i, c) in line.char_indices() {
        if c == ';' && (i == 0 || prev.is_some_and(py::is_space)) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}

/// `\[(?P<header>.+)\]` matched at the start of the stripped line.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    if end == 0 {
        return None;
    }
    Some(&inner[..end])
}

/// Parses the text of one file. `file` is used for error locations.
pub fn parse_str(text: &str, file: &Arc<str>) -> Result<IniFile, Error> {
    let mut out = IniFile::default();
    // pieces of every value, joined at the end (like `_join_multiline_values`)
    let mut pieces: Vec<Vec<String>> = Vec::new();
    // None = no section yet; Some(None) = DEFAULT; Some(Some(name)) = section
    let mut cursect: Option<Option<String>> = None;
    let mut optname: Option<String> = None;
    let mut cur_piece: Option<usize> = None;
    let mut indent_level = 0usize;
    let mut added: HashSet<(Option<String>, String)> = HashSet::new();
    let mut added_sections: HashSet<String> = HashSet::new();
    let mut bad_lines: Vec<(u32, String)> = Vec::new();
    // DEFAULT counts as "section name" for duplicate option detection
    let mut sectname: Option<String> = None;

    for (idx, line) in lines(text).enumerate() {
        let lineno = idx as u32 + 1;
        let mut comment_start = inline_comment_start(line);
        let stripped = py::strip(line);
        if stripped.starts_with('#') || stripped.starts_with(';') {
            comment_start = Some(0);
        }
        let value = py::strip(match comment_start {
            Some(i) => &line[..i],
            None => line,
        });
        if value.is_empty() {
            if comment_start.is_none()
                && cursect.is_some()
                && optname.as_deref().is_some_and(|o| !o.is_empty())
            {
                if let Some(p) = cur_piece {
                    pieces[p].push(String::new());
                }
            }
            continue;
        }
        let cur_indent = line
            .char_indices()
            .find(|&(_, c)| !py::is_space(c))
            .map(|(i, _)| i)
            .unwrap_or(0);
        if cursect.is_some()
            && optname.as_deref().is_some_and(|o| !o.is_empty())
            && cur_indent > indent_level
        {
            if let Some(p) = cur_piece {
                pieces[p].push(value.to_string());
            }
            continue;
        }
        indent_level = cur_indent;
        if let Some(name) = section_header(value) {
            if out.sections.contains_key(name) {
                if added_sections.contains(name) {
                    return Err(Error::new(
                        ErrorKind::DuplicateSection,
                        format!("section '{name}' already exists"),
                    )
                    .at(file.clone(), lineno));
                }
                added_sections.insert(name.to_string());
                cursect = Some(Some(name.to_string()));
            } else if name == "DEFAULT" {
                cursect = Some(None);
            } else {
                out.sections.insert(name.to_string(), Section::new());
                added_sections.insert(name.to_string());
                cursect = Some(Some(name.to_string()));
            }
            sectname = Some(name.to_string());
            optname = None;
            cur_piece = None;
            continue;
        }
        let Some(sect) = &cursect else {
            return Err(Error::new(
                ErrorKind::MissingSectionHeader,
                format!("File contains no section headers: {line:?}"),
            )
            .at(file.clone(), lineno));
        };
        let Some(dpos) = value.find(['=', ':']) else {
            bad_lines.push((lineno, line.to_string()));
            continue;
        };
        let name = py::strip(&value[..dpos]);
        if name.is_empty() {
            bad_lines.push((lineno, line.to_string()));
        }
        let name = py::lower(name);
        let key = (sectname.clone(), name.clone());
        if added.contains(&key) {
            let sn = sectname.as_deref().unwrap_or("DEFAULT");
            return Err(Error::new(
                ErrorKind::DuplicateOption,
                format!("option '{name}' in section '{sn}' already exists"),
            )
            .at(file.clone(), lineno));
        }
        added.insert(key);
        let val = py::strip(&value[dpos + 1..]).to_string();
        pieces.push(vec![val]);
        let p = pieces.len() - 1;
        cur_piece = Some(p);
        let target = match sect {
            None => &mut out.defaults,
            Some(s) => out.sections.get_mut(s).expect("current section exists"),
        };
        // the value is filled in after the join; remember the piece index in the line field
        target.insert(
            name.clone(),
            Opt {
                value: p.to_string(),
                src: Some(Src {
                    file: file.clone(),
                    line: lineno,
                }),
            },
        );
        optname = Some(name);
    }
    if !bad_lines.is_empty() {
        let (first, _) = bad_lines[0];
        let list: Vec<String> = bad_lines
            .iter()
            .map(|(n, l)| format!("[line {n:2}]: {l:?}"))
            .collect();
        return Err(Error::new(
            ErrorKind::Parsing,
            format!("Source contains parsing errors: {}", list.join(" ")),
        )
        .at(file.clone(), first));
    }
    let join = |sec: &mut Section| {
        let keys: Vec<String> = sec.keys().cloned().collect();
        for k in keys {
            let o = sec.get_mut(&k).expect("key listed");
            let p: usize = o.value.parse().expect("piece index");
            o.value = py::rstrip(&pieces[p].join("\n")).to_string();
        }
    };
    join(&mut out.defaults);
    let names: Vec<String> = out.sections.keys().cloned().collect();
    for n in names {
        join(out.sections.get_mut(&n).expect("listed"));
    }
    Ok(out)
}
