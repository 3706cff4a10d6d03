//! The socket side of `fail2ban-client` (upstream `Fail2banClient.__processCommand`,
//! `__processCmd`, `__startServer`): sends pickled commands over the control socket,
//! prints replies through the beautifier, and implements the client-side commands
//! `start` (spawn `fail2ban-server`, wait for it, send the configuration stream),
//! `restart`, `reload` (the stream is built here) and `ping [timeout]`.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use f2b_config::{read_stream, Configurator};
use f2b_protocol::beautify::beautify;
use f2b_protocol::framing::{close_message, read_reply, with_end};
use f2b_protocol::pickle::{decode, encode, DecodeMode};
use f2b_protocol::Value;

use crate::cli::Conf;
use crate::Logger;

/// Largest reply accepted from the server.
const MAX_REPLY: usize = 256 << 20;

/// Why a command could not be exchanged.
enum SockErr {
    /// Connect/send/receive failed.
    Io(std::io::Error),
    /// The reply could not be decoded.
    Decode(String),
}

/// One connection to the server.
struct Client {
    stream: UnixStream,
}

impl Client {
    fn connect(sock: &str, timeout: Option<f64>) -> Result<Client, SockErr> {
        let stream = UnixStream::connect(sock).map_err(SockErr::Io)?;
        let t = timeout.filter(|t| *t > 0.0).map(Duration::from_secs_f64);
        stream.set_read_timeout(t).map_err(SockErr::Io)?;
        stream.set_write_timeout(t).map_err(SockErr::Io)?;
        Ok(Client { stream })
    }

    fn send(&mut self, cmd: &Value) -> Result<Value, SockErr> {
        self.stream
            .write_all(&with_end(&encode(cmd)))
            .map_err(SockErr::Io)?;
        let reply = read_reply(&mut self.stream, MAX_REPLY).map_err(SockErr::Io)?;
        decode(&reply, DecodeMode::Reply).map_err(|e| SockErr::Decode(e.to_string()))
    }

    fn close(mut self) {
        let _ = self.stream.write_all(&close_message());
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

struct Ctx<'a, 'b> {
    conf: &'a Conf,
    out: &'a mut dyn Write,
    log: &'a mut Logger<'b>,
}

fn socket_of(conf: &Conf) -> String {
    conf.socket
        .clone()
        .unwrap_or_else(|| "/var/run/fail2ban/fail2ban.sock".into())
}

fn strs(words: &[String]) -> Value {
    Value::List(words.iter().map(|w| Value::str(w.clone())).collect())
}

impl Ctx<'_, '_> {
    /// Upstream `__logSocketError`.
    fn log_socket_error(&mut self, e: &std::io::Error, error_only: bool) {
        let sock = socket_of(self.conf);
        let p = Path::new(&sock);
        if p.exists() {
            if e.kind() != std::io::ErrorKind::PermissionDenied {
                if error_only {
                    self.log.error("fail2ban", &e.to_string());
                } else {
                    self.log.error(
                        "fail2ban",
                        &format!("[{e}] Unable to contact server. Is it running?"),
                    );
                }
            } else {
                self.log.error(
                    "fail2ban",
                    &format!("Permission denied to socket: {sock}, (you must be root)"),
                );
            }
        } else {
            self.log.error(
                "fail2ban",
                &format!("Failed to access socket path: {sock}. Is fail2ban running?"),
            );
        }
    }

    /// Upstream `__processCmd`: sends each command on one connection; prints results
    /// when `show` (always for `echo` and `server-status`). True when all succeeded.
    fn process_cmd(&mut self, cmds: &[Value], show: bool, timeout: Option<f64>) -> bool {
        let sock = socket_of(self.conf);
        let mut client: Option<Client> = None;
        let mut ok = true;
        for c in cmds {
            let words = c.as_seq().unwrap_or(&[]);
            let name = words.first().and_then(Value::as_str).unwrap_or("");
            let res = match client.as_mut() {
                Some(cl) => cl.send(c),
                None => match Client::connect(&sock, timeout) {
                    Ok(mut cl) => {
                        let r = cl.send(c);
                        client = Some(cl);
                        r
                    }
                    Err(e) => Err(e),
                },
            };
            match res {
                Ok(Value::Tuple(v)) if v.len() == 2 && v[0] == Value::Int(0) => {
                    if show || name == "echo" || name == "server-status" {
                        let b = beautify(words, &v[1], true);
                        let _ = writeln!(self.out, "{}", b.text);
                    }
                }
                Ok(Value::Tuple(v)) if v.len() == 2 => {
                    let args = match &v[1] {
                        Value::Exception { class, args, .. } => {
                            // OSError's .args keep only (errno, strerror); the protocol
                            // crate's repr already drops the filename, so follow it
                            let full = v[1].repr();
                            let two = args.len() > 2
                                && Value::Tuple(args[..2].to_vec()).repr()
                                    == full[class.len().min(full.len())..];
                            if two {
                                Value::Tuple(args[..2].to_vec())
                            } else {
                                Value::Tuple(args.clone())
                            }
                        }
                        other => Value::Tuple(vec![other.clone()]),
                    };
                    self.log.error("fail2ban", &format!("NOK: {}", args.repr()));
                    if show {
                        let _ = writeln!(
                            self.out,
                            "{}",
                            f2b_protocol::beautify::beautify_error(&v[1])
                        );
                    }
                    ok = false;
                }
                Ok(other) => {
                    // a bare "ERROR: ..." string or anything unexpected
                    if show {
                        self.log.error("fail2ban", &other.str_());
                    }
                    ok = false;
                }
                Err(SockErr::Io(e)) => {
                    if show || (self.conf.verbose > 1 && name != "ping") {
                        self.log_socket_error(&e, name == "ping");
                    }
                    if let Some(cl) = client {
                        cl.close();
                    }
                    return false;
                }
                Err(SockErr::Decode(e)) => {
                    if show || self.conf.verbose > 1 {
                        self.log.error("fail2ban", &e);
                    }
                    if let Some(cl) = client {
                        cl.close();
                    }
                    return false;
                }
            }
        }
        if let Some(cl) = client {
            cl.close();
        }
        let _ = self.out.flush();
        ok
    }

    fn ping(&mut self, timeout: f64) -> bool {
        let cmd = Value::List(vec![Value::str("ping"), Value::Float(timeout)]);
        self.process_cmd(&[cmd], false, Some(timeout))
    }

    /// Upstream `__waitOnServer`: polls `ping` with growing intervals.
    fn wait_on_server(&mut self, alive: bool) -> bool {
        let sock = socket_of(self.conf);
        let start = Instant::now();
        let mut sl = 0.0125 / 2.0;
        loop {
            let runf = Path::new(&sock).exists() && self.ping(sl);
            if runf == alive {
                return true;
            }
            let waited = start.elapsed().as_secs_f64();
            if waited >= self.conf.timeout {
                self.log.error("fail2ban", "Failed to start server");
                return false;
            }
            sl = (sl * 2.0).min(if waited > 0.2 { 0.5 } else { 0.1 });
            std::thread::sleep(Duration::from_secs_f64(sl));
        }
    }

    fn update_main(&self) -> Vec<(String, Value)> {
        [
            ("loglevel", &self.conf.loglevel),
            ("logtarget", &self.conf.logtarget),
            ("syslogsocket", &self.conf.syslogsocket),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::str(v.as_str()))))
        .collect()
    }

