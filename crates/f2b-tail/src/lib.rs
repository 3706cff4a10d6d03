//! Log file followers: the only crate of the workspace that reads log files.
//!
//! A [`FileFollower`] follows one path: it reads complete lines only (an incomplete last
//! line is left until its `\n` arrives), strips `\r\n`, decodes (UTF-8 strict, falling back
//! to replacement with one warning per file), tracks the byte position and the SHA-1 hash of
//! the first line (hex of the first line including its `\n`, empty without a complete first
//! line: what fail2ban stores in its database), and detects rotation: the file shrank below
//! the position, its first line changed (copytruncate), or the path now names another inode
//! (rename-and-create, delete-and-create). A rotated-away file stays open and is drained
//! before the follower switches to the new one, so no complete line is lost or repeated.
//!
//! Two backends drive followers from a thread and publish [`TailEvent`]s on a crossbeam
//! channel: [`PollingTail`] (stat every interval, upstream's `polling` backend) and
//! [`InotifyTail`] (upstream's `pyinotify` backend: `IN_MODIFY` on files, create/move/delete
//! on their directories). Both implement [`LineSource`] (the seam a systemd-journal source
//! would implement too) and [`FileSource`] (adding/removing files). Glob expansion is the
//! caller's job; so is `seekToTime` (skipping old lines of a `head` file by date).
//!
//! ```no_run
//! use f2b_tail::{FileSource, LineSource, PollingTail, StartPos, TailEvent, Encoding};
//! use std::time::Duration;
//! let tail = PollingTail::spawn(Duration::from_secs(2));
//! tail.add_file("/var/log/auth.log".as_ref(), StartPos::Tail, Encoding::Utf8);
//! while let Ok(ev) = tail.events().recv() {
//!     if let TailEvent::Line(l) = ev {
//!         println!("{}:{} {}", l.path.display(), l.end, l.text);
//!     }
//! }
//! ```
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod follower;
mod inotify_tail;
mod polling;
mod runner;
mod seek;

pub use follower::{path_first_line_hash, sha1_hex, FileFollower};
pub use inotify_tail::InotifyTail;
pub use polling::PollingTail;
pub use seek::{seek_to_time, DateFn};

/// Capacity of a backend's event queue. Bounded so that a reader racing through a large
/// file waits for the consumer (back-pressure) instead of holding the whole file in memory.
/// Lines travel in [`TailEvent::Lines`] batches of up to [`LINES_PER_EVENT`], so at most
/// `EVENT_QUEUE * LINES_PER_EVENT` lines are in flight; a bounded channel allocates all
/// its slots up front, which is why the queue itself is short.
pub const EVENT_QUEUE: usize = 16;

/// Most lines in one [`TailEvent::Lines`] batch of a backend.
pub const LINES_PER_EVENT: usize = 256;

/// Where the first opening of a file starts reading.
#[derive(Clone)]
pub enum StartPos {
    /// From the beginning, or from a saved `(position, first-line hash)` when the hash still
    /// matches (upstream `head` with the database position).
    Head {
        /// Saved position and hash from the database.
        saved: Option<(u64, String)>,
    },
    /// Like `Head`, then upstream's `seekToTime`: skip ahead to the first line dated at or
    /// after `target` (epoch seconds, normally now − findtime), dates from `date_of`.
    HeadSeek {
        /// Saved position and hash from the database.
        saved: Option<(u64, String)>,
        /// The time to seek to.
        target: f64,
        /// The date of a line (the filter's date detector).
        date_of: DateFn,
    },
    /// From the current end of the file (upstream `tail`).
    Tail,
}

impl std::fmt::Debug for StartPos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartPos::Head { saved } => f.debug_struct("Head").field("saved", saved).finish(),
            StartPos::HeadSeek { saved, target, .. } => f
                .debug_struct("HeadSeek")
                .field("saved", saved)
                .field("target", target)
                .finish_non_exhaustive(),
            StartPos::Tail => f.write_str("Tail"),
        }
    }
}

/// Text encoding of a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (strict, with replacement characters as fallback).
    Utf8,
    /// ISO-8859-1 (every byte is a character).
    Latin1,
}

impl Encoding {
    /// Decodes one line; the flag is true when replacement characters had to be used.
    pub fn decode(self, raw: &[u8]) -> (String, bool) {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(raw) {
                Ok(s) => (s.to_owned(), false),
                Err(_) => (String::from_utf8_lossy(raw).into_owned(), true),
            },
            Encoding::Latin1 => (raw.iter().map(|&b| b as char).collect(), false),
        }
    }
}

/// One complete line of a log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The file it came from.
    pub path: Arc<PathBuf>,
    /// The decoded text without trailing `\r`/`\n`.
    pub text: String,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// Byte offset just after its `\n`: the position to save.
    pub end: u64,
}

