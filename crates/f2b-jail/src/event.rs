//! The exact log messages of ban-related events, with upstream's levels.
//!
//! The server logs `event.to_string()` at `event.level()` under the logger
//! named by [`Event::logger`] (`fail2ban.filter`, `fail2ban.actions`,
//! `fail2ban.observer`), so the text lives in one place.

use crate::ignore::IgnoreRule;
use crate::ipaddr::IpAddr;
use crate::pyfmt::{seconds2str, time2str, PyNum};
use std::fmt;

/// Log levels used by these events (upstream numeric levels in docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// DEBUG (10).
    Debug,
    /// MSG (18, fail2ban's own level between DEBUG and INFO).
    Msg,
    /// INFO (20).
    Info,
    /// NOTICE (25).
    Notice,
    /// WARNING (30).
    Warning,
}

/// A ban-logic event to log.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `[jail] Found <id> - <time>` (INFO, filter) for a counted failure.
    Found {
        /// Jail name.
        jail: String,
        /// Failure id.
        id: IpAddr,
        /// Failure (log line) time.
        time: f64,
    },
    /// `[jail] Attempt <id> - <time>` (INFO, filter): `set <jail> attempt`.
    Attempt {
        /// Jail name.
        jail: String,
        /// Failure id.
        id: IpAddr,
        /// Time of the attempt (now).
        time: f64,
    },
    /// `[jail] Found <id>, bad - <time>, <C> # -> <n>[, Ban]` (INFO, observer).
    FoundBad {
        /// Jail name.
        jail: String,
        /// Failure id.
        id: IpAddr,
        /// Failure time.
        time: f64,
        /// Ban count from history.
        ban_count: i64,
        /// Weighted retry count (printed like Python: `2.0`, or maxretry as int).
        retry: PyNum,
        /// Retry reached maxretry (`, Ban` suffix).
        ban: bool,
    },
    /// `[jail] Ignore <id> by <rule>` (INFO, filter).
    Ignore {
        /// Jail name.
        jail: String,
        /// Ignored id.
        id: IpAddr,
        /// Matching rule.
        rule: IgnoreRule,
    },
    /// `[jail] Ignore <id>, expired bantime` (INFO, actions).
    ExpiredBantime {
        /// Jail name.
        jail: String,
        /// Id.
        id: IpAddr,
    },
    /// `[jail] Ban <id>` / `[jail] Restore Ban <id>` (NOTICE, actions).
    Ban {
        /// Jail name.
        jail: String,
        /// Banned id.
        id: IpAddr,
        /// Restored from the database.
        restored: bool,
    },
    /// `[jail] <id> already banned`: DEBUG if `diff < 3`, NOTICE if `< 60`,
    /// else WARNING (actions).
    AlreadyBanned {
        /// Jail name.
        jail: String,
        /// Id.
        id: IpAddr,
        /// New ticket time - banned ticket time.
        diff: f64,
    },
    /// `[jail] Unban <id>` (NOTICE, actions); also per ticket at stop/flush.
    Unban {
        /// Jail name.
        jail: String,
        /// Id.
        id: IpAddr,
    },
    /// `[jail] Flush ticket(s) with <action>` (NOTICE, actions).
    Flush {
        /// Jail name.
        jail: String,
        /// Action name.
        action: String,
    },
    /// `<id> is not banned` (MSG, actions): manual unban of an unknown id.
    NotBanned {
        /// Id as given.
        id: String,
    },
    /// `[jail] IP <id> is bad: <C> # last <time> - incr <old> to <new>` (INFO, observer).
    IpIsBad {
        /// Jail name.
        jail: String,
        /// Id.
        id: IpAddr,
        /// Previous ban count.
        ban_count: i64,
        /// Time of the last ban.
        last: f64,
        /// Configured ban time.
        old: PyNum,
        /// Increased ban time.
        new: PyNum,
    },
    /// `[jail] Increase Ban <id> (<count> # <dur> -> <end>)` (NOTICE, observer);
    /// `-1` prints `permanent -> infinite`.
    IncreaseBan {
        /// Jail name.
        jail: String,
        /// Id.
        id: IpAddr,
        /// New ban count of the ticket.
        ban_count: u32,
        /// New ban time.
        ban_time: PyNum,
        /// Ticket (ban start) time.
        start: f64,
    },
}

