//! Typed requests: what a decoded command list means (upstream's
//! `server/transmitter.py`), with upstream's exceptions for malformed shapes.
//!
//! Parsing does exactly the checks upstream's transmitter does *before* it touches
//! the server (indexing, `int()` conversions, option keywords), in the same order,
//! so the error a client sees is the same. Checks that upstream does after a jail
//! lookup are left to the server; where that concerns a missing argument the field
//! is an `Option` and the server raises [`RequestError::index_error`] when it is `None`.

use crate::value::{repr_str, Value};
use std::fmt;

/// A command that upstream's server would refuse, as the Python exception it raises.
/// The server replies `(1, exception)` with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    exception: Value,
}

impl RequestError {
    /// An exception of a built-in class with one string argument.
    pub fn builtin(class: &str, message: impl Into<String>) -> RequestError {
        RequestError {
            exception: Value::builtin_exception(class, vec![Value::Str(message.into())]),
        }
    }

    /// `Exception('Invalid command')`.
    pub fn invalid_command() -> RequestError {
        RequestError::builtin("Exception", "Invalid command")
    }

    /// `IndexError('list index out of range')` (a missing argument).
    pub fn index_error() -> RequestError {
        RequestError::builtin("IndexError", "list index out of range")
    }

    /// `fail2ban.exceptions.UnknownJailException(name)`.
    pub fn unknown_jail(name: Value) -> RequestError {
        RequestError {
            exception: Value::Exception {
                module: "fail2ban.exceptions".into(),
                class: "UnknownJailException".into(),
                args: vec![name],
            },
        }
    }

    /// The exception value to send back.
    pub fn exception(&self) -> &Value {
        &self.exception
    }

    /// Consumes the error, giving the exception value.
    pub fn into_exception(self) -> Value {
        self.exception
    }
}

impl fmt::Display for RequestError {
    /// Python's `str(exception)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.exception.str_())
    }
}

impl std::error::Error for RequestError {}

/// A parsed command (`transmitter.py __commandHandler`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// `ping [anything]` → `'pong'`.
    Ping,
    /// `version` → the version string.
    Version,
    /// `echo a b ...` → `['a', 'b', ...]`.
    Echo(Vec<Value>),
    /// `add <jail> [backend]` (backend defaults to `'auto'`) → the jail name.
    /// A jail named `--all` is refused while parsing.
    Add {
        /// Jail name.
        jail: Value,
        /// Backend name as sent.
        backend: Value,
    },
    /// `start <jail>` → None.
    Start {
        /// Jail name.
        jail: Value,
    },
    /// `stop` (whole server), `stop --all` (all jails) or `stop <jail>` → None.
    Stop(StopTarget),
    /// `reload <jail>|--all <opts> <stream>` → `'OK'`. The stream's commands are run
    /// quietly (parse each with [`Request::from_value`]).
    Reload {
        /// `--all` or a jail name.
        name: Value,
        /// Options such as `--restart`, `--unban`, `--if-exists` (as sent).
        opts: Value,
        /// The commands to run.
        stream: Vec<Value>,
    },
    /// `unban --all` or `unban <ip> ...` → number of unbanned tickets.
    Unban(UnbanTarget),
    /// `banned [ip ...]`.
    Banned(Vec<Value>),
    /// `server-status` → `'Server ready'`.
    ServerStatus,
    /// `server-stream <commands>` → None; commands run quietly, the first error aborts.
    ServerStream(Vec<Value>),
    /// `sleep <seconds>` → None.
    Sleep(f64),
    /// `flushlogs` → `'rolled over'` / `'flushed'`.
    FlushLogs,
    /// `config-error <message>` → None (the message is logged as an error).
    ConfigError(Value),
    /// `get ...`.
    Get(Get),
    /// `set ...` (`multi == false`) or `multi-set ...` (`multi == true`).
    Set {
        /// True for `multi-set` (list arguments, returns True).
        multi: bool,
        /// What to set.
        set: Set,
    },
    /// `status [...]`.
    Status(Status),
    /// `stats` / `statistic` / `statistics` (fail2ban 1.1; 1.0.2 answers "Invalid command").
    Stats,
}

