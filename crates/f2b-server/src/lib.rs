//! `fail2ban-server`: the daemon that wires the libraries together.
//!
//! Layout:
//! - [`options`]: the server command line (upstream `Fail2banCmdLine`).
//! - [`logging`] (+ `pyfmt`): fail2ban's log line format and targets.
//! - [`daemon`]: daemonizing, pid file, signals.
//! - [`control`]: the Unix control socket (framing, peer check, connection threads).
//! - [`handler`]: unpickle → dispatch → pickle for one request.
//! - [`transmitter`]: the command table (upstream `transmitter.py`).
//! - [`server`]: jails, database, reload, shutdown (upstream `server.py`).
//! - [`jail`]: one jail's filter part, actions part and threads.
//! - [`run`]: the program flow of `fail2ban-server`.
//! - `memory`: dropping what only the start-up needed from the resident set.
//!
//! The binary `fail2ban-server` only calls [`run::main_with_args`].
#![deny(missing_docs)]

pub mod control;
pub mod daemon;
pub mod db;
pub mod error;
pub mod handler;
pub mod jail;
pub mod logging;
mod memory;
pub mod options;
mod pyfmt;
pub mod run;
pub mod server;
pub mod timeconv;
pub mod transmitter;

pub use run::{main_with_args, ConfigSource, FileConfig, NoConfig};
