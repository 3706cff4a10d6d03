//! Readers of files with `[Definition]` and `[Init]` sections
//! (`DefinitionInitConfigReader`): filters (`filter.d/`) and actions (`action.d/`).
//!
//! Precedence of a parameter, highest first: argument in the jail's spec
//! (`sshd[mode=aggressive]`) → `[Init]` → `[Definition]`. Combined options get
//! read-time `<tag>` substitution.

use std::rc::Rc;

use f2b_ini::{scan, split_conditional, Config, Level, OMap};
use f2b_protocol::Value;

use crate::ctx::{get_options_memo, py_str, to_vars, Ctx, OptSpec, OptType};
use crate::error::Error;
use crate::helpers::{as_bool, py_int};
use crate::shlex::shlex_split;
use crate::tagmemo::substitute_shared;
use crate::tags::TagError;

/// Options of a filter (`FilterReader._configOpts`).
pub const FILTER_OPTS: &[OptSpec] = &[
    (OptType::Str, "usedns", None),
    (OptType::Str, "prefregex", None),
    (OptType::Str, "ignoreregex", None),
    (OptType::Str, "failregex", None),
    (OptType::Int, "maxlines", None),
    (OptType::Str, "datepattern", None),
    (OptType::Str, "journalmatch", None),
];

/// Options of an action (`ActionReader._configOpts`).
pub const ACTION_OPTS: &[OptSpec] = &[
    (OptType::Str, "actionstart", None),
    (OptType::Bool, "actionstart_on_demand", None),
    (OptType::Str, "actionstop", None),
    (OptType::Str, "actionflush", None),
    (OptType::Str, "actionreload", None),
    (OptType::Str, "actioncheck", None),
    (OptType::Str, "actionrepair", None),
    (OptType::Bool, "actionrepair_on_unban", None),
    (OptType::Str, "actionban", None),
    (OptType::Str, "actionprolong", None),
    (OptType::Str, "actionreban", None),
    (OptType::Str, "actionunban", None),
    (OptType::Bool, "norestored", None),
];

const LOGGER: &str = "fail2ban.configreader";

/// State of one filter or action reader.
#[derive(Debug)]
pub struct DefInit {
    /// Logical file name (`filter.d/sshd`).
    pub file: String,
    /// Jail this reader belongs to.
    pub jail: String,
    /// `_initOpts`: jail-spec arguments, `[Init]` options, `known/*`.
    pub init_opts: OMap<String>,
    vars: Vec<(String, String)>,
    /// `_opts`: `[Definition]` options read.
    pub opts: OMap<Value>,
    def_cache: OMap<Option<String>>,
    /// Id of `vars` in the context's memo (computed on first use).
    vars_id: Option<Option<u32>>,
    /// [`crate::memo::names_mask`] of `vars`.
    vars_names: u64,
    cfg: Rc<Config>,
    config_opts: &'static [OptSpec],
}

impl DefInit {
    /// A reader for `file` (e.g. `filter.d/sshd`) with the jail's arguments.
    pub fn new(
        file: String,
        jail: &str,
        init_opts: OMap<String>,
        config_opts: &'static [OptSpec],
    ) -> Self {
        DefInit {
            file,
            jail: jail.to_string(),
            init_opts,
            vars: Vec::new(),
            opts: OMap::new(),
            def_cache: OMap::new(),
            vars_id: None,
            vars_names: 0,
            cfg: Rc::new(Config::new()),
            config_opts,
        }
    }

    /// Reads the files; false when none could be read.
    pub fn read(&mut self, ctx: &mut Ctx) -> Result<bool, Error> {
        let (cfg, ok) = ctx.read_shared(&self.file)?;
        self.cfg = cfg;
        Ok(ok)
    }

