//! Harness for the control-socket tests (issue 5): the real Python client and ours must
//! be interchangeable, against the real server and ours.
//!
//! - [`Setup`]: a scratch configuration (stock `/etc/fail2ban` read at test time, plus our
//!   `fail2ban.local` and two jails `sshd` and `apache-auth` with the `dummy` action writing
//!   into the temp dir). The socket lives in `<tmp>/run/`, a directory the server creates
//!   itself, like upstream's `/var/run/fail2ban`.
//! - [`Daemon`]: a foreground server (`-f -x -c <conf>`) of either implementation; any
//!   client can talk to it. Stopped on drop (killed when the test panicked).
//! - [`Conn`]: a raw protocol connection with its own framing (independent of the codec
//!   under test), for the hostile-input tests.
//! - [`client`] / [`transcript`]: runs a client binary and records its output, masked with
//!   [`Setup::normalize`] so that two runs in different temp dirs compare equal.
//! - [`probe_as`]: a forked child with a dropped uid tries the socket.
//!
//! Implementations are chosen with [`Impl`] (upstream proves the harness, ours is the
//! acceptance test).

use crate::e2e::{run_timeout, wait_until};
pub use crate::e2e::{Impl, UPSTREAM_CLIENT, UPSTREAM_SERVER};
use crate::{copy_tree, STOCK_CONF};
use f2b_protocol::pickle::encode;
use f2b_protocol::{Reply, Value};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod probe;
pub use probe::{probe_as, Probe};

/// End marker of every protocol message.
pub const END: &[u8] = b"<F2B_END_COMMAND>";
/// What a client sends before closing.
pub const CLOSE: &[u8] = b"<F2B_CLOSE_COMMAND><F2B_END_COMMAND>";

/// A scratch configuration directory and the runtime paths around it.
pub struct Setup {
    _dir: tempfile::TempDir,
    /// The temp dir (mode 0755, so that a dropped uid gets as far as `run/`).
    pub root: PathBuf,
    /// The configuration directory (`-c`).
    pub conf: PathBuf,
    /// The control socket (`<root>/run/f2b.sock`).
    pub sock: PathBuf,
    /// The pid file (`<root>/run/f2b.pid`).
    pub pidfile: PathBuf,
    /// The server's log target.
    pub log: PathBuf,
}

impl Setup {
    /// Copies `/etc/fail2ban` (without `jail.d`), writes `fail2ban.local` and the jails.
    pub fn new() -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("f2b-sock")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let conf = root.join("conf");
        copy_tree(Path::new(STOCK_CONF), &conf).expect("copy /etc/fail2ban");
        let jd = conf.join("jail.d");
        let _ = std::fs::remove_dir_all(&jd);
        std::fs::create_dir_all(&jd).unwrap();
        std::fs::create_dir_all(root.join("logs")).unwrap();
        for f in ["auth.log", "auth2.log", "web.log"] {
            std::fs::write(root.join("logs").join(f), "").unwrap();
        }
        let s = Setup {
            sock: root.join("run/f2b.sock"),
            pidfile: root.join("run/f2b.pid"),
            log: root.join("fail2ban.log"),
            conf,
            root,
            _dir: dir,
        };
        let r = s.root.display().to_string();
        std::fs::write(
            s.conf.join("fail2ban.local"),
            format!(
                "[Definition]\nloglevel = INFO\nlogtarget = {r}/fail2ban.log\nsocket = {r}/run/f2b.sock\n\
                 pidfile = {r}/run/f2b.pid\ndbfile = {r}/f2b.sqlite3\n"
            ),
        )
        .unwrap();
        std::fs::write(
            s.conf.join("jail.d/socket.local"),
            format!(
                "[sshd]\nenabled = true\nbackend = polling\nlogpath = {r}/logs/auth.log\n\
                 action = dummy[target={r}/sshd.dummy]\n\n\
                 [apache-auth]\nenabled = true\nbackend = polling\nlogpath = {r}/logs/web.log\n\
                 action = dummy[target={r}/web.dummy]\n"
            ),
        )
        .unwrap();
        s
    }

    /// Replaces `{dir}` in a session argument by the temp dir.
    pub fn subst(&self, arg: &str) -> String {
        arg.replace("{dir}", &self.root.display().to_string())
    }

    /// Masks what legitimately differs between two runs: the temp dir, wall-clock
    /// timestamps (`2026-11-25 08:55:47[,123]`) and pids in log prefixes (`[1234]:`).
    pub fn normalize(&self, text: &str) -> String {
        let t = text.replace(&self.root.display().to_string(), "<DIR>");
        mask_pids(&mask_times(&t))
    }
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}

