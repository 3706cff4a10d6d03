//! fail2ban's logging, byte for byte: levels (with NOTICE, MSG, TRACE, HEAVY), the
//! `%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s` line format and
//! the targets (file, STDOUT/STDERR/SYSOUT, SYSLOG datagrams, SYSTEMD-JOURNAL).
//!
//! One process-wide logger: every thread logs through [`log`] (or the [`f2b_log!`]
//! macro). The server changes level and target at run time (`set loglevel`, `set
//! logtarget`) and reopens the file on `flushlogs`/SIGUSR1/SIGHUP.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use crate::pyfmt::{self, Record};

/// A numeric log level as in Python's `logging` (higher is more severe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Level(pub i32);

impl Level {
    /// `CRITICAL` (50).
    pub const CRITICAL: Level = Level(50);
    /// `ERROR` (40).
    pub const ERROR: Level = Level(40);
    /// `WARNING` (30).
    pub const WARNING: Level = Level(30);
    /// `NOTICE` (25), fail2ban's level for bans and unbans.
    pub const NOTICE: Level = Level(25);
    /// `INFO` (20).
    pub const INFO: Level = Level(20);
    /// `MSG` (18).
    pub const MSG: Level = Level(18);
    /// `DEBUG` (10).
    pub const DEBUG: Level = Level(10);
    /// `TRACEDEBUG` (7), printed as `TRACE`.
    pub const TRACEDEBUG: Level = Level(7);
    /// `HEAVYDEBUG` (5), printed as `HEAVY`.
    pub const HEAVYDEBUG: Level = Level(5);

    /// The name of a standard level without allocating (None for other numbers).
    pub fn static_name(self) -> Option<&'static str> {
        Some(match self.0 {
            50 => "CRITICAL",
            40 => "ERROR",
            30 => "WARNING",
            25 => "NOTICE",
            20 => "INFO",
            18 => "MSG",
            10 => "DEBUG",
            7 => "TRACE",
            5 => "HEAVY",
            0 => "NOTSET",
            _ => return None,
        })
    }

    /// Python's `logging.getLevelName` as patched by fail2ban (`#07-Lev.` for unnamed
    /// levels below 50).
    pub fn name(self) -> String {
        match self.0 {
            50 => "CRITICAL".into(),
            40 => "ERROR".into(),
            30 => "WARNING".into(),
            25 => "NOTICE".into(),
            20 => "INFO".into(),
            18 => "MSG".into(),
            10 => "DEBUG".into(),
            7 => "TRACE".into(),
            5 => "HEAVY".into(),
            0 => "NOTSET".into(),
            n if (0..50).contains(&n) => format!("#{n:02}-Lev."),
            n => format!("Level {n}"),
        }
    }

    /// fail2ban's `str2LogLevel`: a number, or an attribute name of `logging`.
    /// The error text is upstream's `ValueError` message.
    pub fn parse(value: &str) -> Result<Level, String> {
        if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
            return value
                .parse::<i32>()
                .map(Level)
                .map_err(|_| format!("Invalid log level {}", py_repr(value)));
        }
        let l = match value.to_uppercase().as_str() {
            "CRITICAL" | "FATAL" => 50,
            "ERROR" => 40,
            "WARNING" | "WARN" => 30,
            "NOTICE" => 25,
            "INFO" => 20,
            "MSG" => 18,
            "DEBUG" => 10,
            "TRACEDEBUG" => 7,
            "HEAVYDEBUG" => 5,
            "NOTSET" => 0,
            _ => return Err(format!("Invalid log level {}", py_repr(value))),
        };
        Ok(Level(l))
    }
}

/// Python `repr()` of a simple string (single quotes unless it contains one).
pub(crate) fn py_repr(s: &str) -> String {
    f2b_py::repr_str(s)
}

