//! Differential test of `Request::from_value` against fail2ban 1.0.2's own
//! `Transmitter` driving a recording mock server: for thousands of generated
//! commands, upstream either raises before touching the server (we must return the
//! same exception), or calls a server method (we must accept the command and map it
//! to the matching typed request).

mod common;

use common::{oracle, python, to_json, Rng, PY_DECODE};
use f2b_protocol::request::{Get, JailGet, JailSet, Set, Status, StopTarget};
use f2b_protocol::{Request, Value};

const W0: &[&str] = &[
    "ping",
    "version",
    "echo",
    "add",
    "start",
    "stop",
    "reload",
    "unban",
    "banned",
    "server-status",
    "server-stream",
    "sleep",
    "flushlogs",
    "get",
    "set",
    "multi-set",
    "status",
    "config-error",
    "nope",
];
const SERVER_KEYS: &[&str] = &[
    "loglevel",
    "logtarget",
    "syslogsocket",
    "allowipv6",
    "thread",
    "dbfile",
    "dbmaxmatches",
    "dbpurgeage",
];
const JAIL_KEYS: &[&str] = &[
    "idle",
    "ignoreself",
    "addignoreip",
    "delignoreip",
    "ignorecommand",
    "ignorecache",
    "addlogpath",
    "dellogpath",
    "logencoding",
    "addjournalmatch",
    "deljournalmatch",
    "prefregex",
    "addfailregex",
    "delfailregex",
    "addignoreregex",
    "delignoreregex",
    "usedns",
    "findtime",
    "datepattern",
    "logtimezone",
    "maxmatches",
    "maxretry",
    "maxlines",
    "bantime",
    "attempt",
    "bantime.increment",
    "banip",
    "unbanip",
    "addaction",
    "delaction",
    "action",
    "banned",
    "logpath",
    "journalmatch",
    "ignoreip",
    "failregex",
    "ignoreregex",
    "actions",
    "actionproperties",
    "actionmethods",
    "bantime.factor",
    "bogus",
];
const VALUES: &[&str] = &[
    "sshd",
    "--all",
    "on",
    "off",
    "maybe",
    "head",
    "tail",
    "TAIL",
    "5",
    " 7 ",
    "-3",
    "1_0",
    "abc",
    "0",
    "0.001",
    "--report-absent",
    "--with-time",
    "192.0.2.1",
    "prop",
    "meth",
    "{}",
    "{\"a\": 1}",
    "",
];

fn word(r: &mut Rng) -> Value {
    match r.below(40) {
        0 => Value::Int(r.below(10) as i64),
        1 => Value::None,
        2 => Value::list(["ping"]),
        3 => Value::List(vec![]),
        4 => Value::Float(2.5),
        _ => {
            let pools: [&[&str]; 4] = [SERVER_KEYS, JAIL_KEYS, VALUES, VALUES];
            let pool = *r.pick(&pools);
            Value::str(*r.pick(pool))
        }
    }
}

fn command(r: &mut Rng) -> Value {
    match r.below(60) {
        0 => return Value::str("ping"),
        1 => return Value::str(""),
        2 => return Value::Int(3),
        3 => return Value::dict([("a", 1)]),
        4 => return Value::None,
        5 => return Value::tuple(["set", "sshd"]),
        _ => {}
    }
    let n = r.below(7) as usize;
    let mut c: Vec<Value> = Vec::new();
    if n > 0 {
        c.push(if r.below(25) == 0 {
            word(r)
        } else {
            Value::str(*r.pick(W0))
        });
    }
    if n > 1 {
        // Jail-targeted commands mostly get a jail name or a server key next.
        c.push(if r.below(2) == 0 {
            Value::str("sshd")
        } else {
            word(r)
        });
    }
    if n > 2 {
        c.push(if r.below(3) > 0 {
            Value::str(*r.pick(JAIL_KEYS))
        } else {
            word(r)
        });
    }
    for _ in 3..n {
        c.push(word(r));
    }
    Value::List(c)
}

