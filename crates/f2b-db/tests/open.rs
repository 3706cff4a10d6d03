//! Opening databases: fresh creation, upgrade of old schema versions (same
//! result as upstream's own upgrade of the same file), refusal of future
//! versions, recreation of unreadable files, restore clamping.

use f2b_db::{Db, ErrorKind, JailInfo, OpenEvent};
use f2b_jail::{BanTicket, IpAddr, PyNum};
use std::path::Path;
use std::process::{Command, Stdio};

const NOW: f64 = 1_790_000_000.0;

/// A version 2 file: `bans` without bantime/bancount, no `bips`.
const V2: &str = "
CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(2);
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
INSERT INTO jails VALUES('sshd', 1);
CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5));
INSERT INTO logs VALUES('sshd', '/var/log/auth.log', 'abc', 42);
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) );
INSERT INTO bans VALUES('sshd', '192.0.2.1', 1789999900, X'7B226D617463686573223A205B5D2C20226661696C75726573223A20337D');
INSERT INTO bans VALUES('sshd', '192.0.2.2', 1789990000, NULL);
";

fn make(path: &Path, sql: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(sql).unwrap();
}

fn dump(path: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut out = Vec::new();
    for q in [
        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name",
        "SELECT version FROM fail2banDb",
        "SELECT jail || ip || timeofban || bantime || bancount || coalesce(hex(data), 'NULL') FROM bans ORDER BY rowid",
        "SELECT jail || ip || timeofban || bantime || bancount || coalesce(hex(data), 'NULL') FROM bips ORDER BY rowid",
        "SELECT jail || path || firstlinemd5 || lastfilepos FROM logs",
    ] {
        let mut st = c.prepare(q).unwrap();
        let rows = st
            .query_map([], |r| r.get::<_, rusqlite::types::Value>(0))
            .unwrap();
        out.extend(rows.map(|r| format!("{:?}", r.unwrap())));
    }
    out
}

fn upstream_available() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import fail2ban.server.database"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "upstream fail2ban python module not available (CI=true)"
    );
    ok
}

#[test]
fn fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("new.sqlite3");
    let db = Db::open(&p).unwrap();
    assert_eq!(db.open_events(), &[OpenEvent::Created]);
    assert_eq!(db.version().unwrap(), 4);
    let mode: String = db
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "memory");
    let fk: i64 = db
        .connection()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    drop(db);
    // reopening does nothing special
    assert!(Db::open(&p).unwrap().open_events().is_empty());
}

#[test]
fn upgrade_v2_like_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.sqlite3");
    make(&ours, V2);
    let db = Db::open(&ours).unwrap();
    match &db.open_events()[0] {
        OpenEvent::Upgraded { from, backup } => {
            assert_eq!(*from, 2);
            assert!(backup.is_file(), "backup copy {backup:?}");
            assert!(backup
                .to_string_lossy()
                .starts_with(&*ours.to_string_lossy()));
        }
        e => panic!("unexpected {e:?}"),
    }
    assert_eq!(db.version().unwrap(), 4);
    // legacy bantime -2 means "the jail's bantime" when restoring
    let jail = JailInfo {
        name: "sshd".into(),
        ban_time: PyNum::Int(3600),
        max_ban_time: PyNum::Int(3600),
    };
    let cur = db
        .get_current_bans(Some(&jail), None, None, NOW, Some(jail.max_ban_time), None)
        .unwrap();
    assert_eq!(cur.len(), 1);
    assert_eq!(cur[0].id.to_string(), "192.0.2.1");
    assert_eq!(cur[0].ban_time, Some(PyNum::Int(3600)));
    assert_eq!(cur[0].failures, 3);
    drop(db);

    if !upstream_available() {
        return;
    }
    let up = dir.path().join("up.sqlite3");
    make(&up, V2);
    let st = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys; from fail2ban.server.database import Fail2BanDb; Fail2BanDb(sys.argv[1]).close()",
        ])
        .arg(&up)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(dump(&up), dump(&ours));
}

#[test]
fn future_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v9.sqlite3");
    make(
        &p,
        "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(9);",
    );
    let e = Db::open(&p).err().expect("must refuse");
    assert_eq!(e.kind(), ErrorKind::FutureVersion);
}

#[test]
fn garbage_file_is_moved_aside_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.sqlite3");
    std::fs::write(&p, vec![b'x'; 4096]).unwrap();
    let db = Db::open(&p).unwrap();
    match &db.open_events()[0] {
        OpenEvent::Recreated { backup, .. } => {
            assert_eq!(std::fs::read(backup).unwrap(), vec![b'x'; 4096]);
        }
        e => panic!("unexpected {e:?}"),
    }
    assert_eq!(db.version().unwrap(), 4);
}

#[test]
fn restore_clamps_and_drops_obsolete() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("r.sqlite3")).unwrap();
    db.add_jail("sshd").unwrap();
    // (ip, age, bantime)
    for (ip, age, bt) in [
        ("192.0.2.1", 100.0, 86400), // long ban: clamped to the jail's 600
        ("192.0.2.2", 100.0, -1),    // permanent: clamped too without increment
        ("192.0.2.3", 700.0, 86400), // older than the jail bantime: not restored
        ("192.0.2.4", 560.0, 500),   // ended 60 s ago
        ("192.0.2.5", 10.0, 300),    // normal
    ] {
        let mut t = BanTicket::new(IpAddr::parse(ip), NOW - age, vec![]);
        t.ban_time = Some(PyNum::Int(bt));
        t.ban_count = 1;
        db.add_ban("sshd", PyNum::Int(600), &t).unwrap();
    }
    let plain = JailInfo {
        name: "sshd".into(),
        ban_time: PyNum::Int(600),
        max_ban_time: PyNum::Int(600),
    };
    let got: Vec<(String, PyNum)> = db
        .restore_current_bans(&plain, false, 5, NOW)
        .unwrap()
        .into_iter()
        .map(|t| (t.id.to_string(), t.ban_time.unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("192.0.2.1".to_string(), PyNum::Int(600)),
            ("192.0.2.2".to_string(), PyNum::Int(600)),
            ("192.0.2.5".to_string(), PyNum::Int(300)),
        ]
    );
    // with increment and no maxtime: no clamping, no age limit
    let inc = JailInfo {
        max_ban_time: PyNum::Int(-1),
        ..plain.clone()
    };
    let got: Vec<(String, PyNum)> = db
        .restore_current_bans(&inc, true, 5, NOW)
        .unwrap()
        .into_iter()
        .map(|t| (t.id.to_string(), t.ban_time.unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("192.0.2.1".to_string(), PyNum::Int(86400)),
            ("192.0.2.2".to_string(), PyNum::Int(-1)),
            ("192.0.2.3".to_string(), PyNum::Int(86400)),
            ("192.0.2.5".to_string(), PyNum::Int(300)),
        ]
    );
}
