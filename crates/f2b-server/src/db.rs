//! The persistent database as the server uses it (upstream `database.py`
//! `Fail2BanDb`): one [`f2b_db::Db`] shared by all jails behind a mutex, with the
//! operations the jail threads and commands need and upstream's log lines. Database
//! errors are logged and never stop a jail.

use std::sync::{Mutex, MutexGuard};

use f2b_jail::{BanHistory, FailTicket, PyNum};
use f2b_protocol::Value;

use crate::f2b_log;
use crate::jail::now;

/// The server's database handle.
pub struct Db {
    filename: String,
    inner: Mutex<f2b_db::Db>,
    purge_age: Mutex<Value>,
}

fn logged<T>(what: &str, r: f2b_db::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            f2b_log!(ERROR, "database", "{what} failed: {e}");
            None
        }
    }
}

impl Db {
    /// Opens (or creates / upgrades) the database file.
    pub fn open(path: &str) -> Result<Db, String> {
        let db = f2b_db::Db::open(path).map_err(|e| e.to_string())?;
        f2b_log!(
            INFO,
            "database",
            "Connected to fail2ban persistent database '{path}'"
        );
        for ev in db.open_events() {
            match ev {
                f2b_db::OpenEvent::Created => f2b_log!(
                    WARNING,
                    "database",
                    "New database created. Version '{}'",
                    f2b_db::VERSION
                ),
                f2b_db::OpenEvent::Upgraded { from, .. } => f2b_log!(
                    WARNING,
                    "database",
                    "Database updated from '{from}' to '{}'",
                    f2b_db::VERSION
                ),
                f2b_db::OpenEvent::Recreated { backup, reason } => f2b_log!(
                    ERROR,
                    "database",
                    "Database was broken ({reason}), moved to {} and recreated",
                    backup.display()
                ),
            }
        }
        Ok(Db {
            filename: path.to_string(),
            inner: Mutex::new(db),
            purge_age: Mutex::new(Value::Int(86400)),
        })
    }

    fn db(&self) -> MutexGuard<'_, f2b_db::Db> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file name (`get dbfile`).
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// `dbmaxmatches`.
    pub fn max_matches(&self) -> i64 {
        self.db().max_matches as i64
    }

    /// `set dbmaxmatches`.
    pub fn set_max_matches(&self, v: i64) {
        self.db().max_matches = v.max(0) as usize;
    }

    /// `dbpurgeage` as returned by `get` (seconds).
    pub fn purge_age(&self) -> Value {
        self.purge_age
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `set dbpurgeage` (seconds).
    pub fn set_purge_age(&self, v: Value) {
        self.db().purge_age = crate::timeconv::as_f64(&v);
        *self.purge_age.lock().unwrap_or_else(|e| e.into_inner()) = v;
    }

    /// Marks every jail disabled (at `set dbfile`).
    pub fn del_all_jails(&self) {
        logged("delAllJails", self.db().del_all_jails());
    }

    /// Upserts a jail as enabled (`add`).
    pub fn add_jail(&self, jail: &str) {
        logged("addJail", self.db().add_jail(jail));
    }

    /// Marks a jail disabled (jail stop).
    pub fn del_jail(&self, jail: &str) {
        logged("delJail", self.db().del_jail(jail));
    }

    /// Records a new ban in `bans` and `bips`.
    pub fn add_ban(&self, jail: &str, ticket: &FailTicket, jail_ban_time: PyNum) {
        logged("addBan", self.db().add_ban(jail, jail_ban_time, ticket));
    }

    /// [`Db::add_ban`] for the bans of one round, in one transaction.
    pub fn add_bans(&self, jail: &str, tickets: &[FailTicket], jail_ban_time: PyNum) {
        if tickets.is_empty() {
            return;
        }
        let refs: Vec<&FailTicket> = tickets.iter().collect();
        logged("addBan", self.db().add_bans(jail, jail_ban_time, &refs));
    }

    /// Deletes a jail's ban history of `ip` (all bans of the jail when `None`).
    pub fn del_ban(&self, jail: &str, ip: Option<&str>) {
        let ips: Vec<&str> = ip.into_iter().collect();
        logged("delBan", self.db().del_ban(jail, &ips));
    }

    /// Ban history of `ip` for bantime.increment (`jail` None: over all jails).
    pub fn ban_history(&self, ip: &str, jail: Option<&str>) -> Option<BanHistory> {
        let overall = jail.is_none();
        logged(
            "getBan",
            self.db().get_ban(ip, jail, None, overall, None, now()),
        )
        .and_then(|v| v.into_iter().next())
    }

    /// Current bans of a jail to restore at start (already clamped and filtered;
    /// the caller applies the ignore check).
    pub fn current_bans(
        &self,
        jail: &f2b_db::JailInfo,
        increment: bool,
        max_matches: usize,
    ) -> Vec<FailTicket> {
        logged(
            "restoreCurrentBans",
            self.db()
                .restore_current_bans(jail, increment, max_matches, now()),
        )
        .unwrap_or_default()
    }

    /// Merged failures and matches of `ip` (`<ipmatches>`, `<ipjailfailures>`, …).
    pub fn bans_merged(&self, ip: &str, jail: Option<&str>) -> Option<(u64, Vec<String>)> {
        let t = logged(
            "getBansMerged",
            self.db().get_bans_merged(Some(ip), jail, None, now()),
        )?
        .into_iter()
        .next()?;
        Some((u64::from(t.failures), t.matches_joined()))
    }

    /// `addLog`: the stored position of a log file when its first-line hash still
    /// matches.
    pub fn add_log(&self, jail: &str, path: &str, hash: &str) -> Option<u64> {
        logged("addLog", self.db().add_log(jail, path, 0, Some(hash)))
            .flatten()
            .map(|p| p.max(0) as u64)
    }

    /// Stored `(first line hash, position)` of a log file, if its hash matches the
    /// file's current first line.
    pub fn log_position(&self, jail: &str, path: &str) -> Option<(String, u64)> {
        let hash = crate::jail::filter::first_line_hash(path);
        self.add_log(jail, path, &hash).map(|p| (hash, p))
    }

    /// Stores the position of a log file.
    pub fn update_log(&self, jail: &str, path: &str, hash: &str, pos: u64) {
        let h = if hash.is_empty() { None } else { Some(hash) };
        logged("updateLog", self.db().update_log(jail, path, pos as i64, h));
    }

    /// Saved journal time (seconds) of a systemd jail.
    pub fn journal_time(&self, jail: &str) -> Option<f64> {
        logged(
            "getJournalPos",
            self.db()
                .journal_pos(jail, f2b_journal::JOURNAL_NAME, 0, None),
        )
        .flatten()
        .map(|t| t as f64)
    }

    /// Stores the journal time (seconds) of a systemd jail.
    pub fn update_journal(&self, jail: &str, time: f64, iso: &str) {
        logged(
            "updateJournal",
            self.db()
                .update_journal(jail, f2b_journal::JOURNAL_NAME, time as i64, iso),
        );
    }

    /// Hourly purge of old bans.
    pub fn purge(&self) {
        f2b_log!(DEBUG, "database", "Purge database event occurred");
        logged("purge", self.db().purge(now()));
    }

    /// Closes the database (server stop).
    pub fn close(&self) {
        f2b_log!(DEBUG, "database", "Close connection to database ...");
        f2b_log!(INFO, "database", "Connection to database closed.");
    }
}
