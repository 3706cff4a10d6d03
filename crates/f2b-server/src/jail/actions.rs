//! The action half of a jail (upstream `actions.py` `Actions`): the ban table
//! ([`f2b_jail::BanManager`]), the `bantime.*` options, the configured actions
//! ([`f2b_action::ActionSet`]) and the actions thread that bans queued tickets and
//! unbans expired ones.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use f2b_action::{ActionSet, TagSource, Ticket};
use f2b_jail::{AddBan, BanManager, BanTicket, BanTimeExtra, Event, FailTicket, IpAddr, PyNum};
use f2b_protocol::Value;

use super::{now, ActionMsg, Jail};
use crate::error::CmdError;
use crate::f2b_log;
use crate::logging::{self, Level};

/// Tickets taken from the queue per round (upstream `banPrecedence`).
const BAN_PRECEDENCE: usize = 10;
/// Longest sleep of the actions loop (upstream `sleeptime`).
const SLEEP: f64 = 1.0;

/// Ban table, ban time options and actions of one jail.
pub struct ActionsPart {
    jail: String,
    /// The configured actions.
    pub set: ActionSet,
    /// Banned tickets.
    pub bans: BanManager,
    /// `bantime.*`.
    pub extra: BanTimeExtra,
    /// Raw `bantime.*` values as set (for `get <jail> bantime.<opt>`).
    pub extra_raw: Vec<(String, Value)>,
    last_consistency_check: f64,
    started: bool,
    /// Bans of the current round not yet in the database (written together at its end,
    /// like upstream's observer, which stores them after the ban too).
    db_pending: Vec<BanTicket>,
}

/// Logs a jail-library event with its level and logger.
pub fn log_event(ev: &Event) {
    let lvl = match ev.level() {
        f2b_jail::Level::Debug => Level::DEBUG,
        f2b_jail::Level::Msg => Level::MSG,
        f2b_jail::Level::Info => Level::INFO,
        f2b_jail::Level::Notice => Level::NOTICE,
        f2b_jail::Level::Warning => Level::WARNING,
    };
    if logging::enabled(lvl) {
        let logger = ev.logger();
        let module = logger.strip_prefix("fail2ban.").unwrap_or(logger);
        logging::log(module, lvl, &ev.to_string());
    }
}

fn action_log_sink() -> f2b_action::LogSink {
    Arc::new(|l, m| {
        let (lvl, module) = match l {
            f2b_action::Level::Debug => (Level::DEBUG, "utils"),
            f2b_action::Level::Info => (Level::INFO, "actions"),
            f2b_action::Level::Notice => (Level::NOTICE, "actions"),
            f2b_action::Level::Warning => (Level::WARNING, "actions"),
            f2b_action::Level::Error => (Level::ERROR, "utils"),
            f2b_action::Level::Critical => (Level::CRITICAL, "actions"),
        };
        logging::log(module, lvl, m);
    })
}

impl ActionsPart {
    /// Empty part for `jail`.
    pub fn new(jail: &str) -> ActionsPart {
        let mut set = ActionSet::new(jail);
        set.set_log(action_log_sink());
        ActionsPart {
            jail: jail.to_string(),
            set,
            bans: BanManager::new(),
            extra: BanTimeExtra::new(),
            extra_raw: Vec::new(),
            last_consistency_check: 0.0,
            started: false,
            db_pending: Vec::new(),
        }
    }

    /// Jail ban time.
    pub fn ban_time(&self) -> PyNum {
        self.bans.ban_time()
    }

    /// The action ticket (tag values) for a ban ticket.
    pub fn action_ticket(&self, t: &BanTicket, jail: &Jail) -> Ticket {
        let mut at = Ticket::new(&t.id.to_string());
        at.failures = u64::from(t.failures);
        at.time = t.time;
        at.bantime = t.ban_time_or(self.bans.ban_time()).trunc();
        at.bancount = u64::from(t.ban_count);
        at.matches = t.matches_joined();
        at.restored = t.restored;
        for (k, v) in &t.data {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            at.captures.insert(k.to_lowercase(), s);
        }
        let banned = self.bans.size();
        let banned_total = self.bans.ban_total();
        let found = jail.found.load(Ordering::Relaxed);
        let found_total = jail.found_total.load(Ordering::Relaxed);
        let db = jail.db.clone();
        let jname = jail.name.clone();
        let ip = t.id.to_string();
        at.lazy = Some(Arc::new(move |tag: &str| match tag {
            "jail.banned" => Some(banned.to_string()),
            "jail.banned_total" => Some(banned_total.to_string()),
            "jail.found" => Some(found.to_string()),
            "jail.found_total" => Some(found_total.to_string()),
            "ipmatches" | "ipjailmatches" | "ipfailures" | "ipjailfailures" => {
                let db = db.as_ref()?;
                let jail = if tag.starts_with("ipjail") {
                    Some(jname.as_str())
                } else {
                    None
                };
                let (failures, matches) = db.bans_merged(&ip, jail)?;
                Some(if tag.ends_with("matches") {
                    matches.join("\n")
                } else {
                    failures.to_string()
                })
            }
            _ => None,
        }));
        at
    }