/// Target of `stop`.
#[derive(Debug, Clone, PartialEq)]
pub enum StopTarget {
    /// `stop`: shut the server down.
    Server,
    /// `stop --all`: stop every jail, keep the server.
    AllJails,
    /// `stop <jail>`.
    Jail(Value),
}

/// Target of `unban`.
#[derive(Debug, Clone, PartialEq)]
pub enum UnbanTarget {
    /// `unban --all`.
    All,
    /// `unban <ip> ...`.
    Ips(Vec<Value>),
}

/// `status` variants.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// `status` → `[('Number of jail', n), ('Jail list', 'a, b')]`.
    Server,
    /// `status <jail> [flavor]` (flavor defaults to `basic` on the server). Note that
    /// fail2ban 1.0.2 treats `status --all` as a jail named `--all` (unknown jail);
    /// 1.1 reports all jails: the server decides.
    Jail {
        /// Jail name.
        jail: Value,
        /// `basic`, `short`, `stats`, `cymru`, ... as sent.
        flavor: Option<Value>,
    },
}

/// `get` targets (`transmitter.py __commandGet`).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs, clippy::large_enum_variant)]
pub enum Get {
    LogLevel,
    LogTarget,
    SyslogSocket,
    Thread,
    DbFile,
    DbMaxMatches,
    DbPurgeAge,
    /// `get <jail> <what> ...`.
    Jail {
        jail: Value,
        what: JailGet,
    },
}

/// Per-jail `get` targets.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum JailGet {
    /// `get <jail> banned [ip ...]`.
    Banned(Vec<Value>),
    LogPath,
    LogEncoding,
    JournalMatch,
    IgnoreSelf,
    IgnoreIp,
    IgnoreCommand,
    IgnoreCache,
    PrefRegex,
    FailRegex,
    IgnoreRegex,
    UseDns,
    FindTime,
    DatePattern,
    LogTimeZone,
    MaxMatches,
    MaxRetry,
    MaxLines,
    BanTime,
    /// `get <jail> banip [--with-time]` (other arguments are client-side separators).
    BanIp {
        with_time: bool,
    },
    /// `get <jail> bantime.<opt>`.
    BanTimeExtra(String),
    Actions,
    /// `get <jail> action <action> <property>`.
    Action {
        action: Value,
        property: Value,
    },
    ActionProperties(Value),
    ActionMethods(Value),
}

/// `set` / `multi-set` targets (`transmitter.py __commandSet`).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs, clippy::large_enum_variant)]
pub enum Set {
    LogLevel(Value),
    LogTarget(Value),
    SyslogSocket(Value),
    AllowIpv6(Value),
    Thread(Value),
    DbFile(Value),
    /// Read (and converted with [`py_int`]) by the server only when a database
    /// exists; `None` = argument missing (IndexError in that case).
    DbMaxMatches(Option<Value>),
    /// Like `DbMaxMatches`: only read when a database exists.
    DbPurgeAge(Option<Value>),
    /// `set <jail> <what> ...`.
    Jail {
        jail: Value,
        what: JailSet,
    },
}

