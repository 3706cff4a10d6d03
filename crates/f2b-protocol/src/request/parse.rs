//! Parsing a command list into a [`Request`] (upstream's `Transmitter`
//! `__commandHandler`, `__commandSet`, `__commandGet`, `status`).

use super::pyconv::{py_float, py_int};
use super::{Get, JailGet, JailSet, Request, RequestError, Set, Status, StopTarget, UnbanTarget};
use crate::value::Value;

/// A command's argument list with Python's indexing errors.
struct Args<'a> {
    items: &'a [Value],
    kind: &'static str,
}

impl<'a> Args<'a> {
    fn get(&self, i: usize) -> Result<&'a Value, RequestError> {
        self.items.get(i).ok_or_else(|| {
            RequestError::builtin("IndexError", format!("{} index out of range", self.kind))
        })
    }
    fn opt(&self, i: usize) -> Option<Value> {
        self.items.get(i).cloned()
    }
    fn from(&self, i: usize) -> Vec<Value> {
        self.items.get(i..).unwrap_or(&[]).to_vec()
    }
    fn sub(&self, i: usize) -> Args<'a> {
        Args {
            items: self.items.get(i..).unwrap_or(&[]),
            kind: self.kind,
        }
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

fn is(v: &Value, s: &str) -> bool {
    v.as_str() == Some(s)
}

/// `v.startswith(prefix)`, with Python's AttributeError for non-strings.
fn starts_with(v: &Value, prefix: &str) -> Result<bool, RequestError> {
    match v {
        Value::Str(s) => Ok(s.starts_with(prefix)),
        other => Err(RequestError::builtin(
            "AttributeError",
            format!(
                "'{}' object has no attribute 'startswith'",
                other.type_name()
            ),
        )),
    }
}

/// `json.loads` accepts only text; the JSON syntax itself is checked by the server.
fn json_text(v: &Value) -> Result<(), RequestError> {
    match v {
        Value::Str(_) | Value::Bytes(_) | Value::ByteArray(_) => Ok(()),
        other => Err(RequestError::builtin(
            "TypeError",
            format!(
                "the JSON object must be str, bytes or bytearray, not {}",
                other.type_name()
            ),
        )),
    }
}

fn seq_items(v: &Value) -> Result<Vec<Value>, RequestError> {
    match v {
        Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => Ok(x.clone()),
        Value::Dict(d) => Ok(d.iter().map(|(k, _)| k.clone()).collect()),
        Value::Str(s) => Ok(s.chars().map(|c| Value::Str(c.to_string())).collect()),
        other => Err(RequestError::builtin(
            "TypeError",
            format!("'{}' object is not iterable", other.type_name()),
        )),
    }
}

impl Request {
    /// Interprets a decoded command (normally a list of strings).
    pub fn from_value(command: &Value) -> Result<Request, RequestError> {
        let args = match command {
            Value::List(x) => Args {
                items: x,
                kind: "list",
            },
            Value::Tuple(x) => Args {
                items: x,
                kind: "tuple",
            },
            Value::Str(s) if s.is_empty() => {
                return Err(RequestError::builtin(
                    "IndexError",
                    "string index out of range",
                ))
            }
            Value::Bytes(b) if b.is_empty() => {
                return Err(RequestError::builtin("IndexError", "index out of range"))
            }
            // A non-empty string's first character never names a command.
            Value::Str(_) | Value::Bytes(_) | Value::ByteArray(_) => {
                return Err(RequestError::invalid_command())
            }
            Value::Dict(d) => {
                return match d
                    .iter()
                    .find(|(k, _)| matches!(k, Value::Int(0) | Value::Bool(false)))
                {
                    Some(_) => Err(RequestError::invalid_command()),
                    None => Err(RequestError {
                        exception: Value::builtin_exception("KeyError", vec![Value::Int(0)]),
                    }),
                }
            }
            other => {
                return Err(RequestError::builtin(
                    "TypeError",
                    format!("'{}' object is not subscriptable", other.type_name()),
                ))
            }
        };
        Request::from_args(&args)
    }