    /// `status <jail>` actions part.
    pub fn status(&self, flavor: &str) -> Value {
        if !["short", "basic", "cymru"].contains(&flavor) {
            f2b_log!(
                WARNING,
                "actions",
                "Unsupported extended jail status flavor {}. Supported: ['short', 'basic', 'cymru']",
                logging::py_repr(flavor)
            );
        }
        let mut v = vec![
            Value::Tuple(vec![
                Value::str("Currently banned"),
                Value::Int(self.bans.size() as i64),
            ]),
            Value::Tuple(vec![
                Value::str("Total banned"),
                Value::Int(self.bans.ban_total() as i64),
            ]),
        ];
        if flavor != "short" {
            v.push(Value::Tuple(vec![
                Value::str("Banned IP list"),
                Value::List(
                    self.bans
                        .ids()
                        .iter()
                        .map(|i| Value::str(i.to_string()))
                        .collect(),
                ),
            ]));
        }
        if flavor == "cymru" {
            // like upstream without dnspython: no DNS, every list is ['error']
            f2b_log!(
                ERROR,
                "banmanager",
                "dnspython package is required but could not be imported"
            );
            for title in ["Banned ASN list", "Banned Country list", "Banned RIR list"] {
                v.push(Value::Tuple(vec![
                    Value::str(title),
                    Value::List(vec![Value::str("error")]),
                ]));
            }
        }
        Value::List(v)
    }

    /// Action failures are logged by the action library itself; nothing to add.
    fn log_failures(&self, _what: &str, _fails: Vec<f2b_action::ActionFailure>) {}

    /// `set <jail> bantime.<opt> <value>` (upstream `Jail.setBanTimeExtra`); returns
    /// the stored value.
    pub fn set_ban_time_extra(
        &mut self,
        opt: &str,
        value: &Value,
        have_db: bool,
    ) -> Result<Value, CmdError> {
        let raw = crate::error::text(value);
        let v = if raw.is_empty() {
            None
        } else {
            Some(raw.clone())
        };
        f2b_log!(
            INFO,
            "jail",
            "Set banTime.{opt} = {}",
            v.as_deref().unwrap_or("None")
        );
        let err = |e: f2b_jail::Error| CmdError::exception(e.to_string());
        let stored: Value = match opt {
            "increment" => {
                let b = v.as_deref().is_some_and(f2b_action::as_bool);
                self.extra.increment = b;
                if b && !have_db {
                    f2b_log!(
                        WARNING,
                        "jail",
                        "ban time increment is not available as long jail database is not set"
                    );
                }
                Value::Bool(b)
            }
            "overalljails" => {
                let b = v.as_deref().is_some_and(f2b_action::as_bool);
                self.extra.overall_jails = b;
                match &v {
                    Some(s) => Value::str(s.clone()),
                    None => Value::None,
                }
            }
            "maxtime" | "rndtime" => {
                let secs = match &v {
                    Some(s) => Some(crate::timeconv::str2seconds(&Value::str(s.clone()))?),
                    None => None,
                };
                let n = secs.as_ref().map(|x| match x {
                    Value::Int(i) => PyNum::Int(*i),
                    other => PyNum::Float(crate::timeconv::as_f64(other)),
                });
                if opt == "maxtime" {
                    self.extra.max_time = n;
                } else {
                    self.extra.rnd_time = n;
                }
                secs.unwrap_or(Value::None)
            }
            "factor" => {
                self.extra.set_factor(v.as_deref()).map_err(err)?;
                v.clone().map_or(Value::None, Value::Str)
            }
            "formula" => {
                self.extra.set_formula(v.as_deref()).map_err(err)?;
                v.clone().map_or(Value::None, Value::Str)
            }
            "multipliers" => {
                self.extra.set_multipliers(v.as_deref()).map_err(err)?;
                v.clone().map_or(Value::None, Value::Str)
            }
            _ => v.clone().map_or(Value::None, Value::Str),
        };
        self.extra_raw.retain(|(k, _)| k != opt);
        if v.is_some() || opt == "increment" {
            self.extra_raw.push((opt.to_string(), stored.clone()));
        }
        Ok(stored)
    }

