//! Option lookups shared between the readers of one filter or action file.
//!
//! Most jails read the same few filters and actions, and each reader looks up the
//! same `[Definition]` and `[Init]` options with interpolation. A lookup depends on
//! the file's merged config, the section and option names, and on the `vars` that
//! interpolation can reach. The names interpolation can reach are the `%(name)s`
//! references found anywhere in the file, plus the option itself. So two readers
//! whose vars agree on those names get the same result, and it is computed once.
//! When a reachable var holds a `%` (its value would be interpolated further) the
//! lookup is not shared.

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

use f2b_ini::{scan, Config, Vars};

/// Per-file caches of a reading context.
#[derive(Debug, Default)]
pub struct Memo {
    files: HashMap<String, FileMemo>,
}

#[derive(Debug, Default)]
struct FileMemo {
    /// Lower-cased names referenced by `%(name)s` in the file, sorted.
    refs: Vec<String>,
    /// A bit per (length, last byte) class of `refs`: most var names are in none.
    mask: u64,
    /// Vars restricted to `refs`, and their small id (a file sees few).
    ids: Vec<(Vec<Option<String>>, u32)>,
    /// Per (vars id, section) slot: option -> value.
    hits: Vec<HashMap<String, Option<String>>>,
}

/// The bit of a name's (length, last byte) class in `FileMemo::mask`.
fn name_bit(name: &str) -> u64 {
    let last = name.as_bytes().last().copied().unwrap_or(0) as usize;
    1 << ((name.len() * 7 + last) % 64)
}

/// Lower-cased names between `%(` and the next `)` in `v`.
fn collect_refs(v: &str, out: &mut Vec<String>) {
    let mut rest = v;
    // a byte search for `%`, then the `(`: faster than a substring search
    while let Some(p) = scan::find(rest, b'%') {
        if !rest[p + 1..].starts_with('(') {
            rest = &rest[p + 1..];
            continue;
        }
        rest = &rest[p + 2..];
        let Some(e) = scan::find(rest, b')') else {
            return;
        };
        out.push(f2b_ini::py::lower(&rest[..e]));
        rest = &rest[e..];
    }
}

/// A bit per (length, last byte) class of the names in `vars`, for
/// [`Memo::get_opt`]: a name whose bit is clear is not in `vars`.
pub fn names_mask(vars: &Vars) -> u64 {
    vars.iter().fold(0, |m, (k, _)| m | name_bit(k))
}

