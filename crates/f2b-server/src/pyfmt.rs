//! Python `logging.Formatter` `%`-style formats (`%(name)-24s`, `%(process)d`, …)
//! rendered for one log record, so that custom `logtarget = X[format=...]` formats
//! work and the default format is produced by the same code.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use chrono::{DateTime, Local};

use crate::logging::Level;

/// One log record (the attributes upstream formats use).
pub struct Record<'a> {
    /// Logger name, e.g. `fail2ban.actions`.
    pub name: &'a str,
    /// Module part of the name (`actions`).
    pub module: &'a str,
    /// Severity.
    pub level: Level,
    /// The message text.
    pub message: &'a str,
    /// Creation time.
    pub created: SystemTime,
    /// Milliseconds since the logger was created.
    pub relative_ms: i64,
}

enum Arg<'a> {
    Str(&'a str),
    Owned(String),
    Int(i64),
    Float(f64),
}

/// Local `YYYY-MM-DD HH:MM:SS` of the last second formatted: a busy log writes many
/// lines per second, and the chrono local-time conversion is the costly part.
#[derive(Default)]
pub struct TimeCache {
    secs: Option<i64>,
    text: String,
}

impl TimeCache {
    fn local(&mut self, created: SystemTime) -> (&str, u32) {
        let d = created
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = d.as_secs() as i64;
        if self.secs != Some(secs) {
            let dt: DateTime<Local> = created.into();
            self.text.clear();
            let _ = write!(self.text, "{}", dt.format("%Y-%m-%d %H:%M:%S"));
            self.secs = Some(secs);
        }
        (&self.text, d.subsec_micros())
    }
}

fn attr<'a>(rec: &Record<'a>, key: &str, tc: &mut TimeCache) -> Arg<'a> {
    match key {
        "name" => Arg::Str(rec.name),
        "module" | "filename" | "pathname" | "funcName" => Arg::Str(rec.module),
        "levelname" => Arg::Owned(rec.level.name()),
        "levelno" => Arg::Int(i64::from(rec.level.0)),
        "message" | "msg" => Arg::Str(rec.message),
        "asctime" => {
            let (t, us) = tc.local(rec.created);
            Arg::Owned(format!("{t},{:03}", (us / 1000).min(999)))
        }
        "process" => Arg::Int(i64::from(pid())),
        "processName" => Arg::Str("MainProcess"),
        "thread" => Arg::Int(thread_id()),
        "threadName" => Arg::Owned(
            std::thread::current()
                .name()
                .unwrap_or("Thread")
                .to_string(),
        ),
        "lineno" => Arg::Int(0),
        "created" => Arg::Float(
            rec.created
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        ),
        "msecs" => Arg::Float(f64::from(tc.local(rec.created).1) / 1000.0),
        "relativeCreated" => Arg::Float(rec.relative_ms as f64),
        _ => Arg::Owned(format!("%({key})")),
    }
}

/// The process id, asked once (`getpid` is a system call; every line prints it).
fn pid() -> u32 {
    match PID.load(Ordering::Relaxed) {
        0 => {
            let p = std::process::id();
            PID.store(p, Ordering::Relaxed);
            p
        }
        p => p,
    }
}

static PID: AtomicU32 = AtomicU32::new(0);

/// Forgets the cached process id (the daemon calls it after forking).
pub fn reset_pid() {
    PID.store(0, Ordering::Relaxed);
}

fn thread_id() -> i64 {
    // SAFETY: pthread_self has no preconditions.
    (unsafe { libc::pthread_self() }) as i64
}

/// One `%(key)<flags><width>.<prec><conv>` conversion.
struct Field {
    key: String,
    left: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
    conv: u8,
}

enum Piece {
    Lit(String),
    Field(Field),
}

/// A format parsed once (when the log target is set) and rendered for every record.
pub struct Format {
    pieces: Vec<Piece>,
}

