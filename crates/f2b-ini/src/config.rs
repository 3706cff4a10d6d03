//! The merged configuration (`SafeConfigParserWithIncludes` after `read`): DEFAULT
//! merged key by key, sections updated with their old values kept in `KNOWN/<sec>`,
//! `[Name?cond]` folded into `[Name]`, and option lookup with lazy interpolation.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Src};
use crate::interp;
use crate::omap::OMap;
use crate::parse::{IniFile, Opt, Section};
use crate::{py, scan};

/// Caller-supplied overrides for one lookup (`vars=` of Python's `get`); keys must
/// already be lower-cased (see [`lower_vars`]), values in Python `str()` form; a
/// later entry wins over an earlier one with the same key.
pub type Vars = [(String, String)];

/// A merged configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    defaults: Arc<Section>,
    sections: OMap<Arc<Section>>,
}

/// `^(\w+)(\?.+)$`: a conditional section name, split into base and `?cond`.
pub fn split_conditional(name: &str) -> Option<(&str, &str)> {
    let q = name.find('?')?;
    let (base, cond) = name.split_at(q);
    if base.is_empty() || !base.chars().all(py::is_word) || cond.len() < 2 {
        return None;
    }
    Some((base, cond))
}

impl Config {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configuration holding exactly one file (no folding of conditional sections),
    /// as a single-file Python parser would see it.
    pub fn from_file(f: &IniFile) -> Self {
        Config {
            defaults: f.defaults.clone(),
            sections: f.sections.clone(),
        }
    }

    /// Merges one more file (later files win), recording overwritten values in
    /// `KNOWN/<section>` and folding `[Name?cond]` sections.
    pub fn merge_file(&mut self, f: &IniFile) {
        if self.defaults.is_empty() {
            // shared until changed
            self.defaults = f.defaults.clone();
        } else if !f.defaults.is_empty() {
            Arc::make_mut(&mut self.defaults).update(&f.defaults);
        }
        for (orig, sec) in f.sections.iter() {
            let folded;
            let (name, sec) = match split_conditional(orig) {
                Some((base, cond)) => {
                    let mut s = Section::new();
                    for (k, v) in sec.iter() {
                        s.insert(format!("{k}{cond}"), v.clone());
                    }
                    folded = Arc::new(s);
                    (base, &folded)
                }
                None => (orig.as_str(), sec),
            };
            if let Some(old) = self.sections.get(name) {
                let mut known = Section::new();
                for (k, v) in old.iter() {
                    if sec.contains_key(k) {
                        known.insert(k.clone(), v.clone());
                    }
                }
                self.merge_section(&format!("KNOWN/{name}"), &known, "");
                Arc::make_mut(self.sections.get_mut(name).expect("present")).update(sec);
            } else {
                self.sections.insert(name.to_string(), sec.clone());
            }
        }
    }

    /// `merge_section(section, options, pref)`: creates the section if needed; with a
    /// prefix, every key not already starting with it is stored as `pref + key`.
    pub fn merge_section(&mut self, section: &str, options: &Section, pref: &str) {
        let sec = Arc::make_mut(
            self.sections
                .entry_or_insert_with(section, || Arc::new(Section::new())),
        );
        if pref.is_empty() {
            sec.update(options);
            return;
        }
        for (k, v) in options.iter() {
            if !k.starts_with(pref) && k != "__name__" {
                let mut key = String::with_capacity(pref.len() + k.len());
                key.push_str(pref);
                key.push_str(k);
                sec.insert(key, v.clone());
            }
        }
    }

    /// [`Config::merge_section`] with owned, injected values.
    pub fn merge_section_owned(
        &mut self,
        section: &str,
        options: impl IntoIterator<Item = (String, String)>,
        pref: &str,
    ) {
        let sec = Arc::make_mut(
            self.sections
                .entry_or_insert_with(section, || Arc::new(Section::new())),
        );
        for (k, v) in options {
            if pref.is_empty() {
                sec.insert(k, Opt::injected(v));
            } else if !k.starts_with(pref) && k != "__name__" {
                let mut key = String::with_capacity(pref.len() + k.len());
                key.push_str(pref);
                key.push_str(&k);
                sec.insert(key, Opt::injected(v));
            }
        }
    }

