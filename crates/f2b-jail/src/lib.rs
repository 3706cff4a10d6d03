//! Pure ban logic of a fail2ban jail: failure counting, the ban table,
//! ignore checks and `bantime.increment` (spec sections 3.1-3.5).
//!
//! Nothing here does I/O, spawns threads or sleeps; every time-dependent call
//! takes `now` (unix seconds, `f64`).  The server owns one [`FailManager`],
//! [`BanManager`], [`IgnoreList`] and [`BanTimeExtra`] per jail and wires them:
//!
//! ```text
//! filter failure ──► IgnoreList::check ──► FailManager::add_failure ──► (retry >= maxretry)
//!                         │ Event::Ignore        │ Event::Found              │ FailManager::to_ban
//!                         ▼                      ▼                           ▼
//!                      dropped        BanTimeExtra::failure_found     BanManager::add_ban_ticket
//!                                     (extra weight, bad ids)          │ AddBan::Banned → Event::Ban, actions,
//!                                                                      │   BanTimeExtra::ban_found → DB addBan
//!                                                                      │ AddBan::Expired / AlreadyBanned → events
//! actions loop: sleep until min(now+2, BanManager::next_unban_time) ──► BanManager::unban_list → Event::Unban
//! ```
//!
//! Log texts are produced by [`Event`] (`Display` + [`Event::level`]).
//!
//! ```
//! use f2b_jail::{FailManager, FailTicket, IpAddr, BanManager, AddBan};
//! let mut fm = FailManager::new();
//! fm.set_max_retry(2);
//! let ip = IpAddr::parse("192.0.2.1");
//! fm.add_failure(FailTicket::new(ip.clone(), 1000.0, vec![]), 1);
//! assert_eq!(fm.add_failure(FailTicket::new(ip.clone(), 1001.0, vec![]), 1), 2);
//! let t = fm.to_ban(Some(&ip)).unwrap();
//! let mut bm = BanManager::new();
//! assert_eq!(bm.add_ban_ticket(t, 1002.0), AddBan::Banned);
//! assert_eq!(bm.next_unban_time(), Some(1601.0));
//! assert!(bm.unban_list(1601.0, 20).is_empty());
//! assert_eq!(bm.unban_list(1601.5, 20).len(), 1);
//! ```

#![deny(missing_docs)]

mod banmanager;
mod event;
pub mod expr;
mod failmanager;
mod ignore;
mod increment;
mod ipaddr;
pub mod pyfmt;
mod ticket;

pub use banmanager::{AddBan, BanManager, UNBAN_MAX_PER_ROUND};
pub use event::{found_message, Event, Level};
pub use failmanager::FailManager;
pub use ignore::{IgnoreEnv, IgnoreList, IgnoreRule, IgnoreVerdict};
pub use increment::{BanFound, BanHistory, BanTimeExtra, DEFAULT_FORMULA};
pub use ipaddr::IpAddr;
pub use pyfmt::PyNum;
pub use ticket::{BanTicket, FailTicket, MatchLine, MAX_TIME};

use std::fmt;

/// Kind of a library error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `bantime.factor` / `bantime.formula` / `multipliers` value that
    /// does not parse or fails to evaluate.
    Expression,
}

/// A library error with its kind and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
}

impl Error {
    /// New error.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}
