//! The library error type: a kind, a message, and the file and line it concerns.

use std::fmt;
use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration file could not be read.
    ConfigMissing,
    /// A configuration line is malformed (bad quotes, bad number, bad port).
    ConfigSyntax,
    /// A mandatory configuration key is absent.
    ConfigMandatory,
    /// A file could not be read or written.
    Io,
    /// A socket could not be opened or bound.
    Socket,
    /// The command line is wrong.
    Usage,
}

/// A typed error; configuration errors carry the file and line.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
    file: Option<PathBuf>,
    line: Option<usize>,
}

impl Error {
    /// A new error without a location.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
            file: None,
            line: None,
        }
    }

    /// A new error located at `file:line` (1-based line).
    pub fn at(
        kind: ErrorKind,
        file: impl Into<PathBuf>,
        line: usize,
        msg: impl Into<String>,
    ) -> Self {
        Error {
            kind,
            msg: msg.into(),
            file: Some(file.into()),
            line: Some(line),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The line number (1-based) if the error concerns one line of a file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The bare message, without location.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(p), Some(l)) => write!(f, "{} line {}: {}", p.display(), l, self.msg),
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.msg),
            _ => f.write_str(&self.msg),
        }
    }
}

impl std::error::Error for Error {}
