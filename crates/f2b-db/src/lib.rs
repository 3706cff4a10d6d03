//! fail2ban's persistent database (upstream `server/database.py`, schema v4).
//!
//! Files are interchangeable with upstream 1.0.2: same tables and indices,
//! same pragmas, `data` stored as a BLOB of Python-`json.dumps` bytes, SHA-1
//! first-line hashes.  Versions 1-3 are upgraded in place after a timestamped
//! backup copy (`<file>.YYYYmmdd-HHMMSS`, UTC), like upstream.  A file that is
//! not a readable database is moved to such a backup and recreated (upstream
//! first tries `sqlite3 .dump`; we spawn no processes here).
//!
//! The API mirrors `Fail2BanDb`; jails are passed by name (plus a
//! [`JailInfo`] where ban times matter) and `now` is explicit:
//!
//! ```no_run
//! # use f2b_db::{Db, JailInfo};
//! # use f2b_jail::{FailTicket, IpAddr, PyNum};
//! let db = Db::open("/var/lib/fail2ban/fail2ban.sqlite3").unwrap();
//! db.del_all_jails().unwrap();                 // server `set dbfile`
//! db.add_jail("sshd").unwrap();                // `add sshd`
//! let jail = JailInfo { name: "sshd".into(), ban_time: PyNum::Int(600), max_ban_time: PyNum::Int(600) };
//! for t in db.restore_current_bans(&jail, false, 5, 1_790_000_000.0).unwrap() { /* ignore check, queue as Restore Ban */ }
//! ```

#![deny(missing_docs)]

mod bans;
pub mod pyjson;

pub use bans::JailInfo;

use rusqlite::{Connection, OptionalExtension};
use sha1::{Digest, Sha1};
use std::fmt;
use std::path::{Path, PathBuf};

/// Current schema version.
pub const VERSION: i64 = 4;

const CREATE_FAIL2BANDB: &str = "CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER);";
const CREATE_JAILS: &str = "CREATE TABLE IF NOT EXISTS jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);CREATE INDEX IF NOT EXISTS jails_name ON jails(name);";
const CREATE_LOGS: &str = "CREATE TABLE IF NOT EXISTS logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5));CREATE INDEX IF NOT EXISTS logs_path ON logs(path);CREATE INDEX IF NOT EXISTS logs_jail_path ON logs(jail, path);";
const CREATE_BANS: &str = "CREATE TABLE IF NOT EXISTS bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) );CREATE INDEX IF NOT EXISTS bans_jail_timeofban_ip ON bans(jail, timeofban);CREATE INDEX IF NOT EXISTS bans_jail_ip ON bans(jail, ip);CREATE INDEX IF NOT EXISTS bans_ip ON bans(ip);";
const CREATE_BIPS: &str = "CREATE TABLE IF NOT EXISTS bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name) );CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban);CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip);";

/// Kind of a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// sqlite reported an error.
    Sqlite,
    /// The file has a newer schema version than we know.
    FutureVersion,
    /// Backup / move of the database file failed.
    Io,
}

/// A database error.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
}

impl Error {
    fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::new(ErrorKind::Sqlite, e.to_string())
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// What [`Db::open`] had to do (for upstream's log lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenEvent {
    /// `New database created. Version '4'` (WARNING).
    Created,
    /// `Database updated from 'N' to '4'` (WARNING), backup file.
    Upgraded {
        /// Old version.
        from: i64,
        /// Backup copy made before the upgrade.
        backup: PathBuf,
    },
    /// Unreadable file moved to `backup` and a new database created (ERROR).
    Recreated {
        /// Where the broken file went.
        backup: PathBuf,
        /// sqlite's complaint.
        reason: String,
    },
}

/// An open fail2ban database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
    /// `dbpurgeage` in seconds (default 1 day).
    pub purge_age: f64,
    /// `dbmaxmatches` (default 10).
    pub max_matches: usize,
    /// Bad-ip retention factor of `purge` (upstream `outDatedFactor`, 3).
    pub out_dated_factor: i64,
    events: Vec<OpenEvent>,
}

/// SHA-1 hex of a log's first line including its `\n` (upstream's
/// `firstlinemd5` despite the column name).
pub fn first_line_hash(first_line: &[u8]) -> String {
    let d = Sha1::digest(first_line);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn backup_name(path: &Path) -> PathBuf {
    let ts = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{ts}"));
    PathBuf::from(s)
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;",
    )?;
    // journal_mode returns a row; query it instead of execute
    let _: String = conn.query_row("PRAGMA journal_mode = MEMORY", [], |r| r.get(0))?;
    Ok(conn)
}

