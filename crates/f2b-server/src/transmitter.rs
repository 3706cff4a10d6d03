//! Command dispatch (upstream `transmitter.py`): one request list in, a value or a
//! Python exception out. The branches follow upstream's order so that argument
//! errors (`IndexError`, `ValueError`) and "quiet" results during `server-stream` /
//! `reload` are the same.

use std::sync::atomic::Ordering;

use f2b_protocol::Value;

use crate::error::{arg, as_bool, py_int, sarg, text, CmdError, CmdResult};
use crate::f2b_log;
use crate::jail::{now, ActionMsg};
use crate::logging::{self, VERSION};
use crate::server::Server;
use crate::timeconv;

/// Dispatch state: `quiet` while a stream runs (setters then return None).
pub struct Transmitter<'a> {
    server: &'a Server,
    quiet: bool,
}

fn texts(vals: &[Value]) -> Vec<String> {
    vals.iter().map(text).collect()
}

fn str_list(v: Vec<String>) -> Value {
    Value::List(v.into_iter().map(Value::Str).collect())
}

impl<'a> Transmitter<'a> {
    /// A dispatcher on `server`.
    pub fn new(server: &'a Server) -> Transmitter<'a> {
        Transmitter {
            server,
            quiet: false,
        }
    }

    /// Upstream `proceed`: logs failures, returns `(code, value)`.
    pub fn proceed(&mut self, command: &Value) -> (i64, Value) {
        f2b_log!(HEAVYDEBUG, "transmitter", "Command: {}", command.repr());
        let cmd: Vec<Value> = match command {
            Value::List(v) | Value::Tuple(v) => v.clone(),
            other => vec![other.clone()],
        };
        match self.handle(&cmd) {
            Ok(v) => (0, v),
            Err(e) => {
                let ev = e.to_value();
                f2b_log!(
                    ERROR,
                    "transmitter",
                    "Command {} has failed. Received {}",
                    command.repr(),
                    ev.repr()
                );
                (1, ev)
            }
        }
    }

    fn quiet_or(&self, v: impl FnOnce() -> CmdResult) -> CmdResult {
        if self.quiet {
            Ok(Value::None)
        } else {
            v()
        }
    }

    /// Upstream `__commandHandler`.
    pub fn handle(&mut self, command: &[Value]) -> CmdResult {
        let name = text(arg(command, 0)?);
        let srv = self.server;
        match name.as_str() {
            "ping" => Ok(Value::str("pong")),
            "add" => {
                let jname = sarg(command, 1)?;
                if jname == "--all" {
                    return Err(CmdError::exception(format!(
                        "Reserved name {}",
                        logging::py_repr(&jname)
                    )));
                }
                let backend = command.get(2).map(text).unwrap_or_else(|| "auto".into());
                srv.add_jail(&jname, &backend)?;
                Ok(Value::Str(jname))
            }
            "multi-set" => self.command_set(&command[1..], true),
            "set" => self.command_set(&command[1..], false),
            "start" => {
                srv.start_jail(&sarg(command, 1)?)?;
                Ok(Value::None)
            }
            "stop" => {
                if command.len() == 1 {
                    srv.quit();
                } else if text(&command[1]) == "--all" {
                    srv.stop_all_jails();
                } else {
                    srv.stop_jail(&text(&command[1]))?;
                }
                Ok(Value::None)
            }
            "reload" => {
                let jname = sarg(command, 1)?;
                let opts: Vec<String> = match command.get(2) {
                    Some(Value::List(v)) | Some(Value::Tuple(v)) => texts(v),
                    Some(other) => vec![text(other)],
                    None => Vec::new(),
                };
                self.quiet = true;
                let res = srv.reload_jails(&jname, &opts, true).and_then(|_| {
                    let stream = arg(command, 3)?.clone();
                    self.run_stream(&stream)
                });
                self.quiet = false;
                let end = srv.reload_jails(&jname, &opts, false);
                res?;
                end?;
                Ok(Value::str("OK"))
            }
            "unban" if command.len() >= 2 => {
                let vals = texts(&command[1..]);
                if vals.len() == 1 && vals[0] == "--all" {
                    return srv.set_unban_ip(None, None, true);
                }
                srv.set_unban_ip(None, Some(&vals), true)
            }
            "banned" => srv.banned(None, &texts(&command[1..])),
            "echo" => Ok(Value::List(command[1..].to_vec())),
            "server-status" => {
                f2b_log!(DEBUG, "transmitter", "Status: ready");
                Ok(Value::str("Server ready"))
            }
            "server-stream" => {
                self.quiet = true;
                let stream = arg(command, 1).cloned();
                let res = stream.and_then(|stream| self.run_stream(&stream));
                self.quiet = false;
                res?;
                Ok(Value::None)
            }
            "sleep" => {
                let secs = crate::error::py_float(arg(command, 1)?)?;
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 1e6)));
                Ok(Value::None)
            }
            "flushlogs" => Ok(Value::str(logging::flush())),
            "get" => self.command_get(&command[1..]),
            "status" => self.status(&command[1..]),
            "version" => Ok(Value::str(VERSION)),
            "config-error" => {
                f2b_log!(ERROR, "transmitter", "{}", sarg(command, 1)?);
                Ok(Value::None)
            }
            _ => Err(CmdError::exception("Invalid command")),
        }
    }

    /// Runs a configuration stream. Unlike upstream (where the first error aborts the
    /// whole stream), an error in a jail's command reports that jail as broken,
    /// removes it and skips its remaining commands, so the other jails still start.
    /// Errors of general (non-jail) commands abort as upstream.
    fn run_stream(&mut self, stream: &Value) -> Result<(), CmdError> {
        let mut broken: Vec<String> = Vec::new();
        for c in stream.as_seq().unwrap_or(&[]) {
            let words = c.as_seq().unwrap_or(std::slice::from_ref(c));
            let jail = jail_of(words);
            if jail.as_ref().is_some_and(|j| broken.contains(j)) {
                continue;
            }
            if let Err(e) = self.handle(words) {
                let Some(j) = jail else { return Err(e) };
                f2b_log!(
                    ERROR,
                    "transmitter",
                    "Jail '{j}' is broken and not started: {} (command {})",
                    e.to_value().str_(),
                    Value::List(words.to_vec()).repr()
                );
                if self.server.jail(&j).is_ok() {
                    let _ = self.server.del_jail(&j, true, true);
                }
                broken.push(j);
            }
        }
        Ok(())
    }

    /// Upstream `__commandSet`.
    fn command_set(&mut self, command: &[Value], multiple: bool) -> CmdResult {
        let name = sarg(command, 0)?;
        let srv = self.server;
        match name.as_str() {
            "loglevel" => {
                logging::set_level(&sarg(command, 1)?).map_err(CmdError::value)?;
                return self.quiet_or(|| Ok(opt_str(logging::level_name())));
            }
            "logtarget" => {
                if logging::set_target(&sarg(command, 1)?) {
                    return self.quiet_or(|| Ok(opt_str(logging::target())));
                }
                return Err(CmdError::exception("Failed to change log target"));
            }
            "syslogsocket" => {
                if logging::set_syslog_socket(&sarg(command, 1)?) {
                    return self.quiet_or(|| Ok(opt_str(logging::syslog_socket())));
                }
                return Err(CmdError::exception("Failed to change syslog socket"));
            }
            "allowipv6" => {
                let v = arg(command, 1)?.clone();
                return self.quiet_or(|| Ok(v));
            }
            "thread" => return srv.set_thread_options(arg(command, 1)?),
            "dbfile" => {
                srv.set_database(&sarg(command, 1)?)?;
                return match srv.db() {
                    None => Ok(Value::None),
                    Some(db) => self.quiet_or(|| Ok(Value::str(db.filename()))),
                };
            }
            "dbmaxmatches" => {
                return match srv.db() {
                    None => {
                        f2b_log!(
                            MSG,
                            "transmitter",
                            "dbmaxmatches setting was not in effect since no db yet"
                        );
                        Ok(Value::None)
                    }
                    Some(db) => {
                        db.set_max_matches(py_int(arg(command, 1)?)?);
                        self.quiet_or(|| Ok(Value::Int(db.max_matches())))
                    }
                };
            }
            "dbpurgeage" => {
                return match srv.db() {
                    None => {
                        f2b_log!(
                            MSG,
                            "transmitter",
                            "dbpurgeage setting was not in effect since no db yet"
                        );
                        Ok(Value::None)
                    }
                    Some(db) => {
                        db.set_purge_age(timeconv::str2seconds(arg(command, 1)?)?);
                        self.quiet_or(|| Ok(db.purge_age()))
                    }
                };
            }
            _ => {}
        }
        // jail settings
        let key = sarg(command, 1)?;
        let jail = || srv.jail(&name);
        match key.as_str() {
            "idle" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                match v.as_str() {
                    "on" => j.set_idle(true),
                    "off" => j.set_idle(false),
                    _ => {
                        return Err(CmdError::exception(
                            "Invalid idle option, must be 'on' or 'off'",
                        ))
                    }
                }
                self.quiet_or(|| Ok(Value::Bool(j.idle.load(Ordering::SeqCst))))
            }
            "ignoreself" => {
                let v = as_bool(arg(command, 2)?);
                let j = jail()?;
                j.filter().ignore.ignore_self = v;
                self.quiet_or(|| Ok(Value::Bool(v)))
            }
            "addignoreip" => {
                let j = jail()?;
                for v in texts(&command[2..]) {
                    j.filter().add_ignore_ip(&v);
                }
                self.quiet_or(|| Ok(str_list(j.filter().ignore.entries())))
            }
            "delignoreip" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                j.filter().ignore.del(Some(&v));
                self.quiet_or(|| Ok(str_list(j.filter().ignore.entries())))
            }
            "ignorecommand" => {
                let v = arg(command, 2)?.clone();
                let j = jail()?;
                {
                    let mut f = j.filter();
                    let s = text(&v);
                    f.ignore.command = if s.is_empty() { None } else { Some(s) };
                    f.ignorecommand = v.clone();
                }
                self.quiet_or(|| Ok(v))
            }
            "ignorecache" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                let r = j.filter().set_ignore_cache(&v)?;
                self.quiet_or(|| Ok(r))
            }
            "addlogpath" => {
                let path = sarg(command, 2)?;
                let mut tail = false;
                if command.len() == 4 {
                    let o = text(&command[3]).to_lowercase();
                    if o == "tail" {
                        tail = true;
                    } else if o != "head" {
                        return Err(CmdError::value("File option must be 'head' or 'tail'"));
                    }
                } else if command.len() > 4 {
                    return Err(CmdError::value("Only one file can be added at a time"));
                }
                let j = jail()?;
                j.filter().add_log_path(&path, tail, j.db.as_deref())?;
                self.quiet_or(|| Ok(j.filter().log_paths_value()))
            }
            "dellogpath" => {
                let path = sarg(command, 2)?;
                let j = jail()?;
                j.filter().del_log_path(&path);
                self.quiet_or(|| Ok(j.filter().log_paths_value()))
            }
            "logencoding" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                let enc = j.filter().set_log_encoding(&v)?;
                self.quiet_or(|| Ok(Value::Str(enc)))
            }
            "addjournalmatch" => {
                let v = texts(&command[2..]);
                let j = jail()?;
                j.filter().add_journal_match(v);
                self.quiet_or(|| Ok(j.filter().journal_match_value()))
            }
            "deljournalmatch" => {
                let v = texts(&command[2..]);
                let j = jail()?;
                j.filter().del_journal_match(&v);
                self.quiet_or(|| Ok(j.filter().journal_match_value()))
            }
            "prefregex" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                j.filter().set_prefregex(&v)?;
                self.quiet_or(|| Ok(Value::Str(j.filter().prefregex_expanded())))
            }
            "addfailregex" | "addignoreregex" => {
                let vals: Vec<String> = if multiple {
                    match arg(command, 2)? {
                        Value::List(v) | Value::Tuple(v) => texts(v),
                        // upstream iterates the value: a string is its characters
                        Value::Str(s) => s.chars().map(String::from).collect(),
                        other => vec![text(other)],
                    }
                } else {
                    vec![sarg(command, 2)?]
                };
                let j = jail()?;
                let fail = key == "addfailregex";
                for v in &vals {
                    j.filter().add_regex(fail, v)?;
                }
                if multiple {
                    return Ok(Value::Bool(true));
                }
                self.quiet_or(|| Ok(str_list(j.filter().regex_list(fail))))
            }
            "delfailregex" | "delignoreregex" => {
                let idx = py_int(arg(command, 2)?)?;
                let j = jail()?;
                let fail = key == "delfailregex";
                j.filter().del_regex(fail, idx)?;
                self.quiet_or(|| Ok(str_list(j.filter().regex_list(fail))))
            }
            "usedns" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                j.filter().set_use_dns(&v);
                self.quiet_or(|| Ok(Value::Str(j.filter().usedns.clone())))
            }
            "findtime" => {
                let v = timeconv::str2seconds(arg(command, 2)?)?;
                let j = jail()?;
                {
                    let mut f = j.filter();
                    f.fail.set_max_time(timeconv::as_f64(&v));
                    f.findtime = v.clone();
                }
                f2b_log!(INFO, "filter", "  findtime: {}", v.str_());
                self.quiet_or(|| Ok(v))
            }
            "datepattern" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                j.filter().set_date_pattern(&v)?;
                self.quiet_or(|| Ok(j.filter().date_pattern_value()))
            }
            "logtimezone" => {
                let v = sarg(command, 2)?;
                let j = jail()?;
                j.filter().set_log_timezone(&v)?;
                self.quiet_or(|| Ok(opt_str(j.filter().logtimezone.clone())))
            }
            "maxmatches" => {
                let v = py_int(arg(command, 2)?)?;
                let j = jail()?;
                j.filter().fail.max_matches = v.max(0) as usize;
                self.quiet_or(|| Ok(Value::Int(v)))
            }
            "maxretry" => {
                let v = py_int(arg(command, 2)?)?;
                let j = jail()?;
                j.filter().fail.set_max_retry(v.max(0) as u32);
                f2b_log!(INFO, "filter", "  maxRetry: {v}");
                self.quiet_or(|| Ok(Value::Int(v)))
            }
            "maxlines" => {
                let v = py_int(arg(command, 2)?)?;
                let j = jail()?;
                j.filter().set_max_lines(v)?;
                self.quiet_or(|| Ok(Value::Int(j.filter().maxlines as i64)))
            }
            "bantime" => {
                let v = timeconv::str2seconds(arg(command, 2)?)?;
                let j = jail()?;
                let secs = timeconv::as_f64(&v) as i64;
                j.actions().bans.set_ban_time(secs);
                let _ = j.queue.send(ActionMsg::Wake);
                f2b_log!(INFO, "actions", "  banTime: {}", v.str_());
                self.quiet_or(|| Ok(Value::Int(secs)))
            }
            "attempt" => {
                let vals = texts(&command[2..]);
                if self.quiet {
                    return Ok(Value::None);
                }
                let ip = vals.first().ok_or_else(CmdError::type_error_attempt)?;
                let j = jail()?;
                let (r, ticket) = j.filter().add_attempt(ip, &vals[1..], now());
                if let Some(t) = ticket {
                    let _ = j.queue.send(ActionMsg::Ban(t));
                }
                Ok(Value::Int(r))
            }
            k if k.starts_with("bantime.") => {
                let opt = &k["bantime.".len()..];
                let v = arg(command, 2)?.clone();
                let j = jail()?;
                let r = {
                    let mut a = j.actions();
                    let r = a.set_ban_time_extra(opt, &v, srv.db().is_some())?;
                    j.increment.store(a.extra.increment, Ordering::Relaxed);
                    r
                };
                self.quiet_or(|| Ok(r))
            }
            "banip" => {
                let vals = texts(&command[2..]);
                let j = jail()?;
                let n = j.actions().add_banned_ips(&j, &vals);
                Ok(Value::Int(n as i64))
            }
            "unbanip" => {
                let first = sarg(command, 2)?;
                let (ifexists, vals) = if first == "--report-absent" {
                    (false, texts(&command[3..]))
                } else {
                    (true, texts(&command[2..]))
                };
                srv.set_unban_ip(Some(&name), Some(&vals), ifexists)
            }
            "addaction" => {
                let act = sarg(command, 2)?;
                if command.len() > 3 {
                    return Err(CmdError::exception(format!(
                        "Python actions are not supported: {}",
                        text(&command[3])
                    )));
                }
                let j = jail()?;
                j.actions()
                    .set
                    .add(&act)
                    .map_err(|e| CmdError::value(e.to_string()))?;
                self.quiet_or(|| Ok(Value::Str(act)))
            }
            "delaction" => {
                let act = sarg(command, 2)?;
                let j = jail()?;
                let mut a = j.actions();
                if a.set.get(&act).is_none() {
                    return Err(invalid_action(&act));
                }
                let _ = a.set.stop(Some(std::slice::from_ref(&act)));
                Ok(Value::None)
            }
            "action" => {
                let act = sarg(command, 2)?;
                let j = jail()?;
                let mut a = j.actions();
                if a.set.get(&act).is_none() {
                    return Err(invalid_action(&act));
                }
                if multiple {
                    let pairs = arg(command, 3)?;
                    let mut kv: Vec<(String, String)> = Vec::new();
                    // upstream: `for cmd in command[3]: key = cmd[0]; value = cmd[1]`;
                    // a string is iterated by characters, and a 1-character item has no [1]
                    let items: Vec<Value> = match pairs {
                        Value::Str(s) => s.chars().map(|c| Value::str(c.to_string())).collect(),
                        other => other.as_seq().unwrap_or(&[]).to_vec(),
                    };
                    for p in &items {
                        let k = text(&py_item(p, 0)?);
                        let v = match py_item(p, 1) {
                            Ok(v) => text(&v),
                            Err(e) if matches!(p, Value::Str(_)) => return Err(e),
                            Err(_) => String::new(),
                        };
                        kv.push((k, v));
                    }
                    a.set
                        .set_pairs(&act, &kv)
                        .map_err(|e| CmdError::value(e.to_string()))?;
                    return Ok(Value::Bool(true));
                }
                let k = sarg(command, 3)?;
                if let Some(r) = a.action_method(&act, &k, command.get(4)) {
                    return if self.quiet { Ok(Value::None) } else { r };
                }
                let v = sarg(command, 4)?;
                a.set
                    .set_pairs(&act, &[(k.clone(), v)])
                    .map_err(|e| CmdError::value(e.to_string()))?;
                let cur = a.set.get(&act).and_then(|x| x.get(&k)).map(str::to_string);
                self.quiet_or(|| Ok(opt_str(cur)))
            }
            _ => Err(CmdError::exception(format!(
                "Invalid command {} (no set action or not yet implemented)",
                logging::py_repr(&key)
            ))),
        }
    }

    /// Upstream `__commandGet`.
    fn command_get(&self, command: &[Value]) -> CmdResult {
        let name = sarg(command, 0)?;
        let srv = self.server;
        match name.as_str() {
            "loglevel" => return Ok(opt_str(logging::level_name())),
            "logtarget" => return Ok(opt_str(logging::target())),
            "syslogsocket" => return Ok(opt_str(logging::syslog_socket())),
            "thread" => return Ok(srv.thread_options()),
            "dbfile" => return Ok(srv.db().map_or(Value::None, |d| Value::str(d.filename()))),
            "dbmaxmatches" => {
                return Ok(srv
                    .db()
                    .map_or(Value::None, |d| Value::Int(d.max_matches())))
            }
            "dbpurgeage" => return Ok(srv.db().map_or(Value::None, |d| d.purge_age())),
            _ => {}
        }
        let key = sarg(command, 1)?;
        let jail = || srv.jail(&name);
        match key.as_str() {
            "banned" => srv.banned(Some(&name), &texts(&command[2..])),
            "logpath" => Ok(jail()?.filter().log_paths_value()),
            "logencoding" => Ok(Value::Str(jail()?.filter().logencoding.clone())),
            "journalmatch" => Ok(jail()?.filter().journal_match_value()),
            "ignoreself" => Ok(Value::Bool(jail()?.filter().ignore.ignore_self)),
            "ignoreip" => Ok(str_list(jail()?.filter().ignore.entries())),
            "ignorecommand" => Ok(jail()?.filter().ignorecommand.clone()),
            "ignorecache" => Ok(jail()?.filter().ignorecache_raw.clone()),
            "prefregex" => Ok(Value::Str(jail()?.filter().prefregex_expanded())),
            "failregex" => Ok(str_list(jail()?.filter().regex_list(true))),
            "ignoreregex" => Ok(str_list(jail()?.filter().regex_list(false))),
            "usedns" => Ok(Value::Str(jail()?.filter().usedns.clone())),
            "findtime" => Ok(jail()?.filter().findtime.clone()),
            "datepattern" => Ok(jail()?.filter().date_pattern_value()),
            "logtimezone" => Ok(opt_str(jail()?.filter().logtimezone.clone())),
            "maxmatches" => Ok(Value::Int(jail()?.filter().fail.max_matches as i64)),
            "maxretry" => Ok(Value::Int(i64::from(jail()?.filter().fail.max_retry()))),
            "maxlines" => Ok(Value::Int(jail()?.filter().maxlines as i64)),
            "bantime" => Ok(pynum(jail()?.actions().ban_time())),
            "banip" => {
                let j = jail()?;
                let a = j.actions();
                if command.get(2).map(text).as_deref() == Some("--with-time") {
                    Ok(str_list(a.bans.ids_by_end_with_time()))
                } else {
                    Ok(str_list(
                        a.bans.ids_by_end().iter().map(|i| i.to_string()).collect(),
                    ))
                }
            }
            k if k.starts_with("bantime.") => {
                Ok(jail()?.actions().get_ban_time_extra(&k["bantime.".len()..]))
            }
            "actions" => Ok(str_list(jail()?.actions().set.names())),
            "action" => {
                let act = sarg(command, 2)?;
                let prop = sarg(command, 3)?;
                let j = jail()?;
                let a = j.actions();
                let action = a.set.get(&act).ok_or_else(|| invalid_action(&act))?;
                match action.get(&prop) {
                    Some(v) => Ok(Value::str(v)),
                    None => Err(CmdError {
                        module: "builtins".into(),
                        class: "AttributeError".into(),
                        args: vec![Value::str(format!(
                            "'CommandAction' object has no attribute {}",
                            logging::py_repr(&prop)
                        ))],
                    }),
                }
            }
            "actionproperties" | "actionmethods" => {
                let act = sarg(command, 2)?;
                let j = jail()?;
                let a = j.actions();
                let action = a.set.get(&act).ok_or_else(|| invalid_action(&act))?;
                if key == "actionmethods" {
                    return Ok(str_list(
                        [
                            "ban",
                            "clearAllParams",
                            "consistencyCheck",
                            "escapeTag",
                            "executeCmd",
                            "flush",
                            "invalidateBanEpoch",
                            "prolong",
                            "reban",
                            "reload",
                            "replaceDynamicTags",
                            "replaceTag",
                            "start",
                            "stop",
                            "unban",
                        ]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    ));
                }
                let mut keys: Vec<String> = action
                    .properties()
                    .keys()
                    .filter(|k| !k.starts_with('_'))
                    .map(str::to_string)
                    .collect();
                // class attributes of upstream's CommandAction that dir() lists too
                for k in ["ESCAPE_CRE", "ESCAPE_VN_CRE", "banEpoch"] {
                    if !keys.iter().any(|x| x == k) {
                        keys.push(k.to_string());
                    }
                }
                keys.sort();
                Ok(str_list(keys))
            }
            _ => Err(CmdError::exception(
                "Invalid command (no get action or not yet implemented)",
            )),
        }
    }

    /// Upstream `status`.
    fn status(&self, command: &[Value]) -> CmdResult {
        let srv = self.server;
        match command.len() {
            0 => Ok(srv.status()),
            1 | 2 => {
                let name = text(&command[0]);
                let flavor = command.get(1).map(text).unwrap_or_else(|| "basic".into());
                Ok(srv.jail(&name)?.status(&flavor))
            }
            _ => Err(CmdError::exception("Invalid command (no status)")),
        }
    }
}