/// The server method upstream calls first for a request (None: no call, or not checked).
fn first_call(req: &Request) -> Option<&'static str> {
    Some(match req {
        Request::Add { .. } => "addJail",
        Request::Reload { .. } => "reloadJails",
        Request::Start { .. } => "startJail",
        Request::Stop(StopTarget::Server) => "quit",
        Request::Stop(StopTarget::AllJails) => "stopAllJail",
        Request::Stop(StopTarget::Jail(_)) => "stopJail",
        Request::Unban(_) => "setUnbanIP",
        Request::Banned(_) => "banned",
        Request::FlushLogs => "flushLogs",
        Request::Status(Status::Server) => "status",
        Request::Status(Status::Jail { .. }) => "statusJail",
        Request::Get(g) => match g {
            Get::LogLevel => "getLogLevel",
            Get::LogTarget => "getLogTarget",
            Get::SyslogSocket => "getSyslogSocket",
            Get::Thread => "getThreadOptions",
            Get::DbFile | Get::DbMaxMatches | Get::DbPurgeAge => "getDatabase",
            Get::Jail { what, .. } => match what {
                JailGet::Banned(_) => "banned",
                JailGet::LogPath => "getLogPath",
                JailGet::LogEncoding => "getLogEncoding",
                JailGet::JournalMatch => "getJournalMatch",
                JailGet::IgnoreSelf => "getIgnoreSelf",
                JailGet::IgnoreIp => "getIgnoreIP",
                JailGet::IgnoreCommand => "getIgnoreCommand",
                JailGet::IgnoreCache => "getIgnoreCache",
                JailGet::PrefRegex => "getPrefRegex",
                JailGet::FailRegex => "getFailRegex",
                JailGet::IgnoreRegex => "getIgnoreRegex",
                JailGet::UseDns => "getUseDns",
                JailGet::FindTime => "getFindTime",
                JailGet::DatePattern => "getDatePattern",
                JailGet::LogTimeZone => "getLogTimeZone",
                JailGet::MaxMatches => "getMaxMatches",
                JailGet::MaxRetry => "getMaxRetry",
                JailGet::MaxLines => "getMaxLines",
                JailGet::BanTime => "getBanTime",
                JailGet::BanIp { .. } => "getBanList",
                JailGet::BanTimeExtra(_) => "getBanTimeExtra",
                JailGet::Actions => "getActions",
                JailGet::Action { .. }
                | JailGet::ActionProperties(_)
                | JailGet::ActionMethods(_) => "getAction",
            },
        },
        Request::Set { set, .. } => match set {
            Set::LogLevel(_) => "setLogLevel",
            Set::LogTarget(_) => "setLogTarget",
            Set::SyslogSocket(_) => "setSyslogSocket",
            Set::AllowIpv6(_) => "setIPv6IsAllowed",
            Set::Thread(_) => "setThreadOptions",
            Set::DbFile(_) => "setDatabase",
            Set::DbMaxMatches(_) | Set::DbPurgeAge(_) => "getDatabase",
            Set::Jail { what, .. } => match what {
                JailSet::Idle(_) => "setIdleJail",
                JailSet::IgnoreSelf(_) => "setIgnoreSelf",
                JailSet::AddIgnoreIp(v) if v.is_empty() => "getIgnoreIP",
                JailSet::AddIgnoreIp(_) => "addIgnoreIP",
                JailSet::DelIgnoreIp(_) => "delIgnoreIP",
                JailSet::IgnoreCommand(_) => "setIgnoreCommand",
                JailSet::IgnoreCache(_) => "setIgnoreCache",
                JailSet::AddLogPath { .. } => "addLogPath",
                JailSet::DelLogPath(_) => "delLogPath",
                JailSet::LogEncoding(_) => "setLogEncoding",
                JailSet::AddJournalMatch(_) => "addJournalMatch",
                JailSet::DelJournalMatch(_) => "delJournalMatch",
                JailSet::PrefRegex(_) => "setPrefRegex",
                JailSet::AddFailRegex(_) => "addFailRegex",
                JailSet::DelFailRegex(_) => "delFailRegex",
                JailSet::AddIgnoreRegex(_) => "addIgnoreRegex",
                JailSet::DelIgnoreRegex(_) => "delIgnoreRegex",
                JailSet::UseDns(_) => "setUseDns",
                JailSet::FindTime(_) => "setFindTime",
                JailSet::DatePattern(_) => "setDatePattern",
                JailSet::LogTimeZone(_) => "setLogTimeZone",
                JailSet::MaxMatches(_) => "setMaxMatches",
                JailSet::MaxRetry(_) => "setMaxRetry",
                JailSet::MaxLines(_) => "setMaxLines",
                JailSet::BanTime(_) => "setBanTime",
                JailSet::Attempt(_) => "addAttemptIP",
                JailSet::BanTimeExtra { .. } => "setBanTimeExtra",
                JailSet::BanIp(_) => "setBanIP",
                JailSet::UnbanIp { .. } => "setUnbanIP",
                JailSet::AddAction { .. } => "addAction",
                JailSet::DelAction(_) => "delAction",
                JailSet::Action { .. } => "getAction",
            },
        },
        _ => return None,
    })
}

/// Parses like the server would run it: reload/server-stream commands run their
/// stream, and the first failing inner command's error is the result.
fn run(cmd: &Value) -> Result<Request, Value> {
    let req = Request::from_value(cmd).map_err(|e| e.into_exception())?;
    if let Request::Reload { stream, .. } | Request::ServerStream(stream) = &req {
        for inner in stream {
            run(inner)?;
        }
    }
    Ok(req)
}

