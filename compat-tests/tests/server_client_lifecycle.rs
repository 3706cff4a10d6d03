//! Our `fail2ban-client` drives our server's life cycle like upstream's client:
//! `start` spawns `fail2ban-server` (next to the client binary), waits for it and sends
//! the configuration stream (`Server ready`); `reload`, `restart <jail>`, `restart`
//! and `stop` behave as upstream; a ban survives `restart` through the database.

use std::process::{Command, Output};
use std::time::Duration;

use compat_tests::bin;
use compat_tests::server::Scratch;

fn client(sc: &Scratch, args: &[&str]) -> Output {
    Command::new(bin("fail2ban-client"))
        .arg("-c")
        .arg(sc.conf())
        .args(args)
        .output()
        .expect("run our fail2ban-client")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn start_reload_restart_stop() {
    let sc = Scratch::new("600");
    let o = client(&sc, &["start"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "Server ready\n");
    assert!(sc.socket().exists());

    // a second start is refused
    let o = client(&sc, &["start"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Server already running"));

    let o = client(&sc, &["set", "test", "banip", "203.0.113.5"]);
    assert_eq!(stdout(&o), "1\n");
    let o = client(&sc, &["reload"]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "OK\n".to_string()));
    let o = client(&sc, &["restart", "test"]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "OK\n".to_string()));
    let o = client(&sc, &["restart"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).ends_with("Server ready\n"), "{}", stdout(&o));
    // restored from the database after the restarts (queued to the actions thread
    // at jail start, so it shows up shortly after `Server ready`, as upstream)
    let t0 = std::time::Instant::now();
    let mut banned = String::new();
    while t0.elapsed() < Duration::from_secs(10) {
        banned = stdout(&client(&sc, &["get", "test", "banned", "203.0.113.5"]));
        if banned == "1\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(banned, "1\n");

    let o = client(&sc, &["stop"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "Shutdown successful\n".to_string())
    );
    let t0 = std::time::Instant::now();
    while sc.socket().exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!sc.socket().exists());
    let o = client(&sc, &["ping"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Is fail2ban running?"));
    let log = std::fs::read_to_string(sc.path("fail2ban.log")).unwrap();
    assert!(log.contains("Restore Ban 203.0.113.5"), "{log}");
}
