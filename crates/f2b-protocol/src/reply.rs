//! Replies as fail2ban's server sends them and its client reads them.
//!
//! A reply is `pickle.dumps((0, result))` on success, `pickle.dumps((1, exception))`
//! when the command raised, or the bare string `"ERROR: <reason>"` when the request
//! could not even be unpickled; each followed by the terminator.

use crate::framing::with_end;
use crate::pickle::{self, DecodeError, DecodeMode};
use crate::value::Value;

/// One reply on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `(0, result)`: the command succeeded.
    Ok(Value),
    /// `(1, exception)`: the command raised (a [`Value::Exception`]).
    Err(Value),
    /// `"ERROR: <reason>"`: the request was not a valid pickle (the text after
    /// `ERROR: ` is the unpickler's message).
    LoadError(String),
}

impl Reply {
    /// The reply to a request that failed to unpickle.
    pub fn load_error(e: &DecodeError) -> Reply {
        Reply::LoadError(e.to_string())
    }

    /// The pickled reply without the terminator.
    pub fn to_pickle(&self) -> Vec<u8> {
        match self {
            Reply::Ok(v) => pickle::encode_ok(v),
            Reply::Err(e) => pickle::encode_err(e),
            Reply::LoadError(msg) => pickle::encode(&Value::Str(format!("ERROR: {msg}"))),
        }
    }

    /// The bytes to write on the socket (pickle + `<F2B_END_COMMAND>`).
    pub fn to_wire(&self) -> Vec<u8> {
        with_end(&self.to_pickle())
    }

    /// Decodes a reply received by a client (trailing terminator allowed).
    /// Anything that is neither `(0, x)`, `(1, x)` nor a string is returned as
    /// `Reply::Ok` of the whole value, which is what upstream's client would index.
    pub fn from_pickle(data: &[u8]) -> Result<Reply, DecodeError> {
        let v = pickle::decode(data, DecodeMode::Reply)?;
        Ok(match v {
            Value::Tuple(mut t)
                if t.len() == 2 && matches!(t[0], Value::Int(0) | Value::Int(1)) =>
            {
                let payload = t.pop().unwrap_or(Value::None);
                if t[0] == Value::Int(0) {
                    Reply::Ok(payload)
                } else {
                    Reply::Err(payload)
                }
            }
            Value::Str(s) => Reply::LoadError(s.strip_prefix("ERROR: ").unwrap_or(&s).to_string()),
            other => Reply::Ok(other),
        })
    }
}