/// Python's vars lookup: the last entry with the key wins.
pub(crate) fn var<'a>(vars: &'a Vars, key: &str) -> Option<&'a str> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Memo {
    /// The id of `vars` as seen from `file` (whose merged config is `cfg`), or
    /// `None` when lookups with these vars must not be shared.
    pub fn vars_id(&mut self, file: &str, cfg: &Config, vars: &Vars) -> Option<u32> {
        if !self.files.contains_key(file) {
            let mut refs = Vec::new();
            for (_, o) in cfg.defaults().iter() {
                collect_refs(&o.value, &mut refs);
            }
            // `KNOWN/*` included: `%(known/x)s` reaches the old values too
            for (_, sec) in cfg.all_sections() {
                for (_, o) in sec.iter() {
                    collect_refs(&o.value, &mut refs);
                }
            }
            refs.sort();
            refs.dedup();
            let mask = refs.iter().fold(0, |m, r| m | name_bit(r));
            let fm = FileMemo {
                refs,
                mask,
                ..FileMemo::default()
            };
            self.files.insert(file.to_string(), fm);
        }
        let fm = self.files.get_mut(file).expect("inserted");
        // the value of each reachable name: one pass over vars (the last entry of a
        // name wins), looking the names up in the sorted refs
        let mut key: Vec<Option<&str>> = vec![None; fm.refs.len()];
        for (k, v) in vars.iter().rev() {
            if fm.mask & name_bit(k) == 0 {
                continue;
            }
            if let Ok(i) = fm.refs.binary_search_by(|r| r.as_str().cmp(k)) {
                if key[i].is_none() {
                    key[i] = Some(v.as_str());
                }
            }
        }
        if key
            .iter()
            .any(|v| v.is_some_and(|v| scan::contains(v, b'%')))
        {
            return None;
        }
        if let Some(&(_, id)) = fm.ids.iter().find(|(k, _)| {
            k.len() == key.len() && k.iter().zip(&key).all(|(a, b)| a.as_deref() == *b)
        }) {
            return Some(id);
        }
        let id = fm.ids.len() as u32;
        fm.ids
            .push((key.into_iter().map(|v| v.map(str::to_string)).collect(), id));
        Some(id)
    }

    /// Drops what is known about `file`.
    pub fn forget(&mut self, file: &str) {
        self.files.remove(file);
    }

    /// `cfg.get_opt(sec, opt, vars)` for `file`, shared between readers whose vars
    /// have the id `id` (from [`Memo::vars_id`]); errors are not kept. `names` is
    /// [`names_mask`] of `vars`.
    #[allow(clippy::too_many_arguments)]
    pub fn get_opt<E>(
        &mut self,
        file: &str,
        id: Option<u32>,
        cfg: &Config,
        sec: &str,
        opt: &str,
        vars: &Vars,
        names: u64,
        lookup: impl FnOnce(&Config, &str, &str, &Vars) -> Result<Option<String>, E>,
    ) -> Result<Option<String>, E> {
        // an option given in vars is returned (or interpolated) from there
        let sec_slot = match sec {
            "Definition" => 0,
            "Init" => 1,
            _ => return lookup(cfg, sec, opt, vars),
        };
        let (Some(id), Some(fm)) = (id, self.files.get_mut(file)) else {
            return lookup(cfg, sec, opt, vars);
        };
        let given = if opt.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            var(vars, &f2b_ini::py::lower(opt))
        } else if names & name_bit(opt) == 0 {
            None
        } else {
            var(vars, opt)
        };
        if given.is_some() {
            return lookup(cfg, sec, opt, vars);
        }
        let slot = id as usize * 2 + sec_slot;
        if fm.hits.len() <= slot {
            fm.hits.resize_with(slot + 1, HashMap::default);
        }
        if let Some(v) = fm.hits[slot].get(opt) {
            return Ok(v.clone());
        }
        let v = lookup(cfg, sec, opt, vars)?;
        fm.hits[slot].insert(opt.to_string(), v.clone());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        let f = f2b_ini::parse::parse_str(text, &std::sync::Arc::from("t.conf")).unwrap();
        Config::from_file(&f)
    }

    fn get(m: &mut Memo, c: &Config, opt: &str, vars: &Vars) -> Option<String> {
        let id = m.vars_id("t", c, vars);
        let names = names_mask(vars);
        m.get_opt::<f2b_ini::Error>("t", id, c, "Definition", opt, vars, names, |c, s, o, v| {
            c.get_opt(s, o, v)
        })
        .unwrap()
    }

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn shared_lookups_follow_the_reachable_vars() {
        let c = cfg("[Definition]\nport = 22\nx = p%(port)s/%(known/y)s\ny = 1\n");
        let mut m = Memo::default();
        // (vars, option, expected): each must equal an unshared lookup
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<&'a str>);
        let cases: &[Case] = &[
            (&[("known/y", "a")], "x", Some("p22/a")),
            (&[("known/y", "a"), ("logpath", "/l1")], "x", Some("p22/a")),
            (&[("known/y", "b"), ("logpath", "/l2")], "x", Some("p22/b")),
            (&[("known/y", "a"), ("port", "80")], "x", Some("p80/a")),
            (&[("known/y", "a"), ("x", "given")], "x", Some("given")),
            (&[("known/y", "%(port)s")], "x", Some("p22/22")),
            (&[("known/y", "a")], "y", Some("1")),
            (&[("known/y", "a")], "z", None),
        ];
        for &(v, opt, want) in cases {
            let v = vars(v);
            assert_eq!(get(&mut m, &c, opt, &v).as_deref(), want, "{v:?} {opt}");
            assert_eq!(c.get_opt("Definition", opt, &v).unwrap().as_deref(), want);
        }
    }
}
