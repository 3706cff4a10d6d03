//! One jail section (`JailReader`): the two-phase read (enabled/backend/filter
//! first, filter options merged as `known/*`, then all options), its actions, and
//! its part of the command stream.

use f2b_ini::{py, scan, Config, Level, OMap};
use f2b_protocol::Value;

use crate::ctx::{get_options, Ctx, DefVal, OptSpec, OptType};
use crate::definit::{fill_filter_stream, ActionReader, FilterReader, FILTER_OPTS};
use crate::error::{Error, ErrorKind};
use crate::helpers::{extract_options, json_dumps_str_map, split_with_options, splitwords};

const LOGGER: &str = "fail2ban.jailreader";

/// `_configOpts1st`.
const OPTS_1ST: &[OptSpec] = &[
    (OptType::Bool, "enabled", Some(DefVal::Bool(false))),
    (OptType::Str, "backend", Some(DefVal::Str("auto"))),
    (OptType::Str, "filter", Some(DefVal::Str(""))),
];

/// `_configOpts` (jail options, followed by the filter options).
const JAIL_OPTS: &[OptSpec] = &[
    (OptType::Bool, "enabled", Some(DefVal::Bool(false))),
    (OptType::Str, "backend", Some(DefVal::Str("auto"))),
    (OptType::Int, "maxretry", None),
    (OptType::Int, "maxmatches", None),
    (OptType::Str, "findtime", None),
    (OptType::Str, "bantime", None),
    (OptType::Bool, "bantime.increment", None),
    (OptType::Str, "bantime.factor", None),
    (OptType::Str, "bantime.formula", None),
    (OptType::Str, "bantime.multipliers", None),
    (OptType::Str, "bantime.maxtime", None),
    (OptType::Str, "bantime.rndtime", None),
    (OptType::Bool, "bantime.overalljails", None),
    (OptType::Str, "ignorecommand", None),
    (OptType::Bool, "ignoreself", None),
    (OptType::Str, "ignoreip", None),
    (OptType::Str, "ignorecache", None),
    (OptType::Str, "filter", Some(DefVal::Str(""))),
    (OptType::Str, "logtimezone", None),
    (OptType::Str, "logencoding", None),
    (OptType::Str, "logpath", None),
    (OptType::Str, "action", Some(DefVal::Str(""))),
];

fn all_jail_opts() -> Vec<OptSpec> {
    let mut v = JAIL_OPTS.to_vec();
    v.extend_from_slice(FILTER_OPTS);
    v
}

fn is_ignored_opt(o: &str) -> bool {
    matches!(o, "action" | "filter" | "enabled") || FILTER_OPTS.iter().any(|(_, n, _)| *n == o)
}

/// One action of a jail: a command action (config file) or a Python action.
#[derive(Debug)]
pub enum JailAction {
    /// `action.d/<name>.conf`.
    Command(Box<ActionReader>),
    /// `action.d/<name>.py`: the ready `addaction` command.
    Python(Value),
}

/// A read jail.
#[derive(Debug)]
pub struct JailReader {
    /// Section name.
    pub name: String,
    /// Options read (typed); `config-error` set when broken.
    pub opts: OMap<Value>,
    /// The jail's filter, if any.
    pub filter: Option<FilterReader>,
    /// The jail's actions in order.
    pub actions: Vec<JailAction>,
    /// The jail definition error, if any (the jail is skipped).
    pub config_error: Option<String>,
}

fn jail_def(msg: String) -> Error {
    Error::new(ErrorKind::JailDef, msg)
}

impl JailReader {
    /// True when the jail is enabled.
    pub fn is_enabled(&self) -> bool {
        matches!(self.opts.get("enabled"), Some(Value::Bool(true)))
    }

    /// `JailReader.getOptions()` on the (shared, mutable) jail config. Returns the
    /// reader; jail definition errors are stored in `config_error`, other errors
    /// are returned (fatal upstream).
    pub fn read(ctx: &mut Ctx, cfg: &mut Config, name: &str) -> Result<JailReader, Error> {
        Self::read_with(ctx, cfg, name, true)
    }

