//! End-to-end harness for `fail2ban-server`: the same scenario runs against Debian's real
//! server ([`Impl::Upstream`], which proves the harness) and ours ([`Impl::Ours`], the
//! acceptance test).
//!
//! - [`Scratch`] is a private configuration directory copied from `/etc/fail2ban` with a
//!   `fail2ban.local` pointing socket, pidfile, log target and database into a temp dir;
//!   jails are added as `jail.d/<name>.local`. No system path is ever used.
//! - [`Server`] runs `fail2ban-server -c <conf> -f -x` (optionally inside a network
//!   namespace), talks to it with the matching `fail2ban-client`, and stops or kills it
//!   on drop.
//! - [`in_ns`], [`Listener`] and [`probe`] run sockets inside namespaces made with
//!   [`crate::netns`] (a thread enters the namespace with `setns`).
//! - [`sshd_line`] and [`gen_authlog`] write our own sshd log lines (no upstream data).

use crate::{bin, copy_tree, require_oracle, target_dir, STOCK_CONF};
use chrono::{DateTime, Local, TimeZone};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Debian's real server.
pub const UPSTREAM_SERVER: &str = "/usr/bin/fail2ban-server";
/// Debian's real client.
pub const UPSTREAM_CLIENT: &str = "/usr/bin/fail2ban-client";

/// Which implementation a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Debian's fail2ban 1.0.2 (proves the harness).
    Upstream,
    /// Our binaries (the acceptance test).
    Ours,
}

impl Impl {
    /// Short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Upstream => "upstream",
            Impl::Ours => "ours",
        }
    }

    /// The server binary.
    pub fn server(self) -> PathBuf {
        match self {
            Impl::Upstream => PathBuf::from(UPSTREAM_SERVER),
            Impl::Ours => ours("fail2ban-server"),
        }
    }

    /// The client binary. `E2E_OURS_CLIENT=upstream` drives our server with Debian's
    /// client (to test the server alone).
    pub fn client(self) -> PathBuf {
        match self {
            Impl::Ours if std::env::var("E2E_OURS_CLIENT").is_ok_and(|v| v == "upstream") => {
                PathBuf::from(UPSTREAM_CLIENT)
            }
            Impl::Upstream => PathBuf::from(UPSTREAM_CLIENT),
            Impl::Ours => ours("fail2ban-client"),
        }
    }

    /// False (after a message) when upstream or Debian's stock configuration (which every
    /// scratch config copies) is missing outside CI; panics under CI.
    pub fn available(self) -> bool {
        require_oracle(STOCK_CONF)
            && match self {
                Impl::Upstream => {
                    require_oracle(UPSTREAM_SERVER) && require_oracle(UPSTREAM_CLIENT)
                }
                Impl::Ours => true,
            }
    }
}

/// Our binary; with `E2E_NO_BUILD` set, the already-built one in the target dir (useful
/// while another crate of the workspace does not compile).
fn ours(name: &str) -> PathBuf {
    if std::env::var_os("E2E_NO_BUILD").is_some() {
        let p = target_dir().join("release").join(name);
        assert!(p.exists(), "{} is not built", p.display());
        return p;
    }
    bin(name)
}

/// Skips (returns false) when not root outside CI; under CI not being root is a failure.
pub fn need_root(what: &str) -> bool {
    if crate::is_root() {
        return true;
    }
    assert!(!crate::under_ci(), "{what} must run as root under CI");
    eprintln!("SKIP: {what} needs root");
    false
}

/// A scratch configuration: stock files, our `fail2ban.local`, our jails.
pub struct Scratch {
    dir: tempfile::TempDir,
    /// The configuration directory (`-c`).
    pub conf: PathBuf,
    /// The control socket.
    pub sock: PathBuf,
    /// The server's own log file.
    pub log: PathBuf,
    /// The sqlite database.
    pub db: PathBuf,
}

