//! fail2ban's client/server wire protocol: the only crate that knows pickle.
#![deny(missing_docs)]

mod pformat;
pub mod pickle;
mod printable;
pub mod value;

pub use value::Value;
