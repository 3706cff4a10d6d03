//! Failure counting per id (upstream `server/failmanager.py`).
//!
//! Not a sliding window: one ticket per id whose retry count is rescaled to
//! the failure *rate* when the span between first and last failure exceeds
//! `findtime`; a ticket expires only when its last failure is older than
//! `findtime`.  The caller bans as soon as `add_failure` returns a count
//! `>= maxretry` (via [`FailManager::to_ban`]).

use crate::ipaddr::IpAddr;
use crate::ticket::{FailTicket, MatchLine};
use std::collections::HashMap;

/// The failure list of one jail.
#[derive(Debug, Clone)]
pub struct FailManager {
    list: HashMap<IpAddr, (u64, FailTicket)>,
    seq: u64,
    fail_total: u64,
    max_retry: u32,
    max_time: f64,
    /// Matches kept per ticket (`maxmatches`, 0 = none); upstream default 5
    /// in the class, the jail config normally sets `maxretry`.
    pub max_matches: usize,
}

impl Default for FailManager {
    fn default() -> Self {
        FailManager {
            list: HashMap::new(),
            seq: 0,
            fail_total: 0,
            max_retry: 3,
            max_time: 600.0,
            max_matches: 5,
        }
    }
}

/// A matched line as plain text (split lines joined), without copying whole lines.
fn into_line(l: MatchLine) -> MatchLine {
    match l {
        MatchLine::Line(s) => MatchLine::Line(s),
        l => MatchLine::Line(l.joined()),
    }
}

impl FailManager {
    /// A manager with upstream's defaults (maxretry 3, findtime 600, maxmatches 5).
    pub fn new() -> Self {
        Self::default()
    }

    /// `maxretry`.
    pub fn set_max_retry(&mut self, v: u32) {
        self.max_retry = v;
    }

    /// `maxretry`.
    pub fn max_retry(&self) -> u32 {
        self.max_retry
    }

    /// `findtime` in seconds.
    pub fn set_max_time(&mut self, v: f64) {
        self.max_time = v;
    }

    /// `findtime` in seconds.
    pub fn max_time(&self) -> f64 {
        self.max_time
    }

    /// `Total failed`: every counted failure since start.
    pub fn fail_total(&self) -> u64 {
        self.fail_total
    }

    /// Overrides the total (upstream `setFailTotal`, used on reload).
    pub fn set_fail_total(&mut self, v: u64) {
        self.fail_total = v;
    }

    /// `Currently failed`: number of tickets.
    pub fn size(&self) -> usize {
        self.list.len()
    }

    /// `(tickets, sum of retries)` like upstream `getFailCount`.
    pub fn fail_count(&self) -> (usize, u64) {
        let sum = self.list.values().map(|(_, t)| t.retry as u64).sum();
        (self.list.len(), sum)
    }

    /// The ticket currently counted for `id`.
    pub fn get(&self, id: &IpAddr) -> Option<&FailTicket> {
        self.list.get(id).map(|(_, t)| t)
    }

    /// Mutable access to the ticket of `id` (e.g. to record its ban count).
    pub fn get_mut(&mut self, id: &IpAddr) -> Option<&mut FailTicket> {
        self.list.get_mut(id).map(|(_, t)| t)
    }

    /// Counts one failure (`count` retries) and returns the retry count of the
    /// id.  A new id keeps the ticket as given (`retry = count`); an existing
    /// id is rescaled to `findtime` and incremented, new matches appended as
    /// joined lines and trimmed to `max_matches`.
    pub fn add_failure(&mut self, ticket: FailTicket, count: u32) -> u32 {
        let max_time = self.max_time;
        let max_matches = self.max_matches;
        let retry = match self.list.get_mut(&ticket.id) {
            Some((_, f)) => {
                f.adjust_time(ticket.time, max_time);
                f.retry += count;
                f.failures += ticket.failures.max(1);
                if max_matches > 0 {
                    let m = f.matches.get_or_insert_with(Vec::new);
                    m.extend(ticket.matches.into_iter().flatten().map(into_line));
                    if m.len() > max_matches {
                        // upstream re-sets the trimmed list from getMatches(): all joined
                        m.drain(..m.len() - max_matches);
                        for l in m.iter_mut() {
                            if let MatchLine::Split(..) = l {
                                *l = MatchLine::Line(l.joined());
                            }
                        }
                    }
                    if m.is_empty() {
                        f.matches = None;
                    }
                } else {
                    f.matches = None;
                }
                f.retry
            }
            None => {
                let mut t = ticket;
                t.retry = count;
                if t.failures == 0 {
                    t.failures = 1;
                }
                if count == 0 {
                    t.failures = 0;
                    t.matches = Some(Vec::new());
                }
                let r = t.retry;
                self.seq += 1;
                self.list.insert(t.id.clone(), (self.seq, t));
                r
            }
        };
        self.fail_total += 1;
        retry
    }

    /// Extra retries added for a known bad id (upstream observer
    /// `addFailure(ticket, n, observed=True)`): only an id still in the list
    /// is incremented (failures += 1, no matches); returns its retry count or
    /// `None` when the id is not counted any more.
    pub fn add_observed(&mut self, id: &IpAddr, time: f64, count: u32) -> Option<u32> {
        let max_time = self.max_time;
        let (_, f) = self.list.get_mut(id)?;
        f.adjust_time(time, max_time);
        f.retry += count;
        f.failures += 1;
        self.fail_total += 1;
        Some(f.retry)
    }

    /// Upstream `addAttempt` (`set <jail> attempt <ip> [msg...]`): a failure at
    /// `now` counting `len(msgs)` (at least 1) retries.
    pub fn attempt(&mut self, id: IpAddr, now: f64, msgs: &[String]) -> u32 {
        let matches = msgs.iter().cloned().map(MatchLine::Line).collect();
        let t = FailTicket::new(id, now, matches);
        self.add_failure(t, (msgs.len() as u32).max(1))
    }

    /// Drops tickets whose last failure is `<= now - findtime`.
    pub fn cleanup(&mut self, now: f64) {
        let limit = now - self.max_time;
        self.list.retain(|_, (_, t)| t.time > limit);
    }

    /// Removes the ticket of `id`.
    pub fn del_failure(&mut self, id: &IpAddr) -> Option<FailTicket> {
        self.list.remove(id).map(|(_, t)| t)
    }

    /// Takes a ticket that reached maxretry: `id`'s ticket if it is counted,
    /// otherwise (like upstream) the oldest-inserted ticket over the limit.
    pub fn to_ban(&mut self, id: Option<&IpAddr>) -> Option<FailTicket> {
        let max = self.max_retry;
        let key = match id.filter(|i| self.list.contains_key(*i)) {
            Some(i) => {
                let (_, t) = &self.list[i];
                if t.retry < max {
                    return None;
                }
                i.clone()
            }
            None => self
                .list
                .iter()
                .filter(|(_, (_, t))| t.retry >= max)
                .min_by_key(|(_, (s, _))| *s)
                .map(|(k, _)| k.clone())?,
        };
        self.list.remove(&key).map(|(_, t)| t)
    }
}
