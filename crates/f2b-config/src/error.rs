//! Errors of the typed layer. Each carries the file and line it concerns when known.

use std::fmt;

/// What kind of failure; mirrors how upstream treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An ini-layer error (parse, duplicate, interpolation...).
    Ini(f2b_ini::ErrorKind),
    /// A jail definition error: the jail is reported and skipped (`JailDefError`).
    JailDef,
    /// Any other value error; fatal for the whole configuration (`ValueError`).
    Value,
}

/// A configuration error.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    file: Option<String>,
    line: Option<u32>,
}

impl Error {
    /// A new error without location.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            file: None,
            line: None,
        }
    }

    /// A `ValueError`-like error.
    pub fn value(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Value, message)
    }

    /// Attaches a file/line location unless one is already set.
    pub fn with_src(mut self, src: Option<&f2b_ini::Src>) -> Self {
        if self.file.is_none() {
            if let Some(s) = src {
                self.file = Some(s.file.to_string());
                self.line = Some(s.line);
            }
        }
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without location (upstream's wording where it reaches stdout).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// File concerned, if known.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// Line concerned, if known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

impl From<f2b_ini::Error> for Error {
    fn from(e: f2b_ini::Error) -> Self {
        Error {
            kind: ErrorKind::Ini(e.kind()),
            message: e.message().to_string(),
            file: e.file().map(str::to_string),
            line: e.line(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) if line > 0 => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), _) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}
