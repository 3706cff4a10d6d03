//! Python `logging.Formatter` `%`-style formats (`%(name)-24s`, `%(process)d`, …)
//! rendered for one log record, so that custom `logtarget = X[format=...]` formats
//! work and the default format is produced by the same code.

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

enum Arg {
    Str(String),
    Int(i64),
    Float(f64),
}

fn attr(rec: &Record, key: &str) -> Arg {
    let dt: DateTime<Local> = rec.created.into();
    match key {
        "name" => Arg::Str(rec.name.to_string()),
        "module" | "filename" => Arg::Str(rec.module.to_string()),
        "pathname" => Arg::Str(rec.module.to_string()),
        "levelname" => Arg::Str(rec.level.name()),
        "levelno" => Arg::Int(i64::from(rec.level.0)),
        "message" | "msg" => Arg::Str(rec.message.to_string()),
        "asctime" => Arg::Str(format!(
            "{},{:03}",
            dt.format("%Y-%m-%d %H:%M:%S"),
            dt.timestamp_subsec_millis().min(999)
        )),
        "process" => Arg::Int(i64::from(std::process::id())),
        "processName" => Arg::Str("MainProcess".into()),
        "thread" => Arg::Int(thread_id()),
        "threadName" => Arg::Str(
            std::thread::current()
                .name()
                .unwrap_or("Thread")
                .to_string(),
        ),
        "funcName" => Arg::Str(rec.module.to_string()),
        "lineno" => Arg::Int(0),
        "created" => Arg::Float(
            rec.created
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        ),
        "msecs" => Arg::Float(f64::from(dt.timestamp_subsec_micros()) / 1000.0),
        "relativeCreated" => Arg::Float(rec.relative_ms as f64),
        _ => Arg::Str(format!("%({key})")),
    }
}

fn thread_id() -> i64 {
    // SAFETY: pthread_self has no preconditions.
    (unsafe { libc::pthread_self() }) as i64
}

/// Renders `fmt` for `rec`.
pub fn format(fmt: &str, rec: &Record) -> String {
    let mut out = String::with_capacity(fmt.len() + rec.message.len() + 32);
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            let next = fmt[i..].find('%').map_or(fmt.len(), |p| i + p);
            out.push_str(&fmt[i..next]);
            i = next;
            continue;
        }
        if b.get(i + 1) == Some(&b'%') {
            out.push('%');
            i += 2;
            continue;
        }
        if b.get(i + 1) != Some(&b'(') {
            out.push('%');
            i += 1;
            continue;
        }
        let Some(close) = fmt[i + 2..].find(')') else {
            out.push_str(&fmt[i..]);
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
        let val = attr(rec, key);
        let mut s = match (conv, val) {
            (b'd' | b'i', Arg::Int(n)) => n.to_string(),
            (b'd' | b'i', Arg::Float(f)) => (f as i64).to_string(),
            (b'X', Arg::Int(n)) => format!("{n:X}"),
            (b'x', Arg::Int(n)) => format!("{n:x}"),
            (b'f', Arg::Float(f)) => format!("{:.*}", prec.unwrap_or(6), f),
            (b'f', Arg::Int(n)) => format!("{:.*}", prec.unwrap_or(6), n as f64),
            (_, Arg::Str(s)) => s,
            (_, Arg::Int(n)) => n.to_string(),
            (_, Arg::Float(f)) => format!("{f}"),
        };
        if matches!(conv, b's' | b'r') {
            if let Some(p) = prec {
                s = s.chars().take(p).collect();
            }
        }
        let len = s.chars().count();
        if len < width {
            let pad = width - len;
            if left {
                s.push_str(&" ".repeat(pad));
            } else if zero && conv != b's' {
                s = format!("{}{s}", "0".repeat(pad));
            } else {
                s = format!("{}{s}", " ".repeat(pad));
            }
        }
        out.push_str(&s);
        i = j;
    }
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
}
