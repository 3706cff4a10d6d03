//! The server state (upstream `server.py` `Server`): the jails in insertion order,
//! the database, the reload bookkeeping and shutdown. Commands reach it through
//! [`crate::transmitter`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use f2b_protocol::Value;

use crate::control::StopHandle;
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::f2b_log;
use crate::jail::Jail;

/// The server.
pub struct Server {
    jails: Mutex<Vec<Arc<Jail>>>,
    db: Mutex<Option<Arc<Db>>>,
    /// Jails being reloaded: `true` until re-added by the stream, `false` after.
    reload_state: Mutex<HashMap<String, bool>>,
    /// Serialises commands like upstream's single-threaded dispatcher.
    pub(crate) cmd_lock: Mutex<()>,
    quitting: AtomicBool,
    stop: Mutex<Option<StopHandle>>,
    stacksize: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// An empty server.
    pub fn new() -> Server {
        Server {
            jails: Mutex::new(Vec::new()),
            db: Mutex::new(None),
            reload_state: Mutex::new(HashMap::new()),
            cmd_lock: Mutex::new(()),
            quitting: AtomicBool::new(false),
            stop: Mutex::new(None),
            stacksize: AtomicUsize::new(0),
        }
    }

    /// Registers the control socket's stop handle (quit stops the socket).
    pub fn set_stop_handle(&self, h: StopHandle) {
        *lock(&self.stop) = Some(h);
    }

    /// True once shutdown began (new commands answer `['SHUTDOWN']`).
    pub fn is_quitting(&self) -> bool {
        self.quitting.load(Ordering::SeqCst)
    }

    /// The jail called `name`.
    pub fn jail(&self, name: &str) -> Result<Arc<Jail>, CmdError> {
        lock(&self.jails)
            .iter()
            .find(|j| j.name == name)
            .cloned()
            .ok_or_else(|| CmdError::unknown_jail(name))
    }

    /// All jails in insertion order.
    pub fn jails(&self) -> Vec<Arc<Jail>> {
        lock(&self.jails).clone()
    }

    /// The database, if enabled.
    pub fn db(&self) -> Option<Arc<Db>> {
        lock(&self.db).clone()
    }

    /// `add <jail> [backend]`.
    pub fn add_jail(&self, name: &str, backend: &str) -> Result<(), CmdError> {
        let mut addflg = true;
        let reloading = lock(&self.reload_state).get(name).copied() == Some(true);
        if reloading {
            if let Ok(jail) = self.jail(name) {
                if jail.backend == backend {
                    addflg = false;
                    f2b_log!(INFO, "server", "Reload jail '{name}'");
                    lock(&self.reload_state).insert(name.to_string(), false);
                } else {
                    f2b_log!(
                        INFO,
                        "server",
                        "Restart jail '{name}' (reason: '{}' != '{backend}')",
                        jail.backend
                    );
                    self.del_jail(name, true, true)?;
                    lock(&self.reload_state).remove(name);
                }
            }
        }
        if addflg {
            if self.jail(name).is_ok() {
                return Err(CmdError::duplicate_jail(name));
            }
            let jail = Jail::new(name, backend, self.db()).map_err(CmdError::value)?;
            lock(&self.jails).push(jail);
        }
        if let Some(db) = self.db() {
            db.add_jail(name);
        }
        Ok(())
    }

    /// Stops (when `stop`) and removes (when `join`) a jail.
    pub fn del_jail(&self, name: &str, stop: bool, join: bool) -> Result<(), CmdError> {
        let jail = self.jail(name)?;
        if join || jail.is_alive() {
            jail.stop(stop, join);
        }
        if join {
            if let Some(db) = self.db() {
                db.del_jail(name);
            }
            lock(&self.jails).retain(|j| j.name != name);
        }
        Ok(())
    }

    /// `start <jail>`.
    pub fn start_jail(&self, name: &str) -> Result<(), CmdError> {
        let jail = self.jail(name)?;
        if !jail.is_alive() {
            jail.start();
        } else if lock(&self.reload_state).remove(name).is_some() {
            f2b_log!(INFO, "server", "Jail '{name}' reloaded");
        }
        if jail.idle.load(Ordering::SeqCst) {
            jail.set_idle(false);
        }
        Ok(())
    }