    /// The merged config of this reader.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// `getOptions(pOpts, all)`.
    pub fn get_options(
        &mut self,
        ctx: &mut Ctx,
        p_opts: &OMap<Value>,
        all: bool,
    ) -> Result<(), Error> {
        // upstream merges the jail's options with the init options (init wins) and uses
        // the result both as the names to skip and as interpolation vars
        let mut vars = to_vars(p_opts);
        vars.extend(
            self.init_opts
                .iter()
                .map(|(k, v)| (f2b_ini::py::lower_cow(k).into_owned(), v.clone())),
        );
        let init = &self.init_opts;
        let preset = |n: &str| p_opts.contains_key(n) || init.contains_key(n);
        let cfg = self.cfg.clone();
        let file = self.file.clone();
        let id = ctx.memo.vars_id(&file, &cfg, &vars);
        self.opts = get_options_memo(
            ctx,
            &cfg,
            Some((&file, id)),
            "Definition",
            self.config_opts,
            &preset,
            &vars,
            false,
            false,
        )?;
        self.vars_names = crate::memo::names_mask(&vars);
        self.vars = vars;
        self.vars_id = Some(id);
        // the remaining lookups use no vars: shared by every reader of this file
        let plain = ctx.memo.vars_id(&file, &cfg, &[]);
        let get = |ctx: &mut Ctx, sec: &str, opt: &str| -> Result<String, Error> {
            let v = ctx
                .memo
                .get_opt(&file, plain, &cfg, sec, opt, &[], 0, |c, s, o, v| {
                    c.get(s, o, v).map(Some)
                })?;
            match v {
                Some(v) => Ok(v),
                None => Ok(cfg.get(sec, opt, &[])?),
            }
        };
        if cfg.has_section("Init") {
            for opt in cfg.options("Init", false)? {
                if opt == "__name__" {
                    continue;
                }
                let mut v = None;
                if !opt.starts_with("known/") {
                    let got = get(ctx, "Init", &opt)?;
                    let mut known = String::with_capacity(opt.len() + 6);
                    known.push_str("known/");
                    known.push_str(&opt);
                    self.init_opts.insert(known, got.clone());
                    v = Some(got);
                }
                if !self.init_opts.contains_key(&opt) {
                    let got = match v {
                        Some(v) => v,
                        None => get(ctx, "Init", &opt)?,
                    };
                    self.init_opts.insert(opt, got);
                }
            }
        }
        if all && cfg.has_section("Definition") {
            let opts = cfg.options("Definition", true)?;
            self.opts.reserve(opts.len());
            for opt in opts {
                if opt == "__name__" || self.opts.contains_key(&opt) {
                    continue;
                }
                // not kept in the memo: only a jail's first read of its filter reads
                // all options, and the filter's caches go with the jail
                let v = cfg.get("Definition", &opt, &[])?;
                self.opts.insert(opt, Value::Str(v));
            }
        }
        Ok(())
    }

    /// `getCombOption`: `[Definition]` option with `sec/opt` support, using the
    /// pre-set options as vars; cached per reader.
    fn comb_option(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        vars: &[(String, String)],
        id: Option<u32>,
    ) -> Result<Option<String>, Error> {
        if let Some(v) = self.def_cache.get(name) {
            return Ok(v.clone());
        }
        let v = ctx.memo.get_opt(
            &self.file,
            id,
            &self.cfg,
            "Definition",
            name,
            vars,
            self.vars_names,
            |c, s, o, v| c.get_ex_opt(s, o, v),
        )?;
        self.def_cache.insert(name.to_string(), v.clone());
        Ok(v)
    }

    /// `getCombined(ignore)`: options merged with init options, tags substituted,
    /// typed options converted.
    pub fn get_combined(&mut self, ctx: &mut Ctx, ignore: &[&str]) -> Result<OMap<Value>, Error> {
        let list = self.combined(ctx, ignore)?;
        let mut out = OMap::with_capacity(list.len());
        for (k, v) in list {
            out.push_unique(k, v);
        }
        Ok(out)
    }

