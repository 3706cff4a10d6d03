//! `portsentry.conf`: the 1.2 key lookup with its quirks, and the typed settings.
//!
//! 1.2 re-scans the file for every key: a line whose column 0 is `#` is a comment; a line
//! matches key K when it contains K and the byte at offset `len(K)` is `=` or a space; the
//! first matching line wins; the value starts after the line's first `"` and runs to the
//! next `"` or the first non-printable byte. We keep that lookup exactly, but a matching
//! line without quotes, a bad number or a bad port is a fatal error naming the line
//! (1.2 skipped such options or read them as 0).

use crate::error::{Error, ErrorKind};
use std::path::{Path, PathBuf};

/// 1.2's MAXBUF - 1: the longest value it keeps.
const MAX_VALUE: usize = 1023;

/// Every key 1.2 reads, in no particular order.
pub const KEYS: &[&str] = &[
    "TCP_PORTS",
    "UDP_PORTS",
    "ADVANCED_PORTS_TCP",
    "ADVANCED_PORTS_UDP",
    "ADVANCED_EXCLUDE_TCP",
    "ADVANCED_EXCLUDE_UDP",
    "IGNORE_FILE",
    "HISTORY_FILE",
    "BLOCKED_FILE",
    "RESOLVE_HOST",
    "BLOCK_UDP",
    "BLOCK_TCP",
    "KILL_ROUTE",
    "KILL_HOSTS_DENY",
    "KILL_RUN_CMD",
    "KILL_RUN_CMD_FIRST",
    "SCAN_TRIGGER",
    "PORT_BANNER",
];

/// The raw lines of a configuration file, searched the 1.2 way.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    lines: Vec<String>,
}

/// The result of looking one key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No line matches.
    Missing,
    /// The first matching line (1-based) has no `"`.
    NoQuotes(usize),
    /// The value and its line (1-based).
    Found(String, usize),
}

impl ConfigFile {
    /// Splits `text` into lines; `path` is only used in messages.
    pub fn new(path: impl Into<PathBuf>, text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text);
        let lines = text.split_inclusive('\n').map(str::to_owned).collect();
        ConfigFile {
            path: path.into(),
            lines,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1.2's `ConfigTokenRetrieve`.
    pub fn lookup(&self, key: &str) -> Lookup {
        for (i, line) in self.lines.iter().enumerate() {
            if line.starts_with('#') || !line.contains(key) {
                continue;
            }
            if !matches!(line.as_bytes().get(key.len()), Some(b'=') | Some(b' ')) {
                continue;
            }
            let Some(q) = line.find('"') else {
                return Lookup::NoQuotes(i + 1);
            };
            let value: String = line[q + 1..]
                .bytes()
                .take_while(|&b| (0x20..0x7f).contains(&b) && b != b'"')
                .take(MAX_VALUE)
                .map(char::from)
                .collect();
            return Lookup::Found(value, i + 1);
        }
        Lookup::Missing
    }

    /// Non-comment, non-blank lines that match none of [`KEYS`] (1.2 ignores them silently;
    /// we warn, since they are usually typos).
    pub fn unknown_lines(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let t = line.trim();
            if line.starts_with('#') || t.is_empty() || t.starts_with('#') {
                continue;
            }
            let known = KEYS.iter().any(|k| {
                line.contains(k) && matches!(line.as_bytes().get(k.len()), Some(b'=') | Some(b' '))
            });
            if !known {
                out.push((i + 1, t.to_owned()));
            }
        }
        out
    }

    fn err(&self, line: usize, msg: String) -> Error {
        Error::at(ErrorKind::ConfigSyntax, &self.path, line, msg)
    }

    /// A string value; a key line without quotes is an error.
    pub fn string(&self, key: &str) -> Result<Option<(String, usize)>, Error> {
        match self.lookup(key) {
            Lookup::Missing => Ok(None),
            Lookup::NoQuotes(l) => Err(self.err(
                l,
                format!("quotes missing from the {key} value (write {key}=\"...\")"),
            )),
            Lookup::Found(v, l) => Ok(Some((v, l))),
        }
    }

    /// A decimal number (1.2: `atoi`, so garbage read as 0; here an error). Empty is 0.
    pub fn number(&self, key: &str) -> Result<Option<u32>, Error> {
        let Some((v, l)) = self.string(key)? else {
            return Ok(None);
        };
        let t = v.trim();
        if t.is_empty() {
            return Ok(Some(0));
        }
        t.parse::<u32>()
            .map(Some)
            .map_err(|_| self.err(l, format!("{key}: \"{v}\" is not a number")))
    }