/// Upstream `Actions.__getitem__`'s error for an unknown action.
fn invalid_action(name: &str) -> CmdError {
    CmdError::key(Value::str(format!("Invalid Action name: {name}")))
}

/// Python's `value[i]` on a command item: a string indexes its characters.
fn py_item(v: &Value, i: usize) -> Result<Value, CmdError> {
    match v {
        Value::Str(s) => s
            .chars()
            .nth(i)
            .map(|c| Value::str(c.to_string()))
            .ok_or_else(|| CmdError {
                class: "IndexError".into(),
                ..CmdError::exception("string index out of range")
            }),
        _ => v
            .as_seq()
            .and_then(|s| s.get(i))
            .cloned()
            .ok_or_else(CmdError::index),
    }
}

/// The jail a stream command configures (`add`/`start`/`set`/`multi-set <jail> …`),
/// None for general settings.
fn jail_of(words: &[Value]) -> Option<String> {
    let name = words.first()?.as_str()?;
    let j = words.get(1)?.as_str()?;
    match name {
        "add" | "start" => Some(j.to_string()),
        "set" | "multi-set" if words.len() > 2 => {
            const GENERAL: &[&str] = &[
                "loglevel",
                "logtarget",
                "syslogsocket",
                "allowipv6",
                "thread",
                "dbfile",
                "dbmaxmatches",
                "dbpurgeage",
            ];
            (!GENERAL.contains(&j)).then(|| j.to_string())
        }
        _ => None,
    }
}