    /// Upstream `readConfig(jail)`.
    fn read_config(&mut self, jail: Option<&str>) -> Option<Vec<Value>> {
        let mut cfg = Configurator::new(&self.conf.conf);
        cfg.skip_broken_jails(true);
        let r = read_stream(&mut cfg, jail, &self.update_main(), true, false);
        self.log.write_all(&cfg.take_diags());
        if r.ok {
            r.stream
        } else {
            None
        }
    }

    fn server_path() -> PathBuf {
        if let Ok(exe) = std::env::current_exe() {
            if let Some(dir) = exe.parent() {
                let p = dir.join("fail2ban-server");
                if p.is_file() {
                    return p;
                }
            }
        }
        PathBuf::from("fail2ban-server")
    }

    /// Upstream `__startServer`.
    fn start(&mut self) -> bool {
        if self.ping(0.1) {
            self.log.error("fail2ban", "Server already running");
            return false;
        }
        let Some(stream) = self.read_config(None) else {
            return false;
        };
        let sock = socket_of(self.conf);
        if !self.conf.force && Path::new(&sock).exists() {
            self.log.error(
                "fail2ban",
                "Fail2ban seems to be in unexpected state (not running but the socket exists)",
            );
            return false;
        }
        let mut args: Vec<String> = vec!["--async".into()];
        args.push(if self.conf.background { "-b" } else { "-f" }.into());
        args.extend(["-s".into(), sock.clone()]);
        args.extend([
            "-p".into(),
            self.conf
                .pidfile
                .clone()
                .unwrap_or_else(|| "/var/run/fail2ban/fail2ban.pid".into()),
        ]);
        if self.conf.force {
            args.push("-x".into());
        }
        if self.conf.verbose > 1 {
            args.push(format!("-{}", "v".repeat((self.conf.verbose - 1) as usize)));
        }
        for (k, v) in [
            ("loglevel", &self.conf.loglevel),
            ("logtarget", &self.conf.logtarget),
            ("syslogsocket", &self.conf.syslogsocket),
        ] {
            if let Some(v) = v {
                args.push(format!("--{k}"));
                args.push(v.clone());
            }
        }
        let exe = Self::server_path();
        let mut child = match std::process::Command::new(&exe).args(&args).spawn() {
            Ok(c) => c,
            Err(e) => {
                self.log.error(
                    "fail2ban",
                    &format!(
                        "Exception while starting server {}",
                        if self.conf.background {
                            "background"
                        } else {
                            "foreground"
                        }
                    ),
                );
                self.log.error("fail2ban", &e.to_string());
                return false;
            }
        };
        if self.conf.background {
            // the server daemonizes: its first process exits once the daemon is up
            let _ = child.wait();
        }
        if !self.wait_on_server(true) {
            self.log
                .error("fail2ban", "Could not find server, waiting failed");
            return false;
        }
        let cmds = vec![
            Value::List(vec![Value::str("server-stream"), Value::List(stream)]),
            Value::List(vec![Value::str("server-status")]),
        ];
        let ok = self.process_cmd(&cmds, false, None);
        if !self.conf.background {
            if !ok {
                let _ = self.process_cmd(&[strs(&["stop".into()])], false, None);
            }
            // foreground: the client lives as long as the server
            let st = child.wait();
            return ok && st.map(|s| s.success()).unwrap_or(false);
        }
        ok
    }

