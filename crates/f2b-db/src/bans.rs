//! Ban rows: `bans` (history, one row per ban) and `bips` (latest ban per
//! ip+jail, used for restore and bantime.increment).

use crate::pyjson::{apply_data, dumps, loads, ticket_data};
use crate::{Db, Result};
use f2b_jail::pyfmt::py_round;
use f2b_jail::{BanHistory, BanTicket, FailTicket, IpAddr, MatchLine, PyNum};
use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::ToSql;

/// What the database needs to know about a jail for restore queries.
#[derive(Debug, Clone, PartialEq)]
pub struct JailInfo {
    /// Jail name.
    pub name: String,
    /// Jail `bantime` (seconds, -1 permanent).
    pub ban_time: PyNum,
    /// Upstream `getMaxBanTime()`: `bantime.maxtime` (or -1) with increment,
    /// else `ban_time` ([`f2b_jail::BanTimeExtra::max_ban_time`]).
    pub max_ban_time: PyNum,
}

struct Num(PyNum);

impl ToSql for Num {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            PyNum::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
            PyNum::Float(f) => ToSqlOutput::Owned(SqlValue::Real(f)),
        })
    }
}

fn num(v: SqlValue) -> PyNum {
    match v {
        SqlValue::Integer(i) => PyNum::Int(i),
        SqlValue::Real(f) => PyNum::Float(f),
        SqlValue::Text(t) => t
            .parse::<i64>()
            .map(PyNum::Int)
            .or_else(|_| t.parse::<f64>().map(PyNum::Float))
            .unwrap_or(PyNum::Int(0)),
        _ => PyNum::Int(0),
    }
}

fn blob(v: SqlValue) -> Option<Vec<u8>> {
    match v {
        SqlValue::Blob(b) => Some(b),
        SqlValue::Text(t) => Some(t.into_bytes()),
        SqlValue::Null => None,
        other => Some(format!("{other:?}").into_bytes()),
    }
}

fn text(v: SqlValue) -> String {
    match v {
        SqlValue::Text(t) => t,
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => f.to_string(),
        SqlValue::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
        SqlValue::Null => String::new(),
    }
}

fn ticket(ip: &str, time: PyNum, data: Option<Vec<u8>>) -> FailTicket {
    let mut t = FailTicket::new(IpAddr::parse(ip), time.as_f64(), Vec::new());
    apply_data(&mut t, loads(data.as_deref()));
    t
}

/// Trims matches like upstream `ticket.setMatches(getMatches()[-n:])`.
fn trim_matches(t: &mut FailTicket, max: usize) {
    if max == 0 {
        t.matches = None;
        return;
    }
    let joined = t.matches_joined();
    if joined.len() > max {
        t.matches = Some(
            joined[joined.len() - max..]
                .iter()
                .cloned()
                .map(MatchLine::Line)
                .collect(),
        );
    }
}

type Row = Vec<SqlValue>;

