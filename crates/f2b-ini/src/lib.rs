//! fail2ban's ini dialect, reproduced exactly: Python's `ConfigParser` as fail2ban
//! configures it (lower-cased keys, `;` inline comments only after whitespace, `#`
//! never inline, continuation lines, strict duplicates, `%%`), the file set with
//! `X.d/` directories and `[INCLUDES]` before/after, merging with `KNOWN/` history and
//! `[Section?cond]` folding, and lazy `%(name)s` interpolation with fail2ban's
//! `__name__`, `sec/opt`, `default/opt` and `known/opt` extensions.
//!
//! Layout: [`parse`] reads one file, [`config`] merges files and answers lookups,
//! `interp` interpolates, [`loader`] finds and caches files. This crate knows nothing
//! about jails; see `f2b-config` for that. `docs/config-dialect.md` explains why no
//! generic ini crate is used.

#![deny(missing_docs)]

pub mod config;
pub mod diag;
mod error;
mod interp;
pub mod loader;
mod omap;
pub mod parse;
pub mod py;
pub mod scan;

pub use config::{lower_vars, split_conditional, Config, Vars};
pub use diag::{Diag, Diags, Level};
pub use error::{Error, ErrorKind, Src};
pub use loader::Loader;
pub use omap::OMap;
pub use parse::{parse_str, IniFile, Opt, Section};
