//! Typed requests: what a decoded command list means (upstream's
//! `server/transmitter.py`), with upstream's exceptions for malformed shapes.
//!
//! Parsing does exactly the checks upstream's transmitter does *before* it touches
//! the server (indexing, `int()` conversions, option keywords), in the same order,
//! so the error a client sees is the same. Checks that upstream does after a jail
//! lookup are left to the server; where that concerns a missing argument the field
//! is an `Option` and the server raises [`RequestError::index_error`] when it is `None`.

use crate::value::Value;

mod parse;
mod pyconv;

pub use pyconv::{py_float, py_int};
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
    /// `sleep <seconds>` → None (already converted with Python's `float()`; a negative
    /// value must make the server raise `ValueError('sleep length must be non-negative')`).
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
