//! `%(name)s` interpolation: Python's `BasicInterpolation` plus fail2ban's
//! `BasicInterpolationWithName` (`%(__name__)s`, `%(sec/opt)s`, `%(default/opt)s`,
//! `%(known/opt)s`). Always evaluated in the context of the requesting section.

use crate::config::{Config, Vars};
use crate::error::{Error, ErrorKind};
use crate::loader::py_repr_str as repr;
use crate::parse::Section;
use crate::{py, scan};

/// Python's `MAX_INTERPOLATION_DEPTH`.
const MAX_DEPTH: usize = 10;

struct Ctx<'a> {
    cfg: &'a Config,
    sec_name: &'a str,
    sec: Option<&'a Section>,
    vars: &'a Vars,
    option: &'a str,
    rawval: &'a str,
}

pub(crate) fn interpolate(
    cfg: &Config,
    sec_name: &str,
    sec: Option<&Section>,
    vars: &Vars,
    option: &str,
    raw: &str,
) -> Result<String, Error> {
    let ctx = Ctx {
        cfg,
        sec_name,
        sec,
        vars,
        option,
        rawval: raw,
    };
    let mut out = String::with_capacity(raw.len());
    ctx.some(&mut out, raw, 1)?;
    Ok(out)
}

/// `%\(([\w\-]+/([^\)]+))\)s` applied to a raw reference name: (section, option).
fn section_ref(name: &str) -> Option<(&str, &str)> {
    let (s, o) = name.split_once('/')?;
    if s.is_empty() || o.is_empty() || !s.chars().all(|c| py::is_word(c) || c == '-') {
        return None;
    }
    Some((s, o))
}

impl<'a> Ctx<'a> {
    fn some(&self, out: &mut String, mut rest: &str, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::InterpolationDepth,
                format!(
                    "Recursion limit exceeded in value substitution: option {} in section {} \
                     contains an interpolation key which cannot be substituted in {MAX_DEPTH} steps. \
                     Raw value: {}",
                    repr(self.option),
                    repr(self.sec_name),
                    repr(self.rawval)
                ),
            ));
        }
        while !rest.is_empty() {
            let Some(p) = scan::find(rest, b'%') else {
                out.push_str(rest);
                return Ok(());
            };
            out.push_str(&rest[..p]);
            rest = &rest[p..];
            let c = rest[1..].chars().next();
            match c {
                Some('%') => {
                    out.push('%');
                    rest = &rest[2..];
                }
                Some('(') => {
                    // %\(([^)]+)\)s
                    let close = scan::find(&rest[2..], b')').map(|i| i + 2);
                    let name = match close {
                        Some(i) if i > 2 && rest[i + 1..].starts_with('s') => &rest[2..i],
                        _ => {
                            return Err(Error::new(
                                ErrorKind::InterpolationSyntax,
                                format!("bad interpolation variable reference {}", repr(rest)),
                            ))
                        }
                    };
                    let end = close.expect("checked") + 2;
                    rest = &rest[end..];
                    let var = py::lower_cow(name);
                    let v = self.lookup(&var, name).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InterpolationMissing,
                            format!(
                                "Bad value substitution: option {} in section {} contains an \
                                 interpolation key {} which is not a valid option name. Raw value: {}",
                                repr(self.option),
                                repr(self.sec_name),
                                repr(&var),
                                repr(self.rawval)
                            ),
                        )
                    })?;
                    if scan::contains(v, b'%') {
                        self.some(out, v, depth + 1)?;
                    } else {
                        out.push_str(v);
                    }
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::InterpolationSyntax,
                        format!("'%' must be followed by '%' or '(', found: {}", repr(rest)),
                    ))
                }
            }
        }
        Ok(())
    }

    /// The map lookup of `BasicInterpolationWithName`: `__name__`, then the chain
    /// vars → section → DEFAULT, then the `sec/opt` mapping of `_map_section_options`.
    fn lookup(&self, var: &str, raw_name: &str) -> Option<&'a str> {
        if var == "__name__" {
            return Some(self.sec_name);
        }
        if let Some((v, _)) = self.cfg.lookup_chain(self.sec, self.vars, var) {
            return Some(v);
        }
        // upstream stores the mapping under the raw (not lower-cased) name, so it is
        // only found when the reference was written in lower case
        if raw_name != var {
            return None;
        }
        let (s, o) = section_ref(raw_name)?;
        let sl = py::lower(s);
        let cfg = self.cfg;
        let from_default = || cfg.defaults().get(o).map(|x| x.value.as_str());
        if sl == "default" {
            return from_default();
        }
        if sl == "known" {
            let known = format!("KNOWN/{}", self.sec_name);
            return match cfg.raw_in_section(&known, o) {
                Some(Some(x)) => Some(x.value.as_str()),
                _ => from_default(),
            };
        }
        match cfg.raw_in_section(s, o) {
            None => None,
            Some(Some(x)) => Some(x.value.as_str()),
            Some(None) => from_default(),
        }
    }
}
