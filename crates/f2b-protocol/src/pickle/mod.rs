//! The pickle subset fail2ban's client and server exchange.
//!
//! [`decode`] turns bytes into a [`Value`](crate::Value) without ever importing or
//! calling anything; [`encode`] produces what CPython's `pickle.dumps(x, 5)` does.

mod decode;
mod encode;
mod long;
pub mod op;

pub use decode::{decode, decode_with_limits, DecodeError, DecodeErrorKind, DecodeMode, Limits};
pub use encode::{encode, encode_err, encode_ok};
