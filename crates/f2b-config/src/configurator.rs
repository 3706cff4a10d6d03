//! The whole configuration (`Configurator`, `Fail2banReader`, `JailsReader`): reads
//! `fail2ban.conf` and the jails and converts them into the command stream that
//! `fail2ban-client` sends to the server (spec 1.9).

use f2b_ini::{Config, Diag, Level, OMap};
use f2b_protocol::Value;

use crate::ctx::{get_options, Ctx, DefVal, OptSpec, OptType};
use crate::error::Error;
use crate::jail::JailReader;

const LOGGER: &str = "fail2ban.jailsreader";

/// Options of `fail2ban.conf` read "early" (`getEarlyOptions`).
const EARLY_OPTS: &[OptSpec] = &[
    (
        OptType::Str,
        "socket",
        Some(DefVal::Str("/var/run/fail2ban/fail2ban.sock")),
    ),
    (
        OptType::Str,
        "pidfile",
        Some(DefVal::Str("/var/run/fail2ban/fail2ban.pid")),
    ),
    (OptType::Str, "loglevel", Some(DefVal::Str("INFO"))),
    (
        OptType::Str,
        "logtarget",
        Some(DefVal::Str("/var/log/fail2ban.log")),
    ),
    (OptType::Str, "syslogsocket", Some(DefVal::Str("auto"))),
];

/// Options of `fail2ban.conf` (`Fail2banReader.getOptions`).
const MAIN_OPTS: &[OptSpec] = &[
    (OptType::Str, "loglevel", Some(DefVal::Str("INFO"))),
    (OptType::Str, "logtarget", Some(DefVal::Str("STDERR"))),
    (OptType::Str, "syslogsocket", Some(DefVal::Str("auto"))),
    (OptType::Str, "allowipv6", Some(DefVal::Str("auto"))),
    (
        OptType::Str,
        "dbfile",
        Some(DefVal::Str("/var/lib/fail2ban/fail2ban.sqlite3")),
    ),
    (OptType::Int, "dbmaxmatches", None),
    (OptType::Str, "dbpurgeage", Some(DefVal::Str("1d"))),
];

