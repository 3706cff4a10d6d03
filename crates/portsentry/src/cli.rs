//! The command line and process lifecycle: 1.2's `portsentry -tcp|-udp|-stcp|-sudp|
//! -atcp|-audp` (daemonizes, fixed config path) plus our options: `-c FILE`, `-f`
//! (foreground), `--service` (the modes of /etc/default/portsentry in one process, with
//! the ignore file rebuilt first), `--build-ignore`, `--syslog-socket`, `--hosts-deny`,
//! `--stderr`.

use crate::config::Config;
use crate::debian;
use crate::error::ErrorKind;
use crate::files;
use crate::modes::{self, Mode};
use crate::sentry;
use crate::sys;
use crate::syslog::Logger;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const USAGE: &str = "PortSentry - Port Scan Detector.\n\
Copyright 1997-2003 Craig H. Rowland <craigrowland at users dot sourceforget dot net>\n\
Licensing restrictions apply. Please see documentation\n\
Version: 1.2\n\n\
usage: portsentry [-tcp -udp -stcp -atcp -sudp -audp]\n\n\
*** PLEASE READ THE DOCS BEFORE USING *** \n\n";

const HELP: &str = "usage: portsentry [options] -tcp|-udp|-stcp|-sudp|-atcp|-audp
       portsentry [options] --service
       portsentry [options] --build-ignore

A portsentry 1.2 compatible port-scan detector.

  -c, --config FILE      configuration file (default /etc/portsentry/portsentry.conf)
  -f, --foreground       do not fork into the background
      --service          run the modes named by TCP_MODE/UDP_MODE in the defaults file,
                         after rebuilding the ignore file from portsentry.ignore.static
                         and the host's addresses
      --defaults FILE    defaults file for --service (default /etc/default/portsentry)
      --build-ignore     only rebuild the ignore file, then exit
      --syslog-socket P  syslog socket (default /dev/log)
      --hosts-deny FILE  tcp_wrappers deny file (default /etc/hosts.deny)
      --stderr           also print every log message on stderr
  -h, --help             this help
  -V, --version          version
";

/// Parsed command line.
#[derive(Debug, Clone, Default)]
struct Opts {
    config: Option<PathBuf>,
    foreground: bool,
    service: bool,
    build_ignore: bool,
    defaults: Option<PathBuf>,
    syslog: Option<PathBuf>,
    hosts_deny: Option<PathBuf>,
    stderr: bool,
    mode: Option<Mode>,
}

enum Parsed {
    Run(Opts),
    Help,
    Version,
    Usage,
}

fn parse(args: &[String]) -> Parsed {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (a.as_str(), None),
        };
        let mut value = |o: &mut Option<PathBuf>| -> bool {
            match inline.clone().or_else(|| it.next().cloned()) {
                Some(v) => {
                    *o = Some(PathBuf::from(v));
                    true
                }
                None => false,
            }
        };
        let ok = match name {
            "-c" | "--config" => value(&mut o.config),
            "--defaults" => value(&mut o.defaults),
            "--syslog-socket" => value(&mut o.syslog),
            "--hosts-deny" => value(&mut o.hosts_deny),
            "-f" | "--foreground" => {
                o.foreground = true;
                true
            }
            "--service" => {
                o.service = true;
                true
            }
            "--build-ignore" => {
                o.build_ignore = true;
                true
            }
            "--stderr" => {
                o.stderr = true;
                true
            }
            "-h" | "--help" => return Parsed::Help,
            "-V" | "--version" => return Parsed::Version,
            m if m.starts_with('-') && Mode::parse(&m[1..]).is_some() && o.mode.is_none() => {
                o.mode = Mode::parse(&m[1..]);
                true
            }
            _ => false,
        };
        if !ok {
            return Parsed::Usage;
        }
    }
    if usize::from(o.mode.is_some()) + usize::from(o.service) + usize::from(o.build_ignore) != 1 {
        return Parsed::Usage;
    }
    Parsed::Run(o)
}

/// 1.2's Exit(): two shutdown lines, then exit.
fn exit(log: &Logger, code: i32) -> ! {
    log.log("securityalert: PortSentry is shutting down\n");
    log.log("adminalert: PortSentry is shutting down\n");
    std::process::exit(code)
}

