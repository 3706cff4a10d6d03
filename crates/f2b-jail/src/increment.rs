//! `bantime.increment` (spec 3.5; upstream `Jail.setBanTimeExtra` and the
//! observer's `failureFound` / `incrBanTime` / `banFound`).
//!
//! All functions are pure: the database history comes in through a lookup
//! closure (only called when upstream would query), randomness through a
//! closure returning `[0, 1)`.

use crate::event::Event;
use crate::expr::{Expr, Vars};
use crate::failmanager::FailManager;
use crate::ipaddr::IpAddr;
use crate::pyfmt::PyNum;
use crate::ticket::BanTicket;
use crate::{Error, ErrorKind};

/// Default `bantime.formula`.
pub const DEFAULT_FORMULA: &str = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor";

/// One row of the ban history (`Fail2BanDb.getBan`: `bancount, timeofban,
/// bantime`; sums/max over all jails with `overalljails`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BanHistory {
    /// Previous ban count (C).
    pub ban_count: i64,
    /// Time of the last ban.
    pub time_of_ban: f64,
    /// Ban time of the last ban.
    pub ban_time: PyNum,
}

/// The `bantime.*` options of a jail and the compiled formula.
#[derive(Debug, Clone)]
pub struct BanTimeExtra {
    /// `bantime.increment`.
    pub increment: bool,
    /// `bantime.overalljails`.
    pub overall_jails: bool,
    factor_src: Option<String>,
    formula_src: Option<String>,
    multipliers_src: Option<String>,
    /// `bantime.maxtime` in seconds.
    pub max_time: Option<PyNum>,
    /// `bantime.rndtime` in seconds.
    pub rnd_time: Option<PyNum>,
    factor: PyNum,
    formula: Expr,
    multipliers: Vec<i64>,
}

impl Default for BanTimeExtra {
    fn default() -> Self {
        BanTimeExtra {
            increment: false,
            overall_jails: false,
            factor_src: None,
            formula_src: None,
            multipliers_src: None,
            max_time: None,
            rnd_time: None,
            factor: PyNum::Int(1),
            formula: Expr::parse(DEFAULT_FORMULA).expect("default formula parses"),
            multipliers: Vec::new(),
        }
    }
}

fn num_mul(a: PyNum, b: PyNum) -> Result<PyNum, Error> {
    match (a, b) {
        (PyNum::Int(x), PyNum::Int(y)) => x
            .checked_mul(y)
            .map(PyNum::Int)
            .ok_or_else(|| Error::new(ErrorKind::Expression, "integer overflow")),
        _ => Ok(PyNum::Float(a.as_f64() * b.as_f64())),
    }
}

impl BanTimeExtra {
    /// Defaults: no increment, factor 1, default formula.
    pub fn new() -> Self {
        Self::default()
    }

    /// `bantime.factor` (expression; `None`/empty resets to 1).
    pub fn set_factor(&mut self, v: Option<&str>) -> Result<(), Error> {
        let v = v.filter(|s| !s.is_empty());
        self.factor = match v {
            Some(s) => Expr::parse(s)?.eval(&Vars {
                time: PyNum::Int(0),
                count: 0,
                factor: PyNum::Int(1),
            })?,
            None => PyNum::Int(1),
        };
        self.factor_src = v.map(str::to_string);
        Ok(())
    }

    /// `bantime.formula` (expression; `None`/empty resets to the default).
    pub fn set_formula(&mut self, v: Option<&str>) -> Result<(), Error> {
        let v = v.filter(|s| !s.is_empty());
        self.formula = Expr::parse(v.unwrap_or(DEFAULT_FORMULA))?;
        self.formula_src = v.map(str::to_string);
        Ok(())
    }