/// Where log lines go.
enum Sink {
    /// No target configured yet: WARNING and above go bare to stderr (Python's
    /// `lastResort` handler).
    Unset,
    Stdout,
    Stderr,
    File {
        path: String,
        file: File,
    },
    Syslog {
        path: String,
        conn: SyslogConn,
        facility: u8,
    },
    Journal {
        sock: UnixDatagram,
    },
}

enum SyslogConn {
    Dgram(UnixDatagram),
    Stream(UnixStream),
}

impl SyslogConn {
    fn connect(path: &str) -> std::io::Result<SyslogConn> {
        let d = UnixDatagram::unbound()?;
        match d.connect(path) {
            Ok(()) => Ok(SyslogConn::Dgram(d)),
            Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                Ok(SyslogConn::Stream(UnixStream::connect(path)?))
            }
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            SyslogConn::Dgram(d) => d.send(data).map(|_| ()),
            SyslogConn::Stream(s) => s.write_all(data),
        }
    }
}

struct Inner {
    sink: Sink,
    /// The configured target as given (`None` before the first `set logtarget`).
    target: Option<String>,
    /// The level string as set (upper-cased), returned by `get loglevel`.
    level_name: Option<String>,
    syslog_socket: Option<String>,
    /// Line format (Python `%`-style), parsed; shared so that lines are rendered
    /// outside the lock.
    format: Arc<pyfmt::Format>,
    /// Lines for a file target not written yet (see [`hold`]).
    pending: Vec<u8>,
    /// `-v` count of the server command line (upstream's `verbose`).
    verbose: Option<i32>,
}

/// The process-wide logger.
pub struct Logger {
    level: AtomicI32,
    inner: Mutex<Inner>,
    started: Instant,
}

fn logger() -> &'static Logger {
    static L: OnceLock<Logger> = OnceLock::new();
    L.get_or_init(|| Logger {
        level: AtomicI32::new(Level::INFO.0),
        inner: Mutex::new(Inner {
            sink: Sink::Unset,
            target: None,
            level_name: None,
            syslog_socket: None,
            format: Arc::new(pyfmt::Format::parse("")),
            pending: Vec::new(),
            verbose: None,
        }),
        started: Instant::now(),
    })
}

/// Current library version string, as `version` answers.
pub const VERSION: &str = "1.0.2";

/// True when a message at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level.0 >= logger().level.load(Ordering::Relaxed)
}

/// Logs `msg` at `level` as logger `fail2ban.<module>`.
pub fn log(module: &str, level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let l = logger();
    let now = SystemTime::now();
    let mut name = String::with_capacity(9 + module.len());
    name.push_str("fail2ban");
    if !module.is_empty() {
        name.push('.');
        name.push_str(module);
    }
    let rec = Record {
        name: &name,
        module,
        level,
        message: msg,
        created: now,
        relative_ms: l.started.elapsed().as_millis() as i64,
    };
    let fmt = l
        .inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .format
        .clone();
    // render without the lock: the watcher and actions threads log at the same time
    let mut line = String::with_capacity(64 + name.len() + msg.len());
    TIME_CACHE.with(|tc| fmt.render(&rec, &mut tc.borrow_mut(), &mut line));
    let mut inner = l.inner.lock().unwrap_or_else(|e| e.into_inner());
    emit(&mut inner, level, &name, msg, &line);
}

/// Lines are written at once unless the calling thread holds a [`Hold`]; the buffer
/// is also written when it gets this big.
const PENDING_MAX: usize = 64 * 1024;

thread_local! {
    static HOLDS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Local time text of the current second, per thread.
    static TIME_CACHE: std::cell::RefCell<pyfmt::TimeCache> =
        std::cell::RefCell::new(pyfmt::TimeCache::default());
}

/// While a thread keeps this guard, its lines to a file target are collected and
/// written together when the guard is dropped (or by the next line of a thread without
/// one). A watcher holds it for one batch of log lines, so a burst of `Found` lines
/// costs one `write(2)` instead of one each.
pub struct Hold(());

/// Starts collecting this thread's file log lines (see [`Hold`]).
pub fn hold() -> Hold {
    HOLDS.with(|h| h.set(h.get() + 1));
    Hold(())
}

