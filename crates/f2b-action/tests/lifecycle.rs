//! Lifecycle tests with real shell commands: each hand-written action appends what it does to
//! a log file in a temp dir, and every case compares that file with the expected sequence.

use f2b_action::{ActionSet, Collector, CommandAction, Level, Ticket};
use std::path::Path;

/// Operations a case performs on one action.
#[derive(Clone, Copy, Debug)]
enum Op {
    Start,
    Ban(&'static str),
    Unban(&'static str),
    Flush,
    Stop,
    Reload,
    Rm(&'static str),
}

struct Case {
    name: &'static str,
    props: &'static [(&'static str, &'static str)],
    ops: &'static [Op],
    want: &'static [&'static str],
}

/// `@` in property values is replaced by the temp dir path.
fn run_case(c: &Case) -> (Vec<String>, Vec<(Level, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let pairs: Vec<(String, String)> = c
        .props
        .iter()
        .map(|(k, v)| (k.to_string(), v.replace('@', &d)))
        .collect();
    let mut a = CommandAction::from_pairs("jail", "act", &pairs).unwrap();
    let logs = Collector::new();
    a.set_log(logs.sink());
    for op in c.ops {
        let _ = match *op {
            Op::Start => a.start().map(|_| ()),
            Op::Ban(ip) => a.ban(&Ticket::new(ip)),
            Op::Unban(ip) => a.unban(&Ticket::new(ip)),
            Op::Flush => a.flush().map(|_| ()),
            Op::Stop => a.stop().map(|_| ()),
            Op::Reload => a.reload().map(|_| ()),
            Op::Rm(f) => {
                let _ = std::fs::remove_file(dir.path().join(f));
                Ok(())
            }
        };
    }
    (read_log(&dir.path().join("log")), logs.messages())
}

fn read_log(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

const PLAIN: &[(&str, &str)] = &[
    ("actionstart", "echo start <family> >> @/log"),
    ("actionban", "echo ban <ip> <family> >> @/log"),
    ("actionunban", "echo unban <ip> >> @/log"),
    ("actionstop", "echo stop >> @/log"),
];

const COND: &[(&str, &str)] = &[
    ("actionstart", "echo start <family> <set> >> @/log"),
    ("actionban", "echo ban <ip> <set> >> @/log"),
    ("actionunban", "echo unban <ip> <set> >> @/log"),
    ("actionflush", "echo flush <set> >> @/log"),
    ("actionstop", "echo stop <set> >> @/log"),
    ("actionreload", "echo reload <set> >> @/log"),
    ("name", "J"),
    ("set", "s4-<name>"),
    ("set?family=inet6", "s6-<name>"),
];

const REPAIR: &[(&str, &str)] = &[
    ("actionstart", "echo start >> @/log; touch @/ok"),
    ("actionstop", "echo stop >> @/log"),
    ("actioncheck", "test -f @/ok"),
    ("actionrepair", "echo repair >> @/log; touch @/ok"),
    ("actionban", "test -f @/ok && echo ban <ip> >> @/log"),
    ("actionunban", "test -f @/ok && echo unban <ip> >> @/log"),
];

const RESTART: &[(&str, &str)] = &[
    ("actionstart", "echo start >> @/log; touch @/ok"),
    ("actionstop", "echo stop >> @/log"),
    ("actioncheck", "test -f @/ok"),
    ("actionban", "test -f @/ok && echo ban <ip> >> @/log"),
];

const RESTART_COND: &[(&str, &str)] = &[
    ("actionstart", "echo start >> @/log; touch @/ok"),
    ("actionstop", "echo stop >> @/log"),
    ("actioncheck", "test -f @/ok"),
    ("actionban", "test -f @/ok && echo ban <ip> >> @/log"),
    ("x?family=inet6", "6"),
];

const REPAIR_ON_UNBAN: &[(&str, &str)] = &[
    ("actionstart", "echo start >> @/log; touch @/ok"),
    ("actioncheck", "test -f @/ok"),
    ("actionrepair", "echo repair >> @/log; touch @/ok"),
    ("actionban", "test -f @/ok && echo ban <ip> >> @/log"),
    ("actionunban", "test -f @/ok && echo unban <ip> >> @/log"),
    ("actionrepair_on_unban", "true"),
];

const NOCHECK_RETRY: &[(&str, &str)] = &[("actionban", "echo try <ip> >> @/log; false")];

const CASES: &[Case] = &[
    Case {
        name: "plain action starts once, family-less stop runs once",
        props: PLAIN,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Unban("192.0.2.1"),
            Op::Stop,
        ],
        want: &["start", "ban 192.0.2.1 inet4", "unban 192.0.2.1", "stop"],
    },
    Case {
        name: "unban without a ban of that family does nothing",
        props: PLAIN,
        ops: &[
            Op::Start,
            Op::Unban("192.0.2.1"),
            Op::Ban("2001:db8::1"),
            Op::Unban("192.0.2.1"),
            Op::Unban("2001:db8::1"),
        ],
        want: &["start", "ban 2001:db8::1 inet6", "unban 2001:db8::1"],
    },
    Case {
        name: "conditional action starts on demand per family and flushes per family",
        props: COND,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Ban("192.0.2.2"),
            Op::Ban("2001:db8::1"),
            Op::Reload,
            Op::Flush,
            Op::Unban("192.0.2.1"),
            Op::Stop,
        ],
        want: &[
            "start inet4 s4-J",
            "ban 192.0.2.1 s4-J",
            "ban 192.0.2.2 s4-J",
            "start inet6 s6-J",
            "ban 2001:db8::1 s6-J",
            "reload s4-J",
            "reload s6-J",
            "flush s4-J",
            "flush s6-J",
            "stop s4-J",
            "stop s6-J",
        ],
    },
    Case {
        name: "failed ban: check fails, repair, re-check, retry",
        props: REPAIR,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Rm("ok"),
            Op::Ban("192.0.2.2"),
        ],
        want: &["start", "ban 192.0.2.1", "repair", "ban 192.0.2.2"],
    },
    Case {
        // upstream quirk (checked against python): the family-less start text counts as
        // already executed for inet4, so the restart skips it and the re-check fails
        name: "failed ban without actionrepair, plain action: stop, start deduplicated",
        props: RESTART,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Rm("ok"),
            Op::Ban("192.0.2.2"),
        ],
        want: &["start", "ban 192.0.2.1", "stop"],
    },
    Case {
        name: "failed ban without actionrepair, on-demand action: stop + start, retry",
        props: RESTART_COND,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Rm("ok"),
            Op::Ban("192.0.2.2"),
        ],
        want: &["start", "ban 192.0.2.1", "stop", "start", "ban 192.0.2.2"],
    },
    Case {
        name: "failed unban is not repaired without actionrepair_on_unban",
        props: REPAIR,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Rm("ok"),
            Op::Unban("192.0.2.1"),
        ],
        want: &["start", "ban 192.0.2.1"],
    },
    Case {
        name: "failed unban is repaired with actionrepair_on_unban",
        props: REPAIR_ON_UNBAN,
        ops: &[
            Op::Start,
            Op::Ban("192.0.2.1"),
            Op::Rm("ok"),
            Op::Unban("192.0.2.1"),
        ],
        want: &["start", "ban 192.0.2.1", "repair", "unban 192.0.2.1"],
    },
    Case {
        name: "without actioncheck a failed command is retried once",
        props: NOCHECK_RETRY,
        ops: &[Op::Ban("192.0.2.9")],
        want: &["try 192.0.2.9", "try 192.0.2.9"],
    },
];

