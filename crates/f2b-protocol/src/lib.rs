//! fail2ban's client/server wire protocol: the only crate that knows pickle.
#![deny(missing_docs)]

pub mod beautify;
mod beautify_stats;
pub mod framing;
mod pformat;
pub mod pickle;
mod printable;
pub mod request;
pub mod value;

pub use request::{Request, RequestError};
pub use value::Value;