    /// `get <jail> bantime.<opt>`.
    pub fn get_ban_time_extra(&self, opt: &str) -> Value {
        self.extra_raw
            .iter()
            .find(|(k, _)| k == opt)
            .map_or(Value::None, |(_, v)| v.clone())
    }

    /// `set <jail> action <act> <method>`: calls an action method (start, stop,
    /// flush, reload); `None` when `key` is a property.
    pub fn action_method(
        &mut self,
        act: &str,
        key: &str,
        _kwargs: Option<&Value>,
    ) -> Option<Result<Value, CmdError>> {
        let a = self.set.get_mut(act)?;
        let r = match key {
            "start" => a.start(),
            "stop" => a.stop(),
            "flush" => a.flush(),
            "reload" => a.reload(),
            _ => return None,
        };
        Some(
            r.map(Value::Bool)
                .map_err(|e| CmdError::exception(e.to_string())),
        )
    }

    /// Used when a jail is deleted without having been started.
    pub fn stop_unstarted(&mut self) {}

    /// Starts the actions (thread start).
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let f = self.set.start();
            self.log_failures("start", f);
        }
    }

    /// Bans tickets (upstream `__checkBan`); returns the number of new bans.
    pub fn check_ban(&mut self, jail: &Jail, tickets: Vec<FailTicket>) -> usize {
        let mut cnt = 0;
        for ticket in tickets {
            let ip = ticket.id.clone();
            let btime = ticket.ban_time_or(self.bans.ban_time());
            let restored = ticket.restored;
            let t_time = ticket.time;
            match self.bans.add_ban_ticket(ticket.clone(), now()) {
                AddBan::Banned => {
                    cnt += 1;
                    log_event(&Event::Ban {
                        jail: self.jail.clone(),
                        id: ip.clone(),
                        restored,
                    });
                    let bt = self.bans.get(&ip).cloned().unwrap_or(ticket);
                    let at = self.action_ticket(&bt, jail);
                    let f = self.set.ban(&at as &dyn TagSource, restored);
                    self.log_failures("execute ban", f);
                    if !restored {
                        self.ban_found(jail, &ip, btime);
                    }
                }
                AddBan::Expired => log_event(&Event::ExpiredBantime {
                    jail: self.jail.clone(),
                    id: ip,
                }),
                AddBan::AlreadyBanned { diff, .. } => {
                    let _ = t_time;
                    log_event(&Event::AlreadyBanned {
                        jail: self.jail.clone(),
                        id: ip,
                        diff,
                    });
                    if diff > 3.0 && now() > self.last_consistency_check + 3.0 {
                        self.last_consistency_check = now();
                        let f = self.set.consistency_check();
                        self.log_failures("check", f);
                    }
                }
            }
        }
        if let Some(db) = &jail.db {
            db.add_bans(&self.jail, &self.db_pending, self.bans.ban_time());
        }
        self.db_pending.clear();
        if cnt > 0 {
            f2b_log!(
                DEBUG,
                "actions",
                "Banned {cnt} / {}, {} ticket(s) in '{}'",
                self.bans.ban_total(),
                self.bans.size(),
                self.jail
            );
        }
        cnt
    }

    /// Observer `banFound`: ban time increment and the database record.
    fn ban_found(&mut self, jail: &Jail, ip: &IpAddr, btime: PyNum) {
        let Some(db) = jail.db.clone() else { return };
        let Some(mut t) = self.bans.get(ip).cloned() else {
            return;
        };
        let overall = self.extra.overall_jails;
        let jname = self.jail.clone();
        let ipstr = ip.to_string();
        let mut lookup = || db.ban_history(&ipstr, if overall { None } else { Some(&jname) });
        let mut rnd = rand01;
        match self
            .extra
            .ban_found(&self.jail, &mut t, btime, now(), &mut lookup, &mut rnd)
        {
            Ok(found) => {
                for ev in &found.events {
                    log_event(ev);
                }
                if let Some(nb) = found.new_ban_time {
                    self.bans.set_ticket_ban_time(ip, nb, t.ban_count);
                    if let Some(bt) = self.bans.get(ip).cloned() {
                        let at = self.action_ticket(&bt, jail);
                        let f = self.set.prolong(&at as &dyn TagSource, bt.restored);
                        self.log_failures("execute ban", f);
                    }
                } else {
                    self.bans.update_ticket(&t);
                }
                if found.add_to_db {
                    let stored = self.bans.get(ip).cloned().unwrap_or(t);
                    self.db_pending.push(stored);
                }
            }
            Err(e) => f2b_log!(ERROR, "observer", "ban found failed: {e}"),
        }
    }

    /// Unbans one ticket through the actions, logging `Unban` when `log`.
    fn unban_ticket(&mut self, jail: &Jail, t: &BanTicket, log: bool) {
        if log {
            log_event(&Event::Unban {
                jail: self.jail.clone(),
                id: t.id.clone(),
            });
        }
        let at = self.action_ticket(t, jail);
        let f = self.set.unban(&at as &dyn TagSource);
        self.log_failures("execute unban", f);
    }

    /// Unbans expired tickets (upstream `__checkUnBan`).
    pub fn check_unban(&mut self, jail: &Jail, max: usize) -> usize {
        let lst = self.bans.unban_list(now(), max);
        for t in &lst {
            self.unban_ticket(jail, t, true);
        }
        if !lst.is_empty() {
            f2b_log!(
                DEBUG,
                "actions",
                "Unbanned {}, {} ticket(s) in '{}'",
                lst.len(),
                self.bans.size(),
                self.jail
            );
        }
        lst.len()
    }

    /// `set <jail> banip <ip>…`: bans now; returns the count of new bans.
    pub fn add_banned_ips(&mut self, jail: &Jail, ips: &[String]) -> usize {
        let t = now();
        let tickets = ips
            .iter()
            .map(|ip| {
                let mut ft = FailTicket::new(IpAddr::parse(ip), t, vec![]);
                ft.failures = 0;
                ft.retry = 0;
                ft
            })
            .collect();
        self.check_ban(jail, tickets)
    }

    /// Unbans one id (or every banned id in a network); upstream
    /// `removeBannedIP` for a single value. `Err(msg)` when not banned.
    pub fn remove_banned_ip(
        &mut self,
        jail: &Jail,
        ip: &str,
        db: bool,
        ifexists: bool,
    ) -> Result<usize, String> {
        if db {
            if let Some(d) = &jail.db {
                d.del_ban(&self.jail, Some(ip));
            }
        }
        let id = IpAddr::parse(ip);
        if let Some(t) = self.bans.remove(&id) {
            self.unban_ticket(jail, &t, true);
            return Ok(1);
        }
        if !id.is_single() {
            let ips = self.bans.ids_in(&id);
            if !ips.is_empty() {
                let mut cnt = 0;
                for i in ips {
                    cnt += self.remove_banned_ip(jail, &i.to_string(), db, ifexists)?;
                }
                return Ok(cnt);
            }
        }
        let msg = format!("{ip} is not banned");
        log_event(&Event::NotBanned { id: ip.to_string() });
        if ifexists {
            Ok(0)
        } else {
            Err(msg)
        }
    }

    /// Unbans everything (upstream `__flushBan`): flushing actions flush, the others
    /// unban each ticket. `db` also deletes the jail's bans from the database.
    pub fn flush_bans(&mut self, jail: &Jail, db: bool, stop: bool) -> usize {
        f2b_log!(DEBUG, "actions", "  Flush ban list");
        let lst = self.bans.flush();
        if db {
            if let Some(d) = &jail.db {
                f2b_log!(DEBUG, "actions", "  Flush jail in database");
                d.del_ban(&self.jail, None);
            }
        }
        let tickets: Vec<Ticket> = lst.iter().map(|t| self.action_ticket(t, jail)).collect();
        let refs: Vec<&dyn TagSource> = tickets.iter().map(|t| t as &dyn TagSource).collect();
        let f = self.set.flush(&refs, stop, None);
        self.log_failures("flush bans in", f);
        for t in &lst {
            log_event(&Event::Unban {
                jail: self.jail.clone(),
                id: t.id.clone(),
            });
        }
        f2b_log!(
            DEBUG,
            "actions",
            "  Unbanned {}, {} ticket(s) in '{}'",
            lst.len(),
            self.bans.size(),
            self.jail
        );
        lst.len()
    }

    /// Stops the actions in reverse order (after the thread's final flush).
    fn stop_actions(&mut self) {
        for name in self.set.names().into_iter().rev() {
            let f = self.set.stop(Some(std::slice::from_ref(&name)));
            self.log_failures("stop", f);
            f2b_log!(
                DEBUG,
                "actions",
                "{}: action {} terminated",
                self.jail,
                name
            );
        }
    }

    /// `get <jail> banned [ip…]`.
    pub fn get_banned(&self, ids: &[String]) -> Value {
        let lst: Vec<String> = self.bans.ids().iter().map(|i| i.to_string()).collect();
        match ids.len() {
            0 => Value::List(lst.into_iter().map(Value::Str).collect()),
            1 => Value::Int(i64::from(lst.contains(&ids[0]))),
            _ => Value::List(
                ids.iter()
                    .map(|i| Value::Int(i64::from(lst.contains(i))))
                    .collect(),
            ),
        }
    }
}

