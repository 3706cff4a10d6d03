//! `fail2ban-client` as a library: command-line parsing of every option of
//! upstream's client ([`cli`]), the paths that need no server (`-d`, `--dp`, `-t`,
//! `--str2sec`, `-V`, `--version`, `-h`) and a [`Command::Server`] branch where the
//! socket commands plug in ([`server`]).
//!
//! The binary calls [`run`] and exits with its return value (0 or 255 like upstream).
//! Output goes to the given writers: results to `out`, log records to `err` in
//! upstream's format (`<time> fail2ban.configreader   [pid]: WARNING ...`).

#![deny(missing_docs)]

pub mod cli;
pub mod dump;
mod protocol_help;
pub mod remote;
pub mod server;

use std::io::Write;

use f2b_config::configurator::check_log_level;
use f2b_config::{read_stream, read_stream_to, Configurator};
use f2b_ini::{Diag, Level};
use f2b_protocol::Value;

use cli::{Action, Conf, Dump};

/// Upstream version string (`fail2ban.version.version`).
pub const VERSION: &str = f2b_config::VERSION;

/// What to do after option processing.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Nothing given: print the usage and fail.
    Usage,
    /// A command for the server (or `-i`): handled by [`server`].
    Server(Vec<String>),
}

/// Writes log records to stderr in upstream's format, filtered by verbosity.
pub struct Logger<'a> {
    err: &'a mut dyn Write,
    min: Level,
}

impl<'a> Logger<'a> {
    /// A logger for verbosity `verbose` (1 = warnings and errors).
    pub fn new(err: &'a mut dyn Write, verbose: i32) -> Self {
        let min = match verbose {
            i32::MIN..=0 => Level::Error,
            1 => Level::Warning,
            2 => Level::Info,
            _ => Level::Debug,
        };
        Logger { err, min }
    }

    /// Writes one record if its level passes.
    pub fn write(&mut self, d: &Diag) {
        if d.level < self.min {
            return;
        }
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f");
        let _ = writeln!(
            self.err,
            "{now} {:<24}[{}]: {:<7} {}",
            d.logger,
            std::process::id(),
            d.level.name(),
            d.message
        );
    }

    /// Writes all records.
    pub fn write_all(&mut self, diags: &[Diag]) {
        for d in diags {
            self.write(d);
        }
    }

    /// Logs an informational message (shown with `-v`).
    pub fn info(&mut self, logger: &'static str, msg: &str) {
        self.write(&Diag {
            level: Level::Info,
            logger,
            message: msg.to_string(),
        });
    }

    /// Logs an error.
    pub fn error(&mut self, logger: &'static str, msg: &str) {
        self.write(&Diag {
            level: Level::Error,
            logger,
            message: msg.to_string(),
        });
    }
}

/// The usage text (`dispUsage`) for program name `caller`.
pub fn usage(caller: &str) -> String {
    let server = caller.ends_with("server");
    let mut s = format!(
        "Usage: {caller} [OPTIONS]{}\n\nFail2Ban v{VERSION} reads log file that contains password failure report\n\
         and bans the corresponding IP addresses using firewall rules.\n\n",
        if server { "" } else { " <COMMAND>" }
    );
    s.push_str(f2b_config::cmdline::OPTIONS_HELP);
    if !server {
        s.push_str("\nCommand:\n");
        s.push_str(protocol_help::PROTOCOL_TABLE);
        s.push('\n');
    }
    s.push_str("\nReport bugs to https://github.com/fail2ban/fail2ban/issues\n");
    s
}

/// The whole program: [`run`] on the process's arguments with buffered stdout, then
/// exit with its code. The binary's `main` (and the profiling example's) calls this.
pub fn main() -> ! {
    let argv: Vec<String> = std::env::args().collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = run(&argv, &mut out, &mut err);
    drop(out);
    std::process::exit(code);
}

/// Runs `fail2ban-client` with `argv` (including the program name); returns the
/// exit code.
pub fn run(argv: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let caller = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| "fail2ban-client".into());
    let args = argv.get(1..).unwrap_or(&[]);
    match cli::parse(args) {
        Action::Help => {
            let _ = out.write_all(usage(&caller).as_bytes());
            0
        }
        Action::BadUsage(_) => {
            let _ = out.write_all(usage(&caller).as_bytes());
            255
        }
        Action::Version { short } => {
            let _ = if short {
                writeln!(out, "{}", VERSION.replace(".fix", "").replace(".dev", "."))
            } else {
                writeln!(out, "Fail2Ban v{VERSION}")
            };
            0
        }
        Action::Str2Sec(s) => match f2b_config::time::str2seconds_num(&s) {
            Ok(n) => {
                let _ = writeln!(out, "{n}");
                0
            }
            Err(e) => {
                let _ = writeln!(out, "ERROR: {e}");
                255
            }
        },
        Action::BadTimeout(e) => {
            let _ = writeln!(out, "ERROR: {e}");
            255
        }
        Action::Run(conf, rest) => {
            let mut log = Logger::new(err, conf.verbose);
            run_conf(conf, rest, out, &mut log)
        }
    }
}

