//! The event pipeline of one running mode (1.2's per-mode loop body):
//! ignore file → scan trigger → banner → name → detection lines → already blocked? →
//! dispose → blocked/history lines. Ignored hosts and events below the trigger are silent.

use crate::config::Config;
use crate::dispose::{self, Outcome};
use crate::files;
use crate::ignore::{self, Verdict};
use crate::modes::Mode;
use crate::packet;
use crate::state::{StateEngine, MAX_STATE};
use crate::sys::{self, Proto};
use crate::syslog::Logger;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// What was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A completed TCP connection or a UDP datagram on a listening socket (tcp/udp modes).
    Connect,
    /// A raw TCP segment (stcp/atcp) with its flags.
    Tcp {
        /// TCP flags.
        flags: u8,
        /// The IPv4 header had options.
        ip_options: bool,
    },
    /// A raw UDP datagram (sudp/audp).
    Udp {
        /// The IPv4 header had options.
        ip_options: bool,
    },
}

/// One mode's detector state.
#[derive(Debug)]
pub struct Sentry {
    cfg: Arc<Config>,
    mode: Mode,
    log: Logger,
    state: StateEngine,
    blocked: PathBuf,
    history: PathBuf,
    ignore: PathBuf,
    hosts_deny: PathBuf,
}

impl Sentry {
    /// A detector for `mode`; the config's mandatory file keys must be present.
    pub fn new(cfg: Arc<Config>, mode: Mode, log: Logger, hosts_deny: PathBuf) -> Self {
        let blocked = blocked_path(&cfg, mode);
        Sentry {
            state: StateEngine::new(cfg.scan_trigger.unwrap_or(0)),
            history: cfg.history_file.clone().unwrap_or_default(),
            ignore: cfg.ignore_file.clone().unwrap_or_default(),
            blocked,
            cfg,
            mode,
            log,
            hosts_deny,
        }
    }

    /// Handles one event from `src` to local `port`. `banner` is called with
    /// PORT_BANNER on triggered events of the tcp/udp modes, before anything is logged.
    pub fn event(&mut self, src: IpAddr, port: u16, kind: Kind, banner: &mut dyn FnMut(&str)) {
        let src = ignore::canonical(src);
        let ip = src.to_string();
        match ignore::check(&self.ignore, src, &self.log) {
            Verdict::Ignored => return,
            Verdict::NotIgnored => {}
            Verdict::Unreadable => self
                .log
                .log("attackalert: ERROR: cannot open ignore file. Blocking host anyway.\n"),
        }
        let o = self.state.event(src);
        if o.over_capacity {
            let t = self.cfg.scan_trigger.unwrap_or(0);
            self.log.log(&format!("securityalert: WARNING: Trigger value {t} is larger than state engine capacity of {MAX_STATE}.\n"));
            self.log
                .log("Adjust the value lower or recompile with a larger state engine value.\n");
            self.log
                .log("securityalert: Blocking host anyway because of invalid trigger value");
        }
        if !o.triggered {
            return;
        }
        if kind == Kind::Connect {
            if let Some(b) = &self.cfg.port_banner {
                banner(b);
            }
        }
        let name = if self.cfg.resolve_host {
            sys::reverse_lookup(src).unwrap_or_else(|| ip.clone())
        } else {
            ip.clone()
        };
        let proto = self.mode.proto();
        let p = proto.upper();
        let classic = matches!(self.mode, Mode::Tcp | Mode::Udp);
        let (what, opts) = match kind {
            Kind::Connect => ("Connect".to_owned(), false),
            Kind::Tcp { flags, ip_options } => (packet::tcp_scan_type(flags), ip_options),
            Kind::Udp { ip_options } => ("UDP scan".to_owned(), ip_options),
        };
        self.log.log(&format!(
            "attackalert: {what} from host: {name}/{ip} to {p} port: {port}"
        ));
        if opts {
            self.log.log(&format!(
                "attackalert: Packet from host: {name}/{ip} to {p} port: {port} has IP options set (detection avoidance technique)."
            ));
        }
        if files::is_blocked(&self.blocked, &ip, &self.log) {
            if classic {
                self.log.log(&format!(
                    "attackalert: Host: {ip} is already blocked. Ignoring"
                ));
            } else {
                self.log.log(&format!(
                    "attackalert: Host: {name}/{ip} is already blocked Ignoring"
                ));
            }
            return;
        }
        match dispose::dispose(
            &self.cfg,
            proto,
            self.mode.name(),
            src,
            port,
            &self.hosts_deny,
            &self.log,
        ) {
            Outcome::Blocked => {
                let line = files::blocked_line(sys::now(), &name, &ip, port, proto);
                files::write_blocked(&self.blocked, &self.history, &line, &self.log);
            }
            Outcome::NotBlocking => {}
            Outcome::Failed => self.log.log(&match self.mode {
                Mode::Tcp | Mode::Udp => {
                    format!("attackalert: ERROR: Could not block host {ip} !!")
                }
                Mode::Stcp => format!("attackalert: ERROR: Could not block host {name}/{ip} !!"),
                _ => format!("attackalert: ERROR: Could not block host {name}/{ip}!!"),
            }),
        }
    }

    /// The protocol this detector watches.
    pub fn proto(&self) -> Proto {
        self.mode.proto()
    }
}