impl Drop for Hold {
    fn drop(&mut self) {
        let left = HOLDS.with(|h| {
            let v = h.get().saturating_sub(1);
            h.set(v);
            v
        });
        if left == 0 {
            let mut inner = logger().inner.lock().unwrap_or_else(|e| e.into_inner());
            write_pending(&mut inner);
        }
    }
}

fn write_pending(inner: &mut Inner) {
    if inner.pending.is_empty() {
        return;
    }
    if let Sink::File { file, .. } = &mut inner.sink {
        let _ = file.write_all(&inner.pending);
    }
    inner.pending.clear();
}

fn emit(inner: &mut Inner, level: Level, name: &str, msg: &str, line: &str) {
    match &mut inner.sink {
        Sink::Unset => {
            if level >= Level::WARNING {
                let _ = writeln!(std::io::stderr(), "{msg}");
            }
        }
        Sink::Stdout => {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{line}");
            let _ = o.flush();
        }
        Sink::Stderr => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        Sink::File { file, .. } => {
            inner.pending.extend_from_slice(line.as_bytes());
            inner.pending.push(b'\n');
            if HOLDS.with(|h| h.get()) == 0 || inner.pending.len() >= PENDING_MAX {
                let _ = file.write_all(&inner.pending);
                inner.pending.clear();
            }
        }
        Sink::Syslog {
            path,
            conn,
            facility,
        } => {
            let prio = syslog_priority(level);
            let data = format!("<{}>{}\0", (u32::from(*facility) << 3) | prio, line);
            if conn.send(data.as_bytes()).is_err() {
                // like Python's SysLogHandler: reconnect once (syslogd restarted)
                if let Ok(mut c) = SyslogConn::connect(path) {
                    let _ = c.send(data.as_bytes());
                    *conn = c;
                }
            }
        }
        Sink::Journal { sock } => {
            let mut data = Vec::new();
            journal_field(&mut data, "MESSAGE", line);
            journal_field(&mut data, "PRIORITY", &journal_priority(level).to_string());
            journal_field(&mut data, "LOGGER", name);
            journal_field(&mut data, "SYSLOG_IDENTIFIER", "fail2ban");
            let _ = sock.send(&data);
        }
    }
}

/// `SysLogHandler.mapPriority` with fail2ban's NOTICE entry (unknown names → warning).
fn syslog_priority(level: Level) -> u32 {
    match level.0 {
        50 => 2,
        40 => 3,
        30 => 4,
        25 => 5,
        20 => 6,
        10 => 7,
        _ => 4,
    }
}

/// python-systemd's `JournalHandler.map_priority`.
fn journal_priority(level: Level) -> u32 {
    match level.0 {
        l if l <= 10 => 7,
        l if l <= 20 => 6,
        l if l <= 30 => 4,
        l if l <= 40 => 3,
        l if l <= 50 => 2,
        _ => 1,
    }
}