fn opt_str(v: Option<String>) -> Value {
    v.map_or(Value::None, Value::Str)
}

/// A jail-library number as a protocol value.
pub fn pynum(n: f2b_jail::PyNum) -> Value {
    match n {
        f2b_jail::PyNum::Int(i) => Value::Int(i),
        f2b_jail::PyNum::Float(f) => Value::Float(f),
    }
}

impl CmdError {
    /// `addAttempt()` without an address (Python's missing-argument TypeError).
    pub fn type_error_attempt() -> CmdError {
        CmdError::type_error("addAttempt() missing 1 required positional argument: 'ip'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(words: &[&str]) -> Value {
        Value::List(words.iter().map(|w| Value::str(*w)).collect())
    }

    fn run(srv: &Server, v: Value) -> (i64, Value) {
        Transmitter::new(srv).proceed(&v)
    }

    #[test]
    fn broken_jail_in_stream_does_not_stop_the_others() {
        let srv = Server::new();
        let stream = Value::List(vec![
            c(&["add", "bad", "polling"]),
            c(&["set", "bad", "addfailregex", "^(unclosed <HOST>"]),
            c(&["set", "bad", "maxretry", "3"]),
            c(&["add", "good", "polling"]),
            c(&["set", "good", "addfailregex", "^fail from <HOST>$"]),
            c(&["set", "good", "maxretry", "4"]),
        ]);
        let (code, _) = run(&srv, Value::List(vec![Value::str("server-stream"), stream]));
        assert_eq!(code, 0);
        let (_, st) = run(&srv, c(&["status"]));
        assert_eq!(
            st,
            Value::List(vec![
                Value::Tuple(vec![Value::str("Number of jail"), Value::Int(1)]),
                Value::Tuple(vec![Value::str("Jail list"), Value::str("good")]),
            ])
        );
        assert_eq!(
            run(&srv, c(&["get", "good", "maxretry"])),
            (0, Value::Int(4))
        );
    }

    #[test]
    fn upstream_results_and_errors() {
        let srv = Server::new();
        let cases: Vec<(Value, i64, Value)> = vec![
            (c(&["ping"]), 0, Value::str("pong")),
            (c(&["echo", "a", "b"]), 0, c(&["a", "b"])),
            (c(&["add", "j", "polling"]), 0, Value::str("j")),
            (c(&["set", "j", "maxretry", "5"]), 0, Value::Int(5)),
            (c(&["set", "j", "findtime", "10m"]), 0, Value::Int(600)),
            (c(&["set", "j", "bantime", "1h"]), 0, Value::Int(3600)),
            (c(&["get", "j", "bantime"]), 0, Value::Int(3600)),
            (c(&["set", "j", "usedns", "bogus"]), 0, Value::str("no")),
            (
                c(&["get", "j", "datepattern"]),
                0,
                Value::Tuple(vec![Value::None, Value::str("Default Detectors")]),
            ),
            (
                c(&["set", "j", "addignoreip", "10.0.0.0/8", "192.0.2.1"]),
                0,
                c(&["10.0.0.0/8", "192.0.2.1"]),
            ),
            (c(&["set", "j", "banip", "192.0.2.9"]), 0, Value::Int(1)),
            (c(&["get", "j", "banned", "192.0.2.9"]), 0, Value::Int(1)),
            (c(&["set", "j", "unbanip", "192.0.2.9"]), 0, Value::Int(1)),
            (c(&["set", "j", "unbanip", "192.0.2.9"]), 0, Value::Int(0)),
        ];
        for (cmd, code, want) in cases {
            let got = run(&srv, cmd.clone());
            assert_eq!(got, (code, want), "{}", cmd.repr());
        }
        let errs: Vec<(Value, &str, &str)> = vec![
            (c(&["add", "j"]), "DuplicateJailException", "j"),
            (c(&["status", "nosuch"]), "UnknownJailException", "nosuch"),
            (c(&["frobnicate"]), "Exception", "Invalid command"),
            (c(&["set", "j"]), "IndexError", "list index out of range"),
            (
                c(&["set", "j", "maxretry", "x"]),
                "ValueError",
                "invalid literal for int() with base 10: 'x'",
            ),
            (
                c(&["set", "j", "unbanip", "--report-absent", "9.9.9.9"]),
                "ValueError",
                "not banned: ['9.9.9.9']",
            ),
            (
                c(&["get", "j", "nosuch"]),
                "Exception",
                "Invalid command (no get action or not yet implemented)",
            ),
            (
                c(&["set", "j", "nosuch", "1"]),
                "Exception",
                "Invalid command 'nosuch' (no set action or not yet implemented)",
            ),
            (c(&["add", "--all"]), "Exception", "Reserved name '--all'"),
            // 1.0.2 has no `stats` and no `status --all`
            (c(&["stats"]), "Exception", "Invalid command"),
            (c(&["status", "--all"]), "UnknownJailException", "--all"),
            (
                c(&["set", "thread", "{}"]),
                "AttributeError",
                "'str' object has no attribute 'items'",
            ),
            (
                c(&["get", "j", "action", "nosuch", "init"]),
                "KeyError",
                "Invalid Action name: nosuch",
            ),
        ];
        for (cmd, class, msg) in errs {
            let (code, v) = run(&srv, cmd.clone());
            assert_eq!(code, 1, "{}", cmd.repr());
            match v {
                Value::Exception { class: k, args, .. } => {
                    assert_eq!(k, class, "{}", cmd.repr());
                    assert_eq!(args, vec![Value::str(msg)], "{}", cmd.repr());
                }
                other => panic!("{} -> {other:?}", cmd.repr()),
            }
        }
    }
}
