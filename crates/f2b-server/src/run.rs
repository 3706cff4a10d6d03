//! The `fail2ban-server` program flow (upstream `Fail2banServer.start` and
//! `Server.start`/`quit`): options, early settings, daemonizing, logging, pid file,
//! control socket, optional self-configuration from the configuration directory,
//! serving, and the orderly shutdown.

use std::sync::Arc;

use f2b_protocol::Value;

use crate::control::ControlSocket;
use crate::daemon::{self, Daemonized, Readiness, Signals};
use crate::f2b_log;
use crate::handler::Handler;
use crate::logging::{self, Level, VERSION};
use crate::options::{self, Parsed, ServerOptions};
use crate::server::Server;
use crate::transmitter::Transmitter;

/// Settings a started server needs, after command line and `fail2ban.conf`.
#[derive(Debug, Clone)]
pub struct StartConfig {
    /// Socket path.
    pub socket: String,
    /// Pid file path.
    pub pidfile: String,
    /// Log level.
    pub loglevel: String,
    /// Log target.
    pub logtarget: String,
    /// Syslog socket.
    pub syslogsocket: String,
    /// Process name.
    pub pname: String,
    /// Remove a stale socket.
    pub force: bool,
    /// Daemonize.
    pub background: bool,
    /// `-v` count.
    pub verbose: i32,
    /// Commands to run once the socket is up (the configuration stream), when the
    /// server configures itself (no `--async`).
    pub stream: Option<Vec<Value>>,
}

/// Reads the configuration directory on behalf of the server: the early options and,
/// unless `--async`, the command stream. Provided by the caller (the binary wires in
/// the configuration library) so this crate does not depend on the readers.
pub trait ConfigSource {
    /// `fail2ban.conf` early options (socket, pidfile, loglevel, logtarget,
    /// syslogsocket) as far as set there.
    fn early_options(&self, conf_dir: &str) -> Vec<(String, String)>;
    /// The full command stream (upstream `fail2ban-client -d` output as values);
    /// `overrides` are command-line values of loglevel/logtarget/syslogsocket.
    fn stream(&self, conf_dir: &str, overrides: &[(String, String)]) -> Result<Vec<Value>, String>;
}

/// A source with no configuration (defaults only; non-async starts fail).
pub struct NoConfig;

impl ConfigSource for NoConfig {
    fn early_options(&self, _conf_dir: &str) -> Vec<(String, String)> {
        Vec::new()
    }
    fn stream(&self, _conf_dir: &str, _o: &[(String, String)]) -> Result<Vec<Value>, String> {
        Err("configuration reading is not available".into())
    }
}

/// Reads the configuration directory with f2b-config (what `fail2ban-server` without
/// `--async` does through its built-in client).
pub struct FileConfig;

fn diag_level(l: f2b_ini::Level) -> Level {
    match l {
        f2b_ini::Level::Debug => Level::DEBUG,
        f2b_ini::Level::Info => Level::INFO,
        f2b_ini::Level::Notice => Level::NOTICE,
        f2b_ini::Level::Warning => Level::WARNING,
        f2b_ini::Level::Error => Level::ERROR,
    }
}

fn log_diags(diags: Vec<f2b_ini::Diag>) {
    for d in diags {
        let lvl = diag_level(d.level);
        if logging::enabled(lvl) {
            logging::log(d.logger.trim_start_matches("fail2ban."), lvl, &d.message);
        }
    }
}

impl ConfigSource for FileConfig {
    fn early_options(&self, conf_dir: &str) -> Vec<(String, String)> {
        let mut c = f2b_config::Configurator::new(conf_dir);
        match c.early_options() {
            Ok(m) => m
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::Str(s) => Some((k.clone(), s.clone())),
                    Value::None => None,
                    other => Some((k.clone(), other.str_())),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn stream(&self, conf_dir: &str, overrides: &[(String, String)]) -> Result<Vec<Value>, String> {
        let mut c = f2b_config::Configurator::new(conf_dir);
        let upd: Vec<(String, Value)> = overrides
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v.clone())))
            .collect();
        c.skip_broken_jails(true);
        let out = f2b_config::read_stream(&mut c, None, &upd, true, false);
        log_diags(c.take_diags());
        match (out.stream, out.error) {
            (Some(s), None) if out.ok || !s.is_empty() => Ok(s),
            (_, Some(e)) => Err(e.to_string()),
            _ => Err("test configuration failed".into()),
        }
    }
}

