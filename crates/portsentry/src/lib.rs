//! A port-scan detector compatible with Psionic/Debian portsentry 1.2.
//!
//! Layout:
//! - [`config`]: the 1.2 `portsentry.conf` reader (quirks kept) and typed settings;
//! - [`ignore`], [`files`], [`state`], [`subst`]: the ignore list, blocked/history/
//!   hosts.deny files, the scan-trigger ring and `$TARGET$ $PORT$ $MODE$` expansion;
//! - [`packet`]: pure parsing of raw IPv4 packets and TCP/UDP headers;
//! - [`sentry`]: the event pipeline of one mode (ignore, trigger, log, block);
//! - [`dispose`]: the blocking actions (hosts.deny, KILL_ROUTE, KILL_RUN_CMD);
//! - [`modes`]: the six classic modes on sockets (IPv4 and IPv6);
//! - [`debian`]: `/etc/default/portsentry` and the ignore-file builder;
//! - [`cli`]: the command line, daemonizing and signals; the binary only calls [`cli::main`].
//!
//! Deliberate differences from 1.2 are listed in `docs/portsentry.md`.
#![deny(missing_docs)]

pub mod cli;
pub mod config;
pub mod debian;
pub mod dispose;
pub mod error;
pub mod files;
pub mod ignore;
pub mod modes;
pub mod packet;
pub mod sentry;
pub mod state;
pub mod subst;
pub mod sys;
pub mod syslog;

pub use error::{Error, ErrorKind};

/// The version string 1.2 prints and logs; kept so that log watchers keep matching.
pub const COMPAT_VERSION: &str = "1.2";

/// The fixed configuration path of Debian's 1.2 build (overridable with `-c`).
pub const DEFAULT_CONFIG: &str = "/etc/portsentry/portsentry.conf";

/// The tcp_wrappers deny file 1.2 appends to (a compile-time constant there too).
pub const HOSTS_DENY: &str = "/etc/hosts.deny";
