//! Decoding errors, with the texts CPython's unpickler uses.

use std::fmt;

/// Why a pickle could not be decoded. `Display` gives the text Python's unpickler
/// would give where one exists (e.g. `Ran out of input`, `pickle data was truncated`,
/// `invalid load key, '\xff'.`), which fail2ban's server echoes as `ERROR: <text>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    message: String,
}

/// The class of a [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// No data at all, or the data ended at an opcode boundary before STOP.
    Eof,
    /// The data ended inside an opcode's argument.
    Truncated,
    /// An unknown opcode byte or an unsupported protocol number.
    InvalidOpcode,
    /// An opcode that would import or call code (or out-of-band buffers).
    Forbidden,
    /// Structurally invalid (stack underflow, missing mark, bad memo index, type errors).
    Malformed,
    /// A resource limit was exceeded.
    Limit,
}

impl DecodeError {
    pub(super) fn new(kind: DecodeErrorKind, message: impl Into<String>) -> DecodeError {
        DecodeError {
            kind,
            message: message.into(),
        }
    }
    /// The class of error.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

pub(super) fn malformed(m: impl Into<String>) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Malformed, m)
}
pub(super) fn truncated() -> DecodeError {
    DecodeError::new(DecodeErrorKind::Truncated, "pickle data was truncated")
}
pub(super) fn limit(m: &str) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Limit, m)
}