    /// `stop <jail>`.
    pub fn stop_jail(&self, name: &str) -> Result<(), CmdError> {
        self.del_jail(name, true, true)
    }

    /// `stop --all` (and part of shutdown).
    pub fn stop_all_jails(&self) {
        f2b_log!(INFO, "server", "Stopping all jails");
        let names: Vec<String> = self.jails().iter().map(|j| j.name.clone()).collect();
        for n in &names {
            let _ = self.del_jail(n, true, false);
        }
        for n in &names {
            let _ = self.del_jail(n, false, true);
        }
    }

    /// `reload` begin/end (upstream `reloadJails`).
    pub fn reload_jails(&self, name: &str, opts: &[String], begin: bool) -> Result<(), CmdError> {
        if begin {
            {
                let rs = lock(&self.reload_state);
                if !rs.is_empty() && (name == "--all" || rs.get(name) == Some(&true)) {
                    return Err(CmdError::value("Reload already in progress"));
                }
            }
            if name != "--all" {
                f2b_log!(INFO, "server", "Reload jail {name}");
                let exists = self.jail(name).is_ok();
                if !opts.iter().any(|o| o == "--if-exists") || exists {
                    self.jail(name)?;
                    if opts.iter().any(|o| o == "--unban") {
                        self.set_unban_ip(Some(name), None, true)?;
                    }
                    if opts.iter().any(|o| o == "--restart") {
                        self.stop_jail(name)?;
                    }
                }
            } else {
                f2b_log!(INFO, "server", "Reload all jails");
                if opts.iter().any(|o| o == "--unban") {
                    self.set_unban_ip(None, None, true)?;
                }
                if opts.iter().any(|o| o == "--restart") {
                    self.stop_all_jails();
                }
            }
            for jail in self.jails() {
                if name == "--all" || jail.name == name {
                    jail.set_idle(true);
                    lock(&self.reload_state).insert(jail.name.clone(), true);
                    jail.filter().reload_begin();
                    jail.actions().set.begin_reload();
                }
            }
        } else {
            // the configuration was read again: drop that code from the resident set later
            crate::memory::schedule_release(std::time::Duration::from_secs(2));
            let mut deljails = Vec::new();
            for jail in self.jails() {
                if lock(&self.reload_state).contains_key(&jail.name) {
                    deljails.push(jail.name.clone());
                } else {
                    jail.filter().reload_end();
                    let mut a = jail.actions();
                    let tickets: Vec<f2b_action::Ticket> = a
                        .bans
                        .tickets()
                        .map(|t| a.action_ticket(t, &jail))
                        .collect();
                    let refs: Vec<&dyn f2b_action::TagSource> = tickets
                        .iter()
                        .map(|t| t as &dyn f2b_action::TagSource)
                        .collect();
                    let _ = a.set.end_reload(&refs);
                }
            }
            for n in deljails {
                let _ = self.del_jail(&n, true, true);
            }
            lock(&self.reload_state).clear();
            f2b_log!(INFO, "server", "Reload finished.");
        }
        Ok(())
    }

    /// `set <jail> unbanip …` / `unban …`: `name` None = all jails, `ips` None = all.
    pub fn set_unban_ip(
        &self,
        name: Option<&str>,
        ips: Option<&[String]>,
        ifexists: bool,
    ) -> CmdResult {
        let jails = match name {
            Some(n) => vec![self.jail(n)?],
            None => self.jails(),
        };
        let ifexists = ifexists || name.is_none();
        let mut cnt = 0i64;
        for jail in jails {
            let mut a = jail.actions();
            match ips {
                None => cnt += a.flush_bans(&jail, true, false) as i64,
                Some(ips) => {
                    let mut missed = Vec::new();
                    for ip in ips {
                        match a.remove_banned_ip(&jail, ip, true, ifexists) {
                            Ok(n) => cnt += n as i64,
                            Err(_) => missed.push(Value::str(ip.clone())),
                        }
                    }
                    if !missed.is_empty() {
                        return Err(CmdError::value(format!(
                            "not banned: {}",
                            Value::List(missed).repr()
                        )));
                    }
                }
            }
        }
        Ok(Value::Int(cnt))
    }

