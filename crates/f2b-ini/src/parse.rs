//! Parsing one file exactly like Python's `RawConfigParser._read` with fail2ban's
//! settings (`inline_comment_prefixes=";"`, strict, `=`/`:` delimiters, empty lines
//! kept inside values, lower-cased keys).

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Src};
use crate::omap::OMap;
use crate::{py, scan};

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
/// Sections are shared (`Arc`) with the merged configs that take them unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IniFile {
    /// Options of `[DEFAULT]`.
    pub defaults: Arc<Section>,
    /// Other sections, in order of first appearance.
    pub sections: OMap<Arc<Section>>,
}

/// An [`IniFile`] while it is parsed.
#[derive(Default)]
struct Building {
    defaults: Section,
    sections: OMap<Section>,
}

/// Splits text into lines like Python's universal-newline text mode.
fn lines(text: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    if !scan::contains(text, b'\r') {
        // the common case, split with the fast single-byte search
        let body = text.strip_suffix('\n').unwrap_or(text);
        if text.is_empty() {
            return Box::new(std::iter::empty());
        }
        return Box::new(scan::split(body, b'\n'));
    }
    let mut rest = text;
    Box::new(std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let b = rest.as_bytes();
        match b.iter().position(|&c| c == b'\n' || c == b'\r') {
            None => {
                let l = rest;
                rest = "";
                Some(l)
            }
            Some(i) => {
                let l = &rest[..i];
                let skip = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(l)
            }
        }
    }))
}

/// Python whitespace test for the character ending at byte `i` (exclusive).
fn space_before(line: &str, i: usize) -> bool {
    let b = line.as_bytes()[i - 1];
    if b < 0x80 {
        return py::is_space(b as char);
    }
    line[..i].chars().next_back().is_some_and(py::is_space)
}

/// Start of an inline `;` comment: at column 0 or preceded by whitespace.
fn inline_comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut from = 0;
    while let Some(off) = b[from..].iter().position(|&c| c == b';') {
        let i = from + off;
        if i == 0 || space_before(line, i) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Byte offset of the first non-whitespace character (0 if none).
fn indent_of(line: &str) -> usize {
    for (i, &c) in line.as_bytes().iter().enumerate() {
        if c < 0x80 {
            if !py::is_space(c as char) {
                return i;
            }
        } else {
            return line[i..]
                .char_indices()
                .find(|&(_, ch)| !py::is_space(ch))
                .map(|(j, _)| i + j)
                .unwrap_or(0);
        }
    }
    0
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
    let mut out = Building::default();
    // None = no section yet; Some(None) = DEFAULT; Some(Some(name)) = section
    let mut cursect: Option<Option<String>> = None;
    // the option whose value continuation lines extend
    // the option (its index in the current section) that continuation lines extend;
    // None also for an option with an empty name, which takes no continuation
    let mut optname: Option<usize> = None;
    let mut indent_level = 0usize;
    let mut added_sections: Vec<String> = Vec::new();
    let mut bad_lines: Vec<(u32, String)> = Vec::new();

    fn target<'a>(out: &'a mut Building, sect: &Option<String>) -> &'a mut Section {
        match sect {
            None => &mut out.defaults,
            Some(s) => out.sections.get_mut(s).expect("current section exists"),
        }
    }

    for (idx, line) in lines(text).enumerate() {
        let lineno = idx as u32 + 1;
        let stripped = py::strip(line);
        let comment_start = if stripped.starts_with('#') || stripped.starts_with(';') {
            Some(0)
        } else {
            inline_comment_start(line)
        };
        let value = match comment_start {
            Some(0) => "",
            Some(i) => py::strip(&line[..i]),
            None => stripped,
        };
        let continuing = cursect.is_some() && optname.is_some();
        if value.is_empty() {
            if comment_start.is_none() && continuing {
                let (sect, idx) = (
                    cursect.as_ref().expect("checked"),
                    optname.expect("checked"),
                );
                if let Some(o) = target(&mut out, sect).get_index_mut(idx) {
                    o.value.push('\n');
                }
            }
            continue;
        }
        let cur_indent = indent_of(line);
        if continuing && cur_indent > indent_level {
            let (sect, idx) = (
                cursect.as_ref().expect("checked"),
                optname.expect("checked"),
            );
            if let Some(o) = target(&mut out, sect).get_index_mut(idx) {
                o.value.push('\n');
                o.value.push_str(value);
            }
            continue;
        }
        indent_level = cur_indent;
        if let Some(name) = section_header(value) {
            if out.sections.contains_key(name) {
                if added_sections.iter().any(|s| s == name) {
                    return Err(Error::new(
                        ErrorKind::DuplicateSection,
                        format!("section '{name}' already exists"),
                    )
                    .at(file.clone(), lineno));
                }
                added_sections.push(name.to_string());
                cursect = Some(Some(name.to_string()));
            } else if name == "DEFAULT" {
                cursect = Some(None);
            } else {
                out.sections.insert(name.to_string(), Section::new());
                added_sections.push(name.to_string());
                cursect = Some(Some(name.to_string()));
            }
            optname = None;
            continue;
        }
        let Some(sect) = &cursect else {
            return Err(Error::new(
                ErrorKind::MissingSectionHeader,
                format!(
                    "File contains no section headers: {}",
                    crate::loader::py_repr_str(line)
                ),
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
        let section = target(&mut out, sect);
        // options of this file only: a section appears once per file (DEFAULT may repeat,
        // its options still count once), so presence means a duplicate
        if section.contains_key(&name) {
            let sn = sect.as_deref().unwrap_or("DEFAULT");
            return Err(Error::new(
                ErrorKind::DuplicateOption,
                format!("option '{name}' in section '{sn}' already exists"),
            )
            .at(file.clone(), lineno));
        }
        let nonempty = !name.is_empty();
        section.insert(
            name,
            Opt {
                value: py::strip(&value[dpos + 1..]).to_string(),
                src: Some(Src {
                    file: file.clone(),
                    line: lineno,
                }),
            },
        );
        optname = nonempty.then(|| section.len() - 1);
    }
    if !bad_lines.is_empty() {
        let (first, _) = bad_lines[0];
        let list: Vec<String> = bad_lines
            .iter()
            .map(|(n, l)| format!("[line {n:2}]: {}", crate::loader::py_repr_str(l)))
            .collect();
        return Err(Error::new(
            ErrorKind::Parsing,
            format!("Source contains parsing errors: {}", list.join(" ")),
        )
        .at(file.clone(), first));
    }
    // `_join_multiline_values`: the joined value is right-stripped
    let rstrip_all = |sec: &mut Section| {
        for (_, o) in sec.iter_mut() {
            let n = py::rstrip(&o.value).len();
            o.value.truncate(n);
        }
    };
    rstrip_all(&mut out.defaults);
    let mut sections = OMap::with_capacity(out.sections.len());
    for (name, mut sec) in out.sections.into_entries() {
        rstrip_all(&mut sec);
        sections.push_unique(name, Arc::new(sec));
    }
    Ok(IniFile {
        defaults: Arc::new(out.defaults),
        sections,
    })
}
