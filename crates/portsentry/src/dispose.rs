//! Blocking a host: the hosts.deny line, `KILL_ROUTE` and `KILL_RUN_CMD`, in 1.2's order
//! (hosts.deny, route, command; or command first with `KILL_RUN_CMD_FIRST`), every
//! action attempted even after one fails.
//!
//! Unlike 1.2, a command that exits non-zero is a failure (1.2 only noticed exit 127 of
//! `system()`'s raw status, so a missing binary still "blocked" the host), and a host is
//! only reported blocked when an action actually ran.

use crate::config::Config;
use crate::files;
use crate::subst::{self, SubstError};
use crate::sys::Proto;
use crate::syslog::Logger;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// What disposing of a host achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every configured action succeeded: write the blocked/history lines.
    Blocked,
    /// Blocking is off for this protocol (or nothing is configured): logged as ignored.
    NotBlocking,
    /// At least one action failed.
    Failed,
}

/// The `$TARGET$` text for an address: IPv6 is bracketed in hosts.deny (tcp_wrappers
/// syntax), bare in commands.
fn target_text(ip: IpAddr, for_hosts_deny: bool) -> String {
    match ip {
        IpAddr::V6(v6) if for_hosts_deny => format!("[{v6}]"),
        _ => ip.to_string(),
    }
}

/// The event a disposal is about.
struct Ctx<'a> {
    ip: IpAddr,
    port: u16,
    mode: &'a str,
    log: &'a Logger,
}

fn expand_or_log(
    c: &Ctx,
    template: &str,
    key: &str,
    need_target: bool,
    hosts_deny: bool,
) -> Option<String> {
    match subst::expand(
        template,
        &target_text(c.ip, hosts_deny),
        c.port,
        c.mode,
        need_target,
    ) {
        Ok(s) => Some(s),
        Err(SubstError::NoTarget) => {
            c.log.log(&format!(
                "adminalert: No target variable specified in {key} option. Skipping.\n"
            ));
            None
        }
        Err(SubstError::TooLong(m)) => {
            c.log.log(&format!(
                "adminalert: Error trying to parse {m} Token for {key}. Skipping.\n"
            ));
            None
        }
    }
}

/// Runs `cmd` with `/bin/sh -c`; `Err(true)` when it could not be executed (exit 126/127
/// or spawn failure), `Err(false)` for any other failure.
fn run_shell(cmd: &str) -> Result<(), bool> {
    match Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .status()
    {
        Err(_) => Err(true),
        Ok(s) if s.success() => Ok(()),
        Ok(s) if matches!(s.code(), Some(126) | Some(127)) => Err(true),
        Ok(_) => Err(false),
    }
}

fn hosts_deny(cfg: &Config, c: &Ctx, path: &Path) -> bool {
    let Some(line) = expand_or_log(c, &cfg.kill_hosts_deny, "KILL_HOSTS_DENY", true, true) else {
        return false;
    };
    let ip = c.ip;
    match files::hosts_deny_add(path, &line) {
        Ok(()) => {
            c.log.log(&format!(
                "attackalert: Host {ip} has been blocked via wrappers with string: \"{line}\""
            ));
            true
        }
        Err(_) => {
            c.log.log(&format!(
                "adminalert: cannot open hosts.deny file: {} for blocking.",
                path.display()
            ));
            c.log.log(&format!(
                "securityalert: ERROR: There was an error trying to block host {ip}"
            ));
            false
        }
    }
}

fn route(cfg: &Config, c: &Ctx) -> bool {
    let Some(cmd) = expand_or_log(c, &cfg.kill_route, "KILL_ROUTE", true, false) else {
        return false;
    };
    let ip = c.ip;
    match run_shell(&cmd) {
        Ok(()) => {
            c.log.log(&format!("attackalert: Host {ip} has been blocked via dropped route using command: \"{cmd}\""));
            true
        }
        Err(exec) => {
            let how = if exec { "exec fail" } else { "system fail" };
            c.log.log(&format!(
                "adminalert: ERROR: There was an error trying to block host ({how}) {ip}"
            ));
            false
        }
    }
}

fn run_cmd(cfg: &Config, c: &Ctx) -> bool {
    let Some(cmd) = expand_or_log(c, &cfg.kill_run_cmd, "KILL_RUN_CMD", false, false) else {
        return false;
    };
    let ip = c.ip;
    match run_shell(&cmd) {
        Ok(()) => {
            c.log.log(&format!(
                "attackalert: External command run for host: {ip} using command: \"{cmd}\""
            ));
            true
        }
        Err(exec) => {
            let how = if exec { "exec fail" } else { "system fail" };
            c.log.log(&format!(
                "adminalert: ERROR: There was an error trying to run command ({how}) {ip}"
            ));
            false
        }
    }
}