impl Format {
    /// Parses a Python `%`-style logging format.
    pub fn parse(fmt: &str) -> Format {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let b = fmt.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                let next = fmt[i..].find('%').map_or(fmt.len(), |p| i + p);
                lit.push_str(&fmt[i..next]);
                i = next;
                continue;
            }
            if b.get(i + 1) == Some(&b'%') {
                lit.push('%');
                i += 2;
                continue;
            }
            if b.get(i + 1) != Some(&b'(') {
                lit.push('%');
                i += 1;
                continue;
            }
            let Some(close) = fmt[i + 2..].find(')') else {
                lit.push_str(&fmt[i..]);
                break;
            };
            let key = &fmt[i + 2..i + 2 + close];
            let mut j = i + 3 + close;
            let mut left = false;
            let mut zero = false;
            while j < b.len() && matches!(b[j], b'-' | b'0' | b' ' | b'+' | b'#') {
                left |= b[j] == b'-';
                zero |= b[j] == b'0';
                j += 1;
            }
            let ws = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let width: usize = fmt[ws..j].parse().unwrap_or(0);
            let mut prec: Option<usize> = None;
            if j < b.len() && b[j] == b'.' {
                j += 1;
                let ps = j;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                prec = Some(fmt[ps..j].parse().unwrap_or(0));
            }
            let conv = b.get(j).copied().unwrap_or(b's');
            j += 1;
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Field(Field {
                key: key.to_string(),
                left,
                zero,
                width,
                prec,
                conv,
            }));
            i = j;
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Format { pieces }
    }

    /// Appends the rendering of `rec` to `out`.
    pub fn render(&self, rec: &Record, tc: &mut TimeCache, out: &mut String) {
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field(f) => {
                    if !render_direct(f, rec, tc, out) {
                        render_field(f, attr(rec, &f.key, tc), out)
                    }
                }
            }
        }
    }
}

/// The fields of the usual formats (`%(asctime)s %(name)-24s[%(process)d]: …`)
/// written straight into `out`, with the same text as [`render_field`]; false for
/// anything else.
fn render_direct(f: &Field, rec: &Record, tc: &mut TimeCache, out: &mut String) -> bool {
    if f.prec.is_some() {
        return false;
    }
    let s = match (f.conv, f.key.as_str()) {
        (b's', "name") => rec.name,
        (b's', "message" | "msg") => rec.message,
        (b's', "levelname") => match rec.level.static_name() {
            Some(n) => n,
            None => return false,
        },
        (b's', "asctime") if f.width == 0 => {
            let (t, us) = tc.local(rec.created);
            let ms = (us / 1000).min(999);
            out.push_str(t);
            out.push(',');
            for d in [ms / 100, ms / 10 % 10, ms % 10] {
                out.push(char::from(b'0' + d as u8));
            }
            return true;
        }
        (b'd', "process") if f.width == 0 => {
            let mut buf = [0u8; 10];
            let mut i = buf.len();
            let mut n = pid();
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            // ASCII digits
            out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
            return true;
        }
        _ => return false,
    };
    let len = if f.width == 0 {
        0
    } else if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    let pad = f.width.saturating_sub(len);
    if !f.left {
        out.extend(std::iter::repeat(' ').take(pad));
    }
    out.push_str(s);
    if f.left {
        out.extend(std::iter::repeat(' ').take(pad));
    }
    true
}

fn render_field(f: &Field, val: Arg, out: &mut String) {
    let owned;
    let s: &str = match (f.conv, val) {
        (b's' | b'r', Arg::Str(s)) => match f.prec {
            Some(p) if s.chars().count() > p => {
                owned = s.chars().take(p).collect::<String>();
                &owned
            }
            _ => s,
        },
        (conv, val) => {
            let mut s = match (conv, val) {
                (b'd' | b'i', Arg::Int(n)) => n.to_string(),
                (b'd' | b'i', Arg::Float(f)) => (f as i64).to_string(),
                (b'X', Arg::Int(n)) => format!("{n:X}"),
                (b'x', Arg::Int(n)) => format!("{n:x}"),
                (b'f', Arg::Float(x)) => format!("{:.*}", f.prec.unwrap_or(6), x),
                (b'f', Arg::Int(n)) => format!("{:.*}", f.prec.unwrap_or(6), n as f64),
                (_, Arg::Str(s)) => s.to_string(),
                (_, Arg::Owned(s)) => s,
                (_, Arg::Int(n)) => n.to_string(),
                (_, Arg::Float(x)) => format!("{x}"),
            };
            if matches!(conv, b's' | b'r') {
                if let Some(p) = f.prec {
                    s = s.chars().take(p).collect();
                }
            }
            owned = s;
            &owned
        }
    };
    let len = if f.width == 0 { 0 } else { s.chars().count() };
    let pad = f.width.saturating_sub(len);
    if pad == 0 || f.left {
        out.push_str(s);
    }
    if pad > 0 {
        let c = if f.zero && !f.left && f.conv != b's' {
            '0'
        } else {
            ' '
        };
        out.extend(std::iter::repeat(c).take(pad));
        if !f.left {
            out.push_str(s);
        }
    }
}