impl Event {
    /// Upstream log level of this event.
    pub fn level(&self) -> Level {
        match self {
            Event::Found { .. }
            | Event::Attempt { .. }
            | Event::FoundBad { .. }
            | Event::Ignore { .. }
            | Event::ExpiredBantime { .. }
            | Event::IpIsBad { .. } => Level::Info,
            Event::Ban { .. }
            | Event::Unban { .. }
            | Event::Flush { .. }
            | Event::IncreaseBan { .. } => Level::Notice,
            Event::NotBanned { .. } => Level::Msg,
            Event::AlreadyBanned { diff, .. } => {
                if *diff < 3.0 {
                    Level::Debug
                } else if *diff < 60.0 {
                    Level::Notice
                } else {
                    Level::Warning
                }
            }
        }
    }

    /// Upstream logger name (module) that prints this event.
    pub fn logger(&self) -> &'static str {
        match self {
            Event::Found { .. } | Event::Attempt { .. } | Event::Ignore { .. } => "fail2ban.filter",
            Event::FoundBad { .. } | Event::IpIsBad { .. } | Event::IncreaseBan { .. } => {
                "fail2ban.observer"
            }
            _ => "fail2ban.actions",
        }
    }
}

/// The message of [`Event::Found`] (`[jail] Found <id> - <time>`), written without
/// building the event (a busy watcher logs one per failure).
pub fn found_message(out: &mut String, jail: &str, id: &IpAddr, time: f64) {
    use fmt::Write;
    out.push('[');
    out.push_str(jail);
    out.push_str("] Found ");
    let _ = write!(out, "{id}");
    out.push_str(" - ");
    out.push_str(&time2str(time));
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Found { jail, id, time } => {
                write!(f, "[{jail}] Found {id} - {}", time2str(*time))
            }
            Event::Attempt { jail, id, time } => {
                write!(f, "[{jail}] Attempt {id} - {}", time2str(*time))
            }
            Event::FoundBad {
                jail,
                id,
                time,
                ban_count,
                retry,
                ban,
            } => write!(
                f,
                "[{jail}] Found {id}, bad - {}, {ban_count} # -> {retry}{}",
                time2str(*time),
                if *ban { ", Ban" } else { "" }
            ),
            Event::Ignore { jail, id, rule } => write!(f, "[{jail}] Ignore {id} by {rule}"),
            Event::ExpiredBantime { jail, id } => {
                write!(f, "[{jail}] Ignore {id}, expired bantime")
            }
            Event::Ban { jail, id, restored } => write!(
                f,
                "[{jail}] {}Ban {id}",
                if *restored { "Restore " } else { "" }
            ),
            Event::AlreadyBanned { jail, id, .. } => write!(f, "[{jail}] {id} already banned"),
            Event::Unban { jail, id } => write!(f, "[{jail}] Unban {id}"),
            Event::Flush { jail, action } => write!(f, "[{jail}] Flush ticket(s) with {action}"),
            Event::NotBanned { id } => write!(f, "{id} is not banned"),
            Event::IpIsBad {
                jail,
                id,
                ban_count,
                last,
                old,
                new,
            } => write!(
                f,
                "[{jail}] IP {id} is bad: {ban_count} # last {} - incr {} to {}",
                time2str(*last),
                seconds2str(*old),
                seconds2str(*new)
            ),
            Event::IncreaseBan {
                jail,
                id,
                ban_count,
                ban_time,
                start,
            } => {
                let (dur, end) = if ban_time.as_f64() == -1.0 {
                    ("permanent".to_string(), "infinite".to_string())
                } else {
                    (seconds2str(*ban_time), time2str(start + ban_time.as_f64()))
                };
                write!(
                    f,
                    "[{jail}] Increase Ban {id} ({ban_count} # {dur} -> {end})"
                )
            }
        }
    }
}

#[cfg(test)]
mod found_tests {
    use super::*;

    #[test]
    fn found_message_is_the_found_event_text() {
        for (jail, ip, time) in [
            ("sshd", "192.0.2.7", 1_700_000_000.25),
            ("a-jail", "2001:db8::1", 1_700_000_059.0),
            ("x", "10.0.0.1", 1_700_000_060.0),
            ("x", "10.0.0.1", 1_699_999_999.999),
            ("x", "host.example", 253_402_214_400.0),
        ] {
            let id = IpAddr::parse(ip);
            let ev = Event::Found {
                jail: jail.to_string(),
                id: id.clone(),
                time,
            };
            let mut s = String::new();
            found_message(&mut s, jail, &id, time);
            assert_eq!(s, ev.to_string());
        }
    }
}
