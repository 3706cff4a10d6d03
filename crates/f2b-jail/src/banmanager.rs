//! The ban table of one jail (upstream `server/banmanager.py` plus the ban
//! bookkeeping of `actions.py`).
//!
//! Tickets are indexed three ways: by id (lookup), by end of ban (the next
//! unban is the first key of a `BTreeMap`, O(log n) per ban/unban instead of
//! upstream's full scan) and by insertion order (upstream's dict order, used by
//! `status` and as the tie-break of `get banip`).

use crate::ipaddr::IpAddr;
use crate::pyfmt::{time2str, PyNum};
use crate::ticket::BanTicket;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// Upstream's per-round unban limit (`Actions.unbanMaxCount`).
pub const UNBAN_MAX_PER_ROUND: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    seq: u64,
    eob: f64,
    ticket: BanTicket,
}

/// Result of [`BanManager::add_ban_ticket`].
#[derive(Debug, Clone, PartialEq)]
pub enum AddBan {
    /// New ban: log `Ban`/`Restore Ban`, run the actions' ban, store in the DB.
    Banned,
    /// End of ban already in the past: log `Ignore <ip>, expired bantime`.
    Expired,
    /// Id already banned; `prolonged` if the end of ban moved later.
    /// `diff` = new ticket time - banned ticket time: selects the log level of
    /// `<ip> already banned` (see [`crate::Event::AlreadyBanned`]).
    AlreadyBanned {
        /// End of ban was extended.
        prolonged: bool,
        /// Seconds between the banned ticket and the new one.
        diff: f64,
    },
}

/// The banned tickets of a jail, ordered by end of ban.
#[derive(Debug, Clone)]
pub struct BanManager {
    map: HashMap<IpAddr, Entry>,
    by_end: BTreeMap<(OrdF64, u64), IpAddr>,
    by_seq: BTreeMap<u64, IpAddr>,
    seq: u64,
    ban_time: PyNum,
    ban_total: u64,
}

impl Default for BanManager {
    fn default() -> Self {
        BanManager {
            map: HashMap::new(),
            by_end: BTreeMap::new(),
            by_seq: BTreeMap::new(),
            seq: 0,
            ban_time: PyNum::Int(600),
            ban_total: 0,
        }
    }
}

impl BanManager {
    /// Empty table, bantime 600 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Jail bantime (upstream stores `int(value)`; -1 = permanent).
    pub fn set_ban_time(&mut self, secs: i64) {
        self.ban_time = PyNum::Int(secs);
        // tickets without own bantime change their end of ban: reindex them
        let ids: Vec<IpAddr> = self
            .map
            .iter()
            .filter(|(_, e)| e.ticket.ban_time.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            self.reindex(&id);
        }
    }

    /// Jail bantime.
    pub fn ban_time(&self) -> PyNum {
        self.ban_time
    }

    /// `Total banned`.
    pub fn ban_total(&self) -> u64 {
        self.ban_total
    }

    /// Overrides the total (upstream `setBanTotal`).
    pub fn set_ban_total(&mut self, v: u64) {
        self.ban_total = v;
    }

    /// `Currently banned`.
    pub fn size(&self) -> usize {
        self.map.len()
    }

    /// True if `id` is banned.
    pub fn contains(&self, id: &IpAddr) -> bool {
        self.map.contains_key(id)
    }

    /// The banned ticket of `id`.
    pub fn get(&self, id: &IpAddr) -> Option<&BanTicket> {
        self.map.get(id).map(|e| &e.ticket)
    }

    /// Adds a ban (upstream `addBanTicket`).  The ban starts at `ticket.time`
    /// (last failure); `now` only decides "expired bantime".
    pub fn add_ban_ticket(&mut self, mut ticket: BanTicket, now: f64) -> AddBan {
        let eob = ticket.end_of_ban(self.ban_time);
        if eob < now {
            return AddBan::Expired;
        }
        if let Some(old) = self.map.get_mut(&ticket.id) {
            let diff = ticket.time - old.ticket.time;
            let mut prolonged = false;
            if eob > old.ticket.end_of_ban(self.ban_time) {
                prolonged = true;
                let mut btm = ticket.ban_time_or(self.ban_time);
                if btm.as_f64() != -1.0 && diff > 0.0 {
                    btm = PyNum::Float(btm.as_f64() + diff);
                }
                old.ticket.ban_time = Some(btm);
                let id = ticket.id.clone();
                self.reindex(&id);
            }
            return AddBan::AlreadyBanned { prolonged, diff };
        }
        self.ban_total += 1;
        ticket.ban_count += 1;
        self.seq += 1;
        let id = ticket.id.clone();
        self.by_end.insert((OrdF64(eob), self.seq), id.clone());
        self.by_seq.insert(self.seq, id.clone());
        self.map.insert(
            id,
            Entry {
                seq: self.seq,
                eob,
                ticket,
            },
        );
        AddBan::Banned
    }

