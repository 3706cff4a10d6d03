//! The blocked and history files (one line per blocked host) and hosts.deny.
//!
//! Line format (1.2 `WriteBlocked`):
//! `EPOCH - MM/DD/YYYY HH:MM:SS Host: RESOLVED/IP Port: N TCP|UDP Blocked` in local time.
//! The blocked file is `BLOCKED_FILE.<mode>`, truncated at startup; the history file is
//! appended forever (fail2ban's stock `portsentry` filter reads it).

use crate::sys::{self, Proto};
use crate::syslog::Logger;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Formats one blocked/history line (with its newline) for the instant `epoch`.
pub fn blocked_line(epoch: i64, resolved: &str, ip: &str, port: u16, proto: Proto) -> String {
    let tm = sys::local_time(epoch);
    format!(
        "{} - {:02}/{:02}/{:04} {:02}:{:02}:{:02} Host: {}/{} Port: {} {} Blocked\n",
        epoch,
        tm.mon + 1,
        tm.mday,
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        resolved,
        ip,
        port,
        proto.upper()
    )
}

/// The IP field of a blocked line (after the last `/` of the `Host:` field).
pub fn line_ip(line: &str) -> Option<&str> {
    let host = line.split_once(" Host: ")?.1;
    let host = host.split_once(" Port: ")?.0;
    Some(host.rsplit_once('/').map(|(_, ip)| ip).unwrap_or(host))
}

/// True when `ip` has a line in the blocked file. The comparison is exact (1.2 matched
/// substrings, so `1.2.3.4` was "already blocked" after `11.2.3.4`).
pub fn is_blocked(path: &Path, ip: &str, log: &Logger) -> bool {
    match std::fs::read(path) {
        Err(_) => {
            log.log(&format!(
                "adminalert: ERROR: Cannot open blocked file: {} for reading. Will create.\n",
                path.display()
            ));
            false
        }
        Ok(b) => String::from_utf8_lossy(&b)
            .lines()
            .any(|l| line_ip(l) == Some(ip)),
    }
}

fn append(path: &Path, data: &str) -> std::io::Result<()> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(data.as_bytes())
}

/// Appends `line` to the blocked and the history file, logging failures as 1.2.
pub fn write_blocked(blocked: &Path, history: &Path, line: &str, log: &Logger) {
    if append(blocked, line).is_err() {
        log.log(&format!(
            "adminalert: ERROR: Cannot open blocked file: {}.\n",
            blocked.display()
        ));
    }
    if append(history, line).is_err() {
        log.log(&format!(
            "adminalert: ERROR: Cannot open history file: {}.\n",
            history.display()
        ));
    }
}

/// Truncates (creating) the blocked file at startup.
pub fn truncate(path: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map(|_| ())
}

/// Appends `entry` to hosts.deny unless that exact line is already there (1.2 appended
/// duplicates; one line per host keeps "delete the line to unblock" true).
/// Returns whether the line is now present.
pub fn hosts_deny_add(path: &Path, entry: &str) -> std::io::Result<()> {
    if let Ok(b) = std::fs::read(path) {
        if String::from_utf8_lossy(&b).lines().any(|l| l == entry) {
            return Ok(());
        }
    }
    append(path, &format!("{entry}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_and_ip_field() {
        std::env::set_var("TZ", "UTC");
        let l = blocked_line(1795592606, "10.99.0.2", "10.99.0.2", 1, Proto::Tcp);
        assert_eq!(
            l,
            "1795592606 - 11/25/2026 07:43:26 Host: 10.99.0.2/10.99.0.2 Port: 1 TCP Blocked\n"
        );
        let cases = [
            (
                "1 - 11/25/2026 07:46:55 Host: evil.example/10.99.0.2 Port: 1 TCP Blocked",
                Some("10.99.0.2"),
            ),
            (
                "1 - x Host: fd00::2/fd00::2 Port: 7 UDP Blocked",
                Some("fd00::2"),
            ),
            ("garbage", None),
        ];
        for (l, want) in cases {
            assert_eq!(line_ip(l), want, "{l}");
        }
    }

    #[test]
    fn blocked_check_is_exact() {
        let (log, _) = Logger::memory();
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("b.tcp");
        std::fs::write(&p, blocked_line(1, "11.2.3.4", "11.2.3.4", 1, Proto::Tcp)).unwrap();
        assert!(is_blocked(&p, "11.2.3.4", &log));
        assert!(
            !is_blocked(&p, "1.2.3.4", &log),
            "1.2 substring false positive is fixed"
        );
        let (log, buf) = Logger::memory();
        assert!(!is_blocked(&d.path().join("none"), "1.2.3.4", &log));
        assert!(buf.lock().unwrap()[0].contains("for reading. Will create."));
    }

    #[test]
    fn hosts_deny_has_no_duplicates() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hosts.deny");
        std::fs::write(&p, "# header\n").unwrap();
        hosts_deny_add(&p, "ALL: 10.0.0.2 : DENY").unwrap();
        hosts_deny_add(&p, "ALL: 10.0.0.2 : DENY").unwrap();
        hosts_deny_add(&p, "ALL: 10.0.0.3 : DENY").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "# header\nALL: 10.0.0.2 : DENY\nALL: 10.0.0.3 : DENY\n"
        );
    }
}