#[test]
fn lifecycle_cases() {
    for c in CASES {
        let (got, _) = run_case(c);
        assert_eq!(got, c.want, "case: {}", c.name);
    }
}

#[test]
fn invariant_messages() {
    let (_, msgs) = run_case(&CASES[3]);
    assert!(msgs.contains(&(
        Level::Error,
        "Invariant check failed. Trying to restore a sane environment".to_string()
    )));
    let (_, msgs) = run_case(&CASES[6]);
    assert!(msgs.contains(&(
        Level::Error,
        "Invariant check failed. Unban is impossible.".to_string()
    )));
}

#[test]
fn family_dependent_stop_runs_per_family() {
    // the stop text differs per family, so it is not deduplicated (upstream behaviour)
    let c = Case {
        name: "stop with <family>",
        props: &[
            ("actionstart", "echo start >> @/log"),
            ("actionban", "echo ban <ip> >> @/log"),
            ("actionstop", "echo stop <family>. >> @/log"),
        ],
        ops: &[Op::Start, Op::Ban("192.0.2.1"), Op::Stop],
        want: &["start", "ban 192.0.2.1", "stop .", "stop inet4."],
    };
    assert_eq!(run_case(&c).0, c.want);
}

#[test]
fn timeout_property_bounds_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = CommandAction::from_pairs(
        "j",
        "slow",
        &[("actionban", "sleep 10"), ("timeout", "0.3")],
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let r = a.ban(&Ticket::new("192.0.2.1"));
    assert!(r.is_err());
    // two attempts of 0.3 s + 0.2 s grace each; far below the 10 s of the command
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    drop(dir);
}