    /// Changes the ban time of a banned ticket (bantime.increment after the
    /// ban) and re-sorts it.  Returns false if `id` is not banned.
    pub fn set_ticket_ban_time(&mut self, id: &IpAddr, ban_time: PyNum, ban_count: u32) -> bool {
        match self.map.get_mut(id) {
            Some(e) => {
                e.ticket.ban_time = Some(ban_time);
                e.ticket.set_ban_count(ban_count);
            }
            None => return false,
        }
        self.reindex(id);
        true
    }

    /// Writes back ban time, ban count and restored flag of a ticket changed
    /// outside (e.g. by [`crate::BanTimeExtra::ban_found`]) and re-sorts it.
    pub fn update_ticket(&mut self, t: &BanTicket) -> bool {
        match self.map.get_mut(&t.id) {
            Some(e) => {
                e.ticket.ban_time = t.ban_time;
                e.ticket.ban_count = t.ban_count;
                e.ticket.restored = t.restored;
            }
            None => return false,
        }
        self.reindex(&t.id);
        true
    }

    fn reindex(&mut self, id: &IpAddr) {
        if let Some(e) = self.map.get_mut(id) {
            self.by_end.remove(&(OrdF64(e.eob), e.seq));
            e.eob = e.ticket.end_of_ban(self.ban_time);
            self.by_end.insert((OrdF64(e.eob), e.seq), id.clone());
        }
    }

    fn take(&mut self, id: &IpAddr) -> Option<BanTicket> {
        let e = self.map.remove(id)?;
        self.by_end.remove(&(OrdF64(e.eob), e.seq));
        self.by_seq.remove(&e.seq);
        Some(e.ticket)
    }

    /// Earliest end of ban (None when empty); the actions loop sleeps until
    /// `min(next_unban_time, now + 2 s)`.  Permanent bans give `MAX_TIME`.
    pub fn next_unban_time(&self) -> Option<f64> {
        self.by_end.keys().next().map(|(t, _)| t.0)
    }

    /// Removes and returns up to `max_count` tickets with `now > end of ban`,
    /// earliest end first (upstream takes them in dict order after a full
    /// scan; the set unbanned per round is the same when all are due).
    pub fn unban_list(&mut self, now: f64, max_count: usize) -> Vec<BanTicket> {
        let mut due = Vec::new();
        for ((t, _), id) in self.by_end.iter() {
            if due.len() >= max_count || now <= t.0 {
                break;
            }
            due.push(id.clone());
        }
        due.iter().filter_map(|id| self.take(id)).collect()
    }

    /// Removes `id` (manual unban; upstream `getTicketByID`).
    pub fn remove(&mut self, id: &IpAddr) -> Option<BanTicket> {
        self.take(id)
    }

    /// Empties the table, returning tickets in ban order (flush / stop).
    pub fn flush(&mut self) -> Vec<BanTicket> {
        let ids: Vec<IpAddr> = self.by_seq.values().cloned().collect();
        ids.iter().filter_map(|id| self.take(id)).collect()
    }

    /// Banned ids in ban (insertion) order: `status` "Banned IP list".
    pub fn ids(&self) -> Vec<IpAddr> {
        self.by_seq.values().cloned().collect()
    }

    /// Banned tickets in ban order.
    pub fn tickets(&self) -> impl Iterator<Item = &BanTicket> + '_ {
        self.by_seq.values().map(move |id| &self.map[id].ticket)
    }

    /// `get <jail> banip`: ids ordered by end of ban (ties in ban order).
    pub fn ids_by_end(&self) -> Vec<IpAddr> {
        self.by_end.values().cloned().collect()
    }

    /// `get <jail> banip --with-time`:
    /// `<ip> \t<start> + <bantime> = <end>` with local times.
    pub fn ids_by_end_with_time(&self) -> Vec<String> {
        self.by_end
            .iter()
            .map(|((eob, _), id)| {
                let t = &self.map[id].ticket;
                format!(
                    "{} \t{} + {} = {}",
                    id,
                    time2str(t.time),
                    t.ban_time_or(self.ban_time).trunc(),
                    time2str(eob.0)
                )
            })
            .collect()
    }

    /// Banned ids contained in `net` (for `unbanip <subnet>`), in ban order.
    pub fn ids_in(&self, net: &IpAddr) -> Vec<IpAddr> {
        self.by_seq
            .values()
            .filter(|id| net.contains(id))
            .cloned()
            .collect()
    }
}