    fn from_args(c: &Args) -> Result<Request, RequestError> {
        let name = c.get(0)?;
        let Some(name) = name.as_str() else {
            return Err(RequestError::invalid_command());
        };
        Ok(match name {
            "ping" => Request::Ping,
            "add" => {
                let jail = c.get(1)?.clone();
                if is(&jail, "--all") {
                    return Err(RequestError::builtin(
                        "Exception",
                        format!("Reserved name {}", jail.repr()),
                    ));
                }
                let backend = c.opt(2).unwrap_or_else(|| Value::str("auto"));
                Request::Add { jail, backend }
            }
            "multi-set" => Request::Set {
                multi: true,
                set: parse_set(&c.sub(1), true)?,
            },
            "set" => Request::Set {
                multi: false,
                set: parse_set(&c.sub(1), false)?,
            },
            "start" => Request::Start {
                jail: c.get(1)?.clone(),
            },
            "stop" => Request::Stop(match c.len() {
                1 => StopTarget::Server,
                _ if is(c.get(1)?, "--all") => StopTarget::AllJails,
                _ => StopTarget::Jail(c.get(1)?.clone()),
            }),
            "reload" => {
                // reloadJails(*command[1:3]) needs both, then command[3] is iterated.
                if c.len() < 3 {
                    let missing = if c.len() < 2 {
                        "'name', 'opts'"
                    } else {
                        "'opts'"
                    };
                    let n = 3 - c.len();
                    return Err(RequestError::builtin(
                        "TypeError",
                        format!(
                            "Server.reloadJails() missing {n} required positional argument{}: {}",
                            if n > 1 { "s" } else { "" },
                            missing.replace("', '", "' and '")
                        ),
                    ));
                }
                Request::Reload {
                    name: c.get(1)?.clone(),
                    opts: c.get(2)?.clone(),
                    stream: seq_items(c.get(3)?)?,
                }
            }
            "unban" if c.len() >= 2 => {
                let ips = c.from(1);
                if ips.len() == 1 && is(&ips[0], "--all") {
                    Request::Unban(UnbanTarget::All)
                } else {
                    Request::Unban(UnbanTarget::Ips(ips))
                }
            }
            "banned" => Request::Banned(c.from(1)),
            "echo" => Request::Echo(c.from(1)),
            "server-status" => Request::ServerStatus,
            "server-stream" => Request::ServerStream(seq_items(c.get(1)?)?),
            "sleep" => Request::Sleep(py_float(c.get(1)?)?),
            "flushlogs" => Request::FlushLogs,
            "get" => Request::Get(parse_get(&c.sub(1))?),
            "status" => {
                let s = c.sub(1);
                Request::Status(match s.len() {
                    0 => Status::Server,
                    1 | 2 => Status::Jail {
                        jail: s.get(0)?.clone(),
                        flavor: s.opt(1),
                    },
                    _ => {
                        return Err(RequestError::builtin(
                            "Exception",
                            "Invalid command (no status)",
                        ))
                    }
                })
            }
            "stats" | "statistic" | "statistics" => Request::Stats,
            "version" => Request::Version,
            "config-error" => Request::ConfigError(c.get(1)?.clone()),
            _ => return Err(RequestError::invalid_command()),
        })
    }
}

