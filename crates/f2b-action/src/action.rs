//! One command action (upstream `CommandAction`): its properties, tag resolution, and the
//! per-family lifecycle (start on demand, ban with check/repair/retry, unban, flush, stop,
//! reload, prolong, consistency check).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind};
use crate::exec::{Executor, ShellCommand, ShellExecutor};
use crate::log::{discard, Level, LogSink};
use crate::tags::{self, Properties};
use crate::ticket::{Family, TagSource, Ticket};

/// Command properties every action has (upstream `clearAllParams`), all empty by default.
pub const COMMAND_PROPERTIES: [&str; 9] = [
    "actionstart",
    "actionban",
    "actionreban",
    "actionunban",
    "actioncheck",
    "actionrepair",
    "actionflush",
    "actionstop",
    "actionreload",
];

/// Upstream `_as_bool`: `1`, `on`, `true`, `yes` (any case) are true.
pub fn as_bool(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "on" | "true" | "yes")
}

/// A subset of upstream `MyTime.str2seconds`: a sum of `<number>[unit]` groups, units
/// s/m/h/d/w/mo/y and their long forms (`1h 30m`, `90`, `0.5`, `1d12h`).
pub fn parse_seconds(v: &str) -> Result<f64, Error> {
    let bad = || Error::new(ErrorKind::InvalidValue, format!("invalid time value {v:?}"));
    let s = v.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    let mut rest = s.as_str();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([' ', '+']);
        let (sign, r) = match rest.strip_prefix('-') {
            Some(r) => (-1.0, r),
            None => (1.0, rest),
        };
        let n_end = r
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(r.len());
        let num: f64 = r[..n_end].parse().map_err(|_| bad())?;
        let r = r[n_end..].trim_start();
        let u_end = r
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(r.len());
        let mult = match &r[..u_end] {
            "" | "s" | "ss" | "se" | "sec" | "second" | "seconds" => 1.0,
            "m" | "mm" | "mi" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hh" | "ho" | "hou" | "hour" | "hours" => 3600.0,
            "d" | "dd" | "da" | "day" | "days" => 86400.0,
            "w" | "ww" | "we" | "wee" | "week" | "weeks" => 604800.0,
            "mo" | "mon" | "month" | "months" => (365.0 * 3.0 + 366.0) * 86400.0 / 4.0 / 12.0,
            "y" | "yy" | "ye" | "yea" | "year" | "years" => (365.0 * 3.0 + 366.0) * 86400.0 / 4.0,
            _ => return Err(bad()),
        };
        total += sign * num * mult;
        rest = &r[u_end..];
    }
    Ok(total)
}

/// Why an invariant check may decline to repair (upstream's `beforeRepair` callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairPolicy {
    /// Always repair.
    Always,
    /// Unban: repair only with `actionrepair_on_unban`.
    Unban,
    /// Flush while stopping: repair only with `actionrepair_on_unban`.
    FlushOnStop,
}

/// A shell-command action of a jail.
pub struct CommandAction {
    jail: String,
    name: String,
    props: Properties,
    timeout: Duration,
    /// family → bit 1 started, bit 2 contains items (upstream `__started`), insertion order.
    started: Vec<(Family, u8)>,
    executed: HashMap<String, Vec<(Family, String)>>,
    subst_cache: HashMap<String, HashMap<String, String>>,
    ban_epoch: u64,
    jail_epoch: Option<Arc<AtomicU64>>,
    executor: Arc<dyn Executor>,
    allow_ipv6: bool,
    default_bantime: i64,
    log: LogSink,
}

