//! Round trip with the REAL fail2ban 1.0.2 server: it writes a database in a
//! scratch dir (manual bans plus a ban from log failures), we read it and
//! find the bans, then we add a ban ourselves and the real server restores it
//! at its next start (`Restore Ban` in its log).

use f2b_db::{Db, JailInfo};
use f2b_jail::{BanTicket, Event, IpAddr, Level, MatchLine, PyNum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SERVER: &str = "/usr/bin/fail2ban-server";
const CLIENT: &str = "/usr/bin/fail2ban-client";

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        // stop politely, then make sure the process is gone
        let _ = client(&self.dir, &["stop"]);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(CLIENT)
        .arg("-c")
        .arg(dir.join("conf"))
        .arg("-s")
        .arg(dir.join("f2b.sock"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run fail2ban-client")
}

fn start(dir: &Path) -> Server {
    let out = std::fs::File::create(dir.join("server.out")).unwrap();
    let child = Command::new(SERVER)
        .args(["-f", "-x", "-c"])
        .arg(dir.join("conf"))
        .arg("-s")
        .arg(dir.join("f2b.sock"))
        .arg("-p")
        .arg(dir.join("f2b.pid"))
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("spawn fail2ban-server");
    let srv = Server {
        child,
        dir: dir.to_path_buf(),
    };
    wait_for("server ping", || client(dir, &["ping"]).status.success());
    srv
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    panic!("timed out waiting for {what}");
}

fn setup(dir: &Path) {
    let s = dir.display();
    std::fs::create_dir_all(dir.join("conf/action.d")).unwrap();
    std::fs::create_dir_all(dir.join("conf/filter.d")).unwrap();
    // Debian's dummy action is used where it is installed, not copied
    std::os::unix::fs::symlink(
        "/etc/fail2ban/action.d/dummy.conf",
        dir.join("conf/action.d/dummy.conf"),
    )
    .unwrap();
    let w = |p: &str, c: String| std::fs::write(dir.join(p), c).unwrap();
    w(
        "conf/fail2ban.conf",
        format!(
            "[Definition]\nloglevel = INFO\nlogtarget = {s}/f2b.log\nsocket = {s}/f2b.sock\n\
             pidfile = {s}/f2b.pid\ndbfile = {s}/f2b.sqlite3\ndbpurgeage = 1d\n"
        ),
    );
    w(
        "conf/filter.d/test.conf",
        "[Definition]\nfailregex = ^fail from <HOST>$\n".into(),
    );
    w(
        "conf/jail.conf",
        format!(
            "[test]\nenabled = true\nfilter = test\nbackend = polling\nlogpath = {s}/test.log\n\
             action = dummy[target={s}/dummy.target]\nbantime = 600\nmaxretry = 3\ndatepattern = {{NONE}}\n"
        ),
    );
    w("test.log", String::new());
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn banned_in_db(path: &Path, ip: &str) -> bool {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return false;
    };
    c.query_row("SELECT count(*) FROM bips WHERE ip = ?", [ip], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
    .unwrap_or(false)
}

#[test]
fn real_server_database_round_trip() {
    if !Path::new(SERVER).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{SERVER} missing (CI=true)"
        );
        eprintln!("skipping: {SERVER} not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let db_path = dir.join("f2b.sqlite3");
    {
        let _srv = start(dir);
        let out = client(dir, &["set", "test", "banip", "192.0.2.10", "192.0.2.11"]);
        assert!(out.status.success(), "{out:?}");
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("test.log"))
            .unwrap();
        for _ in 0..3 {
            writeln!(log, "fail from 192.0.2.20").unwrap();
        }
        drop(log);
        wait_for("ban from log failures in the db", || {
            banned_in_db(&db_path, "192.0.2.20")
        });
    } // stopped here

    // the server's log lines are the texts our Event type produces
    let log = std::fs::read_to_string(dir.join("f2b.log")).unwrap();
    for ip in ["192.0.2.10", "192.0.2.20"] {
        let id = IpAddr::parse(ip);
        for ev in [
            Event::Ban {
                jail: "test".into(),
                id: id.clone(),
                restored: false,
            },
            Event::Unban {
                jail: "test".into(),
                id: id.clone(),
            },
        ] {
            assert_eq!(ev.level(), Level::Notice);
            let line = format!("{:<24}[", ev.logger());
            assert!(
                log.lines()
                    .any(|l| l.contains(&line) && l.ends_with(&format!("NOTICE  {ev}"))),
                "{ev} not in log:\n{log}"
            );
        }
    }
    assert!(log.contains(
        &Event::Flush {
            jail: "test".into(),
            action: "dummy".into()
        }
        .to_string()
    ));

    let t0 = now();
    let db = Db::open(&db_path).unwrap();
    assert_eq!(db.version().unwrap(), 4);
    assert!(db.open_events().is_empty(), "{:?}", db.open_events());
    assert_eq!(db.jail_names(None).unwrap(), vec!["test".to_string()]);
    let jail = JailInfo {
        name: "test".into(),
        ban_time: PyNum::Int(600),
        max_ban_time: PyNum::Int(600),
    };
    let cur = db.restore_current_bans(&jail, false, 5, t0).unwrap();
    let mut ips: Vec<String> = cur.iter().map(|t| t.id.to_string()).collect();
    ips.sort();
    assert_eq!(ips, ["192.0.2.10", "192.0.2.11", "192.0.2.20"]);
    assert!(cur
        .iter()
        .all(|t| t.restored && t.ban_time == Some(PyNum::Int(600))));
    let logged = cur
        .iter()
        .find(|t| t.id.to_string() == "192.0.2.20")
        .unwrap();
    assert_eq!(logged.failures, 3);
    assert_eq!(
        logged.matches_joined(),
        vec!["fail from 192.0.2.20".to_string(); 3]
    );
    assert!(t0 - logged.time < 60.0);
    let hist = db
        .get_ban("192.0.2.20", Some("test"), None, false, None, t0)
        .unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].ban_count, 1);

    // our ban in their file: the real server restores it at start
    let mut t = BanTicket::new(
        IpAddr::parse("192.0.2.30"),
        t0.floor(),
        vec![MatchLine::Line("fail from 192.0.2.30".into())],
    );
    t.ban_count = 1;
    t.failures = 1;
    db.add_ban("test", PyNum::Int(600), &t).unwrap();
    drop(db);
    {
        let _srv = start(dir);
        wait_for("Restore Ban of our ticket", || {
            std::fs::read_to_string(dir.join("f2b.log"))
                .unwrap_or_default()
                .contains(&format!(
                    "NOTICE  {}",
                    Event::Ban {
                        jail: "test".into(),
                        id: IpAddr::parse("192.0.2.30"),
                        restored: true
                    }
                ))
        });
        let st = client(dir, &["get", "test", "banip"]);
        let txt = String::from_utf8_lossy(&st.stdout);
        for ip in ["192.0.2.10", "192.0.2.11", "192.0.2.20", "192.0.2.30"] {
            assert!(txt.contains(ip), "{ip} not banned after restore: {txt}");
        }
    }
}