    /// A comma-separated port list (1.2: `strtok` + `atoi`; empty tokens skipped).
    /// `min` is the smallest allowed port.
    pub fn ports(&self, key: &str, min: u16) -> Result<Option<Vec<u16>>, Error> {
        let Some((v, l)) = self.string(key)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for tok in v.split(',') {
            let t = tok.trim();
            if t.is_empty() {
                continue;
            }
            match t.parse::<u16>() {
                Ok(p) if p >= min => out.push(p),
                _ => {
                    return Err(self.err(
                        l,
                        format!("{key}: \"{t}\" is not a port number ({min}-65535); write ports as 1,11,15 without spaces or ranges"),
                    ))
                }
            }
        }
        Ok(Some(out))
    }
}

/// The typed settings of one configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Path of the file read.
    pub path: PathBuf,
    /// `TCP_PORTS` (`None`: key absent).
    pub tcp_ports: Option<Vec<u16>>,
    /// `UDP_PORTS`.
    pub udp_ports: Option<Vec<u16>>,
    /// `ADVANCED_PORTS_TCP` (`None`: absent, 1024 is assumed with a log line).
    pub advanced_ports_tcp: Option<u32>,
    /// `ADVANCED_PORTS_UDP`.
    pub advanced_ports_udp: Option<u32>,
    /// `ADVANCED_EXCLUDE_TCP`.
    pub advanced_exclude_tcp: Option<Vec<u16>>,
    /// `ADVANCED_EXCLUDE_UDP`.
    pub advanced_exclude_udp: Option<Vec<u16>>,
    /// `IGNORE_FILE` (mandatory).
    pub ignore_file: Option<PathBuf>,
    /// `HISTORY_FILE` (mandatory).
    pub history_file: Option<PathBuf>,
    /// `BLOCKED_FILE` (mandatory; the mode is appended as an extension).
    pub blocked_file: Option<PathBuf>,
    /// `RESOLVE_HOST` non-zero.
    pub resolve_host: bool,
    /// `BLOCK_TCP`: 0 log only, 1 all actions, 2 `KILL_RUN_CMD` only; others act as 0.
    pub block_tcp: u32,
    /// `BLOCK_UDP`.
    pub block_udp: u32,
    /// `KILL_ROUTE` (empty: none).
    pub kill_route: String,
    /// `KILL_HOSTS_DENY` (empty: none).
    pub kill_hosts_deny: String,
    /// `KILL_RUN_CMD` (empty: none).
    pub kill_run_cmd: String,
    /// `KILL_RUN_CMD_FIRST` non-zero (only read when `KILL_RUN_CMD` is present).
    pub run_cmd_first: bool,
    /// `SCAN_TRIGGER` (`None`: absent, which 1.2 logs and treats as 0).
    pub scan_trigger: Option<u32>,
    /// `PORT_BANNER`.
    pub port_banner: Option<String>,
}