impl std::fmt::Debug for CommandAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandAction")
            .field("jail", &self.jail)
            .field("name", &self.name)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl CommandAction {
    /// A new action `name` of `jail` with empty commands and a 60 s timeout, using the
    /// server-wide [`ShellExecutor::global`].
    pub fn new(jail: &str, name: &str) -> Self {
        let mut a = CommandAction {
            jail: jail.to_string(),
            name: name.to_string(),
            props: Properties::new(),
            timeout: Duration::from_secs(60),
            started: Vec::new(),
            executed: HashMap::new(),
            subst_cache: HashMap::new(),
            ban_epoch: 0,
            jail_epoch: None,
            executor: ShellExecutor::global(),
            allow_ipv6: true,
            default_bantime: 600,
            log: discard(),
        };
        a.clear_all_params();
        a
    }

    /// Builds an action from a `multi-set <jail> action <name> [[key, value], …]` list.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        jail: &str,
        name: &str,
        pairs: &[(K, V)],
    ) -> Result<Self, Error> {
        let mut a = CommandAction::new(jail, name);
        for (k, v) in pairs {
            a.set(k.as_ref(), v.as_ref())?;
        }
        Ok(a)
    }

    /// Replaces the executor (e.g. a namespace-prefixing or batching one).
    pub fn set_executor(&mut self, executor: Arc<dyn Executor>) {
        self.executor = executor;
    }

    /// Sets where log messages go.
    pub fn set_log(&mut self, log: LogSink) {
        self.log = log;
    }

    /// Whether IPv6 is allowed (`allowipv6`): decides if conditional actions also work for
    /// `inet6`.
    pub fn set_allow_ipv6(&mut self, allow: bool) {
        self.allow_ipv6 = allow;
    }

    /// The jail's ban time, used for `<bantime>` in start/stop/flush commands (their
    /// "empty" ticket has no ban time of its own; upstream default 600).
    pub fn set_default_bantime(&mut self, secs: i64) {
        self.default_bantime = secs;
    }

    /// Shares the jail-wide ban epoch counter (incremented on every repair).
    pub fn set_jail_epoch(&mut self, epoch: Arc<AtomicU64>) {
        self.jail_epoch = Some(epoch);
    }

    /// Resets the commands to empty and the timeout to 60 s (used on reload); other
    /// properties stay.
    pub fn clear_all_params(&mut self) {
        self.props.set("timeout", "60");
        self.timeout = Duration::from_secs(60);
        for p in COMMAND_PROPERTIES {
            self.props.set(p, "");
        }
        self.invalidate_caches();
    }

    /// The action name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The properties (for `get <jail> action <act> <key>`).
    pub fn properties(&self) -> &Properties {
        &self.props
    }

    /// One property value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key)
    }

    /// Sets a property (`set <jail> action <act> <key> <value>`): `bantime` is ignored,
    /// `timeout` is parsed as a time value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        match key {
            "bantime" => return Ok(()),
            "timeout" => {
                let secs = parse_seconds(value)?;
                self.timeout = Duration::from_secs_f64(secs.max(0.0));
                let shown = if secs.fract() == 0.0 && !value.contains('.') {
                    format!("{}", secs as i64)
                } else {
                    tags_float(secs)
                };
                self.props.set(key, &shown);
            }
            _ => self.props.set(key, value),
        }
        self.invalidate_caches();
        Ok(())
    }

    /// Removes a property.
    pub fn unset(&mut self, key: &str) {
        self.props.remove(key);
        self.invalidate_caches();
    }

    fn invalidate_caches(&mut self) {
        self.subst_cache.clear();
        self.executed.clear();
    }

    /// The command timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// This action's ban epoch (bumped by repairs; tickets of older epochs get re-banned).
    pub fn ban_epoch(&self) -> u64 {
        self.ban_epoch
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.props.get(key).map(as_bool)
    }

    fn nonempty(&self, key: &str) -> bool {
        self.props.get(key).is_some_and(|v| !v.is_empty())
    }

    /// True when some property is family-conditional (`key?family=…`).
    pub fn has_cond_section(&self) -> bool {
        self.props.keys().any(|k| match k.split_once('?') {
            Some((n, c)) => {
                !n.is_empty()
                    && n.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
                    && c.starts_with("family=")
            }
            None => false,
        })
    }

    /// The families this action works for: `inet4` (+ `inet6`) when conditional, else `Any`.
    pub fn families(&self) -> Vec<Family> {
        if self.has_cond_section() {
            if self.allow_ipv6 {
                vec![Family::Inet4, Family::Inet6]
            } else {
                vec![Family::Inet4]
            }
        } else {
            vec![Family::Any]
        }
    }

    /// `actionstart_on_demand`, defaulting to "has conditional options".
    pub fn start_on_demand(&self) -> bool {
        self.flag("actionstart_on_demand")
            .unwrap_or_else(|| self.has_cond_section())
    }

    /// `norestored`: skip this action for bans restored from the database.
    pub fn norestored(&self) -> bool {
        self.flag("norestored").unwrap_or(false)
    }

    /// `actionrepair_on_unban`.
    pub fn repair_on_unban(&self) -> bool {
        self.flag("actionrepair_on_unban").unwrap_or(false)
    }

    /// True when `actionprolong` is set and not blank.
    pub fn prolongable(&self) -> bool {
        self.props
            .get("actionprolong")
            .is_some_and(|v| !v.trim().is_empty())
    }

    /// True when `actionflush` is set.
    pub fn has_flush(&self) -> bool {
        self.nonempty("actionflush")
    }

    fn started_get(&self, f: Family) -> u8 {
        self.started
            .iter()
            .find(|(k, _)| *k == f)
            .map_or(0, |(_, v)| *v)
    }

    fn started_set(&mut self, f: Family, v: u8) {
        match self.started.iter_mut().find(|(k, _)| *k == f) {
            Some(slot) => slot.1 = v,
            None => self.started.push((f, v)),
        }
    }

    /// Families currently started, with their state bits (1 started, 2 has bans).
    pub fn started_families(&self) -> Vec<(Family, u8)> {
        self.started.clone()
    }

    /// Statically resolves a tag such as `<actionban>` for a family (properties, recursive,
    /// `?family=` values preferred, `<br>`/`<sp>`/hostnames); dynamic tags stay literal.
    pub fn resolve_static(&mut self, query: &str, family: Family) -> Result<String, Error> {
        let cond = family.conditional();
        if !self.subst_cache.contains_key(&cond) {
            let s = tags::substitute_recursive(&self.props, &cond)?;
            self.subst_cache.insert(cond.clone(), s);
        }
        tags::replace_static(query, &self.subst_cache[&cond], &cond)
    }

    /// Upstream `_getOperation`: the static resolution of an operation tag with `<family>`
    /// filled in (for families other than `Any`).
    pub fn resolve_operation(&mut self, tag: &str, family: Family) -> Result<String, Error> {
        let cmd = self.resolve_static(tag, family)?;
        if family == Family::Any || !cmd.contains('<') {
            return Ok(cmd);
        }
        Ok(tags::replace_dynamic(&cmd, &FamilyOnly(family)).script)
    }

    /// The full command for a ticket operation (`<actionban>`, `<actionunban>`, …): static
    /// resolution for the ticket's family, then the dynamic per-ticket tags.
    pub fn resolve_ticket_command(
        &mut self,
        tag: &str,
        ticket: &dyn TagSource,
    ) -> Result<ShellCommand, Error> {
        let s = self.resolve_static(tag, ticket.family())?;
        Ok(tags::replace_dynamic(&s, ticket))
    }

    fn exec(&self, cmd: &ShellCommand) -> bool {
        if cmd.is_empty() {
            return true;
        }
        let out = self.executor.execute(cmd, self.timeout);
        let log = &self.log;
        // Upstream prefixes every line about one command with the hex id of the command
        // object, so the lines of concurrent commands can be told apart.
        let id = command_id();
        match out.failure_message() {
            None => {
                log(Level::Debug, &format!("{id:x} -- exec: {}", cmd.script));
                true
            }
            Some(msg) => {
                log(Level::Error, &format!("{id:x} -- exec: {}", cmd.script));
                for (name, data) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                    for l in String::from_utf8_lossy(data).lines() {
                        // Python's %r of the line, as upstream logs it
                        let shown = f2b_protocol::Value::str(l).repr();
                        log(Level::Error, &format!("{id:x} -- {name}: {shown}"));
                    }
                }
                log(Level::Error, &format!("{id:x} -- {msg}"));
                false
            }
        }
    }

    fn executed_others(&self, tag: &str, family: Family) -> Vec<String> {
        self.executed
            .get(tag)
            .map(|v| {
                v.iter()
                    .filter(|(f, _)| *f != family)
                    .map(|(_, c)| c.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn set_executed(&mut self, tag: &str, family: Family, cmd: Option<String>) {
        let entry = self.executed.entry(tag.to_string()).or_default();
        match cmd.filter(|c| !c.is_empty()) {
            Some(c) => match entry.iter_mut().find(|(f, _)| *f == family) {
                Some(slot) => slot.1 = c,
                None => entry.push((family, c)),
            },
            None => {
                if let Some(i) = entry.iter().position(|(f, _)| *f == family) {
                    let (_, c) = entry.remove(i);
                    entry.retain(|(_, v)| *v != c);
                }
            }
        }
    }

    /// Upstream `_executeOperation`: runs `tag` for each family (default: all started ones),
    /// skipping a command text already executed for another family.
    fn execute_operation(
        &mut self,
        tag: &str,
        operation: &str,
        families: Option<Vec<Family>>,
        mut after: impl FnMut(&mut Self, Family, bool),
    ) -> Result<bool, Error> {
        let families = families.unwrap_or_else(|| {
            self.started
                .iter()
                .filter(|(_, v)| *v != 0)
                .map(|(f, _)| *f)
                .collect()
        });
        let mut res = true;
        let mut err = "Script error".to_string();
        for fam in families {
            match self.resolve_operation(tag, fam) {
                Ok(cmd) => {
                    let mut ret = true;
                    if !cmd.is_empty() && !self.executed_others(tag, fam).contains(&cmd) {
                        let mut empty = Ticket::empty(fam, now());
                        empty.bantime = self.default_bantime;
                        let real = tags::replace_dynamic(&cmd, &empty);
                        ret = self.exec(&real);
                        res &= ret;
                    }
                    after(self, fam, ret);
                    self.set_executed(tag, fam, ret.then_some(cmd));
                }
                Err(e) => {
                    res = false;
                    err = e.to_string();
                }
            }
        }
        if !res {
            return Err(Error::new(
                ErrorKind::Command,
                format!(
                    "Error {operation} action {}/{}: {err:?}",
                    self.jail, self.name
                ),
            ));
        }
        Ok(res)
    }

    /// Runs `actionstart` at jail start (a no-op for start-on-demand actions, which start per
    /// family at their first ban).
    pub fn start(&mut self) -> Result<bool, Error> {
        self.start_family(None, false)
    }

    fn start_family(&mut self, family: Option<Family>, force: bool) -> Result<bool, Error> {
        if self.start_on_demand() {
            if !force {
                return Ok(true);
            }
        } else if !force && family.is_some_and(|f| self.started_get(f) != 0) {
            return Ok(true);
        }
        let fams = family.map_or_else(|| self.families(), |f| vec![f]);
        self.execute_operation("<actionstart>", "starting", Some(fams), |a, f, ok| {
            if ok {
                a.set_executed("<actionstop>", f, None);
                a.started_set(f, 1);
            }
        })
    }

    /// Bans a ticket (`actionban`, or `actionreban` when `reban` and it is set), starting the
    /// family first for start-on-demand actions.
    pub fn ban(&mut self, ticket: &dyn TagSource) -> Result<(), Error> {
        self.ban_with("<actionban>", ticket)
    }

    /// Re-bans a ticket after a repair (`actionreban`, else `actionban`).
    pub fn reban(&mut self, ticket: &dyn TagSource) -> Result<(), Error> {
        let tag = if self.nonempty("actionreban") {
            "<actionreban>"
        } else {
            "<actionban>"
        };
        self.ban_with(tag, ticket)
    }

    fn ban_with(&mut self, tag: &str, ticket: &dyn TagSource) -> Result<(), Error> {
        let family = ticket.family();
        if self.start_on_demand() && self.started_get(family) == 0 {
            self.start_family(Some(family), true)?;
        }
        if !self.process_cmd(tag, ticket)? {
            return Err(Error::new(
                ErrorKind::Command,
                format!("Error banning {}", ticket.tag("ip").unwrap_or_default()),
            ));
        }
        let v = self.started_get(family) | 3;
        self.started_set(family, v);
        Ok(())
    }

    /// Runs `actionprolong` for a ticket whose ban time was increased.
    pub fn prolong(&mut self, ticket: &dyn TagSource) -> Result<(), Error> {
        if !self.process_cmd("<actionprolong>", ticket)? {
            return Err(Error::new(
                ErrorKind::Command,
                format!("Error prolonging {}", ticket.tag("ip").unwrap_or_default()),
            ));
        }
        Ok(())
    }

    /// Unbans a ticket; only runs when the ticket's family has had a ban.
    pub fn unban(&mut self, ticket: &dyn TagSource) -> Result<(), Error> {
        if self.started_get(ticket.family()) & 2 != 0
            && !self.process_cmd("<actionunban>", ticket)?
        {
            return Err(Error::new(
                ErrorKind::Command,
                format!("Error unbanning {}", ticket.tag("ip").unwrap_or_default()),
            ));
        }
        Ok(())
    }

    /// Runs `actionflush` for every family holding bans (instead of per-ticket unbans).
    pub fn flush(&mut self) -> Result<bool, Error> {
        let fams: Vec<Family> = self
            .started
            .iter()
            .filter(|(_, v)| v & 3 == 3)
            .map(|(f, _)| *f)
            .collect();
        if fams.is_empty() {
            return Ok(true);
        }
        self.execute_operation("<actionflush>", "flushing", Some(fams), |a, f, ok| {
            let v = a.started_get(f);
            if ok && v != 0 {
                a.started_set(f, v & !2);
            }
        })
    }

    /// Runs `actionstop` for every started family.
    pub fn stop(&mut self) -> Result<bool, Error> {
        self.stop_family(None)
    }

    fn stop_family(&mut self, family: Option<Family>) -> Result<bool, Error> {
        let fams = match family {
            None => {
                let f: Vec<Family> = self
                    .started
                    .iter()
                    .filter(|(_, v)| *v != 0)
                    .map(|(f, _)| *f)
                    .collect();
                if f.is_empty() {
                    return Ok(true);
                }
                self.started.clear();
                f
            }
            Some(f) => {
                if !self.started.iter().any(|(k, _)| *k == f) {
                    return Ok(true);
                }
                self.started_set(f, 0);
                vec![f]
            }
        };
        self.execute_operation("<actionstop>", "stopping", Some(fams), |a, f, ok| {
            if ok {
                a.set_executed("<actionstart>", f, None);
            }
        })
    }

    /// Runs `actionreload` for the started families.
    pub fn reload(&mut self) -> Result<bool, Error> {
        self.execute_operation("<actionreload>", "reloading", None, |_, _, _| {})
    }

    /// Runs the invariant check (with repair) for every started family; false if some family
    /// stayed broken (it is then marked not started).
    pub fn consistency_check(&mut self, policy: RepairPolicy) -> Result<bool, Error> {
        let mut ret = true;
        if self.nonempty("actioncheck") {
            for (fam, st) in self.started.clone() {
                // only "unable to restore" (0) resets; a declined repair (-1) does not
                if st != 0 && self.invariant_check(fam, policy, true)? == 0 {
                    self.started_set(fam, 0);
                    self.set_executed("<actionstart>", fam, None);
                    ret = false;
                }
            }
        }
        Ok(ret)
    }

    fn before_repair(&self, policy: RepairPolicy) -> bool {
        let what = match policy {
            RepairPolicy::Always => return true,
            RepairPolicy::Unban => "Unban",
            RepairPolicy::FlushOnStop => "Flush",
        };
        if self.repair_on_unban() {
            return true;
        }
        (self.log)(
            Level::Error,
            &format!("Invariant check failed. {what} is impossible."),
        );
        false
    }

    fn invalidate_ban_epoch(&mut self) {
        self.ban_epoch = match &self.jail_epoch {
            Some(e) => e.fetch_add(1, Ordering::SeqCst) + 1,
            None => self.ban_epoch + 1,
        };
    }

    /// Upstream `_invariantCheck`: 1 sane (or restored), 0 unable to restore, -1 repair
    /// declined by the policy.
    fn invariant_check(
        &mut self,
        family: Family,
        policy: RepairPolicy,
        force_start: bool,
    ) -> Result<i8, Error> {
        if !force_start && !self.started.iter().any(|(f, _)| *f == family) {
            return Ok(1);
        }
        let check = self.resolve_operation("<actioncheck>", family)?;
        let check = ShellCommand::plain(check);
        if check.is_empty() || self.exec(&check) {
            return Ok(1);
        }
        if !self.before_repair(policy) {
            return Ok(-1);
        }
        (self.log)(
            Level::Error,
            "Invariant check failed. Trying to restore a sane environment",
        );
        self.invalidate_ban_epoch();
        let repair = self.resolve_operation("<actionrepair>", family)?;
        if !repair.is_empty() {
            if !self.exec(&ShellCommand::plain(repair)) {
                self.started_set(family, 0);
                (self.log)(Level::Critical, "Unable to restore environment");
                return Ok(0);
            }
            self.started_set(family, 1);
        } else {
            // errors of stop are bypassed: start/check decide
            let _ = self.stop_family(Some(family));
            let force = force_start || !self.start_on_demand();
            self.start_family(Some(family), force)?;
        }
        if self.started_get(family) != 0 && !self.exec(&check) {
            (self.log)(Level::Critical, "Unable to restore environment");
            return Ok(0);
        }
        Ok(1)
    }

    /// Upstream `_processCmd`: run a ticket command; after a failure run the invariant check
    /// (repairing if needed) and retry once.
    fn process_cmd(&mut self, tag: &str, ticket: &dyn TagSource) -> Result<bool, Error> {
        let family = ticket.family();
        let mut repcnt = 0;
        loop {
            if repcnt > 0 && self.nonempty("actioncheck") {
                let (policy, force) = if tag == "<actionunban>" {
                    (RepairPolicy::Unban, false)
                } else {
                    (RepairPolicy::Always, true)
                };
                if self.invariant_check(family, policy, force)? != 1 {
                    return Ok(false);
                }
            }
            let real = self.resolve_ticket_command(tag, ticket)?;
            let ret = self.exec(&real);
            repcnt += 1;
            if ret || repcnt > 1 {
                return Ok(ret);
            }
        }
    }
}

fn tags_float(v: f64) -> String {
    crate::ticket::py_float(v)
}

/// Dynamic source carrying only `<family>` (upstream `_getOperation`).
struct FamilyOnly(Family);

impl TagSource for FamilyOnly {
    fn tag(&self, name: &str) -> Option<String> {
        (name == "family").then(|| self.0.as_str().to_string())
    }
    fn capture(&self, _name: &str) -> Option<String> {
        None
    }
    fn family(&self) -> Family {
        self.0
    }
}

/// A distinct id per executed command, shaped like the Python object ids upstream logs.
fn command_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0x7f00_0000_0000);
    NEXT.fetch_add(0x30, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_seconds_cases() {
        let cases = [
            ("60", 60.0),
            ("1m", 60.0),
            ("1h 30m", 5400.0),
            ("1d12h", 129600.0),
            ("0.5", 0.5),
            ("2 minutes", 120.0),
        ];
        for (s, want) in cases {
            assert_eq!(parse_seconds(s).unwrap(), want, "{s}");
        }
        assert!(parse_seconds("abc").is_err());
        assert!(parse_seconds("").is_err());
    }

    #[test]
    fn cond_section_detection() {
        let mut a = CommandAction::new("j", "a");
        assert!(!a.has_cond_section());
        assert_eq!(a.families(), vec![Family::Any]);
        a.set("addr_set?family=inet6", "x").unwrap();
        assert!(a.has_cond_section());
        assert!(a.start_on_demand());
        a.set("actionstart_on_demand", "false").unwrap();
        assert!(!a.start_on_demand());
        a.set_allow_ipv6(false);
        assert_eq!(a.families(), vec![Family::Inet4]);
    }
}