/// Python's `str2LogLevel` check: a number or a known level name.
pub fn check_log_level(v: &str) -> Result<(), Error> {
    const NAMES: &[&str] = &[
        "CRITICAL",
        "FATAL",
        "ERROR",
        "WARN",
        "WARNING",
        "NOTICE",
        "INFO",
        "DEBUG",
        "TRACEDEBUG",
        "HEAVYDEBUG",
        "MSG",
        "NOTSET",
    ];
    if (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
        || NAMES.contains(&v.to_uppercase().as_str())
    {
        Ok(())
    } else {
        Err(Error::value(format!(
            "Invalid log level {}",
            Value::str(v).repr()
        )))
    }
}

/// Reader of the whole configuration.
#[derive(Debug)]
pub struct Configurator {
    ctx: Ctx,
    f2b: Option<Config>,
    main_opts: OMap<Value>,
    jail_cfg: Option<Config>,
    jails: Vec<JailReader>,
    skip_broken_jails: bool,
}

impl Configurator {
    /// A configurator for base directory `basedir` (`-c`).
    pub fn new(basedir: &str) -> Self {
        Configurator {
            ctx: Ctx::new(basedir),
            f2b: None,
            main_opts: OMap::new(),
            jail_cfg: None,
            jails: Vec::new(),
            skip_broken_jails: false,
        }
    }

    /// Better than upstream, for starting and reloading a server: a jail whose conversion
    /// fails (e.g. "Have not found any log file") becomes a `config-error` entry and is not
    /// started, instead of failing the whole configuration. Dumps (`-d`, `-t`) keep
    /// upstream's all-or-nothing outcome.
    pub fn skip_broken_jails(&mut self, on: bool) {
        self.skip_broken_jails = on;
    }

    /// The base directory.
    pub fn basedir(&self) -> &str {
        &self.ctx.basedir
    }

    /// Takes the log records produced so far.
    pub fn take_diags(&mut self) -> Vec<Diag> {
        std::mem::take(&mut self.ctx.diags().records)
    }

    /// `readEarly`: reads the `fail2ban` config (once).
    pub fn read_early(&mut self) -> Result<(), Error> {
        if self.f2b.is_none() {
            let (cfg, _) = self.ctx.read_owned("fail2ban")?;
            self.f2b = Some(cfg);
        }
        Ok(())
    }

    /// `getEarlyOptions`: socket, pidfile, loglevel, logtarget, syslogsocket.
    pub fn early_options(&mut self) -> Result<OMap<Value>, Error> {
        self.read_early()?;
        let cfg = self.f2b.take().expect("read");
        let r = get_options(
            &mut self.ctx,
            &cfg,
            "Definition",
            EARLY_OPTS,
            &OMap::new(),
            false,
            true,
        );
        self.f2b = Some(cfg);
        r
    }

    /// `readAll`: fail2ban and jail configs.
    pub fn read_all(&mut self) -> Result<(), Error> {
        self.read_early()?;
        let (cfg, _) = self.ctx.read_owned("jail")?;
        self.jail_cfg = Some(cfg);
        Ok(())
    }

    /// `getOptions(jail, updateMainOpt, ignoreWrong)`: reads all options; the result
    /// is upstream's return value (false when jails are broken and not ignored, or
    /// when no enabled jail could be read while some were broken).
    pub fn get_options(
        &mut self,
        jail: Option<&str>,
        update_main: &[(String, Value)],
        ignore_wrong: bool,
    ) -> Result<bool, Error> {
        self.main_options(update_main)?;
        self.jail_options(jail, ignore_wrong)
    }

    /// `Fail2banReader.getOptions(updateMainOpt)`.
    fn main_options(&mut self, update_main: &[(String, Value)]) -> Result<(), Error> {
        let cfg = self.f2b.take().unwrap_or_default();
        let r = get_options(
            &mut self.ctx,
            &cfg,
            "Definition",
            MAIN_OPTS,
            &OMap::new(),
            false,
            true,
        );
        let has_thread = cfg.has_section("Thread");
        let thread = if has_thread {
            Some(get_options(
                &mut self.ctx,
                &cfg,
                "Thread",
                &[(OptType::Int, "stacksize", None)],
                &OMap::new(),
                false,
                true,
            ))
        } else {
            None
        };
        self.f2b = Some(cfg);
        self.main_opts = r?;
        for (k, v) in update_main {
            self.main_opts.insert(k.clone(), v.clone());
        }
        if let Some(Value::Str(l)) = self.main_opts.get("loglevel") {
            check_log_level(l)?;
        }
        if let Some(t) = thread {
            let t = t?;
            if !t.is_empty() {
                let d = t
                    .iter()
                    .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                    .collect();
                self.main_opts.insert("thread".into(), Value::Dict(d));
            }
        }
        Ok(())
    }

    /// `JailsReader.getOptions(section, ignoreWrong)`.
    fn jail_options(&mut self, jail: Option<&str>, ignore_wrong: bool) -> Result<bool, Error> {
        self.jail_options_with(jail, ignore_wrong, None)
    }

    /// Converts the jail just read (the last of `self.jails`) for `read_convert_to`, so
    /// that its readers can be freed at once; what upstream would log while converting
    /// is kept apart, to be logged after everything was read.
    fn convert_last(&mut self, p: &mut Pipeline<'_>) {
        let Some(j) = self.jails.last_mut() else {
            return;
        };
        if p.error.is_none() {
            std::mem::swap(&mut self.ctx.diags().records, &mut p.diags);
            match j.convert(&mut self.ctx, p.allow_no_files) {
                Ok(s) => p.stream.extend(s),
                Err(e) if self.skip_broken_jails => {
                    let msg = format!(
                        "Jail '{}' skipped, because of wrong configuration: {}",
                        j.name,
                        e.message()
                    );
                    p.stream.push(Value::List(vec![
                        Value::str("config-error"),
                        Value::Str(msg),
                    ]));
                    j.config_error = Some(e.message().to_string());
                }
                Err(e) => p.error = Some(e),
            }
            std::mem::swap(&mut self.ctx.diags().records, &mut p.diags);
        }
        // only the name and the error are needed from here on; a filter file mostly
        // serves one jail: its caches go too (read again if another jail needs it)
        if let Some(f) = j.filter.take() {
            self.ctx.evict(&f.base.file);
        }
        if let Some(sink) = p.sink.as_deref_mut() {
            sink(std::mem::take(&mut p.stream));
        }
        j.actions = Vec::new();
        j.opts = OMap::new();
    }

    fn jail_options_with(
        &mut self,
        jail: Option<&str>,
        ignore_wrong: bool,
        mut pipeline: Option<&mut Pipeline<'_>>,
    ) -> Result<bool, Error> {
        let mut jcfg = self.jail_cfg.take().unwrap_or_default();
        let sections: Vec<String> = match jail {
            Some(j) => vec![j.to_string()],
            None => jcfg.sections().cloned().collect(),
        };
        let mut status = 0u8;
        self.jails.clear();
        let known = crate::jail::refers_to_known(&jcfg);
        let mut result = Ok(());
        for sec in sections {
            if sec == "INCLUDES" {
                continue;
            }
            match JailReader::read_with(&mut self.ctx, &mut jcfg, &sec, known) {
                Ok(j) => {
                    if j.config_error.is_none() {
                        if !j.is_enabled() {
                            continue;
                        }
                        status |= 1;
                        self.jails.push(j);
                    } else {
                        let skip = if ignore_wrong { " Skipping..." } else { "" };
                        self.ctx.log(
                            Level::Error,
                            LOGGER,
                            format!("Errors in jail {}.{skip}", Value::str(sec.as_str()).repr()),
                        );
                        self.jails.push(j);
                        status |= 2;
                    }
                    if let Some(p) = pipeline.as_deref_mut() {
                        self.convert_last(p);
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.jail_cfg = Some(jcfg);
        result?;
        Ok((ignore_wrong && status & 1 != 0) || status & 2 == 0)
    }

    /// `convertToProtocol` + `getConfigStream`: the command stream.
    pub fn convert(&mut self, allow_no_files: bool) -> Result<Vec<Value>, Error> {
        let mut stream = self.general_stream();
        let mut jails = std::mem::take(&mut self.jails);
        let mut result = Ok(());
        for j in &mut jails {
            match j.convert(&mut self.ctx, allow_no_files) {
                Ok(s) => stream.extend(s),
                Err(e) if self.skip_broken_jails => {
                    let msg = format!(
                        "Jail '{}' skipped, because of wrong configuration: {}",
                        j.name,
                        e.message()
                    );
                    stream.push(Value::List(vec![
                        Value::str("config-error"),
                        Value::Str(msg),
                    ]));
                    j.config_error = Some(e.message().to_string());
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            for j in &jails {
                if j.config_error.is_none() {
                    stream.push(Value::List(vec![
                        Value::str("start"),
                        Value::str(j.name.as_str()),
                    ]));
                }
            }
        }
        self.jails = jails;
        result.map(|_| stream)
    }

    /// `getOptions` + `convertToProtocol` in one go; with a `sink`, the stream is
    /// handed to it in parts as jails are converted (and the returned stream is
    /// empty), so that it need not be kept whole. On an error, the parts given so
    /// far are void.
    pub fn read_convert_to(
        &mut self,
        jail: Option<&str>,
        update_main: &[(String, Value)],
        ignore_wrong: bool,
        allow_no_files: bool,
        sink: Option<&mut dyn FnMut(Vec<Value>)>,
    ) -> Result<(bool, Vec<Value>), Error> {
        self.main_options(update_main)?;
        // each jail is converted right after it is read (see `convert_last`), with the
        // outcome upstream has when it reads all jails first and then converts them
        let mut p = Pipeline {
            allow_no_files,
            stream: self.general_stream(),
            diags: Vec::new(),
            error: None,
            sink,
        };
        let ok = self.jail_options_with(jail, ignore_wrong, Some(&mut p))?;
        self.ctx.diags().records.append(&mut p.diags);
        if let Some(e) = p.error {
            return Err(e);
        }
        let mut stream = p.stream;
        for j in &self.jails {
            if j.config_error.is_none() {
                stream.push(Value::List(vec![
                    Value::str("start"),
                    Value::str(j.name.as_str()),
                ]));
            }
        }
        if let Some(sink) = p.sink {
            sink(std::mem::take(&mut stream));
        }
        Ok((ok, stream))
    }

    /// The general part of the stream (`Fail2banReader.convert`).
    fn general_stream(&self) -> Vec<Value> {
        let order = |k: &str| -> Option<u32> {
            Some(match k {
                "thread" => 0,
                "syslogsocket" => 11,
                "loglevel" => 12,
                "logtarget" => 13,
                "allowipv6" => 14,
                "dbfile" => 50,
                "dbmaxmatches" | "dbpurgeage" => 51,
                _ => return None,
            })
        };
        let mut general: Vec<(u32, String, Value)> = self
            .main_opts
            .iter()
            .filter_map(|(k, v)| order(k).map(|o| (o, k.clone(), v.clone())))
            .collect();
        general.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        general
            .into_iter()
            .map(|(_, k, v)| Value::List(vec![Value::str("set"), Value::Str(k), v]))
            .collect()
    }
}

/// State of [`Configurator::read_convert_to`] while it reads and converts jail by jail.
struct Pipeline<'a> {
    allow_no_files: bool,
    /// Where finished parts of the stream go, if anywhere.
    sink: Option<&'a mut dyn FnMut(Vec<Value>)>,
    /// The stream so far.
    stream: Vec<Value>,
    /// Log records of the conversions.
    diags: Vec<Diag>,
    /// The first conversion error (no jail is converted after it).
    error: Option<Error>,
}

/// What [`read_stream`] produced.
#[derive(Debug)]
pub struct ReadOutcome {
    /// Upstream's `ret` of `readConfig` (false = failure exit code).
    pub ok: bool,
    /// The command stream, `None` when reading failed as a whole.
    pub stream: Option<Vec<Value>>,
    /// The fatal error, if any.
    pub error: Option<Error>,
}

/// `readConfig`: reads everything and converts it into the command stream.
/// `update_main` are command-line values that override `fail2ban.conf`
/// (`loglevel`, `logtarget`, `syslogsocket`); `allow_no_files` is true for dumps.
pub fn read_stream(
    conf: &mut Configurator,
    jail: Option<&str>,
    update_main: &[(String, Value)],
    ignore_wrong: bool,
    allow_no_files: bool,
) -> ReadOutcome {
    read_stream_to(conf, jail, update_main, ignore_wrong, allow_no_files, None)
}

/// [`read_stream`] handing the stream to `sink` in parts (see
/// [`Configurator::read_convert_to`]); the outcome's stream is then empty on success.
pub fn read_stream_to(
    conf: &mut Configurator,
    jail: Option<&str>,
    update_main: &[(String, Value)],
    ignore_wrong: bool,
    allow_no_files: bool,
    sink: Option<&mut dyn FnMut(Vec<Value>)>,
) -> ReadOutcome {
    let run = |c: &mut Configurator| -> Result<(bool, Vec<Value>), Error> {
        c.read_all()?;
        c.read_convert_to(jail, update_main, ignore_wrong, allow_no_files, sink)
    };
    match run(conf) {
        Ok((ok, s)) => ReadOutcome {
            ok,
            stream: Some(s),
            error: None,
        },
        Err(e) => {
            conf.ctx.log(
                Level::Error,
                "fail2ban",
                format!("Failed during configuration: {e}"),
            );
            ReadOutcome {
                ok: false,
                stream: None,
                error: Some(e),
            }
        }
    }
}
