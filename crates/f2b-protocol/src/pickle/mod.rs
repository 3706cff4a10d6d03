//! The pickle subset fail2ban's client and server exchange.
//!
//! [`decode`] turns bytes into a [`Value`](crate::Value) without ever importing or
//! calling anything; [`encode`] produces what CPython's `pickle.dumps(x, 5)` does.

mod arena;
mod decode;
mod encode;
mod error;
mod long;
pub mod op;
mod text;

pub use decode::{decode, decode_with_limits, DecodeMode, Limits};
pub use encode::{encode, encode_err, encode_ok};
pub use error::{DecodeError, DecodeErrorKind};
