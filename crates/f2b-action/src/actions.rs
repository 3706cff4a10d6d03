//! The ordered actions of one jail (the action half of upstream `Actions`): start all,
//! ban/unban through every action (skipping `norestored` ones for restored bans), flush or
//! per-ticket unban at stop, stop in reverse order, and reload. The ban list itself belongs
//! to the jail; callers pass the tickets in.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::action::{CommandAction, RepairPolicy};
use crate::error::{Error, ErrorKind};
use crate::exec::{Executor, ShellExecutor};
use crate::log::{discard, Level, LogSink};
use crate::ticket::TagSource;

/// A failure of one action in a multi-action operation (logged by upstream, never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFailure {
    /// The action name.
    pub action: String,
    /// What happened.
    pub error: Error,
}

/// The actions of a jail, in configuration order.
pub struct ActionSet {
    jail: String,
    actions: Vec<CommandAction>,
    executor: Arc<dyn Executor>,
    log: LogSink,
    allow_ipv6: bool,
    bantime: i64,
    epoch: Arc<AtomicU64>,
    /// During a reload: (re-added existing actions, newly added actions).
    reloading: Option<(Vec<String>, Vec<String>)>,
}

impl std::fmt::Debug for ActionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSet")
            .field("jail", &self.jail)
            .field("actions", &self.names())
            .finish_non_exhaustive()
    }
}

impl ActionSet {
    /// An empty set for `jail`, using the server-wide executor.
    pub fn new(jail: &str) -> Self {
        ActionSet {
            jail: jail.to_string(),
            actions: Vec::new(),
            executor: ShellExecutor::global(),
            log: discard(),
            allow_ipv6: true,
            bantime: 600,
            epoch: Arc::new(AtomicU64::new(0)),
            reloading: None,
        }
    }

    /// Uses `executor` for all (current and future) actions.
    pub fn set_executor(&mut self, executor: Arc<dyn Executor>) {
        for a in &mut self.actions {
            a.set_executor(executor.clone());
        }
        self.executor = executor;
    }

    /// Sends log messages of all actions to `log`.
    pub fn set_log(&mut self, log: LogSink) {
        for a in &mut self.actions {
            a.set_log(log.clone());
        }
        self.log = log;
    }

    /// Sets `allowipv6` for all actions.
    pub fn set_allow_ipv6(&mut self, allow: bool) {
        for a in &mut self.actions {
            a.set_allow_ipv6(allow);
        }
        self.allow_ipv6 = allow;
    }

    /// Sets the jail's ban time (`set <jail> bantime`), used for `<bantime>` in
    /// start/stop/flush commands.
    pub fn set_ban_time(&mut self, secs: i64) {
        for a in &mut self.actions {
            a.set_default_bantime(secs);
        }
        self.bantime = secs;
    }

    /// The jail-wide ban epoch (bumped by repairs); bans of older epochs need a re-ban.
    pub fn ban_epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Action names in order.
    pub fn names(&self) -> Vec<String> {
        self.actions.iter().map(|a| a.name().to_string()).collect()
    }

    /// The action called `name`.
    pub fn get(&self, name: &str) -> Option<&CommandAction> {
        self.actions.iter().find(|a| a.name() == name)
    }