    /// Adds/overrides DEFAULT options (`merge_defaults`).
    pub fn merge_defaults(&mut self, opts: &[(&str, &str)]) {
        for (k, v) in opts {
            Arc::make_mut(&mut self.defaults).insert(k.to_string(), Opt::injected(*v));
        }
    }

    /// Section names in order, without the hidden `KNOWN/*` ones.
    pub fn sections(&self) -> impl Iterator<Item = &String> {
        self.sections.keys().filter(|n| !n.starts_with("KNOWN/"))
    }

    /// All sections in order, the hidden `KNOWN/*` ones included.
    pub fn all_sections(&self) -> impl Iterator<Item = (&String, &Section)> {
        self.sections.iter().map(|(k, v)| (k, &**v))
    }

    /// True when the section exists (KNOWN/ included, like Python).
    pub fn has_section(&self, sec: &str) -> bool {
        self.sections.contains_key(sec)
    }

    /// The section's own options (no DEFAULT), raw.
    pub fn section(&self, sec: &str) -> Option<&Section> {
        self.sections.get(sec).map(|s| &**s)
    }

    /// The DEFAULT options, raw.
    pub fn defaults(&self) -> &Section {
        &self.defaults
    }

    /// Python's `has_option(section, option)` (DEFAULT counts).
    pub fn has_option(&self, sec: &str, opt: &str) -> bool {
        let opt = py::lower(opt);
        if sec.is_empty() || sec == "DEFAULT" {
            return self.defaults.contains_key(&opt);
        }
        match self.sections.get(sec) {
            None => false,
            Some(s) => s.contains_key(&opt) || self.defaults.contains_key(&opt),
        }
    }

    /// Option names of a section: own ones in order, then DEFAULT's not yet listed
    /// when `with_default` (upstream returns an unordered set there).
    pub fn options(&self, sec: &str, with_default: bool) -> Result<Vec<String>, Error> {
        let s = self.sections.get(sec).ok_or_else(|| {
            Error::new(
                ErrorKind::NoSection,
                format!("No section: {}", crate::loader::py_repr_str(sec)),
            )
        })?;
        let mut out: Vec<String> = s.keys().cloned().collect();
        if with_default {
            out.extend(self.defaults.keys().filter(|k| !s.contains_key(k)).cloned());
        }
        Ok(out)
    }

