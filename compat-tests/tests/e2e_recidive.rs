//! Issue 4, point 2: the admin guide's recidive scenario. One address is banned by three
//! different jails (sshd, proftpd, vsftpd); the `recidive` jail reads the server's own log
//! file, counts the three `Ban` lines and bans the address permanently (bantime = -1).
//! Dummy actions write to files in the scratch dir.

use compat_tests::e2e::{Impl, Scratch, Server};
use std::time::Duration;

const IP: &str = "192.0.2.77";

fn lines(jail: &str, ts: &str, n: u32) -> Vec<String> {
    (0..n)
        .map(|i| match jail {
            "sshd" => compat_tests::e2e::sshd_line(chrono::Local::now(), 700 + i, IP),
            "proftpd" => format!(
                "{ts} e2ehost proftpd[{}] e2ehost.example ({IP}[{IP}]): USER bob: no such user \
                 found from {IP} [{IP}] to 198.51.100.1:21",
                800 + i
            ),
            _ => format!(
                "{ts} e2ehost vsftpd[{}]: pam_unix(vsftpd:auth): authentication failure; \
                 logname= uid=0 euid=0 tty=ftp ruser=carol rhost={IP}  user=carol",
                900 + i
            ),
        })
        .collect()
}

fn recidive(imp: Impl) {
    if !imp.available() {
        return;
    }
    let sc = Scratch::new();
    let dummy = |j: &str| {
        format!(
            "dummy[target=\"{}\"]",
            sc.path(&format!("{j}.dummy")).display()
        )
    };
    for j in ["sshd", "proftpd", "vsftpd"] {
        let log = sc.path(&format!("{j}.log"));
        Scratch::append(&log, &[]);
        sc.jail(
            j,
            &format!(
                "logpath = {}\nbackend = auto\nmaxretry = 2\nfindtime = 600\nbantime = 600\naction = {}\n",
                log.display(),
                dummy(j)
            ),
        );
    }
    // the log must exist when the configuration is read
    Scratch::append(&sc.log, &[]);
    sc.jail(
        "recidive",
        &format!(
            "logpath = {}\nbackend = auto\nmaxretry = 3\nfindtime = 1d\nbantime = -1\naction = {}\n",
            sc.log.display(),
            dummy("recidive")
        ),
    );
    let srv = Server::start(imp, &sc, None);
    srv.wait_jails(&["sshd", "proftpd", "vsftpd", "recidive"]);

    let ts = chrono::Local::now().format("%b %e %H:%M:%S").to_string();
    for (i, j) in ["sshd", "proftpd", "vsftpd"].into_iter().enumerate() {
        Scratch::append(&sc.path(&format!("{j}.log")), &lines(j, &ts, 2));
        let st = srv.wait_status(j, Duration::from_secs(10), |s| s.currently_banned == 1);
        assert_eq!(st.banned, vec![IP.to_string()], "{j}");
        if i < 2 {
            // two jails' bans are not enough
            let r = srv.wait_status("recidive", Duration::from_secs(10), |s| {
                s.total_failed == i as u64 + 1
            });
            assert_eq!(r.currently_banned, 0, "{}: {r:?}", imp.name());
        }
    }
    let r = srv.wait_status("recidive", Duration::from_secs(10), |s| {
        s.currently_banned == 1
    });
    assert_eq!(
        (r.total_failed, r.banned.clone()),
        (3, vec![IP.to_string()])
    );

    // permanent: bantime -1, listed as never ending, written so to the database
    assert_eq!(srv.ok(&["get", "recidive", "bantime"]).trim(), "-1");
    let with_time = srv.ok(&["get", "recidive", "banip", "--with-time"]);
    assert!(
        with_time.contains(IP) && with_time.contains("+ -1 = 9999-12-31 23:59:59"),
        "{}: {with_time}",
        imp.name()
    );
    let log = srv.log();
    for j in ["sshd", "proftpd", "vsftpd", "recidive"] {
        let want = format!("NOTICE  [{j}] Ban {IP}");
        assert_eq!(
            log.matches(&want).count(),
            1,
            "{}: {want}\n{log}",
            imp.name()
        );
        let actions = std::fs::read_to_string(sc.path(&format!("{j}.dummy"))).unwrap();
        assert!(
            actions.lines().any(|l| l == format!("+{IP}")),
            "{j}: {actions}"
        );
    }
    assert_eq!(log.matches(&format!("[recidive] Found {IP}")).count(), 3);
    drop(srv);
    if compat_tests::require_oracle("/usr/bin/sqlite3") {
        let o = std::process::Command::new("sqlite3")
            .arg(&sc.db)
            .arg(format!(
                "select bantime from bips where jail='recidive' and ip='{IP}'"
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "-1");
    }
}

#[test]
fn upstream_recidive_after_three_jails() {
    recidive(Impl::Upstream);
}

#[test]
fn ours_recidive_after_three_jails() {
    recidive(Impl::Ours);
}
