//! Glue between the control socket and the dispatcher: unpickles a request (server
//! mode: plain data only), runs it under the command lock and pickles the reply
//! (upstream `RequestHandler.found_terminator`).

use std::sync::Arc;

use f2b_protocol::pickle::{decode, encode, encode_err, encode_ok, DecodeMode};
use f2b_protocol::Value;

use crate::control::FrameHandler;
use crate::f2b_log;
use crate::server::Server;
use crate::transmitter::Transmitter;

/// The frame handler of a running server.
pub struct Handler {
    server: Arc<Server>,
}

impl Handler {
    /// A handler dispatching to `server`.
    pub fn new(server: Arc<Server>) -> Handler {
        Handler { server }
    }
}

impl FrameHandler for Handler {
    fn handle(&self, request: &[u8]) -> Vec<u8> {
        let value = match decode(request, DecodeMode::Request) {
            Ok(v) => v,
            Err(e) => {
                f2b_log!(
                    ERROR,
                    "asyncserver",
                    "PROTO-error: load message failed: {e}"
                );
                return encode(&Value::str(format!("ERROR: {e}")));
            }
        };
        if self.server.is_quitting() {
            return encode(&Value::List(vec![Value::str("SHUTDOWN")]));
        }
        let _guard = self
            .server
            .cmd_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (code, v) = Transmitter::new(&self.server).proceed(&value);
        if code == 0 {
            encode_ok(&v)
        } else {
            encode_err(&v)
        }
    }

    fn refuse(&self, uid: u32) -> Vec<u8> {
        encode(&Value::str(format!(
            "ERROR: permission denied (uid {uid} is not root)"
        )))
    }

    fn too_large(&self) -> Vec<u8> {
        encode(&Value::str("ERROR: message too large"))
    }
}
