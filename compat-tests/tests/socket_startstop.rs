//! `fail2ban-client start` / `stop` (issue 5): the real client and ours both start OUR
//! server from the configuration (and stop it), printing what the real client prints
//! with the real server.
//!
//! The real client starts the `fail2ban-server` found beside itself; to make it start
//! ours, a copy of Debian's client script is put next to a symlink to our server
//! ([`ClientBeside`]). Our client finds our server beside itself the same way.
//!
//! Session per pairing: `start`, `start` (already running), `status`, `restart`, `stop`, `stop`
//! (not running), `status`, then with a stale socket file `start` (refused) and
//! `-x start`, `stop`. After `start`, the pid file names a live process that runs the
//! expected server binary and the configured jails are up; after `stop`, that process
//! is gone and the socket removed.

use compat_tests::e2e::wait_until;
use compat_tests::socket::{
    both, client, diff_runs, jail_list, live_pid, ClientBeside, Impl, Run, Setup, UPSTREAM_CLIENT,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Kills a server left running by a failed test (it was started through the client,
/// so it is not our child; the pid comes from its pid file).
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = live_pid(&self.0) {
            // SAFETY: signalling the daemon this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Runs the session with `client_bin`; `server_exe` is the binary the started daemon must
/// run (None: any `fail2ban-server`, e.g. upstream's under the Python interpreter).
fn session(client_bin: &Path, server_exe: Option<PathBuf>) -> Vec<Run> {
    let setup = Setup::new();
    let _reaper = Reaper(setup.pidfile.clone());
    let mut runs = vec![client(client_bin, &setup, &["start"])];
    let pid = live_pid(&setup.pidfile).unwrap_or_else(|| {
        panic!(
            "no live server after `start`: {}\nlog:\n{}",
            runs[0],
            std::fs::read_to_string(&setup.log).unwrap_or_default()
        )
    });
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("fail2ban-server"),
        "pid {pid} is not a fail2ban-server: {}",
        String::from_utf8_lossy(&cmdline)
    );
    if let Some(exe) = &server_exe {
        let running = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(
            running,
            exe.canonicalize().unwrap(),
            "`start` ran another server"
        );
    }
    assert_eq!(
        jail_list(&setup.sock),
        Some(vec!["apache-auth".to_string(), "sshd".to_string()]),
        "jails of the configuration after `start`"
    );
    runs.push(client(client_bin, &setup, &["start"]));
    runs.push(client(client_bin, &setup, &["status"]));
    // `restart`: stop, wait, start a new process
    runs.push(client(client_bin, &setup, &["restart"]));
    let old = pid;
    let pid = live_pid(&setup.pidfile).expect("a live server after `restart`");
    assert_ne!(pid, old, "`restart` kept the old process");
    assert!(ends(old), "old server {old} survived `restart`");
    if let Some(exe) = &server_exe {
        let running = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(
            &running,
            &exe.canonicalize().unwrap(),
            "`restart` ran another server"
        );
    }
    runs.push(client(client_bin, &setup, &["stop"]));
    assert!(ends(pid), "server {pid} still runs after `stop`");
    assert!(!setup.sock.exists(), "socket left behind after `stop`");
    runs.push(client(client_bin, &setup, &["stop"]));
    runs.push(client(client_bin, &setup, &["status"]));

    // a stale socket file: `start` refuses, `-x start` removes it and starts
    std::fs::create_dir_all(setup.sock.parent().unwrap()).unwrap();
    std::fs::write(&setup.sock, "").unwrap();
    runs.push(client(client_bin, &setup, &["start"]));
    assert!(
        live_pid(&setup.pidfile).is_none(),
        "`start` ran over a stale socket"
    );
    runs.push(client(client_bin, &setup, &["-x", "start"]));
    let pid = live_pid(&setup.pidfile).expect("a live server after `-x start`");
    runs.push(client(client_bin, &setup, &["stop"]));
    assert!(ends(pid), "server {pid} still runs after the second `stop`");
    runs
}

/// Waits (15 s) until process `pid` has ended (gone, or a zombie nobody reaped yet).
fn ends(pid: i32) -> bool {
    wait_until(Duration::from_secs(15), Duration::from_millis(20), || {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // the state follows the parenthesised command name
            Ok(st) => st
                .rsplit_once(") ")
                .is_some_and(|(_, r)| r.starts_with('Z')),
        }
    })
}

fn expected() -> Vec<Run> {
    session(UPSTREAM_CLIENT.as_ref(), None)
}

/// Runs `ours` while the upstream session runs in a thread.
fn compare(name: &str, ours: impl FnOnce() -> Vec<Run> + std::panic::UnwindSafe) {
    let (want, got) = both(expected, ours);
    let d = diff_runs(&want, &got);
    assert!(
        d.is_empty(),
        "{name}: {} differences:\n{}",
        d.len(),
        d.join("\n\n")
    );
}

#[test]
fn real_client_starts_and_stops_our_server() {
    if !Impl::Upstream.available() {
        return;
    }
    let ours = Impl::Ours.server();
    let beside = ClientBeside::new(&ours);
    compare("real client, our server", || {
        session(&beside.client, Some(ours))
    });
}

#[test]
fn our_client_starts_and_stops_our_server() {
    if !Impl::Upstream.available() {
        return;
    }
    compare("our client, our server", || {
        session(&Impl::Ours.client(), Some(Impl::Ours.server()))
    });
}