    /// Upstream `__processCommand`.
    fn process_command(&mut self, cmd: &[String]) -> bool {
        if cmd.len() == 1 && cmd[0] == "start" {
            return self.start();
        }
        if !cmd.is_empty() && cmd[0] == "restart" {
            if cmd.len() > 1 {
                let mut c = vec!["reload".to_string(), "--restart".to_string()];
                c.extend_from_slice(&cmd[1..]);
                return self.process_command(&c);
            }
            self.process_command(&["stop".to_string()]);
            if !self.wait_on_server(false) {
                self.log.error("fail2ban", "Could not stop server");
                return false;
            }
            return self.process_command(&["start".to_string()]);
        }
        if !cmd.is_empty() && cmd[0] == "reload" {
            let mut rest: Vec<String> = cmd[1..].to_vec();
            let mut opts = Vec::new();
            while !rest.is_empty() {
                if ["--restart", "--unban", "--if-exists"].contains(&rest[0].as_str()) {
                    opts.push(rest.remove(0));
                } else {
                    if rest.len() > 1 {
                        let r = Value::List(rest.iter().map(|s| Value::str(s.clone())).collect());
                        self.log.error(
                            "fail2ban",
                            &format!("Unexpected argument(s) for reload: {}", r.repr()),
                        );
                        return false;
                    }
                    break;
                }
            }
            let alive = self.process_cmd(&[strs(&["ping".into()])], false, None);
            if !alive {
                self.log.error("fail2ban", "Could not find server");
                return false;
            }
            let jail = match rest.first() {
                None => "--all".to_string(),
                Some(j) => j.clone(),
            };
            let stream = if jail == "--all" {
                self.read_config(None)
            } else {
                self.read_config(Some(&jail))
            };
            let Some(stream) = stream else { return false };
            let req = Value::List(vec![
                Value::str("reload"),
                Value::str(jail),
                strs(&opts),
                Value::List(stream),
            ]);
            return self.process_cmd(&[req], true, None);
        }
        if cmd.len() > 1 && cmd[0] == "ping" {
            let t = cmd[1].parse::<f64>().ok();
            return self.process_cmd(&[strs(cmd)], true, t);
        }
        self.process_cmd(&[strs(cmd)], true, None)
    }
}

/// Runs a server command (`args` = the words after the options); returns the exit
/// code (0 or 255).
pub fn run(conf: &Conf, args: &[String], out: &mut dyn Write, log: &mut Logger) -> i32 {
    let mut ctx = Ctx { conf, out, log };
    if conf.interactive {
        return interactive(&mut ctx, args);
    }
    if ctx.process_command(args) {
        0
    } else {
        255
    }
}

/// `-i`: reads commands from stdin (prompt `fail2ban> `) until `exit`/`quit`/EOF.
fn interactive(ctx: &mut Ctx, args: &[String]) -> i32 {
    if !args.is_empty() && !ctx.process_command(args) {
        return 255;
    }
    let _ = writeln!(
        ctx.out,
        "Fail2Ban v{} reads log file that contains password failure report\nand bans the corresponding IP addresses using firewall rules.\n",
        crate::VERSION
    );
    let stdin = std::io::stdin();
    loop {
        let _ = write!(ctx.out, "fail2ban> ");
        let _ = ctx.out.flush();
        let mut line = String::new();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(ctx.out);
                return 0;
            }
            Ok(_) => {}
        }
        let cmd = line.trim();
        if cmd == "exit" || cmd == "quit" {
            return 0;
        }
        if cmd == "help" {
            let _ = write!(ctx.out, "{}", crate::usage("fail2ban-client"));
        } else if !cmd.is_empty() {
            let words = f2b_config::shlex::shlex_split(cmd).unwrap_or_default();
            ctx.process_command(&words);
        }
    }
}