    /// [`DefInit::get_combined`] as a list in the merged order.
    pub fn combined(
        &mut self,
        ctx: &mut Ctx,
        ignore: &[&str],
    ) -> Result<Vec<(String, Value)>, Error> {
        // upstream merges `_opts` with `_initOpts` (init wins); None values take no
        // part in substitution (they are never replaced and never replace)
        let total = self.opts.len() + self.init_opts.len();
        let mut sub: Vec<(String, String)> = Vec::with_capacity(total);
        // (position in the merged order, name) of the None values
        let mut nones: Vec<(usize, String)> = Vec::new();
        for (pos, (k, v)) in self.opts.iter().enumerate() {
            let v = match self.init_opts.get(k) {
                Some(iv) => Some(iv.clone()),
                None => py_str(v),
            };
            match v {
                Some(v) => sub.push((k.clone(), v)),
                None => nones.push((pos, k.clone())),
            }
        }
        for (k, v) in self.init_opts.iter() {
            if !self.opts.contains_key(k) {
                sub.push((k.clone(), v.clone()));
            }
        }
        if sub.is_empty() && nones.is_empty() {
            return Ok(Vec::new());
        }
        let mut ign: Vec<String> = ignore.iter().map(|s| s.to_string()).collect();
        let names = sub
            .iter()
            .map(|(k, _)| k)
            .chain(nones.iter().map(|(_, k)| k));
        for k in names {
            // `?` is rare: test it before the full pattern
            if k.bytes().any(|b| b == b'?') {
                if let Some((base, _)) = split_conditional(k) {
                    ign.push(base.to_string());
                }
            }
        }
        let file = self.file.clone();
        let id = match self.vars_id {
            Some(id) => id,
            None => {
                let id = ctx.memo.vars_id(&self.file, &self.cfg, &self.vars);
                self.vars_id = Some(id);
                id
            }
        };
        // readers of this file with the same memo id get the same fallback answers
        // for the tags their vars do not give (see `Memo`)
        let vars = std::mem::take(&mut self.vars);
        let given = |t: &str| crate::memo::var(&vars, &f2b_ini::py::lower_cow(t)).is_some();
        let same = id.map(|id| (id, &given as &dyn Fn(&str) -> bool));
        let r = substitute_shared(
            ctx,
            |c| &mut c.tag_memo,
            &file,
            &mut sub,
            &ign,
            same,
            |c, t| self.comb_option(c, t, &vars, id),
        );
        self.vars = vars;
        r.map_err(|e| match e {
            TagError::Recursive(m) => Error::value(format!("{file}: {m}")),
            TagError::Lookup(e) => e,
        })?;
        let mut out: Vec<(String, Value)> = Vec::with_capacity(sub.len() + nones.len());
        let mut nones = nones.into_iter().peekable();
        for (k, v) in sub {
            while let Some((_, n)) = nones.next_if(|(p, _)| *p == out.len()) {
                out.push((n, Value::None));
            }
            out.push((k, Value::Str(v)));
        }
        out.extend(nones.map(|(_, n)| (n, Value::None)));
        for &(ty, name, _) in self.config_opts {
            if ty == OptType::Str {
                continue;
            }
            let Some(slot) = out.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v) else {
                continue;
            };
            let Value::Str(v) = &*slot else {
                continue;
            };
            match ty {
                OptType::Str => {}
                OptType::Bool => *slot = Value::Bool(as_bool(v)),
                OptType::Int => match py_int(v) {
                    Some(i) => *slot = Value::Int(i),
                    None => {
                        let msg = format!(
                            "Wrong int value {} for {}. Using default one: None",
                            Value::str(v.as_str()).repr(),
                            Value::str(name).repr()
                        );
                        ctx.log(Level::Warning, LOGGER, msg);
                        *slot = Value::None;
                    }
                },
            }
        }
        Ok(out)
    }
}

fn cmd(items: Vec<Value>) -> Value {
    Value::List(items)
}

/// `FilterReader._fillStream`: filter options to commands (usedns first, then
/// prefregex/maxlines, regex lists, datepattern, journal matches).
pub fn fill_filter_stream(
    stream: &mut Vec<Value>,
    opts: &OMap<Value>,
    jail: &str,
) -> Result<(), Error> {
    let mut prio0idx = 0;
    let j = || Value::str(jail);
    for (opt, value) in opts.iter() {
        if matches!(value, Value::None) {
            continue;
        }
        let text = || py_str(value).unwrap_or_default();
        if opt == "failregex" || opt == "ignoreregex" {
            let multi: Vec<Value> = scan::split(&text(), b'\n')
                .filter(|r| !r.is_empty())
                .map(Value::str)
                .collect();
            let name = Value::Str(f2b_ini::py::concat(&["add", opt]));
            if multi.len() > 1 {
                stream.push(cmd(vec![
                    Value::str("multi-set"),
                    j(),
                    name,
                    Value::List(multi),
                ]));
            } else if let Some(one) = multi.into_iter().next() {
                stream.push(cmd(vec![Value::str("set"), j(), name, one]));
            }
        } else if opt == "usedns" || opt == "maxlines" || opt == "prefregex" {
            let at = if opt == "usedns" { 0 } else { prio0idx };
            stream.insert(
                at,
                cmd(vec![
                    Value::str("set"),
                    j(),
                    Value::str(opt.as_str()),
                    value.clone(),
                ]),
            );
            prio0idx += 1;
        } else if "datepattern".contains(opt.as_str()) {
            // upstream tests `opt in ('datepattern')`, a substring test
            stream.push(cmd(vec![
                Value::str("set"),
                j(),
                Value::str(opt.as_str()),
                value.clone(),
            ]));
        } else if opt == "journalmatch" {
            for m in scan::split(&text(), b'\n') {
                if m.is_empty() {
                    continue;
                }
                let mut c = vec![Value::str("set"), j(), Value::str("addjournalmatch")];
                c.extend(
                    shlex_split(m)
                        .map_err(Error::value)?
                        .into_iter()
                        .map(Value::Str),
                );
                stream.push(cmd(c));
            }
        }
    }
    Ok(())
}

