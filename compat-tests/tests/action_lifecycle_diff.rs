//! Differential lifecycle test: the same scenario (actions with real shell commands that log
//! what they do into a file; start, bans, unbans, repairs, jail stop) is run through
//! upstream's python `Actions`/`CommandAction` (with a `DummyJail`, as upstream's own tests
//! do) and through `f2b_action::ActionSet`; the command logs and the invariant-check
//! messages must be identical.

use compat_tests::action::{action_pairs, dump_jail_actions, python_json, CLIENT, PYTHON};
use compat_tests::require_oracle;
use f2b_action::{ActionSet, Collector, Ticket};
use serde_json::{json, Value};
use std::path::Path;

/// Python driver: stdin = {"actions": [[name, [[k, v]…]]…], "ops": [[op, arg]…]}.
const DRIVER: &str = r#"
import sys, json, os, logging
from fail2ban.tests.dummyjail import DummyJail
from fail2ban.server.ticket import BanTicket
from fail2ban.server.mytime import MyTime
from fail2ban.server.ipdns import DNSUtils
spec = json.load(sys.stdin)
DNSUtils.setIPv6IsAllowed(spec['allowipv6'])
msgs = []
class H(logging.Handler):
    def emit(self, r):
        m = r.getMessage()
        if 'Invariant check failed' in m or 'Unable to restore' in m:
            msgs.append(m)
logging.getLogger('fail2ban').addHandler(H())
logging.getLogger('fail2ban').setLevel(logging.INFO)
class Jail(DummyJail):
    # a real Jail is truthy; DummyJail's __len__ (its queue) would make it falsy and
    # disable the dynamic tags of start/stop commands
    def __bool__(self):
        return True
jail = Jail(name='sshd')
acts = jail.actions
acts.setBanTime(720)
for name, pairs in spec['actions']:
    acts.add(name)
    for k, v in pairs:
        if k in ('actionstart_on_demand', 'actionrepair_on_unban', 'norestored'):
            # the client sends these as Python bools (actionreader's "bool" options)
            v = v.lower() in ('1', 'on', 'true', 'yes')
        setattr(acts[name], k, v)
for op, arg in spec['ops']:
    if op == 'start':
        for a in acts._actions.values():
            try:
                a.start()
            except Exception:
                pass  # Actions.run logs and goes on
    elif op == 'ban' or op == 'restore':
        t = BanTicket(arg, MyTime.time())
        t.setAttempt(3)
        t.setMatches(['m1 ' + arg, 'm2'])
        t.restored = (op == 'restore')
        acts._Actions__checkBan([t])
    elif op == 'unban':
        acts.removeBannedIP(arg, db=False)
    elif op == 'stop':
        acts._Actions__flushBan(stop=True)
        acts.stopActions()
    elif op == 'rm':
        os.remove(arg)
print(json.dumps(msgs))
"#;

fn ticket(ip: &str, restored: bool) -> Ticket {
    let mut t = Ticket::new(ip);
    t.failures = 3;
    t.bantime = 720;
    t.matches = vec![format!("m1 {ip}"), "m2".to_string()];
    t.restored = restored;
    t
}

/// Runs the scenario through `f2b_action`, returning the invariant messages.
fn run_rust(
    actions: &[(String, Vec<(String, String)>)],
    ops: &[(String, String)],
    allow_ipv6: bool,
) -> Vec<String> {
    let mut set = ActionSet::new("sshd");
    set.set_allow_ipv6(allow_ipv6);
    set.set_ban_time(720);
    let logs = Collector::new();
    set.set_log(logs.sink());
    for (name, pairs) in actions {
        set.add(name).unwrap();
        set.set_pairs(name, pairs).unwrap();
    }
    let mut banned: Vec<Ticket> = Vec::new();
    for (op, arg) in ops {
        match op.as_str() {
            "start" => {
                set.start();
            }
            "ban" | "restore" => {
                let t = ticket(arg, op == "restore");
                set.ban(&t, t.restored);
                banned.push(t);
            }
            "unban" => {
                let i = banned.iter().position(|t| t.ip == *arg).unwrap();
                let t = banned.remove(i);
                set.unban(&t);
            }
            "stop" => {
                let refs: Vec<&dyn f2b_action::TagSource> = banned
                    .iter()
                    .map(|t| t as &dyn f2b_action::TagSource)
                    .collect();
                set.flush_and_stop(&refs);
                banned.clear();
            }
            "rm" => {
                let _ = std::fs::remove_file(arg);
            }
            other => panic!("unknown op {other}"),
        }
    }
    logs.messages()
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.contains("Invariant check failed") || m.contains("Unable to restore"))
        .collect()
}

struct Scenario {
    name: &'static str,
    allow_ipv6: bool,
    actions: Vec<(String, Vec<(String, String)>)>,
    ops: Vec<(&'static str, &'static str)>,
}

fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A hand-written action logging `<tag>` of each operation; `extra` overrides/adds keys.
fn logger(tag: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p = pairs(&[
        (
            "actionstart",
            &format!("echo {tag} start <family> <bantime> [<ip>] <failures> [<fid>] [<matches>] <bancount> <restored> [<ip-rev>] >> @/log"),
        ),
        ("actionstop", &format!("echo {tag} stop <family> >> @/log")),
        (
            "actionban",
            &format!("echo {tag} ban <ip> <family> <failures> <bantime> <restored> <fid> <matches> <F-USER> >> @/log"),
        ),
        ("actionunban", &format!("echo {tag} unban <ip> <family> >> @/log")),
    ]);
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k.to_string(), v.to_string()));
    }
    p
}

fn scenarios(stock: &[(String, Vec<(String, String)>)]) -> Vec<Scenario> {
    let ops_basic = vec![
        ("start", ""),
        ("ban", "192.0.2.1"),
        ("ban", "2001:db8::1"),
        ("restore", "192.0.2.2"),
        ("unban", "192.0.2.1"),
        ("stop", ""),
    ];
    let ops_break = vec![
        ("start", ""),
        ("ban", "192.0.2.1"),
        ("rm", "@/ok"),
        ("ban", "192.0.2.2"),
        ("rm", "@/ok"),
        ("unban", "192.0.2.1"),
        ("ban", "2001:db8::5"),
        ("stop", ""),
    ];
    let checked = [
        ("actionstart", "echo start <family> >> @/log; touch @/ok"),
        ("actioncheck", "test -f @/ok"),
        ("actionban", "test -f @/ok && echo ban <ip> >> @/log"),
        ("actionunban", "test -f @/ok && echo unban <ip> >> @/log"),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut p = pairs(&checked);
        p.extend(pairs(extra));
        p
    };
    vec![
        Scenario {
            allow_ipv6: true,
            name: "plain, conditional, flushing and norestored actions together",
            actions: vec![
                ("plain".into(), logger("P", &[])),
                (
                    "cond".into(),
                    logger(
                        "C",
                        &[
                            ("actionflush", "echo C flush <set> >> @/log"),
                            ("actionstop", "echo C stop <set> >> @/log"),
                            ("set", "v4-<name>"),
                            ("set?family=inet6", "v6-<name>"),
                            ("name", "N"),
                        ],
                    ),
                ),
                ("mail".into(), logger("M", &[("norestored", "true")])),
            ],
            ops: ops_basic.clone(),
        },
        Scenario {
            allow_ipv6: true,
            name: "repair command",
            actions: vec![(
                "r".into(),
                with(&[
                    ("actionrepair", "echo repair >> @/log; touch @/ok"),
                    ("actionstop", "echo stop <family> >> @/log"),
                ]),
            )],
            ops: ops_break.clone(),
        },
        Scenario {
            allow_ipv6: true,
            name: "repair on unban",
            actions: vec![(
                "r".into(),
                with(&[
                    ("actionrepair", "echo repair >> @/log; touch @/ok"),
                    ("actionrepair_on_unban", "1"),
                ]),
            )],
            ops: ops_break.clone(),
        },
        Scenario {
            allow_ipv6: true,
            name: "restart instead of repair, plain",
            actions: vec![("r".into(), with(&[("actionstop", "echo stop >> @/log")]))],
            ops: ops_break.clone(),
        },
        Scenario {
            allow_ipv6: true,
            name: "restart instead of repair, on demand",
            actions: vec![(
                "r".into(),
                with(&[
                    ("actionstop", "echo stop >> @/log"),
                    ("x?family=inet6", "6"),
                ]),
            )],
            ops: ops_break.clone(),
        },
        Scenario {
            allow_ipv6: true,
            name: "failing flush falls back to a consistency check",
            actions: vec![(
                "f".into(),
                with(&[
                    ("actionflush", "test -f @/ok && echo flush >> @/log"),
                    ("actionstop", "echo stop >> @/log"),
                ]),
            )],
            ops: vec![
                ("start", ""),
                ("ban", "192.0.2.1"),
                ("rm", "@/ok"),
                ("stop", ""),
            ],
        },
        Scenario {
            allow_ipv6: true,
            name: "failing flush with repair on unban",
            actions: vec![(
                "f".into(),
                with(&[
                    ("actionflush", "test -f @/ok && echo flush >> @/log"),
                    ("actionstop", "echo stop >> @/log"),
                    ("actionrepair", "echo repair >> @/log; touch @/ok"),
                    ("actionrepair_on_unban", "yes"),
                ]),
            )],
            ops: vec![
                ("start", ""),
                ("ban", "192.0.2.1"),
                ("rm", "@/ok"),
                ("stop", ""),
            ],
        },
        Scenario {
            allow_ipv6: true,
            name: "failing start, plain and on demand",
            actions: vec![
                (
                    "p".into(),
                    logger("P", &[("actionstart", "echo P start >> @/log; false")]),
                ),
                (
                    "d".into(),
                    logger(
                        "D",
                        &[
                            ("actionstart", "echo D start <family> >> @/log; false"),
                            ("v?family=inet6", "6"),
                        ],
                    ),
                ),
            ],
            ops: vec![
                ("start", ""),
                ("ban", "192.0.2.1"),
                ("ban", "192.0.2.3"),
                ("ban", "2001:db8::1"),
                ("unban", "192.0.2.1"),
                ("stop", ""),
            ],
        },
        Scenario {
            allow_ipv6: true,
            name: "families without start on demand, IPv6 allowed",
            actions: vec![(
                "c".into(),
                logger(
                    "C",
                    &[
                        ("actionstart_on_demand", "False"),
                        ("actionstart", "echo C start <family> <set> >> @/log"),
                        ("actionstop", "echo C stop <family> <set> >> @/log"),
                        ("set", "v4"),
                        ("set?family=inet6", "v6"),
                    ],
                ),
            )],
            ops: vec![
                ("start", ""),
                ("ban", "192.0.2.1"),
                ("ban", "2001:db8::1"),
                ("unban", "2001:db8::1"),
                ("stop", ""),
            ],
        },
        Scenario {
            allow_ipv6: false,
            name: "families without start on demand, IPv6 not allowed",
            actions: vec![(
                "c".into(),
                logger(
                    "C",
                    &[
                        ("actionstart_on_demand", "False"),
                        ("actionstart", "echo C start <family> <set> >> @/log"),
                        ("actionstop", "echo C stop <family> <set> >> @/log"),
                        ("set", "v4"),
                        ("set?family=inet6", "v6"),
                    ],
                ),
            )],
            ops: vec![
                ("start", ""),
                ("ban", "192.0.2.1"),
                ("ban", "2001:db8::1"),
                ("unban", "2001:db8::1"),
                ("stop", ""),
            ],
        },
        Scenario {
            allow_ipv6: true,
            name: "stock dummy and hostsdeny",
            actions: stock.to_vec(),
            // no stop: dummy's actionstop deletes its file
            ops: ops_basic[..5].to_vec(),
        },
    ]
}