/// Replaces `YYYY-MM-DD HH:MM:SS` (with an optional `,mmm`) by `<TIME>`.
pub fn mask_times(s: &str) -> String {
    const PAT: &[u8] = b"dddd-dd-dd dd:dd:dd";
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= PAT.len()
            && PAT.iter().zip(&b[i..]).all(|(p, c)| match p {
                b'd' => c.is_ascii_digit(),
                _ => p == c,
            });
        if fits {
            out.extend_from_slice(b"<TIME>");
            i += PAT.len();
            if b.len() - i >= 4 && b[i] == b',' && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
                i += 4;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("masking keeps UTF-8")
}

/// Replaces `[<digits>]:` by `[<PID>]:`.
pub fn mask_pids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('[') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with("]:") {
            out.push_str("[<PID>]:");
            rest = &after[digits + 2..];
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A raw protocol connection.
pub struct Conn {
    /// The stream.
    pub s: UnixStream,
    /// Bytes received after the last complete reply (pipelined answers).
    rest: Vec<u8>,
}

/// How a server dealt with one raw message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A complete reply (the bytes before the end marker).
    Reply(Vec<u8>),
    /// The connection was closed (or reset) before a complete reply.
    Closed,
    /// No reply and no close within the read timeout.
    Timeout,
}

impl Conn {
    /// Connects with a 30 s read timeout.
    pub fn open(sock: &Path) -> std::io::Result<Conn> {
        let s = UnixStream::connect(sock)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            s,
            rest: Vec::new(),
        })
    }

    /// Sends bytes as they are (a write error means the peer closed: [`Outcome::Closed`]
    /// is then what [`Conn::read_reply`] reports).
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        self.s.write_all(bytes).is_ok()
    }

    /// Reads one reply: up to the first end marker (later bytes are kept for the next
    /// call), or EOF, reset or timeout.
    pub fn read_reply(&mut self) -> Outcome {
        let mut buf = std::mem::take(&mut self.rest);
        let mut chunk = [0u8; 65536];
        let mut scanned = 0;
        loop {
            if let Some(p) = buf[scanned..].windows(END.len()).position(|w| w == END) {
                let at = scanned + p;
                self.rest = buf.split_off(at + END.len());
                buf.truncate(at);
                return Outcome::Reply(buf);
            }
            scanned = buf.len().saturating_sub(END.len() - 1);
            match self.s.read(&mut chunk) {
                Ok(0) => return Outcome::Closed,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Outcome::Timeout
                }
                Err(_) => return Outcome::Closed,
            }
        }
    }

    /// Sends a message (marker appended) and reads the answer.
    pub fn exchange(&mut self, payload: &[u8]) -> Outcome {
        let mut msg = payload.to_vec();
        msg.extend_from_slice(END);
        if !self.send(&msg) {
            // the server may still have answered before closing
            return match self.read_reply() {
                Outcome::Timeout => Outcome::Closed,
                o => o,
            };
        }
        self.read_reply()
    }

    /// Sends a command and decodes the reply.
    pub fn call(&mut self, cmd: &Value) -> std::io::Result<Reply> {
        match self.exchange(&encode(cmd)) {
            Outcome::Reply(b) => Reply::from_pickle(&b).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:?}"))
            }),
            o => Err(std::io::Error::other(format!("no reply: {o:?}"))),
        }
    }

    /// Says goodbye like the real client.
    pub fn close(mut self) {
        let _ = self.s.write_all(CLOSE);
    }
}