/// Entry point of the binary; returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let parsed = parse(&args);
    let syslog_path = match &parsed {
        Parsed::Run(o) => o.syslog.clone(),
        _ => None,
    };
    let log = Logger::syslog(syslog_path.unwrap_or_else(|| PathBuf::from("/dev/log")));
    let o = match parsed {
        Parsed::Help => {
            print!("{HELP}");
            return 0;
        }
        Parsed::Version => {
            println!(
                "portsentry {} (compatible with PortSentry {})",
                env!("CARGO_PKG_VERSION"),
                crate::COMPAT_VERSION
            );
            return 0;
        }
        Parsed::Usage => {
            if args.len() == 1 && !sys::is_root() {
                println!("You need to be root to run this.");
            } else {
                print!("{USAGE}");
            }
            exit(&log, 255)
        }
        Parsed::Run(o) => o,
    };
    let log = log.with_stderr(o.stderr);
    if !sys::is_root() {
        println!("You need to be root to run this.");
        exit(&log, 255);
    }
    let config_path = o
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::DEFAULT_CONFIG));
    if o.build_ignore {
        return match load(&config_path, &log, false) {
            Some(cfg) => match rebuild_ignore(&config_path, &cfg) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("portsentry: {e}");
                    1
                }
            },
            None => 255,
        };
    }
    let modes = if o.service {
        let dpath = o
            .defaults
            .clone()
            .unwrap_or_else(|| PathBuf::from(debian::DEFAULTS_FILE));
        let text = std::fs::read_to_string(&dpath).unwrap_or_default();
        match debian::service_modes(&debian::parse_defaults(&text)) {
            Ok(m) if m.is_empty() => {
                println!(
                    "Not starting anti portscan daemon (no modes in {}).",
                    dpath.display()
                );
                return 0;
            }
            Ok(m) => m,
            Err(msg) => {
                // Debian's init script has already printed its "Starting" prefix here
                println!("Starting anti portscan daemon: {msg}");
                return 1;
            }
        }
    } else {
        vec![o.mode.expect("parse() guarantees a mode")]
    };
    run(&o, &config_path, &modes, log)
}

/// Reads the config, reporting errors the 1.2 way plus a message naming the line.
fn load(path: &Path, log: &Logger, announce: bool) -> Option<Config> {
    if announce {
        log.log(&format!(
            "adminalert: PortSentry {} is starting.\n",
            crate::COMPAT_VERSION
        ));
    }
    match Config::load(path) {
        Ok((cfg, file)) => {
            for (line, text) in file.unknown_lines() {
                eprintln!(
                    "portsentry: warning: {} line {line}: unknown setting ignored: {text}",
                    path.display()
                );
            }
            Some(cfg)
        }
        Err(e) if e.kind() == ErrorKind::ConfigMissing => {
            log.log(&format!(
                "adminalert: Cannot open config file: {}. Exiting\n",
                path.display()
            ));
            log.log(
                "adminalert: ERROR: Configuration files are missing/corrupted. Shutting down.\n",
            );
            print!("ERROR: Configuration files are missing/corrupted.\nERROR: Check your syslog for a more detailed error message.\nERROR: PortSentry is shutting down!\n");
            eprintln!("portsentry: {e}");
            None
        }
        Err(e) => {
            log.log(&format!("adminalert: ERROR: {e}\n"));
            log.log("adminalert: ERROR: Your config file is corrupted/missing mandatory option! Shutting down.\n");
            print!("ERROR: Your config file is corrupted/missing mandatory option!\nERROR: Check your syslog for a more detailed error message.\nERROR: PortSentry is shutting down!\n");
            eprintln!("portsentry: {e}");
            None
        }
    }
}