fn parse_get(c: &Args) -> Result<Get, RequestError> {
    let name = c.get(0)?;
    if let Some(s) = name.as_str() {
        let server = match s {
            "loglevel" => Some(Get::LogLevel),
            "logtarget" => Some(Get::LogTarget),
            "syslogsocket" => Some(Get::SyslogSocket),
            "thread" => Some(Get::Thread),
            "dbfile" => Some(Get::DbFile),
            "dbmaxmatches" => Some(Get::DbMaxMatches),
            "dbpurgeage" => Some(Get::DbPurgeAge),
            _ => None,
        };
        if let Some(g) = server {
            return Ok(g);
        }
    }
    let jail = name.clone();
    let what = c.get(1)?;
    let simple = match what.as_str().unwrap_or("") {
        "logpath" => Some(JailGet::LogPath),
        "logencoding" => Some(JailGet::LogEncoding),
        "journalmatch" => Some(JailGet::JournalMatch),
        "ignoreself" => Some(JailGet::IgnoreSelf),
        "ignoreip" => Some(JailGet::IgnoreIp),
        "ignorecommand" => Some(JailGet::IgnoreCommand),
        "ignorecache" => Some(JailGet::IgnoreCache),
        "prefregex" => Some(JailGet::PrefRegex),
        "failregex" => Some(JailGet::FailRegex),
        "ignoreregex" => Some(JailGet::IgnoreRegex),
        "usedns" => Some(JailGet::UseDns),
        "findtime" => Some(JailGet::FindTime),
        "datepattern" => Some(JailGet::DatePattern),
        "logtimezone" => Some(JailGet::LogTimeZone),
        "maxmatches" => Some(JailGet::MaxMatches),
        "maxretry" => Some(JailGet::MaxRetry),
        "maxlines" => Some(JailGet::MaxLines),
        "bantime" => Some(JailGet::BanTime),
        _ => None,
    };
    let what = if is(what, "banned") {
        JailGet::Banned(c.from(2))
    } else if let Some(g) = simple {
        g
    } else if is(what, "banip") {
        JailGet::BanIp {
            with_time: c.len() > 2 && is(c.get(2)?, "--with-time"),
        }
    } else if starts_with(what, "bantime.")? {
        JailGet::BanTimeExtra(what.as_str().unwrap_or("")["bantime.".len()..].to_string())
    } else if is(what, "actions") {
        JailGet::Actions
    } else if is(what, "action") {
        JailGet::Action {
            action: c.get(2)?.clone(),
            property: c.get(3)?.clone(),
        }
    } else if is(what, "actionproperties") {
        JailGet::ActionProperties(c.get(2)?.clone())
    } else if is(what, "actionmethods") {
        JailGet::ActionMethods(c.get(2)?.clone())
    } else {
        return Err(RequestError::builtin(
            "Exception",
            "Invalid command (no get action or not yet implemented)",
        ));
    };
    Ok(Get::Jail { jail, what })
}