    /// The action called `name`, for `set <jail> action <name> <key> <value>`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut CommandAction> {
        self.actions.iter_mut().find(|a| a.name() == name)
    }

    /// `set <jail> addaction <name>`: adds an empty action. During a reload an existing
    /// action is kept (its commands cleared, to be set again by the stream).
    pub fn add(&mut self, name: &str) -> Result<&mut CommandAction, Error> {
        if let Some(i) = self.actions.iter().position(|a| a.name() == name) {
            let Some(reloading) = self.reloading.as_mut() else {
                return Err(Error::new(
                    ErrorKind::UnknownAction,
                    format!("Action {name} already exists"),
                ));
            };
            reloading.0.push(name.to_string());
            let a = &mut self.actions[i];
            a.clear_all_params();
            return Ok(a);
        }
        let mut a = CommandAction::new(&self.jail, name);
        a.set_executor(self.executor.clone());
        a.set_log(self.log.clone());
        a.set_allow_ipv6(self.allow_ipv6);
        a.set_default_bantime(self.bantime);
        a.set_jail_epoch(self.epoch.clone());
        if let Some(r) = self.reloading.as_mut() {
            r.1.push(name.to_string());
        }
        self.actions.push(a);
        Ok(self.actions.last_mut().expect("just pushed"))
    }

    /// `multi-set <jail> action <name> [[key, value], …]`.
    pub fn set_pairs<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        name: &str,
        pairs: &[(K, V)],
    ) -> Result<(), Error> {
        let a = self.get_mut(name).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownAction,
                format!("Invalid Action name: {name}"),
            )
        })?;
        for (k, v) in pairs {
            a.set(k.as_ref(), v.as_ref())?;
        }
        Ok(())
    }

    fn fail(&self, out: &mut Vec<ActionFailure>, what: &str, action: &str, e: Error) {
        (self.log)(
            Level::Error,
            &format!(
                "Failed to {what} jail '{}' action '{action}': {e}",
                self.jail
            ),
        );
        out.push(ActionFailure {
            action: action.to_string(),
            error: e,
        });
    }

    /// Starts every action (jail start).
    pub fn start(&mut self) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            if let Err(e) = self.actions[i].start() {
                let n = self.actions[i].name().to_string();
                self.fail(&mut out, "start", &n, e);
            }
        }
        out
    }

    fn each(
        &mut self,
        what: &str,
        ticket: &dyn TagSource,
        restored: bool,
        only_prolongable: bool,
        mut op: impl FnMut(&mut CommandAction, &dyn TagSource) -> Result<(), Error>,
    ) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            let a = &self.actions[i];
            if (restored && a.norestored()) || (only_prolongable && !a.prolongable()) {
                continue;
            }
            if let Err(e) = op(&mut self.actions[i], ticket) {
                let n = self.actions[i].name().to_string();
                self.fail(&mut out, what, &n, e);
            }
        }
        out
    }

    /// Bans through every action; `restored` skips `norestored` actions.
    pub fn ban(&mut self, ticket: &dyn TagSource, restored: bool) -> Vec<ActionFailure> {
        self.each("execute ban", ticket, restored, false, |a, t| a.ban(t))
    }

    /// Re-bans through the actions whose epoch is newer than `ticket_epoch` (all when `None`).
    pub fn reban(
        &mut self,
        ticket: &dyn TagSource,
        ticket_epoch: Option<u64>,
    ) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            if ticket_epoch.is_some_and(|e| self.actions[i].ban_epoch() <= e) {
                continue;
            }
            if let Err(e) = self.actions[i].reban(ticket) {
                let n = self.actions[i].name().to_string();
                self.fail(&mut out, "execute reban", &n, e);
                break;
            }
        }
        out
    }

    /// Runs `actionprolong` on the prolongable actions (skipping `norestored` for restored).
    pub fn prolong(&mut self, ticket: &dyn TagSource, restored: bool) -> Vec<ActionFailure> {
        self.each("execute prolong", ticket, restored, true, |a, t| {
            a.prolong(t)
        })
    }

    /// Unbans through every action.
    pub fn unban(&mut self, ticket: &dyn TagSource) -> Vec<ActionFailure> {
        self.each("execute unban", ticket, false, false, |a, t| a.unban(t))
    }

    /// Runs the invariant checks of all actions (upstream does this when an address is
    /// reported again long after its ban).
    pub fn consistency_check(&mut self) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            if let Err(e) = self.actions[i].consistency_check(RepairPolicy::Always) {
                let n = self.actions[i].name().to_string();
                self.fail(&mut out, "check", &n, e);
            }
        }
        out
    }

    /// Removes all bans: actions with `actionflush` flush once per family, the others unban
    /// every ticket. `stop` is true when the jail stops (repairs are then declined unless
    /// `actionrepair_on_unban`). Only the actions in `subset` when given.
    pub fn flush(
        &mut self,
        tickets: &[&dyn TagSource],
        stop: bool,
        subset: Option<&[String]>,
    ) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        let mut unban_idx = Vec::new();
        for i in 0..self.actions.len() {
            let name = self.actions[i].name().to_string();
            if subset.is_some_and(|s| !s.contains(&name)) {
                continue;
            }
            if self.actions[i].has_flush() {
                (self.log)(
                    Level::Notice,
                    &format!("[{}] Flush ticket(s) with {name}", self.jail),
                );
                match self.actions[i].flush() {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        self.fail(&mut out, "flush bans in", &name, e);
                        (self.log)(Level::Info, "No flush occurred, do consistency check");
                        let policy = if stop {
                            RepairPolicy::FlushOnStop
                        } else {
                            RepairPolicy::Always
                        };
                        if let Err(e) = self.actions[i].consistency_check(policy) {
                            self.fail(&mut out, "check", &name, e);
                        }
                        continue;
                    }
                }
            }
            unban_idx.push(i);
        }
        for t in tickets {
            for &i in &unban_idx {
                if let Err(e) = self.actions[i].unban(*t) {
                    let n = self.actions[i].name().to_string();
                    self.fail(&mut out, "execute unban", &n, e);
                }
            }
        }
        out
    }

    /// Stops the actions in reverse order and removes them (only `subset` when given).
    pub fn stop(&mut self, subset: Option<&[String]>) -> Vec<ActionFailure> {
        let mut out = Vec::new();
        for i in (0..self.actions.len()).rev() {
            let name = self.actions[i].name().to_string();
            if subset.is_some_and(|s| !s.contains(&name)) {
                continue;
            }
            if let Err(e) = self.actions[i].stop() {
                self.fail(&mut out, "stop", &name, e);
            }
            self.actions.remove(i);
        }
        out
    }

    /// Jail stop: flush (or unban each of `tickets`), then stop all actions in reverse order.
    pub fn flush_and_stop(&mut self, tickets: &[&dyn TagSource]) -> Vec<ActionFailure> {
        let mut out = self.flush(tickets, true, None);
        out.extend(self.stop(None));
        out
    }

    /// Starts a reload: the following [`ActionSet::add`] calls keep existing actions.
    pub fn begin_reload(&mut self) {
        self.reloading = Some((Vec::new(), Vec::new()));
    }

    /// Ends a reload: re-added actions run `actionreload`; actions not re-added unban
    /// `tickets` (or flush) and stop, and are removed. Actions new in this reload are
    /// started (upstream 1.0.2 drops them instead: they are not in its reload list).
    pub fn end_reload(&mut self, tickets: &[&dyn TagSource]) -> Vec<ActionFailure> {
        let Some((kept, added)) = self.reloading.take() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            let name = self.actions[i].name().to_string();
            let res = if kept.contains(&name) {
                self.actions[i].reload().map(|_| ())
            } else if added.contains(&name) {
                self.actions[i].start().map(|_| ())
            } else {
                Ok(())
            };
            if let Err(e) = res {
                self.fail(&mut out, "reload", &name, e);
            }
        }
        let removed: Vec<String> = self
            .names()
            .into_iter()
            .filter(|n| !kept.contains(n) && !added.contains(n))
            .collect();
        if !removed.is_empty() {
            out.extend(self.flush(tickets, true, Some(&removed)));
            out.extend(self.stop(Some(&removed)));
        }
        out
    }
}
