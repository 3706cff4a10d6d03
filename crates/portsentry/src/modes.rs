//! The six classic modes on real sockets: `tcp`/`udp` listen on the configured ports;
//! `stcp`/`sudp` watch the free configured ports through raw sockets; `atcp`/`audp` watch
//! every free port below `ADVANCED_PORTS_*` except `ADVANCED_EXCLUDE_*`.
//! Each mode also watches IPv6 (silently skipped when the host has no IPv6).

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::packet::{self, V4};
use crate::sentry::{Kind, Sentry};
use crate::sys::{self, Proto};
use crate::syslog::Logger;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

/// A detection mode, named as on the command line without the dash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Listening TCP sockets.
    Tcp,
    /// Listening UDP sockets.
    Udp,
    /// Raw TCP, configured ports.
    Stcp,
    /// Raw UDP, configured ports.
    Sudp,
    /// Raw TCP, every free port below the limit.
    Atcp,
    /// Raw UDP, every free port below the limit.
    Audp,
}

impl Mode {
    /// Parses `tcp`, `udp`, `stcp`, `sudp`, `atcp` or `audp`.
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "tcp" => Mode::Tcp,
            "udp" => Mode::Udp,
            "stcp" => Mode::Stcp,
            "sudp" => Mode::Sudp,
            "atcp" => Mode::Atcp,
            "audp" => Mode::Audp,
            _ => return None,
        })
    }

    /// The name (`$MODE$`, blocked-file extension).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Udp => "udp",
            Mode::Stcp => "stcp",
            Mode::Sudp => "sudp",
            Mode::Atcp => "atcp",
            Mode::Audp => "audp",
        }
    }

    /// The watched protocol.
    pub fn proto(self) -> Proto {
        match self {
            Mode::Tcp | Mode::Stcp | Mode::Atcp => Proto::Tcp,
            _ => Proto::Udp,
        }
    }
}

/// Which destination ports a raw-socket mode reacts to.
#[derive(Debug)]
enum Hot {
    /// stcp/sudp: the configured ports that were free at startup.
    List(Vec<u16>),
    /// atcp/audp: below `limit` and not ignored.
    Below { limit: u32, ignored: Vec<u16> },
}

impl Hot {
    fn contains(&self, port: u16) -> bool {
        match self {
            Hot::List(l) => l.contains(&port),
            // 1.2 skipped the limit test when nothing was ignored; the limit always holds here
            Hot::Below { limit, ignored } => (port as u32) < *limit && !ignored.contains(&port),
        }
    }
}

#[derive(Debug)]
enum Watch {
    Listen(Vec<(OwnedFd, u16)>),
    Raw {
        socks: Vec<(OwnedFd, bool)>,
        hot: Hot,
    },
}

/// A mode that finished its startup and is ready to loop.
#[derive(Debug)]
pub struct Running {
    sentry: Sentry,
    watch: Watch,
    log: Logger,
    mode: Mode,
}

fn port_list(cfg: &Config, proto: Proto, log: &Logger) -> Result<Vec<u16>, ()> {
    let (list, p) = match proto {
        Proto::Tcp => (&cfg.tcp_ports, "TCP"),
        Proto::Udp => (&cfg.udp_ports, "UDP"),
    };
    match list {
        None => {
            log.log(&format!(
                "adminalert: ERROR: Could not read {p}_PORTS option from config file"
            ));
            Err(())
        }
        Some(l) if l.is_empty() => {
            log.log(&format!(
                "adminalert: ERROR: No {p} ports supplied in config file. Aborting"
            ));
            Err(())
        }
        Some(l) => Ok(l.clone()),
    }
}

fn open_fail(mode: Mode, log: &Logger) {
    log.log(match mode {
        Mode::Udp => "adminalert: ERROR: could not open UDP socket. Aborting\n",
        m if m.proto() == Proto::Udp => "adminalert: ERROR: could not open UDP socket. Aborting.\n",
        _ => "adminalert: ERROR: could not open TCP socket. Aborting.\n",
    });
}