fn journal_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    if value.contains('\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// Syslog facility numbers (`SysLogHandler.facility_names`).
fn facility_code(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" | "security" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

/// Sets the `-v` count given on the server command line (affects the line format of
/// later target changes, like upstream).
pub fn set_verbose(v: i32) {
    logger()
        .inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .verbose = Some(v);
}

/// `set loglevel`: the value is stored upper-cased (returned by [`level_name`]).
pub fn set_level(value: &str) -> Result<(), String> {
    let value = value.to_uppercase();
    let l = logger();
    let mut inner = l.inner.lock().unwrap_or_else(|e| e.into_inner());
    if inner.level_name.as_deref() == Some(value.as_str()) {
        return Ok(());
    }
    let lvl = Level::parse(&value)?;
    l.level.store(lvl.0, Ordering::Relaxed);
    inner.level_name = Some(value);
    Ok(())
}

/// `get loglevel`.
pub fn level_name() -> Option<String> {
    logger()
        .inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .level_name
        .clone()
}

/// `get logtarget`.
pub fn target() -> Option<String> {
    logger()
        .inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .target
        .clone()
}

/// `get syslogsocket`.
pub fn syslog_socket() -> Option<String> {
    logger()
        .inner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .syslog_socket
        .clone()
}

/// `set syslogsocket`: re-opens the target when it is SYSLOG. Returns false when that
/// re-open failed.
pub fn set_syslog_socket(path: &str) -> bool {
    let retarget = {
        let mut inner = logger().inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.syslog_socket.as_deref() == Some(path) {
            return true;
        }
        inner.syslog_socket = Some(path.to_string());
        inner.target.clone().filter(|t| t == "SYSLOG")
    };
    match retarget {
        Some(t) => {
            // force a re-open although the target string is unchanged
            logger()
                .inner
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .target = None;
            set_target(&t)
        }
        None => true,
    }
}

/// Splits `TARGET[k=v, ...]` (upstream `extractOptions`).
pub fn extract_options(spec: &str) -> Result<(String, Vec<(String, String)>), String> {
    static RE: OnceLock<(regex::Regex, regex::Regex)> = OnceLock::new();
    let (outer, item) = RE.get_or_init(|| {
        (
            regex::Regex::new(r"(?s)^([^\[]+)(?:\[(.*)\])?\s*$").expect("valid regex"),
            regex::Regex::new(
                r#"(?s)\s*([\w\-_\.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?P<wrngA>.+))|,?\s*$|(?P<wrngB>.+)"#,
            )
            .expect("valid regex"),
        )
    });
    let m = outer
        .captures(spec)
        .ok_or_else(|| "unexpected option syntax".to_string())?;
    let name = m[1].to_string();
    let mut opts = Vec::new();
    if let Some(optstr) = m.get(2) {
        for c in item.captures_iter(optstr.as_str()) {
            if let Some(w) = c.name("wrngA") {
                return Err(format!(
                    "unexpected syntax at {} after option {}: {}",
                    w.start(),
                    py_repr(c.get(1).map_or("", |m| m.as_str())),
                    w.as_str().chars().take(25).collect::<String>()
                ));
            }
            if let Some(w) = c.name("wrngB") {
                return Err(format!(
                    "expected option, wrong syntax at {}: {}",
                    w.start(),
                    w.as_str().chars().take(25).collect::<String>()
                ));
            }
            let Some(k) = c.get(1) else { continue };
            let v = c
                .get(2)
                .or_else(|| c.get(3))
                .or_else(|| c.get(4))
                .map_or("", |m| m.as_str());
            let k = k.as_str().trim().to_string();
            let v = v.trim().to_string();
            if let Some(e) = opts.iter_mut().find(|(ek, _)| *ek == k) {
                e.1 = v;
            } else {
                opts.push((k, v));
            }
        }
    }
    Ok((name, opts))
}

fn as_bool(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "on" | "true" | "yes")
}

/// `set logtarget`. Returns false (after logging upstream's error) when the target
/// cannot be opened; the previous target stays in place then.
pub fn set_target(spec: &str) -> bool {
    let (target, opts) = match extract_options(spec) {
        Ok(x) => x,
        Err(e) => {
            log("server", Level::ERROR, &e);
            return false;
        }
    };
    let opt = |k: &str| opts.iter().find(|(ok, _)| ok == k).map(|(_, v)| v.clone());
    let systarget = target.to_uppercase();
    let l = logger();
    let mut inner = l.inner.lock().unwrap_or_else(|e| e.into_inner());
    if inner.target.as_deref() == Some(target.as_str()) {
        return true;
    }
    let mut padding = opt("padding");
    let sink = match systarget.as_str() {
        "SYSTEMD-JOURNAL" => {
            let s = UnixDatagram::unbound()
                .and_then(|s| s.connect("/run/systemd/journal/socket").map(|_| s));
            match s {
                Ok(sock) => Sink::Journal { sock },
                Err(e) => {
                    drop(inner);
                    log(
                        "server",
                        Level::ERROR,
                        &format!("Unable to log to systemd journal: {e}"),
                    );
                    return false;
                }
            }
        }
        "SYSLOG" => {
            let fac_name = opt("facility").unwrap_or_else(|| "DAEMON".into());
            if padding.is_none() {
                padding = Some("0".into());
            }
            let facility = match facility_code(&fac_name) {
                Some(f) => f,
                None => {
                    drop(inner);
                    log(
                        "server",
                        Level::ERROR,
                        &format!(
                            "Unable to set facility {}, using 'DAEMON'",
                            py_repr(&fac_name)
                        ),
                    );
                    inner = l.inner.lock().unwrap_or_else(|e| e.into_inner());
                    3
                }
            };
            if inner.syslog_socket.as_deref() == Some("auto") {
                inner.syslog_socket = Some("/dev/log".into());
            }
            let sock = inner.syslog_socket.clone();
            let is_sock = sock
                .as_deref()
                .is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket()));
            let conn = match sock.as_deref() {
                Some(p) if is_sock => SyslogConn::connect(p).ok(),
                _ => None,
            };
            match conn {
                Some(conn) => Sink::Syslog {
                    path: sock.unwrap_or_default(),
                    conn,
                    facility,
                },
                None => {
                    drop(inner);
                    log(
                        "server",
                        Level::ERROR,
                        &format!(
                            "Syslog socket file: {} does not exists or is not a socket",
                            sock.as_deref().unwrap_or("None")
                        ),
                    );
                    return false;
                }
            }
        }
        "STDOUT" | "SYSOUT" => Sink::Stdout,
        "STDERR" => Sink::Stderr,
        _ => match OpenOptions::new().append(true).create(true).open(&target) {
            Ok(file) => Sink::File {
                path: target.clone(),
                file,
            },
            Err(_) => {
                let prev = inner.target.clone();
                drop(inner);
                log(
                    "server",
                    Level::ERROR,
                    &format!("Unable to log to {}", py_repr(&target)),
                );
                log(
                    "server",
                    Level::INFO,
                    &format!(
                        "Logging to previous target {}",
                        prev.as_deref().map_or("None".to_string(), py_repr)
                    ),
                );
                return false;
            }
        },
    };
    let addtime = match opt("datetime") {
        Some(v) => as_bool(&v),
        None => systarget != "SYSLOG" && systarget != "SYSOUT",
    };
    let padding = padding.map_or(true, |p| as_bool(&p));
    let fmt = match opt("format").filter(|f| !f.is_empty()) {
        Some(f) => f,
        None => {
            let lvl = l.level.load(Ordering::Relaxed);
            if lvl <= Level::DEBUG.0 && inner.verbose.is_none() {
                inner.verbose = Some(Level::DEBUG.0 - lvl + 1);
            }
            let verbose = match inner.verbose {
                Some(v) if v > 2 => v - 1,
                _ => 0,
            };
            verbosity_format(verbose, addtime, padding)
        }
    };
    write_pending(&mut inner);
    inner.sink = sink;
    inner.format = Arc::new(pyfmt::Format::parse(&fmt));
    let first = inner.target.is_none();
    inner.target = Some(target.clone());
    let sock = inner.syslog_socket.clone();
    drop(inner);
    if !first {
        log("server", Level::INFO, &format!("Start Fail2ban v{VERSION}"));
        let shown = if target == "SYSLOG" {
            format!("{target} ({})", sock.as_deref().unwrap_or("None"))
        } else {
            target
        };
        log(
            "server",
            Level::INFO,
            &format!("Changed logging target to {shown} for Fail2ban v{VERSION}"),
        );
    }
    true
}

