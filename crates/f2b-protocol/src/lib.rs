//! fail2ban's client/server wire protocol: the only crate that knows pickle.
//!
//! fail2ban's client and server talk over a Unix stream socket. Each message is a
//! Python pickle followed by `<F2B_END_COMMAND>`; requests are lists of arguments
//! (`['status', 'sshd']`), replies are `(0, result)`, `(1, exception)` or the bare
//! string `"ERROR: ..."`. This crate is pure (no sockets, no threads): it turns bytes
//! into typed values and back, byte-compatible with Debian's fail2ban 1.0.2 running
//! on CPython 3.11.
//!
//! # Layout
//!
//! - [`value`]: [`Value`], the Python data model (`repr()`, `str()`, `pprint.pformat`).
//! - [`pickle`]: a bounded decoder (requests refuse every opcode that imports or
//!   calls; replies additionally accept exception instances) and a CPython-identical
//!   encoder (protocol 5, framed).
//! - [`framing`]: the terminator, a streaming [`framing::FrameSplitter`] for the
//!   server and [`framing::read_reply`] for the client.
//! - [`request`]: [`Request::from_value`], upstream's `Transmitter` dispatch, with its
//!   exceptions for malformed commands.
//! - [`reply`]: [`Reply`], the three reply shapes.
//! - [`beautify`]: what `fail2ban-client` prints for a reply.
//!
//! # Example: one request through a server
//!
//! ```
//! use f2b_protocol::framing::{Frame, FrameSplitter};
//! use f2b_protocol::pickle::{decode, DecodeMode};
//! use f2b_protocol::request::{Request, Status};
//! use f2b_protocol::{Reply, Value};
//!
//! // What `fail2ban-client status` sends (captured from the real client).
//! let wire = b"\x80\x05\x95\r\x00\x00\x00\x00\x00\x00\x00]\x94\x8c\x06status\x94a.<F2B_END_COMMAND>";
//! let mut splitter = FrameSplitter::default();
//! splitter.push(&wire[..10]); // fragments are fine
//! assert_eq!(splitter.next_frame().unwrap(), None);
//! splitter.push(&wire[10..]);
//! let Some(Frame::Message(bytes)) = splitter.next_frame().unwrap() else { panic!() };
//!
//! let reply = match decode(&bytes, DecodeMode::Request) {
//!     Err(e) => Reply::load_error(&e), // sent back as "ERROR: <reason>"
//!     Ok(command) => match Request::from_value(&command) {
//!         Err(e) => Reply::Err(e.into_exception()),
//!         Ok(Request::Status(Status::Server)) => Reply::Ok(Value::list(vec![
//!             Value::tuple([Value::str("Number of jail"), Value::Int(1)]),
//!             Value::tuple([Value::str("Jail list"), Value::str("sshd")]),
//!         ])),
//!         Ok(_) => unimplemented!(),
//!     },
//! };
//! // Byte for byte what fail2ban 1.0.2's server answers.
//! assert_eq!(
//!     reply.to_wire(),
//!     b"\x80\x05\x953\x00\x00\x00\x00\x00\x00\x00K\x00]\x94(\x8c\x0eNumber of jail\x94K\x01\x86\x94\
//!       \x8c\tJail list\x94\x8c\x04sshd\x94\x86\x94e\x86\x94.<F2B_END_COMMAND>"
//! );
//!
//! // The client side prints it as fail2ban-client does.
//! let Reply::Ok(result) = Reply::from_pickle(&reply.to_wire()).unwrap() else { panic!() };
//! let text = f2b_protocol::beautify::beautify(&[Value::str("status")], &result, true).text;
//! assert_eq!(text, "Status\n|- Number of jail:\t1\n`- Jail list:\tsshd");
//! ```
//!
//! # Example: the client side
//!
//! ```
//! use f2b_protocol::beautify::{beautify, beautify_error};
//! use f2b_protocol::framing::{read_reply, with_end, close_message, DEFAULT_MAX_FRAME};
//! use f2b_protocol::pickle::encode;
//! use f2b_protocol::{Reply, Value};
//!
//! // argv after the options, forwarded as strings.
//! let argv: Vec<Value> = ["status", "nojail"].into_iter().map(Value::str).collect();
//! let request = with_end(&encode(&Value::List(argv.clone())));
//! assert!(request.ends_with(b"<F2B_END_COMMAND>"));
//! // ... write `request` to the socket, then read the answer (here: a canned one) ...
//! let answer = Reply::Err(f2b_protocol::RequestError::unknown_jail(Value::str("nojail")).into_exception());
//! let mut socket = &answer.to_wire()[..];
//! let bytes = read_reply(&mut socket, DEFAULT_MAX_FRAME).unwrap();
//! let printed = match Reply::from_pickle(&bytes).unwrap() {
//!     Reply::Ok(v) => beautify(&argv, &v, true).text,      // exit code 0
//!     Reply::Err(e) => beautify_error(&e),                 // exit code 255
//!     Reply::LoadError(msg) => format!("ERROR: {msg}"),
//! };
//! assert_eq!(printed, "Sorry but the jail 'nojail' does not exist");
//! let _bye = close_message(); // sent before closing the connection
//! ```
#![deny(missing_docs)]

pub mod beautify;
mod beautify_stats;
pub mod framing;
mod pformat;
pub mod pickle;
pub mod reply;
pub mod request;
pub mod value;

pub use reply::Reply;
pub use request::{Request, RequestError};
pub use value::Value;
