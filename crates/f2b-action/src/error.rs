//! The crate's error type: an opaque [`Error`] with a [`ErrorKind`] and a message.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Tag substitution failed (self-referencing properties, too deep recursion).
    Substitution,
    /// A command of an operation failed (`Error starting action …`, `Error banning …`).
    Command,
    /// An action with that name already exists / does not exist.
    UnknownAction,
    /// A property value could not be parsed (e.g. `timeout`).
    InvalidValue,
}

/// An error of an action operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message (upstream wording where there is one).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