/// One command on a fresh connection.
pub fn call(sock: &Path, cmd: &Value) -> std::io::Result<Reply> {
    let mut c = Conn::open(sock)?;
    let r = c.call(cmd);
    c.close();
    r
}

/// A command list of strings.
pub fn cmd(words: &[&str]) -> Value {
    Value::List(words.iter().map(|w| Value::str(*w)).collect())
}

/// True when the server answers `['ping']` with `(0, 'pong')`.
pub fn pings(sock: &Path) -> bool {
    matches!(call(sock, &cmd(&["ping"])), Ok(Reply::Ok(Value::Str(s))) if s == "pong")
}

/// The jail names of `['status']` over the raw protocol.
pub fn jail_list(sock: &Path) -> Option<Vec<String>> {
    let Ok(Reply::Ok(Value::List(items))) = call(sock, &cmd(&["status"])) else {
        return None;
    };
    items.iter().find_map(|it| match it {
        Value::Tuple(kv) if kv.first() == Some(&Value::str("Jail list")) => {
            kv.get(1).and_then(Value::as_str).map(|s| {
                s.split(", ")
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
        }
        _ => None,
    })
}

/// A server running in the foreground on a [`Setup`].
pub struct Daemon {
    /// The server implementation.
    pub imp: Impl,
    child: Option<Child>,
    sock: PathBuf,
    out: PathBuf,
    log: PathBuf,
}

impl Daemon {
    /// Starts `<server> -f -x -c <conf>` and waits (60 s) until both configured jails
    /// are listed by `status` (the configuration stream has then been applied).
    pub fn start(imp: Impl, setup: &Setup) -> Daemon {
        let out = setup.root.join(format!("server-{}.out", imp.name()));
        let f = std::fs::File::create(&out).unwrap();
        let child = Command::new(imp.server())
            .arg("-f")
            .arg("-x")
            .arg("-c")
            .arg(&setup.conf)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("spawn server");
        let mut d = Daemon {
            imp,
            child: Some(child),
            sock: setup.sock.clone(),
            out,
            log: setup.log.clone(),
        };
        let up = wait_until(Duration::from_secs(60), Duration::from_millis(25), || {
            d.running()
                && jail_list(&d.sock).is_some_and(|j| {
                    j.iter().any(|x| x == "sshd") && j.iter().any(|x| x == "apache-auth")
                })
        });
        assert!(
            up,
            "{} server did not come up; output:\n{}\nlog:\n{}",
            imp.name(),
            d.output(),
            d.log()
        );
        d
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The socket path.
    pub fn sock(&self) -> &Path {
        &self.sock
    }

    /// Waits until the process has exited (true) or `timeout` passed (false).
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || !self.running())
    }

    /// The server's stdout/stderr.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The server's log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.running() {
            if let Some(mut c) = self.child.take() {
                let _ = c.wait();
            }
            return;
        }
        if !std::thread::panicking() {
            let _ = call(&self.sock, &cmd(&["stop"]));
            self.wait_exit(Duration::from_secs(15));
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One client invocation, as recorded for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command line after `-c <conf>` (with `{dir}` unexpanded).
    pub args: Vec<String>,
    /// Normalized stdout.
    pub stdout: String,
    /// Normalized stderr.
    pub stderr: String,
    /// Exit code (-1 when killed by a signal or the 60 s timeout).
    pub code: i32,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "$ fail2ban-client {}", self.args.join(" "))?;
        write!(f, "{}", self.stdout)?;
        if !self.stderr.is_empty() {
            write!(f, "[stderr]\n{}", self.stderr)?;
        }
        write!(f, "[rc={}]", self.code)
    }
}

/// Runs `<client> -c <conf> args…` (args with `{dir}` expanded) and records the output.
pub fn client(client: &Path, setup: &Setup, args: &[&str]) -> Run {
    let mut c = Command::new(client);
    c.arg("-c").arg(&setup.conf);
    for a in args {
        c.arg(setup.subst(a));
    }
    let o = run_timeout(c, Duration::from_secs(60));
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdout: setup.normalize(&String::from_utf8_lossy(&o.stdout)),
        stderr: setup.normalize(&String::from_utf8_lossy(&o.stderr)),
        code: o.status.code().unwrap_or(-1),
    }
}