/// Upstream `getVerbosityFormat` (with the padding removal).
pub fn verbosity_format(verbosity: i32, addtime: bool, padding: bool) -> String {
    let mut fmt = " %(message)s".to_string();
    if verbosity > 1 {
        if verbosity > 3 {
            fmt = format!(" | %(module)15.15s-%(levelno)-2d: %(funcName)-20.20s |{fmt}");
        }
        if verbosity > 2 {
            fmt =
                format!(" +%(relativeCreated)5d %(thread)X %(name)-25.25s %(levelname)-5.5s{fmt}");
        } else {
            fmt = format!(" %(thread)X %(levelname)-5.5s{fmt}");
            if addtime {
                fmt = format!(" %(asctime)-15s{fmt}");
            }
        }
    } else {
        fmt = format!("%(name)-24s[%(process)d]: %(levelname)-7s{fmt}");
        if addtime {
            fmt = format!("%(asctime)s {fmt}");
        }
    }
    if !padding {
        fmt = pyfmt::strip_padding(&fmt);
    }
    fmt
}

/// `flushlogs`: reopens a file target (log rotation), flushes the others. Returns
/// upstream's answer (`rolled over` / `flushed`).
pub fn flush() -> &'static str {
    let l = logger();
    let mut inner = l.inner.lock().unwrap_or_else(|e| e.into_inner());
    let target = inner.target.clone().unwrap_or_default();
    write_pending(&mut inner);
    if let Sink::File { path, file } = &mut inner.sink {
        if let Ok(f) = OpenOptions::new().append(true).create(true).open(&*path) {
            *file = f;
        }
        drop(inner);
        log(
            "server",
            Level::INFO,
            &format!("rollover performed on {target}"),
        );
        "rolled over"
    } else {
        let _ = std::io::stdout().flush();
        drop(inner);
        log(
            "server",
            Level::INFO,
            &format!("flush performed on {target}"),
        );
        "flushed"
    }
}

