//! End to end with Debian's real `fail2ban-client`: a toy server built only from this
//! crate (FrameSplitter → decode → Request → Reply) answers on a Unix socket in a temp
//! dir, and the real client must print what it prints against the real server.

use f2b_protocol::framing::{Frame, FrameSplitter};
use f2b_protocol::pickle::{decode, DecodeMode};
use f2b_protocol::request::{Get, JailGet, Request, Status};
use f2b_protocol::{Reply, RequestError, Value};
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::process::Command;

const CLIENT: &str = "/usr/bin/fail2ban-client";

fn answer(req: Request) -> Reply {
    let ok = Reply::Ok;
    match req {
        Request::Ping => ok(Value::str("pong")),
        Request::Echo(args) => ok(Value::List(args)),
        Request::Status(Status::Server) => ok(Value::list(vec![
            Value::tuple([Value::str("Number of jail"), Value::Int(1)]),
            Value::tuple([Value::str("Jail list"), Value::str("sshd")]),
        ])),
        Request::Status(Status::Jail { jail, .. }) if jail.as_str() != Some("sshd") => {
            Reply::Err(RequestError::unknown_jail(jail).into_exception())
        }
        Request::Get(Get::Jail {
            what: JailGet::MaxRetry,
            ..
        }) => ok(Value::Int(5)),
        Request::Get(Get::Jail {
            what: JailGet::LogPath,
            ..
        }) => ok(Value::list(["/var/log/auth.log", "/var/log/secure"])),
        _ => ok(Value::None),
    }
}

/// Serves one connection after another until the listener is dropped.
fn serve(listener: UnixListener) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { return };
        let mut splitter = FrameSplitter::default();
        let mut buf = [0u8; 4096];
        'conn: loop {
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            splitter.push(&buf[..n]);
            while let Ok(Some(frame)) = splitter.next_frame() {
                let Frame::Message(bytes) = frame else {
                    break 'conn;
                };
                let reply = match decode(&bytes, DecodeMode::Request) {
                    Err(e) => Reply::load_error(&e),
                    Ok(v) => match Request::from_value(&v) {
                        Ok(req) => answer(req),
                        Err(e) => Reply::Err(e.into_exception()),
                    },
                };
                if conn.write_all(&reply.to_wire()).is_err() {
                    break 'conn;
                }
            }
        }
    }
}

#[test]
fn real_client_against_our_codec() {
    if !std::path::Path::new(CLIENT).exists() {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "{CLIENT} missing under CI"
        );
        eprintln!("SKIP: {CLIENT} missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("f2b.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || serve(listener));
    let cases: &[(&[&str], &str, i32)] = &[
        (&["ping"], "Server replied: pong\n", 0),
        (
            &["status"],
            "Status\n|- Number of jail:\t1\n`- Jail list:\tsshd\n",
            0,
        ),
        (&["echo", "hello", "world"], "hello world\n", 0),
        (&["get", "sshd", "maxretry"], "5\n", 0),
        (
            &["get", "sshd", "logpath"],
            "Current monitored log file(s):\n|- /var/log/auth.log\n`- /var/log/secure\n",
            0,
        ),
        (
            &["status", "nojail"],
            "Sorry but the jail 'nojail' does not exist\n",
            255,
        ),
        (&["frobnicate"], "Invalid command\n", 255),
        (
            &["set", "sshd", "maxretry", "x"],
            "invalid literal for int() with base 10: 'x'\n",
            255,
        ),
        (&["set", "sshd"], "Sorry but the command is invalid\n", 255),
    ];
    for (args, want, rc) in cases {
        let out = Command::new(CLIENT)
            .arg("-s")
            .arg(&sock)
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            *want,
            "{args:?}: stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(*rc), "{args:?}");
    }
}
