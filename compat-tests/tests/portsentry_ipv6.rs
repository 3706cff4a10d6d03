//! IPv6 in every mode (1.2 was IPv4 only): each of the six modes detects an IPv6 probe
//! with 1.2's message formats, honours IPv6 ignore entries, writes IPv6 blocked/history
//! lines, brackets the address in hosts.deny (tcp_wrappers syntax) and passes it bare to
//! the KILL_ROUTE / KILL_RUN_CMD commands.

mod portsentry_common;

use portsentry_common as common;
use portsentry_common::Setup;

struct Case {
    mode: &'static str,
    /// pstool actions: a probe from fd00::2 to `port`, one from the ignored fd00::3,
    /// a segment/datagram that must stay silent, and a second probe from fd00::2.
    act: String,
    /// The detection line for fd00::2 on `port`.
    detection: String,
    port: u16,
    second_port: u16,
}

fn cases() -> Vec<Case> {
    let mk = |mode: &'static str,
              probe: &str,
              silent: &str,
              what: &str,
              proto: &str,
              port: u16,
              second: u16| {
        Case {
        mode,
        act: format!(
            "{probe} fd00::2 fd00::1 {port}\n{probe} fd00::3 fd00::1 {port}\n{silent}\n{probe} fd00::2 fd00::1 {second}\nsleep 0.2\n",
            probe = probe
        ),
        detection: format!("attackalert: {what} from host: fd00::2/fd00::2 to {proto} port: {port}"),
        port,
        second_port: second,
    }
    };
    vec![
        mk(
            "tcp",
            "tcp",
            "tcp fd00::2 fd00::1 2",
            "Connect",
            "TCP",
            1,
            11,
        ),
        mk(
            "udp",
            "udp",
            "udp fd00::2 fd00::1 2",
            "Connect",
            "UDP",
            7,
            9,
        ),
        mk(
            "stcp",
            "craft-S",
            "craft fd00::4 fd00::1 11 SA",
            "TCP SYN/Normal scan",
            "TCP",
            11,
            15,
        ),
        mk(
            "sudp",
            "rawudp",
            "rawudp fd00::4 fd00::1 2",
            "UDP scan",
            "UDP",
            7,
            9,
        ),
        mk(
            "atcp",
            "craft-F",
            "craft fd00::4 fd00::1 40 S",
            "TCP FIN scan",
            "TCP",
            39,
            5,
        ),
        mk(
            "audp",
            "rawudp",
            "rawudp fd00::4 fd00::1 41",
            "UDP scan",
            "UDP",
            5,
            6,
        ),
    ]
}

#[test]
fn every_mode_detects_and_blocks_ipv6() {
    if !common::can_run() {
        return;
    }
    let bin = common::our_bin();
    let root = common::scratch("ipv6");
    let cases = cases();
    let jobs: Vec<_> = cases
        .iter()
        .map(|c| {
            let act = c
                .act
                .lines()
                .map(|l| match l.split_once(' ') {
                    Some(("craft-S", r)) => format!("craft {r} S"),
                    Some(("craft-F", r)) => format!("craft {r} F"),
                    _ => l.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n";
            let setup = Setup {
                edits: vec![
                    ("IGNORE_FILE", Some("$OUT/portsentry.ignore".into())),
                    ("HISTORY_FILE", Some("$OUT/portsentry.history".into())),
                    ("BLOCKED_FILE", Some("$OUT/portsentry.blocked".into())),
                    ("BLOCK_TCP", Some("1".into())),
                    ("BLOCK_UDP", Some("1".into())),
                    (
                        "KILL_ROUTE",
                        Some("/bin/echo route $TARGET$ $PORT$ $MODE$ >> $OUT/route.log".into()),
                    ),
                    (
                        "KILL_RUN_CMD",
                        Some("/bin/echo runcmd $TARGET$ $PORT$ $MODE$ >> $OUT/route.log".into()),
                    ),
                    ("ADVANCED_PORTS_TCP", Some("40".into())),
                    ("ADVANCED_PORTS_UDP", Some("40".into())),
                ],
                ignore: Some("127.0.0.1/32\n::1\nfd00::3/128 # trusted\n".into()),
                act,
                start: format!("$BIN -{}\n", c.mode),
                ..Setup::default()
            };
            let (dir, bin) = (root.join(c.mode), bin.clone());
            move || common::run(&dir, &bin, &setup)
        })
        .collect();
    let runs = common::parallel(3, jobs);
    let mut errs = Vec::new();
    for (c, run) in cases.iter().zip(&runs) {
        let (m, p) = (c.mode, c.port);
        let classic = m == "tcp" || m == "udp";
        let proto = if m.ends_with("tcp") { "TCP" } else { "UDP" };
        let second = c
            .detection
            .replace(&format!("port: {p}"), &format!("port: {}", c.second_port));
        let want = vec![
            c.detection.clone(),
            "attackalert: Host fd00::2 has been blocked via wrappers with string: \"ALL: [fd00::2] : DENY\"".to_owned(),
            format!("attackalert: Host fd00::2 has been blocked via dropped route using command: \"/bin/echo route fd00::2 {p} {m} >> $OUT/route.log\""),
            format!("attackalert: External command run for host: fd00::2 using command: \"/bin/echo runcmd fd00::2 {p} {m} >> $OUT/route.log\""),
            second,
            if classic { "attackalert: Host: fd00::2 is already blocked. Ignoring".to_owned() } else { "attackalert: Host: fd00::2/fd00::2 is already blocked Ignoring".to_owned() },
        ];
        let got: Vec<String> = run
            .messages()
            .into_iter()
            .filter(|l| l.starts_with("attackalert"))
            .collect();
        if got != want {
            errs.push(format!("[{m}] alerts:\n{got:#?}\nwanted:\n{want:#?}"));
        }
        let hist = common::untimed(&run.file("portsentry.history"));
        let want_hist = format!("T - Host: fd00::2/fd00::2 Port: {p} {proto} Blocked\n");
        if hist != want_hist
            || common::untimed(&run.file(&format!("portsentry.blocked.{m}"))) != want_hist
        {
            errs.push(format!("[{m}] history {hist:?}"));
        }
        if run.hosts_deny_added() != "ALL: [fd00::2] : DENY\n" {
            errs.push(format!("[{m}] hosts.deny {:?}", run.hosts_deny_added()));
        }
        if run.file("route.log") != format!("route fd00::2 {p} {m}\nruncmd fd00::2 {p} {m}\n") {
            errs.push(format!("[{m}] commands {:?}", run.file("route.log")));
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}