/// Like `deferred`, also looking into the commands of a stream.
fn deferred_any(req: &Request) -> bool {
    if deferred(req) {
        return true;
    }
    match req {
        Request::ServerStream(stream) => stream
            .iter()
            .any(|c| Request::from_value(c).is_ok_and(|r| deferred_any(&r))),
        _ => false,
    }
}

/// Requests whose remaining checks upstream makes only after a server lookup.
fn deferred(req: &Request) -> bool {
    matches!(
        req,
        Request::Set {
            set: Set::Jail {
                what: JailSet::Action { .. } | JailSet::AddAction { .. },
                ..
            },
            ..
        } | Request::Set {
            set: Set::DbMaxMatches(_) | Set::DbPurgeAge(_),
            ..
        } | Request::Get(Get::Jail {
            what: JailGet::Action { .. },
            ..
        }) | Request::Reload { .. }
    )
}

#[test]
fn requests_match_upstream_transmitter() {
    if !oracle() {
        return;
    }
    let mut r = Rng(0xdead_beef_cafe_f00d);
    let mut cmds: Vec<Value> = (0..20000).map(|_| command(&mut r)).collect();
    // Streams: reload and server-stream run inner commands.
    for i in 0..300 {
        let inner = Value::List((0..r.below(3)).map(|_| command(&mut r)).collect());
        cmds.push(if i % 2 == 0 {
            Value::list(vec![Value::str("server-stream"), inner])
        } else {
            Value::list(vec![
                Value::str("reload"),
                Value::str("--all"),
                Value::List(vec![]),
                inner,
            ])
        });
    }
    let input: String = cmds.iter().map(|c| to_json(c).to_string() + "\n").collect();
    let script = format!(
        "{PY_DECODE}\n{}",
        r#"
import sys
from fail2ban.server.transmitter import Transmitter
class DB:
    filename = 'f'; maxMatches = 1; purgeage = 1
class Act:
    prop = 1
    def meth(self, **kw): return 'm'
import time
time.sleep = lambda secs: float(secs)
class Server:
    def __init__(self): self.calls = []
    def reloadJails(self, name, opts, begin): self.calls.append('reloadJails')
    def __getattr__(self, name):
        if name.startswith('_'): raise AttributeError(name)
        def f(*a, **k):
            self.calls.append(name)
            return {'getDatabase': DB(), 'getAction': Act(), 'getActions': {}, 'getPrefRegex': None,
                    'setLogTarget': True, 'setSyslogSocket': True}.get(name, 'x')
        return f
for line in sys.stdin:
    m = Server()
    try:
        Transmitter(m)._Transmitter__commandHandler(dec(json.loads(line)))
        r = [None, m.calls]
    except Exception as e:
        r = [repr(e), m.calls]
    print(json.dumps(r))
"#
    );
    let out = String::from_utf8(python(&script, input.as_bytes())).unwrap();
    let (mut ok, mut errors) = (0, 0);
    for (c, line) in cmds.iter().zip(out.lines()) {
        let (err, calls): (Option<String>, Vec<String>) = serde_json::from_str(line).unwrap();
        let ours = run(c);
        match (err, ours) {
            (None, Ok(req)) => {
                ok += 1;
                match first_call(&req) {
                    Some(m) => assert_eq!(
                        calls.first().map(String::as_str),
                        Some(m),
                        "{} -> {req:?}",
                        c.repr()
                    ),
                    None if !matches!(req, Request::ServerStream(_)) => {
                        assert!(
                            calls.is_empty(),
                            "{} -> {req:?} made calls {calls:?}",
                            c.repr()
                        )
                    }
                    None => {}
                }
            }
            (Some(e), Err(x)) => {
                errors += 1;
                assert_eq!(x.repr(), e, "{}", c.repr());
            }
            (Some(e), Ok(req)) if !calls.is_empty() && deferred_any(&req) => {
                let _ = e; // raised after a server lookup: the server's job
            }
            (Some(e), Ok(req)) if e.starts_with("JSONDecodeError") => {
                assert!(matches!(
                    req,
                    Request::Set {
                        set: Set::Jail {
                            what: JailSet::AddAction { .. },
                            ..
                        },
                        ..
                    }
                ));
            }
            (Some(e), Ok(Request::Stats)) => assert_eq!(e, "Exception('Invalid command')"),
            (e, ours) => panic!(
                "{}: upstream {e:?} (calls {calls:?}), ours {ours:?}",
                c.repr()
            ),
        }
    }
    assert_eq!(out.lines().count(), cmds.len());
    assert!(ok > 1500 && errors > 1500, "ok {ok}, errors {errors}");
}
