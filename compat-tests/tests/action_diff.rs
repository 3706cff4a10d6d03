//! Differential test of action command resolution: stock Debian actions (nftables-multiport,
//! iptables-multiport, hostsdeny, dummy) plus our own tricky test action are turned into
//! `multi-set … action …` property lists by the real `fail2ban-client -d`, then resolved by
//! upstream's python `CommandAction` and by `f2b_action::CommandAction`; the texts must agree.
//! Also runs Debian's dummy.conf for real through `f2b_action`.

use compat_tests::{copy_tree, require_oracle, STOCK_CONF};
use f2b_action::{ActionSet, CommandAction, Family, Ticket};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const PYTHON: &str = "/usr/bin/python3";
const CLIENT: &str = "/usr/bin/fail2ban-client";

/// Python oracle: reads `-d` lines on stdin, prints JSON with upstream's resolutions.
const ORACLE: &str = r#"
import sys, json, ast
from fail2ban.server.action import CommandAction
from fail2ban.server.ipdns import IPAddr
out = []
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("['multi-set'"):
        continue
    cmd = ast.literal_eval(line)
    if cmd[2] != 'action':
        continue
    pairs = [[k, v if isinstance(v, str) else str(v)] for k, v in cmd[4]]
    a = CommandAction(None, cmd[3])
    for k, v in pairs:
        setattr(a, k, v)
    ops = {}
    for fam in ['', 'inet4', 'inet6']:
        for tag in ['actionstart', 'actionstop', 'actionflush', 'actioncheck',
                    'actionrepair', 'actionreload']:
            ops['%s/%s' % (tag, fam)] = [a._getOperation('<%s>' % tag, fam)]
    for ip in ['192.0.2.10', '2001:db8::10']:
        ipa = IPAddr(ip)
        info = {'ip': ipa, 'family': ipa.familyStr, 'ip-rev': ipa.getPTR(''), 'fid': ip,
                'failures': 3, 'time': 1795592582.0, 'bantime': 600, 'bancount': 1,
                'restored': 0, 'matches': "Failed for $(touch /tmp/x) from %s\nline `two`" % ip,
                'F-*': {'user': "root'; id", 'fid': 'abc', 'fport': '22'}}
        for tag in ['actionban', 'actionunban']:
            real = a.replaceTag('<%s>' % tag, a._properties,
                                conditional='family=' + ipa.familyStr, cache=a._substCache)
            r = a.replaceDynamicTags(real, info)
            ops['%s/%s' % (tag, ip)] = r if isinstance(r, list) else [r]
    out.append({'name': cmd[3], 'pairs': pairs, 'ops': ops})
print(json.dumps(out))
"#;

/// Our own action exercising nesting, conditionals, built-ins, unknown tags and captures.
const TRICKY_ACTION: &str = "[Definition]
actionstart = echo start <name> <chain><sp>x<br>y <nonexistent> <known/chain> [<proto>]
actionstop = echo stop <family> <chain> <blocktype>
actionban = ban <ip> rev=<ip-rev> fam=<family> <matches> u=<F-USER> id=<F-ID> p=<F-PORT> n=<F-NONE> f=<failures> t=<time> b=<bantime> r=<restored> in <chain>/<set>
actionunban = unban <ip> <set> '<bad>'
actioncheck = check <lvl1>
[Init]
name = default
chain = INPUT
set = s-<name>-<chain>
lvl1 = <lvl2>-<lvl2>
lvl2 = <lvl3>
lvl3 = deep<sp>
proto = tcp
blocktype = REJECT
bad = <ip>-<port>
[Init?family=inet6]
chain = INPUT6
blocktype = REJECT6
";

