//! Backend options and journal matches as upstream reads them:
//! `systemd[journalflags=…, journalpath=…, journalfiles=…, namespace=…]`
//! (`FilterSystemd._getJournalArgs`) and `journalmatch` words with `+` between OR groups
//! (`FilterSystemd.addJournalMatch`).

use std::path::PathBuf;

use crate::reader::{JournalArgs, SYSTEM_ONLY};
use crate::{Error, ErrorKind};

/// fail2ban's `splitwords`: split on spaces, commas and newlines, drop empty words.
fn splitwords(s: &str) -> Vec<String> {
    s.split([' ', ',', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl JournalArgs {
    /// Builds the reader arguments from backend options (`extractOptions` of
    /// `systemd[...]` or `systemd-journal[...]`). `journalfiles` words are globbed (no
    /// match drops the word; duplicates go); without `journalflags` and without any
    /// file or path the flags default to `F2B_SYSTEMD_DEFAULT_FLAGS` from the
    /// environment, else 4 (`SYSTEM_ONLY`). Other option names are an error, as
    /// upstream's filter constructor rejects them.
    pub fn from_options<K: AsRef<str>, V: AsRef<str>>(
        options: &[(K, V)],
    ) -> Result<JournalArgs, Error> {
        let mut a = JournalArgs::default();
        for (k, v) in options {
            let (k, v) = (k.as_ref(), v.as_ref());
            match k {
                "journalpath" => a.path = Some(PathBuf::from(v)),
                "journalfiles" => {
                    let mut files: Vec<PathBuf> = Vec::new();
                    for w in splitwords(v) {
                        if let Ok(paths) = glob::glob(&w) {
                            for p in paths.flatten() {
                                if !files.contains(&p) {
                                    files.push(p);
                                }
                            }
                        }
                    }
                    a.files = Some(files);
                }
                "journalflags" => {
                    let n = crate::pyconv::py_int(v.as_bytes(), 10)
                        .and_then(|n| n.parse::<i32>().ok())
                        .ok_or_else(|| {
                            Error::new(
                                ErrorKind::Args,
                                format!("invalid literal for int() with base 10: '{v}'"),
                            )
                        })?;
                    a.flags = Some(n);
                }
                "namespace" => a.namespace = Some(v.to_string()),
                other => {
                    return Err(Error::new(
                        ErrorKind::Args,
                        format!("__init__() got an unexpected keyword argument '{other}'"),
                    ))
                }
            }
        }
        let no_files = a.files.as_ref().map_or(true, Vec::is_empty);
        let no_path = a.path.as_ref().map_or(true, |p| p.as_os_str().is_empty());
        if a.flags.is_none() && no_files && no_path {
            let env = std::env::var("F2B_SYSTEMD_DEFAULT_FLAGS").ok();
            a.flags = Some(
                env.and_then(|s| s.trim().parse().ok())
                    .unwrap_or(SYSTEM_ONLY),
            );
        }
        Ok(a)
    }
}

/// Splits the words of one `addjournalmatch` (or `-m`) into OR groups at `+`
/// (`[[]]` for no words; empty groups are kept, as upstream keeps them).
pub fn match_groups<S: AsRef<str>>(words: &[S]) -> Vec<Vec<String>> {
    let mut groups = vec![Vec::new()];
    for w in words {
        let w = w.as_ref();
        if w == "+" {
            groups.push(Vec::new());
        } else if let Some(g) = groups.last_mut() {
            g.push(w.to_string());
        }
    }
    groups
}

/// Whether libsystemd accepts `m` as a match (`FIELD=value` with FIELD of upper-case
/// letters, digits and `_`, not starting with `__`), without opening a journal: a
/// server can refuse an `addjournalmatch` up front like upstream's `ValueError`.
pub fn valid_match(m: &str) -> bool {
    let b = m.as_bytes();
    if b.len() < 2 || b.starts_with(b"__") {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'=' => return i > 0,
            b'_' | b'A'..=b'Z' | b'0'..=b'9' => {}
            _ => return false,
        }
    }
    false
}

/// The status text of match groups (`" + ".join(" ".join(m) for m in matches)`).
pub fn matches_status<S: AsRef<str>>(groups: &[Vec<S>]) -> String {
    groups
        .iter()
        .map(|g| g.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" + ")
}