fn str2sec(s: &str) -> Option<f64> {
    crate::timeconv::str2seconds(&Value::str(s))
        .ok()
        .map(|v| crate::timeconv::as_f64(&v))
}

/// Runs `fail2ban-server` with `args` (without the program name); returns the exit code.
pub fn main_with_args(args: &[String], config: &dyn ConfigSource) -> i32 {
    let o = match options::parse(args, &str2sec) {
        Parsed::BadUsage => {
            print!("{}", options::usage(VERSION));
            return 255;
        }
        Parsed::Help => {
            print!("{}", options::usage(VERSION));
            return 0;
        }
        Parsed::Version { short } => {
            if short {
                println!("{VERSION}");
            } else {
                println!("Fail2Ban v{VERSION}");
            }
            return 0;
        }
        Parsed::Str2Sec(s) => {
            return match crate::timeconv::str2seconds(&Value::str(s)) {
                Ok(v) => {
                    println!("{}", v.str_());
                    0
                }
                Err(e) => {
                    println!(
                        "ERROR: {}",
                        e.args.first().map(|a| a.str_()).unwrap_or_default()
                    );
                    255
                }
            };
        }
        Parsed::Run(o) => o,
    };
    let is_start = o.args.is_empty() || (o.args.len() == 1 && o.args[0] == "start");
    if !is_start || o.interactive || o.dump > 0 || o.test {
        eprintln!(
            "ERROR: fail2ban-server only starts the server; use fail2ban-client for commands"
        );
        return 255;
    }
    let cfg = match start_config(&o, config) {
        Ok(c) => c,
        Err(e) => {
            println!("ERROR: {e}");
            return 255;
        }
    };
    run_server(cfg)
}