impl Config {
    /// Reads the typed settings; the first malformed line is an error naming it.
    pub fn from_file(f: &ConfigFile) -> Result<Config, Error> {
        let flag = |k: &str| -> Result<u32, Error> { Ok(f.number(k)?.unwrap_or(0)) };
        let path = |k: &str| -> Result<Option<PathBuf>, Error> {
            Ok(f.string(k)?.map(|(v, _)| PathBuf::from(v)))
        };
        let s = |k: &str| -> Result<String, Error> {
            Ok(f.string(k)?.map(|(v, _)| v).unwrap_or_default())
        };
        let adv = |k: &str| -> Result<Option<u32>, Error> {
            let n = f.number(k)?;
            if let (Some(n), Lookup::Found(_, l)) = (n, f.lookup(k)) {
                if n > 65536 {
                    return Err(f.err(l, format!("{k}: {n} is above 65536")));
                }
            }
            Ok(n)
        };
        let kill_run_cmd = s("KILL_RUN_CMD")?;
        let run_cmd_first =
            f.lookup("KILL_RUN_CMD") != Lookup::Missing && flag("KILL_RUN_CMD_FIRST")? != 0;
        Ok(Config {
            path: f.path().to_owned(),
            tcp_ports: f.ports("TCP_PORTS", 1)?,
            udp_ports: f.ports("UDP_PORTS", 1)?,
            advanced_ports_tcp: adv("ADVANCED_PORTS_TCP")?,
            advanced_ports_udp: adv("ADVANCED_PORTS_UDP")?,
            advanced_exclude_tcp: f.ports("ADVANCED_EXCLUDE_TCP", 0)?,
            advanced_exclude_udp: f.ports("ADVANCED_EXCLUDE_UDP", 0)?,
            ignore_file: path("IGNORE_FILE")?,
            history_file: path("HISTORY_FILE")?,
            blocked_file: path("BLOCKED_FILE")?,
            resolve_host: flag("RESOLVE_HOST")? != 0,
            block_tcp: flag("BLOCK_TCP")?,
            block_udp: flag("BLOCK_UDP")?,
            kill_route: s("KILL_ROUTE")?,
            kill_hosts_deny: s("KILL_HOSTS_DENY")?,
            kill_run_cmd,
            run_cmd_first,
            scan_trigger: f.number("SCAN_TRIGGER")?,
            port_banner: f.string("PORT_BANNER")?.map(|(v, _)| v),
        })
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<(Config, ConfigFile), Error> {
        let text = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::ConfigMissing,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let file = ConfigFile::new(path, &text);
        Ok((Config::from_file(&file)?, file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cf(text: &str) -> ConfigFile {
        ConfigFile::new("/t/portsentry.conf", text.as_bytes())
    }

    #[test]
    fn lookup_quirks() {
        // (config text, key, expected)
        let cases: &[(&str, &str, Lookup)] = &[
            ("A=\"1\"\n", "A", Lookup::Found("1".into(), 1)),
            ("A = \"x y\"\n", "A", Lookup::Found("x y".into(), 1)),
            ("#A=\"1\"\nA=\"2\"\n", "A", Lookup::Found("2".into(), 2)),
            (" #A=\"1\"\n", "A", Lookup::Missing), // byte at offset 1 is '#'
            ("A=\"1\nA=\"2\"\n", "A", Lookup::Found("1".into(), 1)), // closing quote optional
            ("A=\"a\tb\"\n", "A", Lookup::Found("a".into(), 1)), // TAB ends the value
            ("A=1\nA=\"2\"\n", "A", Lookup::NoQuotes(1)), // no fall-through
            ("AB=\"1\"\n", "A", Lookup::Missing),
            (
                "KILL_RUN_CMD_FIRST=\"1\"\n",
                "KILL_RUN_CMD",
                Lookup::Missing,
            ),
            ("A=\"v\" # c \"q\"\n", "A", Lookup::Found("v".into(), 1)),
            ("A=\"\"\n", "A", Lookup::Found("".into(), 1)),
        ];
        for (text, key, want) in cases {
            assert_eq!(&cf(text).lookup(key), want, "{text:?} {key}");
        }
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("TCP_PORTS=\"1,x,3\"\n", 1, "\"x\" is not a port"),
            ("#c\nUDP_PORTS=\"1,70000\"\n", 2, "\"70000\" is not a port"),
            ("\n\nSCAN_TRIGGER=\"two\"\n", 3, "is not a number"),
            (
                "KILL_ROUTE=/sbin/route add $TARGET$\n",
                1,
                "quotes missing from the KILL_ROUTE",
            ),
            ("BLOCK_TCP=\"yes\"\n", 1, "BLOCK_TCP"),
            ("ADVANCED_PORTS_TCP=\"70000\"\n", 1, "above 65536"),
        ];
        for (text, line, msg) in cases {
            let e = Config::from_file(&cf(text)).unwrap_err();
            assert_eq!(e.line(), Some(*line), "{text:?}");
            assert!(e.to_string().contains(msg), "{e} lacks {msg}");
            assert!(
                e.to_string()
                    .contains(&format!("portsentry.conf line {line}")),
                "{e}"
            );
        }
    }

    #[test]
    fn typed_values() {
        let c = Config::from_file(&cf(concat!(
            "TCP_PORTS=\"1,,11, 15\"\n",
            "RESOLVE_HOST = \"0\"\n",
            "BLOCK_TCP=\"1\"\n",
            "KILL_RUN_CMD_FIRST=\"1\"\n",
            "SCAN_TRIGGER=\"\"\n",
        )))
        .unwrap();
        assert_eq!(c.tcp_ports, Some(vec![1, 11, 15]));
        assert_eq!(c.udp_ports, None);
        assert!(!c.resolve_host);
        assert_eq!(c.block_tcp, 1);
        assert!(
            !c.run_cmd_first,
            "KILL_RUN_CMD_FIRST is only read with KILL_RUN_CMD"
        );
        assert_eq!(c.scan_trigger, Some(0));
    }

    #[test]
    fn unknown_lines_are_reported() {
        let f = cf("TCP_PORTS=\"1\"\nKIL_ROUTE=\"x\"\n# c\n\n");
        assert_eq!(f.unknown_lines(), vec![(2, "KIL_ROUTE=\"x\"".to_owned())]);
    }
}