/// Like [`client`], with `input` on the client's stdin (for `-i`).
pub fn client_stdin(client: &Path, setup: &Setup, args: &[&str], input: &str) -> Run {
    let mut c = Command::new(client);
    c.arg("-c").arg(&setup.conf);
    for a in args {
        c.arg(setup.subst(a));
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn client");
    let pid = child.id() as i32;
    let mut stdin = child.stdin.take().unwrap();
    let input = setup.subst(input);
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let o = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o.expect("client output"),
        Err(_) => {
            // SAFETY: killing the client this function started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            rx.recv().unwrap().expect("client output")
        }
    };
    let _ = writer.join();
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdout: setup.normalize(&String::from_utf8_lossy(&o.stdout)),
        stderr: setup.normalize(&String::from_utf8_lossy(&o.stderr)),
        code: o.status.code().unwrap_or(-1),
    }
}

/// Runs a whole session with one client against a server on a fresh [`Setup`]. The
/// server is started by this function and must have ended after the session (the
/// session's last command is `stop`); it is killed otherwise.
pub fn transcript(server: Impl, client_bin: &Path, session: &[&[&str]]) -> Vec<Run> {
    let setup = Setup::new();
    let mut d = Daemon::start(server, &setup);
    let runs: Vec<Run> = session
        .iter()
        .map(|args| client(client_bin, &setup, args))
        .collect();
    let ended = d.wait_exit(Duration::from_secs(20));
    assert!(
        ended || session.last() != Some(&&["stop"][..]),
        "{} server still runs after `stop`; log:\n{}",
        server.name(),
        crate::e2e::tail(&d.log(), 30)
    );
    runs
}

/// Compares two transcripts entry by entry; returns a readable list of differences.
pub fn diff_runs(expected: &[Run], got: &[Run]) -> Vec<String> {
    let mut out = Vec::new();
    for (e, g) in expected.iter().zip(got) {
        if e != g {
            out.push(format!("--- expected (upstream)\n{e}\n+++ got\n{g}"));
        }
    }
    if expected.len() != got.len() {
        out.push(format!(
            "lengths differ: {} vs {}",
            expected.len(),
            got.len()
        ));
    }
    out
}

/// A directory holding a copy of Debian's `fail2ban-client` script next to a symlink
/// `fail2ban-server` → `server`: the real client starts the server found beside itself
/// (`Fail2banServer.getServerPath`, `sys.path[0]`), so this makes it start ours.
pub struct ClientBeside {
    _dir: tempfile::TempDir,
    /// The copied client script.
    pub client: PathBuf,
}

impl ClientBeside {
    /// Builds the directory.
    pub fn new(server: &Path) -> ClientBeside {
        let dir = tempfile::Builder::new()
            .prefix("f2b-sock-bin")
            .tempdir()
            .unwrap();
        let client = dir.path().join("fail2ban-client");
        std::fs::copy(UPSTREAM_CLIENT, &client).expect("copy the real client script");
        std::os::unix::fs::symlink(server, dir.path().join("fail2ban-server")).unwrap();
        ClientBeside { _dir: dir, client }
    }
}

/// The pid in the pid file, when that process is alive.
pub fn live_pid(pidfile: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()?;
    // SAFETY: signal 0 only checks existence.
    (pid > 0 && unsafe { libc::kill(pid, 0) } == 0).then_some(pid)
}

/// Runs `a` on a new thread and `b` on this one, and joins `a` before any panic of `b`
/// propagates, so that the servers and temp dirs of both sides are always cleaned up.
pub fn both<A, B>(
    a: impl FnOnce() -> A + Send + 'static,
    b: impl FnOnce() -> B + std::panic::UnwindSafe,
) -> (A, B)
where
    A: Send + 'static,
{
    let ta = std::thread::spawn(a);
    let rb = std::panic::catch_unwind(b);
    let ra = ta.join();
    let rb = rb.unwrap_or_else(|e| std::panic::resume_unwind(e));
    let ra = ra.unwrap_or_else(|e| std::panic::resume_unwind(e));
    (ra, rb)
}