fn rand01() -> f64 {
    // xorshift seeded from the clock: only used for bantime.rndtime jitter
    use std::cell::Cell;
    thread_local!(static S: Cell<u64> = Cell::new(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0x9E37_79B9, |d| d.as_nanos() as u64) | 1
    ));
    S.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The actions thread (upstream `Actions.run`).
pub fn run(jail: Arc<Jail>, rx: Receiver<ActionMsg>) {
    jail.actions().start();
    let mut cnt = 0usize;
    while !jail.stopping.load(Ordering::SeqCst) {
        if jail.idle.load(Ordering::SeqCst) {
            match rx.recv_timeout(Duration::from_secs_f64(SLEEP)) {
                Ok(ActionMsg::Ban(t)) => {
                    // keep the ticket for when the jail leaves idle mode
                    let _ = jail.queue.send(ActionMsg::Ban(t));
                    std::thread::sleep(Duration::from_millis(100));
                }
                Ok(ActionMsg::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            continue;
        }
        let next = jail.actions().bans.next_unban_time();
        let wt = next.map_or(SLEEP, |n| (n - now()).clamp(0.0, SLEEP));
        let mut tickets = Vec::new();
        match rx.recv_timeout(Duration::from_secs_f64(wt.max(0.001))) {
            Ok(ActionMsg::Ban(t)) => tickets.push(t),
            Ok(ActionMsg::Wake) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if jail.stopping.load(Ordering::SeqCst) {
            break;
        }
        while tickets.len() < BAN_PRECEDENCE {
            match rx.try_recv() {
                Ok(ActionMsg::Ban(t)) => tickets.push(t),
                Ok(ActionMsg::Wake) => {}
                Err(_) => break,
            }
        }
        let mut a = jail.actions();
        let bancnt = if tickets.is_empty() {
            0
        } else {
            a.check_ban(&jail, tickets)
        };
        cnt += bancnt;
        if bancnt == 0 || cnt >= BAN_PRECEDENCE {
            let max = if bancnt > 0 && bancnt * 2 < f2b_jail::UNBAN_MAX_PER_ROUND {
                bancnt * 2
            } else {
                f2b_jail::UNBAN_MAX_PER_ROUND
            };
            a.check_unban(&jail, max);
            cnt = 0;
        }
    }
    let mut a = jail.actions();
    a.flush_bans(&jail, false, true);
    a.stop_actions();
}

/// Queues the jail's current bans from the database as restored tickets (upstream
/// `Jail.restoreCurrentBans`).
pub fn restore_current_bans(jail: &Arc<Jail>) {
    let Some(db) = jail.db.clone() else { return };
    let (increment, info) = {
        let a = jail.actions();
        (
            a.extra.increment,
            f2b_db::JailInfo {
                name: jail.name.clone(),
                ban_time: a.bans.ban_time(),
                max_ban_time: a.extra.max_ban_time(a.bans.ban_time()),
            },
        )
    };
    let max_matches = jail.filter().fail.max_matches;
    let tickets = db.current_bans(&info, increment, max_matches);
    let n = now();
    for mut t in tickets {
        if jail.filter().is_ignored(&t.id, n, true) {
            continue;
        }
        t.restored = true;
        let _ = jail.queue.send(ActionMsg::Ban(t));
    }
}