    /// [`JailReader::read`]; `known` false says that no `%(...)s` reference of the
    /// jail config names a `known/` option (see [`refers_to_known`]): the filter's
    /// options are then not merged as `known/*`, since no lookup could see them.
    pub fn read_with(
        ctx: &mut Ctx,
        cfg: &mut Config,
        name: &str,
        known: bool,
    ) -> Result<JailReader, Error> {
        let basedir = ctx.basedir.clone();
        cfg.merge_defaults(&[
            ("fail2ban_version", crate::VERSION),
            ("fail2ban_confpath", &basedir),
        ]);
        let mut jr = JailReader {
            name: name.to_string(),
            opts: OMap::new(),
            filter: None,
            actions: Vec::new(),
            config_error: None,
        };
        match jr.read_inner(ctx, cfg, known) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::JailDef => {
                ctx.log(Level::Error, LOGGER, e.message().to_string());
                jr.config_error = Some(e.message().to_string());
            }
            Err(e) => return Err(e),
        }
        Ok(jr)
    }

    fn read_inner(&mut self, ctx: &mut Ctx, cfg: &mut Config, known: bool) -> Result<(), Error> {
        let name = self.name.clone();
        self.opts = get_options(ctx, cfg, &name, OPTS_1ST, &OMap::new(), true, true)?;
        if !self.is_enabled() {
            return Ok(());
        }
        let flt = match self.opts.get("filter") {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        if !flt.is_empty() {
            let (fname, fopts) = extract_options(&flt).map_err(|e| {
                jail_def(format!(
                    "Invalid filter definition {}: {e}",
                    Value::str(flt.as_str()).repr()
                ))
            })?;
            let mut f = FilterReader::new(&fname, &name, fopts);
            if !f.base.read(ctx)? {
                return Err(jail_def(format!(
                    "Unable to read the filter {}",
                    Value::str(fname.as_str()).repr()
                )));
            }
            let backend = match self.opts.get("backend") {
                Some(Value::Str(s)) => s.clone(),
                _ => String::new(),
            };
            f.apply_auto_options(&backend);
            f.base.get_options(ctx, &self.opts, true)?;
            // computed even when not merged: its errors are upstream's errors
            let combined = f.base.combined(ctx, &[])?;
            if known {
                let known = combined.into_iter().map(|(k, v)| {
                    let s = match v {
                        Value::Str(s) => s,
                        v => crate::ctx::py_str(&v).unwrap_or_else(|| "None".into()),
                    };
                    (k, s)
                });
                cfg.merge_section_owned(&name, known, "known/");
            }
            self.filter = Some(f);
        } else {
            self.filter = None;
            ctx.log(
                Level::Warning,
                LOGGER,
                format!("No filter set for jail {name}"),
            );
        }
        self.opts = get_options(ctx, cfg, &name, &all_jail_opts(), &OMap::new(), false, true)?;
        if let Some(f) = &mut self.filter {
            f.base.get_options(ctx, &self.opts, false)?;
        }
        let action = match self.opts.get("action") {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        for act in split_with_options(&action) {
            let act = py::strip(&act);
            if act.is_empty() {
                continue;
            }
            let (act_name, mut act_opt) = extract_options(act).map_err(|e| {
                jail_def(format!(
                    "Invalid action definition {}: {e}",
                    Value::str(act).repr()
                ))
            })?;
            if act_name.ends_with(".py") {
                let actname = match act_opt.get("actname").cloned() {
                    Some(a) => {
                        let mut rest = f2b_ini::OMap::new();
                        for (k, v) in act_opt.iter() {
                            if k != "actname" {
                                rest.insert(k.clone(), v.clone());
                            }
                        }
                        act_opt = rest;
                        a
                    }
                    None => py::splitext_root(&act_name).to_string(),
                };
                self.actions.push(JailAction::Python(Value::List(vec![
                    Value::str("set"),
                    Value::str(name.as_str()),
                    Value::str("addaction"),
                    Value::Str(actname),
                    Value::Str(py::path_join(
                        &py::path_join(&ctx.basedir, "action.d"),
                        &act_name,
                    )),
                    Value::Str(json_dumps_str_map(&act_opt)),
                ])));
                continue;
            }
            let mut a = ActionReader::new(&act_name, &name, act_opt);
            let ok = a.base.read(ctx).map_err(|e| action_error(act, e))?;
            if !ok {
                return Err(jail_def(format!(
                    "Unable to read action {}",
                    Value::str(act_name.as_str()).repr()
                )));
            }
            a.base
                .get_options(ctx, &self.opts, false)
                .map_err(|e| action_error(act, e))?;
            self.actions.push(JailAction::Command(Box::new(a)));
        }
        if self.actions.is_empty() {
            ctx.log(
                Level::Warning,
                LOGGER,
                format!("No actions were defined for {name}"),
            );
        }
        Ok(())
    }

    /// `JailReader.convert(allow_no_files)`: this jail's commands.
    pub fn convert(&mut self, ctx: &mut Ctx, allow_no_files: bool) -> Result<Vec<Value>, Error> {
        let name = self.name.clone();
        let j = || Value::str(name.as_str());
        if let Some(e) = &self.config_error {
            return Ok(vec![Value::List(vec![
                Value::str("config-error"),
                Value::Str(format!(
                    "Jail '{name}' skipped, because of wrong configuration: {e}"
                )),
            ])]);
        }
        let mut stream = Vec::new();
        let mut stream2 = Vec::new();
        if let Some(f) = &mut self.filter {
            stream.extend(f.convert(ctx)?);
        }
        fill_filter_stream(&mut stream, &self.opts, &name)?;
        let mut backend = Value::str("auto");
        let backend_str = match self.opts.get("backend") {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        for (opt, value) in self.opts.iter() {
            match opt.as_str() {
                "logpath" => {
                    if backend_str.starts_with("systemd") {
                        continue;
                    }
                    let text = crate::ctx::py_str(value).unwrap_or_default();
                    let mut found = 0;
                    for line in scan::split(&text, b'\n') {
                        let (path, tail) = match line.rsplit_once(' ') {
                            Some((p, t)) => (p, t),
                            None => (line, "head"),
                        };
                        let list = ctx.log_dirs.glob_exists(path);
                        let mut matched = Vec::new();
                        for (p, exists) in list {
                            if exists {
                                matched.push(p);
                            } else {
                                ctx.log(
                                    Level::Warning,
                                    LOGGER,
                                    format!(
                                        "File {p} is a dangling link, thus cannot be monitored"
                                    ),
                                );
                            }
                        }
                        if matched.is_empty() {
                            ctx.log(
                                Level::Notice,
                                LOGGER,
                                format!("No file(s) found for glob {path}"),
                            );
                        }
                        for p in matched {
                            found += 1;
                            stream2.push(Value::List(vec![
                                Value::str("set"),
                                j(),
                                Value::str("addlogpath"),
                                Value::Str(p),
                                Value::str(tail),
                            ]));
                        }
                    }
                    if found == 0 {
                        let msg = format!("Have not found any log file for {name} jail");
                        if !allow_no_files {
                            return Err(Error::value(msg));
                        }
                        ctx.log(Level::Warning, LOGGER, msg);
                    }
                }
                "backend" => backend = value.clone(),
                "ignoreip" => {
                    let mut c = vec![Value::str("set"), j(), Value::str("addignoreip")];
                    let text = crate::ctx::py_str(value).unwrap_or_default();
                    c.extend(splitwords(&text).into_iter().map(Value::Str));
                    stream.push(Value::List(c));
                }
                o if !is_ignored_opt(o) => {
                    stream.push(Value::List(vec![
                        Value::str("set"),
                        j(),
                        Value::str(o),
                        value.clone(),
                    ]));
                }
                _ => {}
            }
        }
        stream.extend(stream2);
        for a in &mut self.actions {
            match a {
                JailAction::Command(r) => stream.extend(r.convert(ctx)?),
                JailAction::Python(v) => stream.push(v.clone()),
            }
        }
        stream.insert(0, Value::List(vec![Value::str("add"), j(), backend]));
        Ok(stream)
    }
}

/// True when a `%(name)s` reference somewhere in `cfg` names a `known/` option
/// (`%(known/failregex)s`, or through a section: `%(sshd/known/port)s`). Only such a
/// reference can read the `known/*` options merged into a jail section.
pub fn refers_to_known(cfg: &Config) -> bool {
    let sections = cfg.all_sections().map(|(_, s)| s);
    std::iter::once(cfg.defaults()).chain(sections).any(|sec| {
        sec.iter().any(|(_, o)| {
            let mut rest = o.value.as_str();
            while let Some(p) = scan::find(rest, b'%') {
                rest = &rest[p + 1..];
                let Some(r) = rest.strip_prefix('(') else {
                    continue;
                };
                let name = r.split(')').next().unwrap_or(r);
                if f2b_ini::py::lower_cow(name).contains("known/") {
                    return true;
                }
            }
            false
        })
    })
}

fn action_error(act: &str, e: Error) -> Error {
    if e.kind() == ErrorKind::JailDef {
        return e;
    }
    let msg = format!(
        "Error in action definition {}: {}",
        Value::str(act).repr(),
        e.message()
    );
    let mut out = Error::value(msg);
    if let (Some(f), Some(l)) = (e.file(), e.line()) {
        out = out.with_src(Some(&f2b_ini::Src {
            file: f.into(),
            line: l,
        }));
    }
    out
}
