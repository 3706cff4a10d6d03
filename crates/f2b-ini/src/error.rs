//! The ini layer's error type: a kind (mirroring the Python exception class that
//! upstream would raise) plus the file and line it concerns.

use std::fmt;
use std::sync::Arc;

/// What went wrong; each kind corresponds to one Python `configparser` exception,
/// which matters because fail2ban catches some of them and not others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Text before the first section header (`MissingSectionHeaderError`).
    MissingSectionHeader,
    /// Lines that are neither header, option nor comment (`ParsingError`).
    Parsing,
    /// A section given twice in one file (`DuplicateSectionError`).
    DuplicateSection,
    /// An option given twice in one section of one file (`DuplicateOptionError`).
    DuplicateOption,
    /// The file is not valid UTF-8 (`UnicodeDecodeError`; upstream skips the file).
    Decode,
    /// No such section (`NoSectionError`).
    NoSection,
    /// No such option (`NoOptionError`).
    NoOption,
    /// A lone `%` or a malformed `%(...)` (`InterpolationSyntaxError`).
    InterpolationSyntax,
    /// `%(x)s` names an unknown option (`InterpolationMissingOptionError`).
    InterpolationMissing,
    /// Interpolation nested deeper than 10 levels (`InterpolationDepthError`).
    InterpolationDepth,
}

/// An ini error with an optional source location.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    file: Option<Arc<str>>,
    line: Option<u32>,
}

impl Error {
    /// A new error without a location.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            file: None,
            line: None,
        }
    }

    /// Attaches a location (file and 1-based line).
    pub fn at(mut self, file: Arc<str>, line: u32) -> Self {
        self.file = Some(file);
        self.line = Some(line);
        self
    }

    /// Attaches a location unless one is already set.
    pub fn or_at(self, src: Option<&Src>) -> Self {
        match (self.file.is_some(), src) {
            (false, Some(s)) => self.at(s.file.clone(), s.line),
            _ => self,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file concerned, if known.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The 1-based line concerned, if known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Where an option value was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Src {
    /// File path as upstream spells it (base dir joined with the relative name).
    pub file: Arc<str>,
    /// 1-based line of the option's key.
    pub line: u32,
}
