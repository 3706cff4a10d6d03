//! Shared reading state (upstream's `share_config`): the base directory, the file
//! loader with its caches, merged configs by logical name, and the log sink.

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
use std::rc::Rc;

use f2b_ini::{Config, Diags, Level, Loader, OMap};
use f2b_protocol::Value;

use crate::error::Error;

/// Reading context shared by all readers of one configuration load.
#[derive(Debug)]
pub struct Ctx {
    /// Base directory without trailing `/` (`-c DIR`).
    pub basedir: String,
    /// File loader and caches.
    pub loader: Loader,
    configs: HashMap<String, (Rc<Config>, bool)>,
    /// Option lookups shared between readers of the same filter or action file.
    pub memo: crate::memo::Memo,
    /// Tag substitutions shared between readers of the same filter or action file.
    pub tag_memo: crate::tagmemo::TagMemo,
    /// Logical names whose caches were dropped by [`Ctx::evict`].
    evicted: std::collections::HashSet<String, foldhash::fast::FixedState>,
    /// Directory listings for the `logpath` checks.
    pub log_dirs: crate::glob::DirCache,
}

/// Option types of the readers' option templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptType {
    /// Plain string.
    Str,
    /// Python `int()`.
    Int,
    /// `_as_bool`.
    Bool,
}