fn dump_config(dir: &Path) -> String {
    let conf = dir.join("conf");
    copy_tree(Path::new(STOCK_CONF), &conf).unwrap();
    for e in std::fs::read_dir(conf.join("jail.d")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    std::fs::write(conf.join("action.d/f2b-tricky.conf"), TRICKY_ACTION).unwrap();
    let log = dir.join("auth.log");
    std::fs::write(&log, "").unwrap();
    let jail = format!(
        "[sshd]\nenabled = true\nbackend = polling\nlogpath = {}\n\
         action = nftables-multiport[name=SSH, port=\"ssh,2222\"]\n\
         \x20        iptables-multiport[name=SSH2, chain=\"INPUT\"]\n\
         \x20        hostsdeny[file={}]\n\
         \x20        dummy[target={}]\n\
         \x20        f2b-tricky[name=TR]\n",
        log.display(),
        dir.join("hosts.deny").display(),
        dir.join("dummy.txt").display()
    );
    std::fs::write(conf.join("jail.local"), jail).unwrap();
    let out = Command::new(CLIENT)
        .arg("-c")
        .arg(&conf)
        .arg("-d")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn oracle(dump: &str) -> Vec<Value> {
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(ORACLE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dump.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python oracle failed");
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn pairs_of(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ticket(ip: &str) -> Ticket {
    let mut t = Ticket::new(ip);
    t.failures = 3;
    t.time = 1795592582.0;
    t.bantime = 600;
    t.bancount = 1;
    t.matches = vec![
        format!("Failed for $(touch /tmp/x) from {ip}"),
        "line `two`".to_string(),
    ];
    for (k, v) in [("user", "root'; id"), ("fid", "abc"), ("fport", "22")] {
        t.captures.insert(k.into(), v.into());
    }
    t
}

#[test]
fn stock_actions_resolve_like_upstream() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = oracle(&dump_config(dir.path()));
    let names: Vec<&str> = expected
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "nftables-multiport-SSH",
            "iptables-multiport-SSH2",
            "hostsdeny",
            "dummy",
            "f2b-tricky-TR"
        ]
    );
    let mut compared = 0;
    for act in &expected {
        let name = act["name"].as_str().unwrap();
        let mut a = CommandAction::from_pairs("sshd", name, &pairs_of(&act["pairs"])).unwrap();
        for (key, want) in act["ops"].as_object().unwrap() {
            let (tag, arg) = key.split_once('/').unwrap();
            let got: Vec<String> = match arg {
                "" | "inet4" | "inet6" => {
                    let fam = match arg {
                        "" => Family::Any,
                        "inet4" => Family::Inet4,
                        _ => Family::Inet6,
                    };
                    vec![a.resolve_operation(&format!("<{tag}>"), fam).unwrap()]
                }
                ip => {
                    let c = a
                        .resolve_ticket_command(&format!("<{tag}>"), &ticket(ip))
                        .unwrap();
                    std::iter::once(c.script).chain(c.args).collect()
                }
            };
            let want: Vec<String> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "action {name} op {key}");
            compared += 1;
        }
    }
    assert_eq!(compared, 5 * (6 * 3 + 2 * 2));
}

#[test]
fn debian_dummy_action_runs() {
    if !require_oracle(CLIENT) || !require_oracle(PYTHON) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = oracle(&dump_config(dir.path()));
    let dummy = expected.iter().find(|a| a["name"] == "dummy").unwrap();
    let mut set = ActionSet::new("sshd");
    set.add("dummy").unwrap();
    set.set_pairs("dummy", &pairs_of(&dummy["pairs"])).unwrap();
    assert!(set.start().is_empty());
    let (t4, t6) = (ticket("192.0.2.10"), ticket("2001:db8::10"));
    assert!(set.ban(&t4, false).is_empty());
    assert!(set.ban(&t6, false).is_empty());
    assert!(set.unban(&t4).is_empty());
    assert!(set.flush(&[&t6], false, None).is_empty());
    let target = dir.path().join("dummy.txt");
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text, "123\n+192.0.2.10\n+2001:db8::10\n-192.0.2.10\n-*\n");
    assert!(set.stop(None).is_empty());
    assert!(!target.exists(), "dummy actionstop removes its target");
}