/// Why a follower started over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationReason {
    /// The file is smaller than the read position (truncate, copytruncate).
    Truncated,
    /// The first line changed (copytruncate that grew back past the position).
    FirstLineChanged,
    /// The path names another file now (rename-and-create, delete-and-create).
    InodeChanged,
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailEvent {
    /// A complete line.
    Line(LogLine),
    /// Consecutive complete lines of one file (what the backends send: one channel
    /// message and one buffer per batch rather than per line). A [`FileFollower`]
    /// reports single [`TailEvent::Line`]s.
    Lines(LineBatch),
    /// A file was opened; reading starts at `pos`; `hash` is its first-line hash.
    Opened {
        /// The path.
        path: Arc<PathBuf>,
        /// First-line SHA-1 hex (empty if no complete first line).
        hash: String,
        /// Start position.
        pos: u64,
    },
    /// Rotation detected; reading restarts at 0 (of the same or a new file).
    Rotated {
        /// The path.
        path: Arc<PathBuf>,
        /// Why.
        reason: RotationReason,
    },
    /// The first-line hash of the open file changed without a new opening (the first line
    /// got completed, or after a truncation). Save this hash with the positions.
    HashChanged {
        /// The path.
        path: Arc<PathBuf>,
        /// The new first-line SHA-1 hex (empty if no complete first line).
        hash: String,
    },
    /// The follower reached the end of the file for the first time: from now on lines are
    /// live (upstream's "in operation" flag; true from the start for `tail` files).
    CaughtUp {
        /// The path.
        path: Arc<PathBuf>,
    },
    /// The path does not exist (reported once until it reappears; it is retried).
    Missing {
        /// The path.
        path: Arc<PathBuf>,
    },
    /// A line was not valid in the file's encoding (reported once per file).
    DecodeWarning {
        /// The path.
        path: Arc<PathBuf>,
    },
    /// Reading failed (permissions, I/O); the follower retries later.
    Error {
        /// The path.
        path: Arc<PathBuf>,
        /// The error text.
        message: String,
    },
}

/// Consecutive lines of one file in one buffer. The lines are allocated and freed by
/// different threads (reader and consumer); one buffer per batch instead of one string
/// per line keeps them off each other's allocator locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineBatch {
    /// The file they came from.
    pub path: Arc<PathBuf>,
    /// The decoded lines, back to back.
    text: String,
    /// Per line: end of its text in `text`, byte offset of its start in the file and
    /// just after its `\n`.
    lines: Vec<(usize, u64, u64)>,
}

impl LineBatch {
    /// An empty batch for `path`.
    pub fn new(path: Arc<PathBuf>) -> Self {
        LineBatch {
            path,
            text: String::new(),
            lines: Vec::new(),
        }
    }

    /// Appends a line.
    pub fn push(&mut self, l: &LogLine) {
        if self.lines.is_empty() {
            self.text.reserve(l.text.len() * LINES_PER_EVENT);
            self.lines.reserve_exact(LINES_PER_EVENT);
        }
        self.text.push_str(&l.text);
        self.lines.push((self.text.len(), l.offset, l.end));
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True without lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines: `(text, offset of the line, offset after its \n)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64, u64)> + '_ {
        let mut start = 0;
        self.lines.iter().map(move |&(end, off, fend)| {
            let t = &self.text[start..end];
            start = end;
            (t, off, fend)
        })
    }
}

impl TailEvent {
    /// Splits a [`TailEvent::Lines`] batch into single [`TailEvent::Line`]s (other
    /// events are returned as they are).
    pub fn flatten(self) -> Vec<TailEvent> {
        match self {
            TailEvent::Lines(b) => b
                .iter()
                .map(|(t, offset, end)| {
                    TailEvent::Line(LogLine {
                        path: b.path.clone(),
                        text: t.to_string(),
                        offset,
                        end,
                    })
                })
                .collect(),
            ev => vec![ev],
        }
    }
}

/// A source of log events (files now, the systemd journal later).
pub trait LineSource: Send {
    /// The channel the source publishes its events on.
    fn events(&self) -> &crossbeam_channel::Receiver<TailEvent>;
    /// Stops the source's thread and waits for it.
    fn stop(&mut self);
}

/// A [`LineSource`] following files.
pub trait FileSource: LineSource {
    /// Starts following `path` (no glob expansion; a missing file is retried).
    fn add_file(&self, path: &Path, start: StartPos, encoding: Encoding);
    /// Stops following `path`.
    fn remove_file(&self, path: &Path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_gives_back_its_lines() {
        let path = Arc::new(PathBuf::from("/var/log/x.log"));
        let texts = ["first", "", "ünïcödé line", "last one\twith tab"];
        let mut offset = 0;
        let lines: Vec<LogLine> = texts
            .iter()
            .map(|t| {
                // a `\r\n` end on some lines: the positions need not follow the text length
                let end = offset + t.len() as u64 + 1 + (t.len() % 2) as u64;
                let l = LogLine {
                    path: path.clone(),
                    text: t.to_string(),
                    offset,
                    end,
                };
                offset = end;
                l
            })
            .collect();
        let mut b = LineBatch::new(path.clone());
        assert!(b.is_empty());
        for l in &lines {
            b.push(l);
        }
        assert_eq!(b.len(), texts.len());
        let got: Vec<(String, u64, u64)> =
            b.iter().map(|(t, o, e)| (t.to_string(), o, e)).collect();
        let want: Vec<(String, u64, u64)> = lines
            .iter()
            .map(|l| (l.text.clone(), l.offset, l.end))
            .collect();
        assert_eq!(got, want);
        let flat = TailEvent::Lines(b).flatten();
        assert_eq!(
            flat,
            lines.into_iter().map(TailEvent::Line).collect::<Vec<_>>()
        );
    }
}
