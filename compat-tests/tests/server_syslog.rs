//! The SYSLOG log target: datagrams to `--syslogsocket` in Python SysLogHandler's
//! shape, `<prio>fail2ban.<module>[pid]: LEVEL message\0`, facility daemon, no time
//! and no padding (what `fail2ban.actions[pid]: NOTICE [jail] Ban <ip>` filters expect).

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use compat_tests::bin;
use compat_tests::server::{cmd, ping, request, Running};
use f2b_protocol::Value;

#[test]
fn syslog_datagrams_have_upstream_shape() {
    let dir = tempfile::tempdir().unwrap();
    let syslog = dir.path().join("log.sock");
    let rx = UnixDatagram::bind(&syslog).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let sock = dir.path().join("run/f2b.sock");
    let child = Command::new(bin("fail2ban-server"))
        .args(["-f", "--async", "-x", "-s"])
        .arg(&sock)
        .arg("-p")
        .arg(dir.path().join("run/f2b.pid"))
        .args([
            "--loglevel",
            "INFO",
            "--logtarget",
            "SYSLOG",
            "--syslogsocket",
        ])
        .arg(&syslog)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _srv = Running { child };
    let t0 = Instant::now();
    while request(&sock, &ping()).is_err() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for c in [
        cmd(&["add", "sy", "polling"]),
        cmd(&["start", "sy"]),
        cmd(&["set", "sy", "banip", "192.0.2.77"]),
    ] {
        let r = request(&sock, &c).unwrap();
        assert!(
            matches!(&r, Value::Tuple(v) if v[0] == Value::Int(0)),
            "{r:?}"
        );
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        match rx.recv(&mut buf) {
            Ok(n) => {
                let d = String::from_utf8_lossy(&buf[..n]).into_owned();
                let done = d.contains("Ban 192.0.2.77");
                got.push(d);
                if done {
                    break;
                }
            }
            Err(_) => continue,
        }
    }
    let start = format!("<30>fail2ban.server[{pid}]: INFO Starting Fail2ban v1.0.2\0");
    assert!(got.contains(&start), "{got:?}");
    let ban = format!("<29>fail2ban.actions[{pid}]: NOTICE [sy] Ban 192.0.2.77\0");
    assert!(got.contains(&ban), "{got:?}");
}
