//! The ignore file: hosts and networks never blocked, re-read on every event (as 1.2,
//! so edits apply without a restart).
//!
//! Per line: `#` or an empty line is skipped; the entry is the leading run of
//! `[0-9A-Fa-f.:/]` (so a trailing `# comment` is fine); an optional `/bits` netmask
//! follows (default: the whole address). Differences from 1.2: the last line counts
//! even without a final newline, `/0` really matches everything, and IPv6 entries work.

use crate::syslog::Logger;
use std::net::IpAddr;
use std::path::Path;

/// The answer for one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Listed: never react.
    Ignored,
    /// Not listed.
    NotIgnored,
    /// The file could not be opened (1.2 then blocks anyway, with a log line).
    Unreadable,
}

/// One parsed ignore entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub bits: u8,
}

/// One line of the ignore file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// A comment, a blank line, or nothing usable (1.2's `inet_addr` of garbage never
    /// matches either).
    Skip,
    /// An address or network.
    Entry(Entry),
    /// A netmask out of range (logged by the caller).
    BadMask,
}

/// Parses one line.
pub fn parse_line(line: &str) -> Line {
    if line.starts_with('#') || line.starts_with('\n') || line.is_empty() {
        return Line::Skip;
    }
    let tok: String = line
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/'))
        .collect();
    let (a, mask) = match tok.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (tok.as_str(), None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        return Line::Skip;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match mask {
        // 1.2 reads an empty mask as atoi("") = 0, a shift by 32 that acts as /32 on x86
        None | Some("") => max,
        Some(m) => {
            let digits: String = m.chars().take_while(|c| c.is_ascii_digit()).collect();
            match digits.parse::<u32>() {
                Ok(b) if b <= max as u32 => b as u8,
                Ok(_) => return Line::BadMask,
                Err(_) => max,
            }
        }
    };
    Line::Entry(Entry { addr, bits })
}

impl Entry {
    /// True when `ip` lies in this network (families must agree; an IPv4-mapped IPv6
    /// address is compared as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.addr), ip) {
            (IpAddr::V4(n), IpAddr::V4(h)) => {
                masked(u32::from(n) as u128, self.bits, 32)
                    == masked(u32::from(h) as u128, self.bits, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(h)) => {
                masked(u128::from(n), self.bits, 128) == masked(u128::from(h), self.bits, 128)
            }
            _ => false,
        }
    }
}

fn masked(v: u128, bits: u8, width: u32) -> u128 {
    if bits == 0 {
        return 0;
    }
    let keep = width - bits as u32;
    (v >> keep) << keep
}

/// Maps `::ffff:a.b.c.d` to `a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Checks `ip` against the file at `path` (1.2's `NeverBlock`), logging bad netmasks.
pub fn check(path: &Path, ip: IpAddr, log: &Logger) -> Verdict {
    let Ok(bytes) = std::fs::read(path) else {
        return Verdict::Unreadable;
    };
    let text = String::from_utf8_lossy(&bytes);
    for line in text.split_inclusive('\n') {
        match parse_line(line) {
            Line::Entry(e) if e.contains(ip) => return Verdict::Ignored,
            Line::Entry(_) | Line::Skip => {}
            Line::BadMask => log.log(&format!(
                "adminalert: Invalid netmask in config file: {line}  Ignoring entry.\n"
            )),
        }
    }
    Verdict::NotIgnored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        // (ignore file text, host, ignored?)
        let cases: &[(&str, &str, bool)] = &[
            ("127.0.0.1/32\n0.0.0.0\n", "127.0.0.1", true),
            ("127.0.0.1/32\n0.0.0.0\n", "10.0.0.1", false),
            ("10.1.0.0/16 # office\n", "10.1.200.3", true),
            ("10.1.0.0/16\n", "10.2.0.3", false),
            ("192.168.100.100\n10.99.0.2", "10.99.0.2", true), // no final newline (1.2 bug 7)
            ("0.0.0.0/0\n", "203.0.113.9", true),              // /0 is everything (1.2: /32)
            ("  10.0.0.1\n", "10.0.0.1", false),               // leading blank: no entry
            ("fd00::/64\n", "fd00::2", true),
            ("fd00::/64\n", "fd01::2", false),
            ("2001:db8::1\n", "2001:db8::1", true),
            ("10.0.0.1\n", "::ffff:10.0.0.1", true),
            ("10.0.0.1/\n", "10.0.0.1", true),
            ("#10.0.0.1\n", "10.0.0.1", false),
        ];
        let (log, _) = Logger::memory();
        for (text, host, want) in cases {
            let f = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(f.path(), text).unwrap();
            let got = check(f.path(), host.parse().unwrap(), &log);
            assert_eq!(got == Verdict::Ignored, *want, "{text:?} {host}");
        }
    }

    #[test]
    fn bad_netmask_is_logged_with_the_raw_line() {
        let (log, buf) = Logger::memory();
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "10.0.0.0/33\n").unwrap();
        assert_eq!(
            check(f.path(), "10.0.0.1".parse().unwrap(), &log),
            Verdict::NotIgnored
        );
        assert_eq!(
            buf.lock().unwrap().as_slice(),
            ["adminalert: Invalid netmask in config file: 10.0.0.0/33\n  Ignoring entry.\n"]
        );
    }

    #[test]
    fn missing_file_is_unreadable() {
        let (log, _) = Logger::memory();
        assert_eq!(
            check(
                Path::new("/nonexistent/ignore"),
                "10.0.0.1".parse().unwrap(),
                &log
            ),
            Verdict::Unreadable
        );
    }
}