/// Renders `fmt` for `rec` (parses the format each time; the logger keeps a parsed
/// [`Format`] instead).
#[cfg(test)]
pub fn format(fmt: &str, rec: &Record) -> String {
    let mut out = String::with_capacity(fmt.len() + rec.message.len() + 32);
    Format::parse(fmt).render(rec, &mut TimeCache::default(), &mut out);
    out
}

/// Upstream's `re.sub(r'(?<=\))-?\d+(?:\.\d+)?s', 's', fmt)`: drops widths of `%(x)s`.
pub fn strip_padding(fmt: &str) -> String {
    let b = fmt.as_bytes();
    let mut out = String::with_capacity(fmt.len());
    let mut i = 0;
    while i < b.len() {
        out.push(b[i] as char);
        if b[i] == b')' {
            let mut j = i + 1;
            if j < b.len() && b[j] == b'-' {
                j += 1;
            }
            let ds = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > ds {
                if j < b.len() && b[j] == b'.' {
                    let mut k = j + 1;
                    let ps = k;
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    if k > ps {
                        j = k;
                    }
                }
                if j < b.len() && b[j] == b's' {
                    i = j;
                    continue;
                }
            }
        }
        i += 1;
    }
    // the format is ASCII in practice; keep any non-ASCII bytes intact
    if fmt.is_ascii() {
        out
    } else {
        fmt.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec<'a>(name: &'a str, level: Level, msg: &'a str) -> Record<'a> {
        Record {
            name,
            module: name.rsplit('.').next().unwrap_or(name),
            level,
            message: msg,
            created: SystemTime::now(),
            relative_ms: 42,
        }
    }

    #[test]
    fn default_line_shape() {
        let line = format(
            "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s",
            &rec("fail2ban.actions", Level::NOTICE, "[sshd] Ban 192.0.2.10"),
        );
        let re = regex::Regex::new(
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\.actions        \[\d+\]: NOTICE  \[sshd\] Ban 192\.0\.2\.10$",
        )
        .unwrap();
        assert!(re.is_match(&line), "{line:?}");
    }

    #[test]
    fn syslog_shape_and_precision() {
        let pid = std::process::id();
        assert_eq!(
            format(
                "%(name)s[%(process)d]: %(levelname)s %(message)s",
                &rec("fail2ban.actions", Level::NOTICE, "[sshd] Ban 1.2.3.4")
            ),
            format!("fail2ban.actions[{pid}]: NOTICE [sshd] Ban 1.2.3.4")
        );
        assert_eq!(
            format(
                "%(levelname)-5.5s|%(relativeCreated)5d|100%%",
                &rec("x", Level::WARNING, "")
            ),
            "WARNI|   42|100%"
        );
    }

    #[test]
    fn padding_removal() {
        assert_eq!(
            strip_padding(" %(asctime)-15s %(thread)X %(levelname)-5.5s %(message)s"),
            " %(asctime)s %(thread)X %(levelname)s %(message)s"
        );
    }

    #[test]
    fn direct_fields_render_like_the_generic_path() {
        let formats = [
            "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s",
            "%(name)s[%(process)d]: %(levelname)s %(message)s",
            "%(name)24s|%(levelname)7s|%(message)-30s|%(msg)s",
            "%(levelname)-3s %(name)-2s %(message)5s",
        ];
        let recs = [
            rec(
                "fail2ban.filter",
                Level::INFO,
                "[sshd] Found 192.0.2.1 - 2024-01-01 00:00:00",
            ),
            rec("fail2ban.actions", Level::NOTICE, "[sshd] Ban 192.0.2.1"),
            rec("fail2ban.jäil", Level(13), "ünïcode message"),
            rec("fail2ban", Level::HEAVYDEBUG, ""),
        ];
        for fmt in formats {
            let f = Format::parse(fmt);
            for r in &recs {
                let mut tc = TimeCache::default();
                let mut direct = String::new();
                f.render(r, &mut tc, &mut direct);
                let mut generic = String::new();
                for p in &f.pieces {
                    match p {
                        Piece::Lit(s) => generic.push_str(s),
                        Piece::Field(fl) => {
                            render_field(fl, attr(r, &fl.key, &mut tc), &mut generic)
                        }
                    }
                }
                assert_eq!(direct, generic, "{fmt}");
            }
        }
    }
}