    /// `banned [ip…]` / `get <jail> banned [ip…]`.
    pub fn banned(&self, name: Option<&str>, ids: &[String]) -> CmdResult {
        if let Some(n) = name {
            let jail = self.jail(n)?;
            let a = jail.actions();
            return Ok(a.get_banned(ids));
        }
        let jails = self.jails();
        let mut res = Vec::new();
        if !ids.is_empty() {
            for ip in ids {
                let mut ret = Vec::new();
                for j in &jails {
                    let v = j.actions().get_banned(std::slice::from_ref(ip));
                    if v.truthy() {
                        ret.push(Value::str(j.name.clone()));
                    }
                }
                res.push(Value::List(ret));
            }
        } else {
            for j in &jails {
                let v = j.actions().get_banned(&[]);
                res.push(Value::Dict(vec![(Value::str(j.name.clone()), v)]));
            }
        }
        Ok(Value::List(res))
    }

    /// `status`.
    pub fn status(&self) -> Value {
        let mut names: Vec<String> = self.jails().iter().map(|j| j.name.clone()).collect();
        names.sort();
        Value::List(vec![
            Value::Tuple(vec![
                Value::str("Number of jail"),
                Value::Int(names.len() as i64),
            ]),
            Value::Tuple(vec![Value::str("Jail list"), Value::str(names.join(", "))]),
        ])
    }

    /// `set dbfile <file|None>`.
    pub fn set_database(&self, filename: &str) -> Result<(), CmdError> {
        let cur = self.db();
        if cur.as_ref().is_some_and(|d| d.filename() == filename) {
            return Ok(());
        }
        if cur.is_none() && filename.eq_ignore_ascii_case("none") {
            return Ok(());
        }
        if !self.jails().is_empty() {
            return Err(CmdError::runtime(
                "Cannot change database when there are jails present",
            ));
        }
        if filename.eq_ignore_ascii_case("none") {
            *lock(&self.db) = None;
        } else {
            let _ = crate::daemon::make_file_path(filename);
            let db = Db::open(filename).map_err(CmdError::runtime)?;
            db.del_all_jails();
            *lock(&self.db) = Some(Arc::new(db));
        }
        Ok(())
    }

    /// `set thread {stacksize: KiB}`.
    pub fn set_thread_options(&self, v: &Value) -> CmdResult {
        if let Value::Dict(items) = v {
            for (k, val) in items {
                if k.as_str() == Some("stacksize") {
                    let kib = crate::error::py_int(val)?;
                    self.stacksize
                        .store((kib.max(0) as usize) * 1024, Ordering::SeqCst);
                } else {
                    return Err(CmdError::key(Value::str(format!(
                        "unknown option {}",
                        k.repr()
                    ))));
                }
            }
        } else {
            // upstream calls `value.items()`
            return Err(CmdError {
                module: "builtins".into(),
                class: "AttributeError".into(),
                args: vec![Value::str(format!(
                    "'{}' object has no attribute 'items'",
                    v.type_name()
                ))],
            });
        }
        Ok(Value::None)
    }

    /// `get thread`.
    pub fn thread_options(&self) -> Value {
        Value::Dict(vec![(
            Value::str("stacksize"),
            Value::Int((self.stacksize.load(Ordering::SeqCst) / 1024) as i64),
        )])
    }

    /// Stops everything (upstream `Server.quit` minus the final socket removal,
    /// which the main thread does). Safe to call twice.
    pub fn quit(&self) {
        if self.quitting.swap(true, Ordering::SeqCst) {
            return;
        }
        f2b_log!(INFO, "server", "Shutdown in progress...");
        f2b_log!(DEBUG, "asyncserver", "Stop communication, shutdown");
        self.stop_all_jails();
        if let Some(db) = lock(&self.db).take() {
            db.close();
        }
        if let Some(h) = lock(&self.stop).as_ref() {
            h.stop();
        }
    }
}
