//! fail2ban's filter engine, pure: no I/O.
//!
//! A [`Filter`] is built from a filter definition (prefregex, failregex,
//! ignoreregex, maxlines, datepattern, usedns) with [`FilterBuilder`]; each log
//! line is given with the current time ("now") to [`Filter::process_line`],
//! which returns the failures found, exactly as upstream's `Filter.processLine`
//! (`fail2ban/server/filter.py`).
//!
//! Layout: [`pyre`] translates Python `re` syntax and picks the engine (the
//! linear-time `regex` crate whenever possible, `fancy-regex` with a backtracking
//! limit otherwise); [`tags`] expands `<HOST>` and friends; [`failregex`] searches
//! line buffers; [`datetemplate`], [`datedetector`], [`strptime`] and
//! [`localtime`] find and convert dates; [`filter`] ties it together.

#![deny(missing_docs)]

pub mod datedetector;
pub mod datetemplate;
mod direct;
mod distribute;
pub mod failregex;
mod fastdate;
pub mod filter;
mod firstbyte;
mod guarded;
pub mod ipaddr;
pub mod localtime;
mod prune;
pub mod pyre;
pub mod strptime;
pub mod tags;

pub use datedetector::DateDetector;
pub use failregex::TupleLine;
pub use filter::{
    Dated, FailData, Failure, Filter, FilterBuilder, LineResult, Matcher, Prematch, Resolver,
};

/// What went wrong building a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A regex is empty, does not compile or has no failure-id group.
    Regex,
    /// A datepattern is invalid.
    DatePattern,
    /// Another option value is invalid (maxlines, logtimezone).
    Value,
}

/// A filter construction error.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