#[test]
fn attacker_controlled_values_never_execute() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let marker = format!("{d}/pwned");
    let mut set = ActionSet::new("sshd");
    set.add("mail").unwrap();
    set.set_pairs(
        "mail",
        &[(
            "actionban",
            format!("echo <ip> <matches> user=<F-USER> >> {d}/log"),
        )],
    )
    .unwrap();
    let payloads = [
        format!("$(touch {marker})"),
        format!("`touch {marker}`"),
        format!("x; touch {marker}"),
        format!("x | touch {marker}"),
        format!("x && touch {marker} #"),
        format!("'\"; touch {marker}; echo \""),
        format!("x\ntouch {marker}"),
    ];
    for p in &payloads {
        let mut t = Ticket::new("192.0.2.7");
        t.matches = vec![format!("Failed password for {p} from 192.0.2.7")];
        t.captures.insert("user".into(), p.clone());
        assert!(set.ban(&t, false).is_empty(), "payload {p}");
        assert!(!Path::new(&marker).exists(), "payload executed: {p}");
    }
    let log = std::fs::read_to_string(format!("{d}/log")).unwrap();
    for p in &payloads {
        // the payload arrives verbatim as data (echo joins the argument words by spaces)
        let first = p.lines().next().unwrap();
        assert!(
            log.contains(first),
            "payload {p:?} not passed through: {log}"
        );
    }
}

#[test]
fn norestored_actions_skip_restored_bans_and_stop_is_reversed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut set = ActionSet::new("j");
    for (name, extra) in [
        ("a", vec![("actionflush", "echo a-flush >> @/log")]),
        ("b", vec![("norestored", "true")]),
    ] {
        set.add(name).unwrap();
        let mut pairs = vec![
            (
                "actionstart".to_string(),
                format!("echo {name}-start >> {d}/log"),
            ),
            (
                "actionban".to_string(),
                format!("echo {name}-ban <ip> >> {d}/log"),
            ),
            (
                "actionunban".to_string(),
                format!("echo {name}-unban <ip> >> {d}/log"),
            ),
            (
                "actionstop".to_string(),
                format!("echo {name}-stop >> {d}/log"),
            ),
        ];
        pairs.extend(
            extra
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.replace('@', &d))),
        );
        set.set_pairs(name, &pairs).unwrap();
    }
    assert!(set.start().is_empty());
    let t1 = Ticket::new("192.0.2.1");
    let mut t2 = Ticket::new("192.0.2.2");
    t2.restored = true;
    set.ban(&t1, false);
    set.ban(&t2, true);
    assert!(set.flush_and_stop(&[&t1, &t2]).is_empty());
    assert!(set.names().is_empty());
    let want = [
        "a-start",
        "b-start",
        "a-ban 192.0.2.1",
        "b-ban 192.0.2.1",
        "a-ban 192.0.2.2",
        "a-flush",
        "b-unban 192.0.2.1",
        "b-unban 192.0.2.2",
        "b-stop",
        "a-stop",
    ];
    assert_eq!(read_log(&dir.path().join("log")), want);
}

#[test]
fn reload_keeps_readded_actions_and_stops_removed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut set = ActionSet::new("j");
    let mk = |name: &str, tag: &str| {
        vec![
            (
                "actionstart".to_string(),
                format!("echo {name}{tag}-start >> {d}/log"),
            ),
            (
                "actionban".to_string(),
                format!("echo {name}{tag}-ban <ip> >> {d}/log"),
            ),
            (
                "actionunban".to_string(),
                format!("echo {name}{tag}-unban <ip> >> {d}/log"),
            ),
            (
                "actionreload".to_string(),
                format!("echo {name}{tag}-reload >> {d}/log"),
            ),
            (
                "actionstop".to_string(),
                format!("echo {name}{tag}-stop >> {d}/log"),
            ),
        ]
    };
    for n in ["a", "b"] {
        set.add(n).unwrap();
        set.set_pairs(n, &mk(n, "")).unwrap();
    }
    set.start();
    let t = Ticket::new("192.0.2.1");
    set.ban(&t, false);
    set.begin_reload();
    set.add("a").unwrap();
    set.set_pairs("a", &mk("a", "2")).unwrap();
    set.add("c").unwrap();
    set.set_pairs("c", &mk("c", "")).unwrap();
    assert!(set.end_reload(&[&t]).is_empty());
    assert_eq!(set.names(), ["a", "c"]);
    let want = [
        "a-start",
        "b-start",
        "a-ban 192.0.2.1",
        "b-ban 192.0.2.1",
        "a2-reload",
        "c-start",
        "b-unban 192.0.2.1",
        "b-stop",
    ];
    assert_eq!(read_log(&dir.path().join("log")), want);
}

