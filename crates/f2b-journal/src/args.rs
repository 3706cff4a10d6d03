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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_words_split_into_or_groups() {
        let cases: &[(&[&str], &[&[&str]])] = &[
            (&[], &[&[]]),
            (&["A=1"], &[&["A=1"]]),
            (&["A=1", "B=2", "+", "C=3"], &[&["A=1", "B=2"], &["C=3"]]),
            (&["+", "A=1", "+"], &[&[], &["A=1"], &[]]),
        ];
        for (words, want) in cases {
            let want: Vec<Vec<String>> = want
                .iter()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(match_groups(words), want, "{words:?}");
        }
        assert_eq!(
            matches_status(&[vec!["A=1", "B=2"], vec!["C=3"]]),
            "A=1 B=2 + C=3"
        );
    }

    #[test]
    fn backend_options_follow_upstream_defaults() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a.journal", "b.journal", "c.txt"] {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        let d = dir.path().display();
        // no files, no path: flags default to SYSTEM_ONLY
        let a = JournalArgs::from_options::<&str, &str>(&[]).unwrap();
        assert_eq!(a.flags, Some(SYSTEM_ONLY));
        let a = JournalArgs::from_options(&[("namespace", "ns")]).unwrap();
        assert_eq!(
            (a.flags, a.namespace.as_deref()),
            (Some(SYSTEM_ONLY), Some("ns"))
        );
        // files or a path: no flags (python-systemd then opens with 0)
        let glob = format!("{d}/*.journal, {d}/a.journal");
        let a = JournalArgs::from_options(&[("journalfiles", glob.as_str())]).unwrap();
        assert_eq!(a.flags, None);
        let mut files = a.files.unwrap();
        files.sort();
        assert_eq!(
            files,
            [dir.path().join("a.journal"), dir.path().join("b.journal")]
        );
        // a glob without a match leaves no files: flags default again
        let none = format!("{d}/*.nothing");
        let a = JournalArgs::from_options(&[("journalfiles", none.as_str())]).unwrap();
        assert_eq!(
            (a.flags, a.files.map(|f| f.len())),
            (Some(SYSTEM_ONLY), Some(0))
        );
        let a =
            JournalArgs::from_options(&[("journalpath", "/x"), ("journalflags", " 1 ")]).unwrap();
        assert_eq!((a.flags, a.path), (Some(1), Some("/x".into())));
        for bad in [("journalflags", "x"), ("rotated", "on")] {
            let e = JournalArgs::from_options(&[bad]).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Args, "{bad:?}");
        }
    }

    #[test]
    fn match_validity() {
        for (m, ok) in [
            ("_SYSTEMD_UNIT=ssh.service", true),
            ("A=", true),
            ("X1_=v=w", true),
            ("=x", false),
            ("__CURSOR=x", false),
            ("lower=x", false),
            ("NOEQUALS", false),
            ("A", false),
            ("A-B=x", false),
        ] {
            assert_eq!(valid_match(m), ok, "{m}");
        }
    }

    /// The up-front check agrees with libsystemd's own `sd_journal_add_match`.
    #[test]
    fn match_validity_agrees_with_libsystemd() {
        let dir = tempfile::tempdir().unwrap();
        let args = JournalArgs {
            path: Some(dir.path().to_path_buf()),
            ..JournalArgs::default()
        };
        let mut j = match crate::Journal::open(&args) {
            Ok(j) => j,
            Err(e) if e.kind == ErrorKind::LibraryMissing => return,
            Err(e) => panic!("{e}"),
        };
        for m in [
            "_SYSTEMD_UNIT=ssh.service",
            "A=",
            "X1_=v=w",
            "=x",
            "__CURSOR=x",
            "_X=1",
            "lower=x",
            "NOEQUALS",
            "A",
            "",
            "A-B=x",
            "9=x",
            "É=x",
            "A B=x",
        ] {
            assert_eq!(valid_match(m), j.add_match(m).is_ok(), "{m:?}");
        }
    }
}