/// 1.2's InitConfig checks that follow parsing: the trigger note, the mandatory files,
/// and the truncation of each mode's blocked file.
fn init_config(cfg: &Config, modes: &[Mode], log: &Logger) -> bool {
    if cfg.scan_trigger.is_none() {
        log.log("adminalert: ERROR: Could not read SCAN_TRIGGER option from config file. Disabling SCAN DETECTION TRIGGER");
    }
    if cfg.blocked_file.is_none() {
        log.log("InitConfig: Cannot retrieve BLOCKED_FILE option! Aborting\n");
        return false;
    }
    for &m in modes {
        let p = sentry::blocked_path(cfg, m);
        if files::truncate(&p).is_err() {
            log.log(&format!(
                "adminalert: ERROR: Cannot delete blocked file on startup: {}.\n",
                p.display()
            ));
            return false;
        }
    }
    if cfg.history_file.is_none() {
        log.log("InitConfig: Cannot retrieve HISTORY_FILE option! Aborting\n");
        return false;
    }
    if cfg.ignore_file.is_none() {
        log.log("InitConfig: Cannot retrieve IGNORE_FILE option! Aborting\n");
        return false;
    }
    true
}

fn rebuild_ignore(config_path: &Path, cfg: &Config) -> std::io::Result<()> {
    let dir = config_path.parent().unwrap_or(Path::new("/etc/portsentry"));
    let out = cfg
        .ignore_file
        .clone()
        .unwrap_or_else(|| dir.join("portsentry.ignore"));
    debian::write_ignore(&dir.join("portsentry.ignore.static"), &out)
}

fn mode_failed(log: &Logger) -> ! {
    log.log("adminalert: ERROR: could not go into PortSentry mode. Shutting down.\n");
    exit(log, 255)
}

fn run(o: &Opts, config_path: &Path, modes: &[Mode], log: Logger) -> i32 {
    let Some(cfg) = load(config_path, &log, true) else {
        exit(&log, 255)
    };
    if o.service {
        if let Err(e) = rebuild_ignore(config_path, &cfg) {
            eprintln!("portsentry: warning: ignore file not rebuilt: {e}");
        }
        let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
        println!(
            "Starting anti portscan daemon: portsentry in {} mode.",
            names.join(" & ")
        );
    }
    if !init_config(&cfg, modes, &log) {
        log.log("adminalert: ERROR: Your config file is corrupted/missing mandatory option! Shutting down.\n");
        print!("ERROR: Your config file is corrupted/missing mandatory option!\nERROR: Check your syslog for a more detailed error message.\nERROR: PortSentry is shutting down!\n");
        exit(&log, 255);
    }
    if o.foreground {
        // the files created from now on (the history file) get 1.2's daemon umask too
        sys::set_umask(0o077);
    } else {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if sys::daemonize().is_err() {
            log.log("adminalert: ERROR: could not go into daemon mode. Shutting down.\n");
            println!("ERROR: could not go into daemon mode. Shutting down.");
            exit(&log, 255);
        }
    }
    sys::setup_signals();
    let cfg = Arc::new(cfg);
    let hosts_deny = o
        .hosts_deny
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::HOSTS_DENY));
    // startups run one after the other (deterministic log order), then one loop per thread
    for &m in modes {
        let running = match modes::setup(m, cfg.clone(), log.clone(), hosts_deny.clone()) {
            Ok(r) => r,
            Err(_) => mode_failed(&log),
        };
        let log = log.clone();
        std::thread::spawn(move || {
            if running.run().is_err() {
                mode_failed(&log);
            }
        });
    }
    sys::wait_signal();
    exit(&log, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &str) -> Option<Opts> {
        let v: Vec<String> = a.split_whitespace().map(str::to_owned).collect();
        match parse(&v) {
            Parsed::Run(o) => Some(o),
            _ => None,
        }
    }

    #[test]
    fn command_lines() {
        assert_eq!(p("-atcp").unwrap().mode, Some(Mode::Atcp));
        let o = p("-f -c /x.conf -audp").unwrap();
        assert!(
            o.foreground
                && o.config.as_deref() == Some(Path::new("/x.conf"))
                && o.mode == Some(Mode::Audp)
        );
        assert_eq!(
            p("--config=/y -tcp").unwrap().config.as_deref(),
            Some(Path::new("/y"))
        );
        assert!(p("--service").unwrap().service);
        for bad in [
            "",
            "-tcp -udp",
            "tcp",
            "-xtcp",
            "-c",
            "--service -tcp",
            "-tcp extra",
        ] {
            assert!(p(bad).is_none(), "{bad:?} must be rejected");
        }
    }
}
