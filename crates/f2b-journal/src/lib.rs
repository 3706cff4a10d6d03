//! The systemd journal as a log source for fail2ban's `systemd` backend and for
//! `fail2ban-regex systemd-journal[...]`.
//!
//! libsystemd's sd-journal API is loaded with `dlopen` at first use ([`Journal::open`]):
//! the binaries start without libsystemd, and only a systemd backend then fails with
//! [`ErrorKind::LibraryMissing`] (the environment variable `F2B_LIBSYSTEMD` names another
//! library file; tests use it to simulate a machine without libsystemd). Entries are formatted exactly like upstream's
//! `FilterSystemd.formatJournalEntry` ([`EntryFormatter`]), including python-systemd's
//! field conversions and the local time of the entry ([`entry_time`]).
//!
//! - [`JournalArgs::from_options`]: backend options (`journalpath`, `journalfiles`,
//!   `journalflags`, `namespace`) as upstream reads them.
//! - [`match_groups`] / [`valid_match`]: `journalmatch` words, `+` between OR groups.
//! - [`JournalReader`]: an iterator of [`JournalLine`]s (fail2ban-regex).
//! - [`JournalSource`]: the server's follower thread, a [`f2b_tail::LineSource`].
//!
//! ```no_run
//! use f2b_journal::{EntryFormatter, JournalArgs, JournalReader};
//! use f2b_tail::Encoding;
//! let args = JournalArgs::from_options(&[("journalfiles", "/tmp/x.journal")]).unwrap();
//! let mut r = JournalReader::open(&args, EntryFormatter::local(Encoding::Utf8)).unwrap();
//! r.add_match(&["_SYSTEMD_UNIT=ssh.service", "+", "_COMM=sshd"]).unwrap();
//! for line in r {
//!     println!("{} {} ({})", line.iso, line.text, line.time);
//! }
//! ```
#![deny(missing_docs)]

mod args;
mod ffi;
mod format;
mod lines;
mod pyconv;
mod reader;
mod source;

pub use args::{match_groups, matches_status, valid_match};
pub use format::{EntryFormatter, JournalLine};
pub use lines::JournalReader;
pub use pyconv::{entry_time, entry_time_at, local_utc_offset, EntryTime};
pub use reader::{Journal, JournalArgs, RawEntry, Wake, LOCAL_ONLY, SYSTEM_ONLY};
pub use source::{system_now, JournalConfig, JournalSource, JOURNAL_NAME};

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// libsystemd could not be loaded.
    LibraryMissing,
    /// Bad backend options.
    Args,
    /// The journal could not be opened.
    Open,
    /// A match was refused.
    Match,
    /// Reading, seeking or waiting failed.
    Read,
}

/// A journal error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The kind.
    pub kind: ErrorKind,
    /// The text.
    pub message: String,
    /// The errno from libsystemd, when there was one.
    pub errno: Option<i32>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            errno: None,
        }
    }

    pub(crate) fn with_errno(kind: ErrorKind, message: String, errno: i32) -> Error {
        Error {
            kind,
            message,
            errno: Some(errno),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
