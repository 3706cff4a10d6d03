//! One jail at run time: its filter settings and failure counting ([`filter`]), its
//! ban table and actions ([`actions`]), and the threads that drive them.
//!
//! Threads of a started jail:
//! - `f2b/w/<jail>`: the watcher; follows the log files and feeds lines, then runs
//!   them through the filter and the failure counter (upstream's filter thread);
//! - `f2b/a/<jail>`: the actions thread; takes tickets that reached maxretry from a
//!   crossbeam channel, bans, and unbans when bans expire.
//!
//! Commands (`set`, `get`, `status`, `banip`, …) lock the part they touch
//! ([`Jail::filter`] or [`Jail::actions`]) briefly; lock order is filter before
//! actions, and the watcher never takes the actions lock.

pub mod actions;
pub mod filter;
mod matcher;
pub mod watch;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use f2b_jail::FailTicket;
use f2b_protocol::Value;

use crate::db::Db;
use crate::f2b_log;

pub use actions::ActionsPart;
pub use filter::FilterPart;

/// Messages to the actions thread.
pub enum ActionMsg {
    /// A ticket that reached maxretry (or a restored ban).
    Ban(FailTicket),
    /// Wake up and re-check the state (stop, idle change, bantime change).
    Wake,
}

/// A jail.
pub struct Jail {
    /// Jail name.
    pub name: String,
    /// Backend as given to `add` (e.g. `polling`, `auto`, `systemd`).
    pub backend: String,
    /// Filter settings and failure counting.
    pub filter: Mutex<FilterPart>,
    /// Ban table and actions.
    pub actions: Mutex<ActionsPart>,
    /// `set <jail> idle on|off`.
    pub idle: AtomicBool,
    /// Set when the jail is stopping.
    pub stopping: AtomicBool,
    /// Mirror of `bantime.increment` (read by the watcher without the actions lock).
    pub increment: AtomicBool,
    /// Mirror of the failure counters for action tags (`<jail.found>`).
    pub found: AtomicU64,
    /// Mirror of the failure total (`<jail.found_total>`).
    pub found_total: AtomicU64,
    /// Sender side of the ban queue.
    pub queue: Sender<ActionMsg>,
    queue_rx: Receiver<ActionMsg>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    started: AtomicBool,
    /// The database (None when disabled).
    pub db: Option<Arc<Db>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Current time as unix seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

const BACKENDS: &[&str] = &["pyinotify", "gamin", "polling", "systemd"];

impl Jail {
    /// Creates a jail (upstream `Jail.__init__`, with its log lines). Fails for an
    /// unknown backend like upstream.
    pub fn new(name: &str, backend: &str, db: Option<Arc<Db>>) -> Result<Arc<Jail>, String> {
        if name.chars().count() >= 26 {
            f2b_log!(
                WARNING,
                "jail",
                "Jail name {} might be too long and some commands might not function correctly. Please shorten",
                crate::logging::py_repr(name)
            );
        }
        f2b_log!(INFO, "jail", "Creating new jail '{name}'");
        let (be, opts) = crate::logging::extract_options(backend)?;
        let be = be.trim().to_lowercase();
        if be != "auto" && !BACKENDS.contains(&be.as_str()) {
            let msg = format!(
                "Unknown backend {be}. Must be among ['pyinotify', 'gamin', 'polling', 'systemd'] or 'auto'"
            );
            f2b_log!(ERROR, "jail", "{msg}");
            return Err(msg);
        }
        let kind = match be.as_str() {
            "auto" | "pyinotify" => "pyinotify",
            "gamin" => "polling",
            other => other,
        };
        let opts_repr = format!(
            "{{{}}}",
            opts.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    crate::logging::py_repr(k),
                    crate::logging::py_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        match kind {
            "pyinotify" => f2b_log!(INFO, "jail", "Jail '{name}' uses pyinotify {opts_repr}"),
            "systemd" => f2b_log!(INFO, "jail", "Jail '{name}' uses systemd {opts_repr}"),
            _ => f2b_log!(INFO, "jail", "Jail '{name}' uses poller {opts_repr}"),
        }
        if be == "gamin" {
            f2b_log!(
                WARNING,
                "jail",
                "Could only initiated 'polling' backend whenever 'gamin' was requested"
            );
        } else {
            f2b_log!(INFO, "jail", "Initiated '{kind}' backend");
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        Ok(Arc::new(Jail {
            name: name.to_string(),
            backend: backend.to_string(),
            filter: Mutex::new(FilterPart::new(name, kind)),
            actions: Mutex::new(ActionsPart::new(name)),
            idle: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            increment: AtomicBool::new(false),
            found: AtomicU64::new(0),
            found_total: AtomicU64::new(0),
            queue: tx,
            queue_rx: rx,
            threads: Mutex::new(Vec::new()),
            started: AtomicBool::new(false),
            db,
        }))
    }

    /// Locks the filter part.
    pub fn filter(&self) -> MutexGuard<'_, FilterPart> {
        lock(&self.filter)
    }

    /// Locks the actions part.
    pub fn actions(&self) -> MutexGuard<'_, ActionsPart> {
        lock(&self.actions)
    }