/// A filter reader (`FilterReader`).
#[derive(Debug)]
pub struct FilterReader {
    /// Filter name as given in the jail (`sshd`).
    pub name: String,
    /// Common state.
    pub base: DefInit,
}

impl FilterReader {
    /// A reader for `filter.d/<name>` in `jail` with spec arguments `args`.
    pub fn new(name: &str, jail: &str, args: OMap<String>) -> Self {
        FilterReader {
            name: name.to_string(),
            base: DefInit::new(
                f2b_ini::py::path_join("filter.d", name),
                jail,
                args,
                FILTER_OPTS,
            ),
        }
    }

    /// `applyAutoOptions(backend)`: sets `logtype` (file/journal) unless given.
    pub fn apply_auto_options(&mut self, backend: &str) {
        let given = self
            .base
            .init_opts
            .get("logtype")
            .is_some_and(|v| !v.is_empty());
        let in_def = self
            .base
            .config()
            .section("Definition")
            .is_some_and(|s| s.contains_key("logtype"));
        if !given && !in_def {
            let t = if backend.starts_with("systemd") {
                "journal"
            } else {
                "file"
            };
            self.base.init_opts.insert("logtype".into(), t.into());
        }
    }

    /// `convert()`: the filter's stream part.
    pub fn convert(&mut self, ctx: &mut Ctx) -> Result<Vec<Value>, Error> {
        let opts = self.base.get_combined(ctx, &[])?;
        let mut stream = Vec::new();
        if !opts.is_empty() {
            fill_filter_stream(&mut stream, &opts, &self.base.jail)?;
        }
        Ok(stream)
    }
}

/// An action reader (`ActionReader`).
#[derive(Debug)]
pub struct ActionReader {
    /// The action name in the jail (`actname`).
    pub actname: String,
    /// Common state.
    pub base: DefInit,
}

/// Tags left for the server at run time (`CommandAction._escapedTags` + timeout, bantime).
const ACTION_IGNORE: &[&str] = &[
    "matches",
    "ipmatches",
    "ipjailmatches",
    "timeout",
    "bantime",
];

impl ActionReader {
    /// A reader for `action.d/<file>` in `jail` with arguments `args`; derives
    /// `name` and `actname` like upstream.
    pub fn new(file: &str, jail: &str, mut args: OMap<String>) -> Self {
        let n = match args.get("name") {
            Some(n) => n.clone(),
            None => {
                args.insert("name".into(), jail.into());
                jail.to_string()
            }
        };
        let actname = match args.get("actname") {
            Some(a) => a.clone(),
            None => {
                let mut a = file.to_string();
                if n != jail {
                    match n.strip_prefix(jail) {
                        Some(suffix) => a.push_str(suffix),
                        None => {
                            a.push('-');
                            a.push_str(&n);
                        }
                    }
                }
                args.insert("actname".into(), a.clone());
                a
            }
        };
        ActionReader {
            actname,
            base: DefInit::new(
                f2b_ini::py::path_join("action.d", file),
                jail,
                args,
                ACTION_OPTS,
            ),
        }
    }

    /// `convert()`: `addaction` plus the action's options.
    pub fn convert(&mut self, ctx: &mut Ctx) -> Result<Vec<Value>, Error> {
        let opts = self.base.combined(ctx, ACTION_IGNORE)?;
        let jail = self.base.jail.clone();
        let mut stream = vec![cmd(vec![
            Value::str("set"),
            Value::str(jail.as_str()),
            Value::str("addaction"),
            Value::str(self.actname.as_str()),
        ])];
        let is_cfg = |o: &str| ACTION_OPTS.iter().any(|(_, n, _)| *n == o);
        let mut multi: Vec<(String, Value)> = Vec::new();
        for (opt, v) in opts {
            if is_cfg(&opt) && !opt.starts_with("known/") {
                multi.push((opt, v));
            }
        }
        for (opt, v) in self.base.init_opts.iter() {
            if !is_cfg(opt) && !opt.starts_with("known/") {
                multi.push((opt.clone(), Value::Str(v.clone())));
            }
        }
        if multi.len() > 1 {
            stream.push(cmd(vec![
                Value::str("multi-set"),
                Value::str(jail.as_str()),
                Value::str("action"),
                Value::str(self.actname.as_str()),
                Value::List(
                    multi
                        .into_iter()
                        .map(|(k, v)| Value::List(vec![Value::Str(k), v]))
                        .collect(),
                ),
            ]));
        } else if let Some((k, v)) = multi.into_iter().next() {
            stream.push(cmd(vec![
                Value::str("set"),
                Value::str(jail.as_str()),
                Value::str("action"),
                Value::str(self.actname.as_str()),
                Value::Str(k),
                v,
            ]));
        }
        Ok(stream)
    }
}