fn create_db(conn: &Connection) -> Result<i64> {
    for s in [
        CREATE_FAIL2BANDB,
        CREATE_JAILS,
        CREATE_LOGS,
        CREATE_BANS,
        CREATE_BIPS,
    ] {
        conn.execute_batch(s)?;
    }
    conn.execute(
        "INSERT INTO fail2banDb(version) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM fail2banDb LIMIT 1)",
        [VERSION],
    )?;
    Ok(conn.query_row("SELECT version FROM fail2banDb LIMIT 1", [], |r| r.get(0))?)
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "select 1 where exists (select 1 from sqlite_master WHERE type='table' AND name=?)",
            [table],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Upstream `updateDb` scripts, in order.
fn update_db(conn: &Connection, version: i64) -> Result<i64> {
    if version < 2 && table_exists(conn, "logs")? {
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;CREATE TEMPORARY TABLE logs_temp AS SELECT * FROM logs;DROP TABLE logs;{CREATE_LOGS};INSERT INTO logs SELECT * from logs_temp;DROP TABLE logs_temp;UPDATE fail2banDb SET version = 2;COMMIT;"
        ))?;
    }
    if version < 3 && table_exists(conn, "bans")? {
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;CREATE TEMPORARY TABLE bans_temp AS SELECT jail, ip, timeofban, -2 as bantime, 1 as bancount, data FROM bans;DROP TABLE bans;{CREATE_BANS};\nINSERT INTO bans SELECT * from bans_temp;DROP TABLE bans_temp;COMMIT;"
        ))?;
    }
    if version < 4 && !table_exists(conn, "bips")? {
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;{CREATE_BIPS};\nUPDATE fail2banDb SET version = 4;COMMIT;"
        ))?;
        if table_exists(conn, "bans")? {
            conn.execute(
                "INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data)  SELECT ip, jail, timeofban, bantime, bancount, data FROM bans order by timeofban",
                [],
            )?;
        }
    }
    Ok(conn.query_row("SELECT version FROM fail2banDb LIMIT 1", [], |r| r.get(0))?)
}