fn subst(v: &str, dir: &Path) -> String {
    v.replace('@', &dir.display().to_string())
}

#[test]
fn lifecycle_matches_upstream() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let conf_dir = tempfile::tempdir().unwrap();
    // stock actions writing into "@/…" (replaced per run below)
    let dump = dump_jail_actions(
        conf_dir.path(),
        &[],
        &[
            "dummy[target=@/log]".to_string(),
            "hostsdeny[file=@/hd]".to_string(),
        ],
    );
    let stock = action_pairs(&dump);
    assert_eq!(stock.len(), 2);
    for sc in scenarios(&stock) {
        let py_dir = tempfile::tempdir().unwrap();
        let rs_dir = tempfile::tempdir().unwrap();
        let inst = |dir: &Path| {
            let actions: Vec<(String, Vec<(String, String)>)> = sc
                .actions
                .iter()
                .map(|(n, p)| {
                    (
                        n.clone(),
                        p.iter().map(|(k, v)| (k.clone(), subst(v, dir))).collect(),
                    )
                })
                .collect();
            let ops: Vec<(String, String)> = sc
                .ops
                .iter()
                .map(|(o, a)| (o.to_string(), subst(a, dir)))
                .collect();
            (actions, ops)
        };
        let (py_actions, py_ops) = inst(py_dir.path());
        let spec = json!({"actions": py_actions, "ops": py_ops, "allowipv6": sc.allow_ipv6});
        let py_msgs: Vec<String> = match python_json(DRIVER, &spec.to_string()) {
            Value::Array(a) => a
                .into_iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
            other => panic!("driver printed {other}"),
        };
        let (rs_actions, rs_ops) = inst(rs_dir.path());
        let rs_msgs = run_rust(&rs_actions, &rs_ops, sc.allow_ipv6);
        let read = |d: &Path| {
            let mut names: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
                .iter()
                .map(|n| format!("== {n}\n{}", std::fs::read_to_string(d.join(n)).unwrap()))
                .collect::<String>()
        };
        let py_log = read(py_dir.path()).replace(&py_dir.path().display().to_string(), "@");
        let rs_log = read(rs_dir.path()).replace(&rs_dir.path().display().to_string(), "@");
        assert!(
            py_log.contains("192.0.2.1"),
            "{}: nothing logged: {py_log}",
            sc.name
        );
        assert_eq!(rs_log, py_log, "scenario {}", sc.name);
        assert_eq!(rs_msgs, py_msgs, "scenario {} messages", sc.name);
    }
}