impl Scratch {
    /// Copies `/etc/fail2ban` (without its `jail.d`) and points every runtime path into
    /// the temp dir.
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("f2b-e2e")
            .tempdir()
            .unwrap();
        let conf = dir.path().join("conf");
        copy_tree(Path::new(STOCK_CONF), &conf).expect("copy /etc/fail2ban");
        let jd = conf.join("jail.d");
        let _ = std::fs::remove_dir_all(&jd);
        std::fs::create_dir_all(&jd).unwrap();
        let sc = Scratch {
            sock: dir.path().join("f2b.sock"),
            log: dir.path().join("fail2ban.log"),
            db: dir.path().join("fail2ban.sqlite3"),
            conf,
            dir,
        };
        let local = format!(
            "[Definition]\nloglevel = INFO\nlogtarget = {}\nsocket = {}\npidfile = {}\ndbfile = {}\n",
            sc.log.display(),
            sc.sock.display(),
            sc.path("f2b.pid").display(),
            sc.db.display()
        );
        sc.write_conf("fail2ban.local", &local);
        sc
    }

    /// A path inside the temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file relative to the configuration directory.
    pub fn write_conf(&self, rel: &str, text: &str) {
        let p = self.conf.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Writes `jail.d/<name>.local` with section `[name]` and the given options.
    pub fn jail(&self, name: &str, body: &str) {
        self.write_conf(
            &format!("jail.d/{name}.local"),
            &format!("[{name}]\nenabled = true\n{body}\n"),
        );
    }

    /// Appends lines to a file (opened per call, like a writer after rotation would).
    pub fn append(path: &Path, lines: &[String]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let mut buf = String::new();
        for l in lines {
            buf.push_str(l);
            buf.push('\n');
        }
        f.write_all(buf.as_bytes()).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // E2E_KEEP=1 keeps the scratch dirs for a post-mortem
        if std::env::var_os("E2E_KEEP").is_some() {
            let d = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!("kept {}", d.keep().display());
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

/// Runs a command with a timeout; stdout/stderr are read by threads so big outputs do not
/// block. On timeout the process is killed and the output so far returned (status failed).
pub fn run_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn command");
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let te = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: to.join().unwrap(),
        stderr: te.join().unwrap(),
    }
}

/// Polls `f` every `step` until it is true or `timeout` passes; returns the last result.
pub fn wait_until(timeout: Duration, step: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(step);
    }
}

/// The counters of `fail2ban-client status <jail>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JailStatus {
    /// `Currently failed`.
    pub currently_failed: u64,
    /// `Total failed`.
    pub total_failed: u64,
    /// `Currently banned`.
    pub currently_banned: u64,
    /// `Total banned`.
    pub total_banned: u64,
    /// `Banned IP list`.
    pub banned: Vec<String>,
}

impl JailStatus {
    /// Parses the beautified output (`|- Total failed:\t5`).
    pub fn parse(text: &str) -> Option<JailStatus> {
        let mut st = JailStatus::default();
        let mut seen = 0;
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let key = k.trim_start_matches(['|', '`', '-', ' ']).trim();
            let v = v.trim();
            let num = || v.parse::<u64>().ok();
            match key {
                "Currently failed" => st.currently_failed = num()?,
                "Total failed" => st.total_failed = num()?,
                "Currently banned" => st.currently_banned = num()?,
                "Total banned" => st.total_banned = num()?,
                "Banned IP list" => {
                    st.banned = v.split_whitespace().map(str::to_owned).collect();
                }
                _ => continue,
            }
            seen += 1;
        }
        (seen >= 4).then_some(st)
    }
}

/// A running server with its client; stopped (or killed) on drop.
pub struct Server {
    /// The implementation under test.
    pub imp: Impl,
    child: Option<std::process::Child>,
    conf: PathBuf,
    sock: PathBuf,
    log: PathBuf,
    out: PathBuf,
}