/// 1.2's DisposeTCP/DisposeUDP.
pub fn dispose(
    cfg: &Config,
    proto: Proto,
    mode: &str,
    ip: IpAddr,
    port: u16,
    hosts_deny_path: &Path,
    log: &Logger,
) -> Outcome {
    let level = match proto {
        Proto::Tcp => cfg.block_tcp,
        Proto::Udp => cfg.block_udp,
    };
    let has_cmd = !cfg.kill_run_cmd.is_empty();
    let has_deny = !cfg.kill_hosts_deny.is_empty();
    let has_route = !cfg.kill_route.is_empty();
    let all = match level {
        1 if has_cmd || has_deny || has_route => true,
        2 if has_cmd => false,
        _ => {
            log.log(&format!(
                "attackalert: Ignoring {} response per configuration file setting.",
                proto.upper()
            ));
            return Outcome::NotBlocking;
        }
    };
    let c = Ctx {
        ip,
        port,
        mode,
        log,
    };
    let mut ok = true;
    if !all {
        ok &= run_cmd(cfg, &c);
    } else {
        if cfg.run_cmd_first && has_cmd {
            ok &= run_cmd(cfg, &c);
        }
        if has_deny {
            ok &= hosts_deny(cfg, &c, hosts_deny_path);
        }
        if has_route {
            ok &= route(cfg, &c);
        }
        if !cfg.run_cmd_first && has_cmd {
            ok &= run_cmd(cfg, &c);
        }
    }
    if ok {
        Outcome::Blocked
    } else {
        Outcome::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_outcomes() {
        let d = tempfile::tempdir().unwrap();
        let deny = d.path().join("hosts.deny");
        let trace = d.path().join("trace");
        let t = trace.display();
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        // (block, route, deny, cmd, first, outcome, trace file, hosts.deny)
        type Case<'a> = (
            u32,
            String,
            &'a str,
            String,
            bool,
            Outcome,
            &'a str,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                0,
                format!("echo r >> {t}"),
                "ALL: $TARGET$",
                String::new(),
                false,
                Outcome::NotBlocking,
                "",
                "",
            ),
            (
                1,
                format!("echo r $TARGET$ $PORT$ $MODE$ >> {t}"),
                "ALL: $TARGET$",
                format!("echo c >> {t}"),
                false,
                Outcome::Blocked,
                "r 10.0.0.2 11 atcp\nc\n",
                "ALL: 10.0.0.2\n",
            ),
            (
                1,
                format!("echo r $TARGET$ >> {t}"),
                "",
                format!("echo c >> {t}"),
                true,
                Outcome::Blocked,
                "c\nr 10.0.0.2\n",
                "",
            ),
            (
                1,
                format!("/nonexistent/route $TARGET$; echo r >> {t}"),
                "",
                String::new(),
                false,
                Outcome::Blocked,
                "r\n",
                "",
            ),
            (
                1,
                "/nonexistent/route $TARGET$".into(),
                "ALL: nobody",
                format!("echo c >> {t}"),
                false,
                Outcome::Failed,
                "c\n",
                "",
            ),
            (
                1,
                "false $TARGET$".into(),
                "",
                String::new(),
                false,
                Outcome::Failed,
                "",
                "",
            ),
            (
                2,
                format!("echo r >> {t}"),
                "ALL: $TARGET$",
                format!("echo c >> {t}"),
                false,
                Outcome::Blocked,
                "c\n",
                "",
            ),
            (
                2,
                format!("echo r >> {t}"),
                "ALL: $TARGET$",
                String::new(),
                false,
                Outcome::NotBlocking,
                "",
                "",
            ),
        ];
        for (i, (block, route, deny_t, cmd, first, want, want_trace, want_deny)) in
            cases.into_iter().enumerate()
        {
            let _ = std::fs::remove_file(&trace);
            let _ = std::fs::remove_file(&deny);
            let cfg = Config {
                block_tcp: block,
                kill_route: route,
                kill_hosts_deny: deny_t.into(),
                kill_run_cmd: cmd,
                run_cmd_first: first,
                ..Config::default()
            };
            let (log, _) = Logger::memory();
            let got = dispose(&cfg, Proto::Tcp, "atcp", ip, 11, &deny, &log);
            assert_eq!(got, want, "case {i}");
            assert_eq!(
                std::fs::read_to_string(&trace).unwrap_or_default(),
                want_trace,
                "case {i}"
            );
            assert_eq!(
                std::fs::read_to_string(&deny).unwrap_or_default(),
                want_deny,
                "case {i}"
            );
        }
    }

    #[test]
    fn ipv6_target_is_bracketed_in_hosts_deny_only() {
        let d = tempfile::tempdir().unwrap();
        let deny = d.path().join("hosts.deny");
        let trace = d.path().join("trace");
        let cfg = Config {
            block_udp: 1,
            kill_hosts_deny: "ALL: $TARGET$ : DENY".into(),
            kill_route: format!("echo $TARGET$ >> {}", trace.display()),
            ..Config::default()
        };
        let (log, _) = Logger::memory();
        let got = dispose(
            &cfg,
            Proto::Udp,
            "audp",
            "fd00::2".parse().unwrap(),
            7,
            &deny,
            &log,
        );
        assert_eq!(got, Outcome::Blocked);
        assert_eq!(
            std::fs::read_to_string(&deny).unwrap(),
            "ALL: [fd00::2] : DENY\n"
        );
        assert_eq!(std::fs::read_to_string(&trace).unwrap(), "fd00::2\n");
    }
}