#[test]
fn prolong_runs_only_on_prolongable_actions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut set = ActionSet::new("j");
    set.add("p").unwrap();
    set.set_pairs(
        "p",
        &[(
            "actionprolong",
            format!("echo prolong <ip> <bantime> >> {d}/log"),
        )],
    )
    .unwrap();
    set.add("q").unwrap();
    set.set_pairs("q", &[("actionprolong", " ".to_string())])
        .unwrap();
    let mut t = Ticket::new("192.0.2.3");
    t.bantime = 1200;
    assert!(set.prolong(&t, false).is_empty());
    assert_eq!(
        read_log(&dir.path().join("log")),
        ["prolong 192.0.2.3 1200"]
    );
    assert!(set.get("p").unwrap().prolongable());
    assert!(!set.get("q").unwrap().prolongable());
}

#[test]
fn recording_executor_sees_resolved_commands_and_drives_repairs() {
    let rec = std::sync::Arc::new(f2b_action::RecordingExecutor::new());
    let mut set = ActionSet::new("sshd");
    set.set_executor(rec.clone());
    set.add("fw").unwrap();
    set.set_pairs(
        "fw",
        &[
            ("actionstart", "fw start <set>"),
            ("actionban", "fw add <set> <ip>"),
            ("actioncheck", "fw check <set>"),
            ("actionrepair", "fw repair <set>"),
            ("set", "s-<name>"),
            ("name", "SSH"),
        ],
    )
    .unwrap();
    set.start();
    rec.fail_when_contains("fw add s-SSH 192.0.2.66", 1);
    rec.fail_when_contains("fw check", 1);
    let failures = set.ban(&Ticket::new("192.0.2.66"), false);
    assert_eq!(failures.len(), 1);
    let scripts: Vec<String> = rec.commands().into_iter().map(|c| c.script).collect();
    assert_eq!(
        scripts,
        [
            "fw start s-SSH",
            "fw add s-SSH 192.0.2.66",
            "fw check s-SSH",
            "fw repair s-SSH",
            "fw check s-SSH",
        ]
    );
    assert_eq!(set.ban_epoch(), 1, "a repair bumps the ban epoch");
}

#[test]
fn reban_goes_to_actions_repaired_since_the_ticket_was_banned() {
    let rec = std::sync::Arc::new(f2b_action::RecordingExecutor::new());
    let mut set = ActionSet::new("sshd");
    set.set_executor(rec.clone());
    for n in ["a", "b"] {
        set.add(n).unwrap();
        set.set_pairs(
            n,
            &[
                ("actionban", format!("{n} ban <ip>")),
                ("actionreban", format!("{n} reban <ip>")),
                ("actioncheck", format!("{n} check")),
                ("actionrepair", format!("{n} repair")),
            ],
        )
        .unwrap();
    }
    let t = Ticket::new("192.0.2.1");
    let ticket_epoch = set.ban_epoch();
    set.ban(&t, false);
    // action a finds its firewall broken on the next ban and repairs it
    rec.fail_when_contains("a ban 192.0.2.2", 1);
    rec.fail_when_contains("a check", 1);
    set.ban(&Ticket::new("192.0.2.2"), false);
    assert_eq!(set.ban_epoch(), ticket_epoch + 1);
    let before = rec.commands().len();
    set.reban(&t, Some(ticket_epoch));
    let after: Vec<String> = rec.commands()[before..]
        .iter()
        .map(|c| c.script.clone())
        .collect();
    assert_eq!(after, ["a reban 192.0.2.1"]);
}

#[test]
fn nul_bytes_in_log_lines_do_not_prevent_the_ban() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut a = CommandAction::from_pairs(
        "j",
        "mail",
        &[(
            "actionban",
            format!("printf '%s\\n' \"<matches>\" >> {d}/log"),
        )],
    )
    .unwrap();
    let mut t = Ticket::new("192.0.2.1");
    t.matches = vec!["bad\0line; x".to_string()];
    a.ban(&t).unwrap();
    assert_eq!(read_log(&dir.path().join("log")), ["bad\\0line; x"]);
}