/// One template entry: (type, name, default).
pub type OptSpec = (OptType, &'static str, Option<DefVal>);

/// A template default value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefVal {
    /// A string default.
    Str(&'static str),
    /// A bool default.
    Bool(bool),
}

impl DefVal {
    pub(crate) fn value(self) -> Value {
        match self {
            DefVal::Str(s) => Value::str(s),
            DefVal::Bool(b) => Value::Bool(b),
        }
    }
}

/// Python `str()` of a typed option value (for `vars=`), `None` for Python `None`.
pub fn py_str(v: &Value) -> Option<String> {
    match v {
        Value::None => None,
        Value::Str(s) => Some(s.clone()),
        other => Some(other.str_()),
    }
}

/// Turns a Python dict of typed values into lower-cased `vars`.
pub fn to_vars(p: &OMap<Value>) -> Vec<(String, String)> {
    p.iter()
        .filter_map(|(k, v)| py_str(v).map(|s| (f2b_ini::py::lower_cow(k).into_owned(), s)))
        .collect()
}

impl Ctx {
    /// A fresh context for `basedir` (trailing `/` stripped like upstream).
    pub fn new(basedir: &str) -> Self {
        Ctx {
            basedir: basedir.trim_end_matches('/').to_string(),
            loader: Loader::new(),
            configs: HashMap::default(),
            memo: crate::memo::Memo::default(),
            tag_memo: crate::tagmemo::TagMemo::default(),
            evicted: Default::default(),
            log_dirs: Default::default(),
        }
    }

    /// The log sink.
    pub fn diags(&mut self) -> &mut Diags {
        &mut self.loader.diags
    }

    /// Logs one record.
    pub fn log(&mut self, level: Level, logger: &'static str, msg: impl Into<String>) {
        self.loader.diags.push(level, logger, msg);
    }

    /// Reads (once) the merged config for a logical name like `filter.d/sshd`;
    /// the flag tells whether any file was read.
    pub fn read_shared(&mut self, name: &str) -> Result<(Rc<Config>, bool), Error> {
        if let Some((c, ok)) = self.configs.get(name) {
            return Ok((c.clone(), *ok));
        }
        let basedir = self.basedir.clone();
        // a name read before (then evicted) logs nothing, as if it had stayed cached
        let mark = self
            .evicted
            .contains(name)
            .then_some(self.loader.diags.records.len());
        let r = match self.loader.read_named(&basedir, name)? {
            Some(c) => (Rc::new(c), true),
            None => (Rc::new(Config::new()), false),
        };
        if let Some(m) = mark {
            self.loader.diags.records.truncate(m);
        }
        self.configs.insert(name.to_string(), r.clone());
        Ok(r)
    }

    /// Drops the caches of a logical name read by [`Ctx::read_shared`] (its merged
    /// config, its memo, the parses of its own files), so that their memory is used
    /// again; a later read of the name gives the same config and logs nothing.
    pub fn evict(&mut self, name: &str) {
        if self.configs.remove(name).is_none() {
            return;
        }
        self.memo.forget(name);
        let base = f2b_ini::py::path_join(&self.basedir, name);
        for ext in [".conf", ".local"] {
            self.loader.forget(&f2b_ini::py::concat(&[&base, ext]));
        }
        self.evicted.insert(name.to_string());
    }

    /// Reads a logical name into a fresh (owned, mutable) config.
    pub fn read_owned(&mut self, name: &str) -> Result<(Config, bool), Error> {
        let basedir = self.basedir.clone();
        Ok(match self.loader.read_named(&basedir, name)? {
            Some(c) => (c, true),
            None => (Config::new(), false),
        })
    }
}

const LOGGER: &str = "fail2ban.configreader";

/// `ConfigReaderUnshared.getOptions`: reads the template's options from `sec`,
/// skipping names present in `p_opts`, with upstream's fallbacks and warnings.
pub fn get_options(
    ctx: &mut Ctx,
    cfg: &Config,
    sec: &str,
    template: &[OptSpec],
    p_opts: &OMap<Value>,
    should_exist: bool,
    convert: bool,
) -> Result<OMap<Value>, Error> {
    let vars = to_vars(p_opts);
    get_options_memo(
        ctx,
        cfg,
        None,
        sec,
        template,
        &|n| p_opts.contains_key(n),
        &vars,
        should_exist,
        convert,
    )
}

/// [`get_options`] with the pre-set names given as a predicate and the vars ready; with
/// `shared = Some((file, id))` the lookups go through the
/// context's [`Memo`](crate::memo::Memo) for that (read-only, shared) file config,
/// `id` being the id of `vars` there ([`Memo::vars_id`](crate::memo::Memo::vars_id)).
#[allow(clippy::too_many_arguments)]
pub fn get_options_memo(
    ctx: &mut Ctx,
    cfg: &Config,
    shared: Option<(&str, Option<u32>)>,
    sec: &str,
    template: &[OptSpec],
    preset: &dyn Fn(&str) -> bool,
    vars: &[(String, String)],
    should_exist: bool,
    convert: bool,
) -> Result<OMap<Value>, Error> {
    let mut values = OMap::with_capacity(template.len());
    let no_section = sec != "DEFAULT" && !cfg.has_section(sec);
    let names = shared.map_or(0, |_| crate::memo::names_mask(vars));
    for &(ty, name, default) in template {
        if preset(name) {
            continue;
        }
        let got = if no_section {
            Err(f2b_ini::Error::new(
                f2b_ini::ErrorKind::NoSection,
                format!("No section: {}", f2b_ini::loader::py_repr_str(sec)),
            ))
        } else if let Some((file, id)) = shared {
            ctx.memo
                .get_opt(file, id, cfg, sec, name, vars, names, |c, s, o, v| {
                    c.get_opt(s, o, v)
                })
        } else {
            cfg.get_opt(sec, name, vars)
        };
        match got {
            Ok(Some(v)) => {
                if !convert {
                    values.insert(name.to_string(), Value::Str(v));
                    continue;
                }
                match ty {
                    OptType::Str => values.insert(name.to_string(), Value::Str(v)),
                    OptType::Bool => {
                        values.insert(name.to_string(), Value::Bool(crate::helpers::as_bool(&v)))
                    }
                    OptType::Int => {
                        match crate::helpers::py_int(&v) {
                            Some(i) => values.insert(name.to_string(), Value::Int(i)),
                            None => {
                                let d = default.map(DefVal::value).unwrap_or(Value::None);
                                ctx.log(
                                Level::Warning,
                                LOGGER,
                                format!("Wrong value for '{name}' in '{sec}'. Using default one: '{}'", d.repr()),
                            );
                                values.insert(name.to_string(), d);
                            }
                        }
                    }
                }
            }
            Ok(None) => {
                if let Some(d) = default {
                    let d = d.value();
                    ctx.log(
                        Level::Warning,
                        LOGGER,
                        format!(
                            "'{name}' not defined in '{sec}'. Using default one: {}",
                            d.repr()
                        ),
                    );
                    values.insert(name.to_string(), d);
                }
            }
            Err(e) if e.kind() == f2b_ini::ErrorKind::NoSection => {
                if should_exist {
                    return Err(e.into());
                }
                ctx.log(Level::Error, LOGGER, e.message().to_string());
                values.insert(
                    name.to_string(),
                    default.map(DefVal::value).unwrap_or(Value::None),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(values)
}
