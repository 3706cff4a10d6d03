//! fail2ban's typed configuration layer: `fail2ban.conf`, jails (two-phase read),
//! filters and actions (`[Definition]`/`[Init]`), the option-spec grammar
//! `name[k=v, k2="v,w"]`, read-time `<tag>` substitution, time abbreviations, and
//! the command stream `fail2ban-client` builds from all of it (spec 1.6–1.9).
//!
//! Layout: [`configurator`] drives the whole read; [`jail`] reads one jail;
//! [`definit`] reads filters and actions; [`filter`] exposes one filter as typed
//! fields (for `fail2ban-regex`); [`helpers`], [`tags`], [`time`], [`glob`],
//! [`shlex`] port upstream's helpers. The ini syntax itself lives in `f2b-ini`.
//!
//! Errors follow upstream's split: a jail definition error skips that jail
//! ([`ErrorKind::JailDef`]); any other error fails the whole configuration.

#![deny(missing_docs)]

pub mod cmdline;
pub mod configurator;
pub mod ctx;
pub mod definit;
mod error;
pub mod filter;
pub mod glob;
pub mod helpers;
pub mod jail;
pub mod memo;
pub mod shlex;
pub mod tagmemo;
pub mod tags;
pub mod time;

pub use configurator::{read_stream, read_stream_to, Configurator, ReadOutcome};
pub use error::{Error, ErrorKind};
pub use filter::{read_filter, FilterDef};
pub use time::str2seconds;

/// The upstream version we are compatible with (`fail2ban_version` in jails).
pub const VERSION: &str = "1.0.2";