fn listen_sockets(mode: Mode, ports: &[u16], log: &Logger) -> Result<Vec<(OwnedFd, u16)>, ()> {
    let proto = mode.proto();
    let p = proto.upper();
    let mut out = Vec::new();
    let mut v4_bound = 0;
    for &port in ports {
        log.log(&format!(
            "adminalert: Going into listen mode on {p} port: {port}\n"
        ));
        let Ok(s) = sys::socket(false, proto, false) else {
            open_fail(mode, log);
            return Err(());
        };
        if proto == Proto::Tcp {
            let _ = sys::setsockopt_int(s.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        }
        let bound = sys::bind_any(s.as_raw_fd(), false, port).is_ok()
            && (proto == Proto::Udp || sys::listen(s.as_raw_fd(), 5).is_ok());
        if !bound {
            log.log(&format!(
                "adminalert: ERROR: could not bind {p} socket: {port}. Attempting to continue\n"
            ));
            continue;
        }
        out.push((s, port));
        v4_bound += 1;
        // the IPv6 twin; absent IPv6 or a busy port is not an error
        if let Ok(s6) = sys::socket(true, proto, false) {
            if proto == Proto::Tcp {
                let _ =
                    sys::setsockopt_int(s6.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
            }
            if sys::bind_any(s6.as_raw_fd(), true, port).is_ok()
                && (proto == Proto::Udp || sys::listen(s6.as_raw_fd(), 5).is_ok())
            {
                out.push((s6, port));
            }
        }
    }
    if v4_bound == 0 {
        log.log(&format!(
            "adminalert: ERROR: could not bind ANY {p} sockets. Shutting down.\n"
        ));
        return Err(());
    }
    Ok(out)
}

fn raw_sockets(mode: Mode, log: &Logger) -> Result<Vec<(OwnedFd, bool)>, ()> {
    let proto = mode.proto();
    let Ok(s4) = sys::socket(false, proto, true) else {
        log.log(&format!(
            "adminalert: ERROR: could not open RAW {} socket. Aborting.\n",
            proto.upper()
        ));
        return Err(());
    };
    let mut out = vec![(s4, false)];
    if let Ok(s6) = sys::socket(true, proto, true) {
        out.push((s6, true));
    }
    Ok(out)
}

fn stealth_ports(mode: Mode, ports: &[u16], log: &Logger) -> Result<Vec<u16>, ()> {
    let proto = mode.proto();
    let p = proto.upper();
    let mut free = Vec::new();
    for &port in ports {
        log.log(&format!(
            "adminalert: Going into stealth listen mode on {p} port: {port}\n"
        ));
        match sys::port_is_free(false, proto, port) {
            Err(_) => {
                open_fail(mode, log);
                return Err(());
            }
            Ok(true) => free.push(port),
            Ok(false) => log.log(&format!("adminalert: ERROR: Socket {port} is in use and will not be monitored. Attempting to continue\n")),
        }
    }
    if free.is_empty() {
        log.log(&format!("adminalert: ERROR: All supplied {p} sockets are in use and will not be listened to. Shutting down.\n"));
        return Err(());
    }
    Ok(free)
}

fn advanced_ignored(mode: Mode, cfg: &Config, log: &Logger) -> Result<(u32, Vec<u16>), ()> {
    let proto = mode.proto();
    let p = proto.upper();
    let (limit, exclude) = match proto {
        Proto::Tcp => (cfg.advanced_ports_tcp, &cfg.advanced_exclude_tcp),
        Proto::Udp => (cfg.advanced_ports_udp, &cfg.advanced_exclude_udp),
    };
    let limit = limit.unwrap_or_else(|| {
        log.log(&format!("adminalert: ERROR: Could not read ADVANCED_PORTS_{p} option from config file. Assuming 1024."));
        1024
    });
    log.log(&format!(
        "adminalert: Advanced mode will monitor first {limit} ports"
    ));
    let mut ignored = Vec::new();
    for port in 0..limit {
        match sys::port_is_free(false, proto, port as u16) {
            Err(_) => {
                open_fail(mode, log);
                return Err(());
            }
            Ok(false) if port != 0 => ignored.push(port as u16),
            Ok(_) => {}
        }
    }
    match exclude {
        Some(ex) => {
            for &x in ex {
                log.log(&format!(
                    "adminalert: Advanced mode will manually exclude port: {x} "
                ));
                ignored.push(x);
            }
        }
        None => log.log("adminalert: Advanced mode will manually exclude no ports"),
    }
    for x in &ignored {
        log.log(&format!(
            "adminalert: Advanced Stealth scan detection mode activated. Ignored {p} port: {x}\n"
        ));
    }
    Ok((limit, ignored))
}

/// Runs a mode's startup (port probes, binds, the 1.2 startup lines up to "now active").
/// On failure the reason has been logged.
pub fn setup(
    mode: Mode,
    cfg: Arc<Config>,
    log: Logger,
    hosts_deny: PathBuf,
) -> Result<Running, Error> {
    let failed = |()| {
        Error::new(
            ErrorKind::Socket,
            format!("{} mode could not start (see syslog)", mode.name()),
        )
    };
    let watch = match mode {
        Mode::Tcp | Mode::Udp => {
            let ports = port_list(&cfg, mode.proto(), &log).map_err(failed)?;
            Watch::Listen(listen_sockets(mode, &ports, &log).map_err(failed)?)
        }
        Mode::Stcp | Mode::Sudp => {
            let ports = port_list(&cfg, mode.proto(), &log).map_err(failed)?;
            let free = stealth_ports(mode, &ports, &log).map_err(failed)?;
            Watch::Raw {
                socks: raw_sockets(mode, &log).map_err(failed)?,
                hot: Hot::List(free),
            }
        }
        Mode::Atcp | Mode::Audp => {
            let (limit, ignored) = advanced_ignored(mode, &cfg, &log).map_err(failed)?;
            Watch::Raw {
                socks: raw_sockets(mode, &log).map_err(failed)?,
                hot: Hot::Below { limit, ignored },
            }
        }
    };
    log.log("adminalert: PortSentry is now active and listening.\n");
    let sentry = Sentry::new(cfg, mode, log.clone(), hosts_deny);
    Ok(Running {
        sentry,
        watch,
        log,
        mode,
    })
}

impl Running {
    /// The detection loop; returns only on a fatal poll error (logged).
    pub fn run(mut self) -> Result<(), Error> {
        let fds: Vec<i32> = match &self.watch {
            Watch::Listen(s) => s.iter().map(|(f, _)| f.as_raw_fd()).collect(),
            Watch::Raw { socks, .. } => socks.iter().map(|(f, _)| f.as_raw_fd()).collect(),
        };
        loop {
            let ready = match sys::poll_readable(&fds, -1) {
                Ok(r) => r,
                Err(_) => {
                    self.log
                        .log("adminalert: ERROR: select call failed. Shutting down.\n");
                    return Err(Error::new(ErrorKind::Socket, "poll failed"));
                }
            };
            for i in ready {
                match &self.watch {
                    Watch::Listen(s) => {
                        let (fd, port) = (s[i].0.as_raw_fd(), s[i].1);
                        self.on_listen(fd, port);
                    }
                    Watch::Raw { socks, .. } => {
                        let (fd, v6) = (socks[i].0.as_raw_fd(), socks[i].1);
                        self.drain_raw(fd, v6);
                    }
                }
            }
        }
    }

    fn on_listen(&mut self, fd: i32, port: u16) {
        if self.mode.proto() == Proto::Tcp {
            match sys::accept(fd) {
                Ok((conn, peer)) => {
                    let mut conn = Some(conn);
                    self.sentry.event(peer.ip(), port, Kind::Connect, &mut |b| {
                        if let Some(c) = conn.take() {
                            let _ = sys::write_all_nb(c.as_raw_fd(), b.as_bytes());
                        }
                    });
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) => {}
                Err(_) => self.log.log(&format!("attackalert: Possible stealth scan from unknown host to TCP port: {port} (accept failed)")),
            }
        } else {
            let mut b = [0u8; 1];
            match sys::recv_from(fd, &mut b) {
                Ok((_, Some(peer))) => {
                    self.sentry
                        .event(peer.ip(), port, Kind::Connect, &mut |banner| {
                            let _ = sys::send_to(fd, banner.as_bytes(), peer);
                        });
                }
                Ok((_, None)) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) => {}
                Err(_) => self.log.log(&format!(
                    "adminalert: ERROR: could not accept incoming socket for UDP port: {port}\n"
                )),
            }
        }
    }

    /// Reads every queued packet of one raw socket (bounded work per wakeup).
    fn drain_raw(&mut self, fd: i32, v6: bool) {
        let tcp = self.mode.proto() == Proto::Tcp;
        let mut buf = [0u8; 256];
        for _ in 0..4096 {
            let Ok((n, from)) = sys::recv_from(fd, &mut buf) else {
                return;
            };
            let pkt = &buf[..n];
            let (src, port, flags, ip_options) = if v6 {
                let (Some(from), Some(t)) = (from, packet::transport(pkt, tcp)) else {
                    continue;
                };
                (from.ip(), t.dport, t.flags, false)
            } else {
                match packet::parse_v4(pkt, tcp) {
                    V4::Packet {
                        src,
                        ip_options,
                        transport,
                    } => (
                        IpAddr::V4(src),
                        transport.dport,
                        transport.flags,
                        ip_options,
                    ),
                    V4::BadIhl { ihl, src } => {
                        let p = self.mode.proto().upper();
                        self.log.log(&format!("attackalert: Illegal IP header length detected in {p} packet: {ihl} from (possible) host: {src}\n"));
                        continue;
                    }
                    V4::Skip => continue,
                }
            };
            self.raw_event(src, port, flags, ip_options, v6);
        }
    }

    fn raw_event(&mut self, src: IpAddr, port: u16, flags: u8, ip_options: bool, v6: bool) {
        let tcp = self.mode.proto() == Proto::Tcp;
        if tcp && packet::tcp_is_reply(flags) {
            return;
        }
        let Watch::Raw { hot, .. } = &self.watch else {
            return;
        };
        if !hot.contains(port) {
            return;
        }
        // SmartVerify: a service opened the port after startup
        if !sys::port_is_free(v6, self.mode.proto(), port).unwrap_or(false) {
            return;
        }
        let kind = if tcp {
            Kind::Tcp { flags, ip_options }
        } else {
            Kind::Udp { ip_options }
        };
        self.sentry.event(src, port, kind, &mut |_| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_ports() {
        // (watch, port, hot?)
        let list = Hot::List((1..=70).collect());
        let below_empty = Hot::Below {
            limit: 40,
            ignored: vec![],
        };
        let below = Hot::Below {
            limit: 40,
            ignored: vec![13, 22],
        };
        let cases: &[(&Hot, u16, bool)] = &[
            (&list, 70, true), // more than 1.2's 64 entries
            (&list, 71, false),
            (&below_empty, 39, true),
            (&below_empty, 40, false), // 1.2 watched it: empty ignore list skipped the limit
            (&below_empty, 1024, false),
            (&below, 0, true),
            (&below, 13, false),
            (&below, 22, false),
            (&below, 39, true),
        ];
        for (hot, port, want) in cases {
            assert_eq!(hot.contains(*port), *want, "{hot:?} {port}");
        }
    }

    #[test]
    fn mode_names_round_trip() {
        for name in ["tcp", "udp", "stcp", "sudp", "atcp", "audp"] {
            let m = Mode::parse(name).unwrap();
            assert_eq!(m.name(), name);
            assert_eq!(m.proto() == Proto::Tcp, name.ends_with("tcp"));
        }
        assert_eq!(Mode::parse("-tcp"), None);
    }
}