/// `BLOCKED_FILE.<mode>`.
pub fn blocked_path(cfg: &Config, mode: Mode) -> PathBuf {
    let mut s = cfg
        .blocked_file
        .clone()
        .unwrap_or_default()
        .into_os_string();
    s.push(".");
    s.push(mode.name());
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::flags::*;

    fn run(
        cfg: Config,
        mode: Mode,
        events: &[(&str, u16, Kind)],
    ) -> (Vec<String>, Vec<String>, String) {
        std::env::set_var("TZ", "UTC");
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("ignore"), "127.0.0.1/32\n10.99.0.3\n").unwrap();
        let cfg = Config {
            ignore_file: Some(d.path().join("ignore")),
            history_file: Some(d.path().join("history")),
            blocked_file: Some(d.path().join("blocked")),
            ..cfg
        };
        crate::files::truncate(&d.path().join(format!("blocked.{}", mode.name()))).unwrap();
        let (log, buf) = Logger::memory();
        let mut s = Sentry::new(Arc::new(cfg), mode, log, d.path().join("hosts.deny"));
        let mut banners = Vec::new();
        for (ip, port, kind) in events {
            s.event(ip.parse().unwrap(), *port, *kind, &mut |b| {
                banners.push(b.to_owned())
            });
        }
        let hist = std::fs::read_to_string(d.path().join("history")).unwrap_or_default();
        let msgs = buf.lock().unwrap().clone();
        (msgs, banners, hist)
    }

    #[test]
    fn block_zero_reports_every_event_and_writes_nothing() {
        let (m, _, hist) = run(
            Config::default(),
            Mode::Tcp,
            &[
                ("10.99.0.2", 1, Kind::Connect),
                ("10.99.0.2", 11, Kind::Connect),
                ("10.99.0.3", 1, Kind::Connect),
            ],
        );
        assert_eq!(
            m,
            [
                "attackalert: Connect from host: 10.99.0.2/10.99.0.2 to TCP port: 1",
                "attackalert: Ignoring TCP response per configuration file setting.",
                "attackalert: Connect from host: 10.99.0.2/10.99.0.2 to TCP port: 11",
                "attackalert: Ignoring TCP response per configuration file setting.",
            ]
        );
        assert_eq!(
            hist, "",
            "nothing was blocked, so nothing is recorded (1.2 wrote a Blocked line)"
        );
    }

    #[test]
    fn raw_modes_wording() {
        let cfg = Config {
            block_tcp: 1,
            kill_hosts_deny: "ALL: nobody".into(),
            ..Config::default()
        };
        let k = Kind::Tcp {
            flags: 0,
            ip_options: true,
        };
        let (m, banners, _) = run(cfg.clone(), Mode::Stcp, &[("10.99.0.5", 11, k)]);
        assert!(banners.is_empty());
        assert_eq!(
            m,
            [
                "attackalert:  TCP NULL scan from host: 10.99.0.5/10.99.0.5 to TCP port: 11",
                "attackalert: Packet from host: 10.99.0.5/10.99.0.5 to TCP port: 11 has IP options set (detection avoidance technique).",
                "adminalert: No target variable specified in KILL_HOSTS_DENY option. Skipping.\n",
                "attackalert: ERROR: Could not block host 10.99.0.5/10.99.0.5 !!",
            ]
        );
        let (m, _, _) = run(
            cfg,
            Mode::Atcp,
            &[(
                "10.99.0.5",
                11,
                Kind::Tcp {
                    flags: SYN,
                    ip_options: false,
                },
            )],
        );
        assert_eq!(
            m.last().unwrap(),
            "attackalert: ERROR: Could not block host 10.99.0.5/10.99.0.5!!"
        );
    }

    #[test]
    fn trigger_banner_and_already_blocked() {
        let cfg = Config {
            block_udp: 2,
            kill_run_cmd: "true".into(),
            scan_trigger: Some(2),
            port_banner: Some("GO AWAY".into()),
            ..Config::default()
        };
        let ev = [
            ("10.99.0.2", 1, Kind::Connect),
            ("10.99.0.2", 7, Kind::Connect),
            ("10.99.0.2", 9, Kind::Connect),
        ];
        let (m, banners, hist) = run(cfg.clone(), Mode::Udp, &ev);
        assert_eq!(
            banners,
            ["GO AWAY", "GO AWAY"],
            "no banner below the trigger; one per triggered event"
        );
        assert_eq!(
            m,
            [
                "attackalert: Connect from host: 10.99.0.2/10.99.0.2 to UDP port: 7",
                "attackalert: External command run for host: 10.99.0.2 using command: \"true\"",
                "attackalert: Connect from host: 10.99.0.2/10.99.0.2 to UDP port: 9",
                "attackalert: Host: 10.99.0.2 is already blocked. Ignoring",
            ]
        );
        assert!(
            hist.ends_with(" Host: 10.99.0.2/10.99.0.2 Port: 7 UDP Blocked\n"),
            "{hist}"
        );
        let (m, _, _) = run(cfg, Mode::Audp, &ev);
        assert_eq!(
            m.last().unwrap(),
            "attackalert: Host: 10.99.0.2/10.99.0.2 is already blocked Ignoring"
        );
    }
}
