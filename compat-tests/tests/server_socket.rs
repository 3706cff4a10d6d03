//! The control socket: file mode, refusing a second server, the root-only peer check,
//! malformed frames, and signals.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use compat_tests::server::{cmd, ping, raw_exchange, request, Scratch};
use compat_tests::{bin, is_root};
use f2b_protocol::pickle::{decode, encode, DecodeMode};
use f2b_protocol::Value;

fn pong() -> Value {
    Value::Tuple(vec![Value::Int(0), Value::str("pong")])
}

#[test]
fn malformed_frames_get_an_error_and_the_server_keeps_answering() {
    let sc = Scratch::new("600");
    let _srv = sc.start(&bin("fail2ban-server"));
    let mut s = UnixStream::connect(sc.socket()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for garbage in [
        &b"not a pickle"[..],
        &b"\x80\x05\x95"[..],
        &b""[..],
        // a pickle that would import os.system: refused, never executed
        &b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94."[..],
    ] {
        let reply = raw_exchange(&mut s, garbage).unwrap();
        match decode(&reply, DecodeMode::Reply).unwrap() {
            Value::Str(m) => assert!(m.starts_with("ERROR: "), "{m}"),
            other => panic!("expected a bare error string, got {other:?}"),
        }
    }
    // same connection, then a fresh one
    let reply = raw_exchange(&mut s, &encode(&ping())).unwrap();
    assert_eq!(decode(&reply, DecodeMode::Reply).unwrap(), pong());
    assert_eq!(request(&sc.socket(), &ping()).unwrap(), pong());
    // an unknown command is an exception reply, not a dead server
    match request(&sc.socket(), &cmd(&["frobnicate"])).unwrap() {
        Value::Tuple(v) => assert_eq!(v[0], Value::Int(1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn socket_is_private_and_a_second_server_is_refused() {
    let sc = Scratch::new("600");
    let server = bin("fail2ban-server");
    let _srv = sc.start(&server);
    let mode = std::fs::metadata(sc.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "socket mode {mode:o}");
    let dmode = std::fs::metadata(sc.path("run"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dmode & 0o077, 0, "run dir mode {dmode:o}");
    // without -x a second server must not take the socket over
    let st = std::process::Command::new(&server)
        .args(["-f", "-c", &sc.conf()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_ne!(st.code(), Some(0));
    assert_eq!(request(&sc.socket(), &ping()).unwrap(), pong());
}

#[test]
fn non_root_peer_is_refused_even_when_the_socket_mode_allows_it() {
    if !is_root() {
        eprintln!("SKIP: needs root to drop privileges in a child");
        return;
    }
    let sc = Scratch::new("600");
    let _srv = sc.start(&bin("fail2ban-server"));
    // open the file permissions so that only the peer check stands in the way
    for p in [sc.dir.path().to_path_buf(), sc.path("run"), sc.socket()] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let sock = sc.socket();
    let req = encode(&ping());
    // SAFETY: the child only uses simple syscalls and exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = unsafe {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                libc::_exit(3);
            }
            match UnixStream::connect(&sock) {
                Err(_) => 4,
                Ok(mut s) => {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    match raw_exchange(&mut s, &req) {
                        Ok(reply) => match decode(&reply, DecodeMode::Reply) {
                            Ok(Value::Tuple(_)) => 1, // answered: not refused
                            Ok(Value::Str(m)) if m.starts_with("ERROR") => 0,
                            _ => 2,
                        },
                        Err(_) => 0, // closed without an answer
                    }
                }
            }
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(libc::WIFEXITED(status));
    assert_eq!(libc::WEXITSTATUS(status), 0, "child outcome code");
    // root still gets answers
    assert_eq!(request(&sc.socket(), &ping()).unwrap(), pong());
}

#[test]
fn sigterm_stops_cleanly_and_sigusr1_reopens_the_log() {
    let sc = Scratch::new("600");
    let mut srv = sc.start(&bin("fail2ban-server"));
    // rotate the log away; SIGUSR1 (like `flushlogs`) makes the server reopen it
    std::fs::rename(sc.path("fail2ban.log"), sc.path("fail2ban.log.1")).unwrap();
    unsafe { libc::kill(srv.child.id() as i32, libc::SIGUSR1) };
    let t0 = std::time::Instant::now();
    while !sc.path("fail2ban.log").exists() && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(sc.path("fail2ban.log").exists(), "log not reopened");
    let r = request(&sc.socket(), &cmd(&["flushlogs"])).unwrap();
    assert_eq!(
        r,
        Value::Tuple(vec![Value::Int(0), Value::str("rolled over")])
    );
    unsafe { libc::kill(srv.child.id() as i32, libc::SIGTERM) };
    assert_eq!(srv.wait(Duration::from_secs(10)), Some(0));
    assert!(!sc.socket().exists());
    let log = std::fs::read_to_string(sc.path("fail2ban.log")).unwrap();
    assert!(log.contains("Exiting Fail2ban"), "{log}");
}
