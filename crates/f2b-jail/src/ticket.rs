//! Failure and ban tickets (upstream `server/ticket.py`).
//!
//! One [`FailTicket`] exists per failure id while failures are counted; when
//! it reaches `maxretry` it becomes a [`BanTicket`] (the same data plus ban
//! bookkeeping).  `time` is always the time of the *last* failure (log time),
//! which is also the start of the ban.

use crate::ipaddr::IpAddr;
use crate::pyfmt::PyNum;
use serde_json::{Map, Value};

/// End-of-ban value for permanent bans (upstream `Ticket.MAX_TIME`).
pub const MAX_TIME: f64 = 0x7FFF_FFFF_FFFF_u64 as f64;

/// One matched log line, as the filter delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchLine {
    /// A whole line (manual `attempt`, merged DB history, ...).
    Line(String),
    /// `[before-date, date, after-date]` as the filter splits a line; the
    /// database stores it as a 3-element JSON array.
    Split(String, String, String),
}

impl MatchLine {
    /// The line as text (upstream `getMatches` joins split lines).
    pub fn joined(&self) -> String {
        match self {
            MatchLine::Line(s) => s.clone(),
            MatchLine::Split(a, b, c) => format!("{a}{b}{c}"),
        }
    }
}

/// Counting state of one failure id (upstream `FailTicket`).
#[derive(Debug, Clone, PartialEq)]
pub struct FailTicket {
    /// The failure id (normally the address).
    pub id: IpAddr,
    /// Time of the last failure (unix seconds, may be fractional).
    pub time: f64,
    /// Start of the current counting interval (moved by rate rescaling).
    pub first_time: f64,
    /// Retry count compared with maxretry (rescaled, may include extra weight).
    pub retry: u32,
    /// Number of real failures (`data['failures']`, the `<failures>` tag).
    pub failures: u32,
    /// Matched lines, at most `maxmatches`; `None` when not kept (key absent).
    pub matches: Option<Vec<MatchLine>>,
    /// Other captured groups (`user`, `ip4`, `mlfid`, ...) in capture order.
    pub data: Map<String, Value>,
    /// Ban time set for this ticket (None = the jail's bantime).
    pub ban_time: Option<PyNum>,
    /// Number of bans of this id so far (history from the database + 1).
    pub ban_count: u32,
    /// True for tickets restored from the database ("Restore Ban").
    pub restored: bool,
}

impl FailTicket {
    /// A fresh ticket for one failure at `time` (retry 1, failures 1).
    pub fn new(id: IpAddr, time: f64, matches: Vec<MatchLine>) -> Self {
        FailTicket {
            id,
            time,
            first_time: time,
            retry: 1,
            failures: 1,
            matches: Some(matches),
            data: Map::new(),
            ban_time: None,
            ban_count: 0,
            restored: false,
        }
    }

    /// Builder helper: attach captured groups.
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }

    /// Matched lines joined to plain strings (the `<matches>` tag lines).
    pub fn matches_joined(&self) -> Vec<String> {
        self.matches
            .iter()
            .flatten()
            .map(MatchLine::joined)
            .collect()
    }

    /// Effective ban time given the jail default.
    pub fn ban_time_or(&self, default: PyNum) -> PyNum {
        self.ban_time.unwrap_or(default)
    }

    /// End of ban (`MAX_TIME` for permanent bans).
    pub fn end_of_ban(&self, default: PyNum) -> f64 {
        let bt = self.ban_time_or(default);
        if bt.as_f64() == -1.0 {
            MAX_TIME
        } else {
            self.time + bt.as_f64()
        }
    }

    /// Upstream `isTimedOut`: `now > time + bantime` (never for permanent).
    pub fn is_timed_out(&self, now: f64, default: PyNum) -> bool {
        let bt = self.ban_time_or(default);
        bt.as_f64() != -1.0 && now > self.time + bt.as_f64()
    }

    /// Upstream `adjustTime`: rate rescaling when the span exceeds `max_time`.
    pub fn adjust_time(&mut self, time: f64, max_time: f64) {
        if time > self.time {
            if self.first_time < time - max_time {
                let r = self.retry as f64 / (time - self.first_time) * max_time;
                self.retry = crate::pyfmt::py_round(r).max(0) as u32;
                self.first_time = time - max_time;
            }
            self.time = time;
        }
    }

    /// Upstream `setBanCount(value)`: only ever increases.
    pub fn set_ban_count(&mut self, value: u32) {
        if value > self.ban_count {
            self.ban_count = value;
        }
    }
}

/// A banned ticket; same data, kept by the [`crate::BanManager`].
pub type BanTicket = FailTicket;