impl Db {
    fn rows(&self, sql: &str, args: &[&dyn ToSql], ncol: usize) -> Result<Vec<Row>> {
        let mut st = self.conn.prepare(sql)?;
        let rows = st.query_map(args, |r| {
            (0..ncol).map(|i| r.get::<_, SqlValue>(i)).collect()
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<Row>>>()?)
    }

    /// A new ban (observer `banFound`): a `bans` history row and the `bips`
    /// row of (ip, jail).  `jail_ban_time` is used when the ticket has none.
    pub fn add_ban(&self, jail: &str, jail_ban_time: PyNum, t: &BanTicket) -> Result<()> {
        self.add_bans(jail, jail_ban_time, &[t])
    }

    /// [`Db::add_ban`] for several tickets in one transaction (a busy jail bans in
    /// bursts; one commit per ban costs more than the inserts).
    pub fn add_bans(&self, jail: &str, jail_ban_time: PyNum, ts: &[&BanTicket]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        // cached statements: parsing the SQL for each ban costs more than the inserts
        let mut bans = tx.prepare_cached(
            "INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)",
        )?;
        let mut bips = tx.prepare_cached(
            "INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)",
        )?;
        for t in ts {
            let ip = t.id.to_string();
            let data = dumps(&ticket_data(t, self.max_matches)).into_bytes();
            let tob = py_round(t.time);
            let bt = Num(t.ban_time_or(jail_ban_time));
            bans.execute(rusqlite::params![jail, ip, tob, bt, t.ban_count, data])?;
            bips.execute(rusqlite::params![ip, jail, tob, bt, t.ban_count, data])?;
        }
        drop((bans, bips));
        tx.commit()?;
        Ok(())
    }

    /// Manual unban: forget `ips` of `jail` in both tables (history too, so
    /// increments restart); an empty slice deletes every row of the jail.
    pub fn del_ban(&self, jail: &str, ips: &[&str]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        if ips.is_empty() {
            tx.execute("DELETE FROM bips WHERE jail = ?", [jail])?;
            tx.execute("DELETE FROM bans WHERE jail = ?", [jail])?;
        }
        for ip in ips {
            tx.execute("DELETE FROM bips WHERE jail = ? AND ip = ?", [jail, ip])?;
            tx.execute("DELETE FROM bans WHERE jail = ? AND ip = ?", [jail, ip])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn get_bans_rows(
        &self,
        jail: Option<&str>,
        bantime: Option<f64>,
        ip: Option<&str>,
        now: f64,
    ) -> Result<Vec<Row>> {
        let mut sql = String::from("SELECT ip, timeofban, data FROM bans WHERE 1");
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(j) = jail {
            sql += " AND jail=?";
            args.push(Box::new(j.to_string()));
        }
        if let Some(b) = bantime.filter(|b| *b >= 0.0) {
            sql += " AND timeofban > ?";
            args.push(Box::new(now - b));
        }
        if let Some(i) = ip {
            sql += " AND ip=?";
            args.push(Box::new(i.to_string()));
        }
        sql += " ORDER BY ip, timeofban desc";
        let refs: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        self.rows(&sql, &refs, 3)
    }

    /// History rows (`getBans`): tickets with ip, time of ban and data,
    /// ordered by ip then newest first; `bantime` keeps bans still valid now.
    pub fn get_bans(
        &self,
        jail: Option<&str>,
        bantime: Option<f64>,
        ip: Option<&str>,
        now: f64,
    ) -> Result<Vec<FailTicket>> {
        Ok(self
            .get_bans_rows(jail, bantime, ip, now)?
            .into_iter()
            .map(|mut r| {
                let data = blob(r.pop().unwrap_or(SqlValue::Null));
                let tob = num(r.pop().unwrap_or(SqlValue::Null));
                let mut t = ticket(&text(r.pop().unwrap_or(SqlValue::Null)), tob, data);
                t.first_time = t.time;
                t
            })
            .collect())
    }

    /// `getBansMerged`: per ip one ticket with up to `max_matches` matches
    /// (newest bans last) and summed failures - the `<ipmatches>`,
    /// `<ipjailmatches>`, `<ipfailures>`, `<ipjailfailures>` action tags.
    pub fn get_bans_merged(
        &self,
        ip: Option<&str>,
        jail: Option<&str>,
        bantime: Option<f64>,
        now: f64,
    ) -> Result<Vec<FailTicket>> {
        let rows = self.get_bans_rows(jail, bantime, ip, now)?;
        let mut out = Vec::new();
        let mut cur: Option<(String, PyNum, Vec<MatchLine>, u32, FailTicket)> = None;
        for mut r in rows {
            let data = blob(r.pop().unwrap_or(SqlValue::Null));
            let tob = num(r.pop().unwrap_or(SqlValue::Null));
            let banip = text(r.pop().unwrap_or(SqlValue::Null));
            // upstream: failures += data.get('failures', 1)
            let row_failures = loads(data.as_deref())
                .and_then(|m| m.get("failures").map(|f| f.as_u64().unwrap_or(0) as u32))
                .unwrap_or(1);
            let row = ticket(&banip, tob, data);
            if let Some((pip, ptob, m, f, _)) = cur.as_ref().filter(|c| c.0 != banip) {
                let mut t = FailTicket::new(IpAddr::parse(pip), ptob.as_f64(), m.clone());
                t.failures = *f;
                out.push(t);
                cur = None;
            }
            let (_, _, matches, failures, acc) =
                cur.get_or_insert_with(|| (banip.clone(), tob, Vec::new(), 0, row.clone()));
            let m = row.matches.clone().unwrap_or_default();
            let maxadd = self.max_matches.saturating_sub(matches.len());
            if maxadd > 0 {
                let take = &m[m.len().saturating_sub(maxadd)..];
                let mut nm = take.to_vec();
                nm.append(matches);
                *matches = nm;
            }
            *failures += row_failures;
            for (k, v) in &row.data {
                acc.data.insert(k.clone(), v.clone());
            }
            acc.failures = *failures;
            acc.matches = Some(matches.clone());
            acc.time = tob.as_f64();
            if let Some(c) = cur.as_mut() {
                c.1 = tob;
            }
        }
        if let Some((_, tob, _, _, mut acc)) = cur {
            acc.time = tob.as_f64();
            acc.first_time = acc.time;
            acc.retry = acc.failures;
            out.push(acc);
        }
        Ok(out)
    }

    /// `getBan`: the ban history of `ip` for bantime.increment - rows of
    /// (bancount, timeofban, bantime), with `overall` summed over all jails.
    pub fn get_ban(
        &self,
        ip: &str,
        jail: Option<&str>,
        forbantime: Option<f64>,
        overall: bool,
        fromtime: Option<f64>,
        now: f64,
    ) -> Result<Vec<BanHistory>> {
        let mut sql = String::from(if overall {
            "SELECT sum(bancount), max(timeofban), sum(bantime) FROM bips"
        } else {
            "SELECT bancount, timeofban, bantime FROM bips"
        });
        sql += " WHERE ip = ?";
        let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(ip.to_string())];
        if let (false, Some(j)) = (overall, jail) {
            sql += " AND jail=?";
            args.push(Box::new(j.to_string()));
        }
        if let Some(f) = forbantime {
            sql += " AND timeofban > ?";
            args.push(Box::new(now - f));
        }
        if let Some(f) = fromtime {
            sql += " AND timeofban > ?";
            args.push(Box::new(f));
        }
        if overall || jail.is_none() {
            sql += " GROUP BY ip ORDER BY timeofban DESC LIMIT 1";
        }
        let refs: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        Ok(self
            .rows(&sql, &refs, 3)?
            .into_iter()
            .map(|mut r| {
                let bt = num(r.pop().unwrap_or(SqlValue::Null));
                let tob = num(r.pop().unwrap_or(SqlValue::Null));
                let cnt = num(r.pop().unwrap_or(SqlValue::Null));
                BanHistory {
                    ban_count: cnt.trunc(),
                    time_of_ban: tob.as_f64(),
                    ban_time: bt,
                }
            })
            .collect())
    }

    /// `getCurrentBans`: bans from `bips` still active at `fromtime`, ban
    /// time clamped to `correct_ban_time` (if >= 0), legacy `-2` ban times
    /// replaced by the jail bantime; matches trimmed to `max_matches`
    /// (default: the database's `dbmaxmatches`).
    pub fn get_current_bans(
        &self,
        jail: Option<&JailInfo>,
        ip: Option<&str>,
        forbantime: Option<f64>,
        fromtime: f64,
        correct_ban_time: Option<PyNum>,
        max_matches: Option<usize>,
    ) -> Result<Vec<FailTicket>> {
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        let mut sql = match jail {
            Some(j) => {
                args.push(Box::new(j.name.clone()));
                String::from("SELECT ip, timeofban, bantime, bancount, data FROM bips WHERE jail=?")
            }
            None => {
                String::from("SELECT ip, max(timeofban), bantime, bancount, data FROM bips WHERE 1")
            }
        };
        if let Some(i) = ip {
            sql += " AND ip=?";
            args.push(Box::new(i.to_string()));
        }
        sql += " AND (timeofban + bantime > ? OR bantime <= -1)";
        args.push(Box::new(fromtime));
        if let Some(f) = forbantime.filter(|f| *f != -1.0) {
            sql += " AND timeofban > ?";
            args.push(Box::new(fromtime - f));
        }
        sql += if ip.is_none() {
            " GROUP BY ip ORDER BY ip, timeofban DESC"
        } else {
            " ORDER BY timeofban DESC LIMIT 1"
        };
        let refs: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        let correct = correct_ban_time.filter(|c| c.as_f64() != 0.0);
        let max_matches = max_matches.unwrap_or(self.max_matches);
        let mut out = Vec::new();
        for mut r in self.rows(&sql, &refs, 5)? {
            let data = blob(r.pop().unwrap_or(SqlValue::Null));
            let cnt = num(r.pop().unwrap_or(SqlValue::Null));
            let mut bt = num(r.pop().unwrap_or(SqlValue::Null));
            let tob = num(r.pop().unwrap_or(SqlValue::Null));
            let banip = text(r.pop().unwrap_or(SqlValue::Null));
            if banip.is_empty() {
                continue;
            }
            if bt.as_f64() == -2.0 {
                bt = match (jail, correct) {
                    (Some(j), _) => j.ban_time,
                    (None, Some(c)) => c,
                    (None, None) => PyNum::Int(600),
                };
            } else if let Some(c) = correct.filter(|c| c.as_f64() >= 0.0) {
                if bt.as_f64() == -1.0 || bt.as_f64() > c.as_f64() {
                    bt = c;
                }
            }
            if bt.as_f64() != -1.0 && tob.as_f64() + bt.as_f64() <= fromtime {
                continue;
            }
            let mut t = ticket(&banip, tob, data);
            trim_matches(&mut t, max_matches);
            t.ban_time = Some(bt);
            t.set_ban_count(cnt.trunc().max(0) as u32);
            out.push(t);
            if ip.is_some() {
                break;
            }
        }
        Ok(out)
    }

    /// The database part of `Jail.restoreCurrentBans` at jail start: the
    /// jail's current bans (restricted to the last `bantime` without
    /// increment), clamped to the jail's max ban time, obsolete ones dropped,
    /// all marked `restored`.  The caller still applies the ignore check and
    /// queues them (logged as `Restore Ban`, not re-stored, not incremented).
    pub fn restore_current_bans(
        &self,
        jail: &JailInfo,
        increment: bool,
        max_matches: usize,
        now: f64,
    ) -> Result<Vec<FailTicket>> {
        let forbantime = (!increment).then(|| jail.ban_time.as_f64());
        let tickets = self.get_current_bans(
            Some(jail),
            None,
            forbantime,
            now,
            Some(jail.max_ban_time),
            Some(max_matches),
        )?;
        Ok(tickets
            .into_iter()
            .filter_map(|mut t| {
                t.restored = true;
                let mut btm = t.ban_time_or(jail.ban_time).as_f64();
                let dif = now - t.time;
                if btm != -1.0 && dif > 0.0 {
                    btm -= dif;
                }
                (btm == -1.0 || btm > 0.0).then_some(t)
            })
            .collect())
    }
}