/// Per-jail `set` targets.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum JailSet {
    /// `idle on|off`.
    Idle(bool),
    IgnoreSelf(Value),
    AddIgnoreIp(Vec<Value>),
    DelIgnoreIp(Value),
    IgnoreCommand(Value),
    IgnoreCache(Value),
    /// `addlogpath <file> [head|tail]`.
    AddLogPath {
        path: Value,
        tail: bool,
    },
    DelLogPath(Value),
    LogEncoding(Value),
    AddJournalMatch(Vec<Value>),
    DelJournalMatch(Vec<Value>),
    PrefRegex(Value),
    /// A regex, or with `multi-set` a list of regexes.
    AddFailRegex(Value),
    DelFailRegex(i64),
    /// A regex, or with `multi-set` a list of regexes.
    AddIgnoreRegex(Value),
    DelIgnoreRegex(i64),
    UseDns(Value),
    FindTime(Value),
    DatePattern(Value),
    LogTimeZone(Value),
    MaxMatches(i64),
    MaxRetry(i64),
    MaxLines(i64),
    BanTime(Value),
    /// `attempt <ip> [failure-message ...]`.
    Attempt(Vec<Value>),
    /// `bantime.<opt> <value>`.
    BanTimeExtra {
        opt: String,
        value: Value,
    },
    BanIp(Vec<Value>),
    /// `unbanip [--report-absent] <ip> ...`.
    UnbanIp {
        ips: Vec<Value>,
        report_absent: bool,
    },
    /// `addaction <name> [<pythonfile> <json-kwargs>]` (the JSON text is not parsed here).
    AddAction {
        name: Value,
        python: Option<(Value, Value)>,
    },
    DelAction(Value),
    /// `action <act> <key> [<value>]` (set): upstream looks the action up first, then
    /// indexes `key`/`value`: `None` means the argument was missing (IndexError after
    /// the lookup). With `multi-set`, `key` holds the list of `[key, value]` pairs.
    Action {
        action: Value,
        key: Option<Value>,
        value: Option<Value>,
    },
}

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

/// Python's `int(v)`, with Python's error for what it refuses.
pub fn py_int(v: &Value) -> Result<i64, RequestError> {
    let literal_err = |shown: String| {
        RequestError::builtin(
            "ValueError",
            format!("invalid literal for int() with base 10: {shown}"),
        )
    };
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Float(f) if f.is_nan() => Err(RequestError::builtin(
            "ValueError",
            "cannot convert float NaN to integer",
        )),
        Value::Float(f) if f.is_infinite() => Err(RequestError::builtin(
            "OverflowError",
            "cannot convert float infinity to integer",
        )),
        Value::Float(f) if f.abs() < 9.2e18 => Ok(f.trunc() as i64),
        Value::Str(s) => parse_int_text(s).ok_or_else(|| literal_err(repr_str(s))),
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(parse_int_text)
            .ok_or_else(|| literal_err(crate::value::repr_bytes(b))),
        Value::BigInt(_) | Value::Float(_) => Err(RequestError::builtin(
            "OverflowError",
            "Python int too large to convert to C long",
        )),
        other => Err(RequestError::builtin(
            "TypeError",
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                other.type_name()
            ),
        )),
    }
}

fn parse_int_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = body.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `float(v)`.
pub fn py_float(v: &Value) -> Result<f64, RequestError> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as i64 as f64),
        Value::Float(f) => Ok(*f),
        Value::BigInt(s) => s.parse().map_err(|_| {
            RequestError::builtin("OverflowError", "int too large to convert to float")
        }),
        Value::Str(s) => {
            let t = s.trim();
            let lower = t.to_ascii_lowercase();
            let special = match lower.trim_start_matches(['+', '-']) {
                "inf" | "infinity" => Some(f64::INFINITY),
                "nan" => Some(f64::NAN),
                _ => None,
            };
            let parsed = match special {
                Some(x) if lower.starts_with('-') => Some(-x),
                Some(x) => Some(x),
                None if underscores_ok(t)
                    && t.chars()
                        .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c)) =>
                {
                    t.replace('_', "").parse().ok()
                }
                None => None,
            };
            parsed.ok_or_else(|| {
                RequestError::builtin(
                    "ValueError",
                    format!("could not convert string to float: {}", repr_str(s)),
                )
            })
        }
        other => Err(RequestError::builtin(
            "TypeError",
            format!(
                "float() argument must be a string or a real number, not '{}'",
                other.type_name()
            ),
        )),
    }
}

/// Python allows `_` in numbers only between two digits.
fn underscores_ok(t: &str) -> bool {
    let b = t.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
    })
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