    /// Looks up the raw value in the chain vars → section → DEFAULT.
    pub(crate) fn lookup_chain<'a>(
        &'a self,
        sec: Option<&'a Section>,
        vars: &'a Vars,
        key: &str,
    ) -> Option<(&'a str, Option<&'a Src>)> {
        if let Some((_, v)) = vars.iter().rev().find(|(k, _)| k == key) {
            return Some((v.as_str(), None));
        }
        if let Some(o) = sec.and_then(|s| s.get(key)) {
            return Some((o.value.as_str(), o.src.as_ref()));
        }
        self.defaults
            .get(key)
            .map(|o| (o.value.as_str(), o.src.as_ref()))
    }

    fn unify(&self, sec: &str) -> Result<Option<&Section>, Error> {
        match self.sections.get(sec) {
            Some(s) => Ok(Some(s)),
            None if sec == "DEFAULT" => Ok(None),
            None => Err(Error::new(
                ErrorKind::NoSection,
                format!("No section: {}", crate::loader::py_repr_str(sec)),
            )),
        }
    }

    /// Raw value (no interpolation) of `opt` in `sec`, with DEFAULT and vars.
    pub fn get_raw(&self, sec: &str, opt: &str, vars: &Vars) -> Result<String, Error> {
        let s = self.unify(sec)?;
        let key = py::lower_cow(opt);
        self.lookup_chain(s, vars, &key)
            .map(|(v, _)| v.to_string())
            .ok_or_else(|| no_option(&key, sec))
    }

    /// Where `opt` of `sec` (or DEFAULT) was defined.
    pub fn src_of(&self, sec: &str, opt: &str) -> Option<&Src> {
        let key = py::lower_cow(opt);
        self.sections
            .get(sec)
            .and_then(|s| s.get(&key))
            .or_else(|| self.defaults.get(&key))
            .and_then(|o| o.src.as_ref())
    }

    /// Like [`Config::get`] but a missing section or option is `Ok(None)` (no error
    /// value is built; this is the hot path of the readers).
    pub fn get_opt(&self, sec: &str, opt: &str, vars: &Vars) -> Result<Option<String>, Error> {
        let s = match self.sections.get(sec) {
            Some(s) => Some(&**s),
            None if sec == "DEFAULT" => None,
            None => return Ok(None),
        };
        let key = py::lower_cow(opt);
        let Some((raw, src)) = self.lookup_chain(s, vars, &key) else {
            return Ok(None);
        };
        if !scan::contains(raw, b'%') {
            return Ok(Some(raw.to_string()));
        }
        interp::interpolate(self, sec, s, vars, &key, raw)
            .map(Some)
            .map_err(|e| e.or_at(src))
    }

    /// Python's `get(section, option, vars=vars)`: lookup plus lazy `%(x)s`
    /// interpolation in the context of `sec`.
    pub fn get(&self, sec: &str, opt: &str, vars: &Vars) -> Result<String, Error> {
        let s = self.unify(sec)?;
        let key = py::lower_cow(opt);
        let (raw, src) = self
            .lookup_chain(s, vars, &key)
            .ok_or_else(|| no_option(&key, sec))?;
        if !scan::contains(raw, b'%') {
            return Ok(raw.to_string());
        }
        interp::interpolate(self, sec, s, vars, &key, raw).map_err(|e| e.or_at(src))
    }

    /// fail2ban's `get_ex`: like [`Config::get`] but an option named `sec/opt`
    /// (`known/opt`, `default/opt`) is first looked up in that section.
    pub fn get_ex(&self, sec: &str, opt: &str, vars: &Vars) -> Result<String, Error> {
        match self.get_ex_opt(sec, opt, vars)? {
            Some(v) => Ok(v),
            None => self.get(sec, opt, vars),
        }
    }

    /// [`Config::get_ex`] with a missing section/option as `Ok(None)`.
    pub fn get_ex_opt(&self, sec: &str, opt: &str, vars: &Vars) -> Result<Option<String>, Error> {
        if let Some((s, o)) = split_section_opt(opt) {
            let sl = py::lower(s);
            let cands: Vec<String> = if sl == "known" {
                vec![format!("KNOWN/{sec}"), sec.to_string()]
            } else if sl == "default" {
                vec!["DEFAULT".to_string()]
            } else {
                vec![s.to_string()]
            };
            for c in cands {
                if let Some(v) = self.get_opt(&c, o, &[])? {
                    return Ok(Some(v));
                }
            }
        }
        self.get_opt(sec, opt, vars)
    }

    /// Raw value of `opt` in section `sec` itself (no DEFAULT), for `%(sec/opt)s`.
    pub(crate) fn raw_in_section(&self, sec: &str, opt: &str) -> Option<Option<&Opt>> {
        self.sections.get(sec).map(|s| s.get(opt))
    }
}

/// `^([\w\-]+)/([^\s>]+)$` (SECTION_OPTNAME_CRE).
fn split_section_opt(opt: &str) -> Option<(&str, &str)> {
    let (s, o) = opt.split_once('/')?;
    if s.is_empty() || !s.chars().all(|c| py::is_word(c) || c == '-') {
        return None;
    }
    if o.is_empty() || o.chars().any(|c| py::is_space(c) || c == '>') {
        return None;
    }
    Some((s, o))
}

pub(crate) fn no_option(key: &str, sec: &str) -> Error {
    Error::new(
        ErrorKind::NoOption,
        format!(
            "No option {} in section: {}",
            crate::loader::py_repr_str(key),
            crate::loader::py_repr_str(sec)
        ),
    )
}

/// Lower-cases the keys of a vars list (what Python's `get` does with `vars`).
pub fn lower_vars(vars: &[(String, String)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (py::lower(k), v.clone()))
        .collect()
}