impl Server {
    /// Starts `fail2ban-server -c <conf> -f -x` (inside `ns` when given; the unix socket
    /// is reachable from outside) and waits until it answers `ping`.
    pub fn start(imp: Impl, sc: &Scratch, ns: Option<&crate::netns::NetNs>) -> Server {
        Server::try_start(imp, sc, ns).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Server::start`], but a server that exits or never answers is an `Err` with
    /// its output and log.
    pub fn try_start(
        imp: Impl,
        sc: &Scratch,
        ns: Option<&crate::netns::NetNs>,
    ) -> Result<Server, String> {
        let server = imp.server();
        let mut cmd = match ns {
            Some(n) => n.command(server.to_str().unwrap()),
            None => Command::new(&server),
        };
        let out = sc.path(&format!("server-{}.out", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)
            .unwrap();
        cmd.arg("-c")
            .arg(&sc.conf)
            .args(["-f", "-x"])
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f);
        let child = cmd.spawn().expect("spawn server");
        let mut s = Server {
            imp,
            child: Some(child),
            conf: sc.conf.clone(),
            sock: sc.sock.clone(),
            log: sc.log.clone(),
            out,
        };
        let mut gone = false;
        let up = wait_until(Duration::from_secs(30), Duration::from_millis(20), || {
            gone = s.exited().is_some();
            gone || s
                .client_t(&["ping"], Duration::from_secs(5))
                .status
                .success()
        });
        if up && !gone {
            return Ok(s);
        }
        let msg = format!(
            "{} server did not come up (exit {:?}); output:\n{}\nlog:\n{}",
            imp.name(),
            s.exited(),
            s.output(),
            s.log()
        );
        s.kill9();
        Err(msg)
    }

    /// The exit status if the server process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The server process id (0 when gone).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Runs the client (`-c <conf> -s <sock> args…`) with a timeout.
    pub fn client_t(&self, args: &[&str], timeout: Duration) -> Output {
        let mut cmd = Command::new(self.imp.client());
        cmd.arg("-c")
            .arg(&self.conf)
            .arg("-s")
            .arg(&self.sock)
            .args(args);
        run_timeout(cmd, timeout)
    }

    /// Runs the client (60 s timeout).
    pub fn client(&self, args: &[&str]) -> Output {
        self.client_t(args, Duration::from_secs(60))
    }

    /// Runs the client, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.client(args);
        assert!(
            o.status.success(),
            "{} client {:?} failed: {}{}\nlog tail:\n{}",
            self.imp.name(),
            args,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            tail(&self.log(), 30)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `status <jail>` parsed (None when the jail does not answer).
    pub fn status(&self, jail: &str) -> Option<JailStatus> {
        let o = self.client_t(&["status", jail], Duration::from_secs(20));
        if !o.status.success() {
            return None;
        }
        JailStatus::parse(&String::from_utf8_lossy(&o.stdout))
    }

    /// The jail names of `status`.
    pub fn jails(&self) -> Vec<String> {
        let o = self.client_t(&["status"], Duration::from_secs(20));
        let text = String::from_utf8_lossy(&o.stdout);
        text.lines()
            .find_map(|l| l.split_once("Jail list:"))
            .map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits (30 s) until every jail in `names` is listed by `status` and answers.
    pub fn wait_jails(&self, names: &[&str]) {
        let ok = wait_until(Duration::from_secs(30), Duration::from_millis(50), || {
            let have = self.jails();
            names.iter().all(|n| have.iter().any(|h| h == n))
                && names.iter().all(|n| self.status(n).is_some())
        });
        assert!(
            ok,
            "{}: jails {names:?} not started (have {:?}); log:\n{}",
            self.imp.name(),
            self.jails(),
            tail(&self.log(), 40)
        );
    }

    /// Waits until `pred(status(jail))` holds; panics with the log after `timeout`.
    pub fn wait_status(
        &self,
        jail: &str,
        timeout: Duration,
        pred: impl Fn(&JailStatus) -> bool,
    ) -> JailStatus {
        let mut last = None;
        let ok = wait_until(timeout, Duration::from_millis(20), || {
            last = self.status(jail);
            last.as_ref().is_some_and(&pred)
        });
        assert!(
            ok,
            "{}: status of {jail} never matched, last {last:?}; log:\n{}",
            self.imp.name(),
            tail(&self.log(), 40)
        );
        last.unwrap()
    }

    /// Waits until `pred(status(jail))` holds or `timeout` passes; returns the last status.
    pub fn status_after(
        &self,
        jail: &str,
        timeout: Duration,
        pred: impl Fn(&JailStatus) -> bool,
    ) -> JailStatus {
        let mut last = None;
        wait_until(timeout, Duration::from_millis(50), || {
            last = self.status(jail);
            last.as_ref().is_some_and(&pred)
        });
        last.unwrap_or_else(|| panic!("{}: no status for {jail}", self.imp.name()))
    }

    /// The server's log file so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's stdout/stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// `kill -9` the server and reap it (the socket file stays, like after a crash).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `fail2ban-client stop`, then waits (30 s) for the process to end (killed after).
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = self.client_t(&["stop"], Duration::from_secs(30));
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.kill9();
        } else {
            self.stop();
        }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(n)..].join("\n")
}

/// The log messages after the `fail2ban.<module> [pid]: LEVEL ` prefix, i.e.
/// `NOTICE  [sshd] Ban 10.0.0.2` → `NOTICE [sshd] Ban 10.0.0.2` (timestamps, module
/// padding and pids dropped).
pub fn log_messages(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once("]: ")?;
            let rest = rest.trim_start();
            let (level, msg) = rest.split_once(' ')?;
            Some(format!("{level} {}", msg.trim_start()))
        })
        .collect()
}

/// Runs `f` on a new thread that has entered the network namespace `ns` (sockets it
/// creates stay in that namespace).
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        enter_ns(&path);
        f()
    })
    .join()
    .expect("namespace thread panicked")
}

fn enter_ns(path: &str) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a valid namespace fd affects only the calling thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

/// A TCP listener inside a namespace answering every connection with a banner; stopped
/// on drop.
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    /// Listens on `addr` inside `ns`.
    pub fn start(ns: &str, addr: SocketAddr) -> Listener {
        let path = format!("/run/netns/{ns}");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            enter_ns(&path);
            let l = TcpListener::bind(addr).expect("bind listener");
            l.set_nonblocking(true).unwrap();
            tx.send(()).unwrap();
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let _ = c.write_all(b"SSH-2.0-e2e\r\n");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        rx.recv().expect("listener started");
        Listener {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects from inside `ns` to `to` and reads the banner: true when that worked within
/// `timeout` (a refused or dropped connection gives false).
pub fn probe(ns: &str, to: SocketAddr, timeout: Duration) -> bool {
    in_ns(ns, move || {
        let Ok(mut s) = TcpStream::connect_timeout(&to, timeout) else {
            return false;
        };
        s.set_read_timeout(Some(timeout)).unwrap();
        let mut b = [0u8; 7];
        s.read_exact(&mut b).is_ok() && &b == b"SSH-2.0"
    })
}

/// A syslog-style sshd failure line (`Failed password … from <ip> …`) at `t`.
pub fn sshd_line(t: DateTime<Local>, pid: u32, ip: &str) -> String {
    format!(
        "{} e2ehost sshd[{pid}]: Failed password for invalid user admin from {ip} port {} ssh2",
        t.format("%b %e %H:%M:%S"),
        40000 + pid % 20000
    )
}

/// Deterministic auth.log-like lines: `n` lines with timestamps spread evenly over
/// `[start, start + span_s]`, about 30 % sshd failures (from `nips` IPv4 addresses with a
/// skewed popularity), the rest benign sshd/CRON lines. Returns the lines.
pub fn gen_authlog(n: usize, start: i64, span_s: i64, nips: u32, seed: u64) -> Vec<String> {
    let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as u32
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let ts = start + (i as i64 * span_s) / n.max(1) as i64;
        let t = Local.timestamp_opt(ts, 0).unwrap();
        let pid = 1000 + next() % 60000;
        let r = next() % 100;
        let line = if r < 30 {
            // skewed: square of a uniform number favours low indices
            let u = (next() % 1000) as u64;
            let k = (u * u * nips as u64 / 1_000_000) as u32;
            let ip = format!("10.{}.{}.{}", 20 + k / 65536, (k / 256) % 256, k % 256);
            match r % 3 {
                0 => sshd_line(t, pid, &ip),
                1 => format!(
                    "{} e2ehost sshd[{pid}]: Invalid user oracle from {ip} port {}",
                    t.format("%b %e %H:%M:%S"),
                    30000 + pid % 30000
                ),
                _ => format!(
                    "{} e2ehost sshd[{pid}]: Failed password for root from {ip} port {} ssh2",
                    t.format("%b %e %H:%M:%S"),
                    30000 + pid % 30000
                ),
            }
        } else if r < 65 {
            format!(
                "{} e2ehost sshd[{pid}]: Accepted publickey for deploy from 192.0.2.{} port {} ssh2: ED25519 SHA256:e2e",
                t.format("%b %e %H:%M:%S"),
                next() % 250 + 1,
                30000 + pid % 30000
            )
        } else {
            format!(
                "{} e2ehost CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
                t.format("%b %e %H:%M:%S")
            )
        };
        out.push(line);
    }
    out
}