/// The part of `initCmdLine` after option parsing, then the command.
fn run_conf(mut conf: Conf, rest: Vec<String>, out: &mut dyn Write, log: &mut Logger) -> i32 {
    let mut cfg = Configurator::new(&conf.conf);
    let missing = conf.socket.is_none()
        || conf.pidfile.is_none()
        || conf.logtarget.is_none()
        || conf.loglevel.is_none()
        || conf.syslogsocket.is_none();
    if missing {
        let early = cfg.early_options();
        log.write_all(&cfg.take_diags());
        match early {
            Ok(e) => {
                let get = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_string);
                conf.socket = conf.socket.take().or_else(|| get("socket"));
                conf.pidfile = conf.pidfile.take().or_else(|| get("pidfile"));
                conf.loglevel = conf.loglevel.take().or_else(|| get("loglevel"));
                conf.logtarget = conf.logtarget.take().or_else(|| get("logtarget"));
                conf.syslogsocket = conf.syslogsocket.take().or_else(|| get("syslogsocket"));
            }
            Err(e) => {
                let _ = writeln!(out, "ERROR: {e}");
                return 255;
            }
        }
    }
    log.info(
        "fail2ban",
        &format!(
            "Using socket file {}",
            conf.socket.as_deref().unwrap_or("None")
        ),
    );
    if let Err(e) = check_log_level(conf.loglevel.as_deref().unwrap_or("")) {
        let _ = writeln!(out, "ERROR: {}", e.message());
        return 255;
    }
    log.info(
        "fail2ban",
        &format!(
            "Using pid file {}, [{}] logging to {}",
            conf.pidfile.as_deref().unwrap_or("None"),
            level_name(conf.loglevel.as_deref().unwrap_or("")),
            conf.logtarget.as_deref().unwrap_or("None")
        ),
    );
    let update_main: Vec<(String, Value)> = [
        ("loglevel", &conf.loglevel),
        ("logtarget", &conf.logtarget),
        ("syslogsocket", &conf.syslogsocket),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::str(v.as_str()))))
    .collect();
    let mut result = None;
    if let Some(mode) = conf.dump {
        // the stream is printed as text while jails are read: text takes less memory
        // than the values (it is written only if the whole read succeeds)
        let mut text = String::with_capacity(256 * 1024);
        let mut sink = |part: Vec<Value>| {
            for c in &part {
                match mode {
                    Dump::Repr => dump::repr_into(c, &mut text),
                    Dump::Pretty => text.push_str(&c.pformat(2, 1000)),
                }
                text.push('\n');
            }
        };
        let r = read_stream_to(
            &mut cfg,
            None,
            &update_main,
            !conf.test,
            true,
            Some(&mut sink),
        );
        log.write_all(&cfg.take_diags());
        match &r.stream {
            Some(_) => {
                let _ = out.write_all(text.as_bytes());
            }
            None => {
                let _ = writeln!(
                    out,
                    "ERROR: The configuration stream failed because of the invalid syntax."
                );
            }
        }
        let ok = r.ok;
        // freeing the stream (or the text: an `munmap`) costs measurable time, and the
        // process ends now
        std::mem::forget(r);
        std::mem::forget(text);
        if !conf.test {
            std::mem::forget(cfg);
            return if ok { 0 } else { 255 };
        }
        result = Some(ok);
    }
    if conf.test {
        let ok = match result {
            Some(ok) => ok,
            None => {
                let r = read_stream(&mut cfg, None, &update_main, false, false);
                log.write_all(&cfg.take_diags());
                r.ok
            }
        };
        if !ok {
            log.error("fail2ban", "ERROR: test configuration failed");
            std::mem::forget(cfg);
            return 255;
        }
        if rest.is_empty() {
            let _ = writeln!(out, "OK: configuration test is successful");
            std::mem::forget(cfg);
            return 0;
        }
    }
    // the configuration is no longer needed; freeing it costs measurable time
    std::mem::forget(cfg);
    let cmd = if rest.is_empty() && !conf.interactive {
        Command::Usage
    } else {
        Command::Server(rest)
    };
    match cmd {
        Command::Usage => {
            let _ = out.write_all(usage("fail2ban-client").as_bytes());
            255
        }
        Command::Server(args) => server::run_server_command(&conf, &args, out, log),
    }
}

/// Python's `logging.getLevelName(str2LogLevel(v))` for a valid level value.
fn level_name(v: &str) -> String {
    let up = v.to_uppercase();
    match up.as_str() {
        "TRACEDEBUG" => "Level 7".into(),
        "HEAVYDEBUG" => "Level 5".into(),
        "MSG" => "Level 18".into(),
        "NOTSET" => "NOTSET".into(),
        _ => match v.parse::<i32>() {
            Ok(n) => match n {
                50 => "CRITICAL".into(),
                40 => "ERROR".into(),
                30 => "WARNING".into(),
                25 => "NOTICE".into(),
                20 => "INFO".into(),
                10 => "DEBUG".into(),
                0 => "NOTSET".into(),
                n => format!("Level {n}"),
            },
            Err(_) => up,
        },
    }
}
