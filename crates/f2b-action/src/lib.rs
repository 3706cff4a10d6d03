//! fail2ban command actions: the only crate of the workspace that spawns processes.
//!
//! # Layout
//! - [`tags`]: static (recursive, `?family=`-conditional) and dynamic (per-ticket,
//!   shell-safe) tag substitution, ported from upstream `CommandAction`.
//! - [`ticket`]: per-ban dynamic values ([`Ticket`], [`TagSource`]) and [`Family`].
//! - [`exec`]: [`Executor`] trait and the default [`ShellExecutor`] (`/bin/sh -c`, setsid,
//!   global lock, timeout → SIGTERM/SIGKILL of the process group).
//! - [`action`]: one [`CommandAction`] with the upstream lifecycle.
//! - [`actions`]: [`ActionSet`], the ordered actions of a jail.
//!
//! # Wiring (server side)
//! ```no_run
//! use f2b_action::{ActionSet, Ticket};
//! let mut set = ActionSet::new("sshd");
//! // ['set', 'sshd', 'addaction', 'dummy'] then ['multi-set', 'sshd', 'action', 'dummy', [...]]
//! set.add("dummy").unwrap();
//! set.set_pairs("dummy", &[("actionban", "echo +<ip> >> /tmp/x"), ("name", "sshd")]).unwrap();
//! set.start();                                   // ['start', 'sshd']
//! let mut t = Ticket::new("192.0.2.1");
//! t.failures = 5;
//! let failures = set.ban(&t, false);             // each failure is logged, never fatal
//! assert!(failures.is_empty());
//! set.unban(&t);
//! set.flush_and_stop(&[&t]);                     // jail stop (tickets still banned)
//! ```
#![deny(missing_docs)]

pub mod action;
pub mod actions;
pub mod error;
pub mod exec;
pub mod log;
pub mod tags;
pub mod ticket;

pub use action::{as_bool, parse_seconds, CommandAction, RepairPolicy};
pub use actions::{ActionFailure, ActionSet};
pub use error::{Error, ErrorKind};
pub use exec::{ExecOutcome, Executor, ExitKind, RecordingExecutor, ShellCommand, ShellExecutor};
pub use log::{Collector, Level, LogSink};
pub use ticket::{set_hostnames, Family, LazyTags, TagSource, Ticket};
