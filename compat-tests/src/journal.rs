//! Journal fixtures without journald: entries written in the journal *export format*
//! and turned into a real journal file by `systemd-journal-remote -o X.journal -`;
//! plus the two readers compared by the journal tests: upstream (Debian's python
//! fail2ban `FilterSystemd.formatJournalEntry` over python-systemd) and ours (the
//! `dump` example of f2b-journal, run as a process so each side gets its own `TZ`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Debian's journal file writer (package systemd-journal-remote).
pub const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";
/// The python with Debian's fail2ban and python3-systemd modules.
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// One journal entry: fields in order (a name may repeat).
#[derive(Debug, Clone, Default)]
pub struct Entry(pub Vec<(String, Vec<u8>)>);

impl Entry {
    /// An entry with the two timestamps journal-remote needs.
    pub fn at(realtime_us: u64, monotonic_us: u64) -> Entry {
        let mut e = Entry::default();
        e.set("__REALTIME_TIMESTAMP", realtime_us.to_string());
        e.set("__MONOTONIC_TIMESTAMP", monotonic_us.to_string());
        e.set("_BOOT_ID", "0123456789abcdef0123456789abcdef");
        e
    }

    /// Adds a field (text or bytes).
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Entry {
        self.0.push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Builder form of [`Entry::set`].
    pub fn with(mut self, name: &str, value: impl AsRef<[u8]>) -> Entry {
        self.set(name, value);
        self
    }
}

/// The export format of entries: `NAME=value` lines, or for values with a newline or
/// non-UTF-8 bytes `NAME\n<u64 LE length><bytes>\n`; a blank line ends an entry.
pub fn export(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        for (k, v) in &e.0 {
            out.extend_from_slice(k.as_bytes());
            if v.contains(&b'\n') || std::str::from_utf8(v).is_err() {
                out.push(b'\n');
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                out.extend_from_slice(v);
            } else {
                out.push(b'=');
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// Writes (or appends to) a journal file with systemd-journal-remote.
pub fn write_journal(path: &Path, entries: &[Entry]) {
    let mut child = Command::new(JOURNAL_REMOTE)
        .arg("-o")
        .arg(path)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run systemd-journal-remote");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&export(entries))
        .expect("feed systemd-journal-remote");
    let out = child
        .wait_with_output()
        .expect("wait systemd-journal-remote");
    assert!(
        out.status.success(),
        "systemd-journal-remote failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when the tools of the journal tests are there (else the test returns; under
/// CI their absence fails the test).
pub fn tools_present() -> bool {
    crate::require_oracle(JOURNAL_REMOTE)
        && crate::require_oracle(SYSTEM_PYTHON)
        && crate::require_oracle("/usr/lib/python3/dist-packages/systemd/journal.py")
        && crate::require_oracle("/usr/lib/python3/dist-packages/fail2ban/server/filtersystemd.py")
}

/// One line as a reader saw it: `"<iso> <line>"` and its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// What fail2ban-regex prints for the line (`"".join(tuple)`).
    pub joined: String,
    /// The entry time.
    pub time: f64,
}

fn parse_seen(stdout: &[u8]) -> Vec<Seen> {
    String::from_utf8(stdout.to_vec())
        .expect("readers print UTF-8")
        .lines()
        .map(|l| {
            let (t, j) = l.split_once('\t').expect("time<TAB>line");
            Seen {
                joined: j.to_string(),
                time: t.parse().expect("a float time"),
            }
        })
        .collect()
}

const UPSTREAM_SCRIPT: &str = r#"
import sys, shlex
from fail2ban.server.filtersystemd import FilterSystemd
from fail2ban.helpers import extractOptions
spec, match, enc = sys.argv[1], sys.argv[2], sys.argv[3]
backend, args = extractOptions(spec)
flt = FilterSystemd(None, **args)
flt.setLogEncoding(enc)
if match:
    flt.addJournalMatch(shlex.split(match))
j = flt.getJournalReader()
out = sys.stdout.buffer
while True:
    try:
        e = j.get_next()
    except OSError:
        continue
    if not e:
        break
    line, t = flt.formatJournalEntry(e)
    out.write(("%r\t%s\n" % (t, "".join(line))).encode("utf-8", "surrogateescape"))
"#;

/// Upstream's lines: fail2ban-regex's `journal_lines_gen` over `FilterSystemd(None,
/// **extractOptions(spec)[1])` with `match` (shell words, `+` between groups).
pub fn upstream_lines(spec: &str, matches: &str, encoding: &str, tz: &str) -> Vec<Seen> {
    let out = Command::new(SYSTEM_PYTHON)
        .args(["-c", UPSTREAM_SCRIPT, spec, matches, encoding])
        .env("TZ", tz)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "upstream reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_seen(&out.stdout)
}

/// The `dump` example of f2b-journal, built once.
pub fn dump_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // same profile as the tests, so CI's release run builds nothing twice
            let release = !cfg!(debug_assertions);
            let mut args = vec!["build", "--quiet", "-p", "f2b-journal", "--example", "dump"];
            if release {
                args.push("--release");
            }
            let status = Command::new(env!("CARGO"))
                .args(&args)
                .current_dir(crate::workspace_root())
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building the dump example failed");
            let profile = if release { "release" } else { "debug" };
            crate::target_dir().join(profile).join("examples/dump")
        })
        .clone()
}

/// Our lines, with the same options (`journalfiles=…`, `journalpath=…`, …, comma
/// separated), match words and encoding.
pub fn our_lines(options: &str, matches: &[&str], encoding: &str, tz: &str) -> Vec<Seen> {
    let out = Command::new(dump_bin())
        .arg(format!("{options},encoding={encoding}"))
        .args(matches)
        .env("TZ", tz)
        .output()
        .expect("run dump example");
    assert!(
        out.status.success(),
        "our reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_seen(&out.stdout)
}