    /// True once started and not yet stopped.
    pub fn is_alive(&self) -> bool {
        self.started.load(Ordering::SeqCst) && !self.stopping.load(Ordering::SeqCst)
    }

    /// Starts the watcher and actions threads and restores bans from the database
    /// (upstream `Jail.start`).
    pub fn start(self: &Arc<Jail>) {
        f2b_log!(DEBUG, "jail", "Starting jail '{}'", self.name);
        self.started.store(true, Ordering::SeqCst);
        let mut threads = lock(&self.threads);
        if let Some(h) = watch::spawn(self.clone()) {
            threads.push(h);
        }
        let me = self.clone();
        let rx = self.queue_rx.clone();
        match std::thread::Builder::new()
            .name(format!("f2b/a/{}", self.name))
            .spawn(move || actions::run(me, rx))
        {
            Ok(h) => threads.push(h),
            Err(e) => f2b_log!(
                ERROR,
                "jail",
                "[{}] cannot start actions thread: {e}",
                self.name
            ),
        }
        drop(threads);
        actions::restore_current_bans(self);
        f2b_log!(INFO, "jail", "Jail '{}' started", self.name);
    }

    /// Stops the threads (actions flush/unban and stop, like upstream) and waits for
    /// them when `join`.
    pub fn stop(&self, stop: bool, join: bool) {
        if stop {
            f2b_log!(DEBUG, "jail", "Stopping jail '{}'", self.name);
            self.stopping.store(true, Ordering::SeqCst);
            let _ = self.queue.send(ActionMsg::Wake);
        }
        if join {
            let hs: Vec<JoinHandle<()>> = lock(&self.threads).drain(..).collect();
            for h in hs {
                let _ = h.join();
            }
            if !self.started.load(Ordering::SeqCst) {
                // never started: still stop the actions (nothing to flush)
                self.actions().stop_unstarted();
            }
            f2b_log!(INFO, "jail", "Jail '{}' stopped", self.name);
        }
    }

    /// `set <jail> idle on|off`.
    pub fn set_idle(&self, v: bool) {
        self.idle.store(v, Ordering::SeqCst);
        let _ = self.queue.send(ActionMsg::Wake);
    }

    /// `status <jail> [flavor]` (upstream `Jail.status`).
    pub fn status(&self, flavor: &str) -> Value {
        let f = self.filter().status(flavor);
        let a = self.actions().status(flavor);
        Value::List(vec![
            Value::Tuple(vec![Value::str("Filter"), f]),
            Value::Tuple(vec![Value::str("Actions"), a]),
        ])
    }

    /// `stats`: `[backend, (cur_failed, tot_failed), (cur_banned, tot_banned)]`.
    pub fn stats(&self) -> Value {
        let (cf, tf) = {
            let f = self.filter();
            (f.fail.size() as i64, f.fail.fail_total() as i64)
        };
        let (cb, tb) = {
            let a = self.actions();
            (a.bans.size() as i64, a.bans.ban_total() as i64)
        };
        Value::List(vec![
            Value::str(self.backend.clone()),
            Value::Tuple(vec![Value::Int(cf), Value::Int(tf)]),
            Value::Tuple(vec![Value::Int(cb), Value::Int(tb)]),
        ])
    }
}
