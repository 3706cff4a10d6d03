//! Commands that talk to the server (`start`, `status`, `reload`, `-i`, ...).
//!
//! Not implemented yet: the protocol helper wires the socket client here. The entry
//! point receives the parsed settings and the remaining arguments (the command).

use std::io::Write;

use crate::cli::Conf;
use crate::Logger;

/// Runs a server command; returns the process exit code (0 or 255).
pub fn run_server_command(
    _conf: &Conf,
    args: &[String],
    _out: &mut dyn Write,
    log: &mut Logger,
) -> i32 {
    log.error(
        "fail2ban",
        &format!("server command {args:?}: not implemented yet"),
    );
    255
}