fn parse_set(c: &Args, multi: bool) -> Result<Set, RequestError> {
    let name = c.get(0)?;
    if let Some(s) = name.as_str() {
        let server: Option<fn(Value) -> Set> = match s {
            "loglevel" => Some(Set::LogLevel),
            "logtarget" => Some(Set::LogTarget),
            "syslogsocket" => Some(Set::SyslogSocket),
            "allowipv6" => Some(Set::AllowIpv6),
            "thread" => Some(Set::Thread),
            "dbfile" => Some(Set::DbFile),
            _ => None,
        };
        if let Some(make) = server {
            return Ok(make(c.get(1)?.clone()));
        }
        // dbmaxmatches/dbpurgeage read their value only when a database exists.
        match s {
            "dbmaxmatches" => return Ok(Set::DbMaxMatches(c.opt(1))),
            "dbpurgeage" => return Ok(Set::DbPurgeAge(c.opt(1))),
            _ => {}
        }
    }
    let jail = name.clone();
    let what = c.get(1)?;
    let key = what.as_str().unwrap_or("");
    let v2 = || c.get(2).cloned();
    let what = match key {
        "idle" => {
            let o = c.get(2)?;
            if is(o, "on") {
                JailSet::Idle(true)
            } else if is(o, "off") {
                JailSet::Idle(false)
            } else {
                return Err(RequestError::builtin(
                    "Exception",
                    "Invalid idle option, must be 'on' or 'off'",
                ));
            }
        }
        "ignoreself" => JailSet::IgnoreSelf(v2()?),
        "addignoreip" => JailSet::AddIgnoreIp(c.from(2)),
        "delignoreip" => JailSet::DelIgnoreIp(v2()?),
        "ignorecommand" => JailSet::IgnoreCommand(v2()?),
        "ignorecache" => JailSet::IgnoreCache(v2()?),
        "addlogpath" => {
            let path = v2()?;
            let mut tail = false;
            if c.len() == 4 {
                let opt = match c.get(3)? {
                    Value::Str(s) => s.to_lowercase(),
                    other => {
                        return Err(RequestError::builtin(
                            "AttributeError",
                            format!("'{}' object has no attribute 'lower'", other.type_name()),
                        ))
                    }
                };
                if opt == "tail" {
                    tail = true;
                } else if opt != "head" {
                    return Err(RequestError::builtin(
                        "ValueError",
                        "File option must be 'head' or 'tail'",
                    ));
                }
            } else if c.len() > 4 {
                return Err(RequestError::builtin(
                    "ValueError",
                    "Only one file can be added at a time",
                ));
            }
            JailSet::AddLogPath { path, tail }
        }
        "dellogpath" => JailSet::DelLogPath(v2()?),
        "logencoding" => JailSet::LogEncoding(v2()?),
        "addjournalmatch" => JailSet::AddJournalMatch(c.from(2)),
        "deljournalmatch" => JailSet::DelJournalMatch(c.from(2)),
        "prefregex" => JailSet::PrefRegex(v2()?),
        "addfailregex" => JailSet::AddFailRegex(v2()?),
        "delfailregex" => JailSet::DelFailRegex(py_int(&v2()?)?),
        "addignoreregex" => JailSet::AddIgnoreRegex(v2()?),
        "delignoreregex" => JailSet::DelIgnoreRegex(py_int(&v2()?)?),
        "usedns" => JailSet::UseDns(v2()?),
        "findtime" => JailSet::FindTime(v2()?),
        "datepattern" => JailSet::DatePattern(v2()?),
        "logtimezone" => JailSet::LogTimeZone(v2()?),
        "maxmatches" => JailSet::MaxMatches(py_int(&v2()?)?),
        "maxretry" => JailSet::MaxRetry(py_int(&v2()?)?),
        "maxlines" => JailSet::MaxLines(py_int(&v2()?)?),
        "bantime" => JailSet::BanTime(v2()?),
        "attempt" => JailSet::Attempt(c.from(2)),
        _ if starts_with(what, "bantime.")? => JailSet::BanTimeExtra {
            value: v2()?,
            opt: key["bantime.".len()..].to_string(),
        },
        "banip" => JailSet::BanIp(c.from(2)),
        "unbanip" => {
            if is(c.get(2)?, "--report-absent") {
                JailSet::UnbanIp {
                    ips: c.from(3),
                    report_absent: true,
                }
            } else {
                JailSet::UnbanIp {
                    ips: c.from(2),
                    report_absent: false,
                }
            }
        }
        "addaction" => {
            let name = v2()?;
            let python = if c.len() > 3 {
                let (file, kwargs) = (c.get(3)?.clone(), c.get(4)?.clone());
                json_text(&kwargs)?;
                Some((file, kwargs))
            } else {
                None
            };
            JailSet::AddAction { name, python }
        }
        "delaction" => JailSet::DelAction(v2()?),
        "action" => JailSet::Action {
            action: v2()?,
            key: c.opt(3),
            value: if multi { None } else { c.opt(4) },
        },
        _ => {
            return Err(RequestError::builtin(
                "Exception",
                format!(
                    "Invalid command {} (no set action or not yet implemented)",
                    what.repr()
                ),
            ))
        }
    };
    Ok(Set::Jail { jail, what })
}