/// Logs a formatted message when the level is enabled (formatting is skipped otherwise).
///
/// `f2b_log!(NOTICE, "actions", "[{}] Ban {}", jail, ip)`
#[macro_export]
macro_rules! f2b_log {
    ($lvl:ident, $module:expr, $($arg:tt)+) => {
        if $crate::logging::enabled($crate::logging::Level::$lvl) {
            $crate::logging::log($module, $crate::logging::Level::$lvl, &format!($($arg)+));
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_and_parsing() {
        for (s, n, name) in [
            ("info", 20, "INFO"),
            ("NOTICE", 25, "NOTICE"),
            ("msg", 18, "MSG"),
            ("TraceDebug", 7, "TRACE"),
            ("heavydebug", 5, "HEAVY"),
            ("warn", 30, "WARNING"),
            ("fatal", 50, "CRITICAL"),
            ("12", 12, "#12-Lev."),
        ] {
            let l = Level::parse(s).unwrap();
            assert_eq!(l, Level(n), "{s}");
            assert_eq!(l.name(), name, "{s}");
        }
        assert_eq!(
            Level::parse("verbose").unwrap_err(),
            "Invalid log level 'verbose'"
        );
    }

    #[test]
    fn formats_like_upstream() {
        assert_eq!(
            verbosity_format(0, true, true),
            "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s"
        );
        assert_eq!(
            verbosity_format(0, false, false),
            "%(name)s[%(process)d]: %(levelname)s %(message)s"
        );
        assert_eq!(
            verbosity_format(2, true, true),
            " %(asctime)-15s %(thread)X %(levelname)-5.5s %(message)s"
        );
    }

    #[test]
    fn extract_target_options() {
        let (t, o) = extract_options("SYSLOG[facility=local1, format=\"%(message)s\"]").unwrap();
        assert_eq!(t, "SYSLOG");
        assert_eq!(
            o,
            vec![
                ("facility".to_string(), "local1".to_string()),
                ("format".to_string(), "%(message)s".to_string())
            ]
        );
        let (t, o) = extract_options("/var/log/fail2ban.log").unwrap();
        assert_eq!(t, "/var/log/fail2ban.log");
        assert!(o.is_empty());
    }
}