impl Db {
    /// Opens (creating or upgrading) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        let path = path.as_ref().to_path_buf();
        let mut events = Vec::new();
        let conn = match Self::open_inner(&path, &mut events) {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::Sqlite && path.is_file() => {
                // not a database (or corrupt): keep it aside and start afresh
                let backup = backup_name(&path);
                std::fs::rename(&path, &backup)
                    .map_err(|io| Error::new(ErrorKind::Io, format!("{}: {io}", path.display())))?;
                events.push(OpenEvent::Recreated {
                    backup,
                    reason: e.msg,
                });
                let conn = connect(&path)?;
                create_db(&conn)?;
                conn
            }
            Err(e) => return Err(e),
        };
        Ok(Db {
            conn,
            path,
            purge_age: 86400.0,
            max_matches: 10,
            out_dated_factor: 3,
            events,
        })
    }

    fn open_inner(path: &Path, events: &mut Vec<OpenEvent>) -> Result<Connection> {
        let conn = connect(path)?;
        let version: Option<i64> = match conn
            .query_row("SELECT version FROM fail2banDb LIMIT 1", [], |r| r.get(0))
            .optional()
        {
            Ok(v) => v,
            Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => None,
            Err(e) => return Err(e.into()),
        };
        match version {
            None => {
                create_db(&conn)?;
                events.push(OpenEvent::Created);
            }
            Some(VERSION) => {}
            Some(v) if v > VERSION => {
                return Err(Error::new(
                    ErrorKind::FutureVersion,
                    format!("database version {v} is newer than supported {VERSION}"),
                ))
            }
            Some(v) => {
                let backup = backup_name(path);
                if !backup.is_file() {
                    std::fs::copy(path, &backup).map_err(|io| {
                        Error::new(ErrorKind::Io, format!("{}: {io}", backup.display()))
                    })?;
                }
                let nv = update_db(&conn, v)?;
                if nv != VERSION {
                    return Err(Error::new(
                        ErrorKind::Sqlite,
                        format!("Failed to fully update: from {v} reached {nv}"),
                    ));
                }
                events.push(OpenEvent::Upgraded { from: v, backup });
            }
        }
        Ok(conn)
    }

    /// What happened while opening (creation, upgrade, recreation).
    pub fn open_events(&self) -> &[OpenEvent] {
        &self.events
    }

    /// The database file name (`get dbfile`).
    pub fn filename(&self) -> &Path {
        &self.path
    }

    /// Schema version stored in the file.
    pub fn version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT version FROM fail2banDb LIMIT 1", [], |r| r.get(0))?)
    }

    /// `add <jail>`: insert or re-enable.
    pub fn add_jail(&self, name: &str) -> Result<()> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)",
            [name],
        )?;
        if n == 0 {
            self.conn.execute(
                "UPDATE jails SET enabled = 1 WHERE name = ? AND enabled != 1",
                [name],
            )?;
        }
        Ok(())
    }

    /// Jail stopped/removed: `enabled = 0`.
    pub fn del_jail(&self, name: &str) -> Result<()> {
        self.conn
            .execute("UPDATE jails SET enabled=0 WHERE name=?", [name])?;
        Ok(())
    }

    /// Server `set dbfile` / reload: disable all jails.
    pub fn del_all_jails(&self) -> Result<()> {
        self.conn.execute("UPDATE jails SET enabled=0", [])?;
        Ok(())
    }

    /// Jail names, optionally only enabled (`Some(true)`) or disabled ones.
    pub fn jail_names(&self, enabled: Option<bool>) -> Result<Vec<String>> {
        let (sql, arg) = match enabled {
            None => (
                "SELECT name FROM jails WHERE ?1 IS NULL ORDER BY name",
                None,
            ),
            Some(e) => (
                "SELECT name FROM jails WHERE enabled=?1 ORDER BY name",
                Some(e as i64),
            ),
        };
        let mut st = self.conn.prepare(sql)?;
        let rows = st.query_map([arg], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// `addLog`: returns the stored position if the stored first-line hash
    /// equals `hash` (None otherwise or when unknown); a new file with a
    /// position or hash is recorded.
    pub fn add_log(
        &self,
        jail: &str,
        path: &str,
        pos: i64,
        hash: Option<&str>,
    ) -> Result<Option<i64>> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT firstlinemd5, lastfilepos FROM logs WHERE jail=? AND path=?",
                [jail, path],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (stored_hash, mut last) = row.unwrap_or((None, None));
        if stored_hash.is_none() && (pos != 0 || hash.is_some()) {
            self.conn.execute(
                "INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)",
                rusqlite::params![jail, path, hash, pos],
            )?;
        }
        if hash.is_some() && hash != stored_hash.as_deref() {
            last = None;
        }
        Ok(last)
    }

    /// `updateLog`: store hash and position (insert if missing).
    pub fn update_log(&self, jail: &str, path: &str, pos: i64, hash: Option<&str>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE logs SET firstlinemd5=?, lastfilepos=? WHERE jail=? AND path=?",
            rusqlite::params![hash, pos, jail, path],
        )?;
        if n == 0 {
            self.conn.execute(
                "INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)",
                rusqlite::params![jail, path, hash, pos],
            )?;
        }
        Ok(())
    }

    /// Log paths known (for a jail or all).
    pub fn log_paths(&self, jail: Option<&str>) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT path FROM logs WHERE ?1 IS NULL OR jail=?1 ORDER BY path")?;
        let rows = st.query_map([jail], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Journal position (systemd backend): `time` in `lastfilepos`, ISO text
    /// in `firstlinemd5`; same rules as [`Db::add_log`].
    pub fn journal_pos(
        &self,
        jail: &str,
        name: &str,
        time: i64,
        iso: Option<&str>,
    ) -> Result<Option<i64>> {
        self.add_log(jail, name, time, iso)
    }

    /// Stores the journal position.
    pub fn update_journal(&self, jail: &str, name: &str, time: i64, iso: &str) -> Result<()> {
        self.update_log(jail, name, time, Some(iso))
    }

    /// Hourly purge: old bans, out-dated bad ips (permanent never), disabled
    /// jails without rows.
    pub fn purge(&self, now: f64) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM bans WHERE timeofban < ?",
            [now - self.purge_age],
        )?;
        let lim = now.trunc() - self.purge_age;
        tx.execute(
            "DELETE FROM bips WHERE timeofban < ? and bantime != -1 and (timeofban + (bantime * ?)) < ?",
            rusqlite::params![lim, self.out_dated_factor, lim],
        )?;
        tx.execute(
            "DELETE FROM jails WHERE enabled = 0 AND NOT EXISTS(SELECT * FROM bans WHERE jail = jails.name) AND NOT EXISTS(SELECT * FROM bips WHERE jail = jails.name)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The underlying connection (tests, diagnostics).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}