    /// `bantime.multipliers`: space separated ints; replaces the formula.
    pub fn set_multipliers(&mut self, v: Option<&str>) -> Result<(), Error> {
        let v = v.filter(|s| !s.is_empty());
        self.multipliers = match v {
            Some(s) => s
                .split(' ')
                .map(|p| {
                    p.parse::<i64>().map_err(|_| {
                        Error::new(
                            ErrorKind::Expression,
                            format!("invalid literal for int() with base 10: {p:?}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        self.multipliers_src = v.map(str::to_string);
        Ok(())
    }

    /// Stored string value of `factor`/`formula`/`multipliers` (for `get`).
    pub fn source(&self, opt: &str) -> Option<&str> {
        match opt {
            "factor" => self.factor_src.as_deref(),
            "formula" => self.formula_src.as_deref(),
            "multipliers" => self.multipliers_src.as_deref(),
            _ => None,
        }
    }

    /// Maximum ban time of the jail (upstream `getMaxBanTime`): `maxtime`
    /// (or -1) with increment, else the jail bantime.
    pub fn max_ban_time(&self, jail_ban_time: PyNum) -> PyNum {
        if self.increment {
            self.max_time.unwrap_or(PyNum::Int(-1))
        } else {
            jail_ban_time
        }
    }

    /// Upstream `evformula(BanTimeIncr(time, count))`: multipliers or
    /// `max(ban.Time, formula)`, then `min(.., maxtime)`, then `+ rnd()*rndtime`.
    pub fn calc(
        &self,
        time: PyNum,
        count: i64,
        rnd: &mut dyn FnMut() -> f64,
    ) -> Result<PyNum, Error> {
        let mut r = if !self.multipliers.is_empty() {
            let n = self.multipliers.len();
            let idx = if count < n as i64 { count } else { -1 };
            // Python negative index from the end
            let idx = if idx < 0 { n as i64 + idx } else { idx };
            let m = *self
                .multipliers
                .get(usize::try_from(idx).unwrap_or(usize::MAX))
                .ok_or_else(|| Error::new(ErrorKind::Expression, "list index out of range"))?;
            num_mul(num_mul(time, self.factor)?, PyNum::Int(m))?
        } else {
            let v = self.formula.eval(&Vars {
                time,
                count,
                factor: self.factor,
            })?;
            PyNum::py_max(time, v)
        };
        if let Some(mt) = self.max_time {
            r = PyNum::py_min(r, mt);
        }
        if let Some(rt) = self.rnd_time {
            r = PyNum::Float(r.as_f64() + rnd() * rt.as_f64());
        }
        Ok(r)
    }

    /// Observer `incrBanTime`: with history count C > 0 the ticket gets
    /// bancount C+1 and `calc(ban_time, C)`; returns the new ban time and an
    /// `IpIsBad` event (or marks the ticket restored when it is not newer than
    /// the last ban).  `lookup` is called only when increment applies.
    pub fn incr_ban_time(
        &self,
        jail: &str,
        ban_time: PyNum,
        ticket: &mut BanTicket,
        lookup: &mut dyn FnMut() -> Option<BanHistory>,
        rnd: &mut dyn FnMut() -> f64,
    ) -> Result<(PyNum, Option<Event>), Error> {
        if !(ban_time.as_f64() > 0.0 && self.increment) {
            return Ok((ban_time, None));
        }
        let Some(h) = lookup() else {
            return Ok((ban_time, None));
        };
        if h.ban_count >= ticket.ban_count as i64 {
            ticket.set_ban_count((h.ban_count + 1).max(0) as u32);
        }
        let mut bt = ban_time;
        if h.ban_count > 0 {
            bt = self.calc(ban_time, h.ban_count, rnd)?;
        }
        ticket.ban_time = Some(bt);
        if ticket.time > h.time_of_ban {
            let ev = Event::IpIsBad {
                jail: jail.to_string(),
                id: ticket.id.clone(),
                ban_count: h.ban_count,
                last: h.time_of_ban,
                old: ban_time,
                new: bt,
            };
            return Ok((bt, Some(ev)));
        }
        ticket.restored = true;
        Ok((bt, None))
    }

    /// Observer `banFound` for a new (not restored) ban of `ticket` whose
    /// effective ban time at ban was `btime`.  Updates the ticket (ban time,
    /// count, restored) - the caller writes it back with
    /// [`crate::BanManager::set_ticket_ban_time`] - and says what to do next.
    pub fn ban_found(
        &self,
        jail: &str,
        ticket: &mut BanTicket,
        btime: PyNum,
        now: f64,
        lookup: &mut dyn FnMut() -> Option<BanHistory>,
        rnd: &mut dyn FnMut() -> f64,
    ) -> Result<BanFound, Error> {
        let mut out = BanFound::default();
        if ticket.restored {
            return Ok(out);
        }
        let old = btime;
        let mut bt = btime;
        if bt.as_f64() != -1.0 && ticket.ban_time.is_none() {
            let (nb, ev) = self.incr_ban_time(jail, bt, ticket, lookup, rnd)?;
            bt = nb;
            out.events.extend(ev);
            if bt.as_f64() == -1.0 || bt.as_f64() > old.as_f64() {
                ticket.ban_time = Some(bt);
            }
        }
        if bt.as_f64() != -1.0 && ticket.time + bt.as_f64() < now {
            // "Ignore old bantime": nothing stored
            return Ok(out);
        }
        if bt != old {
            out.events.push(Event::IncreaseBan {
                jail: jail.to_string(),
                id: ticket.id.clone(),
                ban_count: ticket.ban_count,
                ban_time: bt,
                start: ticket.time,
            });
            let d = bt.as_f64() - old.as_f64() - 5.0;
            out.prolong_after = Some(d.clamp(0.0, 10.0));
            out.new_ban_time = Some(bt);
        }
        out.add_to_db = !ticket.restored;
        Ok(out)
    }

    /// Observer `failureFound`: extra retry weight for a failure of a known
    /// bad id (history of this jail only).  `min(2^min(C,20)/2 + 1, maxretry)`
    /// retries in total; the extra ones are added to `fm` here.  Returns the
    /// event to log and whether the id must now be banned (`to_ban(id)`).
    pub fn failure_found(
        &self,
        jail: &str,
        fm: &mut FailManager,
        id: &IpAddr,
        time: f64,
        ticket_ban_count: u32,
        history: Option<BanHistory>,
    ) -> Option<(Event, bool)> {
        if !self.increment {
            return None;
        }
        let max = fm.max_retry();
        let mut ban_count = 0i64;
        let mut retry = PyNum::Int(1);
        if let Some(h) = history {
            ban_count = h.ban_count.max(ticket_ban_count as i64);
            let c = ban_count.clamp(0, 20);
            retry = PyNum::Float((1i64 << c) as f64 / 2.0 + 1.0);
            if time <= h.time_of_ban {
                return None;
            }
        }
        retry = PyNum::py_min(retry, PyNum::Int(max as i64));
        if retry.as_f64() <= 1.0 {
            return None;
        }
        let ban = retry.as_f64() >= max as f64;
        let ev = Event::FoundBad {
            jail: jail.to_string(),
            id: id.clone(),
            time,
            ban_count,
            retry,
            ban,
        };
        let extra = (retry.as_f64() - 1.0).max(0.0) as u32;
        let total = fm.add_observed(id, time, extra);
        if let Some(f) = fm.get_mut(id) {
            f.set_ban_count(ban_count.max(0) as u32);
        }
        Some((ev, total.is_some_and(|t| t >= max)))
    }
}

/// What [`BanTimeExtra::ban_found`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BanFound {
    /// Events to log in order (`IP .. is bad`, `Increase Ban`).
    pub events: Vec<Event>,
    /// New ban time to write back into the ban table.
    pub new_ban_time: Option<PyNum>,
    /// Call the actions' `prolong` after this many seconds.
    pub prolong_after: Option<f64>,
    /// Store the ban in the database (`addBan`).
    pub add_to_db: bool,
}