/// Resolves the start settings: command line, then `fail2ban.conf`, then defaults.
pub fn start_config(o: &ServerOptions, config: &dyn ConfigSource) -> Result<StartConfig, String> {
    let need_early = o.socket.is_none()
        || o.pidfile.is_none()
        || o.loglevel.is_none()
        || o.logtarget.is_none()
        || o.syslogsocket.is_none();
    let early = if need_early {
        config.early_options(&o.conf)
    } else {
        Vec::new()
    };
    let get = |cli: &Option<String>, key: &str, def: &str| -> String {
        cli.clone()
            .or_else(|| early.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
            .unwrap_or_else(|| def.to_string())
    };
    let loglevel = get(&o.loglevel, "loglevel", "INFO");
    Level::parse(&loglevel)?;
    let logtarget = get(&o.logtarget, "logtarget", "/var/log/fail2ban.log");
    let syslogsocket = get(&o.syslogsocket, "syslogsocket", "auto");
    let stream = if o.async_ {
        None
    } else {
        let overrides = vec![
            ("loglevel".to_string(), loglevel.clone()),
            ("logtarget".to_string(), logtarget.clone()),
            ("syslogsocket".to_string(), syslogsocket.clone()),
        ];
        Some(config.stream(&o.conf, &overrides)?)
    };
    Ok(StartConfig {
        socket: get(&o.socket, "socket", "/var/run/fail2ban/fail2ban.sock"),
        pidfile: get(&o.pidfile, "pidfile", "/var/run/fail2ban/fail2ban.pid"),
        loglevel,
        logtarget,
        syslogsocket,
        pname: o.pname.clone().unwrap_or_else(|| "fail2ban-server".into()),
        force: o.force,
        background: o.background,
        verbose: o.verbose,
        stream,
    })
}

/// Starts the server and serves until stopped (upstream `Server.start`).
pub fn run_server(cfg: StartConfig) -> i32 {
    // SAFETY: umask has no failure mode.
    unsafe {
        libc::umask(0o077);
    }
    let mut ready = Readiness::none();
    if cfg.background {
        match daemon::daemonize() {
            Ok(Daemonized::Parent { ok }) => return if ok { 0 } else { 255 },
            Ok(Daemonized::Daemon(r)) => ready = r,
            Err(e) => {
                eprintln!("Could not create daemon {e}");
                return 255;
            }
        }
    }
    daemon::set_process_name(&cfg.pname);
    logging::set_verbose(cfg.verbose);
    logging::set_syslog_socket(&cfg.syslogsocket);
    if let Err(e) = logging::set_level(&cfg.loglevel) {
        eprintln!("ERROR: {e}");
        ready.notify(false);
        return 255;
    }
    logging::set_target(&cfg.logtarget);
    f2b_log!(INFO, "server", "{}", "-".repeat(50));
    f2b_log!(INFO, "server", "Starting Fail2ban v{VERSION}");
    if cfg.background {
        f2b_log!(INFO, "server", "Daemon started");
    }
    let server = Arc::new(Server::new());
    let signals = Signals::install();
    f2b_log!(DEBUG, "server", "Creating PID file {}", cfg.pidfile);
    if let Err(e) = daemon::write_pidfile(&cfg.pidfile) {
        f2b_log!(ERROR, "server", "Unable to create PID file: {e}");
    }
    f2b_log!(DEBUG, "server", "Starting communication");
    let sock = match ControlSocket::bind(&cfg.socket, cfg.force) {
        Ok(s) => s,
        Err(e) => {
            f2b_log!(ERROR, "server", "Could not start server: {e}");
            server.quit();
            f2b_log!(INFO, "server", "Exiting Fail2ban");
            remove_pidfile(&cfg.pidfile);
            ready.notify(false);
            return 255;
        }
    };
    server.set_stop_handle(sock.stop_handle());
    match signals {
        Ok(mut sig) => {
            let srv = server.clone();
            let _ = std::thread::Builder::new()
                .name("f2b/signals".into())
                .spawn(move || signal_loop(&mut sig, &srv));
        }
        Err(e) => f2b_log!(ERROR, "server", "Unable to install signal handlers: {e}"),
    }
    if let Some(stream) = cfg.stream {
        let _guard = server.cmd_lock.lock().unwrap_or_else(|e| e.into_inner());
        let req = Value::List(vec![Value::str("server-stream"), Value::List(stream)]);
        let (code, v) = Transmitter::new(&server).proceed(&req);
        if code != 0 {
            f2b_log!(
                ERROR,
                "server",
                "Async configuration of server failed: {}",
                v.str_()
            );
            drop(_guard);
            server.quit();
            sock.remove();
            remove_pidfile(&cfg.pidfile);
            ready.notify(false);
            return 255;
        }
    }
    ready.notify(true);
    spawn_purger(server.clone());
    crate::memory::release_startup_memory();
    // once more when the jails' threads have settled
    crate::memory::schedule_release(std::time::Duration::from_secs(2));
    sock.serve(Arc::new(Handler::new(server.clone())));
    server.quit();
    sock.wait_idle(std::time::Duration::from_secs(2));
    sock.remove();
    f2b_log!(DEBUG, "asyncserver", "Socket shutdown");
    f2b_log!(INFO, "server", "Exiting Fail2ban");
    daemon::restore_default_signals();
    remove_pidfile(&cfg.pidfile);
    0
}

fn remove_pidfile(path: &str) {
    f2b_log!(DEBUG, "server", "Remove PID file {path}");
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            f2b_log!(ERROR, "server", "Unable to remove PID file: {e}");
        }
    }
}

fn signal_loop(sig: &mut Signals, server: &Server) {
    while let Some(s) = sig.wait() {
        match s {
            nix::sys::signal::Signal::SIGTERM | nix::sys::signal::Signal::SIGINT => {
                f2b_log!(DEBUG, "server", "Caught signal {}. Exiting", s as i32);
                let _g = server.cmd_lock.lock().unwrap_or_else(|e| e.into_inner());
                server.quit();
                return;
            }
            nix::sys::signal::Signal::SIGUSR1 | nix::sys::signal::Signal::SIGHUP => {
                f2b_log!(DEBUG, "server", "Caught signal {}. Flushing logs", s as i32);
                logging::flush();
            }
            _ => {}
        }
    }
}

/// Hourly database purge (first run one hour after start, like upstream's observer);
/// also gives back start-up memory when that is due.
fn spawn_purger(server: Arc<Server>) {
    let _ = std::thread::Builder::new()
        .name("f2b/purge".into())
        .spawn(move || loop {
            for _ in 0..3600 {
                std::thread::sleep(std::time::Duration::from_secs(1));
                crate::memory::release_if_due();
                if server.is_quitting() {
                    return;
                }
            }
            if let Some(db) = server.db() {
                db.purge();
            }
        });
}
