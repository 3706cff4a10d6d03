//! Scratch fail2ban setups for server tests: a temporary directory holding a small
//! configuration of our own (a test filter, an action writing `+ip`/`-ip` lines to a
//! file), the watched log, the socket, pid file, database and server log, plus a raw
//! protocol client.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use f2b_protocol::pickle::{decode, encode, DecodeMode};
use f2b_protocol::Value;

/// End marker of a protocol message.
pub const END: &[u8] = b"<F2B_END_COMMAND>";

/// A scratch configuration directory and the files around it.
pub struct Scratch {
    /// The temporary directory (removed on drop).
    pub dir: tempfile::TempDir,
}

impl Scratch {
    /// Writes the configuration: jail `test` watching `auth.log`, `maxretry` 3,
    /// the given `bantime`, action `test-file` writing to `actions.txt`.
    pub fn new(bantime: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("f2b-srv-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        // run/ is left to the server, which creates it private (umask 077)
        for sub in ["etc/filter.d", "etc/action.d", "etc/jail.d"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let p = |n: &str| d.join(n).display().to_string();
        std::fs::write(
            d.join("etc/fail2ban.conf"),
            format!(
                "[Definition]\nloglevel = INFO\nlogtarget = {}\nsyslogsocket = auto\nsocket = {}\npidfile = {}\ndbfile = {}\ndbpurgeage = 1d\nallowipv6 = auto\n",
                p("fail2ban.log"),
                p("run/f2b.sock"),
                p("run/f2b.pid"),
                p("f2b.sqlite3")
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("etc/filter.d/test-auth.conf"),
            "[Definition]\nfailregex = ^\\s*\\S+ test-auth\\[\\d+\\]: Failed password for \\S+ from <HOST>\\s*$\nignoreregex =\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/action.d/test-file.conf"),
            "[Definition]\nactionstart = touch <target>\nactionstop =\nactioncheck =\nactionban = echo \"+<ip>\" >> <target>\nactionunban = echo \"-<ip>\" >> <target>\n\n[Init]\ntarget = /dev/null\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/jail.conf"),
            format!(
                "[DEFAULT]\nbackend = polling\n\n[test]\nenabled = true\nfilter = test-auth\nlogpath = {}\nmaxretry = 3\nfindtime = 600\nbantime = {bantime}\naction = test-file[target={}]\n",
                p("auth.log"),
                p("actions.txt")
            ),
        )
        .unwrap();
        std::fs::write(d.join("auth.log"), "").unwrap();
        Scratch { dir }
    }

    /// A path inside the scratch directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The configuration directory (`-c`).
    pub fn conf(&self) -> String {
        self.path("etc").display().to_string()
    }

    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        self.path("run/f2b.sock")
    }

    /// Appends failure lines for `ip` (dated now) to the watched log.
    pub fn fail(&self, ip: &str, n: usize) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path("auth.log"))
            .unwrap();
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        for _ in 0..n {
            writeln!(
                f,
                "{now} host test-auth[42]: Failed password for root from {ip}"
            )
            .unwrap();
        }
    }

    /// The lines the test action wrote so far.
    pub fn actions(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("actions.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Replaces the jail's action line (e.g. a stock action copied with
    /// [`Scratch::copy_stock_actions`]) and its bantime.
    pub fn set_action(&self, action: &str, bantime: &str) {
        let p = self.path("etc/jail.conf");
        let text = std::fs::read_to_string(&p).unwrap();
        let out: Vec<String> = text
            .lines()
            .map(|l| {
                if l.starts_with("action = ") {
                    format!("action = {action}")
                } else if l.starts_with("bantime = ") {
                    format!("bantime = {bantime}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        std::fs::write(&p, out.join("\n") + "\n").unwrap();
    }

    /// Copies stock action files from Debian's installed configuration into the
    /// scratch configuration (at test time; nothing is copied into the repository).
    pub fn copy_stock_actions(&self, names: &[&str]) -> std::io::Result<()> {
        for n in names {
            std::fs::copy(
                Path::new(crate::STOCK_CONF).join("action.d").join(n),
                self.path("etc/action.d").join(n),
            )?;
        }
        Ok(())
    }

    /// Starts a server binary in the foreground on this configuration
    /// (`-f -x -c etc`), and waits until it answers `ping`.
    pub fn start(&self, server_bin: &Path) -> Running {
        self.start_cmd(Command::new(server_bin))
    }

    /// Like [`Scratch::start`] with a prepared command (e.g. `ip netns exec … server`).
    pub fn start_cmd(&self, mut cmd: Command) -> Running {
        let server_bin = format!("{cmd:?}");
        let child = cmd
            .args(["-f", "-x", "-c", &self.conf()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let r = Running { child };
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Value::Tuple(v)) = request(&self.socket(), &ping()) {
                if v.get(1) == Some(&Value::str("pong")) {
                    return r;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server {server_bin} did not answer within 20 s");
    }

    /// Waits until `pred` holds for the action lines (at most `max`).
    pub fn wait_actions(&self, max: Duration, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let t0 = Instant::now();
        loop {
            let a = self.actions();
            if pred(&a) || t0.elapsed() > max {
                return a;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A running server process (killed on drop if still alive).
pub struct Running {
    /// The process.
    pub child: Child,
}

impl Running {
    /// Waits up to `max` for the process to exit; returns its status code.
    pub fn wait(&mut self, max: Duration) -> Option<i32> {
        let t0 = Instant::now();
        while t0.elapsed() < max {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling our own child process.
            unsafe {
                libc::kill(self.child.id() as i32, libc::SIGTERM);
            }
            if self.wait(Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// `['ping']`.
pub fn ping() -> Value {
    cmd(&["ping"])
}

/// A command list of strings.
pub fn cmd(words: &[&str]) -> Value {
    Value::List(words.iter().map(|w| Value::str(*w)).collect())
}

/// Sends raw bytes (one frame, marker appended) and returns the raw reply (marker
/// stripped).
pub fn raw_exchange(stream: &mut UnixStream, frame: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut msg = frame.to_vec();
    msg.extend_from_slice(END);
    stream.write_all(&msg)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.ends_with(END) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before a reply",
            ));
        }
        out.extend_from_slice(&buf[..n]);
    }
    out.truncate(out.len() - END.len());
    Ok(out)
}

/// One request on a fresh connection; returns the decoded reply.
pub fn request(sock: &Path, req: &Value) -> std::io::Result<Value> {
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let reply = raw_exchange(&mut s, &encode(req))?;
    let _ = s.write_all(b"<F2B_CLOSE_COMMAND><F2B_END_COMMAND>");
    decode(&reply, DecodeMode::Reply)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
}
