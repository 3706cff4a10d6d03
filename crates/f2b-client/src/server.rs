//! Commands that talk to the server (`start`, `status`, `reload`, `-i`, ...).
//!
//! The socket client lives in [`crate::remote`].

use std::io::Write;

use crate::cli::Conf;
use crate::Logger;

/// Runs a server command; returns the process exit code (0 or 255).
pub fn run_server_command(
    conf: &Conf,
    args: &[String],
    out: &mut dyn Write,
    log: &mut Logger,
) -> i32 {
    crate::remote::run(conf, args, out, log)
}
